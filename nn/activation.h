// Activation modules: thin wrappers over the functional ops (ops/elementwise.h, ops/softmax.h,
// ops/activation_extra.h),
// with torch.nn's names, constructor defaults and printouts.
#pragma once

#include <string>

#include "nn/module.h"

namespace minidl::nn {

// A double as Python's repr() prints it (shortest round-trip form: 0.01, 1.0, 1e-05), so that
// extra_repr strings read exactly like PyTorch's.
std::string python_float(double value);

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& input) override;
};

// max(0, x) + negative_slope * min(0, x)
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01)
      : Module("LeakyReLU"), negative_slope(negative_slope) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "negative_slope=0.01"
  double negative_slope;
};

// x for x > 0, alpha * (exp(x) - 1) otherwise
class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : Module("ELU"), alpha(alpha) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "alpha=1.0"
  double alpha;
};

// approximate: "none" (x * Phi(x) with erf) or "tanh".
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "approximate='none'"
  std::string approximate;
};

class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& input) override;
};

class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& input) override;
};

// Softmax along `dim` (required: PyTorch's implicit-dim default is deprecated).
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : Module("Softmax"), dim(dim) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "dim=1"
  int64_t dim;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : Module("LogSoftmax"), dim(dim) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "dim=1"
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

// min(max(x, 0), 6)
class ReLU6 : public Module {
 public:
  ReLU6() : Module("ReLU6") {}
  Tensor forward(const Tensor& input) override;
};

}  // namespace minidl::nn
