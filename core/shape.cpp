#include "core/shape.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"

namespace minidl {

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

std::string index_str(const Shape& shape, int64_t flat) {
  Shape index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(index);
}

int64_t checked_mul(int64_t a, int64_t b, const char* op, const char* what) {
  int64_t out = 0;
  MINIDL_CHECK(!__builtin_mul_overflow(a, b, &out), op,
               "the " << what << " overflow 64-bit integers (" << a << " * " << b << ")");
  return out;
}

int64_t checked_add(int64_t a, int64_t b, const char* op, const char* what) {
  int64_t out = 0;
  MINIDL_CHECK(!__builtin_add_overflow(a, b, &out), op,
               "the " << what << " overflow 64-bit integers (" << a << " + " << b << ")");
  return out;
}

int64_t shape_numel(const Shape& shape, const char* op) {
  bool empty = false;
  for (int64_t s : shape) {
    MINIDL_CHECK(s >= 0, op, "negative dimension " << s << " in shape " << shape_str(shape));
    empty = empty || s == 0;
  }
  if (empty) return 0;  // [0, 2^62, 2^62] and [2^62, 2^62, 0] are empty, not overflows
  int64_t n = 1;
  for (int64_t s : shape) {
    MINIDL_CHECK(!__builtin_mul_overflow(n, s, &n), op,
                 "shape " << shape_str(shape) << " has more elements than a 64-bit count holds");
  }
  return n;
}

std::optional<Shape> try_contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t running = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = running;
    if (i > 0 && __builtin_mul_overflow(running, std::max<int64_t>(shape[i], 1), &running))
      return std::nullopt;  // (the product past the first dim is not a stride: not checked)
  }
  return strides;
}

Shape contiguous_strides(const Shape& shape, const char* op) {
  std::optional<Shape> strides = try_contiguous_strides(shape);
  MINIDL_CHECK(strides.has_value(), op,
               "the strides of shape " << shape_str(shape) << " overflow 64-bit integers");
  return *strides;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = std::max<int64_t>(ndim, 1);
  MINIDL_CHECK(dim >= -n && dim < n, op,
               "dimension " << dim << " out of range for a " << ndim << "-d tensor (expected in ["
                            << -n << ", " << n - 1 << "])");
  return dim < 0 ? dim + n : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t sa = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t sb = i < n - b.size() ? 1 : b[i - (n - b.size())];
    MINIDL_CHECK(sa == sb || sa == 1 || sb == 1, op,
                 "shapes " << shape_str(a) << " and " << shape_str(b)
                           << " cannot be broadcast (size " << sa << " vs " << sb << " at dim " << i
                           << ")");
    out[i] = sa == 1 ? sb : sa;
  }
  return out;
}

Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target) {
  Shape out(target.size(), 0);
  size_t lead = target.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    out[lead + i] = shape[i] == 1 && target[lead + i] != 1 ? 0 : strides[i];
  return out;
}

std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim,
                                    const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(wrap_dim(d, ndim, op));
  std::sort(out.begin(), out.end());
  MINIDL_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op,
               "dimension listed twice in the reduction dims");
  if (ndim == 0) out.clear();  // dim 0 / -1 of a scalar: nothing to reduce
  return out;
}

}  // namespace minidl
