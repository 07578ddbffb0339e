// Deep Q-learning (Mnih et al. 2015, "Human-level control through deep reinforcement learning")
// of one Q-network on CartPole:
//
//   act        epsilon-greedy on Q(s, .), epsilon decaying linearly from epsilon_start to
//              epsilon_end over epsilon_decay_steps environment steps
//   remember   (s, a, r, s', terminated) in a replay buffer (replay_buffer.h)
//   learn      every train_every steps once learning_starts transitions are stored: a uniform
//              batch, the TD target y = r + gamma (1 - terminated) max_a' Q_target(s', a')
//              (double DQN: Q_target(s', argmax_a' Q(s', a'))), and the Huber loss between
//              Q(s, a) and y (the caller runs backward, clips and steps the optimizer)
//   target     Q_target is a copy of Q, synced every target_update_every updates (hard), or moved
//              towards it by tau after every update (soft, when tau > 0)
//
// The agent owns the environment (episodes reset themselves), its own generator for
// exploration and sampling, and the counters; save / load carry all of it through a checkpoint.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "core/generator.h"
#include "models/common/interactive_task.h"
#include "models/rl/attention_q_network.h"
#include "models/rl/cartpole.h"
#include "models/rl/replay_buffer.h"

namespace minidl::models::rl {

// DQN's hyper-parameters (defaults: the registered task's).
struct DQNOptions {
  double gamma = 0.99;
  int64_t buffer_capacity = 50000;
  int64_t learning_starts = 1000;     // transitions stored before the first update
  int64_t train_every = 1;            // environment steps per update
  int64_t target_update_every = 500;  // updates between hard target syncs (when tau == 0)
  double tau = 0;                     // > 0: soft target updates instead
  double epsilon_start = 1.0, epsilon_end = 0.05;
  int64_t epsilon_decay_steps = 10000;
  double huber_delta = 1.0;
  bool double_dqn = false;
  int64_t max_episode_steps = CartPole::kV1Steps;  // the training episodes' time limit
};

// Acts epsilon-greedily in its own CartPole, stores transitions, and returns TD losses to learn
// from.
class DQNAgent {
 public:
  // `online` is trained; `target` must have the same architecture (it is overwritten with
  // online's weights here). The environment and the agent's generator are seeded from `seed`.
  DQNAgent(std::shared_ptr<AttentionQNetwork> online, std::shared_ptr<AttentionQNetwork> target,
           const DQNOptions& options, uint64_t seed);

  // The exploration rate at the current environment step.
  double epsilon() const;
  // argmax_a Q(s, a) (ties to the lower action), without recording gradients.
  int64_t greedy_action(const std::array<double, 4>& state);

  // One environment step: act, store the transition, reset a finished episode, and return the
  // TD loss of a learning update when one is due.
  InteractionStep step(int64_t batch_size);
  // The Huber TD loss of a batch (recorded on the tape for the online network only).
  Tensor td_loss(const TransitionBatch& batch);
  // After the optimizer's step: counts the update and syncs or moves the target network.
  void after_update();
  // target <- online (hard), or target <- tau online + (1 - tau) target (soft).
  void update_target();

  int64_t env_steps() const { return env_steps_; }
  int64_t updates() const { return updates_; }
  int64_t episodes() const { return episodes_; }
  // Mean return of the last (up to) 100 finished training episodes; 0 before the first.
  double recent_mean_return() const;

  const DQNOptions& options() const { return options_; }
  const ReplayBuffer& replay() const { return replay_; }
  AttentionQNetwork& online() { return *online_; }
  AttentionQNetwork& target() { return *target_; }
  CartPole& environment() { return environment_; }

  // The target network, replay buffer, environment, generator, counters and recent returns.
  void save(nn::StateDict& tensors, nn::Metadata& metadata) const;
  void load(const nn::StateDict& tensors, const nn::Metadata& metadata);

 private:
  std::shared_ptr<AttentionQNetwork> online_, target_;
  DQNOptions options_;
  CartPole environment_;
  Generator generator_;
  ReplayBuffer replay_;
  std::array<double, 4> state_{};
  int64_t env_steps_ = 0, updates_ = 0, episodes_ = 0;
  double episode_return_ = 0;
  std::deque<double> recent_returns_;  // the last 100 training episodes' returns
};

// The state as the network's input row [1, 4] (float32).
Tensor state_tensor(const std::array<double, 4>& state);

}  // namespace minidl::models::rl
