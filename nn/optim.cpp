// Optimizers (nn/optim.h): one fused kernel per algorithm (the shared step/state machinery is in
// nn/optimizer.cpp).
//
// Each kernel is one loop over a parameter's contiguous elements that reads the gradient and the
// state once and writes the parameter and the state in place -- no temporaries. The order of the
// floating-point operations follows PyTorch 1.13's single-tensor code (e.g. Adam's denominator
// is sqrt(v) / sqrt(1 - b2^t) + eps, not sqrt(v / (1 - b2^t)) + eps), so float64 trajectories
// agree to rounding. Hyper-parameters are converted to the parameter's dtype first, as PyTorch's
// scalar operands are.
#include "nn/optim.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <type_traits>
#include <unordered_set>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "core/strided.h"

namespace minidl::optim {

// ---------------------------------------------------------------- kernels

namespace {

// A state buffer of the parameter's shape and dtype, created (filled with `init`) when absent.
Tensor& buffer(ParamState& state, const std::string& name, const Tensor& param, double init = 0.0) {
  auto it = state.buffers.find(name);
  if (it == state.buffers.end())
    it = state.buffers.emplace(name, full(param.shape(), init, param.dtype())).first;
  return it->second;
}

bool flag(const ParamGroup& group, const char* name) {
  return group.get(name) != 0.0;
}

// Calls f(std::bool_constant<flag_0>{}, std::bool_constant<flag_1>{}, ...): the runtime flags
// become template arguments, so every kernel variant is one branch-free loop that vectorizes.
template <typename F>
void with_flags(F&& f) {
  f();
}
template <typename F, typename... Rest>
void with_flags(F&& f, bool flag, Rest... rest) {
  if (flag)
    with_flags([&](auto... flags) { f(std::true_type{}, flags...); }, rest...);
  else
    with_flags([&](auto... flags) { f(std::false_type{}, flags...); }, rest...);
}

// p [n], g [n], momentum_buffer [n] (used when kMomentum); kFirst: the buffer starts as g.
// sign = -1 for maximize (exact).
template <typename T, bool kWeightDecay, bool kMomentum, bool kFirst, bool kNesterov>
void sgd_kernel(T* p, const T* g, T* momentum_buffer, int64_t n, double lr_d, double momentum_d,
                double dampening_d, double weight_decay_d, T sign) {
  const T neg_lr = T(-lr_d), momentum = T(momentum_d), keep = T(1.0 - dampening_d);
  const T weight_decay = T(weight_decay_d);
  parallel_for(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      T d = sign * g[i];
      if constexpr (kWeightDecay) d = d + weight_decay * p[i];
      if constexpr (kMomentum) {
        T b;
        if constexpr (kFirst)
          b = d;
        else
          b = momentum_buffer[i] * momentum + keep * d;
        momentum_buffer[i] = b;
        if constexpr (kNesterov)
          d = d + momentum * b;
        else
          d = b;
      }
      p[i] = p[i] + neg_lr * d;
    }
  });
}

// p, g, exp_avg, exp_avg_sq [n]; max_exp_avg_sq [n] (used when kAmsgrad). kDecoupled: AdamW's
// p *= 1 - lr * weight_decay; else kWeightDecay adds weight_decay * p to the gradient.
template <typename T, bool kWeightDecay, bool kDecoupled, bool kAmsgrad>
void adam_kernel(T* p, const T* g, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n,
                 int64_t step, double lr, double beta1_d, double beta2_d, double eps_d,
                 double weight_decay_d, T sign) {
  const double bias_correction1 = 1.0 - std::pow(beta1_d, static_cast<double>(step));
  const double bias_correction2 = 1.0 - std::pow(beta2_d, static_cast<double>(step));
  const T neg_step_size = T(-(lr / bias_correction1));
  const T bias_correction2_sqrt = T(std::sqrt(bias_correction2));
  const T beta1 = T(beta1_d), beta2 = T(beta2_d), eps = T(eps_d);
  const T one_minus_beta1 = T(1.0 - beta1_d), one_minus_beta2 = T(1.0 - beta2_d);
  const T weight_decay = T(weight_decay_d);
  const T decay_factor = T(1.0 - lr * weight_decay_d);
  parallel_for(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      T grad = sign * g[i];
      T param = p[i];
      if constexpr (kDecoupled) param = param * decay_factor;
      if constexpr (kWeightDecay && !kDecoupled) grad = grad + weight_decay * param;
      const T m = exp_avg[i] * beta1 + one_minus_beta1 * grad;
      const T v = exp_avg_sq[i] * beta2 + one_minus_beta2 * grad * grad;
      exp_avg[i] = m;
      exp_avg_sq[i] = v;
      T second = v;
      if constexpr (kAmsgrad) {
        const T previous = max_exp_avg_sq[i];
        second = (previous < v || v != v) ? v : previous;  // torch.maximum propagates NaN
        max_exp_avg_sq[i] = second;
      }
      const T denom = std::sqrt(second) / bias_correction2_sqrt + eps;
      p[i] = param + neg_step_size * m / denom;
    }
  });
}

