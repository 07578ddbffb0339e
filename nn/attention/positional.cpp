// Positional encodings (see positional.h for the formulas):
//   sinusoidal  pe[pos, 2i] = sin(pos · exp(-2i ln(10000) / d)), pe[pos, 2i+1] = cos(same)
//               out = dropout(x + pe[:T])     (PyTorch Transformer tutorial's PositionalEncoding)
//   learned     out = x + weight[0..T)
#include "nn/attention/positional.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "core/factories.h"
#include "nn/init.h"
#include "ops/elementwise.h"

namespace minidl::nn {

namespace {

// Checks x is [B, T, d] (batch_first) or [T, B, d] with T <= max_len; returns T.
int64_t checked_length(const Tensor& x, int64_t d_model, int64_t max_len, bool batch_first,
                       const char* op) {
  MINIDL_CHECK(x.defined(), op, "input is undefined");
  MINIDL_CHECK(
      x.is_floating_point(), op,
      "expects a floating-point input, got " << x.dtype() << " of shape " << shape_str(x.shape()));
  MINIDL_CHECK(x.dim() == 3 && x.size(2) == d_model, op,
               "expected input " << (batch_first ? "[B, T, d_model]" : "[T, B, d_model]")
                                 << " with d_model = " << d_model << ", got shape "
                                 << shape_str(x.shape()));
  const int64_t length = x.size(batch_first ? 1 : 0);
  MINIDL_CHECK(length <= max_len, op,
               "sequence length " << length << " exceeds max_len " << max_len << " (input shape "
                                  << shape_str(x.shape()) << ")");
  return length;
}

void check_sizes(int64_t max_len, int64_t d_model, const char* op) {
  MINIDL_CHECK(max_len > 0 && d_model > 0, op,
               "max_len and d_model must be positive, got max_len=" << max_len
                                                                    << " and d_model=" << d_model);
}

const char* python_bool(bool b) {
  return b ? "True" : "False";
}

}  // namespace

Tensor sinusoidal_position_encoding(int64_t max_len, int64_t d_model, DType dtype) {
  const char* op = "sinusoidal_position_encoding";
  check_sizes(max_len, d_model, op);
  MINIDL_CHECK(is_floating_point(dtype), op, "dtype must be floating, got " << dtype);
  std::vector<double> table(static_cast<size_t>(max_len * d_model));
  const double log_base = std::log(10000.0);
  for (int64_t c = 0; c < d_model; c += 2) {
    // The tutorial's div_term: exp(2i · (-ln(10000) / d)), column pair (2i, 2i + 1) = (c, c + 1).
    const double frequency = std::exp(static_cast<double>(c) * (-log_base / d_model));
    for (int64_t pos = 0; pos < max_len; ++pos) {
      const double angle = static_cast<double>(pos) * frequency;
      table[pos * d_model + c] = std::sin(angle);
      if (c + 1 < d_model) table[pos * d_model + c + 1] = std::cos(angle);
    }
  }
  return from_vector(table, {max_len, d_model}, dtype);
}

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int64_t d_model, int64_t max_len,
                                                           double dropout, bool batch_first)
    : Module("SinusoidalPositionalEncoding"),
      d_model(d_model),
      max_len(max_len),
      batch_first(batch_first) {
  check_sizes(max_len, d_model, "SinusoidalPositionalEncoding");
  this->dropout = register_module("dropout", std::make_shared<Dropout>(dropout));
  const Tensor table = sinusoidal_position_encoding(max_len, d_model);
  pe = register_buffer("pe", (batch_first ? table.unsqueeze(0) : table.unsqueeze(1)).contiguous());
}

Tensor SinusoidalPositionalEncoding::forward(const Tensor& x) {
  const int64_t length =
      checked_length(x, d_model, max_len, batch_first, "SinusoidalPositionalEncoding");
  MINIDL_CHECK(x.dtype() == pe.dtype(), "SinusoidalPositionalEncoding",
               "input dtype " << x.dtype() << " does not match the buffer pe's " << pe.dtype()
                              << " (convert the module with to())");
  // pe [1, max_len, d] or [max_len, 1, d]: its first T positions broadcast over the batch.
  const Tensor positions = pe.narrow(batch_first ? 1 : 0, 0, length);
  return (*dropout)(x + positions);
}

std::string SinusoidalPositionalEncoding::extra_repr() const {
  std::ostringstream os;
  os << "d_model=" << d_model << ", max_len=" << max_len
     << ", batch_first=" << python_bool(batch_first);
  return os.str();
}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t max_len, int64_t d_model,
                                                       bool batch_first)
    : Module("LearnedPositionalEmbedding"),
      max_len(max_len),
      d_model(d_model),
      batch_first(batch_first) {
  check_sizes(max_len, d_model, "LearnedPositionalEmbedding");
  weight = register_parameter("weight", empty({max_len, d_model}));
  reset_parameters();
}

void LearnedPositionalEmbedding::reset_parameters() {
  init::normal_(weight);
}

Tensor LearnedPositionalEmbedding::forward(const Tensor& x) {
  const int64_t length =
      checked_length(x, d_model, max_len, batch_first, "LearnedPositionalEmbedding");
  MINIDL_CHECK(x.dtype() == weight.dtype(), "LearnedPositionalEmbedding",
               "input dtype " << x.dtype() << " does not match the weight's " << weight.dtype());
  const Tensor positions = weight.narrow(0, 0, length);  // [T, d]
  return x + (batch_first ? positions : positions.unsqueeze(1));
}

std::string LearnedPositionalEmbedding::extra_repr() const {
  std::ostringstream os;
  os << "max_len=" << max_len << ", d_model=" << d_model
     << ", batch_first=" << python_bool(batch_first);
  return os.str();
}

}  // namespace minidl::nn
