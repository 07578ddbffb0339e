// Random sampling ops beyond the factories (core/factories.h), as torch.bernoulli. Draws come
// from the default generator (manual_seed makes them reproducible). Not differentiable.
#pragma once

#include "core/tensor.h"

namespace minidl {

// 1 with probability p[i], else 0, elementwise; the result has p's shape and (floating) dtype.
// Every p[i] must lie in [0, 1].
Tensor bernoulli(const Tensor& p);
// The same with one probability for every element of a tensor shaped like x.
Tensor bernoulli(const Tensor& x, double p);

}  // namespace minidl
