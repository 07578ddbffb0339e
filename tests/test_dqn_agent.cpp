// The DQN agent (models/rl/dqn_agent.h): the TD target and Huber loss by hand (plain and double
// DQN), the epsilon schedule, hard and soft target updates, a few hundred steps of learning with
// finite losses, save / load, and the errors.
#include "models/rl/dqn_agent.h"

#include <cmath>

#include "nn/optim.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using namespace minidl::models::rl;
using Catch::Contains;
using minidl::testing::allclose;

namespace {

const AttentionQNetworkOptions kSmallNetwork{4, 2, 8, 2, 16};

std::unique_ptr<DQNAgent> make_agent(const DQNOptions& options, uint64_t seed = 0) {
  manual_seed(seed);
  auto online = std::make_shared<AttentionQNetwork>(kSmallNetwork);
  auto target = std::make_shared<AttentionQNetwork>(kSmallNetwork);
  return std::make_unique<DQNAgent>(online, target, options, seed);
}

bool same_parameters(nn::Module& a, nn::Module& b) {
  const std::vector<Tensor> pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    if (pa[i].to_vector<float>() != pb[i].to_vector<float>()) return false;
  return true;
}

// `steps` environment steps, each update followed by an Adam step and after_update().
std::vector<double> run(DQNAgent& agent, optim::Optimizer& optimizer, int steps,
                        int64_t batch = 16) {
  std::vector<double> losses;
  for (int i = 0; i < steps; ++i) {
    optimizer.zero_grad();
    InteractionStep s = agent.step(batch);
    if (!s.loss.defined()) continue;
    losses.push_back(s.loss.item<double>());
    s.loss.backward();
    optimizer.step();
    agent.after_update();
  }
  return losses;
}

}  // namespace

TEST_CASE("dqn: the TD target and Huber loss, plain and double DQN, by hand", "[dqn]") {
  for (bool double_dqn : {false, true}) {
    INFO("double_dqn " << double_dqn);
    DQNOptions options;
    options.double_dqn = double_dqn;
    options.gamma = 0.9;
    auto agent = make_agent(options, 3);
    // Make the target network differ from the online one.
    {
      NoGradGuard no_grad;
      for (Tensor& p : agent->target().parameters()) p.add_(0.3);
    }
    ReplayBuffer buffer(8, 4);
    buffer.add({0.1f, 0.2f, -0.1f, 0.3f}, 1, 1.0f, {0.2f, 0.1f, 0.0f, -0.2f}, false);
    buffer.add({-0.3f, 0.0f, 0.05f, 0.1f}, 0, 1.0f, {-0.2f, 0.4f, 0.1f, 0.5f}, true);
    buffer.add({0.0f, -0.5f, 0.02f, -0.3f}, 1, 1.0f, {0.5f, -0.1f, -0.1f, 0.0f}, false);
    TransitionBatch batch = buffer.gather({0, 1, 2});
    const double loss = agent->td_loss(batch).item<double>();

    NoGradGuard no_grad;
    const std::vector<float> q = agent->online()(batch.states).to_vector<float>();
    const std::vector<float> q_next_online = agent->online()(batch.next_states).to_vector<float>();
    const std::vector<float> q_next_target = agent->target()(batch.next_states).to_vector<float>();
    const std::vector<int64_t> actions = {1, 0, 1};
    const std::vector<double> terminated = {0, 1, 0};
    double expected = 0;
    for (int i = 0; i < 3; ++i) {
      const float* online_row = &q_next_online[i * 2];
      const float* target_row = &q_next_target[i * 2];
      const int chosen = double_dqn ? (online_row[1] > online_row[0] ? 1 : 0)
                                    : (target_row[1] > target_row[0] ? 1 : 0);
      const double y = 1.0 + 0.9 * (1 - terminated[i]) * target_row[chosen];
      const double d = q[i * 2 + actions[i]] - y;
      expected += std::fabs(d) < 1 ? 0.5 * d * d : std::fabs(d) - 0.5;
    }
    CHECK(loss == Approx(expected / 3).epsilon(1e-5));
  }
}

