// CartPole, the classic control problem of Barto, Sutton & Anderson (1983), with the constants,
// equations and rules of gym's CartPole-v0 / CartPole-v1: a pole hinged on a cart that moves on a
// frictionless track; each step pushes the cart left (action 0) or right (action 1) with 10 N.
//
// Dynamics (gym's, explicit Euler with tau = 0.02 s), state (x, x_dot, theta, theta_dot):
//   temp      = (F + m_p l theta_dot^2 sin theta) / (m_c + m_p)
//   theta_acc = (g sin theta - cos theta temp) / (l (4/3 - m_p cos^2 theta / (m_c + m_p)))
//   x_acc     = temp - m_p l theta_acc cos theta / (m_c + m_p)
//   x += tau x_dot;  x_dot += tau x_acc;  theta += tau theta_dot;  theta_dot += tau theta_acc
// with g = 9.8, m_c = 1.0, m_p = 0.1, l = 0.5 (half the pole's length), F = +-10.
// Reward 1 for every step, the last one included. The episode terminates when |theta| > 12
// degrees or |x| > 2.4, and is truncated at the version's time limit (v0: 200 steps, v1: 500).
// reset() draws each state variable uniformly from [-0.05, 0.05) with the environment's own
// seeded generator. Stepping a finished episode or an action other than 0 / 1 is an error.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/generator.h"

namespace minidl::models::rl {

// What one environment step returns (Gym's (observation, reward, terminated, truncated)).
struct CartPoleStep {
  std::array<double, 4> observation;  // the state after the step
  double reward = 0;
  bool terminated = false;  // the pole fell or the cart left the track: no future reward
  bool truncated = false;   // the time limit: the state still has a future, the episode stops
  bool done() const { return terminated || truncated; }
};

// Gym's CartPole-v0 / v1 dynamics, seeded (see above).
class CartPole {
 public:
  static constexpr double kGravity = 9.8, kCartMass = 1.0, kPoleMass = 0.1;
  static constexpr double kTotalMass = kCartMass + kPoleMass;
  static constexpr double kHalfLength = 0.5, kPoleMassLength = kPoleMass * kHalfLength;
  static constexpr double kForce = 10.0, kTau = 0.02;
  static constexpr double kThetaLimit = 12 * 2 * 3.14159265358979323846 / 360;  // radians
  static constexpr double kXLimit = 2.4;
  static constexpr int64_t kV0Steps = 200, kV1Steps = 500;
  static constexpr double kV0Solved = 195, kV1Solved = 475;  // mean return over 100 episodes

  // max_steps: the time limit (kV0Steps for CartPole-v0, kV1Steps for CartPole-v1).
  explicit CartPole(int64_t max_steps = kV1Steps, uint64_t seed = 0);

  // Starts an episode: a state uniform in [-0.05, 0.05)^4; returns it.
  std::array<double, 4> reset();
  // Pushes left (0) or right (1) for tau seconds.
  CartPoleStep step(int64_t action);

  const std::array<double, 4>& state() const { return state_; }
  // Sets the physical state (for tests and replays); the episode continues from it.
  void set_state(const std::array<double, 4>& state);
  int64_t steps() const { return steps_; }  // steps of the current episode
  int64_t max_steps() const { return max_steps_; }
  bool needs_reset() const { return needs_reset_; }

  // The whole environment (state, step count, the generator) as text, and back.
  std::string save() const;
  void load(const std::string& text);

  // Names of the state variables, in order.
  static const std::array<std::string, 4>& variable_names();

 private:
  int64_t max_steps_;
  Generator generator_;
  std::array<double, 4> state_{};
  int64_t steps_ = 0;
  bool needs_reset_ = true;
};

}  // namespace minidl::models::rl
