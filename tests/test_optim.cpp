// Optimizers (nn/optim.cpp): PyTorch trajectories, parameter groups, state_dict round trips and
// the argument checks.
#include "nn/optim.h"

#include <functional>
#include <memory>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::Fixtures;
using optim::ParamGroup;

namespace {

const Fixtures& fixtures() {
  static const Fixtures fx("optim.txt");
  return fx;
}

using Factory = std::function<std::unique_ptr<optim::Optimizer>(const Tensor& w, const Tensor& b,
                                                                const Tensor& u)>;

// The problem of tools/fixtures/gen_optim.py: loss = 0.5 * ||X w + b - Y||^2.
struct Problem {
  explicit Problem(DType dtype = kFloat64, bool transposed_w = false) {
    const Fixtures& fx = fixtures();
    X = fx["problem_X"].to(dtype);
    Y = fx["problem_Y"].to(dtype);
    // transposed_w: the same values, stored column-major (a non-contiguous parameter)
    w = transposed_w ? fx["problem_w0"].t().contiguous().to(dtype).t()
                     : fx["problem_w0"].clone().to(dtype);
    w = w.detach().requires_grad_();
    b = fx["problem_b0"].clone().to(dtype).detach().requires_grad_();
    u = ones({2}, dtype).requires_grad_();
  }
  Tensor loss() const { return (0.5 * (matmul(X, w) + b - Y).pow(2.0)).sum(); }
  void step(optim::Optimizer& optimizer) const {
    optimizer.zero_grad();
    loss().backward();
    optimizer.step();
  }
  Tensor X, Y, w, b, u;
};

// Runs 5 steps and compares w and b after each with PyTorch's.
void check_trajectory(const std::string& name, const Factory& make, DType dtype = kFloat64,
                      bool transposed_w = false, double tolerance = 1e-10) {
  INFO(name << " (" << dtype << (transposed_w ? ", transposed w" : "") << ")");
  const Fixtures& fx = fixtures();
  Problem problem(dtype, transposed_w);
  REQUIRE(problem.w.is_contiguous() == !transposed_w);
  std::unique_ptr<optim::Optimizer> optimizer = make(problem.w, problem.b, problem.u);
  for (int64_t step = 0; step < 5; ++step) {
    INFO("step " << step + 1);
    problem.step(*optimizer);
    CHECK(allclose(problem.w.reshape({-1}), fx[name + "_w"].select(0, step), tolerance, tolerance));
    CHECK(allclose(problem.b, fx[name + "_b"].select(0, step), tolerance, tolerance));
  }
  // u never had a gradient: skipped, unchanged, and (but for Adagrad's eager sum) without state
  CHECK_FALSE(problem.u.grad().defined());
  CHECK(problem.u.to_vector<double>() == std::vector<double>{1.0, 1.0});
  CHECK(optimizer->state(problem.u).step == 0);
  CHECK(problem.w.dtype() == dtype);
}

template <typename T>
std::unique_ptr<optim::Optimizer> own(T* optimizer) {
  return std::unique_ptr<optim::Optimizer>(optimizer);
}

const std::vector<std::pair<std::string, Factory>>& configs() {
  using namespace optim;
  static const std::vector<std::pair<std::string, Factory>> list = {
      {"sgd_plain",
       [](auto w, auto b, auto u) {
         return own(new SGD({w, b, u}, SGDOptions(0.1)));
       }},
      {"sgd_momentum",
       [](auto w, auto b, auto u) {
         return own(
             new SGD({w, b, u}, SGDOptions(0.05).momentum(0.9).dampening(0.1).weight_decay(0.01)));
       }},
      {"sgd_nesterov",
       [](auto w, auto b, auto u) {
         return own(
             new SGD({w, b, u}, SGDOptions(0.05).momentum(0.8).nesterov(true).weight_decay(0.05)));
       }},
      {"sgd_groups",
       [](auto w, auto b, auto u) {
         return own(
             new SGD({ParamGroup({w, u}, {{"momentum", 0.5}}), ParamGroup({b}, {{"lr", 0.01}})},
                     SGDOptions(0.1).momentum(0.9)));
       }},
      {"sgd_maximize",
       [](auto w, auto b, auto u) {
         return own(new SGD({w, b, u}, SGDOptions(0.01).momentum(0.5).maximize(true)));
       }},
      {"adam_default",
       [](auto w, auto b, auto u) {
         return own(new Adam({w, b, u}, AdamOptions(0.1)));
       }},
      {"adam_amsgrad",
       [](auto w, auto b, auto u) {
         return own(new Adam(
             {w, b, u},
             AdamOptions(0.05).betas({0.8, 0.95}).eps(1e-6).weight_decay(0.1).amsgrad(true)));
       }},
      {"adam_groups",
       [](auto w, auto b, auto u) {
         return own(new Adam(
             {ParamGroup({w}), ParamGroup({b, u}, {{"lr", 0.01}, {"beta1", 0.5}, {"beta2", 0.9}})},
             AdamOptions(0.1)));
       }},
      {"adamw_default",
       [](auto w, auto b, auto u) {
         return own(new AdamW({w, b, u}, AdamWOptions(0.1)));
       }},
      {"adamw_amsgrad",
       [](auto w, auto b, auto u) {
         return own(new AdamW({w, b, u}, AdamWOptions(0.05).weight_decay(0.5).amsgrad(true)));
       }},
      {"rmsprop_default",
       [](auto w, auto b, auto u) {
         return own(new RMSprop({w, b, u}));
       }},
      {"rmsprop_momentum",
       [](auto w, auto b, auto u) {
         return own(new RMSprop({w, b, u}, RMSpropOptions(0.02).momentum(0.5)));
       }},
      {"rmsprop_centered",
       [](auto w, auto b, auto u) {
         return own(new RMSprop({w, b, u}, RMSpropOptions(0.01).centered(true)));
       }},
      {"rmsprop_centered_momentum",
       [](auto w, auto b, auto u) {
         return own(new RMSprop(
             {w, b, u},
             RMSpropOptions(0.01).alpha(0.9).eps(1e-6).weight_decay(0.1).momentum(0.8).centered(
                 true)));
       }},
      {"adagrad_default",
       [](auto w, auto b, auto u) {
         return own(new Adagrad({w, b, u}, AdagradOptions(0.1)));
       }},
      {"adagrad_options",
       [](auto w, auto b, auto u) {
         return own(new Adagrad({w, b, u}, AdagradOptions(0.1)
                                               .lr_decay(0.05)
                                               .weight_decay(0.1)
                                               .initial_accumulator_value(0.5)
                                               .eps(1e-8)));
       }},
      {"adagrad_groups",
       [](auto w, auto b, auto u) {
         return own(new Adagrad({ParamGroup({w, u}), ParamGroup({b}, {{"lr", 0.5}})},
                                AdagradOptions(0.1)));
       }},
  };
  return list;
}

const Factory& config(const std::string& name) {
  for (const auto& [n, make] : configs())
    if (n == name) return make;
  throw Error("no config " + name);
}

}  // namespace

