#include "core/tensor.h"

#include <cmath>
#include <cstring>
#include <iostream>
#include <sstream>

#include "core/autograd.h"
#include "core/strided.h"

namespace minidl {

TensorImpl* Tensor::checked() const {
  if (!impl_) throw Error("Tensor: operation on an undefined tensor");
  return impl_.get();
}

int64_t Tensor::size(int64_t dim) const {
  int64_t nd = this->dim();
  MINIDL_CHECK(nd > 0, "size", "a 0-d tensor has no dimension " << dim);
  return impl_->shape[wrap_dim(dim, nd, "size")];
}

int64_t Tensor::stride(int64_t dim) const {
  int64_t nd = this->dim();
  MINIDL_CHECK(nd > 0, "stride", "a 0-d tensor has no dimension " << dim);
  return impl_->strides[wrap_dim(dim, nd, "stride")];
}

bool Tensor::is_contiguous() const {
  const TensorImpl* t = checked();
  // An empty tensor reads nothing, so any strides are contiguous (PyTorch's rule too); its other
  // dims may be huge, and the product below would overflow (found by fuzz_shapes).
  for (int64_t size : t->shape)
    if (size == 0) return true;
  int64_t expected = 1;
  for (size_t d = t->shape.size(); d-- > 0;) {
    if (t->shape[d] == 1) continue;  // the stride of a size-1 dim never matters
    if (t->strides[d] != expected) return false;
    expected *= t->shape[d];
  }
  return true;
}

bool Tensor::shares_storage(const Tensor& other) const {
  return checked()->storage == other.checked()->storage;
}

void* Tensor::raw_data() const {
  const TensorImpl* t = checked();
  return static_cast<char*>(t->storage->data) + t->offset * minidl::element_size(t->dtype);
}

template <typename T>
T* Tensor::data_ptr() const {
  MINIDL_CHECK(dtype() == dtype_of<T>::value, "data_ptr",
               "requested " << dtype_name(dtype_of<T>::value) << " data of a "
                            << dtype_name(dtype()) << " tensor");
  return static_cast<T*>(raw_data());
}
template float* Tensor::data_ptr<float>() const;
template double* Tensor::data_ptr<double>() const;
template int64_t* Tensor::data_ptr<int64_t>() const;
template bool* Tensor::data_ptr<bool>() const;

// ---------------------------------------------------------------- creation and copying

Tensor empty(const Shape& shape, TensorOptions options) {
  options.check_supported("empty");
  auto impl = std::make_shared<TensorImpl>();
  impl->numel = shape_numel(shape, "empty");
  impl->dtype = options.dtype_.value_or(DType::Float32);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape, "empty");
  const int64_t bytes = checked_mul(
      impl->numel, static_cast<int64_t>(minidl::element_size(impl->dtype)), "empty", "bytes");
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(bytes));
  Tensor t(std::move(impl));
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}

Tensor make_view(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  const TensorImpl* b = base.impl();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = b->storage;
  impl->offset = offset;
  impl->shape = shape;
  impl->strides = strides;
  impl->numel = shape_numel(shape, "view");
  impl->dtype = b->dtype;
  impl->is_view = true;
  // Bounds: the lowest and highest element the view can touch must lie inside the storage.
  if (impl->numel > 0) {
    int64_t lo = offset, hi = offset;
    MINIDL_CHECK(offset >= 0 && strides.size() == shape.size(), "view",
                 "offset " << offset << " and strides " << shape_str(strides) << " for shape "
                           << shape_str(shape));
    for (size_t d = 0; d < shape.size(); ++d) {
      const int64_t reach = checked_mul(shape[d] - 1, strides[d], "view", "element offsets");
      int64_t& end = reach < 0 ? lo : hi;
      end = checked_add(end, reach, "view", "element offsets");
    }
    int64_t capacity = static_cast<int64_t>(b->storage->nbytes / minidl::element_size(b->dtype));
    MINIDL_CHECK(lo >= 0 && hi < capacity, "view",
                 "shape " << shape_str(shape) << " with strides " << shape_str(strides)
                          << " at offset " << offset << " reaches outside a storage of " << capacity
                          << " elements");
  }
  return Tensor(std::move(impl));
}

