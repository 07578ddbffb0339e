// Affine layers and shape adapters: Linear, Bilinear, Identity, Flatten, Unflatten.
//
// Constructor arguments, parameter names, layouts and initialization are PyTorch's, so a
// PyTorch state_dict loads unchanged:
//   Linear    weight [out_features, in_features], bias [out_features]
//             weight ~ kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)); bias
//             likewise
//   Bilinear  weight [out_features, in1_features, in2_features], bias [out_features]
//             both ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features))
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/arg.h"
#include "nn/module.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's: LinearOptions(784, 10).bias(false).
struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  MINIDL_ARG(int64_t, in_features);
  MINIDL_ARG(int64_t, out_features);
  MINIDL_ARG(bool, bias) = true;
};

// in1_features, in2_features, out_features (required), bias (true).
struct BilinearOptions {
  BilinearOptions(int64_t in1_features, int64_t in2_features, int64_t out_features)
      : in1_features_(in1_features), in2_features_(in2_features), out_features_(out_features) {}
  MINIDL_ARG(int64_t, in1_features);
  MINIDL_ARG(int64_t, in2_features);
  MINIDL_ARG(int64_t, out_features);
  MINIDL_ARG(bool, bias) = true;
};

// start_dim (1) and end_dim (-1): the dims Flatten merges.
struct FlattenOptions {
  MINIDL_ARG(int64_t, start_dim) = 1;
  MINIDL_ARG(int64_t, end_dim) = -1;
};

// dim (required) and sizes (required; their product must equal x.size(dim)).
struct UnflattenOptions {
  UnflattenOptions(int64_t dim, std::vector<int64_t> sizes) : dim_(dim), sizes_(std::move(sizes)) {}
  MINIDL_ARG(int64_t, dim);
  MINIDL_ARG(std::vector<int64_t>, sizes);
};

// y = x W^T + b over the last dim of x [..., in_features] -> [..., out_features].
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  explicit Linear(const LinearOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "in_features=3, out_features=4, bias=True"
  void reset_parameters();

  LinearOptions options;
  int64_t in_features, out_features;
  Tensor weight, bias;  // bias undefined when constructed with bias = false
};

// y[..., o] = x1^T W[o] x2 + b[o] for x1 [..., in1_features], x2 [..., in2_features].
// Takes two inputs: call forward(x1, x2) (the single-tensor forward is an error).
class Bilinear : public Module {
 public:
  Bilinear(int64_t in1_features, int64_t in2_features, int64_t out_features, bool bias = true);
  explicit Bilinear(const BilinearOptions& options);
  using Module::forward;
  using Module::operator();
  // x1 [..., in1_features], x2 [..., in2_features] (same leading dims) -> [..., out_features].
  Tensor forward(const Tensor& input1, const Tensor& input2);
  Tensor operator()(const Tensor& input1, const Tensor& input2) { return forward(input1, input2); }
  std::string extra_repr() const override;
  void reset_parameters();

  BilinearOptions options;
  int64_t in1_features, in2_features, out_features;
  Tensor weight, bias;
};

// Returns its input (a placeholder, e.g. for an optional layer).
class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& input) override { return input; }
};

// input.flatten(start_dim, end_dim): [N, C, H, W] -> [N, C*H*W] with the defaults.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1);
  explicit Flatten(const FlattenOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "start_dim=1, end_dim=-1"

  FlattenOptions options;
  int64_t start_dim, end_dim;
};

// input.unflatten(dim, unflattened_size): [N, 50] -> [N, 2, 5, 5] with dim 1, size {2, 5, 5}.
class Unflatten : public Module {
 public:
  Unflatten(int64_t dim, Shape unflattened_size);
  explicit Unflatten(const UnflattenOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "dim=1, unflattened_size=(2, 5, 5)"

  UnflattenOptions options;
  int64_t dim;
  Shape unflattened_size;
};

}  // namespace minidl::nn
