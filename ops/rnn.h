// Fused recurrent ops: the recurrences of LSTM, GRU and the Elman RNN (tanh / relu), forward and
// backward through time, with PyTorch's gate orders and formulas.
//
// The input projection does not belong to the recurrence: callers compute
//   x_proj = x W_ih^T + b_ih        for ALL time steps at once (one GEMM: linear(x, w_ih, b_ih)),
// and the ops below run, for each step t, one GEMM  h_{t-1} W_hh^T  and one fused elementwise
// kernel for the gate nonlinearities and the state update. The backward runs the same loop in
// reverse (one GEMM dgates_t W_hh per step plus the fused gate derivatives) and computes
// dW_hh = sum_t dgates_t^T h_{t-1} as ONE GEMM over all steps at the end. dx_proj is returned
// whole, so dW_ih and dx come from linear's backward, again one GEMM each.
//
// Variable lengths (packed sequences): `batch_sizes[t]` rows of the batch are valid at step t
// (rows sorted by decreasing length, as PyTorch's PackedSequence). Rows past batch_sizes[t] keep
// their state unchanged and output zeros at step t, so padded steps never influence anything:
// each sequence's h_n is its state at its own last valid step, and in the reverse direction each
// sequence starts (from h0) at its own last valid step. Empty batch_sizes: all rows valid.
//
// Threads split the batch: each chunk of rows runs the whole recurrence on its own in one
// parallel region (a single-threaded GEMM plus the gate kernel per step), so a step costs no
// fork/join and no barrier (ops/rnn.cpp says why not the hidden units). float32 gate nonlinearities
// use a vectorized exp (abs. error ~1e-7); float64 uses libm.
//
// Backward is computed by kernels, not by differentiable ops: gradients of gradients (double
// backward) are not supported through these ops.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minidl {

// The result of running a recurrence over a sequence: output [T, B, H] (h_t of every step, zero
// at padded steps), h_n [B, H], and c_n [B, H] for LSTM (undefined otherwise). The three are
// views of one tensor recorded on the tape.
struct RecurrentResult {
  Tensor output, h_n, c_n;
};

// LSTM, gates i, f, g, o. x_proj [T, B, 4H], h0, c0 [B, H], w_hh [4H, H], b_hh [4H] (or undefined).
//   gates = x_proj_t + h_{t-1} W_hh^T + b_hh ;  i, f, o = sigmoid(.), g = tanh(.)
//   c_t = f * c_{t-1} + i * g ;  h_t = o * tanh(c_t)
RecurrentResult lstm_sequence(const Tensor& x_proj, const Tensor& h0, const Tensor& c0,
                              const Tensor& w_hh, const Tensor& b_hh,
                              const std::vector<int64_t>& batch_sizes = {}, bool reverse = false);

// GRU, gates r, z, n. x_proj [T, B, 3H], h0 [B, H], w_hh [3H, H], b_hh [3H] (or undefined).
//   gh = h_{t-1} W_hh^T + b_hh ;  r = sigmoid(x_r + gh_r), z = sigmoid(x_z + gh_z)
//   n = tanh(x_n + r * gh_n) ;  h_t = (1 - z) * n + z * h_{t-1}
RecurrentResult gru_sequence(const Tensor& x_proj, const Tensor& h0, const Tensor& w_hh,
                             const Tensor& b_hh, const std::vector<int64_t>& batch_sizes = {},
                             bool reverse = false);

// Elman RNN. x_proj [T, B, H], h0 [B, H], w_hh [H, H], b_hh [H] (or undefined);
// nonlinearity "tanh" or "relu":  h_t = act(x_proj_t + h_{t-1} W_hh^T + b_hh)
RecurrentResult rnn_sequence(const Tensor& x_proj, const Tensor& h0, const Tensor& w_hh,
                             const Tensor& b_hh, const std::string& nonlinearity = "tanh",
                             const std::vector<int64_t>& batch_sizes = {}, bool reverse = false);

// One step (the T = 1 case of the ops above), for the cell modules. x_proj [B, G*H] is
// x W_ih^T + b_ih; h, c [B, H]. lstm_cell returns (h', c').
std::pair<Tensor, Tensor> lstm_cell(const Tensor& x_proj, const Tensor& h, const Tensor& c,
                                    const Tensor& w_hh, const Tensor& b_hh);
Tensor gru_cell(const Tensor& x_proj, const Tensor& h, const Tensor& w_hh, const Tensor& b_hh);
Tensor rnn_cell(const Tensor& x_proj, const Tensor& h, const Tensor& w_hh, const Tensor& b_hh,
                const std::string& nonlinearity = "tanh");

}  // namespace minidl
