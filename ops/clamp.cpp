// clamp with tensor bounds, clamp_min and clamp_max (see ops/clamp.h): one broadcast elementwise
// loop forward; backward, one mask per operand that wants a gradient, with its condition above it.
#include "ops/clamp.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/shape.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point<T>::value) {
    return std::isnan(v);
  } else {
    (void)v;
    return false;
  }
}

// t converted to dtype d, without a tape entry (the op records its own).
Tensor cast(const Tensor& t, DType d) {
  if (t.dtype() == d) return t;
  Tensor out = empty(t.shape(), d);
  copy_data(out, t);
  return out;
}

// Which bounds a clamp has; the conditions of its backward (see ops/clamp.h).
struct Bounds {
  bool lo, hi;
  template <typename T>
  bool x_passes(T v, T l, T h) const {  // lo <= x <= hi
    return (!lo || v >= l) && (!hi || v <= h);
  }
  template <typename T>
  bool lo_binds(T v, T l, T h) const {  // x < lo, and lo < hi when both are given
    return v < l && (!hi || l < h);
  }
  template <typename T>
  bool hi_binds(T v, T l, T h) const {  // x > hi, or hi < lo
    return v > h || (lo && h < l);
  }
};

// A tensor of `shape` and dtype d holding 1 where cond(x, lo, hi) holds, else 0; an absent
// bound is read as a 0-d zero (the conditions ignore it).
template <typename Cond>
Tensor mask_where(const Shape& shape, DType d, const Tensor& x, const Tensor& lo, const Tensor& hi,
                  Cond cond) {
  Tensor out = empty(shape, d);
  const Tensor zero = zeros({}, d);
  const Tensor cx = cast(x, d), clo = lo.defined() ? cast(lo, d) : zero;
  const Tensor chi = hi.defined() ? cast(hi, d) : zero;
  MINIDL_DISPATCH_FLOATING(d, "ClampBackward0", {
    ternary_loop<scalar_t, scalar_t, scalar_t, scalar_t>(
        out, cx, clo, chi, [cond](scalar_t v, scalar_t l, scalar_t h) {
          return cond(v, l, h) ? scalar_t(1) : scalar_t(0);
        });
  });
  return out;
}

Tensor clamp_tensors(const Tensor& x, const Tensor& lo, const Tensor& hi, const char* op,
                     const char* backward_name) {
  MINIDL_CHECK(x.defined(), op, "input is undefined");
  MINIDL_CHECK(lo.defined() || hi.defined(), op, "at least one of min and max must be given");
  MINIDL_CHECK(x.dtype() != kBool, op,
               "cannot clamp a bool tensor (shape " << shape_str(x.shape()) << ")");
  DType dtype = x.dtype();
  Shape shape = x.shape();
  for (const auto& [bound, name] :
       {std::pair<const Tensor&, const char*>{lo, "min"}, {hi, "max"}}) {
    if (!bound.defined()) continue;
    MINIDL_CHECK(
        bound.dtype() != kBool, op,
        "the " << name << " bound is a bool tensor (shape " << shape_str(bound.shape()) << ")");
    dtype = promote_types(dtype, bound.dtype());
    shape = broadcast_shapes(shape, bound.shape(), op);
  }
  Tensor out = empty(shape, dtype);
  const Tensor cx = cast(x, dtype);
  MINIDL_DISPATCH_NUMERIC(dtype, op, {
    // lo first, then hi (lo > hi gives hi); a NaN in x or in a bound gives NaN.
    auto raise = [](scalar_t v, scalar_t l) { return (v < l || is_nan(l)) ? l : v; };
    auto lower = [](scalar_t v, scalar_t h) { return (v > h || is_nan(h)) ? h : v; };
    if (lo.defined() && hi.defined()) {
      ternary_loop<scalar_t, scalar_t, scalar_t, scalar_t>(
          out, cx, cast(lo, dtype), cast(hi, dtype),
          [raise, lower](scalar_t v, scalar_t l, scalar_t h) { return lower(raise(v, l), h); });
    } else if (lo.defined()) {
      binary_loop<scalar_t, scalar_t, scalar_t>(out, cx, cast(lo, dtype), raise);
    } else {
      binary_loop<scalar_t, scalar_t, scalar_t>(out, cx, cast(hi, dtype), lower);
    }
  });
  // out = min(max(x, lo), hi) ;  dx = dout [lo <= x <= hi] ,  dlo = dout [x < lo and lo < hi] ,
  // dhi = dout [x > hi or hi < lo]   (each summed back to its operand's shape; see ops/clamp.h)
  if (needs_grad({x, lo, hi})) {
    const Bounds bounds{lo.defined(), hi.defined()};
    const bool want_x = x.requires_grad(), want_lo = lo.defined() && lo.requires_grad();
    const bool want_hi = hi.defined() && hi.requires_grad();
    const Shape x_shape = x.shape(), lo_shape = lo.defined() ? lo.shape() : Shape{};
    const Shape hi_shape = hi.defined() ? hi.shape() : Shape{};
    record(backward_name, out, {x, lo, hi},
           [=, saved_x = SavedTensor(x), saved_lo = SavedTensor(lo),
            saved_hi = SavedTensor(hi)](const Tensor& grad) {
             const Tensor &xv = saved_x.get(), &lv = saved_lo.get(), &hv = saved_hi.get();
             auto part = [&](auto cond, const Shape& to) {
               return sum_to(grad * mask_where(shape, grad.dtype(), xv, lv, hv, cond), to);
             };
             Tensor dx, dlo, dhi;
             if (want_x)
               dx = part([bounds](auto v, auto l, auto h) { return bounds.x_passes(v, l, h); },
                         x_shape);
             if (want_lo)
               dlo = part([bounds](auto v, auto l, auto h) { return bounds.lo_binds(v, l, h); },
                          lo_shape);
             if (want_hi)
               dhi = part([bounds](auto v, auto l, auto h) { return bounds.hi_binds(v, l, h); },
                          hi_shape);
             return GradList{dx, dlo, dhi};
           });
  }
  return out;
}