TEST_CASE("dqn: epsilon decays linearly, then stays", "[dqn]") {
  DQNOptions options;
  options.epsilon_start = 1.0;
  options.epsilon_end = 0.1;
  options.epsilon_decay_steps = 10;
  options.learning_starts = 1000;  // no learning: only acting
  auto agent = make_agent(options);
  CHECK(agent->epsilon() == 1.0);
  for (int i = 0; i < 5; ++i) agent->step(4);
  CHECK(agent->epsilon() == Approx(0.55));
  for (int i = 0; i < 10; ++i) agent->step(4);
  CHECK(agent->epsilon() == Approx(0.1));
  CHECK(agent->env_steps() == 15);
  CHECK(agent->replay().size() == 15);
  CHECK(agent->updates() == 0);
}

TEST_CASE("dqn: a few hundred steps learn with finite losses and hard target syncs", "[dqn]") {
  DQNOptions options;
  options.buffer_capacity = 500;
  options.learning_starts = 50;
  options.target_update_every = 30;
  options.epsilon_decay_steps = 200;
  auto agent = make_agent(options, 1);
  optim::Adam optimizer(agent->online().parameters(), optim::AdamOptions(1e-3));
  std::vector<double> losses = run(*agent, optimizer, 100);
  CHECK(losses.size() == 51);  // one update per step from the 50th stored transition
  for (double l : losses) CHECK(std::isfinite(l));
  CHECK(agent->episodes() > 0);
  CHECK(agent->recent_mean_return() > 0);
  // 51 updates: synced at 30, moved on since.
  CHECK(agent->updates() == 51);
  CHECK_FALSE(same_parameters(agent->online(), agent->target()));
  // The sync at update 60 makes them equal again.
  std::vector<double> more;
  while (agent->updates() < 60) {
    std::vector<double> l = run(*agent, optimizer, 1);
    more.insert(more.end(), l.begin(), l.end());
  }
  CHECK(same_parameters(agent->online(), agent->target()));
  for (double l : more) CHECK(std::isfinite(l));
  // The target network never receives gradients.
  for (const Tensor& p : agent->target().parameters()) CHECK_FALSE(p.requires_grad());
}

TEST_CASE("dqn: soft target updates move the target by tau", "[dqn]") {
  DQNOptions options;
  options.tau = 0.25;
  auto agent = make_agent(options, 2);
  const std::vector<float> before = agent->target().parameters()[0].to_vector<float>();
  {
    NoGradGuard no_grad;
    agent->online().parameters()[0].add_(1.0);
  }
  agent->after_update();
  const std::vector<float> after = agent->target().parameters()[0].to_vector<float>();
  for (size_t i = 0; i < before.size(); ++i) CHECK(after[i] == Approx(before[i] + 0.25f));
}

TEST_CASE("dqn: save and load continue exactly", "[dqn]") {
  DQNOptions options;
  options.buffer_capacity = 300;
  options.learning_starts = 20;
  options.target_update_every = 10;
  options.epsilon_decay_steps = 50;
  auto agent = make_agent(options, 4);
  optim::Adam optimizer(agent->online().parameters(), optim::AdamOptions(1e-3));
  run(*agent, optimizer, 60);
  nn::StateDict tensors;
  nn::Metadata metadata;
  agent->save(tensors, metadata);
  auto restored = make_agent(options, 9);
  restored->online().load_state_dict(agent->online().state_dict());
  optim::Adam restored_optimizer(restored->online().parameters(), optim::AdamOptions(1e-3));
  restored_optimizer.load_state_dict(optimizer.state_dict());
  restored->load(tensors, metadata);
  CHECK(restored->env_steps() == 60);
  CHECK(restored->episodes() == agent->episodes());
  CHECK(same_parameters(restored->target(), agent->target()));
  CHECK(run(*restored, restored_optimizer, 40) == run(*agent, optimizer, 40));
  CHECK(same_parameters(restored->online(), agent->online()));
  metadata.erase("updates");
  CHECK_THROWS_WITH(restored->load(tensors, metadata), Contains("lacks \"updates\""));
}

TEST_CASE("dqn: bad options are errors", "[dqn]") {
  DQNOptions gamma;
  gamma.gamma = 1.5;
  CHECK_THROWS_WITH(make_agent(gamma), Contains("gamma must be in [0, 1], got 1.5"));
  DQNOptions sync;
  sync.target_update_every = 0;
  CHECK_THROWS_WITH(make_agent(sync), Contains("target_update_every must be positive"));
  DQNOptions epsilon;
  epsilon.epsilon_end = -0.1;
  CHECK_THROWS_WITH(make_agent(epsilon), Contains("epsilon_start and epsilon_end"));
  auto agent = make_agent(DQNOptions{});
  CHECK_THROWS_WITH(agent->step(0), Contains("batch size must be positive"));
}
