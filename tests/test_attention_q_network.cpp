// The attention Q-network (models/rl/attention_q_network.h): shapes, attention weights over the
// state's variables, every parameter receiving a gradient, batch independence, and the errors.
#include "models/rl/attention_q_network.h"

#include "ops/index_ops.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models::rl;
using Catch::Contains;
using minidl::testing::allclose;

TEST_CASE("attention Q-network: Q-values per action and attention between the variables",
          "[attention_q_network]") {
  manual_seed(0);
  AttentionQNetwork network(AttentionQNetworkOptions{4, 2, 16, 4, 32});
  Tensor states = randn({5, 4});
  QOutput out = network.forward_with_attention(states, true);
  CHECK(out.q.shape() == Shape{5, 2});
  REQUIRE(out.weights.defined());
  CHECK(out.weights.shape() == Shape{5, 4, 4});  // each variable attends to the four
  CHECK(allclose(out.weights.sum({-1}), ones({5, 4})));
  CHECK(allclose(network(states), out.q));
  CHECK_FALSE(network.forward_with_attention(states, false).weights.defined());
  // Rows are independent: a batch of one gives the same Q-values as its row in the batch.
  CHECK(allclose(network(states.narrow(0, 2, 1)), out.q.narrow(0, 2, 1), 1e-5, 1e-6));
  // The variables' identities matter: swapping two variables' values changes Q.
  Tensor swapped =
      index_select(states, 1, from_vector(std::vector<int64_t>{1, 0, 2, 3}, {4}, kInt64));
  CHECK_FALSE(allclose(network(swapped), out.q));
}

TEST_CASE("attention Q-network: the loss reaches every parameter", "[attention_q_network]") {
  manual_seed(1);
  AttentionQNetwork network(AttentionQNetworkOptions{4, 2, 8, 2, 16});
  Tensor loss = network(randn({6, 4})).pow(2.0).mean();
  loss.backward();
  for (const auto& [name, parameter] : network.named_parameters()) {
    INFO(name);
    REQUIRE(parameter.grad().defined());
    CHECK(parameter.grad().abs().sum().item<double>() > 0);
  }
  CHECK(network.num_parameters() > 0);
}

TEST_CASE("attention Q-network: wrong states and sizes are errors", "[attention_q_network]") {
  AttentionQNetwork network(AttentionQNetworkOptions{});
  CHECK_THROWS_WITH(network(zeros({3, 5})),
                    Contains("AttentionQNetwork") && Contains("[B, 4]") && Contains("[3, 5]"));
  CHECK_THROWS_WITH(network(zeros({4})), Contains("[4]"));
  CHECK_THROWS_WITH(network(zeros({2, 4}, kInt64)), Contains("int64"));
  CHECK_THROWS_WITH(AttentionQNetwork(AttentionQNetworkOptions{4, 2, 10, 4, 16}),
                    Contains("d_model divisible by heads") && Contains("d_model 10, heads 4"));
}