TEST_CASE("every optimizer follows PyTorch's trajectory in float64", "[optim]") {
  for (const auto& [name, make] : configs()) check_trajectory(name, make);
}

TEST_CASE("a non-contiguous parameter is updated like a contiguous one", "[optim]") {
  for (const char* name : {"sgd_nesterov", "adam_amsgrad", "adamw_default",
                           "rmsprop_centered_momentum", "adagrad_options"})
    check_trajectory(name, config(name), kFloat64, /*transposed_w=*/true);
}

TEST_CASE("float32 parameters follow the float64 trajectory to float32 precision", "[optim]") {
  for (const char* name :
       {"sgd_momentum", "adam_amsgrad", "adamw_default", "rmsprop_momentum", "adagrad_options"})
    check_trajectory(name, config(name), kFloat32, false, 1e-5);
}

TEST_CASE("optimizer state has PyTorch's buffers and step counts", "[optim]") {
  Problem problem;
  optim::Adam adam({problem.w, problem.b, problem.u}, optim::AdamOptions(0.1).amsgrad(true));
  CHECK(adam.state(problem.w).empty());
  for (int i = 0; i < 3; ++i) problem.step(adam);
  const optim::ParamState& s = adam.state(problem.w);
  CHECK(s.step == 3);
  CHECK(s.buffers.size() == 3);
  CHECK(s.buffers.at("exp_avg").shape() == problem.w.shape());
  CHECK(s.buffers.count("exp_avg_sq") == 1);
  CHECK(s.buffers.count("max_exp_avg_sq") == 1);
  CHECK(adam.state(problem.u).empty());

  optim::OptimizerState state = adam.state_dict();
  CHECK(state.tensors.size() == 6);  // 3 buffers each for w and b, none for u
  CHECK(state.tensors[0].first == "state.0.exp_avg");
  CHECK(state.numbers.at("state.0.step") == 3);
  CHECK(state.numbers.at("state.1.step") == 3);
  CHECK(state.numbers.count("state.2.step") == 0);
  CHECK(state.numbers.at("param_groups.0.lr") == 0.1);
  CHECK(state.numbers.at("param_groups.0.beta2") == 0.999);
  CHECK(state.numbers.at("param_groups.0.amsgrad") == 1);
  CHECK(state.numbers.at("param_groups.0.num_params") == 3);

  Problem fresh;
  optim::RMSprop rmsprop({fresh.w}, optim::RMSpropOptions().momentum(0.5).centered(true));
  problem.step(rmsprop);
  CHECK(rmsprop.state(problem.w).empty());  // problem.w is not one of its parameters
  fresh.step(rmsprop);
  CHECK(rmsprop.state(fresh.w).buffers.size() == 3);  // square_avg, momentum_buffer, grad_avg
  CHECK(rmsprop.state(fresh.w).step == 1);

  optim::Adagrad adagrad({fresh.w}, optim::AdagradOptions().initial_accumulator_value(0.25));
  // as torch, the accumulator exists from construction on
  CHECK(allclose(adagrad.state(fresh.w).buffers.at("sum"), full({3, 2}, 0.25, kFloat64)));

  optim::SGD sgd({fresh.w}, optim::SGDOptions(0.1));
  fresh.step(sgd);
  CHECK(sgd.state(fresh.w).buffers.empty());  // no momentum, no buffer
}

