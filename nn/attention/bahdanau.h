// Bahdanau additive attention (Bahdanau, Cho & Bengio 2015), exactly as the TensorFlow NMT
// tutorial's Keras layer `BahdanauAttention(units)`:
//
//   score   = V(tanh(W1(query_with_time_axis) + W2(values)))     [B, Tq, Tk]
//           = vᵀ tanh(W1 q + b1 + W2 k + b2) + b_V
//   weights = masked_softmax(score) over the source time axis (padded positions excluded)
//   context = Σ_s weights[s] * values[s]
//
//   query [B, Dq] or [B, Tq, Dq], keys [B, Tk, Dk], values [B, Tk, Dv] (default: the keys, as in
//   the tutorial where `values` plays both roles)
//     -> output (context) [B, Dv] or [B, Tq, Dv], weights [B, Tk] or [B, Tq, Tk]
//   (Keras returns the weights of a [B, Dq] query as [B, Tk, 1]: that is weights.unsqueeze(-1).)
//
// Submodules W1 = Linear(query_dim, units), W2 = Linear(key_dim, units), V = Linear(units, 1),
// all with bias like Keras Dense (initialized as nn::Linear, i.e. PyTorch's scheme, not Keras'
// glorot_uniform / zeros).
//
// A decoder calls attention once per step over the same encoder states, so W2(keys) can be
// computed once: `Tensor pk = att.precompute_keys(keys);` then `att.forward_precomputed(query,
// pk, keys, mask)` at every step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nn/attention/common.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace minidl::nn {

// Additive attention with `units` hidden units over query_dim-sized queries and key_dim-sized keys.
class BahdanauAttention : public Module {
 public:
  BahdanauAttention(int64_t units, int64_t query_dim, int64_t key_dim);

  using Module::forward;
  using Module::operator();
  // query [B, Dq] or [B, Tq, Dq], keys [B, Tk, Dk], values [B, Tk, Dv] (default: keys), mask bool
  // [B, Tk] -> {context [B, Dv] or [B, Tq, Dv], weights [B, Tk] or [B, Tq, Tk]}.
  AttentionOutput forward(const Tensor& query, const Tensor& keys, const Tensor& values = Tensor(),
                          const Tensor& key_padding_mask = Tensor());
  AttentionOutput operator()(const Tensor& query, const Tensor& keys,
                             const Tensor& values = Tensor(),
                             const Tensor& key_padding_mask = Tensor()) {
    return forward(query, keys, values, key_padding_mask);
  }

  // W2(keys): [B, Tk, key_dim] -> [B, Tk, units].
  Tensor precompute_keys(const Tensor& keys);
  // forward with W2(keys) given (from precompute_keys); values [B, Tk, Dv] are required.
  AttentionOutput forward_precomputed(const Tensor& query, const Tensor& projected_keys,
                                      const Tensor& values,
                                      const Tensor& key_padding_mask = Tensor());

  std::string extra_repr() const override;  // "units=10, query_dim=8, key_dim=6"

  int64_t units, query_dim, key_dim;
  std::shared_ptr<Linear> W1, W2, V;
};

}  // namespace minidl::nn