// p, g, square_avg [n]; grad_avg [n] (used when kCentered); momentum_buffer [n] (kMomentum).
template <typename T, bool kWeightDecay, bool kCentered, bool kMomentum>
void rmsprop_kernel(T* p, const T* g, T* square_avg, T* grad_avg, T* momentum_buffer, int64_t n,
                    double lr_d, double alpha_d, double eps_d, double weight_decay_d,
                    double momentum_d, T sign) {
  const T neg_lr = T(-lr_d), alpha = T(alpha_d), one_minus_alpha = T(1.0 - alpha_d);
  const T eps = T(eps_d), weight_decay = T(weight_decay_d), momentum = T(momentum_d);
  parallel_for(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      T grad = sign * g[i];
      if constexpr (kWeightDecay) grad = grad + weight_decay * p[i];
      const T s = square_avg[i] * alpha + one_minus_alpha * grad * grad;
      square_avg[i] = s;
      T avg;
      if constexpr (kCentered) {
        const T a = grad_avg[i] * alpha + one_minus_alpha * grad;
        grad_avg[i] = a;
        avg = std::sqrt(s + T(-1) * a * a);
      } else {
        avg = std::sqrt(s);
      }
      avg = avg + eps;
      if constexpr (kMomentum) {
        const T b = momentum_buffer[i] * momentum + grad / avg;
        momentum_buffer[i] = b;
        p[i] = p[i] + neg_lr * b;
      } else {
        p[i] = p[i] + neg_lr * grad / avg;
      }
    }
  });
}

// p, g, sum [n].
template <typename T, bool kWeightDecay>
void adagrad_kernel(T* p, const T* g, T* sum, int64_t n, double clr, double eps_d,
                    double weight_decay_d, T sign) {
  const T neg_clr = T(-clr), eps = T(eps_d), weight_decay = T(weight_decay_d);
  parallel_for(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      T grad = sign * g[i];
      if constexpr (kWeightDecay) grad = grad + weight_decay * p[i];
      const T s = sum[i] + grad * grad;
      sum[i] = s;
      p[i] = p[i] + neg_clr * grad / (std::sqrt(s) + eps);
    }
  });
}

template <typename T>
T* data_or_null(const Tensor* t) {
  return t == nullptr ? nullptr : t->data_ptr<T>();
}

}  // namespace

// ---------------------------------------------------------------- SGD

GroupOptions SGDOptions::to_map() const {
  return {{"lr", lr_},
          {"momentum", momentum_},
          {"dampening", dampening_},
          {"weight_decay", weight_decay_},
          {"nesterov", nesterov_ ? 1.0 : 0.0},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector<ParamGroup>{ParamGroup(std::move(params))}, options) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions options) : Optimizer("SGD", options.to_map()) {
  init_groups(std::move(groups));
}

void SGD::validate(const GroupOptions& o) const {
  const double lr = o.at("lr"), momentum = o.at("momentum"), wd = o.at("weight_decay");
  MINIDL_CHECK(lr >= 0, "SGD", "invalid learning rate: " << lr);
  MINIDL_CHECK(momentum >= 0, "SGD", "invalid momentum value: " << momentum);
  MINIDL_CHECK(wd >= 0, "SGD", "invalid weight_decay value: " << wd);
  MINIDL_CHECK(o.at("nesterov") == 0 || (momentum > 0 && o.at("dampening") == 0), "SGD",
               "Nesterov momentum requires a momentum and zero dampening (momentum "
                   << momentum << ", dampening " << o.at("dampening") << ")");
}

