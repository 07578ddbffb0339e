// Bahdanau attention (Keras tutorial): score = V(tanh(W1 q + W2 k)), softmax over source time,
// context = Σ weights · values (formulas and shapes in bahdanau.h).
#include "nn/attention/bahdanau.h"

#include "core/error.h"
#include "nn/attention/scoring.h"

namespace minidl::nn {

BahdanauAttention::BahdanauAttention(int64_t units, int64_t query_dim, int64_t key_dim)
    : Module("BahdanauAttention"), units(units), query_dim(query_dim), key_dim(key_dim) {
  MINIDL_CHECK(units > 0 && query_dim > 0 && key_dim > 0, "BahdanauAttention",
               "units, query_dim and key_dim must be positive, got " << units << ", " << query_dim
                                                                     << " and " << key_dim);
  W1 = register_module("W1", std::make_shared<Linear>(query_dim, units));
  W2 = register_module("W2", std::make_shared<Linear>(key_dim, units));
  V = register_module("V", std::make_shared<Linear>(units, 1));
}

Tensor BahdanauAttention::precompute_keys(const Tensor& keys) {
  MINIDL_CHECK(keys.defined() && keys.dim() == 3 && keys.size(-1) == key_dim, "BahdanauAttention",
               "keys must be [B, Tk, " << key_dim << "], got "
                                       << (keys.defined() ? shape_str(keys.shape()) : "undefined"));
  return (*W2)(keys);
}

AttentionOutput BahdanauAttention::forward_precomputed(const Tensor& query,
                                                       const Tensor& projected_keys,
                                                       const Tensor& values,
                                                       const Tensor& key_padding_mask) {
  MINIDL_CHECK(values.defined(), "BahdanauAttention",
               "forward_precomputed needs the values (the keys of precompute_keys)");
  classic_detail::AttentionInputs in = classic_detail::check_attention_inputs(
      "BahdanauAttention", query, projected_keys, values, key_padding_mask, query_dim, units,
      /*allow_single_query=*/true);
  Tensor scores = classic_detail::additive_scores((*W1)(in.query), in.keys, V->weight, V->bias);
  return classic_detail::attend(scores, in.values, in.key_padding_mask, in.single_query);
}

AttentionOutput BahdanauAttention::forward(const Tensor& query, const Tensor& keys,
                                           const Tensor& values, const Tensor& key_padding_mask) {
  // check before projecting, so errors name the keys as given
  classic_detail::check_attention_inputs("BahdanauAttention", query, keys, values, key_padding_mask,
                                         query_dim, key_dim, /*allow_single_query=*/true);
  return forward_precomputed(query, (*W2)(keys), values.defined() ? values : keys,
                             key_padding_mask);
}

std::string BahdanauAttention::extra_repr() const {
  return "units=" + std::to_string(units) + ", query_dim=" + std::to_string(query_dim) +
         ", key_dim=" + std::to_string(key_dim);
}

}  // namespace minidl::nn
