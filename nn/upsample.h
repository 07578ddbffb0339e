// Upsample (torch.nn.Upsample): resamples [N, C, L] or [N, C, H, W] inputs to a given size or
// by a scale factor (no parameters; the math is in ops/interpolate.h).
//   Upsample({}, {2.0})                          -> "Upsample(scale_factor=2.0, mode=nearest)"
//   Upsample({4, 5}, {}, "bilinear", true)       -> "Upsample(size=(4, 5), mode=bilinear)"
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/arg.h"
#include "nn/module.h"
#include "ops/interpolate.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's:
//   UpsampleOptions().scale_factor(std::vector<double>{2.0}).mode("bilinear").align_corners(false)
struct UpsampleOptions {
  MINIDL_ARG(std::optional<std::vector<int64_t>>, size) = std::nullopt;
  MINIDL_ARG(std::optional<std::vector<double>>, scale_factor) = std::nullopt;
  // "nearest", "nearest-exact", "linear" or "bilinear"
  MINIDL_ARG(std::string, mode) = "nearest";
  MINIDL_ARG(std::optional<bool>, align_corners) = std::nullopt;
};

// torch.nn.Upsample: interpolate (ops/interpolate.h) input [N, C, L] or [N, C, H, W] to `size` or
// by scale_factor; no parameters.
class Upsample : public Module {
 public:
  // Exactly one of size and scale_factor is non-empty (one value, or one per spatial dim).
  explicit Upsample(std::vector<int64_t> size, std::vector<double> scale_factor = {},
                    std::string mode = "nearest", std::optional<bool> align_corners = std::nullopt,
                    bool recompute_scale_factor = false);
  explicit Upsample(const UpsampleOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  UpsampleOptions options;
  std::vector<int64_t> size;
  std::vector<double> scale_factor;
  std::string mode;
  std::optional<bool> align_corners;
  bool recompute_scale_factor;
};

}  // namespace minidl::nn
