// A convolution's three bilinear maps as recorded ops, differentiable to any order: the composed
// backward that conv1d/conv2d (ops/conv.cpp) and conv_transpose1d/2d (ops/conv_transpose.cpp)
// use under create_graph. Internal to ops/.
//
// With T(x, w, y) = <y, conv(x, w)> for a ConvGeometry g (stride, padding, dilation, groups and
// output size included), every gradient of a convolution is one of
//   conv_apply(x, w)          = dT/dy   [N, C, H, W] x [O, Cg, KH, KW] -> [N, O, OH, OW]
//   conv_input_adjoint(y, w)  = dT/dx   [N, O, OH, OW] x [O, Cg, KH, KW] -> [N, C, H, W]
//   conv_weight_adjoint(x, y) = dT/dw   [N, C, H, W] x [N, O, OH, OW] -> [O, Cg, KH, KW]
// and the gradient of each is made of the other two (see the .cpp), so the set is closed under
// differentiation. Operands are 4-D (conv1d: H = KH = 1), any strides.
#pragma once

#include "core/tensor.h"
#include "ops/conv_kernels.h"

namespace minidl::detail {

Tensor conv_apply(const Tensor& x, const Tensor& w, const ConvGeometry& g);
Tensor conv_input_adjoint(const Tensor& y, const Tensor& w, const ConvGeometry& g);
Tensor conv_weight_adjoint(const Tensor& x, const Tensor& y, const ConvGeometry& g);

}  // namespace minidl::detail
