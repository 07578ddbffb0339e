// Tensor: a cheap, shared handle to a strided view of a Storage, plus its place on the tape.
//
// Copying a Tensor copies the handle (like libtorch's torch::Tensor), never the data. The
// methods below follow libtorch's names; those that are differentiable ops are implemented in
// ops/ next to their backward (the declaration lives here so `x.sum()` reads like PyTorch).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "core/accessor.h"
#include "core/array_ref.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "core/storage.h"

namespace minidl {

struct Node;
struct TensorHooks;
class Tensor;

// The state behind a Tensor handle. Views share `storage`; everything else is per view.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Shape strides;  // in elements
  int64_t numel = 1;
  DType dtype = DType::Float32;
  bool requires_grad = false;
  bool retains_grad = false;  // a non-leaf whose .grad the engine fills (retain_grad())
  bool is_view = false;       // shares its storage with the tensor it was viewed from
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;       // the tape entry that produced this tensor (null for leaves)
  std::shared_ptr<TensorHooks> hooks;  // gradient hooks of a leaf (register_hook)
};

// Options for factories, spelled like libtorch: zeros({2, 3}, TensorOptions().dtype(kFloat64)
// .requires_grad(true)), zeros({2, 3}, dtype(kFloat64).requires_grad(true)), or simply
// zeros({2, 3}, kFloat64). A device other than the CPU, a layout other than strided and a dtype
// minidl lacks (kInt32, ...) can be named; the factory or to() that gets them throws.
struct TensorOptions {
  TensorOptions() = default;
  TensorOptions(DType d) : dtype_(d) {}  // NOLINT: implicit, as in libtorch
  TensorOptions(UnsupportedDType d) : unsupported_dtype_(d.name) {}  // NOLINT
  TensorOptions(Device d) : device_(d) {}                            // NOLINT
  TensorOptions(DeviceType t) : device_(Device(t)) {}                // NOLINT
  TensorOptions(Layout l) : layout_(l) {}                            // NOLINT
  TensorOptions dtype(DType d) const {
    TensorOptions o = *this;
    o.dtype_ = d;
    o.unsupported_dtype_ = nullptr;
    return o;
  }
  TensorOptions dtype(UnsupportedDType d) const {
    TensorOptions o = *this;
    o.unsupported_dtype_ = d.name;
    return o;
  }
  TensorOptions requires_grad(bool r) const {
    TensorOptions o = *this;
    o.requires_grad_ = r;
    return o;
  }
  TensorOptions device(Device d) const {
    TensorOptions o = *this;
    o.device_ = d;
    return o;
  }
  TensorOptions layout(Layout l) const {
    TensorOptions o = *this;
    o.layout_ = l;
    return o;
  }
  // Getters, as libtorch's: the dtype defaults to float32, the device to the CPU.
  DType dtype() const { return dtype_.value_or(DType::Float32); }
  bool requires_grad() const { return requires_grad_; }
  Device device() const { return device_.value_or(Device(DeviceType::CPU)); }
  Layout layout() const { return layout_.value_or(Layout::Strided); }
  bool has_dtype() const { return dtype_.has_value() || unsupported_dtype_ != nullptr; }
  bool has_device() const { return device_.has_value(); }
  // Throws, naming `op`, if these options ask for something minidl cannot make (a CUDA device,
  // a sparse layout, a dtype it lacks).
  void check_supported(const char* op) const;

  std::optional<DType> dtype_;
  bool requires_grad_ = false;
  std::optional<Device> device_;
  std::optional<Layout> layout_;
  const char* unsupported_dtype_ = nullptr;  // the name of a requested dtype minidl lacks
};

// libtorch's free-standing option builders: randn({2, 3}, requires_grad()),
// zeros({2}, dtype(kFloat64).requires_grad(true)), ones({2}, device(kCPU)).
inline TensorOptions requires_grad(bool r = true) {
  return TensorOptions().requires_grad(r);
}
inline TensorOptions dtype(DType d) {
  return TensorOptions(d);
}
inline TensorOptions dtype(UnsupportedDType d) {
  return TensorOptions(d);
}
inline TensorOptions device(Device d) {
  return TensorOptions(d);
}
inline TensorOptions layout(Layout l) {
  return TensorOptions(l);
}

