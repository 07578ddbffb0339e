// torch::nn::functional::embedding and one_hot, forwarding to ops/index_ops.h.
//   EmbeddingFuncOptions: padding_idx (none; negative counts from the end, as libtorch's),
//   max_norm (none), norm_type = 2, scale_grad_by_freq = false, sparse = false.
// max_norm (which renormalizes the weight rows in place), scale_grad_by_freq and sparse
// gradients are not supported: setting them is an error naming embedding.
#pragma once

#include <cstdint>
#include <optional>

#include "core/arg.h"
#include "core/shape.h"
#include "ops/index_ops.h"

namespace minidl::nn::functional {

// The options listed above; only padding_idx is supported.
struct EmbeddingFuncOptions {
  MINIDL_ARG(std::optional<int64_t>, padding_idx) = std::nullopt;
  MINIDL_ARG(std::optional<double>, max_norm) = std::nullopt;
  MINIDL_ARG(double, norm_type) = 2.0;
  MINIDL_ARG(bool, scale_grad_by_freq) = false;
  MINIDL_ARG(bool, sparse) = false;
};

// int64 indices [*] into weight [V, E] -> [*, E]; padding_idx's row gets no gradient. Errors: an
// index or padding_idx out of range, an unsupported option.
inline Tensor embedding(const Tensor& input, const Tensor& weight,
                        const EmbeddingFuncOptions& options = {}) {
  MINIDL_CHECK(!options.max_norm() && !options.scale_grad_by_freq() && !options.sparse(),
               "embedding",
               "max_norm, scale_grad_by_freq and sparse are not supported (weight shape "
                   << shape_str(weight.shape()) << ")");
  int64_t padding_idx = -1;
  if (options.padding_idx()) {
    int64_t rows = weight.defined() && weight.dim() > 0 ? weight.size(0) : 0;
    padding_idx = *options.padding_idx();
    MINIDL_CHECK(padding_idx >= -rows && padding_idx < rows, "embedding",
                 "padding_idx " << padding_idx << " is out of range for weight of shape "
                                << shape_str(weight.shape()));
    if (padding_idx < 0) padding_idx += rows;
  }
  return minidl::embedding(weight, input, padding_idx);
}

// int64 [*, num_classes] with a 1 at each index; num_classes = -1 infers max(tensor) + 1.
inline Tensor one_hot(const Tensor& tensor, int64_t num_classes = -1) {
  return minidl::one_hot(tensor, num_classes);
}

}  // namespace minidl::nn::functional
