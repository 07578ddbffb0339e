// Dot-product attention softmax(Q Kᵀ · s) V, plain and with learned Q/K/V maps (see dot_product.h).
#include "nn/attention/dot_product.h"

#include <cmath>

#include "core/error.h"
#include "nn/attention/scoring.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"

namespace minidl::nn {

namespace {

// softmax(q kᵀ · scale) v with the three masks combined; inputs already checked.
AttentionOutput dot_product_attend(const char* op, const classic_detail::AttentionInputs& in,
                                   double scale, const Tensor& attn_mask, bool is_causal) {
  const int64_t batch = in.query.size(0), queries = in.query.size(1), keys = in.keys.size(1);
  Tensor exclude = in.key_padding_mask;  // [B, 1, Tk]
  if (attn_mask.defined()) {
    MINIDL_CHECK(attn_mask.dtype() == kBool, op,
                 "attn_mask must be bool (true = excluded), got "
                     << attn_mask.dtype() << " of shape " << shape_str(attn_mask.shape()));
    MINIDL_CHECK(attn_mask.shape() == Shape({queries, keys}) ||
                     attn_mask.shape() == Shape({batch, queries, keys}),
                 op,
                 "attn_mask has shape " << shape_str(attn_mask.shape()) << ", expected [" << queries
                                        << ", " << keys << "] or [" << batch << ", " << queries
                                        << ", " << keys << "]");
    exclude = classic_detail::mask_union(exclude, attn_mask);
  }
  if (is_causal)
    exclude =
        classic_detail::mask_union(exclude, classic_detail::causal_exclude_mask(queries, keys));
  Tensor scores = matmul(in.query, in.keys.transpose(1, 2));
  if (scale != 1.0) scores = scores * scale;
  return classic_detail::attend(scores, in.values, exclude, /*single_query=*/false);
}

}  // namespace

// ---------------------------------------------------------------- DotProductAttention

DotProductAttention::DotProductAttention(bool scaled)
    : Module("DotProductAttention"), scaled(scaled) {}

AttentionOutput DotProductAttention::forward(const Tensor& query, const Tensor& key,
                                             const Tensor& value, const Tensor& key_padding_mask,
                                             const Tensor& attn_mask, bool is_causal) {
  const char* op = "DotProductAttention";
  MINIDL_CHECK(value.defined(), op, "value must be defined");
  classic_detail::AttentionInputs in = classic_detail::check_attention_inputs(
      op, query, key, value, key_padding_mask, key.defined() && key.dim() > 0 ? key.size(-1) : -1,
      -1, false);
  const double scale = scaled ? 1.0 / std::sqrt(static_cast<double>(in.keys.size(-1))) : 1.0;
  return dot_product_attend(op, in, scale, attn_mask, is_causal);
}

std::string DotProductAttention::extra_repr() const {
  return std::string("scaled=") + (scaled ? "True" : "False");
}

// ---------------------------------------------------------------- ProjectedDotProductAttention

ProjectedDotProductAttention::ProjectedDotProductAttention(int64_t embed_dim, int64_t kdim,
                                                           int64_t vdim, bool scaled, bool bias)
    : Module("ProjectedDotProductAttention"),
      embed_dim(embed_dim),
      kdim(kdim < 0 ? embed_dim : kdim),
      vdim(vdim < 0 ? embed_dim : vdim),
      scaled(scaled) {
  MINIDL_CHECK(embed_dim > 0 && this->kdim > 0 && this->vdim > 0, "ProjectedDotProductAttention",
               "embed_dim, kdim and vdim must be positive, got " << embed_dim << ", " << kdim
                                                                 << " and " << vdim);
  query = register_module("query", std::make_shared<Linear>(embed_dim, embed_dim, bias));
  key = register_module("key", std::make_shared<Linear>(this->kdim, embed_dim, bias));
  value = register_module("value", std::make_shared<Linear>(this->vdim, embed_dim, bias));
}

AttentionOutput ProjectedDotProductAttention::forward(const Tensor& q, const Tensor& k,
                                                      const Tensor& v,
                                                      const Tensor& key_padding_mask,
                                                      const Tensor& attn_mask, bool is_causal) {
  const char* op = "ProjectedDotProductAttention";
  MINIDL_CHECK(v.defined(), op, "value must be defined");
  classic_detail::AttentionInputs in =
      classic_detail::check_attention_inputs(op, q, k, v, key_padding_mask, embed_dim, kdim, false);
  MINIDL_CHECK(
      in.values.size(-1) == vdim, op,
      "value feature size must be " << vdim << ", got shape " << shape_str(in.values.shape()));
  in.query = (*query)(in.query);
  in.keys = (*key)(in.keys);
  in.values = (*value)(in.values);
  const double scale = scaled ? 1.0 / std::sqrt(static_cast<double>(embed_dim)) : 1.0;
  return dot_product_attend(op, in, scale, attn_mask, is_causal);
}

std::string ProjectedDotProductAttention::extra_repr() const {
  return "embed_dim=" + std::to_string(embed_dim) + ", kdim=" + std::to_string(kdim) +
         ", vdim=" + std::to_string(vdim) + ", scaled=" + (scaled ? "True" : "False") +
         ", bias=" + (query->bias.defined() ? "True" : "False");
}

}  // namespace minidl::nn
