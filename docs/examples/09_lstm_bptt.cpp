// 09_lstm_bptt -- an LSTM's gates written by hand, and backpropagation through time, checked
// against nn::LSTM.
//
// Goes with docs/internals.md, "The LSTM's backward through time". Run: build/examples/09_lstm_bptt
//
// One step, PyTorch's gate order i, f, g, o (nn/rnn.h), for x_t [B, in] and state h, c [B, H]:
//   gates = x_t W_ihᵀ + b_ih + h W_hhᵀ + b_hh        [B, 4H], cut into four [B, H] blocks
//   i = σ(gates_i)  f = σ(gates_f)  g = tanh(gates_g)  o = σ(gates_o)
//   c' = f * c + i * g          (the cell: a gated running sum)
//   h' = o * tanh(c')           (the output, and the next step's h)
// Unrolled over T steps this is an ordinary graph, and its backward IS backpropagation through
// time: the loss at the last step reaches x_0 through h and c of every step in between, and the
// weights, shared by all steps, get the SUM of each step's contribution. nn::LSTM runs a fused
// kernel for the same recurrence (ops/rnn.cpp), which saves the gates of each step and walks
// time in reverse; the hand-written unrolled graph must give the same numbers.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "minidl.h"

using namespace minidl;

static void check(bool ok, const char* claim) {
  std::printf("  %s %s\n", ok ? "ok:" : "FAILED:", claim);
  if (!ok) std::exit(1);
}

static double max_abs_diff(const Tensor& a, const Tensor& b) {
  return (a - b).abs().max().item<double>();
}

int main() {
  manual_seed(0);
  const int64_t T = 4, B = 2, in = 3, H = 2;
  auto lstm = std::make_shared<nn::LSTM>(in, H);
  lstm->to(kFloat64);
  nn::StateDict params = lstm->named_parameters();
  Tensor W_ih = params["weight_ih_l0"], W_hh = params["weight_hh_l0"];  // [4H, in], [4H, H]
  Tensor b_ih = params["bias_ih_l0"], b_hh = params["bias_hh_l0"];      // [4H]
  Tensor x = randn({T, B, in}, kFloat64).requires_grad_();              // time-major

  // By hand, one step at a time; the tape records every op.
  Tensor h = zeros({B, H}, kFloat64), c = zeros({B, H}, kFloat64);
  for (int64_t t = 0; t < T; ++t) {
    Tensor gates = x[t].matmul(W_ih.t()) + b_ih + h.matmul(W_hh.t()) + b_hh;
    Tensor i = gates.narrow(1, 0, H).sigmoid(), f = gates.narrow(1, H, H).sigmoid();
    Tensor g = gates.narrow(1, 2 * H, H).tanh(), o = gates.narrow(1, 3 * H, H).sigmoid();
    c = f * c + i * g;
    h = o * c.tanh();
  }
  // The library: output [T, B, H] holds h of every step, h_n and c_n the last state.
  auto [output, state] = lstm->forward(x);
  auto [h_n, c_n] = state;
  // output is a slice of the fused op's result: its entry's first edge leads to LstmBackward0,
  // ONE tape entry for all T steps (the loop above recorded one entry per op, every step).
  const std::string fused = output.grad_fn()->next_edges[0].node->name();
  std::printf("nn::LSTM's tape: %s <- %s\n", output.grad_fn()->name().c_str(), fused.c_str());
  check(fused == "LstmBackward0", "nn::LSTM records one LstmBackward0 entry for the sequence");
  std::printf("h_T by hand  %s\nh_T nn::LSTM %s\n", h.to_string().c_str(),
              output[T - 1].to_string().c_str());
  check(max_abs_diff(h, output[T - 1]) < 1e-12 && max_abs_diff(h, h_n[0]) < 1e-12,
        "the hand-written last h equals nn::LSTM's output[T-1] and h_n");
  check(max_abs_diff(c, c_n[0]) < 1e-12, "the hand-written last c equals c_n");

  // Backward through time: a loss on the LAST step only.
  h.sum().backward();
  Tensor hand_dx = x.grad().clone(), hand_dW_hh = W_hh.grad().clone();
  for (Tensor p : {x, W_ih, W_hh, b_ih, b_hh}) p.zero_grad();
  output[T - 1].sum().backward();
  std::printf("|dloss/dx_t| per step, t = 0..%lld: ", static_cast<long long>(T - 1));
  for (int64_t t = 0; t < T; ++t) std::printf("%.4f ", x.grad()[t].abs().sum().item<double>());
  std::printf("\n");
  check(x.grad()[0].abs().sum().item<double>() > 0,
        "the last step's loss reaches the first input x_0 (through every h and c)");
  check(max_abs_diff(hand_dx, x.grad()) < 1e-12, "dloss/dx: the unrolled tape equals nn::LSTM's");
  check(max_abs_diff(hand_dW_hh, W_hh.grad()) < 1e-12,
        "dloss/dW_hh (summed over the steps): the unrolled tape equals nn::LSTM's");
  std::printf("09_lstm_bptt: all checks passed\n");
  return 0;
}
