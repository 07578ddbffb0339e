// In-place ops: add_, sub_, mul_, div_, zero_, fill_, copy_, clamp_, masked_fill_, uniform_,
// normal_.
//
// Every in-place write bumps the storage's version counter, so a tape entry that saved this
// data for backward notices and raises instead of computing a wrong gradient.
//
// When no gradient is involved (the common case: optimizer updates under NoGradGuard) the
// kernel writes straight into self. When one is (self or the operand requires grad and grad
// mode is on), the op is computed out of place with its usual tape entry, the values are copied
// into self, and self's history is rebased onto that entry -- self now *is* that op's output.
// An op whose backward reads self's old value (mul_, clamp_) is given a copy of it, since the
// write would otherwise change what its backward reads.
// Refused with an error, as in PyTorch: a leaf that requires grad (its .grad would no longer
// match its value), a result dtype self cannot hold (float into int64), and a write into a
// tensor whose elements overlap in memory (an expanded view). Also refused, where PyTorch would
// rewrite the base's history: an in-place op with grad on a view.
#include <cmath>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/generator.h"
#include "core/parallel.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

void bump_version(const Tensor& self) {
  ++self.impl()->storage->version;
}

// Refuses in-place writes that would make the tape or the data wrong.
void check_writable(const Tensor& self, const char* op) {
  for (int64_t d = 0; d < self.dim(); ++d)
    MINIDL_CHECK(self.shape()[d] <= 1 || self.strides()[d] != 0, op,
                 "more than one element of the written-to tensor (shape "
                     << shape_str(self.shape()) << ", strides " << shape_str(self.strides())
                     << ") refers to a single memory location; clone() it first");
  if (!GradMode::is_enabled()) return;
  MINIDL_CHECK(!(self.is_leaf() && self.requires_grad()), op,
               "a leaf tensor of shape " << shape_str(self.shape())
                                         << " that requires grad cannot be modified in place "
                                            "(wrap the update in NoGradGuard)");
}

// A view whose in-place result would require grad: its base's history would silently go stale.
void check_not_view(const Tensor& self, const char* op) {
  MINIDL_CHECK(!self.impl()->is_view, op,
               "in-place operation on a view (shape "
                   << shape_str(self.shape())
                   << ") whose result requires grad is not supported; use the out-of-place op");
}

// `other` must broadcast to self's shape: self itself is never broadcast.
void check_operand_shape(const Tensor& self, const Tensor& other, const char* op) {
  Shape shape = broadcast_shapes(self.shape(), other.shape(), op);
  MINIDL_CHECK(shape == self.shape(), op,
               "operand of shape " << shape_str(other.shape())
                                   << " does not broadcast to self's shape "
                                   << shape_str(self.shape()) << " (self cannot be broadcast)");
}

// The result dtype must fit into self's kind: float into int64, or int64 into bool, is refused
// (float64 into float32 is fine, as in PyTorch).
int dtype_kind(DType d) {
  return d == kBool ? 0 : (d == kInt64 ? 1 : 2);
}
void check_result_type(const Tensor& self, DType result, const char* op) {
  MINIDL_CHECK(dtype_kind(result) <= dtype_kind(self.dtype()), op,
               "result type " << result << " cannot be written into a " << self.dtype()
                              << " tensor of shape " << shape_str(self.shape()));
}

// The dtype of a scalar operand: int64 for whole numbers, float32 otherwise.
DType scalar_type(double v) {
  return std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.2e18 ? kInt64 : kFloat32;
}

// A value written into self as is (fill_, masked_fill_) must be representable in an int64 self.
void check_fill_value(const Tensor& self, double value, const char* op) {
  MINIDL_CHECK(self.is_floating_point() || (std::isfinite(value) && std::fabs(value) < 9.2e18), op,
               "value " << value << " cannot be converted to the dtype " << self.dtype()
                        << " of a tensor of shape " << shape_str(self.shape()));
}

