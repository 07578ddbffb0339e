#include "core/factories.h"

#include <cmath>
#include <numeric>

namespace minidl {

namespace {
Tensor finish(Tensor t, const TensorOptions& options) {
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}
TensorOptions without_grad(TensorOptions options) {
  return options.requires_grad(false);
}
}  // namespace

Tensor zeros(const Shape& shape, TensorOptions options) {
  return full(shape, 0.0, options);
}
Tensor ones(const Shape& shape, TensorOptions options) {
  return full(shape, 1.0, options);
}

Tensor full(const Shape& shape, double value, TensorOptions options) {
  Tensor t = empty(shape, without_grad(options));
  fill_data(t, value);
  return finish(t, options);
}

Tensor arange(double end, TensorOptions options) {
  return arange(0.0, end, 1.0, options);
}

Tensor arange(double start, double end, double step, TensorOptions options) {
  MINIDL_CHECK(step != 0, "arange", "step must be nonzero");
  MINIDL_CHECK(std::isfinite(start) && std::isfinite(end), "arange",
               "bounds must be finite, got " << start << " and " << end);
  MINIDL_CHECK(
      (end - start) / step >= 0, "arange",
      "upper bound " << end << " and step " << step << " are inconsistent with start " << start);
  bool integral = start == std::floor(start) && end == std::floor(end) && step == std::floor(step);
  if (!options.dtype_) options = options.dtype(integral ? kInt64 : kFloat32);
  int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  Tensor t = empty({n}, without_grad(options));
  MINIDL_DISPATCH_NUMERIC(t.dtype(), "arange", {
    scalar_t* p = t.data_ptr<scalar_t>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<scalar_t>(start + i * step);
  });
  return finish(t, options);
}

Tensor arange(double start, double end, TensorOptions options) {
  return arange(start, end, 1.0, options);
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  MINIDL_CHECK(steps >= 0, "linspace", "number of steps must be non-negative, got " << steps);
  Tensor t = empty({steps}, without_grad(options));
  double delta = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  MINIDL_DISPATCH_FLOATING(t.dtype(), "linspace", {
    scalar_t* p = t.data_ptr<scalar_t>();
    // Fill from both ends so that the last value is exactly `end`, as torch.linspace does.
    for (int64_t i = 0; i < steps; ++i)
      p[i] = static_cast<scalar_t>(steps == 1 || i < steps / 2 ? start + i * delta
                                                               : end - (steps - 1 - i) * delta);
  });
  return finish(t, options);
}

Tensor eye(int64_t n, int64_t m, TensorOptions options) {
  if (m < 0) m = n;
  MINIDL_CHECK(n >= 0, "eye", "n must be non-negative, got " << n);
  Tensor t = zeros({n, m}, without_grad(options));
  MINIDL_DISPATCH_ALL(t.dtype(), "eye", {
    scalar_t* p = t.data_ptr<scalar_t>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = static_cast<scalar_t>(1);
  });
  return finish(t, options);
}

namespace {
template <typename Draw>
Tensor random_fill(const Shape& shape, TensorOptions options, Generator* generator, Draw draw,
                   const char* op) {
  Tensor t = empty(shape, without_grad(options));
  Generator& g = generator ? *generator : default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  MINIDL_DISPATCH_FLOATING(t.dtype(), op, {
    scalar_t* p = t.data_ptr<scalar_t>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<scalar_t>(draw(g));
  });
  return finish(t, options);
}
}  // namespace

Tensor rand(const Shape& shape, TensorOptions options, Generator* generator) {
  return random_fill(
      shape, options, generator, [](Generator& g) { return g.uniform(); }, "rand");
}

Tensor randn(const Shape& shape, TensorOptions options, Generator* generator) {
  return random_fill(
      shape, options, generator, [](Generator& g) { return g.normal(); }, "randn");
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options,
               Generator* generator) {
  MINIDL_CHECK(low < high, "randint", "empty range [" << low << ", " << high << ")");
  Tensor t = empty(shape, without_grad(options));
  Generator& g = generator ? *generator : default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  MINIDL_DISPATCH_NUMERIC(t.dtype(), "randint", {
    scalar_t* p = t.data_ptr<scalar_t>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<scalar_t>(g.randint(low, high));
  });
  return finish(t, options);
}

Tensor randint(int64_t high, const Shape& shape, TensorOptions options, Generator* generator) {
  return randint(0, high, shape, options, generator);
}

Tensor randperm(int64_t n, Generator* generator) {
  MINIDL_CHECK(n >= 0, "randperm", "n must be non-negative, got " << n);
  Tensor t = empty({n}, kInt64);
  int64_t* p = t.data_ptr<int64_t>();
  std::iota(p, p + n, int64_t{0});
  Generator& g = generator ? *generator : default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[g.randint(0, i + 1)]);  // Fisher-Yates
  return t;
}

namespace {
// Options of a *_like factory: t's dtype unless the options name one.
TensorOptions like(const Tensor& t, TensorOptions options) {
  return options.dtype_ || options.unsupported_dtype_ ? options : options.dtype(t.dtype());
}
}  // namespace

