// nonzero, masked_select and indexing with a tensor (x[index], x[mask]). The selections are
// composed of index_select and views, whose backward the tape already has: the gradient of a
// selected element flows back to where it was picked.
#include "ops/masked_select.h"

#include "core/autograd.h"
#include "core/factories.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/index_ops.h"

namespace minidl {

namespace {
// Row-major flat positions of the true elements of a bool tensor, as int64 [count].
Tensor true_positions(const Tensor& mask) {
  const std::vector<bool> values = mask.to_vector<bool>();
  std::vector<int64_t> positions;
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i]) positions.push_back(static_cast<int64_t>(i));
  return from_vector(positions, {static_cast<int64_t>(positions.size())});
}
}  // namespace

Tensor nonzero(const Tensor& x) {
  MINIDL_CHECK(x.defined(), "nonzero", "the input tensor is undefined");
  Tensor flat = true_positions(x.dtype() == kBool ? x : ne(x, 0.0));
  const int64_t count = flat.numel(), nd = x.dim();
  Tensor out = empty({count, nd}, kInt64);
  int64_t* o = out.data_ptr<int64_t>();
  const int64_t* f = flat.data_ptr<int64_t>();
  const Shape& shape = x.shape();
  for (int64_t r = 0; r < count; ++r) {
    int64_t rest = f[r];
    for (int64_t d = nd; d-- > 0;) {
      o[r * nd + d] = rest % shape[d];
      rest /= shape[d];
    }
  }
  return out;
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  MINIDL_CHECK(x.defined() && mask.defined(), "masked_select", "undefined input or mask");
  MINIDL_CHECK(mask.dtype() == kBool, "masked_select",
               "mask must be a bool tensor, got " << mask.dtype());
  const Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  // out = x_broadcast.flatten()[positions] ;  dx = sum over broadcast copies of dout scattered
  // back to the positions (index_select's and expand's backward)
  return index_select(x.expand(shape).reshape({-1}), 0, true_positions(mask.expand(shape)));
}

Tensor Tensor::masked_select(const Tensor& mask) const {
  return minidl::masked_select(*this, mask);
}

Tensor Tensor::operator[](const Tensor& index) const {
  MINIDL_CHECK(index.defined(), "operator[]", "the index tensor is undefined");
  MINIDL_CHECK(dim() > 0 || index.dtype() == kBool, "operator[]",
               "cannot index a 0-d tensor with an int64 tensor");
  if (index.dtype() == kInt64) {
    // x[index]: rows of dim 0, negative indices counting from the end (PyTorch's advanced
    // indexing); shape index.shape + shape[1:].
    const int64_t n = size(0);
    Tensor wrapped = minidl::where(minidl::lt(index, 0.0), index + static_cast<double>(n), index);
    Shape out_shape = index.shape();
    out_shape.insert(out_shape.end(), shape().begin() + 1, shape().end());
    return minidl::index_select(*this, 0, wrapped.reshape({-1})).reshape(out_shape);
  }
  MINIDL_CHECK(index.dtype() == kBool, "operator[]",
               "index tensors must be int64 or bool, got " << index.dtype());
  // x[mask]: mask covers the leading mask.dim() dims exactly; shape [count] + the rest.
  const int64_t k = index.dim();
  MINIDL_CHECK(k <= dim() && Shape(shape().begin(), shape().begin() + k) == index.shape(),
               "operator[]",
               "mask of shape " << shape_str(index.shape()) << " does not match the leading dims "
                                << "of the indexed tensor of shape " << shape_str(shape()));
  Shape rows_shape{-1};
  rows_shape.insert(rows_shape.end(), shape().begin() + k, shape().end());
  Tensor rows = k == 0 ? unsqueeze(0) : reshape(rows_shape);
  return minidl::index_select(rows, 0, true_positions(index));
}

}  // namespace minidl
