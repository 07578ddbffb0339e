// The replay buffer (models/rl/replay_buffer.h): storing, overwriting the oldest when full,
// gathering and seeded sampling, save / load, and the errors.
#include "models/rl/replay_buffer.h"

#include <set>

#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models::rl;
using Catch::Contains;

namespace {

// Transition i: state (i, i, i), action i % 2, reward i, next state (i + 0.5, ...), terminated
// every third.
void add_transition(ReplayBuffer& buffer, int i) {
  const float v = static_cast<float>(i);
  buffer.add({v, v, v}, i % 2, v, {v + 0.5f, v + 0.5f, v + 0.5f}, i % 3 == 0);
}

}  // namespace

TEST_CASE("replay buffer: stores transitions and overwrites the oldest when full",
          "[replay_buffer]") {
  ReplayBuffer buffer(4, 3);
  for (int i = 0; i < 3; ++i) add_transition(buffer, i);
  CHECK(buffer.size() == 3);
  TransitionBatch b = buffer.gather({0, 2});
  CHECK(b.states.shape() == Shape{2, 3});
  CHECK(b.states.to_vector<float>() == std::vector<float>{0, 0, 0, 2, 2, 2});
  CHECK(b.next_states.to_vector<float>() == std::vector<float>{0.5, 0.5, 0.5, 2.5, 2.5, 2.5});
  CHECK(b.actions.to_vector<int64_t>() == std::vector<int64_t>{0, 0});
  CHECK(b.rewards.to_vector<float>() == std::vector<float>{0, 2});
  CHECK(b.terminated.to_vector<float>() == std::vector<float>{1, 0});
  for (int i = 3; i < 7; ++i) add_transition(buffer, i);  // 7 added, capacity 4: 3..6 remain
  CHECK(buffer.size() == 4);
  CHECK(buffer.gather({0, 1, 2, 3}).rewards.to_vector<float>() == std::vector<float>{3, 4, 5, 6});
}

TEST_CASE("replay buffer: seeded uniform sampling over what is stored", "[replay_buffer]") {
  ReplayBuffer buffer(100, 3);
  for (int i = 0; i < 10; ++i) add_transition(buffer, i);
  Generator g1(5), g2(5);
  TransitionBatch a = buffer.sample(64, g1), b = buffer.sample(64, g2);
  CHECK(a.rewards.to_vector<float>() == b.rewards.to_vector<float>());
  std::set<float> seen;
  for (float r : a.rewards.to_vector<float>()) {
    CHECK((r >= 0 && r < 10));
    seen.insert(r);
  }
  CHECK(seen.size() >= 8);  // 64 draws of 10 reach nearly all of them
  // Each row is one transition: the next state is the state + 0.5.
  const std::vector<float> s = a.states.to_vector<float>(), n = a.next_states.to_vector<float>();
  for (size_t i = 0; i < s.size(); ++i) CHECK(n[i] == s[i] + 0.5f);
}

TEST_CASE("replay buffer: save and load keep the transitions and their order", "[replay_buffer]") {
  ReplayBuffer buffer(5, 3);
  for (int i = 0; i < 8; ++i) add_transition(buffer, i);  // wrapped around
  nn::StateDict tensors;
  buffer.save(tensors, "replay.");
  CHECK(tensors.size() == 5);
  ReplayBuffer restored(5, 3);
  restored.load(tensors, "replay.");
  CHECK(restored.size() == 5);
  Generator g1(1), g2(1);
  CHECK(buffer.sample(20, g1).rewards.to_vector<float>() ==
        restored.sample(20, g2).rewards.to_vector<float>());
  // The next transition overwrites the same (oldest) one in both.
  add_transition(buffer, 8);
  add_transition(restored, 8);
  CHECK(buffer.gather({0, 1, 2, 3, 4}).rewards.to_vector<float>() ==
        restored.gather({0, 1, 2, 3, 4}).rewards.to_vector<float>());
  ReplayBuffer small(3, 3);
  CHECK_THROWS_WITH(small.load(tensors, "replay."), Contains("do not fit a capacity of 3"));
  CHECK_THROWS_WITH(small.load(tensors, "other."), Contains("no tensor \"other.states\""));
}

TEST_CASE("replay buffer: errors name the problem", "[replay_buffer]") {
  CHECK_THROWS_WITH(ReplayBuffer(0, 3), Contains("capacity and state size must be positive"));
  ReplayBuffer buffer(4, 3);
  Generator g(0);
  CHECK_THROWS_WITH(buffer.sample(2, g), Contains("the buffer is empty"));
  CHECK_THROWS_WITH(buffer.add({1, 2}, 0, 1, {1, 2, 3}, false),
                    Contains("ReplayBuffer.add") && Contains("3 values, got 2 and 3"));
  add_transition(buffer, 0);
  CHECK_THROWS_WITH(buffer.sample(0, g), Contains("batch size must be positive"));
  CHECK_THROWS_WITH(buffer.gather({1}), Contains("position 1 is outside the 1 stored"));
}
