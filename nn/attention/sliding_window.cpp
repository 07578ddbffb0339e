// Multi-head sliding-window self-attention:
//   out = concat_h( band_softmax(q_h k_hᵀ / sqrt(head_dim)) v_h ) W_outᵀ + b_out
// with the band |i - j| <= window (j <= i when causal); the heads run in the fused O(T * window)
// kernel of ops/sliding_window_attention.h. Longformer (Beltagy et al. 2020), local attention.
#include "nn/attention/sliding_window.h"

#include <sstream>

#include "nn/attention/projection.h"
#include "nn/init.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduction.h"
#include "ops/sliding_window_attention.h"

namespace minidl::nn {

namespace {
const char* kModule = "SlidingWindowAttention";
}

SlidingWindowAttention::SlidingWindowAttention(int64_t embed_dim, int64_t num_heads, int64_t window,
                                               bool causal, double dropout, bool bias,
                                               bool batch_first)
    : Module(kModule),
      embed_dim(embed_dim),
      num_heads(num_heads),
      head_dim(0),
      window(window),
      causal(causal),
      dropout(dropout),
      batch_first(batch_first) {
  head_dim = detail::checked_head_dim(embed_dim, num_heads, kModule);
  MINIDL_CHECK(window >= 0, kModule, "window must be >= 0, got " << window);
  MINIDL_CHECK(dropout >= 0 && dropout <= 1, kModule, "dropout must be in [0, 1], got " << dropout);
  detail::register_in_proj(*this, embed_dim, bias, in_proj_weight, in_proj_bias);
  out_proj = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, bias));
  reset_parameters();
}

void SlidingWindowAttention::reset_parameters() {
  detail::reset_in_proj(in_proj_weight, in_proj_bias);
  if (out_proj->bias.defined()) init::zeros_(out_proj->bias);
}

AttentionOutput SlidingWindowAttention::forward(const Tensor& x, const Tensor& key_padding_mask,
                                                bool need_weights, bool average_attn_weights) {
  MINIDL_CHECK(x.defined() && (x.dim() == 2 || x.dim() == 3) && x.size(-1) == embed_dim, kModule,
               "expected input [B, T, " << embed_dim << "] (batch_first), [T, B, " << embed_dim
                                        << "] or [T, " << embed_dim << "], got "
                                        << (x.defined() ? shape_str(x.shape()) : "undefined"));
  MINIDL_CHECK(
      x.dtype() == in_proj_weight.dtype(), kModule,
      "input dtype " << x.dtype() << " does not match the parameters' " << in_proj_weight.dtype());
  const bool batched = x.dim() == 3;
  const Tensor xb = detail::with_batch(x, batched, batch_first);  // [B, T, E] or [T, B, E]
  const int64_t B = xb.size(batch_first ? 0 : 1), T = xb.size(batch_first ? 1 : 0);
  Tensor mask = key_padding_mask;
  if (mask.defined()) {
    MINIDL_CHECK(batched || mask.dim() == 1, kModule,
                 "key_padding_mask of an unbatched input must be [T] = ["
                     << T << "], got " << shape_str(mask.shape()));
    if (!batched) mask = mask.unsqueeze(0);
    check_key_padding_mask(mask, B, T, kModule);
  }
  const auto [q, k, v] =  // [B, H, T, head_dim] each
      detail::project_packed_qkv(xb, in_proj_weight, in_proj_bias, num_heads, batch_first);
  SlidingWindowResult heads =
      sliding_window_attention(q, k, v, window, causal ? 0 : window, mask, std::nullopt,
                               need_weights, is_training() ? dropout : 0.0);
  Tensor out = (*out_proj)(detail::merge_heads(heads.output, batch_first));
  AttentionOutput result;
  result.output = batched ? out : out.squeeze(batch_first ? 0 : 1);
  if (need_weights)  // [B, H, T, W]
    result.weights = detail::returned_weights(heads.weights, average_attn_weights, batched);
  return result;
}

std::string SlidingWindowAttention::extra_repr() const {
  std::ostringstream os;
  os << "embed_dim=" << embed_dim << ", num_heads=" << num_heads << ", window=" << window
     << ", causal=" << (causal ? "True" : "False") << ", dropout=" << dropout
     << ", batch_first=" << (batch_first ? "True" : "False");
  return os.str();
}

}  // namespace minidl::nn
