// normalize and cosine_similarity (see ops/similarity.h), composed of differentiable ops (norm,
// clamp_min, div, mul, sum), so each backward is the chain of theirs.
#include "ops/similarity.h"

#include "core/shape.h"
#include "ops/clamp.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

void check_operand(const Tensor& x, const char* op, const char* name) {
  MINIDL_CHECK(x.defined(), op, name << " is undefined");
  MINIDL_CHECK(x.is_floating_point(), op,
               "expects a floating-point " << name << ", got " << x.dtype() << " of shape "
                                           << shape_str(x.shape()));
}

// dim wrapped into [0, ndim), or an error naming op and the shape.
int64_t wrap_dim(int64_t dim, const Shape& shape, const char* op) {
  int64_t ndim = static_cast<int64_t>(shape.size());
  MINIDL_CHECK(ndim > 0 && dim >= -ndim && dim < ndim, op,
               "dim " << dim << " is out of range for shape " << shape_str(shape));
  return dim < 0 ? dim + ndim : dim;
}

// x / max(||x||_p, eps) along d (kept, broadcast back over it)
Tensor divide_by_norm(const Tensor& x, double p, int64_t d, double eps) {
  return x / clamp_min(norm(x, p, {d}, /*keepdim=*/true), eps);
}

}  // namespace

Tensor normalize(const Tensor& x, double p, int64_t dim, double eps) {
  check_operand(x, "normalize", "input");
  MINIDL_CHECK(eps >= 0.0, "normalize", "eps must be >= 0, got " << eps);
  int64_t d = wrap_dim(dim, x.shape(), "normalize");
  // y = x / max(||x||_p, eps) ;  dx: the chain rule through div, clamp_min and norm
  return divide_by_norm(x, p, d, eps);
}

Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim, double eps) {
  check_operand(x1, "cosine_similarity", "x1");
  check_operand(x2, "cosine_similarity", "x2");
  MINIDL_CHECK(x1.dtype() == x2.dtype(), "cosine_similarity",
               "x1 is " << x1.dtype() << " but x2 is " << x2.dtype() << " (shapes "
                        << shape_str(x1.shape()) << " and " << shape_str(x2.shape()) << ")");
  MINIDL_CHECK(eps >= 0.0, "cosine_similarity", "eps must be >= 0, got " << eps);
  Shape common = broadcast_shapes(x1.shape(), x2.shape(), "cosine_similarity");
  int64_t d = wrap_dim(dim, common, "cosine_similarity");
  // out = sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps), dim) ;  the chain rule
  return sum(divide_by_norm(x1.expand(common), 2.0, d, eps) *
                 divide_by_norm(x2.expand(common), 2.0, d, eps),
             {d});
}

}  // namespace minidl
