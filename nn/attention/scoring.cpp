// Shared pieces of the classic attention modules: input checks, additive score vᵀ tanh(qp + kp),
// masked softmax + weighted sum (formulas in scoring.h).
#include "nn/attention/scoring.h"

#include "core/error.h"
#include "core/factories.h"
#include "ops/additive_attention.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/softmax.h"

namespace minidl::nn::classic_detail {

AttentionInputs check_attention_inputs(const char* op, const Tensor& query, const Tensor& keys,
                                       const Tensor& values, const Tensor& key_padding_mask,
                                       int64_t query_dim, int64_t key_dim,
                                       bool allow_single_query) {
  MINIDL_CHECK(query.defined() && keys.defined(), op, "query and keys must be defined");
  const bool single = allow_single_query && query.dim() == 2;
  MINIDL_CHECK(query.dim() == 3 || single, op,
               "query must be " << (allow_single_query ? "[B, Dq] or " : "")
                                << "[B, Tq, Dq], got shape " << shape_str(query.shape()));
  MINIDL_CHECK(keys.dim() == 3, op,
               "keys must be [B, Tk, Dk], got shape " << shape_str(keys.shape()));
  Tensor v = values.defined() ? values : keys;
  MINIDL_CHECK(v.dim() == 3, op, "values must be [B, Tk, Dv], got shape " << shape_str(v.shape()));
  MINIDL_CHECK(
      query.is_floating_point() && keys.dtype() == query.dtype() && v.dtype() == query.dtype(), op,
      "query, keys and values must share one floating dtype, got "
          << query.dtype() << ", " << keys.dtype() << " and " << v.dtype());
  MINIDL_CHECK(keys.size(0) == query.size(0) && v.size(0) == query.size(0), op,
               "batch sizes differ: query " << shape_str(query.shape()) << ", keys "
                                            << shape_str(keys.shape()) << ", values "
                                            << shape_str(v.shape()));
  MINIDL_CHECK(v.size(1) == keys.size(1), op,
               "keys " << shape_str(keys.shape()) << " and values " << shape_str(v.shape())
                       << " have different lengths");
  MINIDL_CHECK(keys.size(1) > 0, op,
               "keys must hold at least one position, got shape " << shape_str(keys.shape()));
  MINIDL_CHECK(
      query_dim < 0 || query.size(-1) == query_dim, op,
      "query feature size must be " << query_dim << ", got shape " << shape_str(query.shape()));
  MINIDL_CHECK(
      key_dim < 0 || keys.size(-1) == key_dim, op,
      "keys feature size must be " << key_dim << ", got shape " << shape_str(keys.shape()));
  check_key_padding_mask(key_padding_mask, keys.size(0), keys.size(1), op);
  return {single ? query.unsqueeze(1) : query, keys, v, single,
          key_padding_mask.defined() ? key_padding_mask.unsqueeze(1) : Tensor()};
}

Tensor additive_scores(const Tensor& query_proj, const Tensor& key_proj, const Tensor& v,
                       const Tensor& v_bias) {
  // fused: no [B, Tq, Tk, U] intermediate
  Tensor scores = additive_attention_scores(query_proj, key_proj, v.dim() == 2 ? v.squeeze(0) : v);
  return v_bias.defined() ? scores + v_bias : scores;
}

Tensor mask_union(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return logical_or(a, b);
}

AttentionOutput attend(const Tensor& scores, const Tensor& values, const Tensor& exclude,
                       bool single_query) {
  Tensor weights = masked_softmax(scores, exclude, -1);
  Tensor output = matmul(weights, values);
  if (single_query) return {output.squeeze(1), weights.squeeze(1)};
  return {output, weights};
}

Tensor causal_exclude_mask(int64_t queries, int64_t keys) {
  Tensor query_index = arange(static_cast<double>(queries), kInt64).unsqueeze(1);
  Tensor key_index = arange(static_cast<double>(keys), kInt64).unsqueeze(0);
  return gt(key_index, query_index);
}

}  // namespace minidl::nn::classic_detail
