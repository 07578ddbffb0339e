// Relative-position multi-head self-attention (Shaw et al. 2018):
//
//   e_ij = q_i·(k_j + a^K_ij) / sqrt(d) ,  α = softmax_j(e) ,  z_i = Σ_j α_ij (v_j + a^V_ij)
//   a^{K,V}_ij = relative_{key,value}[clip(j - i, -k, k) + k]
//
//   x [B, T, E] -> q, k, v [B, H, T, d] -> logits [B, H, T, T] -> z [B, H, T, d] -> out [B, T, E]
//
// Every step is a GEMM or one pass over [B, H, T, T]: q kᵀ and q relative_keyᵀ are two GEMMs,
// relative_position_gather_add merges them, and α v plus bucket(α) relative_value are two more.
#include "nn/attention/relative_position.h"

#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "core/factories.h"
#include "nn/activation.h"
#include "nn/attention/projection.h"
#include "nn/init.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduction.h"
#include "ops/relative_position.h"
#include "ops/softmax.h"

namespace minidl::nn {

namespace {

constexpr const char* kOp = "RelativeMultiheadAttention";

// The bool exclusion mask [B or 1, H or 1, T, T] (true = excluded; size 1 where nothing varies)
// from the key padding mask [B, T], a bool attn_mask [T, T] or [B * H, T, T] and causality;
// undefined when nothing is excluded.
Tensor combined_mask(const Tensor& key_padding_mask, const Tensor& bool_attn_mask, bool is_causal,
                     int64_t batch, int64_t heads, int64_t length) {
  if (!key_padding_mask.defined() && !bool_attn_mask.defined() && !is_causal) return Tensor();
  const bool per_head = bool_attn_mask.defined() && bool_attn_mask.dim() == 3;
  const int64_t mask_heads = per_head ? heads : 1;
  const int64_t mask_batch = per_head || key_padding_mask.defined() ? batch : 1;
  Tensor mask = empty({mask_batch, mask_heads, length, length}, kBool);
  bool* out = mask.data_ptr<bool>();
  Tensor padding = key_padding_mask.defined() ? key_padding_mask.contiguous() : Tensor();
  Tensor attn = bool_attn_mask.defined() ? bool_attn_mask.contiguous() : Tensor();
  const bool* pad = padding.defined() ? padding.data_ptr<bool>() : nullptr;
  const bool* am = attn.defined() ? attn.data_ptr<bool>() : nullptr;
  const int64_t plane = length * length;
  for (int64_t b = 0; b < mask_batch; ++b)
    for (int64_t h = 0; h < mask_heads; ++h) {
      bool* o = out + (b * mask_heads + h) * plane;
      const bool* a = am ? am + (per_head ? (b * heads + h) * plane : 0) : nullptr;
      for (int64_t i = 0; i < length; ++i)
        for (int64_t j = 0; j < length; ++j)
          o[i * length + j] =
              (pad && pad[b * length + j]) || (a && a[i * length + j]) || (is_causal && j > i);
    }
  return mask;
}

}  // namespace

RelativeMultiheadAttention::RelativeMultiheadAttention(int64_t embed_dim, int64_t num_heads,
                                                       int64_t max_relative_position,
                                                       double dropout, bool bias, bool batch_first)
    : Module("RelativeMultiheadAttention"),
      embed_dim(embed_dim),
      num_heads(num_heads),
      head_dim(0),
      max_relative_position(max_relative_position),
      dropout(dropout),
      batch_first(batch_first) {
  head_dim = detail::checked_head_dim(embed_dim, num_heads, kOp);
  MINIDL_CHECK(max_relative_position >= 0, kOp,
               "max_relative_position must be >= 0, got " << max_relative_position);
  MINIDL_CHECK(dropout >= 0.0 && dropout <= 1.0, kOp,
               "dropout probability has to be between 0 and 1, but got " << dropout);
  const int64_t buckets = 2 * max_relative_position + 1;
  detail::register_in_proj(*this, embed_dim, bias, in_proj_weight, in_proj_bias);
  relative_key = register_parameter("relative_key", empty({buckets, head_dim}));
  relative_value = register_parameter("relative_value", empty({buckets, head_dim}));
  out_proj = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, bias));
  reset_parameters();
}

