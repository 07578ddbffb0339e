// CartPole (models/rl/cartpole.h): one step from rest computed by hand from gym's equations,
// trajectories against tools/fixtures/gen_cartpole.py (gym's equations in Python), the
// termination and time-limit rules, seeded resets, save / load, and the errors.
#include "models/rl/cartpole.h"

#include <cmath>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models::rl;
using Catch::Contains;
using minidl::testing::Fixtures;

TEST_CASE("cartpole: one push from rest, by hand", "[cartpole]") {
  CartPole env(200, 0);
  env.set_state({0, 0, 0, 0});
  const CartPoleStep step = env.step(1);
  // theta = 0: temp = F / (m_c + m_p); theta_acc = -temp / (l (4/3 - m_p / (m_c + m_p)));
  // x_acc = temp - m_p l theta_acc / (m_c + m_p). Euler moves positions with the old (zero)
  // velocities, so only the velocities change.
  const double temp = 10.0 / 1.1;
  const double theta_acc = -temp / (0.5 * (4.0 / 3.0 - 0.1 / 1.1));
  const double x_acc = temp - 0.05 * theta_acc / 1.1;
  CHECK(step.observation[0] == 0.0);
  CHECK(step.observation[1] == Approx(0.02 * x_acc).epsilon(1e-14));
  CHECK(step.observation[2] == 0.0);
  CHECK(step.observation[3] == Approx(0.02 * theta_acc).epsilon(1e-14));
  CHECK(step.observation[1] == Approx(0.195122).epsilon(1e-5));
  CHECK(step.observation[3] == Approx(-0.292683).epsilon(1e-5));
  CHECK(step.reward == 1.0);
  CHECK_FALSE(step.done());
}

TEST_CASE("cartpole: trajectories match gym's equations until they terminate", "[cartpole]") {
  Fixtures fx("cartpole.txt");
  for (int k = 0; k < 3; ++k) {
    const std::string name = "case" + std::to_string(k);
    INFO(name);
    const std::vector<double> start = fx[name + "_start"].to_vector<double>();
    const std::vector<int64_t> actions = fx[name + "_actions"].to_vector<int64_t>();
    const std::vector<double> states = fx[name + "_states"].to_vector<double>();
    const std::vector<bool> ended = fx[name + "_terminated"].to_vector<bool>();
    CartPole env(500, 0);
    env.set_state({start[0], start[1], start[2], start[3]});
    for (size_t t = 0; t < actions.size(); ++t) {
      const CartPoleStep step = env.step(actions[t]);
      for (int v = 0; v < 4; ++v)
        CHECK(step.observation[v] == Approx(states[t * 4 + v]).margin(1e-12));
      CHECK(step.terminated == ended[t]);
    }
    // Every case ends terminated, and the environment then refuses to step.
    CHECK(ended.back());
    CHECK(env.needs_reset());
    CHECK_THROWS_WITH(env.step(0), Contains("CartPole.step") && Contains("reset()"));
  }
}

TEST_CASE("cartpole: failure at 12 degrees or |x| > 2.4, truncation at the time limit",
          "[cartpole]") {
  const double limit = 12 * 2 * M_PI / 360;
  CartPole env(200, 0);
  // theta_dot carries theta past the limit in one step (tau theta_dot = 0.002).
  env.set_state({0, 0, limit - 0.001, 0.1});
  CHECK(env.step(0).terminated);
  env.set_state({0, 0, -limit + 0.001, -0.1});
  CHECK(env.step(1).terminated);
  env.set_state({0, 0, limit - 0.01, 0});
  CHECK_FALSE(env.step(1).terminated);
  env.set_state({2.399, 0.1, 0, 0});
  CHECK(env.step(1).terminated);
  env.set_state({-2.399, -0.1, 0, 0});
  CHECK(env.step(0).terminated);

  // v0 truncates at 200 steps, v1 at 500: a pole kept upright by hand until then.
  for (int64_t limit_steps : {CartPole::kV0Steps, CartPole::kV1Steps}) {
    CartPole timed(limit_steps, 3);
    timed.reset();
    CartPoleStep step;
    for (int64_t t = 0; t < limit_steps; ++t) {
      timed.set_state({0, 0, 0, 0});
      step = timed.step(t % 2);
      CHECK(step.truncated == (t == limit_steps - 1));
    }
    CHECK_FALSE(step.terminated);
    CHECK(timed.steps() == limit_steps);
    CHECK_THROWS_WITH(timed.step(0), Contains("ended after " + std::to_string(limit_steps)));
  }
}

TEST_CASE("cartpole: seeded resets in [-0.05, 0.05), save and load", "[cartpole]") {
  CartPole a(500, 7), b(500, 7), c(500, 8);
  for (int episode = 0; episode < 20; ++episode) {
    const auto sa = a.reset(), sb = b.reset(), sc = c.reset();
    CHECK(sa == sb);
    CHECK(sa != sc);
    for (double v : sa) CHECK((v >= -0.05 && v < 0.05));
    CHECK(a.steps() == 0);
  }
  a.reset();
  a.step(1);
  const std::string saved = a.save();
  CartPole restored(500, 99);
  restored.load(saved);
  CHECK(restored.state() == a.state());
  CHECK(restored.steps() == 1);
  CHECK(restored.step(0).observation == a.step(0).observation);
  CHECK(restored.reset() == a.reset());  // the generator came along
  CartPole other_limit(200, 0);
  CHECK_THROWS_WITH(other_limit.load(saved), Contains("time limit of 500"));
  CHECK_THROWS_WITH(restored.load("garbage"), Contains("CartPole.load"));
}

TEST_CASE("cartpole: invalid actions, stepping before reset, bad limits", "[cartpole]") {
  CartPole env(200, 0);
  CHECK_THROWS_WITH(env.step(0), Contains("reset() the environment before the first step"));
  env.reset();
  CHECK_THROWS_WITH(env.step(2), Contains("CartPole.step") && Contains("0 (push left) or 1") &&
                                     Contains("got 2"));
  CHECK_THROWS_WITH(env.step(-1), Contains("got -1"));
  CHECK_NOTHROW(env.step(1));
  CHECK_THROWS_WITH(CartPole(0, 0), Contains("time limit must be positive"));
  CHECK(CartPole::variable_names()[2] == "theta");
}