TEST_CASE("state_dict round trip: 3 steps, save, load into a fresh optimizer, 2 more steps",
          "[optim]") {
  for (const char* name : {"sgd_nesterov", "sgd_groups", "adam_amsgrad", "adam_groups",
                           "adamw_amsgrad", "rmsprop_centered_momentum", "adagrad_options"}) {
    INFO(name);
    const Factory& make = config(name);
    Problem reference;
    auto uninterrupted = make(reference.w, reference.b, reference.u);
    for (int i = 0; i < 5; ++i) reference.step(*uninterrupted);

    Problem first;
    auto before = make(first.w, first.b, first.u);
    for (int i = 0; i < 3; ++i) first.step(*before);
    optim::OptimizerState saved = before->state_dict();

    Problem second;  // fresh parameters holding the values after 3 steps
    {
      NoGradGuard no_grad;
      second.w.copy_(first.w);
      second.b.copy_(first.b);
    }
    auto after = make(second.w, second.b, second.u);
    after->load_state_dict(saved);
    for (int i = 0; i < 2; ++i) second.step(*after);
    // bit-for-bit: the same operations on the same values
    CHECK(second.w.to_vector<double>() == reference.w.to_vector<double>());
    CHECK(second.b.to_vector<double>() == reference.b.to_vector<double>());
    // the loaded buffers are copies, not the saved tensors
    for (const auto& entry : after->state(second.w).buffers)
      for (const auto& saved_entry : saved.tensors)
        CHECK_FALSE(entry.second.shares_storage(saved_entry.second));
  }
}

TEST_CASE("load_state_dict restores group options and converts buffers", "[optim]") {
  Problem problem;
  optim::SGD sgd({problem.w, problem.b}, optim::SGDOptions(0.1).momentum(0.9));
  problem.step(sgd);
  optim::OptimizerState state = sgd.state_dict();
  state.numbers["param_groups.0.lr"] = 0.25;
  state.numbers["param_groups.0.initial_lr"] = 0.5;  // e.g. set by a scheduler

  Problem problem32(kFloat32);
  optim::SGD sgd32({problem32.w, problem32.b}, optim::SGDOptions(0.1).momentum(0.9));
  sgd32.load_state_dict(state);
  CHECK(sgd32.param_groups()[0].lr() == 0.25);
  CHECK(sgd32.param_groups()[0].get("initial_lr") == 0.5);
  const Tensor& buf = sgd32.state(problem32.w).buffers.at("momentum_buffer");
  CHECK(buf.dtype() == kFloat32);
  CHECK(allclose(buf, sgd.state(problem.w).buffers.at("momentum_buffer"), 1e-6, 1e-6));
}

