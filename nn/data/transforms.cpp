#include "nn/data/transforms.h"

#include <algorithm>
#include <cmath>

#include "core/factories.h"
#include "core/shape.h"
#include "ops/shape_ops.h"

namespace minidl::data::transforms {

namespace detail {

Tensor normalize_parameter(ArrayRef<double> values, const char* name, bool nonzero) {
  MINIDL_CHECK(!values.empty(), "Normalize", name << " has no values");
  for (size_t c = 0; c < values.size(); ++c) {
    MINIDL_CHECK(std::isfinite(values[c]), "Normalize",
                 name << "[" << c << "] = " << values[c] << " is not finite");
    MINIDL_CHECK(!nonzero || values[c] != 0.0, "Normalize", name << "[" << c << "] is zero");
  }
  const int64_t channels = static_cast<int64_t>(values.size());
  return from_vector(values.vec(), {channels, 1, 1}, kFloat32);
}

Tensor normalize(const Tensor& input, const Tensor& mean, const Tensor& stddev) {
  MINIDL_CHECK(input.defined(), "Normalize", "the input is undefined");
  const int64_t channels = std::max(mean.size(0), stddev.size(0));
  if (channels > 1)
    MINIDL_CHECK(input.dim() >= 3 && input.size(-3) == channels, "Normalize",
                 "input of shape " << shape_str(input.shape()) << " does not have " << channels
                                   << " channels in dim -3 (an image [C, H, W] or a batch "
                                      "[N, C, H, W])");
  return input.sub(mean).div(stddev);
}

}  // namespace detail

namespace {

// The data (or targets) of a batch, checked to share example 0's shape.
void check_same_shape(const Tensor& tensor, const Tensor& first, size_t index, const char* what) {
  MINIDL_CHECK(tensor.defined(), "Stack", "example " << index << " has no " << what);
  MINIDL_CHECK(tensor.shape() == first.shape(), "Stack",
               "example " << index << " has " << what << " of shape " << shape_str(tensor.shape())
                          << ", example 0 " << shape_str(first.shape()));
}

}  // namespace

Example<> Stack<Example<>>::apply_batch(std::vector<Example<>> examples) {
  MINIDL_CHECK(!examples.empty(), "Stack", "cannot stack an empty batch");
  std::vector<Tensor> data, targets;
  data.reserve(examples.size());
  targets.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    check_same_shape(examples[i].data, examples[0].data, i, "data");
    check_same_shape(examples[i].target, examples[0].target, i, "target");
    data.push_back(examples[i].data);
    targets.push_back(examples[i].target);
  }
  return {stack(data), stack(targets)};
}

TensorExample Stack<TensorExample>::apply_batch(std::vector<TensorExample> examples) {
  MINIDL_CHECK(!examples.empty(), "Stack", "cannot stack an empty batch");
  std::vector<Tensor> data;
  data.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    check_same_shape(examples[i].data, examples[0].data, i, "data");
    data.push_back(examples[i].data);
  }
  return stack(data);
}

}  // namespace minidl::data::transforms
