// The bilinear form on BLAS: both directions are a GEMM against the weight viewed as a matrix
// plus a batched matrix-vector product, so no [N, out, in1, in2] intermediate is ever formed.
#include "ops/linalg_extra.h"

#include "core/autograd.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduction.h"

namespace minidl {

namespace {
void check_bilinear(const Tensor& x1, const Tensor& x2, const Tensor& weight, const Tensor& bias) {
  const char* op = "bilinear";
  MINIDL_CHECK(x1.is_floating_point() && x1.dtype() == x2.dtype() && x1.dtype() == weight.dtype() &&
                   (!bias.defined() || bias.dtype() == x1.dtype()),
               op,
               "expected floating tensors of one dtype, got input1 "
                   << x1.dtype() << ", input2 " << x2.dtype() << ", weight " << weight.dtype()
                   << (bias.defined() ? std::string(", bias ") + dtype_name(bias.dtype()) : ""));
  MINIDL_CHECK(weight.dim() == 3, op,
               "expected a 3-D weight [out_features, in1_features, in2_features], got "
                   << shape_str(weight.shape()));
  MINIDL_CHECK(x1.dim() >= 1 && x2.dim() >= 1, op,
               "inputs must have at least 1 dimension, got " << shape_str(x1.shape()) << " and "
                                                             << shape_str(x2.shape()));
  Shape lead1(x1.shape().begin(), x1.shape().end() - 1);
  Shape lead2(x2.shape().begin(), x2.shape().end() - 1);
  MINIDL_CHECK(lead1 == lead2, op,
               "input batch dimensions do not match: input1 "
                   << shape_str(x1.shape()) << ", input2 " << shape_str(x2.shape()));
  MINIDL_CHECK(x1.shape().back() == weight.shape()[1] && x2.shape().back() == weight.shape()[2], op,
               "inputs " << shape_str(x1.shape()) << " and " << shape_str(x2.shape())
                         << " do not match weight " << shape_str(weight.shape())
                         << " (expected last dims " << weight.shape()[1] << " and "
                         << weight.shape()[2] << ")");
  if (bias.defined())
    MINIDL_CHECK(bias.dim() == 1 && bias.shape()[0] == weight.shape()[0], op,
                 "expected a bias of shape [" << weight.shape()[0] << "] for weight "
                                              << shape_str(weight.shape()) << ", got "
                                              << shape_str(bias.shape()));
}
}  // namespace

Tensor bilinear(const Tensor& x1, const Tensor& x2, const Tensor& weight, const Tensor& bias) {
  check_bilinear(x1, x2, weight, bias);
  const int64_t out_f = weight.shape()[0], in1 = weight.shape()[1], in2 = weight.shape()[2];
  Shape out_shape(x1.shape().begin(), x1.shape().end() - 1);
  out_shape.push_back(out_f);
  Tensor out;
  {
    NoGradGuard no_grad;
    // Rows: x1r [N, in1], x2r [N, in2]; the weight as a matrix Wm [out*in1, in2].
    const int64_t n = shape_numel(Shape(x1.shape().begin(), x1.shape().end() - 1));
    Tensor x1r = x1.reshape({n, in1}), x2r = x2.reshape({n, in2});
    Tensor wm = weight.reshape({out_f * in1, in2});
    // U[n, o, i] = sum_j W[o, i, j] x2[n, j] ;  y[n, o] = sum_i U[n, o, i] x1[n, i]
    Tensor u = mm(x2r, wm.t()).view({n, out_f, in1});
    out = bmm(u, x1r.unsqueeze(2)).view({n, out_f});
    if (bias.defined()) out = out + bias;
    out = out.reshape(out_shape);
  }
  // out_o = x1^T W_o x2 + b_o ;  dx1 = sum_o dout_o W_o x2 ,  dx2 = sum_o dout_o W_o^T x1 ,
  //   dweight_o = sum_n dout_o x1 x2^T ,  dbias = dout summed over the leading dims
  if (needs_grad({x1, x2, weight, bias})) {
    const bool g1 = x1.requires_grad(), g2 = x2.requires_grad(), gw = weight.requires_grad();
    const bool gb = bias.defined() && bias.requires_grad();
    const Shape s1 = x1.shape(), s2 = x2.shape(), ws = weight.shape();
    SavedTensor sx1(g2 || gw ? x1 : Tensor()), sx2(g1 || gw ? x2 : Tensor());
    SavedTensor sw(g1 || g2 ? weight : Tensor());
    record("BilinearBackward0", out, {x1, x2, weight, bias}, [=](const Tensor& grad) {
      const int64_t n = shape_numel(Shape(s1.begin(), s1.end() - 1));
      Tensor gr = grad.reshape({n, out_f});  // [N, out]
      Tensor dx1, dx2, dw, db;
      Tensor x1r, x2r, wm;
      if (g2 || gw) x1r = sx1.get().reshape({n, in1});
      if (g1 || gw) x2r = sx2.get().reshape({n, in2});
      if (g1 || g2) wm = sw.get().reshape({out_f * in1, in2});
      if (g1) {
        // dx1[n, i] = sum_o dy[n, o] U[n, o, i]
        Tensor u = mm(x2r, wm.t()).view({n, out_f, in1});
        dx1 = bmm(gr.unsqueeze(1), u).reshape(s1);
      }
      if (g2 || gw) {
        // G[n, o, i] = dy[n, o] x1[n, i] ;  dx2 = G [N, out*in1] @ Wm ,  dW = G^T @ x2
        Tensor outer = (gr.unsqueeze(2) * x1r.unsqueeze(1)).reshape({n, out_f * in1});
        if (g2) dx2 = mm(outer, wm).reshape(s2);
        if (gw) dw = mm(outer.t(), x2r).view(ws);
      }
      if (gb) db = sum(gr, {0});
      return GradList{dx1, dx2, dw, db};
    });
  }
  return out;
}

}  // namespace minidl