namespace indexing {
// The types of None and Ellipsis below: x.index({None, Slice(0, 2), Ellipsis}) as in libtorch.
struct NoneType {};
// `...`: every dim not named by the other indices.
struct EllipsisType {};
constexpr NoneType None{};
constexpr EllipsisType Ellipsis{};

// A slice bound: an integer or None.
struct SliceBound {
  SliceBound(NoneType) {}                             // NOLINT: implicit, as in Python
  SliceBound(std::nullopt_t) {}                       // NOLINT
  SliceBound(int64_t v) : value(v) {}                 // NOLINT
  SliceBound(int v) : value(v) {}                     // NOLINT
  SliceBound(std::optional<int64_t> v) : value(v) {}  // NOLINT
  std::optional<int64_t> value;
};

// Python's start:stop:step; a None bound means the whole dim on that side.
struct Slice {
  Slice(SliceBound start = None, SliceBound stop = None, int64_t step = 1)
      : start(start.value), stop(stop.value), step(step) {}
  std::optional<int64_t> start, stop;
  int64_t step = 1;
};

// One entry of t.index({...}): an integer (selects, removing the dim), a Slice, None (inserts a
// size-1 dim) or Ellipsis (as many full slices as needed).
struct TensorIndex {
  enum class Kind { Integer, Slice, None, Ellipsis };
  TensorIndex(int64_t i) : kind(Kind::Integer), integer(i) {}  // NOLINT
  TensorIndex(int i) : kind(Kind::Integer), integer(i) {}      // NOLINT
  TensorIndex(Slice s) : kind(Kind::Slice), slice(s) {}        // NOLINT
  TensorIndex(NoneType) : kind(Kind::None) {}                  // NOLINT
  TensorIndex(EllipsisType) : kind(Kind::Ellipsis) {}          // NOLINT
  Kind kind;
  int64_t integer = 0;
  Slice slice;
};
}  // namespace indexing