void SGD::update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                 ParamState& state) {
  const double momentum = group.get("momentum");
  Tensor* momentum_buffer = nullptr;
  bool first = false;
  if (momentum != 0) {
    first = state.buffers.count("momentum_buffer") == 0;
    momentum_buffer = &buffer(state, "momentum_buffer", param);
  }
  const double weight_decay = group.get("weight_decay");
  MINIDL_DISPATCH_FLOATING(param.dtype(), "SGD", {
    const scalar_t sign = flag(group, "maximize") ? scalar_t(-1) : scalar_t(1);
    with_flags(
        [&](auto has_weight_decay, auto has_momentum, auto is_first, auto nesterov) {
          sgd_kernel<scalar_t, has_weight_decay, has_momentum, is_first, nesterov>(
              param.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
              data_or_null<scalar_t>(momentum_buffer), param.numel(), group.get("lr"), momentum,
              group.get("dampening"), weight_decay, sign);
        },
        weight_decay != 0, momentum != 0, first, flag(group, "nesterov"));
  });
}

// ---------------------------------------------------------------- Adam, AdamW

// Adam and AdamW take the same options (only weight_decay's default and meaning differ).
template <typename Options>
GroupOptions adam_options_map(const Options& o) {
  return {{"lr", o.lr()},
          {"beta1", o.beta1()},
          {"beta2", o.beta2()},
          {"eps", o.eps()},
          {"weight_decay", o.weight_decay()},
          {"amsgrad", o.amsgrad() ? 1.0 : 0.0},
          {"maximize", o.maximize() ? 1.0 : 0.0}};
}

GroupOptions AdamOptions::to_map() const {
  return adam_options_map(*this);
}
GroupOptions AdamWOptions::to_map() const {
  return adam_options_map(*this);
}

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(std::vector<ParamGroup>{ParamGroup(std::move(params))}, options) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options)
    : Optimizer("Adam", options.to_map()) {
  init_groups(std::move(groups));
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : AdamW(std::vector<ParamGroup>{ParamGroup(std::move(params))}, options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions options)
    : Adam("AdamW", options.to_map()) {
  decoupled_weight_decay_ = true;
  init_groups(std::move(groups));
}

void Adam::validate(const GroupOptions& o) const {
  const std::string& op = name();
  const double lr = o.at("lr"), eps = o.at("eps"), beta1 = o.at("beta1"), beta2 = o.at("beta2");
  const double wd = o.at("weight_decay");
  MINIDL_CHECK(lr >= 0, op, "invalid learning rate: " << lr);
  MINIDL_CHECK(eps >= 0, op, "invalid epsilon value: " << eps);
  MINIDL_CHECK(beta1 >= 0 && beta1 < 1, op, "invalid beta parameter at index 0: " << beta1);
  MINIDL_CHECK(beta2 >= 0 && beta2 < 1, op, "invalid beta parameter at index 1: " << beta2);
  MINIDL_CHECK(wd >= 0, op, "invalid weight_decay value: " << wd);
}

void Adam::update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                  ParamState& state) {
  Tensor& exp_avg = buffer(state, "exp_avg", param);
  Tensor& exp_avg_sq = buffer(state, "exp_avg_sq", param);
  Tensor* max_exp_avg_sq =
      flag(group, "amsgrad") ? &buffer(state, "max_exp_avg_sq", param) : nullptr;
  state.step += 1;
  const double weight_decay = group.get("weight_decay");
  MINIDL_DISPATCH_FLOATING(param.dtype(), name(), {
    const scalar_t sign = flag(group, "maximize") ? scalar_t(-1) : scalar_t(1);
    with_flags(
        [&](auto has_weight_decay, auto decoupled, auto amsgrad) {
          adam_kernel<scalar_t, has_weight_decay, decoupled, amsgrad>(
              param.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(), exp_avg.data_ptr<scalar_t>(),
              exp_avg_sq.data_ptr<scalar_t>(), data_or_null<scalar_t>(max_exp_avg_sq),
              param.numel(), state.step, group.get("lr"), group.get("beta1"), group.get("beta2"),
              group.get("eps"), weight_decay, sign);
        },
        weight_decay != 0, decoupled_weight_decay_, max_exp_avg_sq != nullptr);
  });
}

// ---------------------------------------------------------------- RMSprop

GroupOptions RMSpropOptions::to_map() const {
  return {{"lr", lr_},
          {"alpha", alpha_},
          {"eps", eps_},
          {"weight_decay", weight_decay_},
          {"momentum", momentum_},
          {"centered", centered_ ? 1.0 : 0.0},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector<ParamGroup>{ParamGroup(std::move(params))}, options) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options)
    : Optimizer("RMSprop", options.to_map()) {
  init_groups(std::move(groups));
}

