// Dropout (torch.nn.functional.dropout): zeroes each element with probability p while training
// and scales the survivors by 1 / (1 - p), so the expected value is unchanged.
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

}  // namespace minidl
