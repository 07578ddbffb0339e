// The kernels behind conv1d / conv2d (ops/conv.cpp) and conv_transpose1d / conv_transpose2d
// (ops/conv_transpose.cpp): im2col + GEMM forward and its adjoint, col2im, per sample and group.
// Internal to ops/: the public ops check their arguments and fill a ConvGeometry.
//
// conv_transpose2d is the adjoint of conv2d, so it runs the same kernels with the roles swapped:
// its forward is conv2d's input gradient, its input gradient is conv2d's forward.
#pragma once

#include <cstdint>

namespace minidl::detail {

// A 2-d convolution's sizes; conv1d has H = KH = 1. Padding may be asymmetric ("same" with an
// odd total): PT/PL at the top/left, the rest implied by OH/OW. OH/OW need not be what the
// conv2d formula gives for H/W: a transposed convolution's output_padding (its H/W) leaves
// rows/columns that no window reaches; the kernels only touch inputs inside [0, H) x [0, W).
struct ConvGeometry {
  int64_t N, C, H, W;  // input
  int64_t O, KH, KW;   // weight [O, C / groups, KH, KW]
  int64_t groups;      //
  int64_t SH, SW;      // stride
  int64_t PT, PL;      // padding before
  int64_t DH, DW;      // dilation
  int64_t OH, OW;      // output
  int64_t in_group() const { return C / groups; }
  int64_t out_group() const { return O / groups; }
  int64_t col_rows() const { return in_group() * KH * KW; }
  int64_t out_plane() const { return OH * OW; }
  // A 1x1 kernel with stride 1 and no padding: the input planes already are the columns.
  bool direct() const {
    return KH == 1 && KW == 1 && SH == 1 && SW == 1 && PT == 0 && PL == 0 && OH == H && OW == W;
  }
};

// out [N, O, OH, OW] = bias + sum over the group's channels of weight * receptive field:
//   per sample and group  out_ng [Og, OH OW] = w_g [Og, Cg KH KW] @ im2col(x_ng)
// x [N, C, H, W], w [O, Cg, KH, KW], b [O] or null; all dense.
template <typename T>
void conv_forward(const T* x, const T* w, const T* b, T* out, const ConvGeometry& g);

// From dout [N, O, OH, OW]:
//   dx_ng = col2im(w_g^T @ dout_ng)              (into dx [N, C, H, W], when dx is given)
//   dw_g  = sum_n dout_ng @ im2col(x_ng)^T        (into dw [O, Cg, KH, KW], when dw is given)
//   db    = sum over n and positions of dout_n    (into db [O], when db is given)
// x is read only for dw, w only for dx (either may be null when not needed). dx, dw and db are
// overwritten.
template <typename T>
void conv_backward(const T* x, const T* w, const T* dout, T* dx, T* dw, T* db,
                   const ConvGeometry& g);

// sums[c] = sum over samples n and positions p of t[n, c, p], t [N, channels, plane] dense
// (a bias gradient), accumulated in double.
template <typename T>
void channel_sums(const T* t, T* sums, int64_t N, int64_t channels, int64_t plane);

}  // namespace minidl::detail
