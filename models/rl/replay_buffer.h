// The experience replay memory of DQN (Mnih et al. 2015): a ring buffer of the last `capacity`
// transitions (s, a, r, s', terminated) from which learning updates draw uniform random batches,
// so consecutive, strongly correlated steps do not make up a batch and each step is learned from
// many times.
//
// `terminated` is 1 only when the episode ended by failing (no future reward); a transition cut
// by the time limit keeps terminated = 0, so its target still bootstraps from s'.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"
#include "nn/safetensors.h"

namespace minidl::models::rl {

// A batch of transitions as tensors.
struct TransitionBatch {
  Tensor states;       // [B, state_dim] float32
  Tensor actions;      // [B] int64
  Tensor rewards;      // [B] float32
  Tensor next_states;  // [B, state_dim] float32
  Tensor terminated;   // [B] float32, 1 = the episode failed at this step
};

// A ring buffer of the last `capacity` transitions with state_dim-float states.
class ReplayBuffer {
 public:
  ReplayBuffer(int64_t capacity, int64_t state_dim);

  // Stores one transition, overwriting the oldest once full.
  void add(const std::vector<float>& state, int64_t action, float reward,
           const std::vector<float>& next_state, bool terminated);
  // `batch_size` transitions drawn uniformly with replacement by `generator`.
  TransitionBatch sample(int64_t batch_size, Generator& generator) const;
  // The transitions at these positions (0 = the oldest stored).
  TransitionBatch gather(const std::vector<int64_t>& positions) const;

  int64_t size() const { return size_; }
  int64_t capacity() const { return capacity_; }
  int64_t state_dim() const { return state_dim_; }

  // The stored transitions, oldest first, as tensors named "<prefix>states" and so on, and back
  // (into a buffer of the same capacity and state size; the oldest-first order is kept).
  void save(nn::StateDict& tensors, const std::string& prefix) const;
  void load(const nn::StateDict& tensors, const std::string& prefix);

 private:
  int64_t slot(int64_t position) const;  // the ring index of position (0 = oldest)

  int64_t capacity_, state_dim_;
  int64_t size_ = 0, next_ = 0;  // stored transitions; the slot the next one goes to
  std::vector<float> states_, next_states_, rewards_, terminated_;
  std::vector<int64_t> actions_;
};

}  // namespace minidl::models::rl
