// clamp with tensor bounds, clamp_min and clamp_max, as torch.clamp / torch.clamp_min /
// torch.clamp_max. (clamp with scalar bounds is declared in ops/elementwise.h.)
//
//   out = min(max(x, lo), hi)     lo applied first, so lo > hi gives hi
//
// Tensor bounds broadcast with x (the output has the broadcast shape) and promote as binary ops
// do (an int64 x with a float bound gives the float dtype). An absent bound -- std::nullopt or an
// undefined Tensor -- does not bind; at least one must be present. A NaN in x or in a bound gives
// NaN there. Bool tensors are refused (as scalar clamp does).
//
// Gradients (PyTorch 1.13's, ties included):
//   dx  = dout [lo <= x <= hi]                        (x == bound: the gradient goes to x)
//   dlo = dout [x < lo and (no hi or lo < hi)]
//   dhi = dout [x > hi or (lo given and hi < lo)]
// each summed back to its operand's shape. So with lo == hi neither bound gets a gradient where
// x < lo, and with lo > hi all of it goes to hi.
#pragma once

#include <optional>

#include "core/tensor.h"

namespace minidl {

// x, lo, hi broadcast -> the broadcast shape; errors when both bounds are absent or x is bool.
Tensor clamp(const Tensor& x, const std::optional<Tensor>& min, const std::optional<Tensor>& max);
// max(x, min) / min(x, max) elementwise, with a scalar or a (broadcast) tensor bound.
Tensor clamp_min(const Tensor& x, double min);
Tensor clamp_min(const Tensor& x, const Tensor& min);
Tensor clamp_max(const Tensor& x, double max);
Tensor clamp_max(const Tensor& x, const Tensor& max);

}  // namespace minidl
