// RNN, LSTM, GRU and packed sequences (the math is in ops/rnn.cpp; the cells are in
// nn/rnn_cell.cpp).
#include "nn/rnn.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "core/factories.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/index_ops.h"
#include "ops/linalg.h"
#include "ops/shape_ops.h"

namespace minidl::nn {

namespace {

// data [sum(batch_sizes), *] from x [T, B, *]: the first batch_sizes[t] rows of each step.
Tensor pack_steps(const Tensor& x, const std::vector<int64_t>& batch_sizes) {
  std::vector<Tensor> pieces;
  pieces.reserve(batch_sizes.size());
  for (size_t t = 0; t < batch_sizes.size(); ++t)
    pieces.push_back(x.select(0, static_cast<int64_t>(t)).narrow(0, 0, batch_sizes[t]));
  return pieces.size() == 1 ? pieces[0] : cat(pieces, 0);
}

// The inverse: x [T, B, *] with rows past batch_sizes[t] filled with `value`.
Tensor unpack_steps(const Tensor& data, const std::vector<int64_t>& batch_sizes, int64_t batch,
                    double value) {
  std::vector<Tensor> steps;
  steps.reserve(batch_sizes.size());
  int64_t offset = 0;
  for (int64_t rows : batch_sizes) {
    Tensor step = data.narrow(0, offset, rows);
    offset += rows;
    if (rows < batch) {
      std::vector<int64_t> padding(2 * static_cast<size_t>(step.dim()), 0);
      padding.back() = batch - rows;  // the last pair pads dim 0 at its end
      step = pad(step, padding, "constant", value);
    }
    steps.push_back(step);
  }
  return stack(steps, 0);
}

// batch_sizes as a vector, checked: 1-d int64, non-empty, positive, non-increasing.
std::vector<int64_t> batch_sizes_of(const PackedSequence& sequence, const char* op) {
  const Tensor& bs = sequence.batch_sizes;
  MINIDL_CHECK(bs.defined() && bs.dtype() == kInt64 && bs.dim() == 1 && bs.numel() > 0, op,
               "batch_sizes must be a non-empty 1-d int64 tensor, got "
                   << (bs.defined() ? shape_str(bs.shape()) : "undefined"));
  std::vector<int64_t> sizes = bs.to_vector<int64_t>();
  int64_t total = 0;
  for (size_t t = 0; t < sizes.size(); ++t) {
    MINIDL_CHECK(
        sizes[t] > 0 && (t == 0 || sizes[t] <= sizes[t - 1]), op,
        "batch_sizes must be positive and non-increasing, got " << sizes[t] << " at step " << t);
    total += sizes[t];
  }
  const Tensor& data = sequence.data;
  MINIDL_CHECK(
      data.defined() && data.dim() >= 1 && data.size(0) == total, op,
      "data must have sum(batch_sizes) = " << total << " rows, got "
                                           << (data.defined() ? shape_str(data.shape()) : "none"));
  return sizes;
}

int64_t gates_of(const std::string& mode) {
  return mode == "LSTM" ? 4 : mode == "GRU" ? 3 : 1;
}

// LSTM with a projected hidden state, one step at a time in recorded ops. x_proj [T, B, 4H]
// (x W_ih^T + b_ih), h0 [B, P], c0 [B, H], w_hh [4H, P], b_hh [4H] or undefined, w_hr [P, H]:
//   gates = x_proj_t + h_{t-1} W_hh^T + b_hh ;  i, f, o = sigmoid(.), g = tanh(.)
//   c_t = f * c_{t-1} + i * g ;  h_t = (o * tanh(c_t)) W_hr^T      [B, P]
// batch_sizes as lstm_sequence's (rows past batch_sizes[t] keep their state and output zeros).
// The fused lstm_sequence (ops/rnn.cpp) has no projection inside its recurrence; here the
// backward through time is autograd's, composed from the ops' own backward formulas (matmul,
// sigmoid, tanh, mul, cat), so it is also differentiable twice. Output [T, B, P], h_n [B, P],
// c_n [B, H].
RecurrentResult projected_lstm_sequence(const Tensor& x_proj, Tensor h, Tensor c,
                                        const Tensor& w_hh, const Tensor& b_hh, const Tensor& w_hr,
                                        const std::vector<int64_t>& batch_sizes, bool reverse) {
  const int64_t T = x_proj.size(0), B = x_proj.size(1);
  std::vector<Tensor> outputs(static_cast<size_t>(T));
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = reverse ? T - 1 - k : k;
    const int64_t rows = batch_sizes.empty() ? B : batch_sizes[static_cast<size_t>(t)];
    Tensor gates = x_proj.select(0, t).narrow(0, 0, rows) + matmul(h.narrow(0, 0, rows), w_hh.t());
    if (b_hh.defined()) gates = gates + b_hh;
    const std::vector<Tensor> g = chunk(gates, 4, 1);  // i, f, g, o: [rows, H] each
    Tensor c_t = sigmoid(g[1]) * c.narrow(0, 0, rows) + sigmoid(g[0]) * tanh(g[2]);
    Tensor h_t = matmul(sigmoid(g[3]) * tanh(c_t), w_hr.t());  // [rows, P]
    if (rows < B) {
      h = cat({h_t, h.narrow(0, rows, B - rows)}, 0);
      c = cat({c_t, c.narrow(0, rows, B - rows)}, 0);
      outputs[static_cast<size_t>(t)] = cat({h_t, zeros({B - rows, h_t.size(1)}, h_t.dtype())}, 0);
    } else {
      h = h_t;
      c = c_t;
      outputs[static_cast<size_t>(t)] = h_t;
    }
  }
  RecurrentResult r;
  r.output = stack(outputs, 0);
  r.h_n = h;
  r.c_n = c;
  return r;
}

}  // namespace