TEST_CASE("load_state_dict rejects a state that does not fit", "[optim]") {
  Problem problem;
  optim::Adam adam({problem.w, problem.b}, optim::AdamOptions(0.1));
  problem.step(adam);
  const optim::OptimizerState good = adam.state_dict();

  Problem other;
  optim::Adam two_groups({ParamGroup({other.w}), ParamGroup({other.b})}, optim::AdamOptions());
  CHECK_THROWS_WITH(two_groups.load_state_dict(good),
                    Catch::Contains("Adam.load_state_dict") &&
                        Catch::Contains("1 parameter groups, the optimizer has 2"));
  optim::Adam one_param({other.w}, optim::AdamOptions());
  CHECK_THROWS_WITH(one_param.load_state_dict(good),
                    Catch::Contains("group 0 has 1 parameters, the loaded state 2"));
  optim::Adam swapped({other.b, other.w}, optim::AdamOptions());
  CHECK_THROWS_WITH(swapped.load_state_dict(good),
                    Catch::Contains("'state.0.exp_avg' has shape [3, 2]") &&
                        Catch::Contains("parameter 0 has shape [2]"));

  optim::Adam target({other.w, other.b}, optim::AdamOptions());
  optim::OptimizerState bad = good;
  bad.numbers["bogus"] = 1;
  CHECK_THROWS_WITH(target.load_state_dict(bad), Catch::Contains("unexpected entry 'bogus'"));
  bad = good;
  bad.tensors.emplace_back("state.7.exp_avg", zeros({2}, kFloat64));
  CHECK_THROWS_WITH(target.load_state_dict(bad),
                    Catch::Contains("refers to parameter 7 but the optimizer has 2"));
  bad = good;
  bad.numbers["param_groups.0.lr"] = -1;
  CHECK_THROWS_WITH(target.load_state_dict(bad),
                    Catch::Contains("Adam") && Catch::Contains("invalid learning rate: -1"));
  bad = good;
  bad.numbers.erase("param_groups.0.eps");
  CHECK_THROWS_WITH(target.load_state_dict(bad), Catch::Contains("lacks option 'eps'"));
  bad = good;
  bad.numbers["state.0.step"] = 1.5;
  CHECK_THROWS_WITH(target.load_state_dict(bad),
                    Catch::Contains("'state.0.step' must be a non-negative integer"));
  // a failed load changed nothing
  CHECK(target.state(other.w).empty());
  CHECK(target.param_groups()[0].lr() == 1e-3);
}

TEST_CASE("parameter groups take unset options from the defaults", "[optim]") {
  Problem problem;
  optim::SGD sgd({ParamGroup({problem.w}, {{"lr", 0.5}, {"nesterov", 1}}), ParamGroup({problem.b})},
                 optim::SGDOptions(0.1).momentum(0.9).weight_decay(0.01));
  REQUIRE(sgd.param_groups().size() == 2);
  CHECK(sgd.param_groups()[0].lr() == 0.5);
  CHECK(sgd.param_groups()[0].get("nesterov") == 1);
  CHECK(sgd.param_groups()[0].get("momentum") == 0.9);
  CHECK(sgd.param_groups()[1].lr() == 0.1);
  CHECK(sgd.param_groups()[1].get("weight_decay") == 0.01);
  CHECK(sgd.defaults().at("lr") == 0.1);

  sgd.add_param_group(ParamGroup({problem.u}, {{"lr", 0.2}}));
  CHECK(sgd.param_groups()[2].lr() == 0.2);
  CHECK_THROWS_WITH(sgd.add_param_group(ParamGroup({problem.u})),
                    Catch::Contains("SGD") && Catch::Contains("more than one place"));
  CHECK_THROWS_WITH(sgd.param_groups()[0].get("betas"),
                    Catch::Contains("ParamGroup") && Catch::Contains("'betas'"));

  // changing a group's lr changes the next update (what schedulers do)
  Problem a, b;
  optim::SGD fast({a.w}, optim::SGDOptions(0.1)), slow({b.w}, optim::SGDOptions(0.1));
  slow.param_groups()[0].set_lr(0.0);
  a.step(fast);
  b.step(slow);
  CHECK(b.w.to_vector<double>() == fixtures()["problem_w0"].to_vector<double>());
  CHECK_FALSE(a.w.to_vector<double>() == fixtures()["problem_w0"].to_vector<double>());
}

TEST_CASE("zero_grad drops or zeroes the gradients", "[optim]") {
  Problem problem;
  optim::SGD sgd({problem.w, problem.b}, optim::SGDOptions(0.1));
  problem.loss().backward();
  sgd.zero_grad(false);
  REQUIRE(problem.w.grad().defined());
  CHECK(problem.w.grad().abs().sum().item() == 0.0);
  sgd.zero_grad();
  CHECK_FALSE(problem.w.grad().defined());
  CHECK_FALSE(problem.b.grad().defined());
  // no gradients at all: step() is a no-op
  const std::vector<double> before = problem.w.to_vector<double>();
  sgd.step();
  CHECK(problem.w.to_vector<double>() == before);
}

