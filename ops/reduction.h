// Reductions over any set of dims (an empty list means all dims), with keepdim as in PyTorch.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minidl {

using Dims = std::vector<int64_t>;

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Variance / standard deviation with Bessel-style `correction` (1 = unbiased, 0 = population).
Tensor var(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
// Largest / smallest element (a 0-d tensor), and over one dim the values with their int64 indices.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
// Index of the largest / smallest element (over the flattened tensor when dim is absent).
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
// log(sum(exp(x))) computed stably (max subtracted first).
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
// p-norm: (sum |x|^p)^(1/p); p = inf gives max |x|, p = 0 counts nonzeros (no gradient).
Tensor norm(const Tensor& x, double p = 2.0, const Dims& dims = {}, bool keepdim = false);

// Sums a gradient of a broadcast result back to an input's shape: over the leading dims that
// broadcasting added and over dims where the input had size 1. The one helper every
// broadcasting op's backward uses.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// ---- for kernels of other reduction-like ops

// How a reduction walks its input: the output shape, and the input's geometry split into the
// dims that survive (kept_*) and the dims reduced away (reduced_*).
struct ReduceGeometry {
  Shape out_shape;  // keepdim applied
  Shape kept_shape, kept_strides;
  Shape reduced_shape, reduced_strides;
  int64_t out_numel = 1;
  int64_t reduce_numel = 1;
};
ReduceGeometry reduce_geometry(const Tensor& x, const Dims& normalized_dims, bool keepdim);

}  // namespace minidl
