// The replay buffer (see replay_buffer.h).
#include "models/rl/replay_buffer.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/factories.h"

namespace minidl::models::rl {

ReplayBuffer::ReplayBuffer(int64_t capacity, int64_t state_dim)
    : capacity_(capacity), state_dim_(state_dim) {
  MINIDL_CHECK(
      capacity > 0 && state_dim > 0, "ReplayBuffer",
      "capacity and state size must be positive, got " << capacity << " and " << state_dim);
  states_.resize(capacity * state_dim);
  next_states_.resize(capacity * state_dim);
  rewards_.resize(capacity);
  terminated_.resize(capacity);
  actions_.resize(capacity);
}

void ReplayBuffer::add(const std::vector<float>& state, int64_t action, float reward,
                       const std::vector<float>& next_state, bool terminated) {
  MINIDL_CHECK(static_cast<int64_t>(state.size()) == state_dim_ &&
                   static_cast<int64_t>(next_state.size()) == state_dim_,
               "ReplayBuffer.add",
               "states must have " << state_dim_ << " values, got " << state.size() << " and "
                                   << next_state.size());
  std::copy(state.begin(), state.end(), states_.begin() + next_ * state_dim_);
  std::copy(next_state.begin(), next_state.end(), next_states_.begin() + next_ * state_dim_);
  actions_[next_] = action;
  rewards_[next_] = reward;
  terminated_[next_] = terminated ? 1.0f : 0.0f;
  next_ = (next_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
}

int64_t ReplayBuffer::slot(int64_t position) const {
  // Full: the oldest is at next_; not yet full: at 0.
  return size_ < capacity_ ? position : (next_ + position) % capacity_;
}

TransitionBatch ReplayBuffer::gather(const std::vector<int64_t>& positions) const {
  const int64_t B = static_cast<int64_t>(positions.size());
  std::vector<float> states(B * state_dim_), next_states(B * state_dim_), rewards(B), ended(B);
  std::vector<int64_t> actions(B);
  for (int64_t i = 0; i < B; ++i) {
    MINIDL_CHECK(
        positions[i] >= 0 && positions[i] < size_, "ReplayBuffer",
        "position " << positions[i] << " is outside the " << size_ << " stored transitions");
    const int64_t s = slot(positions[i]);
    std::copy_n(states_.begin() + s * state_dim_, state_dim_, states.begin() + i * state_dim_);
    std::copy_n(next_states_.begin() + s * state_dim_, state_dim_,
                next_states.begin() + i * state_dim_);
    actions[i] = actions_[s];
    rewards[i] = rewards_[s];
    ended[i] = terminated_[s];
  }
  TransitionBatch batch;
  batch.states = from_vector(states, {B, state_dim_});
  batch.next_states = from_vector(next_states, {B, state_dim_});
  batch.actions = from_vector(actions, {B}, kInt64);
  batch.rewards = from_vector(rewards, {B});
  batch.terminated = from_vector(ended, {B});
  return batch;
}

TransitionBatch ReplayBuffer::sample(int64_t batch_size, Generator& generator) const {
  MINIDL_CHECK(batch_size > 0, "ReplayBuffer.sample",
               "the batch size must be positive, got " << batch_size);
  MINIDL_CHECK(size_ > 0, "ReplayBuffer.sample", "the buffer is empty");
  std::vector<int64_t> positions(batch_size);
  for (int64_t& p : positions) p = generator.randint(0, size_);
  return gather(positions);
}

void ReplayBuffer::save(nn::StateDict& tensors, const std::string& prefix) const {
  std::vector<int64_t> all(size_);
  for (int64_t i = 0; i < size_; ++i) all[i] = i;
  const TransitionBatch b = gather(all);
  tensors.emplace_back(prefix + "states", b.states);
  tensors.emplace_back(prefix + "actions", b.actions);
  tensors.emplace_back(prefix + "rewards", b.rewards);
  tensors.emplace_back(prefix + "next_states", b.next_states);
  tensors.emplace_back(prefix + "terminated", b.terminated);
}

void ReplayBuffer::load(const nn::StateDict& tensors, const std::string& prefix) {
  std::map<std::string, Tensor> by_name;
  for (const auto& [name, tensor] : tensors) by_name[name] = tensor;
  auto get = [&](const std::string& name, DType dtype, int64_t columns) {
    auto it = by_name.find(prefix + name);
    MINIDL_CHECK(it != by_name.end(), "ReplayBuffer.load", "no tensor \"" << prefix + name << "\"");
    const Tensor& t = it->second;
    const bool shape_ok = columns == 0 ? t.dim() == 1 : (t.dim() == 2 && t.size(1) == columns);
    MINIDL_CHECK(t.dtype() == dtype && shape_ok, "ReplayBuffer.load",
                 "\"" << prefix + name << "\" is " << t.dtype() << " " << shape_str(t.shape())
                      << ", expected " << dtype << (columns ? " [n, " : " [n")
                      << (columns ? std::to_string(columns) + "]" : "]"));
    return t;
  };
  const Tensor states = get("states", kFloat32, state_dim_);
  const int64_t n = states.size(0);
  MINIDL_CHECK(n <= capacity_, "ReplayBuffer.load",
               n << " saved transitions do not fit a capacity of " << capacity_);
  const std::vector<float> s = states.to_vector<float>();
  const std::vector<float> ns = get("next_states", kFloat32, state_dim_).to_vector<float>();
  const std::vector<int64_t> a = get("actions", kInt64, 0).to_vector<int64_t>();
  const std::vector<float> r = get("rewards", kFloat32, 0).to_vector<float>();
  const std::vector<float> t = get("terminated", kFloat32, 0).to_vector<float>();
  MINIDL_CHECK(static_cast<int64_t>(ns.size()) == n * state_dim_ &&
                   static_cast<int64_t>(a.size()) == n && static_cast<int64_t>(r.size()) == n &&
                   static_cast<int64_t>(t.size()) == n,
               "ReplayBuffer.load", "the saved tensors hold different numbers of transitions");
  size_ = 0;
  next_ = 0;
  for (int64_t i = 0; i < n; ++i) {
    add(std::vector<float>(s.begin() + i * state_dim_, s.begin() + (i + 1) * state_dim_), a[i],
        r[i], std::vector<float>(ns.begin() + i * state_dim_, ns.begin() + (i + 1) * state_dim_),
        t[i] != 0);
  }
}

}  // namespace minidl::models::rl
