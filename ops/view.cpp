// View ops: new shape/strides/offset over the same storage, no data copied. Each records a tape
// entry whose backward routes the output gradient back into the input's shape.
#include <numeric>

#include "core/autograd.h"
#include "core/factories.h"
#include "ops/reduction.h"
#include "ops/shape_ops.h"

namespace minidl {

namespace {

// Makes `out` a tape-tracked view of `in`, if `in` is tracked. Every view's backward is made of
// recorded ops (views, reshapes, sums, pads), so all of them are twice differentiable.
Tensor track_view(const Tensor& in, Tensor out, const char* name, BackwardFn backward) {
  if (needs_grad({in})) record(name, out, {in}, std::move(backward))->twice_differentiable = true;
  return out;
}

// dx of a slice [start : start + length] along dim of a tensor of in_shape: dout padded with
// zeros (recorded, for a create_graph backward; pad's own backward is the opposite crop).
Tensor pad_back(const Tensor& g, const Shape& in_shape, int64_t dim, int64_t start) {
  const int64_t nd = static_cast<int64_t>(in_shape.size());
  std::vector<int64_t> widths(2 * (nd - dim), 0);  // last dim first, as F.pad
  widths[2 * (nd - 1 - dim)] = start;
  widths[2 * (nd - 1 - dim) + 1] = in_shape[dim] - start - g.shape()[dim];
  return pad(g, widths, "constant", 0.0);
}

// offset + index * stride: where a view starting at `index` along a dim begins. If that overflows,
// the view is empty -- a non-empty view's first element is within the storage's reach, which fits
// -- and reads nothing, so the offset stays (found by fuzz_shapes on empty tensors' huge dims).
int64_t advanced_offset(int64_t offset, int64_t index, int64_t stride) {
  int64_t step = 0, out = 0;
  if (__builtin_mul_overflow(index, stride, &step) || __builtin_add_overflow(offset, step, &out))
    return offset;
  return out;
}

// Resolves one -1 in a requested shape from the element count.
Shape infer_shape(const Shape& requested, int64_t numel, const char* op) {
  Shape shape = requested;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      MINIDL_CHECK(infer_at < 0, op, "only one dimension can be -1 in " << shape_str(requested));
      infer_at = static_cast<int64_t>(i);
    } else {
      MINIDL_CHECK(shape[i] >= 0, op,
                   "invalid size " << shape[i] << " in " << shape_str(requested));
      // A product past 64 bits cannot equal the input's element count (found by fuzz_shapes).
      MINIDL_CHECK(!__builtin_mul_overflow(known, shape[i], &known), op,
                   "shape " << shape_str(requested) << " is invalid for " << numel << " elements");
    }
  }
  if (infer_at >= 0) {
    MINIDL_CHECK(known != 0 && numel % known == 0, op,
                 "shape " << shape_str(requested) << " is invalid for " << numel << " elements");
    shape[infer_at] = numel / known;
  }
  MINIDL_CHECK(shape_numel(shape, op) == numel, op,
               "shape " << shape_str(requested) << " is invalid for input of size " << numel);
  return shape;
}

