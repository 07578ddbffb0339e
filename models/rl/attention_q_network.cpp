// The attention Q-network (see attention_q_network.h).
#include "models/rl/attention_q_network.h"

#include "core/error.h"
#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"

namespace minidl::models::rl {

AttentionQNetwork::AttentionQNetwork(const AttentionQNetworkOptions& options)
    : Module("AttentionQNetwork"), options_(options) {
  MINIDL_CHECK(
      options.state_dim > 0 && options.actions > 0 && options.d_model > 0 && options.heads > 0 &&
          options.d_model % options.heads == 0 && options.dim_feedforward > 0,
      "AttentionQNetwork",
      "needs positive sizes and d_model divisible by heads, got state_dim "
          << options.state_dim << ", actions " << options.actions << ", d_model " << options.d_model
          << ", heads " << options.heads << ", dim_feedforward " << options.dim_feedforward);
  const int64_t V = options.state_dim, D = options.d_model;
  // N(0, 1) per-variable weights: a token's value part has the scale of its variable.
  value_weight = register_parameter("value_weight", randn({V, D}));
  variable_embedding = register_module("variable_embedding", std::make_shared<nn::Embedding>(V, D));
  attention_norm = register_module("attention_norm", std::make_shared<nn::LayerNorm>(D));
  nn::MultiheadAttentionOptions mha(D, options.heads);
  mha.batch_first(true);
  attention = register_module("attention", std::make_shared<nn::MultiheadAttention>(mha));
  feedforward_norm = register_module("feedforward_norm", std::make_shared<nn::LayerNorm>(D));
  feedforward1 =
      register_module("feedforward1", std::make_shared<nn::Linear>(D, options.dim_feedforward));
  feedforward2 =
      register_module("feedforward2", std::make_shared<nn::Linear>(options.dim_feedforward, D));
  q_head = register_module("q_head", std::make_shared<nn::Linear>(D, options.actions));
  variable_ids_ = arange(static_cast<double>(V), kInt64);
}

QOutput AttentionQNetwork::forward_with_attention(const Tensor& states, bool need_weights) {
  MINIDL_CHECK(
      states.dim() == 2 && states.size(1) == options_.state_dim && states.is_floating_point(),
      "AttentionQNetwork",
      "expected floating states [B, " << options_.state_dim << "], got " << states.dtype() << " "
                                      << shape_str(states.shape()));
  // t_v = s_v w_v + e_v: [B, V, 1] * [V, D] + [V, D] -> [B, V, D]
  Tensor tokens = states.unsqueeze(-1) * value_weight + (*variable_embedding)(variable_ids_);
  Tensor normed = (*attention_norm)(tokens);
  nn::AttentionOutput attended = (*attention)(normed, normed, normed, Tensor(), need_weights);
  Tensor h = tokens + attended.output;
  h = h + (*feedforward2)(relu((*feedforward1)((*feedforward_norm)(h))));
  Tensor pooled = mean(h, {1});  // [B, D]
  return {(*q_head)(pooled), attended.weights};
}

Tensor AttentionQNetwork::forward(const Tensor& states) {
  return forward_with_attention(states, false).q;
}

}  // namespace minidl::models::rl
