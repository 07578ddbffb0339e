// The CartPole DQN task (see cartpole_dqn_task.h).
#include "models/rl/cartpole_dqn_task.h"

#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"

namespace minidl::models::rl {

namespace {

// Reset seeds of the evaluation episodes: fixed, apart from training's (which uses the run's
// seed) and different for the two splits.
constexpr uint64_t kValidSeed = 1000000, kTestSeed = 2000000;

}  // namespace

double EpisodeReturns::mean() const {
  if (returns.empty()) return 0;
  return std::accumulate(returns.begin(), returns.end(), 0.0) / static_cast<double>(returns.size());
}

CartPoleDQNTask::CartPoleDQNTask(CartPoleDQNConfig config, CartPoleDQNConfig smoke_config)
    : config_(std::move(config)), smoke_config_(std::move(smoke_config)) {}

void CartPoleDQNTask::setup(const TaskOptions& options) {
  MINIDL_CHECK(options.data_path.empty(), config_.name,
               "CartPole is simulated in code and reads no data; got --data " << options.data_path);
  if (options.smoke) config_ = smoke_config_;
  online_ = std::make_shared<AttentionQNetwork>(config_.network);
  target_ = std::make_shared<AttentionQNetwork>(config_.network);
  agent_ = std::make_unique<DQNAgent>(online_, target_, config_.dqn, options.seed);
}

DQNAgent& CartPoleDQNTask::agent() {
  MINIDL_CHECK(agent_ != nullptr, config_.name, "call setup() first");
  return *agent_;
}

nn::Module& CartPoleDQNTask::model() {
  return agent().online();
}

InteractionStep CartPoleDQNTask::interact(int64_t batch_size) {
  return agent().step(batch_size);
}

void CartPoleDQNTask::after_update() {
  agent().after_update();
}

Metrics CartPoleDQNTask::status() const {
  MINIDL_CHECK(agent_ != nullptr, config_.name, "call setup() first");
  return {{"return_100", agent_->recent_mean_return()}, {"epsilon", agent_->epsilon()}};
}

void CartPoleDQNTask::save_state(nn::StateDict& tensors, nn::Metadata& metadata) const {
  MINIDL_CHECK(agent_ != nullptr, config_.name, "call setup() first");
  agent_->save(tensors, metadata);
}

void CartPoleDQNTask::load_state(const nn::StateDict& tensors, const nn::Metadata& metadata) {
  agent().load(tensors, metadata);
}

EpisodeReturns CartPoleDQNTask::greedy_episodes(int64_t max_steps, int64_t episodes,
                                                uint64_t first_seed) {
  NoGradGuard no_grad;
  AttentionQNetwork& network = agent().online();
  network.eval();
  std::vector<std::unique_ptr<CartPole>> environments;
  std::vector<std::array<double, 4>> states;
  for (int64_t e = 0; e < episodes; ++e) {
    environments.push_back(std::make_unique<CartPole>(max_steps, first_seed + e));
    states.push_back(environments.back()->reset());
  }
  EpisodeReturns result;
  result.returns.assign(episodes, 0.0);
  std::vector<int64_t> running(episodes);
  std::iota(running.begin(), running.end(), 0);
  while (!running.empty()) {
    // One forward pass for every running episode: [running, 4] -> actions.
    std::vector<float> rows;
    for (int64_t e : running)
      for (double v : states[e]) rows.push_back(static_cast<float>(v));
    const Tensor q = network(from_vector(rows, {static_cast<int64_t>(running.size()), 4}));
    const std::vector<int64_t> actions = argmax(q, 1).to_vector<int64_t>();
    std::vector<int64_t> still_running;
    for (size_t k = 0; k < running.size(); ++k) {
      const int64_t e = running[k];
      const CartPoleStep step = environments[e]->step(actions[k]);
      result.returns[e] += step.reward;
      states[e] = step.observation;
      if (!step.done()) still_running.push_back(e);
    }
    running.swap(still_running);
  }
  network.train();
  return result;
}

Metrics CartPoleDQNTask::evaluate(const std::string& split) {
  MINIDL_CHECK(split == "valid" || split == "test", config_.name,
               "evaluate: unknown split \"" << split << "\" (valid or test)");
  const uint64_t seed = split == "valid" ? kValidSeed : kTestSeed;
  const double v0 = greedy_episodes(CartPole::kV0Steps, config_.eval_episodes, seed).mean();
  const double v1 = greedy_episodes(CartPole::kV1Steps, config_.eval_episodes, seed).mean();
  return {{"v0_mean_return", v0},
          {"v1_mean_return", v1},
          {"v0_solved", v0 >= CartPole::kV0Solved ? 1.0 : 0.0},
          {"v1_solved", v1 >= CartPole::kV1Solved ? 1.0 : 0.0}};
}

Prediction CartPoleDQNTask::predict(const std::string& input) {
  // "v0" or "v1", optionally followed by "seed N".
  std::istringstream words(input);
  std::string version, seed_word;
  int64_t seed = 0;
  words >> version;
  const bool seed_ok =
      !(words >> seed_word) || (seed_word == "seed" && (words >> seed) && seed >= 0);
  MINIDL_CHECK((version == "v0" || version == "v1") && seed_ok, config_.name,
               "predict: expected \"v0\" or \"v1\", optionally followed by \"seed N\", got \""
                   << input << "\"");
  const int64_t max_steps = version == "v0" ? CartPole::kV0Steps : CartPole::kV1Steps;
  NoGradGuard no_grad;
  AttentionQNetwork& network = agent().online();
  network.eval();
  CartPole environment(max_steps, static_cast<uint64_t>(seed));
  std::array<double, 4> state = environment.reset();
  std::ostringstream trace;
  Tensor attention_sum;
  double episode_return = 0;
  CartPoleStep step;
  char line[160];
  do {
    QOutput out = network.forward_with_attention(state_tensor(state), true);
    const int64_t action = argmax(out.q, 1).item<int64_t>();
    Tensor weights = out.weights.squeeze(0);  // [V, V]
    attention_sum = attention_sum.defined() ? attention_sum + weights : weights;
    const int64_t t = environment.steps();
    if (t % 25 == 0) {
      const std::vector<float> q = out.q.to_vector<float>();
      std::snprintf(line, sizeof line,
                    "\n  step %3lld  x %+.3f  x_dot %+.3f  theta %+.4f  theta_dot %+.3f  "
                    "Q(left) %.2f  Q(right) %.2f  -> %s",
                    static_cast<long long>(t), state[0], state[1], state[2], state[3], q[0], q[1],
                    action == 1 ? "right" : "left");
      trace << line;
    }
    step = environment.step(action);
    episode_return += step.reward;
    state = step.observation;
  } while (!step.done());
  network.train();
  std::snprintf(line, sizeof line, "CartPole-%s seed %lld: return %.0f in %lld steps (%s)",
                version.c_str(), static_cast<long long>(seed), episode_return,
                static_cast<long long>(environment.steps()),
                step.truncated                           ? "reached the time limit"
                : std::abs(state[0]) > CartPole::kXLimit ? "the cart left the track"
                                                         : "the pole fell past 12 degrees");
  Prediction prediction;
  prediction.output = line + trace.str();
  const auto& names = CartPole::variable_names();
  prediction.source_tokens.assign(names.begin(), names.end());
  prediction.target_tokens = prediction.source_tokens;
  prediction.attention = attention_sum / static_cast<double>(environment.steps());
  return prediction;
}

std::vector<std::string> CartPoleDQNTask::example_inputs() const {
  return {"v0", "v1 seed 1"};
}

std::unique_ptr<Task> make_attention_dqn_cartpole_task() {
  CartPoleDQNConfig config;
  config.name = "attention-dqn-cartpole";
  config.network = AttentionQNetworkOptions{4, 2, 32, 4, 64};
  config.dqn.gamma = 0.99;
  config.dqn.buffer_capacity = 50000;
  config.dqn.learning_starts = 1000;
  config.dqn.train_every = 1;
  config.dqn.target_update_every = 500;
  config.dqn.epsilon_start = 1.0;
  config.dqn.epsilon_end = 0.05;
  config.dqn.epsilon_decay_steps = 10000;
  config.dqn.huber_delta = 1.0;
  config.dqn.double_dqn = true;
  config.dqn.max_episode_steps = CartPole::kV1Steps;
  config.defaults = train_defaults("adam", 1e-3, 20, 64, 10.0);
  config.steps_per_epoch = 5000;
  config.eval_episodes = 100;

  CartPoleDQNConfig smoke = config;
  smoke.network = AttentionQNetworkOptions{4, 2, 8, 2, 16};
  smoke.dqn.buffer_capacity = 400;
  smoke.dqn.learning_starts = 32;
  smoke.dqn.target_update_every = 25;
  smoke.dqn.epsilon_decay_steps = 100;
  smoke.defaults = train_defaults("adam", 1e-3, 2, 16, 10.0);
  smoke.steps_per_epoch = 100;
  smoke.eval_episodes = 4;
  return std::make_unique<CartPoleDQNTask>(config, smoke);
}

}  // namespace minidl::models::rl
