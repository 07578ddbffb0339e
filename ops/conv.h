// Convolutions: conv1d and conv2d with torch.nn.functional's semantics, differentiable.
//
//   conv2d: input [N, C, H, W] (or unbatched [C, H, W]), weight [O, C / groups, kH, kW],
//           bias [O] (optional) -> [N, O, OH, OW],  OH = (H + 2 pad - dil (kH - 1) - 1) / stride +
//           1
//   conv1d: the same with one spatial dim: [N, C, L], weight [O, C / groups, k] -> [N, O, OL].
//
// Computed as im2col + GEMM: each sample's receptive fields are unrolled into a column matrix
// [C/groups * kH * kW, OH * OW], and out = weight @ columns per group (cblas_?gemm). Samples are
// spread over OpenMP threads, one single-threaded GEMM each (the openmp build of OpenBLAS runs
// serially inside a parallel region); a batch smaller than the thread count lets BLAS thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace minidl {

// An int or one int per spatial dim, like libtorch's ExpandingArray: `2` or `{2, 1}`. Empty
// (`{}`) means "not given" where an argument has a default that depends on another (a pool's
// stride defaults to its kernel size).
struct ExpandingArray {
  ExpandingArray() = default;
  ExpandingArray(int v) : values{v} {}      // NOLINT: implicit, as in libtorch
  ExpandingArray(int64_t v) : values{v} {}  // NOLINT
  ExpandingArray(std::initializer_list<int64_t> v) : values(v) {}
  ExpandingArray(std::vector<int64_t> v) : values(std::move(v)) {}  // NOLINT
  bool empty() const { return values.empty(); }
  // The values for `dims` spatial dims: one value repeated, or exactly `dims` values (checked;
  // errors name `op` and `what`).
  std::vector<int64_t> expand(size_t dims, const char* op, const char* what) const;
  std::vector<int64_t> values;
};

// A convolution's padding: an int, one int per spatial dim, or "same" / "valid" (as
// torch.nn.functional.conv2d's `padding`). "same" pads so the output has the input's size
// (stride 1 only); when the total padding dil * (k - 1) is odd, the extra row/column goes at
// the end (bottom/right), exactly as PyTorch does.
struct ConvPadding {
  ConvPadding(int v) : values{v} {}      // NOLINT: implicit, as in PyTorch
  ConvPadding(int64_t v) : values{v} {}  // NOLINT
  ConvPadding(std::initializer_list<int64_t> v) : values(v) {}
  ConvPadding(std::vector<int64_t> v) : values(std::move(v)) {}  // NOLINT
  ConvPadding(const char* m) : mode(m) {}                        // NOLINT
  ConvPadding(std::string m) : mode(std::move(m)) {}             // NOLINT
  std::string mode;  // "same", "valid", or empty when `values` hold the padding
  std::vector<int64_t> values;
};

// input [N, C, L] (or [C, L]), weight [O, C / groups, k], bias [O] -> [N, O, OL]; floating dtypes.
// Errors name conv1d: channel / groups mismatch, a kernel larger than the padded input.
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              ExpandingArray stride = 1, ConvPadding padding = 0, ExpandingArray dilation = 1,
              int64_t groups = 1);

// input [N, C, H, W] (or [C, H, W]), weight [O, C / groups, kH, kW], bias [O] -> [N, O, OH, OW].
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              ExpandingArray stride = 1, ConvPadding padding = 0, ExpandingArray dilation = 1,
              int64_t groups = 1);

// "(1, 1)" / "(3,)": a Python tuple of the values, as PyTorch's reprs print them.
std::string tuple_str(const std::vector<int64_t>& values);

}  // namespace minidl
