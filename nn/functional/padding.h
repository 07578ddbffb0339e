// torch::nn::functional::pad with libtorch's PadFuncOptions(pad): mode = kConstant (or kReflect,
// kReplicate, kCircular), value = 0. `pad` holds (before, after) pairs from the LAST dim:
//   F::pad(x, F::PadFuncOptions({1, 1, 2, 0}).mode(kReflect));
// kConstant, kReflect and kReplicate forward to ops/shape_ops.h's pad, kCircular to
// ops/circular_pad.h.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/arg.h"
#include "nn/functional/modes.h"
#include "ops/circular_pad.h"
#include "ops/shape_ops.h"

namespace minidl::nn::functional {

// pad (required, (before, after) pairs from the last dim), mode (kConstant), value (0).
struct PadFuncOptions {
  PadFuncOptions(std::vector<int64_t> pad) : pad_(std::move(pad)) {}  // NOLINT: as libtorch's
  MINIDL_ARG(std::vector<int64_t>, pad);
  MINIDL_ARG(PadMode, mode) = kConstant;
  MINIDL_ARG(double, value) = 0.0;
};

// x [*] -> each padded dim grown by before + after (negative pads crop); circular needs
// [N, C, L] / [N, C, H, W] / [N, C, D, H, W].
inline Tensor pad(const Tensor& input, const PadFuncOptions& options) {
  if (std::string(options.mode().name) == enumtype::kCircular::name)
    return minidl::circular_pad(input, options.pad());
  return minidl::pad(input, options.pad(), options.mode().name, options.value());
}

}  // namespace minidl::nn::functional
