// Optimizers with torch.optim's names, defaults and update formulas (PyTorch 1.13's single-tensor
// algorithms, reproduced to rounding): SGD, Adam, AdamW, RMSprop, Adagrad.
//
//   optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-3).weight_decay(1e-4));
//   optim::SGD sgd(model->parameters(), 0.01);   // a bare learning rate, as in libtorch
//   for (...) {
//     optimizer.zero_grad();
//     loss_fn(model, batch).backward();
//     optimizer.step();
//   }
//
// Parameter groups work as in PyTorch: each group has its own hyper-parameters, and whatever a
// group does not set comes from the optimizer's options:
//
//   optim::SGD sgd({optim::ParamGroup(body->parameters()),
//                   optim::ParamGroup(head->parameters(), {{"lr", 1e-3}})},
//                  optim::SGDOptions(0.1).momentum(0.9));
//
// A group's hyper-parameters are named numbers (booleans are 0 or 1); Adam's `betas` are the two
// entries "beta1" and "beta2". Schedulers change them through ParamGroup::set.
//
// The updates run under NoGradGuard as one fused loop over each parameter's contiguous data
// (float32 or float64), writing the parameter and the state buffers in place. A parameter whose
// .grad is undefined is skipped, as in PyTorch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minidl::optim {

// Named hyper-parameters of a group ("lr", "momentum", "beta1", "amsgrad", ...).
using GroupOptions = std::map<std::string, double>;

// A set of parameters optimized with the same hyper-parameters (one of torch's param_groups).
struct ParamGroup {
  ParamGroup() = default;
  // `options` overrides the optimizer's options for this group only.
  explicit ParamGroup(std::vector<Tensor> params, GroupOptions options = {})
      : params(std::move(params)), options(std::move(options)) {}

  // Whether the group sets hyper-parameter `name`.
  bool has(const std::string& name) const { return options.count(name) != 0; }
  // The named hyper-parameter; an error names a missing one.
  double get(const std::string& name) const;
  void set(const std::string& name, double value) { options[name] = value; }
  double lr() const { return get("lr"); }
  void set_lr(double lr) { set("lr", lr); }

  std::vector<Tensor> params;
  GroupOptions options;
};

// Per-parameter optimizer state: a step count and named buffers ("exp_avg", "momentum_buffer",
// ...), created at the parameter's first update.
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> buffers;
  bool empty() const { return step == 0 && buffers.empty(); }
};

// The optimizer's state as named tensors plus named numbers, enough to resume with identical
// updates. Parameters are numbered 0, 1, ... across the groups in order (as in PyTorch):
//   tensors  "state.<index>.<buffer>"             e.g. "state.3.exp_avg"
//   numbers  "state.<index>.step"                 for every parameter that has state
//            "param_groups.<group>.<option>"      e.g. "param_groups.0.lr"
//            "param_groups.<group>.num_params"
struct OptimizerState {
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, double> numbers;
};

// The base of SGD, Adam, AdamW, RMSprop and Adagrad (torch.optim.Optimizer): param groups with
// their hyper-parameters, per-parameter state, step / zero_grad / state_dict.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient. With a closure, it is called first (with
  // grad mode on) to recompute the loss, which is returned.
  Tensor step(const std::function<Tensor()>& closure = nullptr);
  // Drops (set_to_none) or zeroes every parameter's .grad.
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return param_groups_; }
  const std::vector<ParamGroup>& param_groups() const { return param_groups_; }
  // The options a group gets for every hyper-parameter it does not set.
  const GroupOptions& defaults() const { return defaults_; }
  // Adds a group (missing hyper-parameters from defaults()); a parameter may be in one group only.
  void add_param_group(ParamGroup group);
  // The state of one parameter (empty until its first update).
  const ParamState& state(const Tensor& param) const;

  // The tensors share storage with the live state (as PyTorch's and Module::state_dict()):
  // write them out, or clone them, before the next step().
  OptimizerState state_dict() const;
  // Restores a state_dict() of an optimizer of the same kind over parameters of the same shapes
  // in the same groups. Buffers are copied (and converted to each parameter's dtype).
  void load_state_dict(const OptimizerState& state);

  const std::string& name() const { return name_; }

 protected:
  Optimizer(std::string name, GroupOptions defaults);
  // Called from the derived constructor (validation is virtual, so not from ours).
  void init_groups(std::vector<ParamGroup> groups);
  // Throws if a group's hyper-parameters are invalid (negative lr, betas outside [0, 1), ...).
  virtual void validate(const GroupOptions& options) const = 0;
  // Updates one parameter in place from its gradient (both contiguous, same shape and dtype).
  // `state` is that parameter's state; its buffers, if any, match the parameter.
  virtual void update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                      ParamState& state) = 0;
  ParamState& mutable_state(const Tensor& param) { return state_[param.impl()]; }

 private:
  std::string name_;
  GroupOptions defaults_;
  std::vector<ParamGroup> param_groups_;
  std::unordered_map<const TensorImpl*, ParamState> state_;
};

