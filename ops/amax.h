// amax / amin: the largest / smallest value over a list of dims, as torch.amax / torch.amin.
//
// Shapes: dims as in sum (wrapped, -1 is the last dim; each at most once; empty = all dims);
// the output drops the reduced dims, or keeps them as size 1 with keepdim. Any dtype, kept. A
// reduced dim of size 0 is an error (there is no extremum of nothing); NaN wins, as in max.
//
// Gradient: unlike max(x, dim), which sends dout to one index, every element equal to the result
// gets an even share (PyTorch's formula):
//   dx = dout * [x == out] / #{x == out}      (counted over each reduced group)
// so a group whose result is NaN (no element compares equal to it) gets NaN gradients, as in
// PyTorch.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minidl {

// x [d0, ..., dn] -> x's shape without `dims` (size 1 with keepdim); x's dtype. Errors: a dim out
// of range or repeated, a reduced dim of size 0.
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

}  // namespace minidl
