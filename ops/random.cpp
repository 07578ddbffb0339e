// bernoulli and the in-place integer and Bernoulli fills: a uniform draw per element, turned
// into the sample. The in-place forms write through copy_, so versions and the tape stay right.
#include "ops/random.h"

#include <algorithm>

#include "core/factories.h"
#include "ops/compare.h"

namespace minidl {

Tensor bernoulli(const Tensor& p) {
  MINIDL_CHECK(p.defined() && p.is_floating_point(), "bernoulli",
               "expects a floating-point probability tensor");
  const std::vector<double> values = p.to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i)
    MINIDL_CHECK(values[i] >= 0 && values[i] <= 1, "bernoulli",
                 "probability " << values[i] << " at position "
                                << index_str(p.shape(), static_cast<int64_t>(i))
                                << " is outside [0, 1]");
  // sample = (u < p) with u uniform in [0, 1): 1 with probability p
  return lt(rand(p.shape(), kFloat64), p.detach()).to(p.dtype());
}

Tensor bernoulli(const Tensor& x, double p) {
  MINIDL_CHECK(x.defined(), "bernoulli", "the input tensor is undefined");
  Tensor out = empty(x.shape(), x.dtype());
  out.bernoulli_(p);
  return out;
}

Tensor& Tensor::bernoulli_(double p) {
  MINIDL_CHECK(p >= 0 && p <= 1, "bernoulli_", "probability " << p << " is outside [0, 1]");
  return copy_(minidl::lt(rand(shape(), kFloat64), p));
}

Tensor& Tensor::random_(int64_t from, int64_t to) {
  MINIDL_CHECK(from < to, "random_", "empty range [" << from << ", " << to << ")");
  MINIDL_CHECK(dtype() != kBool || (from >= 0 && to <= 2), "random_",
               "range [" << from << ", " << to << ") does not fit a bool tensor");
  return copy_(randint(from, to, shape(), kInt64));
}

Tensor& Tensor::random_(int64_t to) {
  return random_(0, to);
}

}  // namespace minidl
