// Multi-head linear attention: out = concat_h( phi(q_h) (phi(k_h)ᵀ v_h) / (phi(q_h) sum_j
// phi(k_h,j) + eps) ) W_outᵀ + b_out, phi = elu + 1 (Katharopoulos et al. 2020); the heads run
// in ops/linear_attention.h (GEMMs, or the causal running-state kernel).
#include "nn/attention/linear_attention.h"

#include <sstream>

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
  MINIDL_CHECK(embed_dim > 0 && num_heads > 0, kModule,
               "embed_dim and num_heads must be positive, got embed_dim="
                   << embed_dim << ", num_heads=" << num_heads);
  MINIDL_CHECK(embed_dim % num_heads == 0, kModule,
               "embed_dim " << embed_dim << " must be divisible by num_heads " << num_heads);
  head_dim = embed_dim / num_heads;
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
  auto to_bf = [&](const Tensor& t) {
    return !batched ? t.unsqueeze(0) : batch_first ? t : t.transpose(0, 1);
  };
  Tensor qb = to_bf(query), kb = to_bf(key), vb = to_bf(value);
  const int64_t B = qb.size(0), T = qb.size(1), S = kb.size(1);
  MINIDL_CHECK(kb.size(0) == B && vb.size(0) == B && vb.size(1) == S, kModule,
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
  // [B, L, E] -> [B, H, L, head_dim]
  auto split = [&](const Tensor& t, int64_t length) {
    return t.view({B, length, num_heads, head_dim}).transpose(1, 2);
  };
  Tensor q = split((*q_proj)(qb), T), k = split((*k_proj)(kb), S), v = split((*v_proj)(vb), S);
  Tensor heads = linear_attention(q, k, v, causal, mask, eps);  // [B, H, T, head_dim]
  Tensor out = (*out_proj)(heads.transpose(1, 2).reshape({B, T, embed_dim}));
  if (!batched) {
    out = out.squeeze(0);
  } else if (!batch_first) {
    out = out.transpose(0, 1);
  }
  AttentionOutput result;
  result.output = out;
  if (need_weights) {
    Tensor w = linear_attention_weights(q, k, causal, mask, eps);  // [B, H, T, S]
    if (average_attn_weights) w = w.mean({1});
    result.weights = batched ? w : w.squeeze(0);
  }
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
