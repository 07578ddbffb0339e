// Selections whose result size depends on the data: nonzero and masked_select (the ops behind
// indexing with a bool mask, x[mask]).
#pragma once

#include "core/tensor.h"

namespace minidl {

// The positions of x's nonzero (true) elements in row-major order: int64 [count, x.dim()]
// (torch.nonzero).
Tensor nonzero(const Tensor& x);
// The elements of x where mask (bool) is true, in row-major order, as a 1-d tensor; x and mask
// broadcast together (torch.masked_select). dx receives dout at the selected positions, 0
// elsewhere (summed over broadcast copies).
Tensor masked_select(const Tensor& x, const Tensor& mask);

}  // namespace minidl
