// Luong local attention (Luong, Pham & Manning 2015, section 3.2): each target step t attends
// only to the source window [p_t - D, p_t + D].
//
//   local-m (monotonic)  p_t = t  (the decoder step: `step` + the query's index)
//                        a_t(s) = align(h_t, h̄_s)                             s in the window
//   local-p (predictive) p_t = S · sigmoid(v_pᵀ tanh(W_p h_t))      real-valued, in [0, S]
//                        a_t(s) = align(h_t, h̄_s) · exp(-(s - p_t)² / (2σ²)),  σ = D / 2
//   align = masked_softmax(score) over the window (positions outside it and padded ones are
//   excluded); score is one of Luong's dot / general / concat (shared with LuongAttention, same
//   parameter names `attn.*`, `v`); c_t = Σ_s a_t(s) v_s.
//
//   query [B, H] or [B, Tq, H], keys [B, S, H], values [B, S, Hv] (default: keys)
//     -> output [B, (Tq,) Hv], weights [B, (Tq,) S] (0 outside the window),
//        positions p_t [B, (Tq,)] (in the query's dtype; for local-m simply step + index)
//
// S is the source length, per sequence when a key_padding_mask is given (the number of unpadded
// positions; padding is assumed at the end). The window is centred on the real-valued p_t; the
// gradient reaches p_t (hence W_p, v_p) through the Gaussian, not through the window's edges.
// local-p parameters: W_p = Linear(H, H, bias=false), v_p = Linear(H, 1, bias=false).
// A window that holds no (unpadded) source position gives weights 0 and output 0.
//
// The weights are materialized as [B, Tq, S] (they are returned); a decoder step (Tq = 1) costs
// O(S·H) like global attention.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nn/attention/luong.h"

namespace minidl::nn {

// LocalAttention's result: output and weights, plus the aligned positions.
struct LocalAttentionOutput : AttentionOutput {
  Tensor positions;  // the aligned positions p_t: [B, Tq] or [B]
};

// Luong local-m / local-p attention over a window of 2 * window + 1 source positions.
class LocalAttention : public LuongAttention {
 public:
  LocalAttention(int64_t hidden_size, int64_t window, const std::string& mode = "local-p",
                 const std::string& score = "general", bool bias = false);

  using Module::forward;
  using Module::operator();
  // step: the decoder step of the first query (local-m aligns query i with source step + i).
  LocalAttentionOutput forward(const Tensor& query, const Tensor& keys,
                               const Tensor& values = Tensor(),
                               const Tensor& key_padding_mask = Tensor(), int64_t step = 0);
  LocalAttentionOutput operator()(const Tensor& query, const Tensor& keys,
                                  const Tensor& values = Tensor(),
                                  const Tensor& key_padding_mask = Tensor(), int64_t step = 0) {
    return forward(query, keys, values, key_padding_mask, step);
  }

  // "hidden_size=8, window=2, mode=local-p, score=general, bias=False"
  std::string extra_repr() const override;

  int64_t window;
  std::string mode;                  // "local-m" or "local-p"
  std::shared_ptr<Linear> W_p, v_p;  // local-p only
};

}  // namespace minidl::nn
