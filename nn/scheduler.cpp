// Learning-rate schedulers (nn/scheduler.h). Each get_lr() is PyTorch 1.13's recursive form with
// the same order of floating-point operations, so the learning rates agree to the last bit or so.
#include "nn/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace minidl::optim {

namespace {

constexpr double kPi = 3.141592653589793;

// One value per group: a single value is repeated; otherwise the count must match.
std::vector<double> per_group(const std::vector<double>& values, size_t groups,
                              const std::string& op, const char* what) {
  if (values.size() == 1) return std::vector<double>(groups, values[0]);
  MINIDL_CHECK(values.size() == groups, op,
               "expected 1 or " << groups << " values for " << what << ", got " << values.size());
  return values;
}

std::vector<double> group_lrs(const Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const ParamGroup& group : optimizer.param_groups()) lrs.push_back(group.lr());
  return lrs;
}

double required(const SchedulerState& state, const std::string& key, const std::string& op) {
  auto it = state.find(key);
  MINIDL_CHECK(it != state.end(), op, "missing entry '" << key << "'");
  return it->second;
}

// Reads "<name>.0", "<name>.1", ... (exactly `count` of them).
std::vector<double> read_list(const SchedulerState& state, const std::string& name, size_t count,
                              const std::string& op) {
  std::vector<double> values;
  for (size_t i = 0; i < count; ++i)
    values.push_back(required(state, name + "." + std::to_string(i), op));
  return values;
}

void write_list(SchedulerState& state, const std::string& name, const std::vector<double>& v) {
  for (size_t i = 0; i < v.size(); ++i) state[name + "." + std::to_string(i)] = v[i];
}

// Every key of `state` must be among the `count`-long lists and the scalars named.
void check_keys(const SchedulerState& state, const std::vector<std::string>& scalars,
                const std::vector<std::string>& lists, size_t count, const std::string& op) {
  MINIDL_CHECK(state.size() == scalars.size() + lists.size() * count, op,
               "expected " << scalars.size() + lists.size() * count << " entries for " << count
                           << " parameter groups, got " << state.size());
  for (const std::string& key : scalars) required(state, key, op);
  for (const std::string& list : lists) read_list(state, list, count, op);
}

}  // namespace

// ---------------------------------------------------------------- LRScheduler

LRScheduler::LRScheduler(Optimizer& optimizer, int64_t last_epoch, std::string name)
    : optimizer_(optimizer), name_(std::move(name)), last_epoch_(last_epoch) {
  MINIDL_CHECK(last_epoch >= -1, name_, "last_epoch must be >= -1, got " << last_epoch);
}

void LRScheduler::initial_step() {
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    if (last_epoch_ == -1) {
      if (!groups[i].has("initial_lr")) groups[i].set("initial_lr", groups[i].lr());
    } else {
      MINIDL_CHECK(groups[i].has("initial_lr"), name_,
                   "param 'initial_lr' is not specified in param_groups["
                       << i << "] when resuming (last_epoch " << last_epoch_ << ")");
    }
    base_lrs_.push_back(groups[i].get("initial_lr"));
  }
  step_count_ = 0;
  step();
}

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  std::vector<double> lrs = get_lr();
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].set_lr(lrs[i]);
  last_lr_ = group_lrs(optimizer_);
}

SchedulerState LRScheduler::state_dict() const {
  SchedulerState state{{"last_epoch", static_cast<double>(last_epoch_)},
                       {"step_count", static_cast<double>(step_count_)}};
  write_list(state, "base_lrs", base_lrs_);
  write_list(state, "last_lr", last_lr_);
  return state;
}

void LRScheduler::load_state_dict(const SchedulerState& state) {
  const std::string op = name_ + ".load_state_dict";
  const size_t groups = optimizer_.param_groups().size();
  check_keys(state, {"last_epoch", "step_count"}, {"base_lrs", "last_lr"}, groups, op);
  last_epoch_ = static_cast<int64_t>(state.at("last_epoch"));
  step_count_ = static_cast<int64_t>(state.at("step_count"));
  base_lrs_ = read_list(state, "base_lrs", groups, op);
  last_lr_ = read_list(state, "last_lr", groups, op);
}