// ---------------------------------------------------------------- packed sequences

PackedSequence pack_padded_sequence(const Tensor& input, const std::vector<int64_t>& lengths,
                                    bool batch_first, bool enforce_sorted) {
  const char* op = "pack_padded_sequence";
  MINIDL_CHECK(input.defined() && input.dim() >= 2, op,
               "expected input with at least 2 dims, got "
                   << (input.defined() ? shape_str(input.shape()) : "undefined"));
  Tensor x = batch_first ? input.transpose(0, 1) : input;  // [T, B, *]
  const int64_t T = x.size(0), B = x.size(1);
  MINIDL_CHECK(static_cast<int64_t>(lengths.size()) == B, op,
               "expected " << B << " lengths for input of shape " << shape_str(input.shape())
                           << ", got " << lengths.size());
  for (int64_t b = 0; b < B; ++b)
    MINIDL_CHECK(lengths[b] >= 1 && lengths[b] <= T, op,
                 "length " << lengths[b] << " of sequence " << b << " is out of range [1, " << T
                           << "] for input of shape " << shape_str(input.shape()));
  PackedSequence packed;
  std::vector<int64_t> sorted = lengths;
  if (enforce_sorted) {
    for (int64_t b = 1; b < B; ++b)
      MINIDL_CHECK(lengths[b] <= lengths[b - 1], op,
                   "lengths must be sorted in decreasing order when enforce_sorted is true, got "
                       << lengths[b - 1] << " then " << lengths[b] << " at " << b);
  } else {
    std::vector<int64_t> order(B);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
    std::vector<int64_t> inverse(B);
    for (int64_t i = 0; i < B; ++i) {
      inverse[order[i]] = i;
      sorted[i] = lengths[order[i]];
    }
    packed.sorted_indices = from_vector(order, {B}, kInt64);
    packed.unsorted_indices = from_vector(inverse, {B}, kInt64);
    x = index_select(x, 1, packed.sorted_indices);
  }
  std::vector<int64_t> batch_sizes;
  for (int64_t t = 0; t < sorted[0]; ++t) {
    int64_t running = 0;
    while (running < B && sorted[running] > t) ++running;
    batch_sizes.push_back(running);
  }
  packed.data = pack_steps(x, batch_sizes);
  packed.batch_sizes = from_vector(batch_sizes, {static_cast<int64_t>(batch_sizes.size())}, kInt64);
  return packed;
}

