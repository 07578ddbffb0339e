// The DQN agent (see dqn_agent.h).
#include "models/rl/dqn_agent.h"

#include <cstdio>
#include <numeric>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/index_ops.h"
#include "ops/reduction.h"
#include "ops/regression_loss.h"

namespace minidl::models::rl {

namespace {

std::string number_text(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

const std::string& entry(const nn::Metadata& metadata, const std::string& key) {
  auto it = metadata.find(key);
  MINIDL_CHECK(it != metadata.end(), "DQNAgent.load", "the saved state lacks \"" << key << "\"");
  return it->second;
}

int64_t integer_entry(const nn::Metadata& metadata, const std::string& key) {
  const std::string& text = entry(metadata, key);
  try {
    size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  MINIDL_FAIL("DQNAgent.load", "\"" << key << "\" is not an integer: \"" << text << "\"");
}

std::vector<float> as_floats(const std::array<double, 4>& state) {
  return {static_cast<float>(state[0]), static_cast<float>(state[1]), static_cast<float>(state[2]),
          static_cast<float>(state[3])};
}

}  // namespace

Tensor state_tensor(const std::array<double, 4>& state) {
  return from_vector(as_floats(state), {1, 4});
}

DQNAgent::DQNAgent(std::shared_ptr<AttentionQNetwork> online,
                   std::shared_ptr<AttentionQNetwork> target, const DQNOptions& options,
                   uint64_t seed)
    : online_(std::move(online)),
      target_(std::move(target)),
      options_(options),
      environment_(options.max_episode_steps, seed),
      // A stream of its own, apart from the environment's: exploration and sampling.
      generator_(seed * 2654435761u + 1),
      replay_(options.buffer_capacity, 4) {
  const char* op = "DQNAgent";
  MINIDL_CHECK(online_ && target_, op, "needs an online and a target network");
  MINIDL_CHECK(options.gamma >= 0 && options.gamma <= 1, op,
               "gamma must be in [0, 1], got " << options.gamma);
  MINIDL_CHECK(
      options.learning_starts >= 0 && options.train_every > 0 && options.epsilon_decay_steps >= 0,
      op,
      "learning_starts, train_every and epsilon_decay_steps must be non-negative (and "
      "train_every positive), got "
          << options.learning_starts << ", " << options.train_every << ", "
          << options.epsilon_decay_steps);
  MINIDL_CHECK(options.tau >= 0 && options.tau <= 1, op,
               "tau must be in [0, 1], got " << options.tau);
  MINIDL_CHECK(options.tau > 0 || options.target_update_every > 0, op,
               "target_update_every must be positive for hard target updates, got "
                   << options.target_update_every);
  MINIDL_CHECK(options.epsilon_start >= 0 && options.epsilon_start <= 1 &&
                   options.epsilon_end >= 0 && options.epsilon_end <= 1,
               op,
               "epsilon_start and epsilon_end must be in [0, 1], got "
                   << options.epsilon_start << " and " << options.epsilon_end);
  target_->load_state_dict(online_->state_dict());
  for (Tensor& p : target_->parameters()) p.requires_grad_(false);
  target_->eval();
  state_ = environment_.reset();
}

double DQNAgent::epsilon() const {
  if (env_steps_ >= options_.epsilon_decay_steps) return options_.epsilon_end;
  const double progress =
      static_cast<double>(env_steps_) / static_cast<double>(options_.epsilon_decay_steps);
  return options_.epsilon_start + (options_.epsilon_end - options_.epsilon_start) * progress;
}

int64_t DQNAgent::greedy_action(const std::array<double, 4>& state) {
  NoGradGuard no_grad;
  const std::vector<float> q = (*online_)(state_tensor(state)).to_vector<float>();
  int64_t best = 0;
  for (int64_t a = 1; a < static_cast<int64_t>(q.size()); ++a)
    if (q[a] > q[best]) best = a;
  return best;
}

InteractionStep DQNAgent::step(int64_t batch_size) {
  MINIDL_CHECK(batch_size > 0, "DQNAgent.step",
               "the batch size must be positive, got " << batch_size);
  // Epsilon-greedy: one draw decides exploring, a second the random action (so the greedy
  // forward pass is skipped while exploring).
  const int64_t action =
      generator_.uniform() < epsilon() ? generator_.randint(0, 2) : greedy_action(state_);
  const CartPoleStep result = environment_.step(action);
  replay_.add(as_floats(state_), action, static_cast<float>(result.reward),
              as_floats(result.observation), result.terminated);
  ++env_steps_;
  episode_return_ += result.reward;

  InteractionStep out;
  if (result.done()) {
    out.episode_done = true;
    out.episode_return = episode_return_;
    out.episode_length = environment_.steps();
    ++episodes_;
    recent_returns_.push_back(episode_return_);
    if (recent_returns_.size() > 100) recent_returns_.pop_front();
    episode_return_ = 0;
    state_ = environment_.reset();
  } else {
    state_ = result.observation;
  }
  if (replay_.size() >= std::max<int64_t>(options_.learning_starts, 1) &&
      env_steps_ % options_.train_every == 0) {
    out.loss = td_loss(replay_.sample(batch_size, generator_));
    out.items = batch_size;
  }
  return out;
}

Tensor DQNAgent::td_loss(const TransitionBatch& batch) {
  Tensor targets;
  {
    // y = r + gamma (1 - terminated) max_a' Q_target(s', a'): a constant for the loss.
    NoGradGuard no_grad;
    Tensor next_q = (*target_)(batch.next_states);  // [B, A]
    Tensor next_value;
    if (options_.double_dqn) {
      // The online network picks a', the target network values it.
      Tensor choice = argmax((*online_)(batch.next_states), 1, true);  // [B, 1]
      next_value = gather(next_q, 1, choice).squeeze(1);
    } else {
      next_value = std::get<0>(max(next_q, 1));
    }
    targets = batch.rewards + next_value * (1.0 - batch.terminated) * options_.gamma;
  }
  // Q(s, a) of the actions taken: [B, A] gathered at a -> [B]
  Tensor q_taken = gather((*online_)(batch.states), 1, batch.actions.unsqueeze(1)).squeeze(1);
  return huber_loss(q_taken, targets, Reduction::Mean, options_.huber_delta);
}

void DQNAgent::after_update() {
  ++updates_;
  if (options_.tau > 0 || updates_ % options_.target_update_every == 0) update_target();
}

void DQNAgent::update_target() {
  NoGradGuard no_grad;
  if (options_.tau == 0) {
    target_->load_state_dict(online_->state_dict());
    return;
  }
  const std::vector<Tensor> source = online_->parameters();
  std::vector<Tensor> destination = target_->parameters();
  for (size_t i = 0; i < source.size(); ++i)
    destination[i].copy_(source[i] * options_.tau + destination[i] * (1 - options_.tau));
}

double DQNAgent::recent_mean_return() const {
  if (recent_returns_.empty()) return 0;
  return std::accumulate(recent_returns_.begin(), recent_returns_.end(), 0.0) /
         static_cast<double>(recent_returns_.size());
}

void DQNAgent::save(nn::StateDict& tensors, nn::Metadata& metadata) const {
  for (const auto& [name, tensor] : target_->state_dict())
    tensors.emplace_back("target." + name, tensor);
  replay_.save(tensors, "replay.");
  std::vector<double> recent(recent_returns_.begin(), recent_returns_.end());
  tensors.emplace_back("recent_returns",
                       from_vector(recent, {static_cast<int64_t>(recent.size())}, kFloat64));
  metadata["environment"] = environment_.save();
  metadata["generator"] = generator_.get_state();
  std::ostringstream state;
  for (double v : state_) state << number_text(v) << " ";
  metadata["state"] = state.str();
  metadata["env_steps"] = std::to_string(env_steps_);
  metadata["updates"] = std::to_string(updates_);
  metadata["episodes"] = std::to_string(episodes_);
  metadata["episode_return"] = number_text(episode_return_);
}

void DQNAgent::load(const nn::StateDict& tensors, const nn::Metadata& metadata) {
  nn::StateDict target_state;
  Tensor recent;
  const std::string prefix = "target.";
  for (const auto& [name, tensor] : tensors) {
    if (name.compare(0, prefix.size(), prefix) == 0)
      target_state.emplace_back(name.substr(prefix.size()), tensor);
    if (name == "recent_returns") recent = tensor;
  }
  MINIDL_CHECK(recent.defined(), "DQNAgent.load", "the saved state lacks \"recent_returns\"");
  target_->load_state_dict(target_state);
  replay_.load(tensors, "replay.");
  environment_.load(entry(metadata, "environment"));
  generator_.set_state(entry(metadata, "generator"));
  std::istringstream state(entry(metadata, "state"));
  for (double& v : state_) {
    std::string text;
    state >> text;
    v = std::strtod(text.c_str(), nullptr);
  }
  env_steps_ = integer_entry(metadata, "env_steps");
  updates_ = integer_entry(metadata, "updates");
  episodes_ = integer_entry(metadata, "episodes");
  episode_return_ = std::strtod(entry(metadata, "episode_return").c_str(), nullptr);
  const std::vector<double> returns = recent.to_vector<double>();
  recent_returns_.assign(returns.begin(), returns.end());
}

}  // namespace minidl::models::rl
