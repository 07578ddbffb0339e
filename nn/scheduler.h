// Learning-rate schedulers with torch.optim.lr_scheduler's names, arguments and values (PyTorch
// 1.13's recursive "chainable" forms, so the learning rates agree to rounding):
//
//   optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
//   optim::CosineAnnealingLR scheduler(sgd, /*T_max=*/100);
//   for (int epoch = 0; epoch < 100; ++epoch) {
//     train_one_epoch(sgd);      // optimizer.step() inside
//     scheduler.step();          // then the scheduler, once per epoch
//   }
//
// A scheduler writes each parameter group's "lr" (OneCycleLR also "momentum", or "beta1" for
// Adam-like optimizers). Constructing one performs PyTorch's initial step: the groups get the
// epoch-0 learning rate and each group's "initial_lr" is set (to its lr, unless resuming with
// last_epoch != -1, which requires it). The scheduler keeps a reference: the optimizer must
// outlive it.
//
// state_dict() holds the scheduler's progress (epoch and step counts, base and last learning
// rates, ReduceLROnPlateau's best value and counters) as named numbers; the constructor
// arguments are not part of it, so resuming means constructing the same scheduler, then
// load_state_dict() (with the optimizer's own state_dict restored too: the groups' lr live there).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/optim.h"

namespace minidl::optim {

using SchedulerState = std::map<std::string, double>;

// The base of the epoch-indexed schedulers (torch's _LRScheduler).
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch and writes the new learning rates into the optimizer's groups.
  void step();
  // The learning rates set by the last step (one per group).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  int64_t last_epoch() const { return last_epoch_; }

  // The numbers to resume from (last_epoch, step_count, base_lrs, last_lr); load_state_dict
  // restores them (a missing key or another number of groups is an error).
  SchedulerState state_dict() const;
  void load_state_dict(const SchedulerState& state);

 protected:
  LRScheduler(Optimizer& optimizer, int64_t last_epoch, std::string name);
  // Sets "initial_lr" (or checks it when resuming), base_lrs, and takes the first step. The
  // derived constructor calls it once its own members are set (get_lr needs them).
  void initial_step();
  // The learning rates for last_epoch_ (already advanced), one per group.
  virtual std::vector<double> get_lr() = 0;

  Optimizer& optimizer_;
  std::string name_;
  int64_t last_epoch_;
  int64_t step_count_ = 0;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
};

// lr *= gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr *= gamma at each milestone epoch (a milestone listed k times multiplies by gamma^k).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1,
              int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

// lr *= gamma every epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;

 private:
  double gamma_;
};

// lr_t = eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2, computed recursively from
// the current lr as PyTorch does (and continuing past T_max as a cosine of period 2 T_max).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0.0,
                    int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;

 private:
  int64_t T_max_;
  double eta_min_;
};

// The lr factor goes linearly from start_factor to end_factor over total_iters epochs (warm-up
// when start_factor < end_factor), then stays.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0,
           int64_t total_iters = 5, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;

 private:
  double start_factor_, end_factor_;
  int64_t total_iters_;
};

// OneCycleLR's arguments (torch's keyword arguments, as a builder: OneCycleLROptions(0.1)
// .total_steps(1000).three_phase(true)): give total_steps, or epochs
// and steps_per_epoch. max_lr, base_momentum and max_momentum take one value for all groups or
// one per group.
struct OneCycleLROptions {
  explicit OneCycleLROptions(double max_lr) : max_lr_({max_lr}) {}
  explicit OneCycleLROptions(std::vector<double> max_lrs) : max_lr_(std::move(max_lrs)) {}
  const std::vector<double>& max_lr() const { return max_lr_; }
  // One momentum for every group (the vector overloads take one per group).
  OneCycleLROptions& base_momentum(double value) {
    return base_momentum(std::vector<double>{value});
  }
  OneCycleLROptions& max_momentum(double value) { return max_momentum(std::vector<double>{value}); }

#define MINIDL_ONECYCLE_OPTION(type, name, default_value) \
 public:                                                  \
  OneCycleLROptions& name(type value) {                   \
    name##_ = std::move(value);                           \
    return *this;                                         \
  }                                                       \
  const type& name() const {                              \
    return name##_;                                       \
  }                                                       \
                                                          \
 private:                                                 \
  type name##_ = default_value;