PackedSequence pack_padded_sequence(const Tensor& input, const Tensor& lengths, bool batch_first,
                                    bool enforce_sorted) {
  MINIDL_CHECK(lengths.defined() && lengths.dtype() == kInt64 && lengths.dim() == 1,
               "pack_padded_sequence",
               "lengths must be a 1-d int64 tensor, got "
                   << (lengths.defined() ? shape_str(lengths.shape()) : "undefined"));
  return pack_padded_sequence(input, lengths.to_vector<int64_t>(), batch_first, enforce_sorted);
}

std::pair<Tensor, Tensor> pad_packed_sequence(const PackedSequence& sequence, bool batch_first,
                                              double padding_value, int64_t total_length) {
  const char* op = "pad_packed_sequence";
  std::vector<int64_t> batch_sizes = batch_sizes_of(sequence, op);
  const int64_t T = static_cast<int64_t>(batch_sizes.size()), B = batch_sizes[0];
  Tensor padded = unpack_steps(sequence.data, batch_sizes, B, padding_value);
  if (total_length != -1) {
    MINIDL_CHECK(total_length >= T, op,
                 "expected total_length to be at least the length of the longest sequence ("
                     << T << "), got " << total_length);
    if (total_length > T) {
      std::vector<int64_t> padding(2 * static_cast<size_t>(padded.dim()), 0);
      padding.back() = total_length - T;
      padded = pad(padded, padding, "constant", padding_value);
    }
  }
  std::vector<int64_t> lengths(B, 0);
  for (int64_t rows : batch_sizes)
    for (int64_t b = 0; b < rows; ++b) ++lengths[b];
  Tensor length_tensor = from_vector(lengths, {B}, kInt64);
  if (sequence.unsorted_indices.defined()) {
    padded = index_select(padded, 1, sequence.unsorted_indices);
    length_tensor = index_select(length_tensor, 0, sequence.unsorted_indices);
  }
  if (batch_first) padded = padded.transpose(0, 1);
  return {padded, length_tensor};
}

// ---------------------------------------------------------------- RNNBase

RNNBase::RNNBase(const std::string& type_name, const std::string& mode, int64_t input_size,
                 int64_t hidden_size, int64_t num_layers, bool bias, bool batch_first,
                 double dropout, bool bidirectional, int64_t proj_size)
    : Module(type_name),
      input_size(input_size),
      hidden_size(hidden_size),
      num_layers(num_layers),
      bias(bias),
      batch_first(batch_first),
      dropout(dropout),
      bidirectional(bidirectional),
      proj_size(proj_size),
      mode_(mode),
      gates_(gates_of(mode)) {
  MINIDL_CHECK(input_size > 0 && hidden_size > 0 && num_layers > 0, type_name,
               "input_size, hidden_size and num_layers must be positive, got "
                   << input_size << ", " << hidden_size << ", " << num_layers);
  MINIDL_CHECK(dropout >= 0.0 && dropout <= 1.0, type_name,
               "dropout should be a number in range [0, 1], got " << dropout);
  MINIDL_CHECK(proj_size == 0 || mode == "LSTM", type_name,
               "proj_size is only supported for LSTM, not " << type_name);
  MINIDL_CHECK(proj_size >= 0 && proj_size < hidden_size, type_name,
               "proj_size must be 0 (no projection) or in [1, hidden_size = "
                   << hidden_size << "), got " << proj_size);
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  const int64_t directions = bidirectional ? 2 : 1, rows = gates_ * hidden_size;
  const int64_t state = state_size();
  for (int64_t layer = 0; layer < num_layers; ++layer) {
    const int64_t in = layer == 0 ? input_size : state * directions;
    for (int64_t direction = 0; direction < directions; ++direction) {
      const std::string suffix =
          "_l" + std::to_string(layer) + (direction == 1 ? std::string("_reverse") : "");
      LayerWeights w;
      w.w_ih = register_parameter("weight_ih" + suffix, empty({rows, in}).uniform_(-bound, bound));
      w.w_hh =
          register_parameter("weight_hh" + suffix, empty({rows, state}).uniform_(-bound, bound));
      if (bias) {
        w.b_ih = register_parameter("bias_ih" + suffix, empty({rows}).uniform_(-bound, bound));
        w.b_hh = register_parameter("bias_hh" + suffix, empty({rows}).uniform_(-bound, bound));
      }
      if (proj_size > 0)  // registered after the biases, as torch orders them
        w.w_hr = register_parameter("weight_hr" + suffix,
                                    empty({proj_size, hidden_size}).uniform_(-bound, bound));
      weights_.push_back(w);
    }
  }
}

