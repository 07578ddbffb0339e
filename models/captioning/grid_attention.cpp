// The two attention strategies of the captioning decoder (models/captioning/grid_attention.h).
#include "models/captioning/grid_attention.h"

#include "core/error.h"
#include "ops/linalg.h"
#include "ops/softmax.h"

namespace minidl::models {

GridAttention::GridAttention(const std::string& type_name, int64_t hidden_size, int64_t feature_dim,
                             int64_t units)
    : nn::Module(type_name), hidden_size(hidden_size), feature_dim(feature_dim), units(units) {
  MINIDL_CHECK(hidden_size > 0 && feature_dim > 0 && units > 0, type_name,
               "sizes must be positive, got hidden_size " << hidden_size << ", feature_dim "
                                                          << feature_dim << ", units " << units);
}

std::string GridAttention::extra_repr() const {
  return "hidden_size=" + std::to_string(hidden_size) +
         ", feature_dim=" + std::to_string(feature_dim) + ", units=" + std::to_string(units);
}

void GridAttention::check(const Tensor& features, const Tensor& h, const Tensor& keys) const {
  const std::string& who = type_name();
  MINIDL_CHECK(features.defined() && features.dim() == 3 && features.size(2) == feature_dim &&
                   features.size(1) > 0,
               who,
               "expected features [B, G, "
                   << feature_dim << "], got "
                   << (features.defined() ? shape_str(features.shape()) : "undefined"));
  const int64_t batch = features.size(0), cells = features.size(1);
  if (h.defined())
    MINIDL_CHECK(h.dim() == 2 && h.size(0) == batch && h.size(1) == hidden_size, who,
                 "expected the decoder state [" << batch << ", " << hidden_size << "], got "
                                                << shape_str(h.shape()));
  if (keys.defined())
    MINIDL_CHECK(keys.shape() == Shape({batch, cells, units}), who,
                 "expected keys [" << batch << ", " << cells << ", " << units
                                   << "] from prepare_keys, got " << shape_str(keys.shape()));
}

AdditiveGridAttention::AdditiveGridAttention(int64_t hidden_size, int64_t feature_dim,
                                             int64_t units)
    : GridAttention("AdditiveGridAttention", hidden_size, feature_dim, units) {
  additive = register_module(
      "additive", std::make_shared<nn::BahdanauAttention>(units, hidden_size, feature_dim));
}

Tensor AdditiveGridAttention::prepare_keys(const Tensor& features) {
  check(features);
  return additive->precompute_keys(features);  // W2 f: [B, G, A]
}

nn::AttentionOutput AdditiveGridAttention::attend(const Tensor& h, const Tensor& keys,
                                                  const Tensor& features) {
  check(features, h, keys);
  return additive->forward_precomputed(h, keys, features);  // [B, D], [B, G]
}

TanhDotGridAttention::TanhDotGridAttention(int64_t hidden_size, int64_t feature_dim, int64_t units)
    : GridAttention("TanhDotGridAttention", hidden_size, feature_dim, units) {
  query = register_module("query", std::make_shared<nn::Linear>(hidden_size, units));
  key = register_module("key", std::make_shared<nn::Linear>(feature_dim, units));
}

Tensor TanhDotGridAttention::prepare_keys(const Tensor& features) {
  check(features);
  return (*key)(features);  // W_k f + b_k: [B, G, A]
}

nn::AttentionOutput TanhDotGridAttention::attend(const Tensor& h, const Tensor& keys,
                                                 const Tensor& features) {
  check(features, h, keys);
  Tensor q = (*query)(h).tanh();                         // [B, A]
  Tensor scores = bmm(keys, q.unsqueeze(2)).squeeze(2);  // [B, G, A] @ [B, A, 1] -> [B, G]
  Tensor weights = softmax(scores, 1);                   // [B, G]
  Tensor context = bmm(weights.unsqueeze(1), features).squeeze(1);  // [B, 1, G] @ [B, G, D]
  return {context, weights};
}

std::shared_ptr<GridAttention> make_grid_attention(const std::string& kind, int64_t hidden_size,
                                                   int64_t feature_dim, int64_t units) {
  if (kind == "additive")
    return std::make_shared<AdditiveGridAttention>(hidden_size, feature_dim, units);
  if (kind == "tanh-dot")
    return std::make_shared<TanhDotGridAttention>(hidden_size, feature_dim, units);
  MINIDL_FAIL("make_grid_attention",
              "unknown attention \"" << kind << "\" (expected additive or tanh-dot)");
}

}  // namespace minidl::models
