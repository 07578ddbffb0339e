// CartPole's dynamics and rules (see cartpole.h).
#include "models/rl/cartpole.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"

namespace minidl::models::rl {

CartPole::CartPole(int64_t max_steps, uint64_t seed) : max_steps_(max_steps), generator_(seed) {
  MINIDL_CHECK(max_steps > 0, "CartPole", "the time limit must be positive, got " << max_steps);
}

std::array<double, 4> CartPole::reset() {
  for (double& value : state_) value = generator_.uniform() * 0.1 - 0.05;
  steps_ = 0;
  needs_reset_ = false;
  return state_;
}

void CartPole::set_state(const std::array<double, 4>& state) {
  state_ = state;
  needs_reset_ = false;
}

CartPoleStep CartPole::step(int64_t action) {
  MINIDL_CHECK(action == 0 || action == 1, "CartPole.step",
               "the action must be 0 (push left) or 1 (push right), got " << action);
  MINIDL_CHECK(!needs_reset_, "CartPole.step",
               (steps_ == 0 ? "reset() the environment before the first step"
                            : "the episode ended after " + std::to_string(steps_) +
                                  " steps; reset() before stepping again"));
  auto& [x, x_dot, theta, theta_dot] = state_;
  const double force = action == 1 ? kForce : -kForce;
  const double cos_theta = std::cos(theta), sin_theta = std::sin(theta);
  const double temp = (force + kPoleMassLength * theta_dot * theta_dot * sin_theta) / kTotalMass;
  const double theta_acc =
      (kGravity * sin_theta - cos_theta * temp) /
      (kHalfLength * (4.0 / 3.0 - kPoleMass * cos_theta * cos_theta / kTotalMass));
  const double x_acc = temp - kPoleMassLength * theta_acc * cos_theta / kTotalMass;
  // Explicit Euler: positions move with the old velocities.
  x = x + kTau * x_dot;
  x_dot = x_dot + kTau * x_acc;
  theta = theta + kTau * theta_dot;
  theta_dot = theta_dot + kTau * theta_acc;
  ++steps_;

  CartPoleStep result;
  result.observation = state_;
  result.reward = 1.0;
  result.terminated = x < -kXLimit || x > kXLimit || theta < -kThetaLimit || theta > kThetaLimit;
  result.truncated = !result.terminated && steps_ >= max_steps_;
  needs_reset_ = result.done();
  return result;
}

std::string CartPole::save() const {
  std::ostringstream out;
  char number[40];
  for (double value : state_) {
    std::snprintf(number, sizeof number, "%.17g", value);
    out << number << " ";
  }
  out << steps_ << " " << (needs_reset_ ? 1 : 0) << " " << max_steps_ << " "
      << generator_.get_state();
  return out.str();
}

void CartPole::load(const std::string& text) {
  std::istringstream in(text);
  std::array<double, 4> state{};
  int64_t steps = 0, max_steps = 0;
  int needs_reset = 0;
  std::string number;
  for (double& value : state) {
    in >> number;
    char* end = nullptr;
    value = std::strtod(number.c_str(), &end);
    MINIDL_CHECK(!number.empty() && *end == '\0', "CartPole.load",
                 "not a saved CartPole: bad state value \"" << number << "\"");
  }
  in >> steps >> needs_reset >> max_steps;
  MINIDL_CHECK(in && steps >= 0 && (needs_reset == 0 || needs_reset == 1), "CartPole.load",
               "not a saved CartPole: \"" << text.substr(0, 80) << "\"");
  MINIDL_CHECK(max_steps == max_steps_, "CartPole.load",
               "the saved environment has a time limit of " << max_steps << " steps, this one "
                                                            << max_steps_);
  std::string generator_state;
  std::getline(in >> std::ws, generator_state);
  generator_.set_state(generator_state);
  state_ = state;
  steps_ = steps;
  needs_reset_ = needs_reset == 1;
}

const std::array<std::string, 4>& CartPole::variable_names() {
  static const std::array<std::string, 4> names = {"x", "x_dot", "theta", "theta_dot"};
  return names;
}

}  // namespace minidl::models::rl
