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
// Two cases are refused with an error, as in PyTorch: a leaf that requires grad (its .grad
// would no longer match its value) and a view (its base's history would silently go stale).
#include "core/autograd.h"
#include "core/factories.h"
#include "core/generator.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

void bump_version(const Tensor& self) { ++self.impl()->storage->version; }

// Refuses in-place writes that would make the tape wrong.
void check_writable(const Tensor& self, const char* op) {
  if (!GradMode::is_enabled()) return;
  MINIDL_CHECK(!(self.is_leaf() && self.requires_grad()), op,
               "a leaf tensor of shape " << shape_str(self.shape())
                                         << " that requires grad cannot be modified in place "
                                            "(wrap the update in NoGradGuard)");
}

// Writes `result` (computed out of place, possibly with a tape entry) into self, and makes
// self the output of result's entry.
Tensor& rebase(Tensor& self, const Tensor& result, const char* op) {
  MINIDL_CHECK(result.shape() == self.shape(), op,
               "result shape " << shape_str(result.shape()) << " does not match self's shape "
                               << shape_str(self.shape()) << " (self cannot be broadcast)");
  check_writable(self, op);
  if (result.requires_grad()) {
    MINIDL_CHECK(!self.impl()->is_view, op,
                 "in-place operation on a view (shape " << shape_str(self.shape())
                     << ") whose result requires grad is not supported; use the out-of-place op");
  }
  copy_data(self, result);
  bump_version(self);
  if (result.requires_grad()) {
    self.impl()->grad_fn = result.grad_fn();
    self.impl()->requires_grad = true;
  }
  return self;
}

// self = f(self, other) in self's dtype, straight into self's storage (no gradient involved).
template <typename F>
Tensor& write_binary(Tensor& self, const Tensor& other, const char* op, F f) {
  Shape shape = broadcast_shapes(self.shape(), other.shape(), op);
  MINIDL_CHECK(shape == self.shape(), op,
               "operand of shape " << shape_str(other.shape()) << " does not broadcast to self's shape "
                                   << shape_str(self.shape()));
  MINIDL_CHECK(self.is_floating_point() || !other.is_floating_point(), op,
               "result of type " << other.dtype() << " cannot be written into a "
                                 << self.dtype() << " tensor");
  // A cast copy of other; also protects against other overlapping self in another layout.
  Tensor source = other;
  if (other.dtype() != self.dtype() || (other.shares_storage(self) && !other.is_same(self))) {
    source = empty(other.shape(), self.dtype());
    copy_data(source, other);
  }
  MINIDL_DISPATCH_NUMERIC(self.dtype(), op, binary_loop<scalar_t, scalar_t, scalar_t>(self, self, source, f));
  bump_version(self);
  return self;
}

template <typename F>
Tensor& write_unary(Tensor& self, const char* op, F f) {
  MINIDL_DISPATCH_NUMERIC(self.dtype(), op, {
    scalar_t* p = self.data_ptr<scalar_t>();
    StridedIter<1> iter(self.shape(), {&self.strides()});
    iter.run([&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
      for (int64_t e = 0; e < n; ++e) p[off[0] + e * st[0]] = f(p[off[0] + e * st[0]]);
    });
  });
  bump_version(self);
  return self;
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  if (needs_grad({*this, other})) return rebase(*this, minidl::add(*this, other, alpha), "add_");
  return write_binary(*this, other, "add_", [alpha](auto x, auto y) {
    return static_cast<decltype(x)>(x + static_cast<decltype(x)>(alpha) * y);
  });
}

Tensor& Tensor::sub_(const Tensor& other, double alpha) { return add_(other, -alpha); }

Tensor& Tensor::mul_(const Tensor& other) {
  if (needs_grad({*this, other})) return rebase(*this, minidl::mul(*this, other), "mul_");
  return write_binary(*this, other, "mul_", [](auto x, auto y) { return x * y; });
}

Tensor& Tensor::div_(const Tensor& other) {
  MINIDL_CHECK(is_floating_point(), "div_",
               "true division cannot be written into a " << dtype() << " tensor");
  if (needs_grad({*this, other})) return rebase(*this, minidl::div(*this, other), "div_");
  return write_binary(*this, other, "div_", [](auto x, auto y) { return x / y; });
}

Tensor& Tensor::add_(double value) {
  if (needs_grad({*this})) return rebase(*this, minidl::add(*this, value), "add_");
  MINIDL_CHECK(dtype() != kBool, "add_", "cannot add to a bool tensor");
  return write_unary(*this, "add_", [value](auto x) { return static_cast<decltype(x)>(x + value); });
}