  MINIDL_ONECYCLE_OPTION(int64_t, total_steps, 0)  // 0: epochs * steps_per_epoch
  MINIDL_ONECYCLE_OPTION(int64_t, epochs, 0)
  MINIDL_ONECYCLE_OPTION(int64_t, steps_per_epoch, 0)
  MINIDL_ONECYCLE_OPTION(double, pct_start, 0.3)
  MINIDL_ONECYCLE_OPTION(std::string, anneal_strategy, "cos")  // or "linear"
  MINIDL_ONECYCLE_OPTION(bool, cycle_momentum, true)
  MINIDL_ONECYCLE_OPTION(std::vector<double>, base_momentum, {0.85})
  MINIDL_ONECYCLE_OPTION(std::vector<double>, max_momentum, {0.95})
  MINIDL_ONECYCLE_OPTION(double, div_factor, 25.0)
  MINIDL_ONECYCLE_OPTION(double, final_div_factor, 1e4)
  MINIDL_ONECYCLE_OPTION(bool, three_phase, false)
  MINIDL_ONECYCLE_OPTION(int64_t, last_epoch, -1)
#undef MINIDL_ONECYCLE_OPTION

 private:
  std::vector<double> max_lr_;
};

// The 1cycle policy: lr rises from max_lr / div_factor to max_lr over pct_start of the steps,
// then falls to max_lr / (div_factor * final_div_factor) (with three_phase: back to the initial
// lr symmetrically, then down to the minimum); momentum (or Adam's beta1) moves inversely between
// max_momentum and base_momentum. Call step() after every batch; at most total_steps times.
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options);
  int64_t total_steps() const { return total_steps_; }

 protected:
  std::vector<double> get_lr() override;

 private:
  struct Phase {
    double end_step;
    const char* start_lr;
    const char* end_lr;
    const char* start_momentum;
    const char* end_momentum;
  };
  double anneal(double start, double end, double pct) const;

  int64_t total_steps_;
  std::vector<Phase> phases_;
  bool cosine_;
  bool cycle_momentum_;
  const char* momentum_key_ = "momentum";  // or "beta1"
};

// Reduces the lr by `factor` when a metric has not improved for more than `patience` epochs
// (torch's ReduceLROnPlateau: not an LRScheduler, step() takes the metric).
class ReduceLROnPlateau {
 public:
  // mode "min" or "max"; threshold_mode "rel" or "abs"; min_lr one value or one per group.
  explicit ReduceLROnPlateau(Optimizer& optimizer, const std::string& mode = "min",
                             double factor = 0.1, int64_t patience = 10, double threshold = 1e-4,
                             const std::string& threshold_mode = "rel", int64_t cooldown = 0,
                             std::vector<double> min_lr = {0.0}, double eps = 1e-8);
  ReduceLROnPlateau(const ReduceLROnPlateau&) = delete;
  ReduceLROnPlateau& operator=(const ReduceLROnPlateau&) = delete;

  // One epoch's metric: counts a bad epoch unless it improved by threshold; after more than
  // patience bad epochs (outside cooldown) every group's lr becomes max(lr * factor, min_lr),
  // unless that changes it by eps or less.
  void step(double metric);
  // The groups' learning rates after the last step (their current ones before any step).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }

  // The numbers to resume from (last_epoch, best, num_bad_epochs, cooldown_counter, last_lr);
  // load_state_dict restores them.
  SchedulerState state_dict() const;
  void load_state_dict(const SchedulerState& state);

 private:
  bool is_better(double a, double best) const;
  void reduce_lr();

  Optimizer& optimizer_;
  bool mode_max_;
  double factor_;
  int64_t patience_;
  double threshold_;
  bool threshold_abs_;
  int64_t cooldown_;
  std::vector<double> min_lrs_;
  double eps_;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
  int64_t last_epoch_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace minidl::optim
