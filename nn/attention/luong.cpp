// Luong global attention: score = qᵀk | qᵀ(W k + b) | vᵀ tanh(W [q; k] + b), softmax, weighted sum
// (formulas and shapes in luong.h).
#include "nn/attention/luong.h"

#include <cmath>

#include "core/error.h"
#include "nn/attention/scoring.h"
#include "nn/init.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/shape_ops.h"

namespace minidl::nn {

LuongAttention::LuongAttention(int64_t hidden_size, const std::string& score, bool bias)
    : LuongAttention("LuongAttention", hidden_size, score, bias) {}

LuongAttention::LuongAttention(const std::string& type_name, int64_t hidden_size,
                               const std::string& score, bool bias)
    : Module(type_name), hidden_size(hidden_size), method(score) {
  MINIDL_CHECK(hidden_size > 0, type_name.c_str(),
               "hidden_size must be positive, got " << hidden_size);
  MINIDL_CHECK(score == "dot" || score == "general" || score == "concat", type_name.c_str(),
               "unknown score '" << score << "' (expected dot, general or concat)");
  if (score == "general")
    attn = register_module("attn", std::make_shared<Linear>(hidden_size, hidden_size, bias));
  if (score == "concat") {
    attn = register_module("attn", std::make_shared<Linear>(2 * hidden_size, hidden_size, bias));
    v = register_parameter("v", empty({hidden_size}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
    init::uniform_(v, -bound, bound);
  }
}

Tensor LuongAttention::score(const Tensor& query, const Tensor& keys) const {
  const Tensor keys_t = keys.transpose(1, 2);
  if (method == "dot") return matmul(query, keys_t);  // q kᵀ
  if (method == "general") {
    // qᵀ (W k + b) = (q W) kᵀ + q·b: project the shorter side (a decoder step has Tq = 1)
    Tensor scores = query.size(1) <= keys.size(1) ? matmul(matmul(query, attn->weight), keys_t)
                                                  : matmul(query, (*attn)(keys).transpose(1, 2));
    if (attn->bias.defined() && query.size(1) <= keys.size(1))
      scores = scores + matmul(query, attn->bias).unsqueeze(-1);
    return scores;
  }
  // concat: W [q; k] + b = W_q q + W_k k + b with W = [W_q | W_k]
  Tensor query_proj = linear(query, attn->weight.narrow(1, 0, hidden_size), attn->bias);
  Tensor key_proj = linear(keys, attn->weight.narrow(1, hidden_size, hidden_size));
  return classic_detail::additive_scores(query_proj, key_proj, v);
}

AttentionOutput LuongAttention::forward(const Tensor& query, const Tensor& keys,
                                        const Tensor& values, const Tensor& key_padding_mask) {
  classic_detail::AttentionInputs in = classic_detail::check_attention_inputs(
      type_name().c_str(), query, keys, values, key_padding_mask, hidden_size, hidden_size,
      /*allow_single_query=*/true);
  return classic_detail::attend(score(in.query, in.keys), in.values, in.key_padding_mask,
                                in.single_query);
}

std::string LuongAttention::extra_repr() const {
  return "hidden_size=" + std::to_string(hidden_size) + ", score=" + method +
         ", bias=" + (attn && attn->bias.defined() ? "True" : "False");
}

LuongAttentionalHidden::LuongAttentionalHidden(int64_t hidden_size, int64_t context_size, bool bias)
    : Module("LuongAttentionalHidden"),
      hidden_size(hidden_size),
      context_size(context_size < 0 ? hidden_size : context_size) {
  MINIDL_CHECK(hidden_size > 0 && this->context_size > 0, "LuongAttentionalHidden",
               "hidden_size and context_size must be positive, got " << hidden_size << " and "
                                                                     << context_size);
  W_c = register_module(
      "W_c", std::make_shared<Linear>(this->context_size + hidden_size, hidden_size, bias));
}

Tensor LuongAttentionalHidden::forward(const Tensor& context, const Tensor& hidden) {
  MINIDL_CHECK(context.defined() && hidden.defined(), "LuongAttentionalHidden",
               "context and hidden must be defined");
  MINIDL_CHECK(context.dim() >= 1 && hidden.dim() == context.dim() &&
                   context.size(-1) == context_size && hidden.size(-1) == hidden_size,
               "LuongAttentionalHidden",
               "expected context [..., " << context_size << "] and hidden [..., " << hidden_size
                                         << "], got " << shape_str(context.shape()) << " and "
                                         << shape_str(hidden.shape()));
  // tanh(W_c [c; h] + b) = tanh(W_cc c + W_ch h + b): no concatenated copy
  Tensor out = linear(context, W_c->weight.narrow(1, 0, context_size), W_c->bias) +
               linear(hidden, W_c->weight.narrow(1, context_size, hidden_size));
  return tanh(out);
}

}  // namespace minidl::nn
