// conv1d / conv2d: argument checks and the tape entry; the im2col + GEMM kernels are in
// ops/conv_kernels.cpp. conv1d is conv2d with one input row (H = 1, kH = 1): the memory layouts
// agree, so both share every kernel.
#include "ops/conv.h"

#include <climits>
#include <sstream>
#include <vector>

#include "core/autograd.h"
#include "core/strided.h"
#include "ops/conv_checks.h"
#include "ops/conv_grad.h"
#include "ops/conv_kernels.h"
#include "ops/linalg.h"

namespace minidl {

std::vector<int64_t> ExpandingArray::expand(size_t dims, const char* op, const char* what) const {
  MINIDL_CHECK(values.size() == 1 || values.size() == dims, op,
               what << " must be an int or " << dims << " ints, got " << tuple_str(values));
  return values.size() == 1 ? std::vector<int64_t>(dims, values[0]) : values;
}

std::string tuple_str(const std::vector<int64_t>& values) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < values.size(); ++i) os << (i ? ", " : "") << values[i];
  os << (values.size() == 1 ? ",)" : ")");
  return os.str();
}

namespace {

using detail::check_conv_bias;
using detail::check_conv_operands;  // ops/conv_checks.h
using detail::conv_backward;
using detail::conv_forward;
using detail::ConvGeometry;  // ops/conv_kernels.h
using detail::dense;         // ops/linalg.h

// ---------------------------------------------------------------- the op

// Checks the arguments of conv1d (spatial = 1) / conv2d (spatial = 2) and works out the sizes.
ConvGeometry conv_geometry(const char* op, size_t spatial, const Tensor& input,
                           const Tensor& weight, const Tensor& bias,
                           const ExpandingArray& stride_arg, const ConvPadding& padding_arg,
                           const ExpandingArray& dilation_arg, int64_t groups) {
  const bool batched = check_conv_operands(
      op, spatial, input, weight, "[out_channels, in_channels / groups, kernel...]", groups);
  ConvGeometry g{};
  g.N = batched ? input.size(0) : 1;
  g.C = input.size(batched ? 1 : 0);
  g.H = spatial == 2 ? input.size(-2) : 1;
  g.W = input.size(-1);
  g.O = weight.size(0);
  g.KH = spatial == 2 ? weight.size(2) : 1;
  g.KW = weight.size(-1);
  g.groups = groups;
  MINIDL_CHECK(
      g.O % groups == 0, op,
      "out_channels (weight.size(0) = " << g.O << ") must be divisible by groups = " << groups
                                        << " (weight shape " << shape_str(weight.shape()) << ")");
  MINIDL_CHECK(g.C % groups == 0, op,
               "in_channels = " << g.C << " of input " << shape_str(input.shape())
                                << " must be divisible by groups = " << groups);
  MINIDL_CHECK(weight.size(1) * groups == g.C, op,
               "given groups=" << groups << ", weight of size " << shape_str(weight.shape())
                               << ", expected input " << shape_str(input.shape()) << " to have "
                               << weight.size(1) * groups << " channels, but got " << g.C
                               << " channels instead");
  check_conv_bias(op, bias, weight, g.O);
  const std::vector<int64_t> stride = stride_arg.expand(spatial, op, "stride");
  const std::vector<int64_t> dilation = dilation_arg.expand(spatial, op, "dilation");
  for (size_t d = 0; d < spatial; ++d) {
    MINIDL_CHECK(stride[d] > 0, op, "stride must be positive, got " << tuple_str(stride));
    MINIDL_CHECK(dilation[d] > 0, op, "dilation must be positive, got " << tuple_str(dilation));
  }
  const std::vector<int64_t> kernel = {g.KH, g.KW},
                             dil = {spatial == 2 ? dilation[0] : 1, dilation.back()};
  // Padding before and after each of the two dims.
  int64_t before[2] = {0, 0}, after[2] = {0, 0};
  if (padding_arg.mode.empty()) {
    const std::vector<int64_t> pad =
        ExpandingArray(padding_arg.values).expand(spatial, op, "padding");
    for (size_t d = 0; d < spatial; ++d) {
      MINIDL_CHECK(pad[d] >= 0, op, "padding must be non-negative, got " << tuple_str(pad));
      before[2 - spatial + d] = after[2 - spatial + d] = pad[d];
    }
  } else if (padding_arg.mode == "same") {
    for (size_t d = 0; d < spatial; ++d)
      MINIDL_CHECK(stride[d] == 1, op,
                   "padding='same' is not supported for strided convolutions (stride "
                       << tuple_str(stride) << ")");
    for (int d = 0; d < 2; ++d) {
      const int64_t total = dil[d] * (kernel[d] - 1);
      before[d] = total / 2;
      after[d] = total - before[d];
    }
  } else {
    MINIDL_CHECK(padding_arg.mode == "valid", op,
                 "padding must be an int, a tuple of ints, 'same' or 'valid', got '"
                     << padding_arg.mode << "'");
  }
  g.SH = spatial == 2 ? stride[0] : 1;
  g.SW = stride.back();
  g.DH = dil[0];
  g.DW = dil[1];
  g.PT = before[0];
  g.PL = before[1];
  const int64_t padded_h = g.H + before[0] + after[0], padded_w = g.W + before[1] + after[1];
  const int64_t extent_h = g.DH * (g.KH - 1) + 1, extent_w = g.DW * (g.KW - 1) + 1;
  MINIDL_CHECK(padded_h >= extent_h && padded_w >= extent_w, op,
               "calculated padded input size per channel: ("
                   << (spatial == 2 ? std::to_string(padded_h) + " x " : "") << padded_w
                   << "). Kernel size: (" << (spatial == 2 ? std::to_string(extent_h) + " x " : "")
                   << extent_w << "). Kernel size can't be greater than actual input size (input "
                   << shape_str(input.shape()) << ", weight " << shape_str(weight.shape()) << ")");
  g.OH = (padded_h - extent_h) / g.SH + 1;
  g.OW = (padded_w - extent_w) / g.SW + 1;
  for (int64_t v : {g.O * g.col_rows(), g.col_rows() * g.out_plane(), g.O * g.out_plane()})
    MINIDL_CHECK(v <= INT_MAX, op, "matrix size " << v << " exceeds the BLAS int limit");
  return g;
}

Tensor convolution(const char* op, const char* backward_name, size_t spatial, const Tensor& input,
                   const Tensor& weight, const Tensor& bias, const ExpandingArray& stride,
                   const ConvPadding& padding, const ExpandingArray& dilation, int64_t groups) {
  const ConvGeometry g =
      conv_geometry(op, spatial, input, weight, bias, stride, padding, dilation, groups);
  Shape out_shape;
  if (input.dim() == static_cast<int64_t>(spatial) + 2) out_shape.push_back(g.N);
  out_shape.push_back(g.O);
  if (spatial == 2) out_shape.push_back(g.OH);
  out_shape.push_back(g.OW);
  Tensor out = empty(out_shape, input.dtype());
  const Tensor x = dense(input), w = dense(weight), b = bias.defined() ? dense(bias) : Tensor();
  const bool grad = needs_grad({input, weight, bias});
  const bool need_dw = grad && weight.requires_grad();
  MINIDL_DISPATCH_FLOATING(input.dtype(), op,
                           conv_forward<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(),
                                                  b.defined() ? b.data_ptr<scalar_t>() : nullptr,
                                                  out.data_ptr<scalar_t>(), g));
  // out = b + w (*) x ;  dx = col2im(w^T @ dout) ,  dw = sum_n dout_n @ im2col(x_n)^T ,
  //                      db = sum_{n, positions} dout
  // create_graph: the same gradients as recorded ops (ops/conv_grad.h), dx = A(dout, w),
  // dw = Wt(x, dout), db = dout.sum over n and positions, on 4-D views of the operands.
  if (grad) {
    const bool need_dx = input.requires_grad();
    const bool need_db = bias.defined() && bias.requires_grad();
    const Shape input_shape = input.shape(), weight_shape = weight.shape();
    record(backward_name, out, {input, weight, bias},
           [g, need_dx, need_dw, need_db, input_shape, weight_shape,
            saved_x = need_dw ? SavedTensor(x) : SavedTensor(),
            saved_w = need_dx ? SavedTensor(w) : SavedTensor(),
            saved_input = need_dw ? SavedTensor(input) : SavedTensor(),
            saved_weight = need_dx ? SavedTensor(weight) : SavedTensor()](const Tensor& grad_out) {
             if (GradMode::is_enabled()) {
               const Tensor dout = grad_out.reshape({g.N, g.O, g.OH, g.OW});
               const Shape w4 = {g.O, g.C / g.groups, g.KH, g.KW};
               return GradList{
                   need_dx ? detail::conv_input_adjoint(dout, saved_weight.get().reshape(w4), g)
                                 .reshape(input_shape)
                           : Tensor(),
                   need_dw ? detail::conv_weight_adjoint(
                                 saved_input.get().reshape({g.N, g.C, g.H, g.W}), dout, g)
                                 .reshape(weight_shape)
                           : Tensor(),
                   need_db ? dout.sum({0, 2, 3}) : Tensor()};
             }
             const Tensor dout = dense(grad_out);
             Tensor dx = need_dx ? empty(input_shape, dout.dtype()) : Tensor();
             Tensor dw = need_dw ? empty(weight_shape, dout.dtype()) : Tensor();
             Tensor db = need_db ? empty({g.O}, dout.dtype()) : Tensor();
             MINIDL_DISPATCH_FLOATING(dout.dtype(), "convolution backward", {
               if (need_dx || need_dw) {
                 conv_backward<scalar_t>(need_dw ? saved_x.get().data_ptr<scalar_t>() : nullptr,
                                         need_dx ? saved_w.get().data_ptr<scalar_t>() : nullptr,
                                         dout.data_ptr<scalar_t>(),
                                         need_dx ? dx.data_ptr<scalar_t>() : nullptr,
                                         need_dw ? dw.data_ptr<scalar_t>() : nullptr,
                                         need_db ? db.data_ptr<scalar_t>() : nullptr, g);
               } else if (need_db) {
                 detail::channel_sums<scalar_t>(dout.data_ptr<scalar_t>(), db.data_ptr<scalar_t>(),
                                                g.N, g.O, g.out_plane());
               }
             });
             return GradList{dx, dw, db};
           })
        ->twice_differentiable = true;
  }
  return out;
}

}  // namespace

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, ExpandingArray stride,
              ConvPadding padding, ExpandingArray dilation, int64_t groups) {
  // out = bias + weight (*) input (cross-correlation; conv1d is conv2d with H = KH = 1) ;
  //   dinput = col2im(weightᵀ dout) ,  dweight = Σ_n dout_n im2col(input_n)ᵀ ,
  //   dbias = Σ_{n, positions} dout
  // derivation: per sample n and group g: cols = im2col(x_ng) [Cg KH KW, OH OW], each column
  //   the receptive field of one output position (0 where it falls in the padding)
  //   out_ng = W_g cols + b, W_g = weight_g viewed [Og, Cg KH KW]: one GEMM, linear in W and x
  //   dW_g += dout_ng colsᵀ  ([Og, OH OW] x [OH OW, Cg KH KW]) ;  db += Σ_positions dout_ng
  //   dcols = W_gᵀ dout_ng  ([Cg KH KW, Og] x [Og, OH OW]) ;  dx_ng = col2im(dcols): im2col copied
  //   each input element into every column that reads it, so its adjoint col2im adds them back
  //   saved: input (for dweight) and weight (for dinput), each only when the other is wanted;
  //   the columns are rebuilt in backward, not kept (about KH KW times the input's size)
  //   create_graph: conv_input_adjoint / conv_weight_adjoint of ops/conv_grad.h, recorded
  return convolution("conv1d", "ConvolutionBackward0", 1, input, weight, bias, stride, padding,
                     dilation, groups);
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, ExpandingArray stride,
              ConvPadding padding, ExpandingArray dilation, int64_t groups) {
  // out = bias + weight (*) input ;  dinput = col2im(weightᵀ dout) ,
  //   dweight = Σ_n dout_n im2col(input_n)ᵀ ,  dbias = Σ_{n, positions} dout   (see conv1d above)
  return convolution("conv2d", "ConvolutionBackward0", 2, input, weight, bias, stride, padding,
                     dilation, groups);
}

}  // namespace minidl
