// Multi-head attention (torch.nn.MultiheadAttention):
//
//   out = Concat_h(softmax(q_h k_hᵀ / sqrt(head_dim) + mask) v_h) W_Oᵀ + b_O
//   q = query W_Qᵀ + b_Q,  k = key W_Kᵀ + b_K,  v = value W_Vᵀ + b_V  (split into H heads)
//
// Layout: the projections run on the inputs as they are laid out ([L, B, E] or [B, L, E]), so
// each is one GEMM on contiguous rows; the heads [B, H, T, head_dim] are strided views of the
// projected tensors, and only the merged attention output is copied (to [.., .., E]) before
// out_proj. Vaswani et al. 2017, section 3.2.2; PyTorch 1.13's F.multi_head_attention_forward.
#include "nn/attention/multihead.h"

#include <limits>
#include <tuple>

#include "core/autograd.h"
#include "core/factories.h"
#include "nn/attention/projection.h"
#include "nn/init.h"
#include "ops/attention.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduction.h"
#include "ops/shape_ops.h"

namespace minidl::nn {

namespace {

constexpr const char* kOp = "MultiheadAttention";

}  // namespace

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t num_heads, double dropout,
                                       bool bias, bool add_bias_kv, bool add_zero_attn,
                                       int64_t kdim, int64_t vdim, bool batch_first)
    : MultiheadAttention(MultiheadAttentionOptions(embed_dim, num_heads)
                             .dropout(dropout)
                             .bias(bias)
                             .add_bias_kv(add_bias_kv)
                             .add_zero_attn(add_zero_attn)
                             .kdim(kdim)
                             .vdim(vdim)
                             .batch_first(batch_first)) {}

MultiheadAttention::MultiheadAttention(const MultiheadAttentionOptions& opts)
    : Module(kOp),
      options(opts),
      embed_dim(opts.embed_dim()),
      num_heads(opts.num_heads()),
      head_dim(0),
      kdim(opts.kdim() == 0 ? opts.embed_dim() : opts.kdim()),
      vdim(opts.vdim() == 0 ? opts.embed_dim() : opts.vdim()),
      batch_first(opts.batch_first()),
      dropout(opts.dropout()) {
  head_dim = detail::checked_head_dim(embed_dim, num_heads, kOp);
  MINIDL_CHECK(opts.kdim() >= 0 && opts.vdim() >= 0, kOp,
               "kdim and vdim must be positive (or 0 for embed_dim), got kdim="
                   << opts.kdim() << ", vdim=" << opts.vdim());
  options.kdim(kdim).vdim(vdim);  // 0 stood for embed_dim
  MINIDL_CHECK(dropout >= 0.0 && dropout <= 1.0, kOp,
               "dropout probability has to be between 0 and 1, but got " << dropout);
  qkv_same_embed_dim = kdim == embed_dim && vdim == embed_dim;
  const int64_t E = embed_dim;
  if (qkv_same_embed_dim) {
    detail::register_in_proj(*this, E, opts.bias(), in_proj_weight, in_proj_bias);
  } else {
    q_proj_weight = register_parameter("q_proj_weight", empty({E, E}));
    k_proj_weight = register_parameter("k_proj_weight", empty({E, kdim}));
    v_proj_weight = register_parameter("v_proj_weight", empty({E, vdim}));
    in_proj_bias = register_parameter("in_proj_bias", opts.bias() ? empty({3 * E}) : Tensor());
  }
  if (opts.add_bias_kv()) {
    bias_k = register_parameter("bias_k", empty({1, 1, E}));
    bias_v = register_parameter("bias_v", empty({1, 1, E}));
  }
  out_proj = register_module("out_proj", std::make_shared<Linear>(E, E, opts.bias()));
  reset_parameters();
}

void MultiheadAttention::reset_parameters() {
  if (qkv_same_embed_dim) {
    detail::reset_in_proj(in_proj_weight, in_proj_bias);
  } else {
    init::xavier_uniform_(q_proj_weight);
    init::xavier_uniform_(k_proj_weight);
    init::xavier_uniform_(v_proj_weight);
    if (in_proj_bias.defined()) init::zeros_(in_proj_bias);
  }
  if (out_proj->bias.defined()) init::zeros_(out_proj->bias);
  if (bias_k.defined()) init::xavier_normal_(bias_k);
  if (bias_v.defined()) init::xavier_normal_(bias_v);
}

