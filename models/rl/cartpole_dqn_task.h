// The attention Q-network trained by DQN on CartPole, as an interactive Task: tools/train runs
// its environment steps (models/common/interactive_training.h), evaluate() plays greedy episodes
// of CartPole-v0 and CartPole-v1 with fixed seeds, predict() plays one episode and traces it.
//
// Metrics (evaluate("valid") / ("test"), 100 greedy episodes each of v0 and v1; the two splits
// use different reset seeds): v0_mean_return (headline; solved at >= 195), v1_mean_return
// (solved at >= 475), v0_solved, v1_solved (1 or 0).
// predict("v1"), predict("v0 seed 7"): one greedy episode (default seed 0), its return, a trace
// of every 25th step, and the attention between the state variables averaged over the episode.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/common/interactive_task.h"
#include "models/rl/attention_q_network.h"
#include "models/rl/dqn_agent.h"

namespace minidl::models::rl {

// The registered task's settings: network, DQN, training and evaluation sizes.
struct CartPoleDQNConfig {
  std::string name;  // the registry name, for messages
  AttentionQNetworkOptions network;
  DQNOptions dqn;
  TrainDefaults defaults;  // batch_size = the replay batch; epochs of steps_per_epoch env steps
  int64_t steps_per_epoch = 5000;
  int64_t eval_episodes = 100;  // per version (v0, v1) and split
};

// The result of greedy episodes: their returns, in seed order.
struct EpisodeReturns {
  std::vector<double> returns;
  // The mean return (0 for no episodes).
  double mean() const;
};

// CartPole learnt by DQN with the attention Q-network, as an InteractiveTask.
class CartPoleDQNTask : public InteractiveTask {
 public:
  CartPoleDQNTask(CartPoleDQNConfig config, CartPoleDQNConfig smoke_config);

  void setup(const TaskOptions& options) override;
  nn::Module& model() override;
  TrainDefaults defaults() const override { return config_.defaults; }
  Metrics evaluate(const std::string& split) override;
  Prediction predict(const std::string& input) override;
  std::vector<std::string> example_inputs() const override;

  int64_t steps_per_epoch() const override { return config_.steps_per_epoch; }
  InteractionStep interact(int64_t batch_size) override;
  void after_update() override;
  Metrics status() const override;
  double solved_threshold() const override { return CartPole::kV0Solved; }
  void save_state(nn::StateDict& tensors, nn::Metadata& metadata) const override;
  void load_state(const nn::StateDict& tensors, const nn::Metadata& metadata) override;

  // `episodes` greedy episodes with time limit max_steps, reset seeds first_seed, first_seed + 1,
  // ..., played side by side (one batched forward pass per step for all running episodes).
  EpisodeReturns greedy_episodes(int64_t max_steps, int64_t episodes, uint64_t first_seed);
  DQNAgent& agent();

 private:
  CartPoleDQNConfig config_, smoke_config_;
  std::shared_ptr<AttentionQNetwork> online_, target_;
  std::unique_ptr<DQNAgent> agent_;
};

// Registered in models/registry.cpp.
std::unique_ptr<Task> make_attention_dqn_cartpole_task();

}  // namespace minidl::models::rl
