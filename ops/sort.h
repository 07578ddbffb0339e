// Sorting along one dim: sort, argsort and topk, as torch.sort / torch.argsort / torch.topk.
//
// Values come with their int64 positions along `dim` (negative dims count from the end; a 0-d
// tensor is sorted as a 1-element one). The sort is stable: equal values keep their order,
// in both directions (torch.sort(stable=True); PyTorch's default unstable sort may order ties
// differently). NaN counts as larger than every number, so it comes last ascending and first
// descending, as in PyTorch. sort and argsort take any dtype, topk numeric ones (as PyTorch).
//
// Gradients (values only; indices are integers): values[..., j, ...] = x[..., idx[j], ...], so
//   dx = 0 with dx[..., idx[j], ...] = dvalues[..., j, ...]   (each position is picked once)
#pragma once

#include <tuple>

#include "core/tensor.h"

namespace minidl {

// (values, indices), values ordered along dim; shapes equal x's.
std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim = -1, bool descending = false);
// The indices of sort.
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
// The k largest (or smallest) entries along dim and their positions; the dim has size k in
// both results. sorted = false still returns them ordered (any order is allowed by PyTorch).
// 0 <= k <= x.size(dim).
std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true,
                                bool sorted = true);

}  // namespace minidl
