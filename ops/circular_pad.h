// Circular padding, torch.nn.functional.pad(mode="circular") in PyTorch 1.13: the tensor is
// read as periodic along each padded dim, so the left pad repeats the last elements and the
// right pad the first ones: [0 1 2 3] padded (1, 2) -> [3 0 1 2 3 0 1].
//
// Shapes: `pad` holds (left, right) pairs starting from the LAST dim (as ops/shape_ops.h's pad),
// 2, 4 or 6 values, and x has exactly pad.size() / 2 + 2 dims ([N, C, L], [N, C, H, W] or
// [N, C, D, H, W], as PyTorch 1.13 requires). A negative pad crops first; the positive pads then
// wrap around the cropped tensor and must not exceed its size (no wrapping more than once).
// Pads that only crop (or are all 0) return a view of x, as narrow does.
// y = cat(x[.., s-l:], x, x[.., :r]) per dim ;  dx = the slices' gradients summed into place
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minidl {

// x [N, C, L] / [N, C, H, W] / [N, C, D, H, W], pad 2/4/6 values -> each dim grown by left + right.
Tensor circular_pad(const Tensor& x, const std::vector<int64_t>& pad);

}  // namespace minidl
