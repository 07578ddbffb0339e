// Multi-head sliding-window self-attention:
//   out = concat_h( band_softmax(q_h k_hᵀ / sqrt(head_dim)) v_h ) W_outᵀ + b_out
// with the band |i - j| <= window (j <= i when causal); the heads run in the fused O(T * window)
// kernel of ops/sliding_window_attention.h. Longformer (Beltagy et al. 2020), local attention.
#include "nn/attention/sliding_window.h"

#include <sstream>

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
  MINIDL_CHECK(embed_dim > 0 && num_heads > 0, kModule,
               "embed_dim and num_heads must be positive, got embed_dim="
                   << embed_dim << ", num_heads=" << num_heads);
  MINIDL_CHECK(embed_dim % num_heads == 0, kModule,
               "embed_dim " << embed_dim << " must be divisible by num_heads " << num_heads);
  MINIDL_CHECK(window >= 0, kModule, "window must be >= 0, got " << window);
  MINIDL_CHECK(dropout >= 0 && dropout <= 1, kModule, "dropout must be in [0, 1], got " << dropout);
  head_dim = embed_dim / num_heads;
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * embed_dim, embed_dim}));
  in_proj_bias = register_parameter("in_proj_bias", bias ? empty({3 * embed_dim}) : Tensor());
  out_proj = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, bias));
  reset_parameters();
}

void SlidingWindowAttention::reset_parameters() {
  init::xavier_uniform_(in_proj_weight);
  if (in_proj_bias.defined()) init::zeros_(in_proj_bias);
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
  Tensor xb = !batched ? x.unsqueeze(0) : batch_first ? x : x.transpose(0, 1);  // [B, T, E]
  const int64_t B = xb.size(0), T = xb.size(1);
  Tensor mask = key_padding_mask;
  if (mask.defined()) {
    MINIDL_CHECK(batched || mask.dim() == 1, kModule,
                 "key_padding_mask of an unbatched input must be [T] = ["
                     << T << "], got " << shape_str(mask.shape()));
    if (!batched) mask = mask.unsqueeze(0);
    check_key_padding_mask(mask, B, T, kModule);
  }
  // [B, T, 3E] -> [3, B, H, T, head_dim]
  Tensor qkv = linear(xb, in_proj_weight, in_proj_bias)
                   .view({B, T, 3, num_heads, head_dim})
                   .permute({2, 0, 3, 1, 4});
  SlidingWindowResult heads = sliding_window_attention(
      qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2), window, causal ? 0 : window, mask,
      std::nullopt, need_weights, is_training() ? dropout : 0.0);
  Tensor merged = heads.output.permute({0, 2, 1, 3}).reshape({B, T, embed_dim});
  Tensor out = (*out_proj)(merged);
  if (!batched) {
    out = out.squeeze(0);
  } else if (!batch_first) {
    out = out.transpose(0, 1);
  }
  AttentionOutput result;
  result.output = out;
  if (need_weights) {
    Tensor w = heads.weights;  // [B, H, T, W]
    if (average_attn_weights) w = w.mean({1});
    result.weights = batched ? w : w.squeeze(0);
  }
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