namespace {

// A copy whose source walks the destination's innermost dim with a large stride (a transpose,
// e.g. x.t().contiguous()): reading element by element would touch a new cache line every step.
// Instead copy 32x32 tiles of the last two (coalesced) dims, so both sides stay in cache.
template <typename D, typename S>
bool copy_tiled(D* out, const S* in, const StridedIter<2>& iter) {
  const int64_t nd = iter.ndim();
  if (nd < 2) return false;
  const auto& size = iter.sizes();
  const auto& so = iter.strides(0);
  const auto& si = iter.strides(1);
  // Worth it only when the source is unit-stride along the destination's second-to-last dim.
  if (si[nd - 1] == 1 || si[nd - 2] != 1 || size[nd - 1] < 16 || size[nd - 2] < 16) return false;
  const int64_t rows = size[nd - 2], cols = size[nd - 1];
  int64_t outer = 1;
  for (int64_t d = 0; d < nd - 2; ++d) outer *= size[d];
  constexpr int64_t kTile = 32;
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  // One task per (outer index, row tile); enough tasks per chunk to fill kParallelGrain elements.
  const int64_t tile_grain = std::max<int64_t>(1, kParallelGrain / (kTile * cols));
  parallel_for(0, outer * row_tiles, tile_grain, [&](int64_t task0, int64_t task1) {
    for (int64_t task = task0; task < task1; ++task) {
      const int64_t b = task / row_tiles, rt = task % row_tiles;
      int64_t off_out = 0, off_in = 0, rest = b;
      for (int64_t d = nd - 3; d >= 0; --d) {
        off_out += (rest % size[d]) * so[d];
        off_in += (rest % size[d]) * si[d];
        rest /= size[d];
      }
      const int64_t r0 = rt * kTile, r1 = std::min(rows, r0 + kTile);
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t c1 = std::min(cols, c0 + kTile);
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c)
            out[off_out + r * so[nd - 2] + c * so[nd - 1]] =
                convert_element<D>(in[off_in + r * si[nd - 2] + c * si[nd - 1]]);
      }
    }
  });
  return true;
}

template <typename D, typename S>
void copy_kernel(const Tensor& dst, const Tensor& src) {
  D* out = static_cast<D*>(dst.raw_data());
  const S* in = static_cast<const S*>(src.raw_data());
  StridedIter<2> iter(dst.shape(), {&dst.strides(), &src.strides()});
  if (copy_tiled(out, in, iter)) return;
  iter.run([&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
    D* o = out + off[0];
    const S* i = in + off[1];
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t e = 0; e < n; ++e) o[e] = convert_element<D>(i[e]);
    } else {
      for (int64_t e = 0; e < n; ++e) o[e * st[0]] = convert_element<D>(i[e * st[1]]);
    }
  });
}
}  // namespace

void copy_data(const Tensor& dst, const Tensor& src) {
  MINIDL_CHECK(dst.shape() == src.shape(), "copy",
               "destination shape " << shape_str(dst.shape()) << " != source shape "
                                    << shape_str(src.shape()));
  if (dst.numel() == 0) return;
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(), dst.numel() * dst.element_size());
    return;
  }
  MINIDL_DISPATCH_ALL(dst.dtype(), "copy", {
    using D = scalar_t;
    MINIDL_DISPATCH_ALL(src.dtype(), "copy", copy_kernel<D, scalar_t>(dst, src));
  });
}

void fill_data(const Tensor& dst, double value) {
  MINIDL_DISPATCH_ALL(dst.dtype(), "fill", {
    scalar_t* out = dst.data_ptr<scalar_t>();
    const scalar_t v = convert_element<scalar_t>(value);
    StridedIter<1> iter(dst.shape(), {&dst.strides()});
    iter.run([&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
      for (int64_t e = 0; e < n; ++e) out[off[0] + e * st[0]] = v;
    });
  });
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype());
  copy_data(out, *this);
  // out = x ;  dx = dout
  if (needs_grad({*this}))
    record("CloneBackward0", out, {*this}, [](const Tensor& g) {
      return GradList{g};
    })->twice_differentiable = true;
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = empty(shape(), target);
  copy_data(out, *this);
  // out = cast(x) ;  dx = cast back(dout)  (only between floating dtypes)
  if (is_floating_point() && minidl::is_floating_point(target) && needs_grad({*this})) {
    DType source = dtype();
    record("ToCopyBackward0", out, {*this}, [source](const Tensor& g) {
      return GradList{g.to(source)};
    })->twice_differentiable = true;
  }
  return out;
}