// Builder-style options, as libtorch's: SGDOptions(0.1).momentum(0.9).nesterov(true).
#define MINIDL_OPTIM_OPTION(Self, type, name, default_value) \
 public:                                                     \
  Self& name(type value) {                                   \
    name##_ = value;                                         \
    return *this;                                            \
  }                                                          \
  type name() const {                                        \
    return name##_;                                          \
  }                                                          \
                                                             \
 private:                                                    \
  type name##_ = default_value;

// ---------------------------------------------------------------- SGD

// lr (required), momentum 0, dampening 0, weight_decay 0, nesterov false, maximize false.
struct SGDOptions {
  SGDOptions(double lr) : lr_(lr) {}  // NOLINT: implicit (a bare lr, as libtorch)
  GroupOptions to_map() const;
  MINIDL_OPTIM_OPTION(SGDOptions, double, lr, 0.0)
  MINIDL_OPTIM_OPTION(SGDOptions, double, momentum, 0.0)
  MINIDL_OPTIM_OPTION(SGDOptions, double, dampening, 0.0)
  MINIDL_OPTIM_OPTION(SGDOptions, double, weight_decay, 0.0)
  MINIDL_OPTIM_OPTION(SGDOptions, bool, nesterov, false)
  MINIDL_OPTIM_OPTION(SGDOptions, bool, maximize, false)
};

// g = grad + weight_decay * p;  buf = momentum * buf + (1 - dampening) * g  (buf = g at first);
// g = nesterov ? g + momentum * buf : buf  (when momentum != 0);  p -= lr * g
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);
  SGD(std::vector<ParamGroup> groups, SGDOptions options);

 protected:
  void validate(const GroupOptions& options) const override;
  void update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
              ParamState& state) override;
};

// ---------------------------------------------------------------- Adam, AdamW

// lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, amsgrad false, maximize false.
struct AdamOptions {
  AdamOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit (a bare lr, as libtorch)
  AdamOptions& betas(std::tuple<double, double> b) {
    beta1_ = std::get<0>(b);
    beta2_ = std::get<1>(b);
    return *this;
  }
  std::tuple<double, double> betas() const { return {beta1_, beta2_}; }
  GroupOptions to_map() const;
  MINIDL_OPTIM_OPTION(AdamOptions, double, lr, 1e-3)
  MINIDL_OPTIM_OPTION(AdamOptions, double, beta1, 0.9)
  MINIDL_OPTIM_OPTION(AdamOptions, double, beta2, 0.999)
  MINIDL_OPTIM_OPTION(AdamOptions, double, eps, 1e-8)
  MINIDL_OPTIM_OPTION(AdamOptions, double, weight_decay, 0.0)
  MINIDL_OPTIM_OPTION(AdamOptions, bool, amsgrad, false)
  MINIDL_OPTIM_OPTION(AdamOptions, bool, maximize, false)
};

// t += 1;  g = grad + weight_decay * p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
// v_max = max(v_max, v) (amsgrad);  p -= lr / (1 - b1^t) * m / (sqrt(v or v_max) / sqrt(1 - b2^t)
// + eps)
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = AdamOptions());
  Adam(std::vector<ParamGroup> groups, AdamOptions options = AdamOptions());

 protected:
  Adam(std::string name, GroupOptions defaults) : Optimizer(std::move(name), std::move(defaults)) {}
  void validate(const GroupOptions& options) const override;
  void update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
              ParamState& state) override;
  bool decoupled_weight_decay_ = false;
};

