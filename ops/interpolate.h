// Resampling with torch.nn.functional.interpolate's semantics (PyTorch 1.13), differentiable:
// input [N, C, L] (modes "nearest", "nearest-exact", "linear") or [N, C, H, W] ("nearest",
// "nearest-exact", "bilinear"); every (sample, channel) plane is resampled on its own.
//
// Output size: `size` as given, or floor(in * scale_factor) per spatial dim. The source position
// of output index d along a dim of sizes in -> out uses the scale
//   s = 1 / scale_factor   when a scale_factor is given and recompute_scale_factor is false,
//   s = in / out           otherwise,
// and (align_corners only) s = (in - 1) / (out - 1) (0 when out == 1) for the linear modes:
//   nearest        src = min(floor(d s), in - 1), with PyTorch's shortcuts d when out == in and
//                  d / 2 when out == 2 in (whatever the scale); s in float, as PyTorch computes it
//   nearest-exact  src = min(floor((d + 0.5) s), in - 1)
//   (bi)linear     src = d s (align_corners), else max(0, (d + 0.5) s - 0.5); the output blends
//                  x[floor(src)] and x[floor(src) + 1] (clamped to in - 1) with weights
//                  1 - frac(src) and frac(src), per dim (bilinear: the product of the two dims).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace minidl {

// Exactly one of `size` and `scale_factor` is non-empty; each holds one value (for every spatial
// dim) or one per spatial dim. align_corners may be set only for "linear" / "bilinear" (default
// false). Errors name "interpolate" and the shapes or values at fault.
// y[p, o] = sum_k w_k(o) x[p, src_k(o)] ;  dx[p, i] = sum_{o, k : src_k(o) = i} w_k(o) dy[p, o]
Tensor interpolate(const Tensor& input, const std::vector<int64_t>& size,
                   const std::vector<double>& scale_factor = {},
                   const std::string& mode = "nearest",
                   std::optional<bool> align_corners = std::nullopt,
                   bool recompute_scale_factor = false);

}  // namespace minidl
