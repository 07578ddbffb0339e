// Dropout (torch.nn.functional.dropout): zeroes each element with probability p while training
// and scales the survivors by 1 / (1 - p), so the expected value is unchanged. dropout2d
// (torch.nn.functional.dropout2d) does the same to whole channels.
#pragma once

#include "core/generator.h"
#include "core/tensor.h"

namespace minidl {

// Not training, or p == 0: returns x itself (no copy, no tape entry). p == 1: zeros. Otherwise a
// mask is drawn from `generator` (the default generator when null, held under its mutex) in
// row-major element order, so one seed gives one mask whatever x's strides. p outside [0, 1] is
// an error.
// y = x * m / (1 - p),  m ~ Bernoulli(1 - p) ;  dx = dy * m / (1 - p)
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true,
               Generator* generator = nullptr);

// Channel dropout for x [N, C, H, W] or unbatched [C, H, W]: each channel (each [H, W] plane) is
// zeroed with probability p, the others scaled by 1 / (1 - p). One draw per channel, from
// `generator` (the default generator when null) in row-major (n, c) order. Not training, or
// p == 0: returns x itself. p outside [0, 1], or x not 3-D / 4-D, is an error. (PyTorch 1.13
// still reads a 3-D input as [N, C, L] and drops rows, with a warning that this will change to
// [C, H, W]; minidl takes the documented [C, H, W] meaning.)
// y = x * m[n, c] / (1 - p),  m ~ Bernoulli(1 - p) ;  dx = dy * m[n, c] / (1 - p)
Tensor dropout2d(const Tensor& x, double p = 0.5, bool training = true,
                 Generator* generator = nullptr);

}  // namespace minidl
