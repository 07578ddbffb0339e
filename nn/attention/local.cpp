// Luong local attention (local-m / local-p): window [p_t - D, p_t + D], local-p's Gaussian
// exp(-(s - p_t)² / (2σ²)) with σ = D / 2 (formulas and shapes in local.h).
#include "nn/attention/local.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "nn/attention/scoring.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduction.h"
#include "ops/softmax.h"

namespace minidl::nn {

LocalAttention::LocalAttention(int64_t hidden_size, int64_t window, const std::string& mode,
                               const std::string& score, bool bias)
    : LuongAttention("LocalAttention", hidden_size, score, bias), window(window), mode(mode) {
  MINIDL_CHECK(mode == "local-m" || mode == "local-p", "LocalAttention",
               "unknown mode '" << mode << "' (expected local-m or local-p)");
  MINIDL_CHECK(window >= (mode == "local-p" ? 1 : 0), "LocalAttention",
               "window D must be " << (mode == "local-p" ? "positive (sigma = D / 2)" : ">= 0")
                                   << " for " << mode << ", got " << window);
  if (mode == "local-p") {
    W_p = register_module("W_p", std::make_shared<Linear>(hidden_size, hidden_size, false));
    v_p = register_module("v_p", std::make_shared<Linear>(hidden_size, 1, false));
  }
}

LocalAttentionOutput LocalAttention::forward(const Tensor& query, const Tensor& keys,
                                             const Tensor& values, const Tensor& key_padding_mask,
                                             int64_t step) {
  const char* op = "LocalAttention";
  classic_detail::AttentionInputs in = classic_detail::check_attention_inputs(
      op, query, keys, values, key_padding_mask, hidden_size, hidden_size, true);
  MINIDL_CHECK(step >= 0, op, "step must be >= 0, got " << step);
  const int64_t batch = in.query.size(0), queries = in.query.size(1), source = in.keys.size(1);
  const DType dtype = in.query.dtype();
  Tensor source_index = arange(static_cast<double>(source), dtype);  // s = 0 .. S-1

  Tensor positions;  // p_t [B, Tq, 1]
  if (mode == "local-m") {
    positions = arange(static_cast<double>(step), static_cast<double>(step + queries), 1.0, dtype)
                    .view({1, queries, 1})
                    .expand({batch, queries, 1});
  } else {
    Tensor length = full({batch, 1, 1}, static_cast<double>(source), dtype);
    if (in.key_padding_mask.defined())
      length = logical_not(in.key_padding_mask).to(dtype).sum({-1}, /*keepdim=*/true);
    positions = length * sigmoid((*v_p)(tanh((*W_p)(in.query))));
  }
  Tensor distance = source_index - positions;  // s - p_t  [B, Tq, S]
  Tensor outside;
  {
    NoGradGuard no_grad;  // the window's edges carry no gradient
    outside = gt(abs(distance.detach()), static_cast<double>(window));
  }
  Tensor weights = masked_softmax(score(in.query, in.keys),
                                  classic_detail::mask_union(outside, in.key_padding_mask), -1);
  if (mode == "local-p") {
    const double sigma = window / 2.0;
    weights = weights * exp(distance * distance * (-1.0 / (2.0 * sigma * sigma)));
  }
  Tensor output = matmul(weights, in.values);
  positions = positions.squeeze(-1);
  if (in.single_query) return {{output.squeeze(1), weights.squeeze(1)}, positions.squeeze(1)};
  return {{output, weights}, positions};
}

std::string LocalAttention::extra_repr() const {
  return "hidden_size=" + std::to_string(hidden_size) + ", window=" + std::to_string(window) +
         ", mode=" + mode + ", score=" + method +
         ", bias=" + (attn && attn->bias.defined() ? "True" : "False");
}

}  // namespace minidl::nn