// As AdamOptions, but weight_decay 1e-2, decoupled (p -= lr * weight_decay * p before the update).
struct AdamWOptions {
  AdamWOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit (a bare lr, as libtorch)
  AdamWOptions& betas(std::tuple<double, double> b) {
    beta1_ = std::get<0>(b);
    beta2_ = std::get<1>(b);
    return *this;
  }
  std::tuple<double, double> betas() const { return {beta1_, beta2_}; }
  GroupOptions to_map() const;
  MINIDL_OPTIM_OPTION(AdamWOptions, double, lr, 1e-3)
  MINIDL_OPTIM_OPTION(AdamWOptions, double, beta1, 0.9)
  MINIDL_OPTIM_OPTION(AdamWOptions, double, beta2, 0.999)
  MINIDL_OPTIM_OPTION(AdamWOptions, double, eps, 1e-8)
  MINIDL_OPTIM_OPTION(AdamWOptions, double, weight_decay, 1e-2)
  MINIDL_OPTIM_OPTION(AdamWOptions, bool, amsgrad, false)
  MINIDL_OPTIM_OPTION(AdamWOptions, bool, maximize, false)
};

// Adam with decoupled weight decay: p *= 1 - lr * weight_decay first, the gradient is not decayed.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = AdamWOptions());
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options = AdamWOptions());
};

// ---------------------------------------------------------------- RMSprop

// lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0, momentum 0, centered false, maximize false.
struct RMSpropOptions {
  RMSpropOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit (a bare lr, as libtorch)
  GroupOptions to_map() const;
  MINIDL_OPTIM_OPTION(RMSpropOptions, double, lr, 1e-2)
  MINIDL_OPTIM_OPTION(RMSpropOptions, double, alpha, 0.99)
  MINIDL_OPTIM_OPTION(RMSpropOptions, double, eps, 1e-8)
  MINIDL_OPTIM_OPTION(RMSpropOptions, double, weight_decay, 0.0)
  MINIDL_OPTIM_OPTION(RMSpropOptions, double, momentum, 0.0)
  MINIDL_OPTIM_OPTION(RMSpropOptions, bool, centered, false)
  MINIDL_OPTIM_OPTION(RMSpropOptions, bool, maximize, false)
};

// g = grad + weight_decay * p;  s = alpha s + (1 - alpha) g^2;  a = alpha a + (1 - alpha) g
// (centered);  d = sqrt(s - a^2 or s) + eps;  buf = momentum buf + g / d, p -= lr * buf
// (momentum > 0), else p -= lr * g / d
class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options = RMSpropOptions());
  RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options = RMSpropOptions());

 protected:
  void validate(const GroupOptions& options) const override;
  void update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
              ParamState& state) override;
};

// ---------------------------------------------------------------- Adagrad

// lr 1e-2, lr_decay 0, weight_decay 0, initial_accumulator_value 0, eps 1e-10, maximize false.
struct AdagradOptions {
  AdagradOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit (a bare lr, as libtorch)
  GroupOptions to_map() const;
  MINIDL_OPTIM_OPTION(AdagradOptions, double, lr, 1e-2)
  MINIDL_OPTIM_OPTION(AdagradOptions, double, lr_decay, 0.0)
  MINIDL_OPTIM_OPTION(AdagradOptions, double, weight_decay, 0.0)
  MINIDL_OPTIM_OPTION(AdagradOptions, double, initial_accumulator_value, 0.0)
  MINIDL_OPTIM_OPTION(AdagradOptions, double, eps, 1e-10)
  MINIDL_OPTIM_OPTION(AdagradOptions, bool, maximize, false)
};

// t += 1;  g = grad + weight_decay * p;  sum += g^2;  p -= lr / (1 + (t - 1) lr_decay) * g /
// (sqrt(sum) + eps). The accumulator starts at initial_accumulator_value (created at
// construction, as in PyTorch).
class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<Tensor> params, AdagradOptions options = AdagradOptions());
  Adagrad(std::vector<ParamGroup> groups, AdagradOptions options = AdagradOptions());

 protected:
  void validate(const GroupOptions& options) const override;
  void update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
              ParamState& state) override;

 private:
  void init_state();
};

#undef MINIDL_OPTIM_OPTION

}  // namespace minidl::optim
