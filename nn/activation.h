// Activation modules: thin wrappers over the functional ops (ops/elementwise.h, ops/softmax.h,
// ops/activation_extra.h, ops/mish.h),
// with torch.nn's names, constructor defaults and printouts.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "core/arg.h"
#include "nn/module.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's. minidl's activations compute out of
// place, so inplace(true) is an error at construction (it names the layer).
struct ReLUOptions {
  ReLUOptions(bool inplace = false) : inplace_(inplace) {}  // NOLINT: implicit, as in libtorch
  MINIDL_ARG(bool, inplace);
};

// negative_slope (0.01); inplace must stay false.
struct LeakyReLUOptions {
  MINIDL_ARG(double, negative_slope) = 1e-2;
  MINIDL_ARG(bool, inplace) = false;
};

// alpha (1); inplace must stay false.
struct ELUOptions {
  MINIDL_ARG(double, alpha) = 1.0;
  MINIDL_ARG(bool, inplace) = false;
};

// approximate: "none" (default, exact erf) or "tanh"; anything else is an error.
struct GELUOptions {
  MINIDL_ARG(std::string, approximate) = "none";  // "none" or "tanh"
};

// The dim to normalize over (no default).
struct SoftmaxOptions {
  SoftmaxOptions(int64_t dim) : dim_(dim) {}  // NOLINT: implicit, as in libtorch
  MINIDL_ARG(int64_t, dim);
};

// The dim to normalize over (no default).
struct LogSoftmaxOptions {
  LogSoftmaxOptions(int64_t dim) : dim_(dim) {}  // NOLINT: implicit, as in libtorch
  MINIDL_ARG(int64_t, dim);
};

// A double as Python's repr() prints it (shortest round-trip form: 0.01, 1.0, 1e-05), so that
// extra_repr strings read exactly like PyTorch's.
std::string python_float(double value);

// max(0, x) elementwise: any shape, floating dtypes; inplace(true) is an error.
class ReLU : public Module {
 public:
  explicit ReLU(const ReLUOptions& options = {});
  Tensor forward(const Tensor& input) override;
  ReLUOptions options;
};

// max(0, x) + negative_slope * min(0, x)
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01)
      : LeakyReLU(LeakyReLUOptions().negative_slope(negative_slope)) {}
  explicit LeakyReLU(const LeakyReLUOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "negative_slope=0.01"
  LeakyReLUOptions options;
  double negative_slope;
};

// x for x > 0, alpha * (exp(x) - 1) otherwise
class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : ELU(ELUOptions().alpha(alpha)) {}
  explicit ELU(const ELUOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "alpha=1.0"
  ELUOptions options;
  double alpha;
};

// approximate: "none" (x * Phi(x) with erf) or "tanh".
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none")
      : GELU(GELUOptions().approximate(std::move(approximate))) {}
  explicit GELU(const GELUOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "approximate='none'"
  GELUOptions options;
  std::string approximate;
};

// tanh(x) elementwise: any shape, floating dtypes.
class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& input) override;
};

// 1 / (1 + exp(-x)) elementwise: any shape, floating dtypes.
class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& input) override;
};

// Softmax along `dim` (required: PyTorch's implicit-dim default is deprecated).
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : Softmax(SoftmaxOptions(dim)) {}
  explicit Softmax(const SoftmaxOptions& options)
      : Module("Softmax"), options(options), dim(options.dim()) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "dim=1"
  SoftmaxOptions options;
  int64_t dim;
};

// log(softmax(x)) along `dim` (required), computed stably; x's shape.
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : LogSoftmax(LogSoftmaxOptions(dim)) {}
  explicit LogSoftmax(const LogSoftmaxOptions& options)
      : Module("LogSoftmax"), options(options), dim(options.dim()) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "dim=1"
  LogSoftmaxOptions options;
  int64_t dim;
};

// x * sigmoid(x)
class SiLU : public Module {
 public:
  SiLU() : Module("SiLU") {}
  Tensor forward(const Tensor& input) override;
};

// log(1 + exp(beta x)) / beta, linear above threshold
class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0)
      : Module("Softplus"), beta(beta), threshold(threshold) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "beta=1, threshold=20"
  double beta, threshold;
};

// min(max(x, min_val), max_val)
class Hardtanh : public Module {
 public:
  explicit Hardtanh(double min_val = -1.0, double max_val = 1.0);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "min_val=-1.0, max_val=1.0"
  double min_val, max_val;
};

// x * tanh(softplus(x)) (ops/mish.h)
class Mish : public Module {
 public:
  Mish() : Module("Mish") {}
  Tensor forward(const Tensor& input) override;
};

// min(max(x, 0), 6)
class ReLU6 : public Module {
 public:
  ReLU6() : Module("ReLU6") {}
  Tensor forward(const Tensor& input) override;
};

}  // namespace minidl::nn