template <typename T>
T Tensor::item() const {
  MINIDL_CHECK(numel() == 1, "item",
               "a tensor with " << numel() << " elements (shape " << shape_str(shape())
                                << ") cannot be converted to a scalar");
  T value{};
  MINIDL_DISPATCH_ALL(dtype(), "item",
                      value = convert_element<T>(*static_cast<const scalar_t*>(raw_data())));
  return value;
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;
template int Tensor::item<int>() const;
template bool Tensor::item<bool>() const;

Scalar Tensor::item() const {
  if (dtype() == DType::Bool) return Scalar(item<bool>());
  if (dtype() == DType::Int64) return Scalar(item<int64_t>());
  return Scalar(item<double>());
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor dense = empty(shape(), dtype_of<T>::value);
  copy_data(dense, *this);
  const T* p = dense.data_ptr<T>();
  return std::vector<T>(p, p + numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<bool> Tensor::to_vector<bool>() const;

// ---------------------------------------------------------------- autograd handles

Tensor& Tensor::requires_grad_(bool requires) {
  TensorImpl* t = checked();
  if (!requires) {
    MINIDL_CHECK(t->grad_fn == nullptr, "requires_grad_",
                 "cannot turn off requires_grad of a non-leaf tensor (produced by "
                     << t->grad_fn->name() << "); use detach()");
    t->requires_grad = false;
    return *this;
  }
  MINIDL_CHECK(minidl::is_floating_point(t->dtype), "requires_grad_",
               "only floating-point tensors can require gradients, got " << dtype_name(t->dtype));
  t->requires_grad = true;
  return *this;
}

Tensor Tensor::grad() const {
  return Tensor(checked()->grad);
}

void Tensor::set_grad(const Tensor& grad) const {
  TensorImpl* t = checked();
  if (grad.defined())
    MINIDL_CHECK(grad.shape() == t->shape && grad.dtype() == t->dtype, "set_grad",
                 "gradient of shape " << shape_str(grad.shape()) << " (" << grad.dtype()
                                      << ") does not match tensor of shape " << shape_str(t->shape)
                                      << " (" << t->dtype << ")");
  t->grad = grad.impl_ptr();
}

void Tensor::zero_grad(bool set_to_none) const {
  TensorImpl* t = checked();
  if (set_to_none || !t->grad) {
    t->grad.reset();
    return;
  }
  Tensor(t->grad).zero_();
}

void Tensor::retain_grad() const {
  TensorImpl* t = checked();
  MINIDL_CHECK(t->requires_grad, "retain_grad", "called on a tensor that does not require grad");
  if (!t->grad_fn) return;  // leaves keep their grad anyway
  t->retains_grad = true;
  t->grad_fn->retained_output = impl_;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph,
                      bool create_graph) const {
  minidl::backward({*this}, {gradient}, retain_graph, create_graph);
}

Tensor Tensor::detach() const {
  const TensorImpl* t = checked();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t->storage;
  impl->offset = t->offset;
  impl->shape = t->shape;
  impl->strides = t->strides;
  impl->numel = t->numel;
  impl->dtype = t->dtype;
  return Tensor(std::move(impl));
}

Tensor& Tensor::detach_() {
  TensorImpl* t = checked();
  t->grad_fn.reset();
  t->requires_grad = false;
  return *this;
}

void Tensor::set_data(const Tensor& source) const {
  TensorImpl* t = checked();
  const TensorImpl* src = source.checked();
  MINIDL_CHECK(!t->requires_grad || minidl::is_floating_point(src->dtype), "set_data",
               "a tensor that requires grad cannot hold " << src->dtype << " data");
  MINIDL_CHECK(t->grad_fn == nullptr, "set_data", "only leaf tensors can have their data replaced");
  t->storage = src->storage;
  t->offset = src->offset;
  t->shape = src->shape;
  t->strides = src->strides;
  t->numel = src->numel;
  t->dtype = src->dtype;
  t->is_view = src->is_view;
  t->grad.reset();
}

// ---------------------------------------------------------------- printing

namespace {

// Formats every element the same way, PyTorch-style: fixed with 4 decimals, or scientific when
// the magnitudes span too much; integers and bools as they are.
struct ElementFormat {
  bool scientific = false;
  int width = 1;
};

void print_value(std::ostream& os, double v, DType dtype, const ElementFormat& fmt) {
  std::ostringstream s;
  if (dtype == DType::Bool) {
    s << (v != 0 ? "True" : "False");
  } else if (dtype == DType::Int64) {
    s << static_cast<int64_t>(v);
  } else if (std::isnan(v) || std::isinf(v)) {
    s << (std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
  } else if (fmt.scientific) {
    s.setf(std::ios::scientific);
    s.precision(4);
    s << v;
  } else {
    s.setf(std::ios::fixed);
    s.precision(4);
    s << v;
  }
  std::string str = s.str();
  for (int pad = fmt.width - static_cast<int>(str.size()); pad > 0; --pad) os << ' ';
  os << str;
}

void print_rec(std::ostream& os, const std::vector<double>& values, const Shape& shape, size_t dim,
               int64_t base, int64_t step, DType dtype, const ElementFormat& fmt, int indent,
               bool summarize) {
  if (shape.empty()) {
    print_value(os, values[0], dtype, fmt);
    return;
  }
  os << '[';
  int64_t n = shape[dim];
  int64_t inner = step / std::max<int64_t>(n, 1);
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 6 && i == 3) {
      os << "...";
      i = n - 4;
      os << (dim + 1 == shape.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
      continue;
    }
    if (dim + 1 == shape.size()) {
      print_value(os, values[base + i], dtype, fmt);
    } else {
      print_rec(os, values, shape, dim + 1, base + i * inner, inner, dtype, fmt, indent + 1,
                summarize);
    }
    if (i + 1 < n) {
      if (dim + 1 == shape.size()) {
        os << ", ";
      } else {
        os << ',' << std::string(shape.size() - dim - 1, '\n') << std::string(indent + 1, ' ');
      }
    }
  }
  os << ']';
}

}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> values = to_vector<double>();
  ElementFormat fmt;
  double max_abs = 0, min_abs = INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    max_abs = std::max(max_abs, std::fabs(v));
    if (v != 0) min_abs = std::min(min_abs, std::fabs(v));
  }
  fmt.scientific =
      is_floating_point() && (max_abs >= 1e8 || (min_abs < 1e-4 && min_abs != INFINITY));
  for (double v : values) {
    std::ostringstream s;
    print_value(s, v, dtype(), ElementFormat{fmt.scientific, 1});
    fmt.width = std::max<int>(fmt.width, static_cast<int>(s.str().size()));
  }
  std::ostringstream os;
  os << "tensor(";
  print_rec(os, values, shape(), 0, 0, numel(), dtype(), fmt, 7, numel() > 1000);
  os << ", shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype());
  if (grad_fn()) {
    os << ", grad_fn=<" << grad_fn()->name() << '>';
  } else if (requires_grad()) {
    os << ", requires_grad=True";
  }
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  return os << t.to_string();
}

// ---------------------------------------------------------------- options and devices

void TensorOptions::check_supported(const char* op) const {
  MINIDL_CHECK(unsupported_dtype_ == nullptr, op,
               "dtype " << unsupported_dtype_
                        << " is not supported (minidl has float32, float64, int64 and bool)");
  if (device_) device_->check_usable(op);
  MINIDL_CHECK(!layout_ || *layout_ == Layout::Strided, op,
               "only the strided layout is supported (minidl has no sparse tensors)");
}

TensorOptions Tensor::options() const {
  return TensorOptions(dtype()).device(Device(DeviceType::CPU)).layout(Layout::Strided);
}

Tensor Tensor::to(Device device, bool non_blocking, bool copy) const {
  return to(TensorOptions(device), non_blocking, copy);
}

Tensor Tensor::to(DeviceType type, bool non_blocking, bool copy) const {
  return to(TensorOptions(type), non_blocking, copy);
}

Tensor Tensor::to(Device device, DType dtype, bool non_blocking, bool copy) const {
  return to(TensorOptions(dtype).device(device), non_blocking, copy);
}

Tensor Tensor::to(DType dtype, bool non_blocking, bool copy) const {
  return to(TensorOptions(dtype), non_blocking, copy);
}

// (non_blocking: a CPU-to-CPU move has nothing to overlap with.)
Tensor Tensor::to(const TensorOptions& options, bool /*non_blocking*/, bool copy) const {
  checked();
  options.check_supported("to");
  // libtorch rejects requires_grad in to()'s options: use requires_grad_() on the result.
  MINIDL_CHECK(!options.requires_grad_, "to",
               "options passed to to() must not set requires_grad (call requires_grad_())");
  const DType target = options.dtype_.value_or(dtype());
  if (target == dtype() && !copy) return *this;
  return target == dtype() ? clone() : to(target);
}

void Tensor::print() const {
  if (!defined()) {
    std::cerr << "[UndefinedTensor]" << std::endl;
    return;
  }
  static const char* const kTypeNames[] = {"Float", "Double", "Long", "Bool"};
  std::cerr << "[CPU" << kTypeNames[static_cast<int>(dtype())] << "Type " << sizes() << "]"
            << std::endl;
}

}  // namespace minidl