Tensor bound_or_none(const std::optional<Tensor>& bound) {
  return bound ? *bound : Tensor();
}

}  // namespace

Tensor clamp(const Tensor& x, const std::optional<Tensor>& min, const std::optional<Tensor>& max) {
  // out = min(max(x, lo), hi) ;  dx = dout [lo <= x <= hi] ,  dlo = dout [x < lo and lo < hi] ,
  //   dhi = dout [x > hi or hi < lo]   (the tape entry is in clamp_tensors above)
  // derivation: out equals exactly one of x, lo, hi at each element (the one that binds), so
  //   dout flows to that one only; lo > hi gives hi (PyTorch's order: max with lo, then min with
  //   hi); tensor bounds broadcast, so dlo, dhi are summed back to the bounds' shapes
  return clamp_tensors(x, bound_or_none(min), bound_or_none(max), "clamp", "ClampBackward0");
}

Tensor clamp_min(const Tensor& x, double min) {
  return clamp(x, min, std::nullopt);
}
Tensor clamp_min(const Tensor& x, const Tensor& min) {
  MINIDL_CHECK(min.defined(), "clamp_min", "the min bound is undefined");
  // out = max(x, min) ;  dx = dout [x >= min] ,  dmin = dout [x < min]   (summed to min's shape)
  return clamp_tensors(x, min, Tensor(), "clamp_min", "ClampMinBackward0");
}
Tensor clamp_max(const Tensor& x, double max) {
  return clamp(x, std::nullopt, max);
}
Tensor clamp_max(const Tensor& x, const Tensor& max) {
  MINIDL_CHECK(max.defined(), "clamp_max", "the max bound is undefined");
  // out = min(x, max) ;  dx = dout [x <= max] ,  dmax = dout [x > max]   (summed to max's shape)
  return clamp_tensors(x, Tensor(), max, "clamp_max", "ClampMaxBackward0");
}

Tensor Tensor::clamp(const std::optional<Tensor>& min, const std::optional<Tensor>& max) const {
  return minidl::clamp(*this, min, max);
}
Tensor Tensor::clamp_min(double min) const {
  return minidl::clamp_min(*this, min);
}
Tensor Tensor::clamp_min(const Tensor& min) const {
  return minidl::clamp_min(*this, min);
}
Tensor Tensor::clamp_max(double max) const {
  return minidl::clamp_max(*this, max);
}
Tensor Tensor::clamp_max(const Tensor& max) const {
  return minidl::clamp_max(*this, max);
}

}  // namespace minidl