std::string RNNBase::extra_repr() const {
  std::ostringstream s;
  s << input_size << ", " << hidden_size;
  if (num_layers != 1) s << ", num_layers=" << num_layers;
  if (!bias) s << ", bias=False";
  if (batch_first) s << ", batch_first=True";
  if (dropout != 0.0) s << ", dropout=" << dropout;
  if (bidirectional) s << ", bidirectional=True";
  if (proj_size != 0) s << ", proj_size=" << proj_size;
  return s.str();
}

void RNNBase::check_state(const Tensor& state, const char* what, int64_t batch, bool batched,
                          int64_t size) const {
  if (!state.defined()) return;
  const int64_t layers = num_layers * (bidirectional ? 2 : 1);
  const Shape expected = batched ? Shape{layers, batch, size} : Shape{layers, size};
  MINIDL_CHECK(state.shape() == expected, type_name(),
               "expected " << what << " of shape " << shape_str(expected) << ", got "
                           << shape_str(state.shape()));
  MINIDL_CHECK(state.dtype() == weights_[0].w_ih.dtype(), type_name(),
               what << " must have the parameters' dtype " << weights_[0].w_ih.dtype() << ", got "
                    << state.dtype());
}

RNNBase::Result RNNBase::run_layers(const Tensor& x, const Tensor& h0, const Tensor& c0,
                                    const std::vector<int64_t>& batch_sizes) {
  const int64_t directions = bidirectional ? 2 : 1, batch = x.size(1);
  const DType dt = x.dtype();
  const bool lstm = mode_ == "LSTM";
  Tensor layer_input = x;
  std::vector<Tensor> h_n, c_n;
  for (int64_t layer = 0; layer < num_layers; ++layer) {
    std::vector<Tensor> outputs;
    for (int64_t direction = 0; direction < directions; ++direction) {
      const int64_t index = layer * directions + direction;
      const LayerWeights& w = weights_[index];
      // The input projection of every step at once: one GEMM.
      //   x_proj [T, B, G*H] = x W_ih^T + b_ih ;  linear's backward (LinearBackward0) gives, one
      //   GEMM each, dx = dx_proj W_ih ([T*B, G*H] x [G*H, in]) and dW_ih = dx_proj^T x,
      //   with dx_proj from the recurrence's backward (LstmBackward0 / GruBackward0 /
      //   RnnBackward0: formulas, derivation and per-line math in ops/rnn.cpp).
      Tensor x_proj = linear(layer_input, w.w_ih, w.b_ih);
      Tensor h = h0.defined() ? h0.select(0, index) : zeros({batch, state_size()}, dt);
      const bool reverse = direction == 1;
      RecurrentResult r;
      if (lstm) {
        Tensor c = c0.defined() ? c0.select(0, index) : zeros({batch, hidden_size}, dt);
        r = proj_size > 0 ? projected_lstm_sequence(x_proj, h, c, w.w_hh, w.b_hh, w.w_hr,
                                                    batch_sizes, reverse)
                          : lstm_sequence(x_proj, h, c, w.w_hh, w.b_hh, batch_sizes, reverse);
      } else if (mode_ == "GRU") {
        r = gru_sequence(x_proj, h, w.w_hh, w.b_hh, batch_sizes, reverse);
      } else {
        r = rnn_sequence(x_proj, h, w.w_hh, w.b_hh, mode_ == "RNN_TANH" ? "tanh" : "relu",
                         batch_sizes, reverse);
      }
      outputs.push_back(r.output);
      h_n.push_back(r.h_n);
      if (lstm) c_n.push_back(r.c_n);
    }
    layer_input = directions == 1 ? outputs[0] : cat(outputs, 2);
    if (layer + 1 < num_layers && dropout > 0.0 && is_training())
      layer_input = minidl::dropout(layer_input, dropout, true);
  }
  Result result;
  result.output = layer_input;
  result.h_n = stack(h_n, 0);
  if (lstm) result.c_n = stack(c_n, 0);
  return result;
}