// A handle to a strided tensor (shared: copies of a Tensor alias one TensorImpl): shape, strides,
// dtype, storage, and the autograd fields. Methods are libtorch's; most forward to ops/*.h.
class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (like a default torch::Tensor)
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  // True if both handles refer to the same tensor (not elementwise equality: that is eq()).
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // ---- metadata
  // sizes() is a view of the shape, as libtorch's IntArrayRef (sizes().vec() copies it).
  IntArrayRef sizes() const { return IntArrayRef(checked()->shape); }
  const Shape& shape() const { return checked()->shape; }
  const Shape& strides() const { return checked()->strides; }
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return static_cast<int64_t>(checked()->shape.size()); }
  int64_t numel() const { return checked()->numel; }
  DType dtype() const { return checked()->dtype; }
  size_t element_size() const { return minidl::element_size(dtype()); }
  int64_t storage_offset() const { return checked()->offset; }
  bool is_contiguous() const;
  bool is_floating_point() const { return minidl::is_floating_point(dtype()); }
  // Shares storage with `other` (views of one another, or one a detach() of the other).
  bool shares_storage(const Tensor& other) const;

  // Pointer to element [0, 0, ...]; T must match dtype() (checked).
  template <typename T>
  T* data_ptr() const;
  void* raw_data() const;

  // ---- autograd
  bool requires_grad() const { return checked()->requires_grad; }
  // Marks a leaf as needing gradients (error on a non-leaf or a non-floating tensor).
  Tensor& requires_grad_(bool requires = true);
  Tensor grad() const;  // undefined until a backward reaches this tensor
  void set_grad(const Tensor& grad) const;
  // Drops the accumulated gradient (PyTorch's set_to_none=True) or fills it with zeros.
  void zero_grad(bool set_to_none = true) const;
  bool is_leaf() const { return checked()->grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return checked()->grad_fn; }
  // Lets backward() fill .grad of this non-leaf too.
  void retain_grad() const;
  // Back-propagates from this tensor. A non-scalar needs `gradient` of its shape. Frees the
  // tape entries it walked unless retain_graph (default: create_graph); with create_graph the
  // gradients carry history (see minidl::backward in core/autograd.h).
  void backward(const Tensor& gradient = Tensor(), std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  // Registers a hook called with this tensor's gradient each time one is computed, before it is
  // accumulated or passed on: a hook returning a Tensor replaces the gradient, a void hook only
  // observes it. Returns a handle for remove_hook. Leaves and non-leaves alike, as libtorch.
  template <typename Hook>
  uint64_t register_hook(Hook&& hook) const {
    if constexpr (std::is_void_v<std::invoke_result_t<Hook&, Tensor>>) {
      return add_hook([hook = std::forward<Hook>(hook)](const Tensor& g) mutable {
        hook(g);
        return Tensor();
      });
    } else {
      return add_hook(
          [hook = std::forward<Hook>(hook)](const Tensor& g) mutable { return Tensor(hook(g)); });
    }
  }
  void remove_hook(uint64_t handle) const;
  // Same data, no tape entry, requires_grad false.
  Tensor detach() const;
  Tensor& detach_();
  // Makes this handle's tensor hold `source`'s data, shape and dtype (sharing its storage),
  // keeping requires_grad and dropping .grad: PyTorch's `param.data = source`. Every handle to
  // this tensor sees the change -- how Module::to(dtype) converts parameters in place.
  void set_data(const Tensor& source) const;
  // The storage version counter (bumped by in-place writes); PyTorch's t._version.
  uint64_t _version() const { return checked()->storage->version; }

  // ---- conversions
  Tensor contiguous() const;  // this tensor if already contiguous, else a differentiable copy
  Tensor clone() const;       // always a differentiable copy
  Tensor to(DType dtype) const;
  // The value of a one-element tensor converted to T (item<float>()), or as a Scalar (item()).
  template <typename T>
  T item() const;
  Scalar item() const;
  // All elements in row-major order, converted to T.
  template <typename T>
  std::vector<T> to_vector() const;
  std::string to_string() const;

  // ---- views: no data is copied (ops/view.cpp)
  Tensor view(const Shape& shape) const;     // error if the strides do not allow it
  Tensor reshape(const Shape& shape) const;  // a view when possible, else a copy
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a <=2-d tensor
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, std::optional<int64_t> start = std::nullopt,
               std::optional<int64_t> end = std::nullopt, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
  Tensor index(const std::vector<indexing::TensorIndex>& indices) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a size
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor unflatten(int64_t dim, const Shape& sizes) const;
  Tensor view_as(const Tensor& other) const { return view(other.shape()); }

  // ---- in-place (bump the version; differentiable on non-leaf, non-view tensors)
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& add_(double value);
  Tensor& sub_(const Tensor& other, double alpha = 1.0);
  Tensor& sub_(double value);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(double value);
  Tensor& div_(const Tensor& other);
  Tensor& div_(double value);
  // Compound assignment, as libtorch's x += y: the in-place ops above (differentiable as they are).
  Tensor& operator+=(const Tensor& other) { return add_(other); }
  Tensor& operator+=(double other) { return add_(other); }
  Tensor& operator-=(const Tensor& other) { return sub_(other); }
  Tensor& operator-=(double other) { return sub_(other); }
  Tensor& operator*=(const Tensor& other) { return mul_(other); }
  Tensor& operator*=(double other) { return mul_(other); }
  Tensor& operator/=(const Tensor& other) { return div_(other); }
  Tensor& operator/=(double other) { return div_(other); }
  // Every element = 0 / value (value must fit the dtype); the old history gets no gradient.
  Tensor& zero_();
  Tensor& fill_(double value);
  // self = src broadcast to self's shape and cast to self's dtype; differentiable in src.
  Tensor& copy_(const Tensor& src);
  // In-place clamp (ops/elementwise.h) and masked_fill (mask bool, broadcast to self's shape).
  Tensor& clamp_(std::optional<double> min, std::optional<double> max);
  Tensor& masked_fill_(const Tensor& mask, double value);
  // Random fills from the default generator (not differentiable; for initialization).
  Tensor& uniform_(double from = 0.0, double to = 1.0);
  Tensor& normal_(double mean = 0.0, double std = 1.0);

  // ---- method forms of ops (see ops/*.h for the math)
  Tensor add(const Tensor& other, double alpha = 1.0) const;
  Tensor sub(const Tensor& other, double alpha = 1.0) const;
  Tensor mul(const Tensor& other) const;
  Tensor div(const Tensor& other) const;
  Tensor pow(double exponent) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor neg() const;
  Tensor abs() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor log1p() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor clamp(std::optional<double> min, std::optional<double> max) const;
  Tensor clamp(const std::optional<Tensor>& min, const std::optional<Tensor>& max) const;
  Tensor clamp_min(double min) const;
  Tensor clamp_min(const Tensor& min) const;
  Tensor clamp_max(double max) const;
  Tensor clamp_max(const Tensor& max) const;
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;
  Tensor masked_fill(const Tensor& mask, double value) const;

  // Elementwise comparisons (ops/compare.h): bool, the broadcast shape; not differentiable.
  Tensor eq(const Tensor& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor le(const Tensor& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor logical_not() const;

  // Reductions (ops/reduction.h): over every element -> 0-d, or over `dims` -> the shape without
  // them (size 1 with keepdim); max / min over one dim -> (values, int64 indices).
  Tensor sum() const;
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor var(const std::vector<int64_t>& dims = {}, int64_t correction = 1,
             bool keepdim = false) const;
  Tensor std(const std::vector<int64_t>& dims = {}, int64_t correction = 1,
             bool keepdim = false) const;
  Tensor max() const;
  std::pair<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;
  Tensor min() const;
  std::pair<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;
  Tensor amax(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor amin(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor argmax(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor logsumexp(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor norm(double p = 2.0, const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  template <typename I, typename = std::enable_if_t<std::is_integral<I>::value &&
                                                    !std::is_same<I, bool>::value>>
  Tensor norm(double p, I dim, bool keepdim = false) const {  // x.norm(2, 1): one integer dim
    return norm(p, std::vector<int64_t>{static_cast<int64_t>(dim)}, keepdim);
  }
  // Logical reductions (bool result, no gradient): whether all / any elements are non-zero,
  // over everything or over one dim (ops/reduction.h).
  Tensor all() const;
  Tensor all(int64_t dim, bool keepdim = false) const;
  Tensor any() const;
  Tensor any(int64_t dim, bool keepdim = false) const;
  Tensor cumsum(int64_t dim) const;
  Tensor cumprod(int64_t dim) const;

  // this @ other (ops/linalg.h): matmul broadcasts batch dims, mm [n, k] @ [k, m] -> [n, m], bmm
  // [B, n, k] @ [B, k, m] -> [B, n, m]; softmax / log_softmax along dim keep the shape.
  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;
  Tensor bmm(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  // ---- libtorch's Tensor surface (issue 13): options and devices (core/tensor.cpp), indexing,
  // reductions over one dim, selections, sorting, bitwise ops and random fills (ops/tensor_api.cpp,
  // ops/masked_select.cpp, ops/sort.cpp, ops/compare.cpp, ops/random.cpp).
  TensorOptions options() const;  // dtype, device and layout; requires_grad stays false
  DType scalar_type() const { return dtype(); }
  int64_t ndimension() const { return dim(); }
  Layout layout() const { return (void)checked(), Layout::Strided; }
  Device device() const { return (void)checked(), Device(DeviceType::CPU); }
  bool is_cpu() const { return (void)checked(), true; }
  bool is_cuda() const { return (void)checked(), false; }
  Tensor cpu() const { return (void)checked(), *this; }
  // Device moves: to the CPU this tensor itself (a copy if `copy`), elsewhere an error;
  // non_blocking has nothing to overlap on the CPU and is accepted as a no-op.
  Tensor to(Device device, bool non_blocking = false, bool copy = false) const;
  Tensor to(DeviceType type, bool non_blocking = false, bool copy = false) const;
  Tensor to(Device device, DType dtype, bool non_blocking = false, bool copy = false) const;
  Tensor to(DType dtype, bool non_blocking, bool copy = false) const;
  Tensor to(const TensorOptions& options, bool non_blocking = false, bool copy = false) const;
  // libtorch's deprecated .data(): the same data without history (= detach()).
  Tensor data() const { return detach(); }
  // Prints "[CPUFloatType [2, 3]]" to stderr, as libtorch's Tensor::print.
  void print() const;
  // Element access without checks, for loops: t.accessor<float, 2>()[i][j] (core/accessor.h).
  // T must match dtype() and N dim() (both checked once here).
  template <typename T, size_t N>
  TensorAccessor<T, N> accessor() const& {
    MINIDL_CHECK(dim() == static_cast<int64_t>(N), "accessor",
                 "expected a " << N << "-d tensor, got shape " << shape_str(shape()));
    return TensorAccessor<T, N>(data_ptr<std::remove_const_t<T>>(), checked()->shape.data(),
                                checked()->strides.data());
  }
  template <typename T, size_t N>
  TensorAccessor<T, N> accessor() && = delete;  // it would point into a dying temporary
  // t[i] = t.select(0, i) (negative i counts from the end); t[index] picks entries along dim 0:
  // an int64 index of any shape gives index.shape + shape[1:]; a bool mask over the leading
  // mask.dim() dims gives [count] + the remaining dims (PyTorch's advanced indexing).
  Tensor operator[](int64_t index) const;
  Tensor operator[](const Tensor& index) const;
  // One-dim reductions with an integer dim (x.sum(1), x.mean(-1, true)); a braced {} or {1}
  // still means the list overloads above. dtype casts x first, as libtorch's dtype argument.
  template <typename I, typename = std::enable_if_t<std::is_integral<I>::value &&
                                                    !std::is_same<I, bool>::value>>
  Tensor sum(I dim, bool keepdim = false, std::optional<DType> dtype = std::nullopt) const {
    return sum(std::vector<int64_t>{static_cast<int64_t>(dim)}, keepdim, dtype);
  }
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim, std::optional<DType> dtype) const;
  template <typename I, typename = std::enable_if_t<std::is_integral<I>::value &&
                                                    !std::is_same<I, bool>::value>>
  Tensor mean(I dim, bool keepdim = false, std::optional<DType> dtype = std::nullopt) const {
    return mean(std::vector<int64_t>{static_cast<int64_t>(dim)}, keepdim, dtype);
  }
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim, std::optional<DType> dtype) const;
  template <typename I, typename = std::enable_if_t<std::is_integral<I>::value &&
                                                    !std::is_same<I, bool>::value>>
  Tensor logsumexp(I dim, bool keepdim = false) const {
    return logsumexp(std::vector<int64_t>{static_cast<int64_t>(dim)}, keepdim);
  }
  Tensor eq(double other) const;
  Tensor ne(double other) const;
  Tensor lt(double other) const;
  Tensor le(double other) const;
  Tensor gt(double other) const;
  Tensor ge(double other) const;
  // |self - other| <= atol + rtol |other| everywhere (shapes broadcast); NaNs equal if equal_nan.
  bool allclose(const Tensor& other, double rtol = 1e-5, double atol = 1e-8,
                bool equal_nan = false) const;
  // Same shape and the same values (torch.equal).
  bool equal(const Tensor& other) const;
  Tensor bitwise_not() const;
  Tensor index_select(int64_t dim, const Tensor& index) const;
  Tensor gather(int64_t dim, const Tensor& index) const;
  Tensor masked_select(const Tensor& mask) const;
  Tensor repeat(const std::vector<int64_t>& repeats) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> split(const std::vector<int64_t>& split_sizes, int64_t dim = 0) const;
  std::tuple<Tensor, Tensor> topk(int64_t k, int64_t dim = -1, bool largest = true,
                                  bool sorted = true) const;
  std::tuple<Tensor, Tensor> sort(int64_t dim = -1, bool descending = false) const;
  Tensor argsort(int64_t dim = -1, bool descending = false) const;
  // In-place random fills from the default generator: 1 with probability p, else 0; integers
  // uniform in [from, to) or [0, to).
  Tensor& bernoulli_(double p = 0.5);
  Tensor& random_(int64_t from, int64_t to);
  Tensor& random_(int64_t to);

 private:
  uint64_t add_hook(std::function<Tensor(const Tensor&)> hook) const;
  TensorImpl* checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

// Creates a tensor of `shape` with fresh, uninitialized storage (the one allocation path).
Tensor empty(const Shape& shape, TensorOptions options = {});

// A raw view of `base`'s storage with the given geometry: no tape entry, no checks beyond
// bounds. The building block of every view op.
Tensor make_view(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);

// Copies src into dst elementwise (shapes must match; dtypes may differ and are converted).
// The strided copy behind contiguous(), clone(), to() and copy_(). No tape entry.
void copy_data(const Tensor& dst, const Tensor& src);

// Sets every element of dst to value (converted to its dtype). No tape entry, no version bump.
void fill_data(const Tensor& dst, double value);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace minidl
