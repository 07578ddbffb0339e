// RNNCell, LSTMCell, GRUCell (declared in nn/rnn.h; the fused step math is in ops/rnn.cpp).
#include <cmath>
#include <sstream>

#include "core/factories.h"
#include "nn/rnn.h"
#include "ops/linalg.h"

namespace minidl::nn {

RNNCellBase::RNNCellBase(const std::string& type_name, int64_t input_size, int64_t hidden_size,
                         bool bias, int64_t gates)
    : Module(type_name), input_size(input_size), hidden_size(hidden_size), bias(bias) {
  MINIDL_CHECK(
      input_size > 0 && hidden_size > 0, type_name,
      "input_size and hidden_size must be positive, got " << input_size << ", " << hidden_size);
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  const int64_t rows = gates * hidden_size;
  weight_ih = register_parameter("weight_ih", empty({rows, input_size}).uniform_(-bound, bound));
  weight_hh = register_parameter("weight_hh", empty({rows, hidden_size}).uniform_(-bound, bound));
  bias_ih = register_parameter("bias_ih", bias ? empty({rows}).uniform_(-bound, bound) : Tensor());
  bias_hh = register_parameter("bias_hh", bias ? empty({rows}).uniform_(-bound, bound) : Tensor());
}

std::string RNNCellBase::extra_repr() const {
  std::ostringstream s;
  s << input_size << ", " << hidden_size;
  if (!bias) s << ", bias=False";
  return s.str();
}

std::pair<Tensor, bool> RNNCellBase::project(const Tensor& input) const {
  MINIDL_CHECK(input.defined() && (input.dim() == 1 || input.dim() == 2), type_name(),
               "expected a 1-d (unbatched) or 2-d input, got "
                   << (input.defined() ? shape_str(input.shape()) : "undefined"));
  MINIDL_CHECK(input.size(-1) == input_size, type_name(),
               "input has inconsistent input_size: got " << input.size(-1) << " expected "
                                                         << input_size << " (input of shape "
                                                         << shape_str(input.shape()) << ")");
  MINIDL_CHECK(
      input.dtype() == weight_ih.dtype(), type_name(),
      "input must have the parameters' dtype " << weight_ih.dtype() << ", got " << input.dtype());
  const bool batched = input.dim() == 2;
  // x_proj = x W_ih^T + b_ih [B, G*H]: the input half of every gate. Its backward is linear's
  // (AddmmBackward0; MmBackward0 without bias): dx = dx_proj W_ih, dW_ih = dx_proj^T x,
  // db_ih = Σ_b dx_proj, with dx_proj from the fused cell's backward (ops/rnn.cpp, backward_name).
  return {linear(batched ? input : input.unsqueeze(0), weight_ih, bias_ih), batched};
}

Tensor RNNCellBase::state(const Tensor& hx, int64_t batch, bool batched, const char* what) const {
  if (!hx.defined()) return zeros({batch, hidden_size}, weight_ih.dtype());
  const Shape expected = batched ? Shape{batch, hidden_size} : Shape{hidden_size};
  MINIDL_CHECK(hx.shape() == expected, type_name(),
               "expected " << what << " of shape " << shape_str(expected) << ", got "
                           << shape_str(hx.shape()));
  return batched ? hx : hx.unsqueeze(0);
}

RNNCell::RNNCell(int64_t input_size, int64_t hidden_size, bool bias,
                 const std::string& nonlinearity)
    : RNNCellBase("RNNCell", input_size, hidden_size, bias, 1),
      nonlinearity(nonlinearity),
      options(RNNCellOptions(input_size, hidden_size).bias(bias).nonlinearity(nonlinearity)) {
  MINIDL_CHECK(nonlinearity == "tanh" || nonlinearity == "relu", "RNNCell",
               "unknown nonlinearity '" << nonlinearity << "' (expected \"tanh\" or \"relu\")");
}

std::string RNNCell::extra_repr() const {
  std::string s = RNNCellBase::extra_repr();
  if (nonlinearity != "tanh") s += ", nonlinearity=" + nonlinearity;
  return s;
}

Tensor RNNCell::forward(const Tensor& input) {
  return forward(input, Tensor());
}
Tensor RNNCell::forward(const Tensor& input, const Tensor& hx) {
  auto [x_proj, batched] = project(input);
  Tensor h =
      rnn_cell(x_proj, state(hx, x_proj.size(0), batched, "hx"), weight_hh, bias_hh, nonlinearity);
  return batched ? h : h.squeeze(0);
}

LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, bool bias)
    : RNNCellBase("LSTMCell", input_size, hidden_size, bias, 4),
      options(LSTMCellOptions(input_size, hidden_size).bias(bias)) {}

std::tuple<Tensor, Tensor> LSTMCell::forward(const Tensor& input,
                                             std::optional<std::tuple<Tensor, Tensor>> hx) {
  auto [x_proj, batched] = project(input);
  const int64_t batch = x_proj.size(0);
  auto [h0, c0] = hx.value_or(std::tuple<Tensor, Tensor>{});
  auto [h, c] = lstm_cell(x_proj, state(h0, batch, batched, "h"), state(c0, batch, batched, "c"),
                          weight_hh, bias_hh);
  if (!batched) return {h.squeeze(0), c.squeeze(0)};
  return {h, c};
}

GRUCell::GRUCell(int64_t input_size, int64_t hidden_size, bool bias)
    : RNNCellBase("GRUCell", input_size, hidden_size, bias, 3),
      options(GRUCellOptions(input_size, hidden_size).bias(bias)) {}

Tensor GRUCell::forward(const Tensor& input) {
  return forward(input, Tensor());
}
Tensor GRUCell::forward(const Tensor& input, const Tensor& hx) {
  auto [x_proj, batched] = project(input);
  Tensor h = gru_cell(x_proj, state(hx, x_proj.size(0), batched, "hx"), weight_hh, bias_hh);
  return batched ? h : h.squeeze(0);
}

}  // namespace minidl::nn