RNNBase::Result RNNBase::forward_padded(const Tensor& input, const Tensor& h0, const Tensor& c0) {
  MINIDL_CHECK(input.defined() && (input.dim() == 2 || input.dim() == 3), type_name(),
               "expected a 2-d (unbatched) or 3-d input, got "
                   << (input.defined() ? shape_str(input.shape()) : "undefined"));
  MINIDL_CHECK(input.size(-1) == input_size, type_name(),
               "input.size(-1) must be equal to input_size. Expected "
                   << input_size << ", got " << input.size(-1) << " (input of shape "
                   << shape_str(input.shape()) << ")");
  MINIDL_CHECK(input.dtype() == weights_[0].w_ih.dtype(), type_name(),
               "input must have the parameters' dtype " << weights_[0].w_ih.dtype() << ", got "
                                                        << input.dtype());
  const bool batched = input.dim() == 3;
  Tensor x = !batched ? input.unsqueeze(1) : batch_first ? input.transpose(0, 1) : input;
  const int64_t batch = x.size(1);
  check_state(h0, "h0", batch, batched, state_size());
  check_state(c0, "c0", batch, batched, hidden_size);
  Result r = run_layers(x, batched || !h0.defined() ? h0 : h0.unsqueeze(1),
                        batched || !c0.defined() ? c0 : c0.unsqueeze(1), {});
  if (!batched) {
    r.output = r.output.squeeze(1);
    r.h_n = r.h_n.squeeze(1);
    if (r.c_n.defined()) r.c_n = r.c_n.squeeze(1);
  } else if (batch_first) {
    r.output = r.output.transpose(0, 1);
  }
  return r;
}

RNNBase::Result RNNBase::forward_packed(const PackedSequence& input, const Tensor& h0,
                                        const Tensor& c0, PackedSequence& output) {
  std::vector<int64_t> batch_sizes = batch_sizes_of(input, type_name().c_str());
  MINIDL_CHECK(
      input.data.dim() == 2 && input.data.size(1) == input_size, type_name(),
      "packed data must be [N, " << input_size << "], got " << shape_str(input.data.shape()));
  MINIDL_CHECK(input.data.dtype() == weights_[0].w_ih.dtype(), type_name(),
               "input must have the parameters' dtype " << weights_[0].w_ih.dtype() << ", got "
                                                        << input.data.dtype());
  const int64_t batch = batch_sizes[0];
  check_state(h0, "h0", batch, true, state_size());
  check_state(c0, "c0", batch, true, hidden_size);
  // Initial states follow the caller's batch order; the packed batch is sorted.
  auto to_sorted = [&](const Tensor& s) {
    return s.defined() && input.sorted_indices.defined() ? index_select(s, 1, input.sorted_indices)
                                                         : s;
  };
  Tensor x = unpack_steps(input.data, batch_sizes, batch, 0.0);
  Result r = run_layers(x, to_sorted(h0), to_sorted(c0), batch_sizes);
  output = PackedSequence{pack_steps(r.output, batch_sizes), input.batch_sizes,
                          input.sorted_indices, input.unsorted_indices};
  if (input.unsorted_indices.defined()) {
    r.h_n = index_select(r.h_n, 1, input.unsorted_indices);
    if (r.c_n.defined()) r.c_n = index_select(r.c_n, 1, input.unsorted_indices);
  }
  r.output = Tensor();
  return r;
}

// ---------------------------------------------------------------- RNN, LSTM, GRU

RNN::RNN(int64_t input_size, int64_t hidden_size, int64_t num_layers,
         const std::string& nonlinearity, bool bias, bool batch_first, double dropout,
         bool bidirectional)
    : RNNBase("RNN",
              nonlinearity == "relu"   ? "RNN_RELU"
              : nonlinearity == "tanh" ? "RNN_TANH"
                                       : throw Error("RNN: unknown nonlinearity '" + nonlinearity +
                                                     "' (expected \"tanh\" or \"relu\")"),
              input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional),
      nonlinearity(nonlinearity),
      options(RNNOptions(input_size, hidden_size)
                  .num_layers(num_layers)
                  .nonlinearity(nonlinearity)
                  .bias(bias)
                  .batch_first(batch_first)
                  .dropout(dropout)
                  .bidirectional(bidirectional)) {}

