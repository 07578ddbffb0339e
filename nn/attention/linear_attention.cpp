// Multi-head linear attention: out = concat_h( phi(q_h) (phi(k_h)ᵀ v_h) / (phi(q_h) sum_j
// phi(k_h,j) + eps) ) W_outᵀ + b_out, phi = elu + 1 (Katharopoulos et al. 2020); the heads run
// in ops/linear_attention.h (GEMMs, or the causal running-state kernel).
#include "nn/attention/linear_attention.h"

#include <sstream>

#include "nn/attention/projection.h"
#include "ops/elementwise.h"
#include "ops/linear_attention.h"
#include "ops/reduction.h"

namespace minidl::nn {

namespace {
const char* kModule = "LinearAttention";
}

LinearAttention::LinearAttention(int64_t embed_dim, int64_t num_heads, bool causal, bool bias,
                                 bool batch_first)
    : Module(kModule),
      embed_dim(embed_dim),
      num_heads(num_heads),
      head_dim(0),
      causal(causal),
      batch_first(batch_first) {
  head_dim = detail::checked_head_dim(embed_dim, num_heads, kModule);
  q_proj = register_module("q_proj", std::make_shared<Linear>(embed_dim, embed_dim, bias));
  k_proj = register_module("k_proj", std::make_shared<Linear>(embed_dim, embed_dim, bias));
  v_proj = register_module("v_proj", std::make_shared<Linear>(embed_dim, embed_dim, bias));
  out_proj = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, bias));
}

AttentionOutput LinearAttention::forward(const Tensor& query, const Tensor& key,
                                         const Tensor& value, const Tensor& key_padding_mask,
                                         bool need_weights, bool average_attn_weights) {
  for (const Tensor* t : {&query, &key, &value})
    MINIDL_CHECK(t->defined() && (t->dim() == 2 || t->dim() == 3) && t->size(-1) == embed_dim &&
                     t->dim() == query.dim(),
                 kModule,
                 "expected query, key and value [B, T, "
                     << embed_dim << "] (batch_first), [T, B, " << embed_dim << "] or [T, "
                     << embed_dim << "], got "
                     << (t->defined() ? shape_str(t->shape()) : "undefined"));
  MINIDL_CHECK(query.dtype() == q_proj->weight.dtype(), kModule,
               "input dtype " << query.dtype() << " does not match the parameters' "
                              << q_proj->weight.dtype());
  const bool batched = query.dim() == 3;
  const int64_t batch_dim = batch_first ? 0 : 1, time_dim = 1 - batch_dim;
  const Tensor qb = detail::with_batch(query, batched, batch_first);  // [B, T, E] or [T, B, E]
  const Tensor kb = detail::with_batch(key, batched, batch_first);
  const Tensor vb = detail::with_batch(value, batched, batch_first);
  const int64_t B = qb.size(batch_dim), T = qb.size(time_dim), S = kb.size(time_dim);
  MINIDL_CHECK(kb.size(batch_dim) == B && vb.size(batch_dim) == B && vb.size(time_dim) == S,
               kModule,
               "query " << shape_str(query.shape()) << ", key " << shape_str(key.shape())
                        << " and value " << shape_str(value.shape())
                        << " must agree on the batch size, key and value on the length");
  MINIDL_CHECK(!causal || T == S, kModule,
               "causal attention needs as many queries as keys, got query "
                   << shape_str(query.shape()) << " and key " << shape_str(key.shape()));
  Tensor mask = key_padding_mask;
  if (mask.defined()) {
    MINIDL_CHECK(batched || mask.dim() == 1, kModule,
                 "key_padding_mask of unbatched inputs must be [S] = [" << S << "], got "
                                                                        << shape_str(mask.shape()));
    if (!batched) mask = mask.unsqueeze(0);
    check_key_padding_mask(mask, B, S, kModule);
  }
  auto heads = [&](const Tensor& projected) {  // -> [B, H, L, head_dim]
    return detail::split_heads(projected, 1, 0, num_heads, batch_first);
  };
  const Tensor q = heads((*q_proj)(qb)), k = heads((*k_proj)(kb)), v = heads((*v_proj)(vb));
  const Tensor attended = linear_attention(q, k, v, causal, mask, eps);  // [B, H, T, head_dim]
  const Tensor out = (*out_proj)(detail::merge_heads(attended, batch_first));
  AttentionOutput result;
  result.output = batched ? out : out.squeeze(batch_dim);
  if (need_weights)  // [B, H, T, S]
    result.weights = detail::returned_weights(linear_attention_weights(q, k, causal, mask, eps),
                                              average_attn_weights, batched);
  return result;
}

std::string LinearAttention::extra_repr() const {
  std::ostringstream os;
  os << "embed_dim=" << embed_dim << ", num_heads=" << num_heads
     << ", causal=" << (causal ? "True" : "False")
     << ", batch_first=" << (batch_first ? "True" : "False");
  return os.str();
}

}  // namespace minidl::nn