// Writes `result` (computed out of place, with a tape entry) into self, and makes self the
// output of result's entry.
Tensor& rebase(Tensor& self, const Tensor& result, const char* op) {
  MINIDL_CHECK(result.shape() == self.shape(), op,
               "result shape " << shape_str(result.shape()) << " does not match self's shape "
                               << shape_str(self.shape()));
  check_not_view(self, op);
  // self keeps its dtype (float32 += float64 stays float32); the cast is on the tape.
  Tensor value = result.dtype() == self.dtype() ? result : result.to(self.dtype());
  copy_data(self, value);
  bump_version(self);
  self.impl()->grad_fn = value.grad_fn();
  self.impl()->requires_grad = true;
  return self;
}

// A differentiable copy of `t` when it shares memory with self (backward must see the values
// from before the write), else t itself.
Tensor before_write(const Tensor& self, const Tensor& t) {
  return t.shares_storage(self) ? t.clone() : t;
}

// self[i] = f(self[i], other[i]) in self's dtype, other broadcast (no gradient involved).
template <typename F>
Tensor& write_binary(Tensor& self, const Tensor& other, const char* op, F f) {
  // A cast copy of other; also protects against other overlapping self in another layout.
  Tensor source = other;
  if (other.dtype() != self.dtype() || (other.shares_storage(self) && !other.is_same(self))) {
    source = empty(other.shape(), self.dtype());
    copy_data(source, other);
  }
  MINIDL_DISPATCH_NUMERIC(self.dtype(), op,
                          binary_loop<scalar_t, scalar_t, scalar_t>(self, self, source, f));
  bump_version(self);
  return self;
}

// self[i] = f(self[i], v) for a T tensor.
template <typename T, typename F>
void scalar_kernel(const Tensor& self, T v, F f) {
  T* p = self.data_ptr<T>();
  const int64_t n = self.numel();
  if (self.is_contiguous()) {
    parallel_for(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) p[i] = f(p[i], v);
    });
    return;
  }
  StridedIter<1> iter(self.shape(), {&self.strides()});
  iter.run([&](const std::array<int64_t, 1>& off, int64_t len, const std::array<int64_t, 1>& st) {
    T* q = p + off[0];
    for (int64_t e = 0; e < len; ++e) q[e * st[0]] = f(q[e * st[0]], v);
  });
}

// self[i] = f(self[i], s) with the scalar s converted to self's dtype (no gradient involved).
template <typename F>
Tensor& write_scalar(Tensor& self, double s, const char* op, F f) {
  MINIDL_DISPATCH_NUMERIC(self.dtype(), op,
                          scalar_kernel<scalar_t>(self, static_cast<scalar_t>(s), f));
  bump_version(self);
  return self;
}

// Scalar arithmetic into self: checks, then the tape path or the direct write.
template <typename OutOfPlace, typename F>
Tensor& scalar_inplace(Tensor& self, double value, const char* op, OutOfPlace out_of_place, F f) {
  check_writable(self, op);
  check_result_type(
      self, promote_types(self.dtype() == kBool ? kInt64 : self.dtype(), scalar_type(value)), op);
  if (needs_grad({self})) return rebase(self, out_of_place(), op);
  return write_scalar(self, value, op, f);
}

}  // namespace

// ---------------------------------------------------------------- arithmetic with a tensor

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_writable(*this, "add_");
  check_operand_shape(*this, other, "add_");
  check_result_type(*this, promote_types(other.dtype(), minidl::scalar_type(alpha)), "add_");
  // self = self + alpha other: AddBackward saves nothing, so self needs no copy
  if (needs_grad({*this, other})) return rebase(*this, minidl::add(*this, other, alpha), "add_");
  if (alpha == 1.0) return write_binary(*this, other, "add_", [](auto x, auto y) { return x + y; });
  return write_binary(*this, other, "add_", [alpha](auto x, auto y) {
    return static_cast<decltype(x)>(x + static_cast<decltype(x)>(alpha) * y);
  });
}

