// conv_transpose1d / conv_transpose2d: argument checks, the output size and the tape entry. The
// kernels are conv2d's (ops/conv_kernels.cpp) with the roles swapped: the transposed
// convolution's input plays conv2d's output, its output plays conv2d's input.
#include "ops/conv_transpose.h"

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/parallel.h"
#include "ops/conv_checks.h"
#include "ops/conv_grad.h"
#include "ops/conv_kernels.h"
#include "ops/linalg.h"

namespace minidl {

namespace {

using detail::check_conv_bias;
using detail::check_conv_operands;  // ops/conv_checks.h
using detail::ConvGeometry;
using detail::dense;

// Checks the arguments and works out the sizes, as the geometry of the conv2d whose adjoint this
// is: that conv2d reads [N, Cout, OH, OW] (g.C, g.H, g.W) and writes [N, Cin, H, W] (g.O, g.OH,
// g.OW). spatial is 1 (conv_transpose1d: H = kH = 1) or 2.
ConvGeometry transpose_geometry(const char* op, size_t spatial, const Tensor& input,
                                const Tensor& weight, const Tensor& bias,
                                const ExpandingArray& stride_arg, const ExpandingArray& padding_arg,
                                const ExpandingArray& output_padding_arg, int64_t groups,
                                const ExpandingArray& dilation_arg) {
  const bool batched = check_conv_operands(
      op, spatial, input, weight, "[in_channels, out_channels / groups, kernel...]", groups);
  ConvGeometry g{};
  g.N = batched ? input.size(0) : 1;
  g.O = input.size(batched ? 1 : 0);
  g.OH = spatial == 2 ? input.size(-2) : 1;
  g.OW = input.size(-1);
  g.C = weight.size(1) * groups;
  g.KH = spatial == 2 ? weight.size(2) : 1;
  g.KW = weight.size(-1);
  g.groups = groups;
  MINIDL_CHECK(weight.size(0) == g.O, op,
               "given transposed=1, weight of size "
                   << shape_str(weight.shape()) << ", expected input " << shape_str(input.shape())
                   << " to have " << weight.size(0) << " channels, but got " << g.O
                   << " channels instead");
  MINIDL_CHECK(g.O % groups == 0, op,
               "in_channels = " << g.O << " (weight " << shape_str(weight.shape())
                                << ") must be divisible by groups = " << groups);
  check_conv_bias(op, bias, weight, g.C);
  const std::vector<int64_t> stride = stride_arg.expand(spatial, op, "stride");
  const std::vector<int64_t> padding = padding_arg.expand(spatial, op, "padding");
  const std::vector<int64_t> output_padding =
      output_padding_arg.expand(spatial, op, "output_padding");
  const std::vector<int64_t> dilation = dilation_arg.expand(spatial, op, "dilation");
  for (size_t d = 0; d < spatial; ++d) {
    MINIDL_CHECK(stride[d] > 0, op, "stride must be positive, got " << tuple_str(stride));
    MINIDL_CHECK(dilation[d] > 0, op, "dilation must be positive, got " << tuple_str(dilation));
    MINIDL_CHECK(padding[d] >= 0, op, "padding must be non-negative, got " << tuple_str(padding));
    MINIDL_CHECK(output_padding[d] >= 0, op,
                 "output_padding must be non-negative, got " << tuple_str(output_padding));
    MINIDL_CHECK(output_padding[d] < stride[d] || output_padding[d] < dilation[d], op,
                 "output padding must be smaller than either stride or dilation, but got "
                 "output_padding "
                     << tuple_str(output_padding) << ", stride " << tuple_str(stride)
                     << ", dilation " << tuple_str(dilation));
  }
  // Index 0 of the vectors is H for 2-d; 1-d has only the width.
  const auto pick = [&](const std::vector<int64_t>& v, bool height, int64_t one_d) {
    return height ? (spatial == 2 ? v[0] : one_d) : v.back();
  };
  g.SH = pick(stride, true, 1);
  g.SW = pick(stride, false, 1);
  g.PT = pick(padding, true, 0);
  g.PL = pick(padding, false, 0);
  g.DH = pick(dilation, true, 1);
  g.DW = pick(dilation, false, 1);
  const int64_t oph = pick(output_padding, true, 0), opw = pick(output_padding, false, 0);
  g.H = (g.OH - 1) * g.SH - 2 * g.PT + g.DH * (g.KH - 1) + oph + 1;
  g.W = (g.OW - 1) * g.SW - 2 * g.PL + g.DW * (g.KW - 1) + opw + 1;
  MINIDL_CHECK(g.H > 0 && g.W > 0, op,
               "given input size per channel: ("
                   << (spatial == 2 ? std::to_string(g.OH) + " x " : "") << g.OW
                   << "). Calculated output size per channel: ("
                   << (spatial == 2 ? std::to_string(g.H) + " x " : "") << g.W
                   << "). Output size is too small (input " << shape_str(input.shape())
                   << ", weight " << shape_str(weight.shape()) << ")");
  for (int64_t v : {g.O * g.col_rows(), g.col_rows() * g.out_plane(), g.C * g.H * g.W})
    MINIDL_CHECK(v <= INT_MAX, op, "matrix size " << v << " exceeds the BLAS int limit");
  return g;
}

// y[n, c, :] += b[c] for y [N, C, plane].
template <typename T>
void add_channel_bias(T* y, const T* b, int64_t N, int64_t C, int64_t plane) {
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, plane));
  parallel_for(0, N * C, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      T* row = y + r * plane;
      const T value = b[r % C];
#pragma omp simd
      for (int64_t p = 0; p < plane; ++p) row[p] += value;
    }
  });
}