std::tuple<Tensor, Tensor> MultiheadAttention::forward(const Tensor& query, const Tensor& key,
                                                       const Tensor& value,
                                                       const Tensor& key_padding_mask,
                                                       bool need_weights, const Tensor& attn_mask,
                                                       bool average_attn_weights, bool is_causal) {
  MINIDL_CHECK(query.defined() && key.defined() && value.defined(), kOp,
               "query, key and value must all be defined");
  const int64_t rank = query.dim();
  MINIDL_CHECK(rank == 3 || rank == 2, kOp,
               "expected query of rank 3 (" << (batch_first ? "[B, L, E]" : "[L, B, E]")
                                            << ") or 2 (unbatched [L, E]), got shape "
                                            << shape_str(query.shape()));
  MINIDL_CHECK(key.dim() == rank && value.dim() == rank, kOp,
               "query, key and value must have the same rank, got query "
                   << shape_str(query.shape()) << ", key " << shape_str(key.shape()) << ", value "
                   << shape_str(value.shape()));
  const DType dtype = out_proj->weight.dtype();
  MINIDL_CHECK(query.dtype() == dtype && key.dtype() == dtype && value.dtype() == dtype, kOp,
               "query, key and value must have the module's dtype "
                   << dtype << ", got " << query.dtype() << ", " << key.dtype() << ", "
                   << value.dtype() << " (convert the inputs, or the module with to())");
  MINIDL_CHECK(query.shape().back() == embed_dim, kOp,
               "expected query with last dimension embed_dim=" << embed_dim << ", got shape "
                                                               << shape_str(query.shape()));
  MINIDL_CHECK(
      key.shape().back() == kdim, kOp,
      "expected key with last dimension kdim=" << kdim << ", got shape " << shape_str(key.shape()));
  MINIDL_CHECK(value.shape().back() == vdim, kOp,
               "expected value with last dimension vdim=" << vdim << ", got shape "
                                                          << shape_str(value.shape()));
  const bool self_attention = query.is_same(key) && key.is_same(value);
  const bool shared_kv = key.is_same(value);
  const bool batched = rank == 3;
  // Unbatched inputs get a batch of one where the layout puts the batch.
  const int64_t batch_dim = batch_first ? 0 : 1, time_dim = 1 - batch_dim;
  const Tensor q_in = detail::with_batch(query, batched, batch_first);
  const Tensor k_in = detail::with_batch(key, batched, batch_first);
  const Tensor v_in = detail::with_batch(value, batched, batch_first);
  const int64_t B = q_in.size(batch_dim), L = q_in.size(time_dim), S = k_in.size(time_dim);
  MINIDL_CHECK(k_in.size(batch_dim) == B && v_in.size(batch_dim) == B, kOp,
               "query, key and value must have the same batch size, got query "
                   << shape_str(query.shape()) << ", key " << shape_str(key.shape()) << ", value "
                   << shape_str(value.shape()) << (batch_first ? " (batch_first)" : ""));
  MINIDL_CHECK(v_in.size(time_dim) == S, kOp,
               "key and value must have the same sequence length, got key "
                   << shape_str(key.shape()) << ", value " << shape_str(value.shape()));

  // ---- the projections: one GEMM per distinct input tensor
  const int64_t E = embed_dim;
  auto bias_rows = [&](int64_t first, int64_t count) {
    return in_proj_bias.defined() ? in_proj_bias.narrow(0, first * E, count * E) : Tensor();
  };
  Tensor q, k, v;  // [B, H, T, head_dim] views
  // projected [X, Y, n E] -> the i-th of its n projections' heads
  auto heads = [&](const Tensor& projected, int64_t n, int64_t i) {
    return detail::split_heads(projected, n, i, num_heads, batch_first);
  };
  if (qkv_same_embed_dim && self_attention) {
    std::tie(q, k, v) =
        detail::project_packed_qkv(q_in, in_proj_weight, in_proj_bias, num_heads, batch_first);
  } else if (qkv_same_embed_dim && shared_kv) {
    q = heads(linear(q_in, in_proj_weight.narrow(0, 0, E), bias_rows(0, 1)), 1, 0);
    Tensor kv = linear(k_in, in_proj_weight.narrow(0, E, 2 * E), bias_rows(1, 2));  // [.., 2E]
    k = heads(kv, 2, 0);
    v = heads(kv, 2, 1);
  } else {
    const Tensor w_q = qkv_same_embed_dim ? in_proj_weight.narrow(0, 0, E) : q_proj_weight;
    const Tensor w_k = qkv_same_embed_dim ? in_proj_weight.narrow(0, E, E) : k_proj_weight;
    const Tensor w_v = qkv_same_embed_dim ? in_proj_weight.narrow(0, 2 * E, E) : v_proj_weight;
    q = heads(linear(q_in, w_q, bias_rows(0, 1)), 1, 0);
    k = heads(linear(k_in, w_k, bias_rows(1, 1)), 1, 0);
    v = heads(linear(v_in, w_v, bias_rows(2, 1)), 1, 0);
  }

  // ---- the appended keys/values: bias_k/bias_v, then a zero one
  int64_t appended = 0;
  const Shape one_key{B, num_heads, 1, head_dim};
  if (bias_k.defined()) {
    k = cat({k, bias_k.view({1, num_heads, 1, head_dim}).expand(one_key)}, 2);
    v = cat({v, bias_v.view({1, num_heads, 1, head_dim}).expand(one_key)}, 2);
    ++appended;
  }
  if (options.add_zero_attn()) {
    k = cat({k, zeros(one_key, dtype)}, 2);
    v = cat({v, zeros(one_key, dtype)}, 2);
    ++appended;
  }

  // ---- masks, converted to the SDPA conventions (bool there = attend)
  SdpaOptions sdpa;
  sdpa.need_weights = need_weights;
  sdpa.is_causal = is_causal;
  sdpa.dropout_p = is_training() ? dropout : 0.0;
  if (attn_mask.defined()) {
    MINIDL_CHECK(attn_mask.dtype() == kBool || attn_mask.is_floating_point(), kOp,
                 "attn_mask must be bool (true = not allowed) or floating (added), got "
                     << attn_mask.dtype() << " of shape " << shape_str(attn_mask.shape()));
    Tensor mask;
    if (attn_mask.dim() == 2) {
      MINIDL_CHECK(attn_mask.shape() == Shape({L, S}), kOp,
                   "the 2-D attn_mask has shape " << shape_str(attn_mask.shape()) << ", expected ["
                                                  << L << ", " << S << "]");
      mask = attn_mask;
    } else {
      MINIDL_CHECK(attn_mask.dim() == 3 && attn_mask.shape() == Shape({B * num_heads, L, S}), kOp,
                   "attn_mask has shape " << shape_str(attn_mask.shape()) << ", expected [" << L
                                          << ", " << S << "] or [" << B * num_heads << ", " << L
                                          << ", " << S << "] (batch * num_heads, L, S)");
      mask = attn_mask.reshape({B, num_heads, L, S});
    }
    sdpa.attn_mask = mask.dtype() == kBool ? logical_not(mask) : mask.to(dtype);
  }
  if (key_padding_mask.defined()) {
    const Shape expected = batched ? Shape{B, S} : Shape{S};
    MINIDL_CHECK(key_padding_mask.dtype() == kBool || key_padding_mask.is_floating_point(), kOp,
                 "key_padding_mask must be bool (true = padded) or floating (added), got "
                     << key_padding_mask.dtype() << " of shape "
                     << shape_str(key_padding_mask.shape()));
    MINIDL_CHECK(key_padding_mask.shape() == expected, kOp,
                 "key_padding_mask has shape " << shape_str(key_padding_mask.shape())
                                               << ", expected " << shape_str(expected)
                                               << (batched ? " (batch, S)" : " (S)"));
    const Tensor padding = key_padding_mask.reshape({B, S});
    if (padding.dtype() == kBool) {
      sdpa.key_padding_mask = padding;
    } else {
      // An additive padding mask joins attn_mask (made additive too).
      const Tensor added = padding.to(dtype).reshape({B, 1, 1, S});
      if (!sdpa.attn_mask.defined())
        sdpa.attn_mask = added;
      else if (sdpa.attn_mask.dtype() == kBool)
        sdpa.attn_mask =
            masked_fill(zeros(sdpa.attn_mask.shape(), dtype), logical_not(sdpa.attn_mask),
                        -std::numeric_limits<double>::infinity()) +
            added;
      else
        sdpa.attn_mask = sdpa.attn_mask + added;
    }
  }

  if (appended > 0) {  // the appended keys take part everywhere
    auto extend = [&](const Tensor& mask, double value) {
      Shape extra = mask.shape();
      extra.back() = appended;
      return cat({mask, full(extra, value, mask.dtype())}, -1);
    };
    if (sdpa.attn_mask.defined())
      sdpa.attn_mask = extend(sdpa.attn_mask, sdpa.attn_mask.dtype() == kBool ? 1.0 : 0.0);
    if (sdpa.key_padding_mask.defined()) sdpa.key_padding_mask = extend(sdpa.key_padding_mask, 0.0);
  }

  // ---- attention, merge the heads, output projection
  SdpaResult attended = scaled_dot_product_attention(q, k, v, sdpa);  // [B, H, L, head_dim]
  Tensor output = (*out_proj)(detail::merge_heads(attended.output, batch_first));
  if (!batched) output = output.squeeze(batch_dim);
  Tensor weights;  // [B, H, L, S]
  if (need_weights)
    weights = detail::returned_weights(attended.weights, average_attn_weights, batched);
  return {output, weights};
}

}  // namespace minidl::nn