Tensor& Tensor::sub_(const Tensor& other, double alpha) {
  check_writable(*this, "sub_");
  check_operand_shape(*this, other, "sub_");
  check_result_type(*this, promote_types(other.dtype(), minidl::scalar_type(alpha)), "sub_");
  if (needs_grad({*this, other})) return rebase(*this, minidl::sub(*this, other, alpha), "sub_");
  if (alpha == 1.0) return write_binary(*this, other, "sub_", [](auto x, auto y) { return x - y; });
  return write_binary(*this, other, "sub_", [alpha](auto x, auto y) {
    return static_cast<decltype(x)>(x - static_cast<decltype(x)>(alpha) * y);
  });
}

Tensor& Tensor::mul_(const Tensor& other) {
  check_writable(*this, "mul_");
  check_operand_shape(*this, other, "mul_");
  check_result_type(*this, other.dtype(), "mul_");
  // MulBackward reads self when other requires grad: give it self's value from before the write
  if (needs_grad({*this, other})) {
    Tensor self_before = other.requires_grad() ? this->clone() : *this;
    return rebase(*this, minidl::mul(self_before, before_write(*this, other)), "mul_");
  }
  return write_binary(*this, other, "mul_", [](auto x, auto y) { return x * y; });
}

Tensor& Tensor::div_(const Tensor& other) {
  check_writable(*this, "div_");
  check_operand_shape(*this, other, "div_");
  check_result_type(*this, is_floating_point() ? other.dtype() : kFloat32, "div_");
  // DivBackward reads the divisor and its own output (a fresh tensor)
  if (needs_grad({*this, other}))
    return rebase(*this, minidl::div(*this, before_write(*this, other)), "div_");
  return write_binary(*this, other, "div_", [](auto x, auto y) { return x / y; });
}

// ---------------------------------------------------------------- arithmetic with a scalar

Tensor& Tensor::add_(double value) {
  return scalar_inplace(
      *this, value, "add_", [&] { return minidl::add(*this, value); },
      [](auto x, auto v) { return x + v; });
}

Tensor& Tensor::sub_(double value) {
  return scalar_inplace(
      *this, value, "sub_", [&] { return minidl::sub(*this, value); },
      [](auto x, auto v) { return x - v; });
}

Tensor& Tensor::mul_(double value) {
  return scalar_inplace(
      *this, value, "mul_", [&] { return minidl::mul(*this, value); },
      [](auto x, auto v) { return x * v; });
}

Tensor& Tensor::div_(double value) {
  check_result_type(*this, kFloat32, "div_");  // true division never fits an int64 tensor
  return scalar_inplace(
      *this, value, "div_", [&] { return minidl::div(*this, value); },
      [](auto x, auto v) { return x / v; });
}

// ---------------------------------------------------------------- clamp_, masked_fill_

Tensor& Tensor::clamp_(std::optional<double> min, std::optional<double> max) {
  check_writable(*this, "clamp_");
  // ClampBackward reads its input: give it self's value from before the write
  Tensor result = minidl::clamp(needs_grad({*this}) ? this->clone() : *this, min, max);
  check_result_type(*this, result.dtype(), "clamp_");
  if (result.requires_grad()) return rebase(*this, result, "clamp_");
  copy_data(*this, result);
  bump_version(*this);
  return *this;
}