Tensor transposed_convolution(const char* op, const char* backward_name, size_t spatial,
                              const Tensor& input, const Tensor& weight, const Tensor& bias,
                              const ExpandingArray& stride, const ExpandingArray& padding,
                              const ExpandingArray& output_padding, int64_t groups,
                              const ExpandingArray& dilation) {
  const ConvGeometry g = transpose_geometry(op, spatial, input, weight, bias, stride, padding,
                                            output_padding, groups, dilation);
  Shape out_shape;
  if (input.dim() == static_cast<int64_t>(spatial) + 2) out_shape.push_back(g.N);
  out_shape.push_back(g.C);
  if (spatial == 2) out_shape.push_back(g.H);
  out_shape.push_back(g.W);
  Tensor out = empty(out_shape, input.dtype());
  const Tensor x = dense(input), w = dense(weight), b = bias.defined() ? dense(bias) : Tensor();
  const bool grad = needs_grad({input, weight, bias});
  const bool need_dw = grad && weight.requires_grad();
  const bool need_dx = grad && input.requires_grad();
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, {
    scalar_t* y = out.data_ptr<scalar_t>();
    detail::conv_backward<scalar_t>(nullptr, w.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), y,
                                    nullptr, nullptr, g);
    if (b.defined()) add_channel_bias<scalar_t>(y, b.data_ptr<scalar_t>(), g.N, g.C, g.H * g.W);
  });
  // y = col2im(w_g^T @ x_ng) + b ;  dx_ng = w_g @ im2col(dy_ng)  (conv2d of dy),
  //                                 dw_g = sum_n x_ng @ im2col(dy_ng)^T ,  db = sum_{n, pos} dy
  // create_graph: the same gradients as recorded ops (ops/conv_grad.h; y = A(x, w) + b),
  // dx = conv_apply(dy, w), dw = Wt(dy, x), db = dy.sum over n and positions, on 4-D views.
  if (grad) {
    const bool need_db = bias.defined() && bias.requires_grad();
    const Shape input_shape = input.shape(), weight_shape = weight.shape();
    record(backward_name, out, {input, weight, bias},
           [g, need_dx, need_dw, need_db, input_shape, weight_shape,
            saved_x = need_dw ? SavedTensor(x) : SavedTensor(),
            saved_w = need_dx ? SavedTensor(w) : SavedTensor(),
            saved_input = need_dw ? SavedTensor(input) : SavedTensor(),
            saved_weight = need_dx ? SavedTensor(weight) : SavedTensor()](const Tensor& grad_out) {
             if (GradMode::is_enabled()) {
               const Tensor dy4 = grad_out.reshape({g.N, g.C, g.H, g.W});
               const Shape w4 = {g.O, g.C / g.groups, g.KH, g.KW};
               return GradList{need_dx ? detail::conv_apply(dy4, saved_weight.get().reshape(w4), g)
                                             .reshape(input_shape)
                                       : Tensor(),
                               need_dw
                                   ? detail::conv_weight_adjoint(
                                         dy4, saved_input.get().reshape({g.N, g.O, g.OH, g.OW}), g)
                                         .reshape(weight_shape)
                                   : Tensor(),
                               need_db ? dy4.sum({0, 2, 3}) : Tensor()};
             }
             const Tensor dy = dense(grad_out);
             Tensor dx = need_dx ? empty(input_shape, dy.dtype()) : Tensor();
             Tensor dw = need_dw ? empty(weight_shape, dy.dtype()) : Tensor();
             Tensor db = need_db ? empty({g.C}, dy.dtype()) : Tensor();
             MINIDL_DISPATCH_FLOATING(dy.dtype(), "transposed convolution backward", {
               const scalar_t* pdy = dy.data_ptr<scalar_t>();
               if (need_dx)
                 detail::conv_forward<scalar_t>(pdy, saved_w.get().data_ptr<scalar_t>(), nullptr,
                                                dx.data_ptr<scalar_t>(), g);
               if (need_dw)
                 detail::conv_backward<scalar_t>(pdy, nullptr, saved_x.get().data_ptr<scalar_t>(),
                                                 nullptr, dw.data_ptr<scalar_t>(), nullptr, g);
               if (need_db)
                 detail::channel_sums<scalar_t>(pdy, db.data_ptr<scalar_t>(), g.N, g.C, g.H * g.W);
             });
             return GradList{dx, dw, db};
           })
        ->twice_differentiable = true;
  }
  return out;
}

}  // namespace

Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        ExpandingArray stride, ExpandingArray padding,
                        ExpandingArray output_padding, int64_t groups, ExpandingArray dilation) {
  // out = col2im(weight_gᵀ input_ng) + bias (the input-adjoint of a conv2d) ;
  //   dinput = weight_g im2col(dout_ng) (a conv2d of dout) ,
  //   dweight = Σ_n input_ng im2col(dout_ng)ᵀ ,  dbias = Σ_{n, positions} dout
  // derivation: the transposed convolution is the map conv2d's backward applies to dout: with
  //   T(x, w, y) = <y, conv2d(x, w)>, out = dT/dx (y = input) -- linear in input and in weight
  //   its input gradient is the adjoint of the adjoint: conv2d(dout, weight) (im2col + GEMM)
  //   its weight gradient: <dout, col2im(Wᵀ x)> = <im2col(dout), Wᵀ x> = <W, x im2col(dout)ᵀ>
  //   per sample and group: dW_g += x_ng [Og, H W] im2col(dout_ng)ᵀ [H W, Cg KH KW]
  //   (roles as in conv2d: this op's input has conv2d's output shape, its out conv2d's input)
  //   saved: input (for dweight) and weight (for dinput), each only when the other is wanted
  return transposed_convolution("conv_transpose2d", "ConvolutionBackward0", 2, input, weight, bias,
                                stride, padding, output_padding, groups, dilation);
}

Tensor conv_transpose1d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        ExpandingArray stride, ExpandingArray padding,
                        ExpandingArray output_padding, int64_t groups, ExpandingArray dilation) {
  // out = col2im(weight_gᵀ input_ng) + bias ;  dinput = weight_g im2col(dout_ng) ,
  //   dweight = Σ_n input_ng im2col(dout_ng)ᵀ ,  dbias = Σ_{n, positions} dout
  //   (conv_transpose2d with H = KH = 1: the derivation is above)
  return transposed_convolution("conv_transpose1d", "ConvolutionBackward0", 1, input, weight, bias,
                                stride, padding, output_padding, groups, dilation);
}

}  // namespace minidl
