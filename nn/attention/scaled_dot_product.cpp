// nn::ScaledDotProductAttention: out = dropout(softmax(q kᵀ / sqrt(E) + mask)) v, the module form
// of scaled_dot_product_attention (ops/attention.cpp); see nn/attention/scaled_dot_product.h.
#include "nn/attention/scaled_dot_product.h"

#include "core/error.h"
#include "nn/activation.h"
#include "ops/attention.h"

namespace minidl::nn {

ScaledDotProductAttention::ScaledDotProductAttention(double dropout)
    : Module("ScaledDotProductAttention"), dropout(dropout) {
  MINIDL_CHECK(dropout >= 0.0 && dropout <= 1.0, "ScaledDotProductAttention",
               "dropout must be in [0, 1], got " << dropout);
}

AttentionOutput ScaledDotProductAttention::forward(const Tensor& query, const Tensor& key,
                                                   const Tensor& value, const Tensor& attn_mask,
                                                   const Tensor& key_padding_mask,
                                                   bool need_weights, bool is_causal) {
  SdpaOptions o;
  o.attn_mask = attn_mask;
  o.key_padding_mask = key_padding_mask;
  o.dropout_p = is_training() ? dropout : 0.0;
  o.is_causal = is_causal;
  o.need_weights = need_weights;
  SdpaResult r;
  try {
    r = scaled_dot_product_attention(query, key, value, o);
  } catch (const Error& e) {  // name the module, keep the op's message (shapes included)
    throw Error(std::string("ScaledDotProductAttention: ") + e.what());
  }
  return {r.output, r.weights};
}

std::string ScaledDotProductAttention::extra_repr() const {
  return "dropout=" + python_float(dropout);
}

}  // namespace minidl::nn
