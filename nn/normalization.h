// Normalization layers with torch.nn's names, arguments, parameters and buffers: LayerNorm,
// BatchNorm1d, BatchNorm2d. The math is in ops/norm.h (layer_norm, batch_norm).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/arg.h"
#include "core/tensor.h"
#include "nn/module.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's: LayerNormOptions({10}).eps(1e-6).
struct LayerNormOptions {
  LayerNormOptions(std::vector<int64_t> normalized_shape)  // NOLINT: implicit, as in libtorch
      : normalized_shape_(std::move(normalized_shape)) {}
  MINIDL_ARG(std::vector<int64_t>, normalized_shape);
  MINIDL_ARG(double, eps) = 1e-5;
  MINIDL_ARG(bool, elementwise_affine) = true;
};

// BatchNormOptions(64).momentum(0.01); momentum std::nullopt is the cumulative average.
struct BatchNormOptions {
  BatchNormOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT: implicit
  MINIDL_ARG(int64_t, num_features);
  MINIDL_ARG(double, eps) = 1e-5;
  MINIDL_ARG(std::optional<double>, momentum) = 0.1;
  MINIDL_ARG(bool, affine) = true;
  MINIDL_ARG(bool, track_running_stats) = true;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

// Normalizes over the trailing dims normalized_shape of [*, normalized_shape] inputs.
// Parameters (elementwise_affine): weight (ones) and bias (zeros), of shape normalized_shape.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  explicit LayerNorm(int64_t normalized_shape, double eps = 1e-5, bool elementwise_affine = true)
      : LayerNorm(Shape{normalized_shape}, eps, elementwise_affine) {}
  // LayerNorm({3, 4}) (a braced list would otherwise also match the other constructors)
  LayerNorm(std::initializer_list<int64_t> normalized_shape, double eps = 1e-5,
            bool elementwise_affine = true)
      : LayerNorm(Shape(normalized_shape), eps, elementwise_affine) {}
  explicit LayerNorm(const LayerNormOptions& options)
      : LayerNorm(options.normalized_shape(), options.eps(), options.elementwise_affine()) {}

  Tensor forward(const Tensor& input) override;
  // "(10,), eps=1e-05, elementwise_affine=True"
  std::string extra_repr() const override;
  void reset_parameters();

  LayerNormOptions options;
  Shape normalized_shape;
  double eps;
  bool elementwise_affine;
  Tensor weight, bias;  // undefined without elementwise_affine
};

// BatchNorm1d / BatchNorm2d share everything but the accepted input dims (torch's _BatchNorm).
// Parameters (affine): weight (ones) and bias (zeros) [num_features]. Buffers
// (track_running_stats): running_mean (zeros), running_var (ones) [num_features] and
// num_batches_tracked (int64 scalar 0).
// Training: batch statistics normalize and, if tracked, update the running ones with
// `momentum`, or with a cumulative average (factor 1 / num_batches_tracked) when momentum is
// std::nullopt (torch's momentum=None). Eval: the running statistics normalize, or the batch's
// when they are not tracked.
class BatchNormBase : public Module {
 public:
  BatchNormBase(std::string type_name, int64_t num_features, double eps,
                std::optional<double> momentum, bool affine, bool track_running_stats);

  Tensor forward(const Tensor& input) override;
  // "3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True"
  std::string extra_repr() const override;
  void reset_running_stats();
  void reset_parameters();

  BatchNormOptions options;
  int64_t num_features;
  double eps;
  std::optional<double> momentum;
  bool affine, track_running_stats;
  Tensor weight, bias;                                    // undefined without affine
  Tensor running_mean, running_var, num_batches_tracked;  // undefined without tracking
  // While training on more than one process: normalize by the statistics of the whole batch,
  // every rank's part (distributed::sync_batch_norm, nn/distributed/sync_batch_norm.h; set by
  // distributed::convert_sync_batchnorm). Off: each rank's own part's statistics.
  bool synchronize_statistics = false;

 protected:
  // Errors (naming the module) unless the input has the dims this layer accepts.
  virtual void check_input_dim(const Tensor& input) const = 0;
};

// Over [N, C] or [N, C, L] inputs.
class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : BatchNormBase("BatchNorm1d", num_features, eps, momentum, affine, track_running_stats) {}
  explicit BatchNorm1d(const BatchNorm1dOptions& options)
      : BatchNorm1d(options.num_features(), options.eps(), options.momentum(), options.affine(),
                    options.track_running_stats()) {}

 protected:
  void check_input_dim(const Tensor& input) const override;
};

// Over [N, C, H, W] inputs.
class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : BatchNormBase("BatchNorm2d", num_features, eps, momentum, affine, track_running_stats) {}
  explicit BatchNorm2d(const BatchNorm2dOptions& options)
      : BatchNorm2d(options.num_features(), options.eps(), options.momentum(), options.affine(),
                    options.track_running_stats()) {}

 protected:
  void check_input_dim(const Tensor& input) const override;
};

}  // namespace minidl::nn
