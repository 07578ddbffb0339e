// Luong global attention (Luong, Pham & Manning 2015, "Effective Approaches to Attention-based
// Neural Machine Translation", section 3.1), as in the PyTorch chatbot tutorial's `Attn` class:
// a decoder state h_t attends over every encoder state h̄_s.
//
//   score(h_t, h̄_s) = h_tᵀ h̄_s                       dot
//                   = h_tᵀ (W_a h̄_s + b)              general   attn = Linear(H, H, bias)
//                   = vᵀ tanh(W_a [h_t; h̄_s] + b)     concat    attn = Linear(2H, H, bias), v [H]
//   a_t = masked_softmax(score(h_t, h̄_·))   over the source (padded positions excluded)
//   c_t = Σ_s a_t(s) v_s                    (values default to the encoder states)
//
//   query [B, H] or [B, Tq, H], keys [B, Tk, H], values [B, Tk, Hv]
//     -> output c [B, Hv] or [B, Tq, Hv], weights a [B, Tk] or [B, Tq, Tk]
//
// Parameter names follow the chatbot tutorial, so its Attn state_dict loads unchanged:
// `attn.weight`, `attn.bias` (general, concat) and `v` (concat). The paper's W_a has no bias,
// hence bias = false by default; bias = true is the tutorial's layer. `v` is initialized
// U(-1/sqrt(H), 1/sqrt(H)) (the tutorial leaves it uninitialized).
//
// The attentional hidden state of the paper, h~_t = tanh(W_c [c_t; h_t]), is the separate
// module LuongAttentionalHidden below (the tutorial's `concat` layer of the decoder).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nn/attention/common.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace minidl::nn {

// Global attention with Luong's `score` ("dot", "general" or "concat"; others are an error).
class LuongAttention : public Module {
 public:
  explicit LuongAttention(int64_t hidden_size, const std::string& score = "dot", bool bias = false);

  using Module::forward;
  using Module::operator();
  // query [B, H] or [B, Tq, H], keys [B, Tk, H], values [B, Tk, Hv] (default: keys), mask bool
  // [B, Tk] -> {context [B, (Tq,) Hv], weights [B, (Tq,) Tk]}.
  AttentionOutput forward(const Tensor& query, const Tensor& keys, const Tensor& values = Tensor(),
                          const Tensor& key_padding_mask = Tensor());
  AttentionOutput operator()(const Tensor& query, const Tensor& keys,
                             const Tensor& values = Tensor(),
                             const Tensor& key_padding_mask = Tensor()) {
    return forward(query, keys, values, key_padding_mask);
  }

  // The raw alignment scores: query [B, Tq, H], keys [B, Tk, H] -> [B, Tq, Tk] (unchecked).
  Tensor score(const Tensor& query, const Tensor& keys) const;

  std::string extra_repr() const override;  // "hidden_size=8, score=general, bias=False"

  int64_t hidden_size;
  std::string method;            // "dot", "general" or "concat"
  std::shared_ptr<Linear> attn;  // general and concat; null for dot
  Tensor v;                      // concat: [H]

 protected:
  // For LocalAttention, which scores with the same functions (and parameter names).
  LuongAttention(const std::string& type_name, int64_t hidden_size, const std::string& score,
                 bool bias);
};

// h~_t = tanh(W_c [c_t; h_t]): context [..., Hc] and decoder state [..., H] -> [..., H], with
// W_c = Linear(Hc + H, H, bias) named `W_c` (Luong et al. 2015, eq. 5).
class LuongAttentionalHidden : public Module {
 public:
  LuongAttentionalHidden(int64_t hidden_size, int64_t context_size = -1, bool bias = false);
  using Module::forward;
  using Module::operator();
  // context [..., Hc], hidden [..., H] -> tanh(W_c [context; hidden]) [..., H].
  Tensor forward(const Tensor& context, const Tensor& hidden);
  Tensor operator()(const Tensor& context, const Tensor& hidden) {
    return forward(context, hidden);
  }

  int64_t hidden_size, context_size;
  std::shared_ptr<Linear> W_c;
};

}  // namespace minidl::nn