// ---------------------------------------------------------------- StepLR, MultiStepLR

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "StepLR"), step_size_(step_size), gamma_(gamma) {
  MINIDL_CHECK(step_size > 0, "StepLR", "step_size must be positive, got " << step_size);
  initial_step();
}

// lr *= gamma when last_epoch is a positive multiple of step_size
std::vector<double> StepLR::get_lr() {
  std::vector<double> lrs = group_lrs(optimizer_);
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma,
                         int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "MultiStepLR"),
      milestones_(std::move(milestones)),
      gamma_(gamma) {
  initial_step();
}

// lr *= gamma^(times last_epoch appears among the milestones)
std::vector<double> MultiStepLR::get_lr() {
  std::vector<double> lrs = group_lrs(optimizer_);
  const auto hits = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
  if (hits == 0) return lrs;
  for (double& lr : lrs) lr = lr * std::pow(gamma_, static_cast<double>(hits));
  return lrs;
}

// ---------------------------------------------------------------- ExponentialLR

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "ExponentialLR"), gamma_(gamma) {
  initial_step();
}

std::vector<double> ExponentialLR::get_lr() {
  std::vector<double> lrs = group_lrs(optimizer_);
  if (last_epoch_ == 0) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

// ---------------------------------------------------------------- CosineAnnealingLR

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min,
                                     int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "CosineAnnealingLR"), T_max_(T_max), eta_min_(eta_min) {
  MINIDL_CHECK(T_max > 0, "CosineAnnealingLR", "T_max must be positive, got " << T_max);
  initial_step();
}

// Epoch 0: unchanged. First step of a resumed schedule: the closed form. At the restart points
// (t - 1 - T_max divisible by 2 T_max): lr += (base - eta_min) (1 - cos(pi / T_max)) / 2.
// Otherwise lr_t = (1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T)) (lr_{t-1} - eta_min) + eta_min.
std::vector<double> CosineAnnealingLR::get_lr() {
  std::vector<double> lrs = group_lrs(optimizer_);
  const double t = static_cast<double>(last_epoch_), T = static_cast<double>(T_max_);
  if (last_epoch_ == 0) return lrs;
  for (size_t i = 0; i < lrs.size(); ++i) {
    const double base = base_lrs_[i];
    if (step_count_ == 1 && last_epoch_ > 0)
      lrs[i] = eta_min_ + (base - eta_min_) * (1 + std::cos(t * kPi / T)) / 2;
    else if ((last_epoch_ - 1 - T_max_) % (2 * T_max_) == 0)
      lrs[i] = lrs[i] + (base - eta_min_) * (1 - std::cos(kPi / T)) / 2;
    else
      lrs[i] =
          (1 + std::cos(kPi * t / T)) / (1 + std::cos(kPi * (t - 1) / T)) * (lrs[i] - eta_min_) +
          eta_min_;
  }
  return lrs;
}

// ---------------------------------------------------------------- LinearLR

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor,
                   int64_t total_iters, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "LinearLR"),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  MINIDL_CHECK(start_factor > 0 && start_factor <= 1, "LinearLR",
               "starting multiplicative factor expected to be in (0, 1], got " << start_factor);
  MINIDL_CHECK(end_factor >= 0 && end_factor <= 1, "LinearLR",
               "ending multiplicative factor expected to be in [0, 1], got " << end_factor);
  MINIDL_CHECK(total_iters > 0, "LinearLR", "total_iters must be positive, got " << total_iters);
  initial_step();
}

// Epoch 0: lr * start. Epochs 1..total_iters: lr *= 1 + (end - start) / (total_iters start +
// (t - 1) (end - start)), which walks the factor linearly to `end`. Later: unchanged.
std::vector<double> LinearLR::get_lr() {
  std::vector<double> lrs = group_lrs(optimizer_);
  if (last_epoch_ == 0) {
    for (double& lr : lrs) lr = lr * start_factor_;
    return lrs;
  }
  if (last_epoch_ > total_iters_) return lrs;
  const double delta = end_factor_ - start_factor_;
  const double factor = 1. + delta / (static_cast<double>(total_iters_) * start_factor_ +
                                      static_cast<double>(last_epoch_ - 1) * delta);
  for (double& lr : lrs) lr = lr * factor;
  return lrs;
}

