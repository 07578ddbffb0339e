// Dropout (torch.nn.Dropout) and Dropout2d (torch.nn.Dropout2d): zero elements / whole channels
// with probability p in training mode, scaling the rest by 1 / (1 - p); the identity in eval mode.
#pragma once

#include "core/arg.h"
#include "nn/module.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's (Dropout2dOptions is the same struct there).
// minidl's dropout computes out of place, so inplace(true) is an error at construction.
struct DropoutOptions {
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT: implicit, as in libtorch
  MINIDL_ARG(double, p);
  MINIDL_ARG(bool, inplace) = false;
};
using Dropout2dOptions = DropoutOptions;

// torch.nn.Dropout: forward(x) zeroes elements with probability p while training -> x's shape.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5) : Dropout(DropoutOptions(p)) {}
  explicit Dropout(const DropoutOptions& options);
  Tensor forward(const Tensor& input) override;  // draws from the default generator
  std::string extra_repr() const override;       // "p=0.5, inplace=False"
  DropoutOptions options;
  double p;
};

// Dropout2d (torch.nn.Dropout2d): zeroes whole channels of [N, C, H, W] or [C, H, W] inputs with
// probability p in training mode, scaling the rest by 1 / (1 - p); the identity in eval mode.
class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5) : Dropout2d(Dropout2dOptions(p)) {}
  explicit Dropout2d(const Dropout2dOptions& options);
  Tensor forward(const Tensor& input) override;  // draws from the default generator
  std::string extra_repr() const override;       // "p=0.5, inplace=False"
  Dropout2dOptions options;
  double p;
};

}  // namespace minidl::nn