std::tuple<Tensor, Tensor> RNN::forward(const Tensor& input, Tensor h0) {
  Result r = forward_padded(input, h0, Tensor());
  return {r.output, r.h_n};
}
std::tuple<PackedSequence, Tensor> RNN::forward_with_packed_input(const PackedSequence& input,
                                                                  Tensor h0) {
  auto [output, h_n] = forward(input, h0);
  return {output, h_n};
}
std::pair<PackedSequence, Tensor> RNN::forward(const PackedSequence& input, const Tensor& h0) {
  PackedSequence output;
  Result r = forward_packed(input, h0, Tensor(), output);
  return {output, r.h_n};
}

LSTM::LSTM(int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias, bool batch_first,
           double dropout, bool bidirectional, int64_t proj_size)
    : RNNBase("LSTM", "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
              bidirectional, proj_size),
      options(LSTMOptions(input_size, hidden_size)
                  .num_layers(num_layers)
                  .bias(bias)
                  .batch_first(batch_first)
                  .dropout(dropout)
                  .bidirectional(bidirectional)
                  .proj_size(proj_size)) {}

LSTM::LSTM(const LSTMOptions& options)
    : LSTM(options.input_size(), options.hidden_size(), options.num_layers(), options.bias(),
           options.batch_first(), options.dropout(), options.bidirectional(), options.proj_size()) {
}

std::tuple<Tensor, std::tuple<Tensor, Tensor>> LSTM::forward(
    const Tensor& input, std::optional<std::tuple<Tensor, Tensor>> hx) {
  auto [h0, c0] = hx.value_or(std::tuple<Tensor, Tensor>{});
  MINIDL_CHECK(h0.defined() == c0.defined(), "LSTM", "give both h0 and c0, or neither");
  Result r = forward_padded(input, h0, c0);
  return {r.output, {r.h_n, r.c_n}};
}
std::tuple<PackedSequence, std::tuple<Tensor, Tensor>> LSTM::forward_with_packed_input(
    const PackedSequence& input, std::optional<std::tuple<Tensor, Tensor>> hx) {
  auto [h0, c0] = hx.value_or(std::tuple<Tensor, Tensor>{});
  auto [output, state] = forward(input, State{h0, c0});
  return {output, {state.first, state.second}};
}
std::pair<PackedSequence, LSTM::State> LSTM::forward(const PackedSequence& input, const State& hx) {
  MINIDL_CHECK(hx.first.defined() == hx.second.defined(), "LSTM",
               "give both h0 and c0, or neither");
  PackedSequence output;
  Result r = forward_packed(input, hx.first, hx.second, output);
  return {output, {r.h_n, r.c_n}};
}

GRU::GRU(int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias, bool batch_first,
         double dropout, bool bidirectional)
    : RNNBase("GRU", "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
              bidirectional),
      options(GRUOptions(input_size, hidden_size)
                  .num_layers(num_layers)
                  .bias(bias)
                  .batch_first(batch_first)
                  .dropout(dropout)
                  .bidirectional(bidirectional)) {}

std::tuple<Tensor, Tensor> GRU::forward(const Tensor& input, Tensor h0) {
  Result r = forward_padded(input, h0, Tensor());
  return {r.output, r.h_n};
}
std::tuple<PackedSequence, Tensor> GRU::forward_with_packed_input(const PackedSequence& input,
                                                                  Tensor h0) {
  auto [output, h_n] = forward(input, h0);
  return {output, h_n};
}
std::pair<PackedSequence, Tensor> GRU::forward(const PackedSequence& input, const Tensor& h0) {
  PackedSequence output;
  Result r = forward_packed(input, h0, Tensor(), output);
  return {output, r.h_n};
}

}  // namespace minidl::nn