void RMSprop::validate(const GroupOptions& o) const {
  const double lr = o.at("lr"), eps = o.at("eps"), momentum = o.at("momentum");
  const double wd = o.at("weight_decay"), alpha = o.at("alpha");
  MINIDL_CHECK(lr >= 0, "RMSprop", "invalid learning rate: " << lr);
  MINIDL_CHECK(eps >= 0, "RMSprop", "invalid epsilon value: " << eps);
  MINIDL_CHECK(momentum >= 0, "RMSprop", "invalid momentum value: " << momentum);
  MINIDL_CHECK(wd >= 0, "RMSprop", "invalid weight_decay value: " << wd);
  MINIDL_CHECK(alpha >= 0, "RMSprop", "invalid alpha value: " << alpha);
}

void RMSprop::update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                     ParamState& state) {
  const double momentum = group.get("momentum");
  Tensor& square_avg = buffer(state, "square_avg", param);
  Tensor* momentum_buffer = momentum > 0 ? &buffer(state, "momentum_buffer", param) : nullptr;
  Tensor* grad_avg = flag(group, "centered") ? &buffer(state, "grad_avg", param) : nullptr;
  state.step += 1;
  const double weight_decay = group.get("weight_decay");
  MINIDL_DISPATCH_FLOATING(param.dtype(), "RMSprop", {
    const scalar_t sign = flag(group, "maximize") ? scalar_t(-1) : scalar_t(1);
    with_flags(
        [&](auto has_weight_decay, auto centered, auto has_momentum) {
          rmsprop_kernel<scalar_t, has_weight_decay, centered, has_momentum>(
              param.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
              square_avg.data_ptr<scalar_t>(), data_or_null<scalar_t>(grad_avg),
              data_or_null<scalar_t>(momentum_buffer), param.numel(), group.get("lr"),
              group.get("alpha"), group.get("eps"), weight_decay, momentum, sign);
        },
        weight_decay != 0, grad_avg != nullptr, momentum_buffer != nullptr);
  });
}

// ---------------------------------------------------------------- Adagrad

GroupOptions AdagradOptions::to_map() const {
  return {{"lr", lr_},
          {"lr_decay", lr_decay_},
          {"weight_decay", weight_decay_},
          {"initial_accumulator_value", initial_accumulator_value_},
          {"eps", eps_},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : Adagrad(std::vector<ParamGroup>{ParamGroup(std::move(params))}, options) {}

Adagrad::Adagrad(std::vector<ParamGroup> groups, AdagradOptions options)
    : Optimizer("Adagrad", options.to_map()) {
  init_groups(std::move(groups));
  init_state();
}

void Adagrad::init_state() {
  for (const ParamGroup& group : param_groups())
    for (const Tensor& p : group.params)
      buffer(mutable_state(p), "sum", p, group.get("initial_accumulator_value"));
}

void Adagrad::validate(const GroupOptions& o) const {
  const double lr = o.at("lr"), lr_decay = o.at("lr_decay"), wd = o.at("weight_decay");
  const double init = o.at("initial_accumulator_value"), eps = o.at("eps");
  MINIDL_CHECK(lr >= 0, "Adagrad", "invalid learning rate: " << lr);
  MINIDL_CHECK(lr_decay >= 0, "Adagrad", "invalid lr_decay value: " << lr_decay);
  MINIDL_CHECK(wd >= 0, "Adagrad", "invalid weight_decay value: " << wd);
  MINIDL_CHECK(init >= 0, "Adagrad", "invalid initial_accumulator_value value: " << init);
  MINIDL_CHECK(eps >= 0, "Adagrad", "invalid epsilon value: " << eps);
}

void Adagrad::update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                     ParamState& state) {
  Tensor& sum = buffer(state, "sum", param, group.get("initial_accumulator_value"));
  state.step += 1;
  const double clr =
      group.get("lr") / (1.0 + static_cast<double>(state.step - 1) * group.get("lr_decay"));
  const double weight_decay = group.get("weight_decay");
  MINIDL_DISPATCH_FLOATING(param.dtype(), "Adagrad", {
    const scalar_t sign = flag(group, "maximize") ? scalar_t(-1) : scalar_t(1);
    with_flags(
        [&](auto has_weight_decay) {
          adagrad_kernel<scalar_t, has_weight_decay>(
              param.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(), sum.data_ptr<scalar_t>(),
              param.numel(), clr, group.get("eps"), weight_decay, sign);
        },
        weight_decay != 0);
  });
}

}  // namespace minidl::optim
