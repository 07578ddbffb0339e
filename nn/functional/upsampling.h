// torch::nn::functional::interpolate with libtorch's InterpolateFuncOptions: size or
// scale_factor (exactly one), mode = kNearest (or kNearestExact, kLinear, kBilinear),
// align_corners (linear modes only), recompute_scale_factor; forwards to ops/interpolate.h.
//   F::interpolate(x, F::InterpolateFuncOptions().scale_factor({2.0, 2.0}).mode(kBilinear)
//                         .align_corners(false));
// antialias (libtorch 1.13) is accepted only as false: minidl has no antialiased resampling.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/arg.h"
#include "nn/functional/modes.h"
#include "ops/interpolate.h"

namespace minidl::nn::functional {

// size or scale_factor (exactly one), mode (kNearest), align_corners, recompute_scale_factor.
struct InterpolateFuncOptions {
  MINIDL_ARG(std::optional<std::vector<int64_t>>, size) = std::nullopt;
  MINIDL_ARG(std::optional<std::vector<double>>, scale_factor) = std::nullopt;
  MINIDL_ARG(InterpolateMode, mode) = kNearest;
  MINIDL_ARG(std::optional<bool>, align_corners) = std::nullopt;
  MINIDL_ARG(std::optional<bool>, recompute_scale_factor) = std::nullopt;
  MINIDL_ARG(bool, antialias) = false;
};

// input [N, C, L] or [N, C, H, W] -> [N, C, size...]; antialias is an error (ops/interpolate.h).
inline Tensor interpolate(const Tensor& input, const InterpolateFuncOptions& options = {}) {
  MINIDL_CHECK(!options.antialias(), "interpolate",
               "antialias=true is not supported (mode " << options.mode().name << ")");
  return minidl::interpolate(input, options.size().value_or(std::vector<int64_t>{}),
                             options.scale_factor().value_or(std::vector<double>{}),
                             options.mode().name, options.align_corners(),
                             options.recompute_scale_factor().value_or(false));
}

}  // namespace minidl::nn::functional