Tensor empty_like(const Tensor& t, TensorOptions options) {
  return finish(empty(t.shape(), without_grad(like(t, options))), options);
}
Tensor zeros_like(const Tensor& t, TensorOptions options) {
  return zeros(t.shape(), like(t, options));
}
Tensor ones_like(const Tensor& t, TensorOptions options) {
  return ones(t.shape(), like(t, options));
}
Tensor full_like(const Tensor& t, double value, TensorOptions options) {
  return full(t.shape(), value, like(t, options));
}
Tensor rand_like(const Tensor& t, TensorOptions options) {
  return rand(t.shape(), like(t, options));
}
Tensor randn_like(const Tensor& t, TensorOptions options) {
  return randn(t.shape(), like(t, options));
}

Tensor from_blob(void* data, const Shape& shape, TensorOptions options) {
  return from_blob(data, shape, contiguous_strides(shape, "from_blob"), options);
}

Tensor from_blob(void* data, const Shape& shape, const Shape& strides, TensorOptions options) {
  options.check_supported("from_blob");
  const DType dtype = options.dtype();
  const int64_t numel = shape_numel(shape, "from_blob");
  MINIDL_CHECK(strides.size() == shape.size(), "from_blob",
               "strides " << shape_str(strides) << " do not match shape " << shape_str(shape));
  MINIDL_CHECK(numel == 0 || data != nullptr, "from_blob",
               "null data for shape " << shape_str(shape));
  const auto size = static_cast<int64_t>(element_size(dtype));
  MINIDL_CHECK(reinterpret_cast<uintptr_t>(data) % size == 0, "from_blob",
               "data is not aligned for " << dtype_name(dtype) << " elements");
  // The storage spans the highest element the strides reach (negative strides are refused:
  // the view would start before `data`).
  int64_t span = numel > 0 ? 1 : 0;
  for (size_t d = 0; d < shape.size() && numel > 0; ++d) {
    MINIDL_CHECK(strides[d] >= 0, "from_blob",
                 "negative stride in " << shape_str(strides) << " is not supported");
    span = checked_add(span, checked_mul(shape[d] - 1, strides[d], "from_blob", "elements"),
                       "from_blob", "elements");
  }
  auto storage = std::make_shared<Storage>(
      data, static_cast<size_t>(checked_mul(span, size, "from_blob", "bytes")));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = strides;
  impl->numel = numel;
  impl->dtype = dtype;
  return finish(Tensor(std::move(impl)), options);
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
  int64_t n = shape_numel(shape, "from_vector");
  MINIDL_CHECK(n == static_cast<int64_t>(values.size()), "from_vector",
               values.size() << " values do not fill shape " << shape_str(shape) << " (" << n
                             << " elements)");
  options.check_supported("from_vector");
  if (!options.dtype_) options = options.dtype(dtype_of<T>::value);
  Tensor source = empty(shape, dtype_of<T>::value);
  T* p = source.data_ptr<T>();
  for (int64_t i = 0; i < n; ++i) p[i] = values[i];
  Tensor t = source.to(*options.dtype_);
  return finish(t, options);
}

namespace {
template <typename T>
TensorOptions literal_options(TensorOptions options) {
  if (options.dtype_) return options;
  if (std::is_same<T, bool>::value) return options.dtype(kBool);
  if (std::is_integral<T>::value) return options.dtype(kInt64);
  return options.dtype(kFloat32);
}
template <typename T>
using Storage_t =
    std::conditional_t<std::is_same<T, bool>::value, bool,
                       std::conditional_t<std::is_integral<T>::value, int64_t, double>>;
}  // namespace

template <typename T>
Tensor tensor(std::initializer_list<T> values, TensorOptions options) {
  std::vector<Storage_t<T>> v(values.begin(), values.end());
  return from_vector(v, {static_cast<int64_t>(v.size())}, literal_options<T>(options));
}

template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> rows, TensorOptions options) {
  std::vector<Storage_t<T>> v;
  int64_t cols = rows.size() ? static_cast<int64_t>(rows.begin()->size()) : 0;
  for (const auto& row : rows) {
    MINIDL_CHECK(static_cast<int64_t>(row.size()) == cols, "tensor",
                 "ragged rows: expected " << cols << " values per row, got " << row.size());
    v.insert(v.end(), row.begin(), row.end());
  }
  return from_vector(v, {static_cast<int64_t>(rows.size()), cols}, literal_options<T>(options));
}

Tensor scalar_tensor(double value, TensorOptions options) {
  return full({}, value, options);
}

template Tensor from_vector(const std::vector<float>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<double>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<int64_t>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<bool>&, const Shape&, TensorOptions);
template Tensor tensor(std::initializer_list<float>, TensorOptions);
template Tensor tensor(std::initializer_list<double>, TensorOptions);
template Tensor tensor(std::initializer_list<int>, TensorOptions);
template Tensor tensor(std::initializer_list<int64_t>, TensorOptions);
template Tensor tensor(std::initializer_list<bool>, TensorOptions);
template Tensor tensor(std::initializer_list<std::initializer_list<float>>, TensorOptions);
template Tensor tensor(std::initializer_list<std::initializer_list<double>>, TensorOptions);
template Tensor tensor(std::initializer_list<std::initializer_list<int>>, TensorOptions);
template Tensor tensor(std::initializer_list<std::initializer_list<int64_t>>, TensorOptions);
template Tensor tensor(std::initializer_list<std::initializer_list<bool>>, TensorOptions);

}  // namespace minidl
