// Recorded bilinear maps of a convolution (ops/conv_grad.h): each runs one conv kernel
// (ops/conv_kernels.cpp) and records a backward made of the other two.
#include "ops/conv_grad.h"

#include "core/autograd.h"
#include "ops/linalg.h"

namespace minidl::detail {

Tensor conv_apply(const Tensor& x, const Tensor& w, const ConvGeometry& g) {
  Tensor out = empty({g.N, g.O, g.OH, g.OW}, x.dtype());
  const Tensor xd = dense(x), wd = dense(w);
  MINIDL_DISPATCH_FLOATING(x.dtype(), "conv",
                           conv_forward<scalar_t>(xd.data_ptr<scalar_t>(), wd.data_ptr<scalar_t>(),
                                                  nullptr, out.data_ptr<scalar_t>(), g));
  if (needs_grad({x, w})) {
    const bool need_dx = x.requires_grad(), need_dw = w.requires_grad();
    // out = conv(x, w) ;  dx = conv_input_adjoint(dout, w) ,  dw = conv_weight_adjoint(x, dout)
    // derivation: T(x, w, y) = <y, conv(x, w)> is linear in each argument; the gradient of
    //   <dout, conv(x, w)> in x is dT/dx at y = dout, in w it is dT/dw (ops/conv_grad.h)
    record("ConvolutionBackward0", out, {x, w},
           [g, need_dx, need_dw, saved_x = need_dw ? SavedTensor(x) : SavedTensor(),
            saved_w = need_dx ? SavedTensor(w) : SavedTensor()](const Tensor& dy) {
             return GradList{need_dx ? conv_input_adjoint(dy, saved_w.get(), g) : Tensor(),
                             need_dw ? conv_weight_adjoint(saved_x.get(), dy, g) : Tensor()};
           })
        ->twice_differentiable = true;
  }
  return out;
}

Tensor conv_input_adjoint(const Tensor& y, const Tensor& w, const ConvGeometry& g) {
  Tensor out = empty({g.N, g.C, g.H, g.W}, y.dtype());
  const Tensor yd = dense(y), wd = dense(w);
  MINIDL_DISPATCH_FLOATING(
      y.dtype(), "conv input gradient",
      conv_backward<scalar_t>(nullptr, wd.data_ptr<scalar_t>(), yd.data_ptr<scalar_t>(),
                              out.data_ptr<scalar_t>(), nullptr, nullptr, g));
  if (needs_grad({y, w})) {
    const bool need_dy = y.requires_grad(), need_dw = w.requires_grad();
    // out = conv_input_adjoint(y, w) = dT/dx ;  dy = conv_apply(dout, w) ,
    //   dw = conv_weight_adjoint(dout, y)
    // derivation: <dout, dT/dx(y, w)> = T(dout, w, y) (T is linear in x), so its gradient in y
    //   is dT/dy(dout, w) = conv(dout, w), and in w it is dT/dw(dout, y)
    record("ConvolutionBackwardBackward0", out, {y, w},
           [g, need_dy, need_dw, saved_y = need_dw ? SavedTensor(y) : SavedTensor(),
            saved_w = need_dy ? SavedTensor(w) : SavedTensor()](const Tensor& dz) {
             return GradList{need_dy ? conv_apply(dz, saved_w.get(), g) : Tensor(),
                             need_dw ? conv_weight_adjoint(dz, saved_y.get(), g) : Tensor()};
           })
        ->twice_differentiable = true;
  }
  return out;
}

Tensor conv_weight_adjoint(const Tensor& x, const Tensor& y, const ConvGeometry& g) {
  Tensor out = empty({g.O, g.C / g.groups, g.KH, g.KW}, x.dtype());
  const Tensor xd = dense(x), yd = dense(y);
  MINIDL_DISPATCH_FLOATING(
      x.dtype(), "conv weight gradient",
      conv_backward<scalar_t>(xd.data_ptr<scalar_t>(), nullptr, yd.data_ptr<scalar_t>(), nullptr,
                              out.data_ptr<scalar_t>(), nullptr, g));
  if (needs_grad({x, y})) {
    const bool need_dx = x.requires_grad(), need_dy = y.requires_grad();
    // out = conv_weight_adjoint(x, y) = dT/dw ;  dx = conv_input_adjoint(y, dout) ,
    //   dy = conv_apply(x, dout)
    // derivation: <dout, dT/dw(x, y)> = T(x, dout, y) (T is linear in w), so its gradient in x
    //   is dT/dx(dout, y) and in y it is dT/dy(x, dout) = conv(x, dout)
    record("ConvolutionBackwardBackward0", out, {x, y},
           [g, need_dx, need_dy, saved_x = need_dy ? SavedTensor(x) : SavedTensor(),
            saved_y = need_dx ? SavedTensor(y) : SavedTensor()](const Tensor& dz) {
             return GradList{need_dx ? conv_input_adjoint(saved_y.get(), dz, g) : Tensor(),
                             need_dy ? conv_apply(saved_x.get(), dz, g) : Tensor()};
           })
        ->twice_differentiable = true;
  }
  return out;
}

}  // namespace minidl::detail