void RelativeMultiheadAttention::reset_parameters() {
  detail::reset_in_proj(in_proj_weight, in_proj_bias);
  init::xavier_uniform_(relative_key);
  init::xavier_uniform_(relative_value);
  out_proj->reset_parameters();
  if (out_proj->bias.defined()) init::zeros_(out_proj->bias);
}

AttentionOutput RelativeMultiheadAttention::forward(const Tensor& x, const Tensor& key_padding_mask,
                                                    const Tensor& attn_mask, bool is_causal,
                                                    bool need_weights, bool average_attn_weights) {
  MINIDL_CHECK(x.defined(), kOp, "input is undefined");
  MINIDL_CHECK(x.dim() == 3 && x.size(2) == embed_dim, kOp,
               "expected input " << (batch_first ? "[B, T, E]" : "[T, B, E]")
                                 << " with E = embed_dim = " << embed_dim << ", got shape "
                                 << shape_str(x.shape()));
  MINIDL_CHECK(
      x.dtype() == in_proj_weight.dtype(), kOp,
      "input dtype " << x.dtype() << " does not match the parameters' " << in_proj_weight.dtype());
  const int64_t B = x.size(batch_first ? 0 : 1), T = x.size(batch_first ? 1 : 0);
  const int64_t H = num_heads, d = head_dim;
  const int64_t k = max_relative_position;
  MINIDL_CHECK(T > 0, kOp, "the sequence is empty (input shape " << shape_str(x.shape()) << ")");
  check_key_padding_mask(key_padding_mask, B, T, kOp);
  Tensor bool_attn_mask, additive_mask;
  if (attn_mask.defined()) {
    const bool shape_ok =
        attn_mask.shape() == Shape({T, T}) || attn_mask.shape() == Shape({B * H, T, T});
    MINIDL_CHECK(shape_ok, kOp,
                 "attn_mask has shape " << shape_str(attn_mask.shape()) << ", expected [" << T
                                        << ", " << T << "] or [" << B * H << ", " << T << ", " << T
                                        << "] (batch * num_heads, T, T)");
    MINIDL_CHECK(
        attn_mask.dtype() == kBool || attn_mask.is_floating_point(), kOp,
        "attn_mask must be bool (true = excluded) or floating (added), got " << attn_mask.dtype());
    if (attn_mask.dtype() == kBool)
      bool_attn_mask = attn_mask;
    else
      additive_mask =
          (attn_mask.dim() == 3 ? attn_mask.reshape({B, H, T, T}) : attn_mask).to(x.dtype());
  }
  const Tensor mask = combined_mask(key_padding_mask, bool_attn_mask, is_causal, B, H, T);

  // q, k, v [B, H, T, d]: strided views of one projection, which BLAS reads in place.
  const auto [queries, keys, values] =
      detail::project_packed_qkv(x, in_proj_weight, in_proj_bias, H, batch_first);
  const Tensor q = queries * (1.0 / std::sqrt(static_cast<double>(d)));

  // e = q kᵀ + gather(q relative_keyᵀ)   [B, H, T, T]   (q already scaled by 1 / sqrt(d))
  Tensor scores = relative_position_gather_add(matmul(q, keys.transpose(-1, -2)),
                                               matmul(q, relative_key.t()), k);
  if (additive_mask.defined()) scores = scores + additive_mask;
  Tensor weights = masked_softmax(scores, mask, -1);
  if (dropout > 0.0 && is_training()) weights = minidl::dropout(weights, dropout, true);
  // z = α v + bucket(α) relative_value   [B, H, T, d]
  const Tensor z =
      matmul(weights, values) + matmul(relative_position_bucket(weights, k), relative_value);
  Tensor out = (*out_proj)(detail::merge_heads(z, batch_first));

  AttentionOutput result;
  result.output = out;
  if (need_weights) result.weights = detail::returned_weights(weights, average_attn_weights, true);
  return result;
}

Tensor RelativeMultiheadAttention::forward(const Tensor& x) {
  return forward(x, Tensor(), Tensor(), false, false).output;
}

std::string RelativeMultiheadAttention::extra_repr() const {
  std::ostringstream os;
  os << "embed_dim=" << embed_dim << ", num_heads=" << num_heads
     << ", max_relative_position=" << max_relative_position << ", dropout=" << python_float(dropout)
     << ", bias=" << (in_proj_bias.defined() ? "True" : "False")
     << ", batch_first=" << (batch_first ? "True" : "False");
  return os.str();
}

}  // namespace minidl::nn
