// Learning-rate schedulers (nn/scheduler.cpp): 30-step learning-rate sequences against PyTorch,
// resuming from a state_dict, and the argument checks.
#include "nn/scheduler.h"

#include <functional>
#include <memory>

#include "nn/optim.h"
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

// Two groups with lr 0.1 and 0.05, as in tools/fixtures/gen_optim.py.
struct TwoGroups {
  explicit TwoGroups(bool adam = false) {
    a = zeros({2}).requires_grad_();
    b = zeros({2}).requires_grad_();
    std::vector<ParamGroup> groups{ParamGroup({a}), ParamGroup({b}, {{"lr", 0.05}})};
    if (adam)
      optimizer = std::make_unique<optim::Adam>(groups, optim::AdamOptions(0.1));
    else
      optimizer = std::make_unique<optim::SGD>(groups, optim::SGDOptions(0.1).momentum(0.9));
  }
  Tensor a, b;
  std::unique_ptr<optim::Optimizer> optimizer;
};

Tensor as_tensor(const std::vector<std::vector<double>>& rows) {
  std::vector<double> flat;
  for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
  return from_vector(
      flat, {static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, kFloat64);
}

using Make = std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)>;

// get_last_lr() after construction and after each of 30 steps; with momentum_key, the groups'
// momentum (or beta1) after each step too.
void check_schedule(const std::string& name, const Make& make, bool adam = false,
                    const std::string& momentum_key = "") {
  INFO(name);
  TwoGroups setup(adam);
  std::unique_ptr<optim::LRScheduler> scheduler = make(*setup.optimizer);
  std::vector<std::vector<double>> lrs{scheduler->get_last_lr()}, momenta;
  for (int i = 0; i < 30; ++i) {
    setup.optimizer->step();
    scheduler->step();
    lrs.push_back(scheduler->get_last_lr());
    CHECK(setup.optimizer->param_groups()[1].lr() == lrs.back()[1]);
    if (!momentum_key.empty())
      momenta.push_back({setup.optimizer->param_groups()[0].get(momentum_key),
                         setup.optimizer->param_groups()[1].get(momentum_key)});
  }
  CHECK(scheduler->last_epoch() == (name == "cosine_resumed" ? 35 : 30));
  CHECK(allclose(as_tensor(lrs), fixtures()["sched_" + name], 1e-13, 1e-15));
  if (!momentum_key.empty())
    CHECK(allclose(as_tensor(momenta), fixtures()["sched_" + name + "_momentum"], 1e-13, 1e-15));
}

template <typename T, typename... Args>
Make scheduler_of(Args... args) {
  return [=](optim::Optimizer& o) { return std::make_unique<T>(o, args...); };
}

optim::OneCycleLROptions onecycle_three_phase() {
  return optim::OneCycleLROptions(0.4)
      .epochs(5)
      .steps_per_epoch(6)
      .pct_start(0.25)
      .anneal_strategy("linear")
      .three_phase(true)
      .div_factor(10.0)
      .final_div_factor(100.0)
      .base_momentum(0.8)
      .max_momentum(0.9);
}

}  // namespace

TEST_CASE("StepLR, MultiStepLR and ExponentialLR match PyTorch", "[optim]") {
  check_schedule("step", scheduler_of<optim::StepLR>(int64_t{7}, 0.5));
  check_schedule("multistep",
                 scheduler_of<optim::MultiStepLR>(std::vector<int64_t>{5, 12, 12, 20}, 0.3));
  check_schedule("exponential", scheduler_of<optim::ExponentialLR>(0.9));
}

TEST_CASE("CosineAnnealingLR matches PyTorch's recursive form, past T_max and resumed", "[optim]") {
  check_schedule("cosine", scheduler_of<optim::CosineAnnealingLR>(int64_t{10}, 0.001));
  check_schedule("cosine_resumed", [](optim::Optimizer& o) {
    for (ParamGroup& g : o.param_groups()) g.set("initial_lr", g.lr());
    return std::make_unique<optim::CosineAnnealingLR>(o, 10, 0.001, /*last_epoch=*/4);
  });
}

TEST_CASE("LinearLR warm-up and decay match PyTorch", "[optim]") {
  check_schedule("linear_warmup", scheduler_of<optim::LinearLR>(0.25, 1.0, int64_t{8}));
  check_schedule("linear_decay", scheduler_of<optim::LinearLR>(1.0, 0.1, int64_t{20}));
}

TEST_CASE("OneCycleLR matches PyTorch and cycles momentum or beta1", "[optim]") {
  check_schedule("onecycle_cos",
                 scheduler_of<optim::OneCycleLR>(
                     optim::OneCycleLROptions(std::vector<double>{1.0, 0.5}).total_steps(30)),
                 false, "momentum");
  check_schedule("onecycle_linear_three", scheduler_of<optim::OneCycleLR>(onecycle_three_phase()),
                 /*adam=*/true, "beta1");
  TwoGroups setup(true);
  optim::OneCycleLR onecycle(*setup.optimizer, onecycle_three_phase());
  CHECK(onecycle.total_steps() == 30);
  CHECK(setup.optimizer->param_groups()[0].get("beta2") == 0.999);  // only beta1 cycles
}

