#include "nn/normalization.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <utility>

#include "core/autograd.h"
#include "core/factories.h"
#include "nn/distributed/distributed.h"
#include "nn/distributed/sync_batch_norm.h"
#include "ops/norm.h"

namespace minidl::nn {

namespace {

// A double as Python's repr() prints it: the shortest digits that read back exactly, fixed
// notation for exponents in [-4, 16), else scientific with a two-digit exponent (1e-05, 0.1, 1.0).
std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[64];
  int digits = 1;
  for (; digits < 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*e", digits - 1, v);
    if (std::strtod(buffer, nullptr) == v) break;
  }
  std::snprintf(buffer, sizeof buffer, "%.*e", digits - 1, v);
  const std::string sci = buffer;
  const size_t e = sci.find('e');
  const int exponent = std::atoi(sci.c_str() + e + 1);
  if (exponent >= -4 && exponent < 16) {
    std::snprintf(buffer, sizeof buffer, "%.*f", std::max(0, digits - 1 - exponent), v);
    std::string fixed = buffer;
    if (fixed.find('.') == std::string::npos) fixed += ".0";
    return fixed;
  }
  std::string mantissa = sci.substr(0, e);
  std::snprintf(buffer, sizeof buffer, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return mantissa + buffer;
}

const char* python_bool(bool b) {
  return b ? "True" : "False";
}

}  // namespace

// ---------------------------------------------------------------- LayerNorm

LayerNorm::LayerNorm(Shape normalized_shape_, double eps_, bool elementwise_affine_)
    : Module("LayerNorm"),
      options(
          LayerNormOptions(normalized_shape_).eps(eps_).elementwise_affine(elementwise_affine_)),
      normalized_shape(std::move(normalized_shape_)),
      eps(eps_),
      elementwise_affine(elementwise_affine_) {
  MINIDL_CHECK(!normalized_shape.empty(), "LayerNorm",
               "normalized_shape must have at least one dim, got []");
  for (int64_t s : normalized_shape)
    MINIDL_CHECK(
        s >= 0, "LayerNorm",
        "normalized_shape must not have negative sizes, got " << shape_str(normalized_shape));
  weight = register_parameter("weight", elementwise_affine ? empty(normalized_shape) : Tensor());
  bias = register_parameter("bias", elementwise_affine ? empty(normalized_shape) : Tensor());
  reset_parameters();
}

void LayerNorm::reset_parameters() {
  NoGradGuard no_grad;
  if (weight.defined()) weight.fill_(1.0);
  if (bias.defined()) bias.fill_(0.0);
}

Tensor LayerNorm::forward(const Tensor& input) {
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  bool trailing = input.dim() >= k;
  for (int64_t d = 0; trailing && d < k; ++d)
    trailing = input.size(input.dim() - k + d) == normalized_shape[d];
  MINIDL_CHECK(trailing, "LayerNorm",
               "expected input of shape [*, "
                   << shape_str(normalized_shape).substr(1) << " (normalized_shape "
                   << shape_str(normalized_shape) << "), got " << shape_str(input.shape()));
  return layer_norm(input, normalized_shape, weight, bias, eps);
}

std::string LayerNorm::extra_repr() const {
  std::ostringstream os;
  os << '(';
  for (size_t i = 0; i < normalized_shape.size(); ++i) os << (i ? ", " : "") << normalized_shape[i];
  os << (normalized_shape.size() == 1 ? ",)" : ")") << ", eps=" << python_float(eps)
     << ", elementwise_affine=" << python_bool(elementwise_affine);
  return os.str();
}

// ---------------------------------------------------------------- BatchNorm1d / 2d

BatchNormBase::BatchNormBase(std::string type_name, int64_t num_features_, double eps_,
                             std::optional<double> momentum_, bool affine_,
                             bool track_running_stats_)
    : Module(type_name),
      options(BatchNormOptions(num_features_)
                  .eps(eps_)
                  .momentum(momentum_)
                  .affine(affine_)
                  .track_running_stats(track_running_stats_)),
      num_features(num_features_),
      eps(eps_),
      momentum(momentum_),
      affine(affine_),
      track_running_stats(track_running_stats_) {
  MINIDL_CHECK(num_features > 0, type_name, "num_features must be positive, got " << num_features);
  weight = register_parameter("weight", affine ? empty({num_features}) : Tensor());
  bias = register_parameter("bias", affine ? empty({num_features}) : Tensor());
  running_mean =
      register_buffer("running_mean", track_running_stats ? empty({num_features}) : Tensor());
  running_var =
      register_buffer("running_var", track_running_stats ? empty({num_features}) : Tensor());
  num_batches_tracked =
      register_buffer("num_batches_tracked", track_running_stats ? zeros({}, kInt64) : Tensor());
  reset_parameters();
}

void BatchNormBase::reset_running_stats() {
  if (!track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.fill_(0.0);
  running_var.fill_(1.0);
  num_batches_tracked.fill_(0.0);
}

void BatchNormBase::reset_parameters() {
  reset_running_stats();
  NoGradGuard no_grad;
  if (weight.defined()) weight.fill_(1.0);
  if (bias.defined()) bias.fill_(0.0);
}

Tensor BatchNormBase::forward(const Tensor& input) {
  check_input_dim(input);
  MINIDL_CHECK(input.size(1) == num_features, type_name(),
               "expected input with " << num_features << " channels (dim 1), got input of shape "
                                      << shape_str(input.shape()));
  // As torch: batch statistics while training, and in eval when none are tracked; running
  // statistics are updated only while training.
  const bool update = is_training() && track_running_stats;
  const bool use_batch_stats = is_training() || !track_running_stats;
  double factor = momentum.value_or(0.0);
  if (update && !momentum) {  // cumulative moving average over the batches seen so far
    factor = 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>() + 1);
  }
  Tensor out =
      is_training() && synchronize_statistics && distributed::world_size() > 1
          ? distributed::sync_batch_norm(input, update ? running_mean : Tensor(),
                                         update ? running_var : Tensor(), weight, bias, factor, eps)
          : batch_norm(input, running_mean, running_var, weight, bias, use_batch_stats, factor,
                       eps);
  if (update) {  // counted only once the batch went through
    NoGradGuard no_grad;
    num_batches_tracked.add_(1.0);
  }
  return out;
}

std::string BatchNormBase::extra_repr() const {
  std::ostringstream os;
  os << num_features << ", eps=" << python_float(eps)
     << ", momentum=" << (momentum ? python_float(*momentum) : std::string("None"))
     << ", affine=" << python_bool(affine)
     << ", track_running_stats=" << python_bool(track_running_stats);
  return os.str();
}

void BatchNorm1d::check_input_dim(const Tensor& input) const {
  MINIDL_CHECK(input.dim() == 2 || input.dim() == 3, type_name(),
               "expected 2D or 3D input (got " << input.dim() << "D input of shape "
                                               << shape_str(input.shape()) << ")");
}

void BatchNorm2d::check_input_dim(const Tensor& input) const {
  MINIDL_CHECK(input.dim() == 4, type_name(),
               "expected 4D input (got " << input.dim() << "D input of shape "
                                         << shape_str(input.shape()) << ")");
}

}  // namespace minidl::nn