// Strides that let (old_shape, old_strides) be read as new_shape without a copy, if any.
// Walks groups of old dims that are mutually contiguous ("chunks") and requires every new dim to
// fall inside one chunk -- the same rule as torch's view.
bool view_strides(const Shape& old_shape, const Shape& old_strides, const Shape& new_shape,
                  Shape& new_strides) {
  new_strides.assign(new_shape.size(), 0);
  if (old_shape.empty() || shape_numel(old_shape) == 0) {  // 0-d or empty: any layout works
    new_strides = contiguous_strides(new_shape);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.empty() ? 1 : old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    // A chunk ends at d == 0 or where dim d-1 is not contiguous with dim d.
    if (d == 0 ||
        (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  Shape shape = infer_shape(requested, numel(), "view");
  Shape strides;
  MINIDL_CHECK(view_strides(this->shape(), this->strides(), shape, strides), "view",
               "cannot view a tensor of shape "
                   << shape_str(this->shape()) << " and strides " << shape_str(this->strides())
                   << " as " << shape_str(shape) << " without copying; use reshape()");
  Shape in_shape = this->shape();
  // out = x viewed as `shape` ;  dx = dout viewed as x's shape
  return track_view(*this, make_view(*this, shape, strides, storage_offset()), "ViewBackward0",
                    [in_shape](const Tensor& g) { return GradList{g.reshape(in_shape)}; });
}

Tensor Tensor::reshape(const Shape& requested) const {
  Shape shape = infer_shape(requested, numel(), "reshape");
  Shape strides;
  if (view_strides(this->shape(), this->strides(), shape, strides)) return view(shape);
  return clone().view(shape);
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  int64_t nd = dim();
  dim0 = wrap_dim(dim0, nd, "transpose");
  dim1 = wrap_dim(dim1, nd, "transpose");
  if (nd == 0) return *this;
  Shape shape = this->shape(), strides = this->strides();
  std::swap(shape[dim0], shape[dim1]);
  std::swap(strides[dim0], strides[dim1]);
  // out = x with dims swapped ;  dx = dout with the same dims swapped back
  return track_view(*this, make_view(*this, shape, strides, storage_offset()), "TransposeBackward0",
                    [dim0, dim1](const Tensor& g) { return GradList{g.transpose(dim0, dim1)}; });
}

Tensor Tensor::t() const {
  MINIDL_CHECK(
      dim() <= 2, "t",
      "expects a tensor with <= 2 dimensions, got " << dim() << "-d " << shape_str(shape()));
  if (dim() < 2) return *this;
  Tensor out = transpose(0, 1);
  if (out.grad_fn() && out.grad_fn() != grad_fn()) out.grad_fn()->name_ = "TBackward0";
  return out;
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  int64_t nd = dim();
  MINIDL_CHECK(
      static_cast<int64_t>(dims.size()) == nd, "permute",
      "got " << dims.size() << " dims for a " << nd << "-d tensor of shape " << shape_str(shape()));
  Shape shape(nd), strides(nd);
  std::vector<int64_t> inverse(nd, -1);
  for (int64_t i = 0; i < nd; ++i) {
    int64_t d = wrap_dim(dims[i], nd, "permute");
    MINIDL_CHECK(inverse[d] < 0, "permute", "dimension " << dims[i] << " repeated");
    inverse[d] = i;
    shape[i] = this->shape()[d];
    strides[i] = this->strides()[d];
  }
  // out = x with dims reordered ;  dx = dout with the inverse order
  return track_view(*this, make_view(*this, shape, strides, storage_offset()), "PermuteBackward0",
                    [inverse](const Tensor& g) { return GradList{g.permute(inverse)}; });
}

Tensor Tensor::slice(int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end,
                     int64_t step) const {
  MINIDL_CHECK(this->dim() > 0, "slice", "cannot slice a 0-d tensor");
  dim = wrap_dim(dim, this->dim(), "slice");
  MINIDL_CHECK(step > 0, "slice", "step must be positive, got " << step);
  int64_t n = this->shape()[dim];
  // Python semantics: negative bounds count from the end, out-of-range bounds are clamped.
  auto clamp_bound = [n](int64_t b) {
    return std::min(std::max(b < 0 ? b + n : b, int64_t{0}), n);
  };
  int64_t s = start ? clamp_bound(*start) : 0;
  int64_t e = end ? clamp_bound(*end) : n;
  if (e < s) e = s;
  // ceil((e - s) / step), written so that a step near 2^63 cannot overflow (fuzz_shapes found it)
  int64_t length = e == s ? 0 : (e - s - 1) / step + 1;
  Shape shape = this->shape(), strides = this->strides();
  shape[dim] = length;
  // With one element or none the stride is never used; keeping it avoids a stride * step that
  // overflows. With two or more, stride * step <= the distance of the last element, which fits.
  if (length > 1) strides[dim] = checked_mul(strides[dim], step, "slice", "strides");
  Shape in_shape = this->shape();
  DType dt = dtype();
  // out = x[s:e:step] along dim ;  dx = zeros with dout written into that slice
  return track_view(
      *this,
      make_view(*this, shape, strides, advanced_offset(storage_offset(), s, this->strides()[dim])),
      "SliceBackward0", [in_shape, dt, dim, s, e, step](const Tensor& g) {
        if (GradMode::is_enabled() && g.requires_grad()) {
          if (step == 1) return GradList{pad_back(g, in_shape, dim, s)};
          // A strided slice: dout spread by one zero-padded axis of size step, then cropped.
          Shape spread = g.shape();
          spread.insert(spread.begin() + dim + 1, 1);
          Tensor widened = pad_back(
              g.reshape(spread),
              [&] {
                Shape full = spread;
                full[dim + 1] = step;
                return full;
              }(),
              dim + 1, 0);
          Shape merged = g.shape();
          merged[dim] *= step;
          Tensor flat = widened.reshape(merged);
          const int64_t keep = std::min(merged[dim], in_shape[dim] - s);
          Shape cropped_shape = merged;
          cropped_shape[dim] = in_shape[dim];
          return GradList{pad_back(flat.narrow(dim, 0, keep), cropped_shape, dim, s)};
        }
        Tensor dx = zeros(in_shape, dt);
        copy_data(dx.slice(dim, s, e, step), g);
        return GradList{dx};
      });
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  MINIDL_CHECK(this->dim() > 0, "narrow", "cannot narrow a 0-d tensor");
  int64_t d = wrap_dim(dim, this->dim(), "narrow");
  int64_t n = shape()[d];
  if (start < 0) start += n;
  // (length <= n - start: start + length could overflow -- found by fuzz_shapes)
  MINIDL_CHECK(start >= 0 && start <= n && length >= 0 && length <= n - start, "narrow",
               "start " << start << " and length " << length << " exceed dimension " << d
                        << " of size " << n << " (shape " << shape_str(shape()) << ")");
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  MINIDL_CHECK(this->dim() > 0, "select", "cannot select from a 0-d tensor");
  int64_t d = wrap_dim(dim, this->dim(), "select");
  int64_t n = shape()[d];
  MINIDL_CHECK(index >= -n && index < n, "select",
               "index " << index << " is out of range for dimension " << d << " of size " << n
                        << " (shape " << shape_str(shape()) << ")");
  if (index < 0) index += n;
  Shape shape = this->shape(), strides = this->strides();
  int64_t offset = advanced_offset(storage_offset(), index, strides[d]);
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Shape in_shape = this->shape();
  DType dt = dtype();
  // out = x[..., index, ...] ;  dx = zeros with dout written at that index
  return track_view(*this, make_view(*this, shape, strides, offset), "SelectBackward0",
                    [in_shape, dt, d, index](const Tensor& g) {
                      if (GradMode::is_enabled() && g.requires_grad())
                        return GradList{pad_back(g.unsqueeze(d), in_shape, d, index)};
                      Tensor dx = zeros(in_shape, dt);
                      copy_data(dx.select(d, index), g);
                      return GradList{dx};
                    });
}

Tensor Tensor::index(std::initializer_list<indexing::TensorIndex> indices) const {
  return index(std::vector<indexing::TensorIndex>(indices));
}

// Composed from select / slice / unsqueeze, so the tape sees those entries.
Tensor Tensor::index(const std::vector<indexing::TensorIndex>& indices) const {
  using Kind = indexing::TensorIndex::Kind;
  int64_t consumed = 0, ellipses = 0;
  for (const auto& ix : indices) {
    if (ix.kind == Kind::Integer || ix.kind == Kind::Slice) ++consumed;
    if (ix.kind == Kind::Ellipsis) ++ellipses;
  }
  MINIDL_CHECK(ellipses <= 1, "index", "an index can only have a single ellipsis");
  MINIDL_CHECK(
      consumed <= dim(), "index",
      "too many indices (" << consumed << ") for a tensor of shape " << shape_str(shape()));
  Tensor out = *this;
  int64_t d = 0;  // current dim of `out`
  for (const auto& ix : indices) {
    switch (ix.kind) {
      case Kind::Integer:
        out = out.select(d, ix.integer);
        break;
      case Kind::Slice:
        out = out.slice(d, ix.slice.start, ix.slice.stop, ix.slice.step);
        ++d;
        break;
      case Kind::None:
        out = out.unsqueeze(d);
        ++d;
        break;
      case Kind::Ellipsis:
        d += dim() - consumed;
        break;
    }
  }
  return out;
}

Tensor Tensor::expand(const Shape& requested) const {
  int64_t nd = dim();
  int64_t new_nd = static_cast<int64_t>(requested.size());
  MINIDL_CHECK(new_nd >= nd, "expand",
               "cannot expand shape " << shape_str(shape()) << " to fewer dimensions "
                                      << shape_str(requested));
  Shape shape(new_nd), strides(new_nd);
  for (int64_t i = new_nd - 1; i >= 0; --i) {
    int64_t j = i - (new_nd - nd);  // matching input dim, if any
    int64_t want = requested[i];
    if (j >= 0) {
      int64_t have = this->shape()[j];
      if (want == -1) want = have;
      MINIDL_CHECK(have == want || have == 1, "expand",
                   "cannot expand shape " << shape_str(this->shape()) << " to "
                                          << shape_str(requested) << " (size " << have << " at dim "
                                          << j << " is not 1)");
      shape[i] = want;
      strides[i] = have == want ? this->strides()[j] : 0;
    } else {
      MINIDL_CHECK(want >= 0, "expand", "new leading dimension cannot be " << want);
      shape[i] = want;
      strides[i] = 0;
    }
  }
  if (shape == this->shape()) return *this;
  Shape in_shape = this->shape();
  // out = x repeated along broadcast dims (stride 0) ;  dx = dout summed over those dims
  return track_view(*this, make_view(*this, shape, strides, storage_offset()), "ExpandBackward0",
                    [in_shape](const Tensor& g) { return GradList{sum_to(g, in_shape)}; });
}

Tensor Tensor::squeeze() const {
  Shape shape;
  for (int64_t s : this->shape())
    if (s != 1) shape.push_back(s);
  return shape.size() == this->shape().size() ? *this : reshape(shape);
}

Tensor Tensor::squeeze(int64_t dim) const {
  if (this->dim() == 0) return *this;
  int64_t d = wrap_dim(dim, this->dim(), "squeeze");
  if (shape()[d] != 1) return *this;  // like PyTorch: squeezing a non-1 dim is a no-op
  Shape shape = this->shape(), strides = this->strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Shape in_shape = this->shape();
  // out = x without the size-1 dim ;  dx = dout with it put back
  return track_view(*this, make_view(*this, shape, strides, storage_offset()), "SqueezeBackward1",
                    [in_shape](const Tensor& g) { return GradList{g.reshape(in_shape)}; });
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  int64_t d = wrap_dim(dim, this->dim() + 1, "unsqueeze");
  Shape shape = this->shape(), strides = this->strides();
  // PyTorch's stride for the new dim: the next dim's extent. A size-1 dim's stride is never used,
  // so where that product overflows (an empty tensor's huge dims; fuzz_shapes) 1 does as well.
  int64_t stride = 1;
  if (d < this->dim() && __builtin_mul_overflow(strides[d], shape[d], &stride)) stride = 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  Shape in_shape = this->shape();
  // out = x with a new size-1 dim ;  dx = dout without it
  return track_view(*this, make_view(*this, shape, strides, storage_offset()), "UnsqueezeBackward0",
                    [in_shape](const Tensor& g) { return GradList{g.reshape(in_shape)}; });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int64_t s = wrap_dim(start_dim, dim(), "flatten"), e = wrap_dim(end_dim, dim(), "flatten");
  MINIDL_CHECK(s <= e, "flatten", "start_dim " << start_dim << " comes after end_dim " << end_dim);
  Shape shape(this->shape().begin(), this->shape().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= this->shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), this->shape().begin() + e + 1, this->shape().end());
  return reshape(shape);
}

Tensor Tensor::unflatten(int64_t dim, const Shape& sizes) const {
  MINIDL_CHECK(this->dim() > 0, "unflatten", "cannot unflatten a 0-d tensor");
  int64_t d = wrap_dim(dim, this->dim(), "unflatten");
  MINIDL_CHECK(!sizes.empty(), "unflatten", "sizes must be non-empty");
  Shape inner = infer_shape(sizes, this->shape()[d], "unflatten");
  Shape shape(this->shape().begin(), this->shape().begin() + d);
  shape.insert(shape.end(), inner.begin(), inner.end());
  shape.insert(shape.end(), this->shape().begin() + d + 1, this->shape().end());
  return view(shape);
}

}  // namespace minidl