Tensor& Tensor::sub_(double value) { return add_(-value); }

Tensor& Tensor::mul_(double value) {
  if (needs_grad({*this})) return rebase(*this, minidl::mul(*this, value), "mul_");
  MINIDL_CHECK(dtype() != kBool, "mul_", "cannot multiply a bool tensor");
  return write_unary(*this, "mul_", [value](auto x) { return static_cast<decltype(x)>(x * value); });
}

Tensor& Tensor::div_(double value) {
  MINIDL_CHECK(is_floating_point(), "div_",
               "true division cannot be written into a " << dtype() << " tensor");
  if (needs_grad({*this})) return rebase(*this, minidl::div(*this, value), "div_");
  return write_unary(*this, "div_", [value](auto x) { return static_cast<decltype(x)>(x / value); });
}

Tensor& Tensor::clamp_(std::optional<double> min, std::optional<double> max) {
  return rebase(*this, minidl::clamp(*this, min, max), "clamp_");
}

Tensor& Tensor::masked_fill_(const Tensor& mask, double value) {
  return rebase(*this, minidl::masked_fill(*this, mask, value), "masked_fill_");
}

Tensor& Tensor::fill_(double value) {
  check_writable(*this, "fill_");
  fill_data(*this, value);
  bump_version(*this);
  // out = value ;  the old history receives no gradient
  if (GradMode::is_enabled() && requires_grad())
    record("FillBackward", *this, std::vector<Tensor>{}, [](const Tensor&) { return GradList{}; });
  return *this;
}

Tensor& Tensor::zero_() { return fill_(0.0); }

Tensor& Tensor::copy_(const Tensor& src) {
  Shape shape = broadcast_shapes(this->shape(), src.shape(), "copy_");
  MINIDL_CHECK(shape == this->shape(), "copy_",
               "source of shape " << shape_str(src.shape()) << " does not broadcast to "
                                  << shape_str(this->shape()));
  check_writable(*this, "copy_");
  const bool track = needs_grad({src}) && is_floating_point() && src.is_floating_point();
  if (track)
    MINIDL_CHECK(!impl()->is_view, "copy_",
                 "copying a tensor that requires grad into a view is not supported");
  Tensor source = src.detach().expand(this->shape());
  if (src.shares_storage(*this)) source = source.clone();  // overlapping copy: go through a buffer
  copy_data(*this, source);
  bump_version(*this);
  // self = src (broadcast, cast) ;  dsrc = dout summed back to src's shape, the old self gets none
  if (track) {
    Shape src_shape = src.shape();
    DType src_dtype = src.dtype();
    record("CopyBackward", *this, {src}, [src_shape, src_dtype](const Tensor& g) {
      return GradList{sum_to(g, src_shape).to(src_dtype)};
    });
  } else if (GradMode::is_enabled() && requires_grad()) {
    record("CopyBackward", *this, std::vector<Tensor>{}, [](const Tensor&) { return GradList{}; });
  }
  return *this;
}

namespace {
template <typename Draw>
Tensor& random_fill_(Tensor& self, const char* op, Draw draw) {
  check_writable(self, op);
  Generator& g = default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  MINIDL_DISPATCH_FLOATING(self.dtype(), op, {
    scalar_t* p = self.data_ptr<scalar_t>();
    StridedIter<1> iter(self.shape(), {&self.strides()});
    iter.for_range(0, self.numel(), [&](const std::array<int64_t, 1>& off, int64_t n,
                                        const std::array<int64_t, 1>& st) {
      for (int64_t e = 0; e < n; ++e) p[off[0] + e * st[0]] = static_cast<scalar_t>(draw(g));
    });
  });
  bump_version(self);
  return self;
}
}  // namespace

Tensor& Tensor::uniform_(double from, double to) {
  MINIDL_CHECK(from <= to, "uniform_", "from (" << from << ") must not exceed to (" << to << ")");
  return random_fill_(*this, "uniform_", [from, to](Generator& g) { return from + (to - from) * g.uniform(); });
}

Tensor& Tensor::normal_(double mean, double std) {
  MINIDL_CHECK(std >= 0, "normal_", "std must be non-negative, got " << std);
  return random_fill_(*this, "normal_", [mean, std](Generator& g) { return mean + std * g.normal(); });
}

}  // namespace minidl