Tensor& Tensor::masked_fill_(const Tensor& mask, double value) {
  check_writable(*this, "masked_fill_");
  MINIDL_CHECK(mask.dtype() == kBool, "masked_fill_",
               "mask must be a bool tensor, got " << mask.dtype());
  check_operand_shape(*this, mask, "masked_fill_");
  check_fill_value(*this, value, "masked_fill_");
  // WhereBackward reads only the mask
  if (needs_grad({*this}))
    return rebase(*this, minidl::masked_fill(*this, mask, value), "masked_fill_");
  MINIDL_DISPATCH_ALL(dtype(), "masked_fill_", {
    const scalar_t v = static_cast<scalar_t>(value);
    binary_loop<scalar_t, scalar_t, bool>(*this, *this, mask,
                                          [v](scalar_t x, bool m) { return m ? v : x; });
  });
  bump_version(*this);
  return *this;
}

// ---------------------------------------------------------------- fill_, zero_, copy_

Tensor& Tensor::fill_(double value) {
  check_writable(*this, "fill_");
  check_fill_value(*this, value, "fill_");
  const bool track = GradMode::is_enabled() && requires_grad();
  if (track) check_not_view(*this, "fill_");
  fill_data(*this, value);
  bump_version(*this);
  // out = value ;  the old history receives no gradient
  if (track)
    record("FillBackward2", *this, std::vector<Tensor>{}, [](const Tensor&) { return GradList{}; });
  return *this;
}

Tensor& Tensor::zero_() {
  return fill_(0.0);
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_writable(*this, "copy_");
  check_operand_shape(*this, src, "copy_");
  const bool track = needs_grad({src}) && is_floating_point() && src.is_floating_point();
  if (track || (GradMode::is_enabled() && requires_grad())) check_not_view(*this, "copy_");
  Tensor source = src.detach().expand(this->shape());
  if (src.shares_storage(*this)) source = source.clone();  // overlapping copy: go through a buffer
  copy_data(*this, source);
  bump_version(*this);
  // self = src (broadcast, cast) ;  dsrc = dout summed back to src's shape, the old self gets none
  if (track) {
    Shape src_shape = src.shape();
    DType src_dtype = src.dtype();
    record("CopyBackwards", *this, {src}, [src_shape, src_dtype](const Tensor& g) {
      return GradList{sum_to(g, src_shape).to(src_dtype)};
    });
  } else if (GradMode::is_enabled() && requires_grad()) {
    record("CopyBackwards", *this, std::vector<Tensor>{}, [](const Tensor&) { return GradList{}; });
  }
  return *this;
}

// ---------------------------------------------------------------- random fills

namespace {
template <typename Draw>
Tensor& random_fill_(Tensor& self, const char* op, const char* backward_name, Draw draw) {
  check_writable(self, op);
  const bool track = GradMode::is_enabled() && self.requires_grad();
  if (track) check_not_view(self, op);
  Generator& g = default_generator();
  {
    std::lock_guard<std::mutex> lock(g.mutex);
    MINIDL_DISPATCH_FLOATING(self.dtype(), op, {
      scalar_t* p = self.data_ptr<scalar_t>();
      StridedIter<1> iter(self.shape(), {&self.strides()});
      iter.for_range(
          0, self.numel(),
          [&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
            for (int64_t e = 0; e < n; ++e) p[off[0] + e * st[0]] = static_cast<scalar_t>(draw(g));
          });
    });
  }
  bump_version(self);
  // out = random values ;  the old history receives no gradient
  if (track)
    record(backward_name, self, std::vector<Tensor>{}, [](const Tensor&) { return GradList{}; });
  return self;
}
}  // namespace

Tensor& Tensor::uniform_(double from, double to) {
  MINIDL_CHECK(from <= to, "uniform_", "from (" << from << ") must not exceed to (" << to << ")");
  return random_fill_(*this, "uniform_", "UniformBackward0",
                      [from, to](Generator& g) { return from + (to - from) * g.uniform(); });
}

Tensor& Tensor::normal_(double mean, double std) {
  MINIDL_CHECK(std >= 0, "normal_", "std must be non-negative, got " << std);
  return random_fill_(*this, "normal_", "NormalBackward0",
                      [mean, std](Generator& g) { return mean + std * g.normal(); });
}

}  // namespace minidl
