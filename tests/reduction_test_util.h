// Helpers shared by the reduction tests (tests/test_reduction.cpp, tests/test_reduction_stats.cpp).
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tests/fixture.h"
#include "tests/test_util.h"

namespace minidl::reduction_testing {

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::cos_upstream;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The same values in three layouts: contiguous, stored with the dims reversed (a permuted
// view), and every other element of a wider tensor along the last dim.
inline std::vector<Tensor> layouts(const Tensor& t) {
  std::vector<int64_t> reversed;
  for (int64_t d = t.dim() - 1; d >= 0; --d) reversed.push_back(d);
  Tensor permuted = t.permute(reversed).contiguous().permute(reversed);
  Shape wide = t.shape();
  wide.back() *= 2;
  Tensor strided = zeros(wide, t.dtype());
  strided.slice(-1, 0, std::nullopt, 2).copy_(t);
  strided = strided.slice(-1, 0, std::nullopt, 2);
  CHECK_FALSE(permuted.is_contiguous());
  CHECK_FALSE(strided.is_contiguous());
  return {t.clone(), permuted, strided};
}

// Checks f(x) and d<r, f(x)>/dx against fixture `name` (_out, and _dx unless absent) for x in
// every layout.
inline void check_against_fixture(const Fixtures& fx, const std::string& name, const Tensor& x,
                                  const std::function<Tensor(const Tensor&)>& f,
                                  bool with_grad = true) {
  INFO(name);
  for (const Tensor& stored : layouts(x)) {
    Tensor input = stored.detach().requires_grad_();
    Tensor out = f(input);
    CHECK(allclose(out, fx[name + "_out"], 1e-6, 1e-9));
    if (!with_grad) continue;
    out.backward(cos_upstream(out.shape()));
    CHECK(allclose(input.grad(), fx[name + "_dx"], 1e-6, 1e-9));
  }
}

// f over inputs (gradcheck in float64) for x contiguous, transposed and strided.
inline void check_gradients_all_layouts(const Shape& shape,
                                        const std::function<Tensor(const Tensor&)>& f) {
  for (const Tensor& x : {leaf(shape), transposed_leaf(shape), strided_leaf(shape)})
    check_gradients([&](const std::vector<Tensor>& in) { return f(in[0]); }, {x});
}

// The dim sets the gradchecks sweep for a 3-d input.
inline const std::vector<std::vector<int64_t>> kDimSets = {{}, {0}, {-1}, {1}, {0, 2}, {-1, -2}};

inline bool is_nan(const Tensor& t) {
  return std::isnan(t.item());
}

}  // namespace minidl::reduction_testing