TEST_CASE("step with a closure re-evaluates the loss with grad mode on", "[optim]") {
  Problem problem;
  optim::SGD sgd({problem.w, problem.b}, optim::SGDOptions(0.1));
  NoGradGuard no_grad;  // the closure still records
  const double initial = problem.loss().item();
  Tensor loss = sgd.step([&] {
    sgd.zero_grad();
    Tensor l = problem.loss();
    l.backward();
    return l;
  });
  CHECK(loss.item() == initial);
  CHECK(problem.loss().item() < initial);
  CHECK(sgd.step().defined() == false);
}

TEST_CASE("an update bumps the parameter's version and records nothing", "[optim]") {
  Problem problem;
  optim::Adam adam({problem.w}, optim::AdamOptions(0.1));
  problem.loss().backward();
  const uint64_t version = problem.w._version();
  adam.step();
  CHECK(problem.w._version() > version);
  CHECK(problem.w.is_leaf());
  CHECK(problem.w.requires_grad());
  CHECK(GradMode::is_enabled());
}

TEST_CASE("large parameters take the parallel path with the same formula", "[optim]") {
  const int64_t n = 100003;  // above kParallelGrain, odd
  Tensor p = zeros({n}, kFloat32).requires_grad_();
  p.set_grad(full({n}, 2.0, kFloat32));
  optim::SGD sgd({p}, optim::SGDOptions(0.5).momentum(0.9));
  sgd.step();  // buf = g; p = -0.5 * 2
  sgd.step();  // buf = 0.9 * 2 + 2 = 3.8; p = -1 - 1.9
  CHECK(allclose(p, full({n}, -2.9, kFloat32), 1e-6, 1e-6));

  Tensor q = ones({n}, kFloat64).requires_grad_();
  q.set_grad(full({n}, 0.5, kFloat64));
  optim::Adam adam({q}, optim::AdamOptions(0.01));
  adam.step();  // the first Adam step moves every element by lr * g / (|g| + eps)
  CHECK(allclose(q, full({n}, 1.0 - 0.01 * 0.5 / (0.5 + 1e-8), kFloat64), 1e-12, 1e-12));
}

TEST_CASE("a parameter changed under the optimizer is an error, not a bad read", "[optim]") {
  Tensor p = zeros({3}, kFloat64).requires_grad_();
  optim::Adam adam({p});
  p.set_grad(ones({3}, kFloat64));
  adam.step();
  p.set_data(zeros({5}, kFloat64));
  p.set_grad(ones({5}, kFloat64));
  CHECK_THROWS_WITH(adam.step(), Catch::Contains("Adam") && Catch::Contains("state 'exp_avg'") &&
                                     Catch::Contains("[3]") && Catch::Contains("[5]"));
}