// ---------------------------------------------------------------- OneCycleLR

OneCycleLR::OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& o)
    : LRScheduler(optimizer, o.last_epoch(), "OneCycleLR") {
  const std::string op = "OneCycleLR";
  if (o.total_steps() != 0) {
    MINIDL_CHECK(o.total_steps() > 0, op,
                 "expected positive integer total_steps, but got " << o.total_steps());
    total_steps_ = o.total_steps();
  } else {
    MINIDL_CHECK(o.epochs() > 0 && o.steps_per_epoch() > 0, op,
                 "define either total_steps or (epochs and steps_per_epoch), both positive; got "
                 "epochs "
                     << o.epochs() << ", steps_per_epoch " << o.steps_per_epoch());
    total_steps_ = o.epochs() * o.steps_per_epoch();
  }
  MINIDL_CHECK(o.pct_start() >= 0 && o.pct_start() <= 1, op,
               "expected float between 0 and 1 pct_start, but got " << o.pct_start());
  MINIDL_CHECK(o.anneal_strategy() == "cos" || o.anneal_strategy() == "linear", op,
               "anneal_strategy must be one of 'cos' or 'linear', instead got '"
                   << o.anneal_strategy() << "'");
  cosine_ = o.anneal_strategy() == "cos";
  const double total = static_cast<double>(total_steps_);
  if (o.three_phase()) {
    phases_ = {
        {o.pct_start() * total - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"},
        {2 * o.pct_start() * total - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"},
        {total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"}};
  } else {
    phases_ = {{o.pct_start() * total - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"},
               {total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"}};
  }

  auto& groups = optimizer.param_groups();
  const std::vector<double> max_lrs = per_group(o.max_lr(), groups.size(), op, "max_lr");
  if (last_epoch_ == -1) {
    for (size_t i = 0; i < groups.size(); ++i) {
      groups[i].set("initial_lr", max_lrs[i] / o.div_factor());
      groups[i].set("max_lr", max_lrs[i]);
      groups[i].set("min_lr", groups[i].get("initial_lr") / o.final_div_factor());
    }
  }
  cycle_momentum_ = o.cycle_momentum();
  if (cycle_momentum_) {
    const bool has_momentum = optimizer.defaults().count("momentum") != 0;
    const bool has_betas = optimizer.defaults().count("beta1") != 0;
    MINIDL_CHECK(has_momentum || has_betas, op,
                 optimizer.name() << " has no momentum or betas, required by cycle_momentum");
    momentum_key_ = has_betas ? "beta1" : "momentum";
    const std::vector<double> max_m =
        per_group(o.max_momentum(), groups.size(), op, "max_momentum");
    const std::vector<double> base_m =
        per_group(o.base_momentum(), groups.size(), op, "base_momentum");
    if (last_epoch_ == -1) {
      for (size_t i = 0; i < groups.size(); ++i) {
        groups[i].set(momentum_key_, max_m[i]);
        groups[i].set("max_momentum", max_m[i]);
        groups[i].set("base_momentum", base_m[i]);
      }
    }
  }
  initial_step();
}

// cos: end + (start - end) / 2 (1 + cos(pi pct));  linear: (end - start) pct + start
double OneCycleLR::anneal(double start, double end, double pct) const {
  if (cosine_) return end + (start - end) / 2.0 * (std::cos(kPi * pct) + 1);
  return (end - start) * pct + start;
}

std::vector<double> OneCycleLR::get_lr() {
  const int64_t step_num = last_epoch_;
  MINIDL_CHECK(step_num <= total_steps_, "OneCycleLR",
               "tried to step " << step_num + 1 << " times; the specified number of total steps is "
                                << total_steps_);
  std::vector<double> lrs;
  for (ParamGroup& group : optimizer_.param_groups()) {
    double start_step = 0, lr = 0, momentum = 0;
    for (size_t i = 0; i < phases_.size(); ++i) {
      const Phase& phase = phases_[i];
      if (static_cast<double>(step_num) <= phase.end_step || i + 1 == phases_.size()) {
        const double pct =
            (static_cast<double>(step_num) - start_step) / (phase.end_step - start_step);
        lr = anneal(group.get(phase.start_lr), group.get(phase.end_lr), pct);
        if (cycle_momentum_)
          momentum = anneal(group.get(phase.start_momentum), group.get(phase.end_momentum), pct);
        break;
      }
      start_step = phase.end_step;
    }
    lrs.push_back(lr);
    if (cycle_momentum_) group.set(momentum_key_, momentum);
  }
  return lrs;
}

// ---------------------------------------------------------------- ReduceLROnPlateau

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, const std::string& mode, double factor,
                                     int64_t patience, double threshold,
                                     const std::string& threshold_mode, int64_t cooldown,
                                     std::vector<double> min_lr, double eps)
    : optimizer_(optimizer),
      factor_(factor),
      patience_(patience),
      threshold_(threshold),
      cooldown_(cooldown),
      eps_(eps) {
  const std::string op = "ReduceLROnPlateau";
  MINIDL_CHECK(factor < 1.0, op, "factor should be < 1.0, got " << factor);
  MINIDL_CHECK(mode == "min" || mode == "max", op, "mode '" << mode << "' is unknown");
  MINIDL_CHECK(threshold_mode == "rel" || threshold_mode == "abs", op,
               "threshold mode '" << threshold_mode << "' is unknown");
  MINIDL_CHECK(patience >= 0 && cooldown >= 0, op,
               "patience and cooldown must be >= 0, got " << patience << " and " << cooldown);
  mode_max_ = mode == "max";
  threshold_abs_ = threshold_mode == "abs";
  min_lrs_ = per_group(min_lr, optimizer.param_groups().size(), op, "min_lr");
  best_ = mode_max_ ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  last_lr_ = group_lrs(optimizer_);
}

// min/rel: a < best (1 - threshold);  min/abs: a < best - threshold;  max mirrors them.
bool ReduceLROnPlateau::is_better(double a, double best) const {
  if (!mode_max_) return threshold_abs_ ? a < best - threshold_ : a < best * (1. - threshold_);
  return threshold_abs_ ? a > best + threshold_ : a > best * (threshold_ + 1.);
}

void ReduceLROnPlateau::step(double metric) {
  last_epoch_ += 1;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    num_bad_epochs_ += 1;
  }
  if (cooldown_counter_ > 0) {
    cooldown_counter_ -= 1;
    num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
  }
  if (num_bad_epochs_ > patience_) {
    reduce_lr();
    cooldown_counter_ = cooldown_;
    num_bad_epochs_ = 0;
  }
  last_lr_ = group_lrs(optimizer_);
}

// new_lr = max(lr * factor, min_lr), applied only if it lowers lr by more than eps
void ReduceLROnPlateau::reduce_lr() {
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    const double old_lr = groups[i].lr();
    const double new_lr = std::max(old_lr * factor_, min_lrs_[i]);
    if (old_lr - new_lr > eps_) groups[i].set_lr(new_lr);
  }
}

SchedulerState ReduceLROnPlateau::state_dict() const {
  SchedulerState state{{"last_epoch", static_cast<double>(last_epoch_)},
                       {"best", best_},
                       {"num_bad_epochs", static_cast<double>(num_bad_epochs_)},
                       {"cooldown_counter", static_cast<double>(cooldown_counter_)}};
  write_list(state, "last_lr", last_lr_);
  return state;
}

void ReduceLROnPlateau::load_state_dict(const SchedulerState& state) {
  const std::string op = "ReduceLROnPlateau.load_state_dict";
  const size_t groups = optimizer_.param_groups().size();
  check_keys(state, {"last_epoch", "best", "num_bad_epochs", "cooldown_counter"}, {"last_lr"},
             groups, op);
  last_epoch_ = static_cast<int64_t>(state.at("last_epoch"));
  best_ = state.at("best");
  num_bad_epochs_ = static_cast<int64_t>(state.at("num_bad_epochs"));
  cooldown_counter_ = static_cast<int64_t>(state.at("cooldown_counter"));
  last_lr_ = read_list(state, "last_lr", groups, op);
}

}  // namespace minidl::optim