TEST_CASE("ReduceLROnPlateau matches PyTorch in min/rel and max/abs modes", "[optim]") {
  const std::vector<double> metrics = fixtures()["plateau_metrics"].to_vector<double>();
  auto run = [&](const std::string& name, auto make) {
    INFO(name);
    TwoGroups setup;
    std::unique_ptr<optim::ReduceLROnPlateau> plateau = make(*setup.optimizer);
    std::vector<std::vector<double>> lrs{plateau->get_last_lr()};
    for (double metric : metrics) {
      plateau->step(metric);
      lrs.push_back(plateau->get_last_lr());
    }
    CHECK(plateau->last_epoch() == 30);
    CHECK(allclose(as_tensor(lrs), fixtures()["sched_" + name], 1e-13, 1e-15));
  };
  run("plateau_min_rel", [](optim::Optimizer& o) {
    return std::make_unique<optim::ReduceLROnPlateau>(o, "min", 0.5, 2, 0.05, "rel", 1,
                                                      std::vector<double>{0.01, 0.02});
  });
  run("plateau_max_abs", [](optim::Optimizer& o) {
    return std::make_unique<optim::ReduceLROnPlateau>(o, "max", 0.2, 1, 0.05, "abs", 0,
                                                      std::vector<double>{0.0005}, 1e-4);
  });
}

TEST_CASE("a scheduler resumed from state_dict continues the same sequence", "[optim]") {
  const std::vector<std::pair<std::string, Make>> cases = {
      {"cosine", scheduler_of<optim::CosineAnnealingLR>(int64_t{10}, 0.001)},
      {"onecycle", scheduler_of<optim::OneCycleLR>(onecycle_three_phase())},
      {"linear", scheduler_of<optim::LinearLR>(0.25, 1.0, int64_t{8})},
      {"multistep", scheduler_of<optim::MultiStepLR>(std::vector<int64_t>{3, 12}, 0.5)}};
  for (const auto& [name, make] : cases) {
    INFO(name);
    TwoGroups reference(true);
    auto uninterrupted = make(*reference.optimizer);
    for (int i = 0; i < 10; ++i) uninterrupted->step();

    TwoGroups first(true);
    auto before = make(*first.optimizer);
    for (int i = 0; i < 4; ++i) before->step();
    const optim::OptimizerState optimizer_state = first.optimizer->state_dict();
    const optim::SchedulerState scheduler_state = before->state_dict();
    CHECK(scheduler_state.at("last_epoch") == 4);
    CHECK(scheduler_state.at("base_lrs.1") == before->base_lrs()[1]);

    TwoGroups second(true);
    auto after = make(*second.optimizer);
    second.optimizer->load_state_dict(optimizer_state);
    after->load_state_dict(scheduler_state);
    CHECK(after->get_last_lr() == before->get_last_lr());
    for (int i = 0; i < 6; ++i) after->step();
    CHECK(after->get_last_lr() == uninterrupted->get_last_lr());
    CHECK(second.optimizer->param_groups()[0].get("beta1") ==
          reference.optimizer->param_groups()[0].get("beta1"));
  }

  TwoGroups reference, first, second;
  optim::ReduceLROnPlateau uninterrupted(*reference.optimizer, "min", 0.5, 1);
  optim::ReduceLROnPlateau before(*first.optimizer, "min", 0.5, 1);
  optim::ReduceLROnPlateau after(*second.optimizer, "min", 0.5, 1);
  const std::vector<double> metrics{1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.4, 0.45, 0.5};
  for (size_t i = 0; i < metrics.size(); ++i) {
    uninterrupted.step(metrics[i]);
    if (i < 4) before.step(metrics[i]);
  }
  second.optimizer->load_state_dict(first.optimizer->state_dict());
  after.load_state_dict(before.state_dict());
  CHECK(after.best() == 0.5);
  for (size_t i = 4; i < metrics.size(); ++i) after.step(metrics[i]);
  CHECK(after.get_last_lr() == uninterrupted.get_last_lr());
  CHECK(after.num_bad_epochs() == uninterrupted.num_bad_epochs());
  CHECK(after.get_last_lr()[0] < 0.1);  // it did reduce
}