TEST_CASE("optimizer constructors reject invalid hyper-parameters", "[optim]") {
  Problem p;
  using namespace optim;
  const std::vector<Tensor> params{p.w, p.b};
  CHECK_THROWS_WITH(SGD(params, SGDOptions(-0.1)),
                    Catch::Contains("SGD") && Catch::Contains("invalid learning rate: -0.1"));
  CHECK_THROWS_WITH(SGD(params, SGDOptions(0.1).momentum(-1)),
                    Catch::Contains("invalid momentum value: -1"));
  CHECK_THROWS_WITH(SGD(params, SGDOptions(0.1).weight_decay(-1)),
                    Catch::Contains("invalid weight_decay value: -1"));
  CHECK_THROWS_WITH(
      SGD(params, SGDOptions(0.1).nesterov(true)),
      Catch::Contains("SGD") &&
          Catch::Contains("Nesterov momentum requires a momentum and zero dampening"));
  CHECK_THROWS_WITH(SGD(params, SGDOptions(0.1).nesterov(true).momentum(0.9).dampening(0.1)),
                    Catch::Contains("dampening 0.1"));
  CHECK_NOTHROW(
      SGD(params, SGDOptions(0.1).momentum(0.9).dampening(0.5)));  // fine without nesterov
  CHECK_THROWS_WITH(SGD({ParamGroup({p.w}, {{"nesterov", 1}})}, SGDOptions(0.1)),
                    Catch::Contains("Nesterov"));

  CHECK_THROWS_WITH(Adam(params, AdamOptions(-1)),
                    Catch::Contains("Adam") && Catch::Contains("invalid learning rate: -1"));
  CHECK_THROWS_WITH(Adam(params, AdamOptions().betas({1.0, 0.999})),
                    Catch::Contains("invalid beta parameter at index 0: 1"));
  CHECK_THROWS_WITH(Adam(params, AdamOptions().betas({0.9, -0.1})),
                    Catch::Contains("invalid beta parameter at index 1: -0.1"));
  CHECK_THROWS_WITH(Adam(params, AdamOptions().eps(-1e-8)),
                    Catch::Contains("invalid epsilon value"));
  CHECK_THROWS_WITH(Adam(params, AdamOptions().weight_decay(-0.5)),
                    Catch::Contains("invalid weight_decay value: -0.5"));
  CHECK_THROWS_WITH(Adam({ParamGroup({p.w}, {{"beta1", 1.5}})}),
                    Catch::Contains("invalid beta parameter at index 0: 1.5"));
  CHECK_THROWS_WITH(AdamW(params, AdamWOptions().betas({0.9, 1.0})),
                    Catch::Contains("AdamW") && Catch::Contains("index 1"));
  CHECK_THROWS_WITH(AdamW(params, AdamWOptions(std::nan(""))),
                    Catch::Contains("AdamW") && Catch::Contains("invalid learning rate: nan"));

  CHECK_THROWS_WITH(RMSprop(params, RMSpropOptions(-0.01)),
                    Catch::Contains("RMSprop") && Catch::Contains("invalid learning rate"));
  CHECK_THROWS_WITH(RMSprop(params, RMSpropOptions().alpha(-0.5)),
                    Catch::Contains("invalid alpha value: -0.5"));
  CHECK_THROWS_WITH(RMSprop(params, RMSpropOptions().momentum(-0.5)),
                    Catch::Contains("invalid momentum value"));
  CHECK_THROWS_WITH(RMSprop(params, RMSpropOptions().eps(-1)),
                    Catch::Contains("invalid epsilon value"));

  CHECK_THROWS_WITH(Adagrad(params, AdagradOptions(-1)),
                    Catch::Contains("Adagrad") && Catch::Contains("invalid learning rate"));
  CHECK_THROWS_WITH(Adagrad(params, AdagradOptions().lr_decay(-1)),
                    Catch::Contains("invalid lr_decay value"));
  CHECK_THROWS_WITH(Adagrad(params, AdagradOptions().initial_accumulator_value(-1)),
                    Catch::Contains("invalid initial_accumulator_value value"));
  CHECK_THROWS_WITH(Adagrad(params, AdagradOptions().weight_decay(-1)),
                    Catch::Contains("invalid weight_decay value"));
}

TEST_CASE("optimizer constructors reject bad parameter lists", "[optim]") {
  using namespace optim;
  CHECK_THROWS_WITH(SGD(std::vector<Tensor>{}, SGDOptions(0.1)),
                    Catch::Contains("SGD") && Catch::Contains("empty parameter list"));
  CHECK_THROWS_WITH(Adam(std::vector<ParamGroup>{ParamGroup(std::vector<Tensor>{})}),
                    Catch::Contains("Adam") && Catch::Contains("empty parameter list"));
  Tensor leaf = randn({2, 3}).requires_grad_();
  Tensor non_leaf = leaf * 2.0;
  CHECK_THROWS_WITH(SGD({non_leaf}, SGDOptions(0.1)),
                    Catch::Contains("non-leaf") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(Adam({zeros({4}, kInt64)}),
                    Catch::Contains("Adam") && Catch::Contains("int64") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(SGD({leaf, leaf}, SGDOptions(0.1)), Catch::Contains("parameter 1 of group 0") &&
                                                            Catch::Contains("more than one place"));
  CHECK_THROWS_WITH(SGD({ParamGroup({leaf}), ParamGroup({leaf})}, SGDOptions(0.1)),
                    Catch::Contains("more than one place"));
  CHECK_THROWS_WITH(SGD({Tensor()}, SGDOptions(0.1)), Catch::Contains("undefined tensor"));
  CHECK_THROWS_WITH(SGD({ParamGroup({leaf}, {{"betas", 0.9}})}, SGDOptions(0.1)),
                    Catch::Contains("SGD") && Catch::Contains("unknown option 'betas'"));
}
