// amax and amin (see ops/amax.h). The forward walks the rows of the reduction like max / min do
// (ReduceRows, ops/reduction.h); the backward is PyTorch's even split among the tied extrema,
// composed from differentiable ops.
#include "ops/amax.h"

#include "core/autograd.h"
#include "core/shape.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

Tensor extremum_over(const Tensor& x, const Dims& dims_in, bool keepdim, bool is_max) {
  const char* op = is_max ? "amax" : "amin";
  MINIDL_CHECK(x.defined(), op, "input is undefined");
  const Dims dims = reduction_dims(x, dims_in, op);
  for (int64_t d : dims) {
    MINIDL_CHECK(x.shape()[d] > 0, op,
                 "cannot reduce dim " << d << " of size 0 of a tensor of shape "
                                      << shape_str(x.shape())
                                      << ": there is no extremum of nothing");
  }
  const ReduceGeometry g = reduce_geometry(x, dims, keepdim);
  Tensor out = empty(g.out_shape, x.dtype());
  MINIDL_DISPATCH_ALL(x.dtype(), op, {
    scalar_t* po = out.data_ptr<scalar_t>();
    ReduceRows<scalar_t> rows(x, g);
    rows.for_each_output(
        [&](int64_t m, const ReduceRow<scalar_t>& row) { po[m] = row.extremum(is_max).first; });
  });
  // out = max over dims of x ;  dx = dout [x == out] / #{x == out}   (tied extrema share evenly)
  // derivation: away from ties d max / d x_i = [i = argmax]; at a tie amax (unlike max(dim))
  //   splits dout evenly among the tied elements, as PyTorch; saved: x and out
  if (needs_grad({x})) {
    Shape keep_shape = x.shape();
    for (int64_t d : dims) keep_shape[d] = 1;
    record(is_max ? "AmaxBackward0" : "AminBackward0", out, {x},
           [saved_x = SavedTensor(x), saved_out = SavedTensor(out), keep_shape,
            dims](const Tensor& grad) {
             const Tensor& x_value = saved_x.get();
             const Tensor ties = eq(x_value, saved_out.get().reshape(keep_shape)).to(grad.dtype());
             const Tensor count = sum(ties, dims, true);
             return GradList{grad.reshape(keep_shape) * ties / count};
           })
        ->twice_differentiable = true;
  }
  return out;
}

}  // namespace

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) {
  return extremum_over(x, dims, keepdim, true);
}
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) {
  return extremum_over(x, dims, keepdim, false);
}

Tensor Tensor::amax(const std::vector<int64_t>& dims, bool keepdim) const {
  return minidl::amax(*this, dims, keepdim);
}
Tensor Tensor::amin(const std::vector<int64_t>& dims, bool keepdim) const {
  return minidl::amin(*this, dims, keepdim);
}

}  // namespace minidl