TEST_CASE("schedulers reject invalid arguments", "[optim]") {
  TwoGroups setup;
  optim::Optimizer& o = *setup.optimizer;
  CHECK_THROWS_WITH(optim::StepLR(o, 0), Catch::Contains("StepLR") && Catch::Contains("step_size"));
  CHECK_THROWS_WITH(optim::CosineAnnealingLR(o, 0),
                    Catch::Contains("CosineAnnealingLR") && Catch::Contains("T_max"));
  CHECK_THROWS_WITH(optim::LinearLR(o, 1.5), Catch::Contains("LinearLR") &&
                                                 Catch::Contains("starting multiplicative factor"));
  CHECK_THROWS_WITH(optim::LinearLR(o, 0.0), Catch::Contains("got 0"));
  CHECK_THROWS_WITH(optim::LinearLR(o, 0.5, 2.0),
                    Catch::Contains("ending multiplicative factor") && Catch::Contains("got 2"));
  CHECK_THROWS_WITH(optim::LinearLR(o, 0.5, 1.0, 0), Catch::Contains("total_iters"));
  CHECK_THROWS_WITH(optim::ExponentialLR(o, 0.9, -2), Catch::Contains("last_epoch must be >= -1"));

  // resuming needs the groups' initial_lr
  TwoGroups fresh;
  CHECK_THROWS_WITH(optim::StepLR(*fresh.optimizer, 3, 0.1, 5),
                    Catch::Contains("StepLR") && Catch::Contains("initial_lr") &&
                        Catch::Contains("param_groups[0]"));

  using optim::OneCycleLROptions;
  CHECK_THROWS_WITH(optim::OneCycleLR(o, OneCycleLROptions(1.0)),
                    Catch::Contains("OneCycleLR") && Catch::Contains("total_steps"));
  CHECK_THROWS_WITH(optim::OneCycleLR(o, OneCycleLROptions(1.0).total_steps(-3)),
                    Catch::Contains("positive integer total_steps, but got -3"));
  CHECK_THROWS_WITH(optim::OneCycleLR(o, OneCycleLROptions(1.0).total_steps(10).pct_start(1.5)),
                    Catch::Contains("pct_start, but got 1.5"));
  CHECK_THROWS_WITH(
      optim::OneCycleLR(o, OneCycleLROptions(1.0).total_steps(10).anneal_strategy("exp")),
      Catch::Contains("anneal_strategy") && Catch::Contains("'exp'"));
  CHECK_THROWS_WITH(
      optim::OneCycleLR(o, OneCycleLROptions(std::vector<double>{1, 2, 3}).total_steps(10)),
      Catch::Contains("expected 1 or 2 values for max_lr, got 3"));
  CHECK_THROWS_WITH(
      optim::OneCycleLR(o, OneCycleLROptions(1.0).total_steps(10).base_momentum({0.8, 0.8, 0.8})),
      Catch::Contains("base_momentum"));
  Tensor p = zeros({2}).requires_grad_();
  optim::Adagrad adagrad({p});
  CHECK_THROWS_WITH(optim::OneCycleLR(adagrad, OneCycleLROptions(1.0).total_steps(10)),
                    Catch::Contains("Adagrad has no momentum or betas"));
  CHECK_NOTHROW(
      optim::OneCycleLR(adagrad, OneCycleLROptions(1.0).total_steps(10).cycle_momentum(false)));
  TwoGroups short_run;
  optim::OneCycleLR onecycle(*short_run.optimizer, OneCycleLROptions(1.0).total_steps(3));
  for (int i = 0; i < 3; ++i) onecycle.step();  // PyTorch allows last_epoch == total_steps
  CHECK_THROWS_WITH(onecycle.step(),
                    Catch::Contains("tried to step 5 times") && Catch::Contains("is 3"));

  CHECK_THROWS_WITH(
      optim::ReduceLROnPlateau(o, "min", 1.0),
      Catch::Contains("ReduceLROnPlateau") && Catch::Contains("factor should be < 1.0"));
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau(o, "avg"), Catch::Contains("mode 'avg' is unknown"));
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau(o, "min", 0.1, 10, 1e-4, "pct"),
                    Catch::Contains("threshold mode 'pct' is unknown"));
  CHECK_THROWS_WITH(
      optim::ReduceLROnPlateau(o, "min", 0.1, 10, 1e-4, "rel", 0, std::vector<double>{0, 0, 0}),
      Catch::Contains("expected 1 or 2 values for min_lr, got 3"));
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau(o, "min", 0.1, -1), Catch::Contains("patience"));
}

TEST_CASE("scheduler load_state_dict rejects a state that does not fit", "[optim]") {
  TwoGroups setup;
  optim::StepLR step(*setup.optimizer, 3);
  optim::SchedulerState state = step.state_dict();
  CHECK(state.size() == 6);  // last_epoch, step_count, 2 base_lrs, 2 last_lr

  optim::SchedulerState missing = state;
  missing.erase("base_lrs.1");
  CHECK_THROWS_WITH(step.load_state_dict(missing),
                    Catch::Contains("StepLR.load_state_dict") && Catch::Contains("expected 6"));
  optim::SchedulerState renamed = missing;
  renamed["base_lrs.7"] = 1.0;
  CHECK_THROWS_WITH(step.load_state_dict(renamed), Catch::Contains("missing entry 'base_lrs.1'"));

  Tensor p = zeros({2}).requires_grad_();
  optim::SGD one_group({p}, optim::SGDOptions(0.1));
  optim::StepLR other(one_group, 3);
  CHECK_THROWS_WITH(other.load_state_dict(state), Catch::Contains("for 1 parameter groups"));

  optim::ReduceLROnPlateau plateau(*setup.optimizer);
  CHECK(plateau.get_last_lr() == std::vector<double>{0.1, 0.05});
  CHECK_THROWS_WITH(plateau.load_state_dict(state),
                    Catch::Contains("ReduceLROnPlateau.load_state_dict"));
}
