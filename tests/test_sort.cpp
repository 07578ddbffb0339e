// sort, argsort, topk (ops/sort.cpp): PyTorch reference values and gradients
// (tools/fixtures/gen_sort.py), stability and NaN order, gradchecks on non-contiguous inputs,
// and the error paths.
#include <cmath>
#include <limits>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

const minidl::testing::Fixtures& fx() {
  static const minidl::testing::Fixtures fixtures("sort.txt");
  return fixtures;
}

// The fixture input as a non-contiguous leaf (stored transposed) with the same values.
Tensor transposed_fixture_leaf(const std::string& name) {
  Tensor x = fx()[name];
  return x.transpose(0, -1).contiguous().transpose(0, -1).detach().requires_grad_();
}

bool same_ints(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<int64_t>() == b.to_vector<int64_t>();
}

}  // namespace

TEST_CASE("sort matches torch.sort(stable=True): values, indices and gradient", "[sort]") {
  struct Case {
    const char* name;
    int64_t dim;
    bool descending;
  };
  for (const Case& c : {Case{"sort_d1", 1, false}, Case{"sort_d0_desc", 0, true},
                        Case{"sort_3d_mid", 1, true}, Case{"sort_last", -1, false}}) {
    INFO(c.name);
    Tensor x = transposed_fixture_leaf(std::string(c.name) + "_x");
    REQUIRE_FALSE(x.is_contiguous());
    auto [values, indices] = sort(x, c.dim, c.descending);
    CHECK(indices.dtype() == kInt64);
    CHECK(same_ints(indices, fx()[std::string(c.name) + "_indices"]));
    minidl::testing::check_against(fx(), c.name, values, {{"x", x}});
  }
}

TEST_CASE("argsort and the method forms agree with sort", "[sort]") {
  Tensor x = fx()["argsort_x"];
  CHECK(same_ints(argsort(x, 1, true), fx()["argsort_d1_desc"]));
  CHECK(same_ints(x.argsort(1, true), fx()["argsort_d1_desc"]));
  auto [values, indices] = x.sort(1, true);
  CHECK(same_ints(indices, fx()["argsort_d1_desc"]));
  CHECK(allclose(values, x.gather(1, indices)));
  // argsort is an index: no tape entry even for a leaf that requires grad.
  Tensor y = x.clone().requires_grad_();
  CHECK_FALSE(y.argsort().requires_grad());
}

TEST_CASE("sort puts NaN last ascending and first descending, ties in order", "[sort]") {
  Tensor x = fx()["sort_nan_x"];
  for (const char* suffix : {"asc", "desc"}) {
    INFO(suffix);
    auto [values, indices] = sort(x, 1, std::string(suffix) == "desc");
    CHECK(allclose(values, fx()[std::string("sort_nan_") + suffix + "_values"]));
    CHECK(same_ints(indices, fx()[std::string("sort_nan_") + suffix + "_indices"]));
  }
  // Stability on a long run of ties, both directions.
  Tensor ties = tensor({1, 0, 1, 0, 1, 0});
  CHECK(argsort(ties).to_vector<int64_t>() == std::vector<int64_t>{1, 3, 5, 0, 2, 4});
  CHECK(argsort(ties, 0, true).to_vector<int64_t>() == std::vector<int64_t>{0, 2, 4, 1, 3, 5});
}

TEST_CASE("sort handles every dtype, 0-d and empty tensors", "[sort]") {
  auto [b, bi] = sort(tensor({true, false, true}));
  CHECK(b.to_vector<bool>() == std::vector<bool>{false, true, true});
  CHECK(bi.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 2});
  auto [f, fi] = sort(tensor({2.5f, -1.0f, 0.0f}), 0, true);
  CHECK(f.dtype() == kFloat32);
  CHECK(f.to_vector<float>() == std::vector<float>{2.5f, 0.0f, -1.0f});
  auto [s, si] = sort(scalar_tensor(3.0));
  CHECK(s.dim() == 0);
  CHECK(si.item<int64_t>() == 0);
  auto [e, ei] = sort(zeros({2, 0}), 1);
  CHECK(e.shape() == Shape{2, 0});
  CHECK(ei.shape() == Shape{2, 0});
}

TEST_CASE("topk matches torch.topk: values, indices and gradient", "[sort]") {
  struct Case {
    const char* name;
    int64_t k, dim;
    bool largest;
  };
  for (const Case& c : {Case{"topk_k2_d1", 2, 1, true}, Case{"topk_k3_d0_smallest", 3, 0, false},
                        Case{"topk_3d_last", 1, -1, true}}) {
    INFO(c.name);
    Tensor x = transposed_fixture_leaf(std::string(c.name) + "_x");
    auto [values, indices] = x.topk(c.k, c.dim, c.largest);
    CHECK(same_ints(indices, fx()[std::string(c.name) + "_indices"]));
    minidl::testing::check_against(fx(), c.name, values, {{"x", x}});
  }
  // k = 0 and k = n, float32 and int64.
  Tensor v = tensor({3.0f, 1.0f, 2.0f});
  CHECK(std::get<0>(topk(v, 0)).numel() == 0);
  CHECK(std::get<0>(topk(v, 3)).to_vector<float>() == std::vector<float>{3.0f, 2.0f, 1.0f});
  CHECK(std::get<1>(topk(tensor({5, 9, 7}), 2)).to_vector<int64_t>() == std::vector<int64_t>{1, 2});
}

TEST_CASE("sort and topk gradients pass gradcheck on non-contiguous inputs", "[sort]") {
  manual_seed(3);
  check_gradients([](const std::vector<Tensor>& in) { return std::get<0>(sort(in[0], 0)); },
                  {transposed_leaf({4, 5})});
  check_gradients([](const std::vector<Tensor>& in) { return std::get<0>(sort(in[0], -1, true)); },
                  {strided_leaf({3, 6})});
  check_gradients([](const std::vector<Tensor>& in) { return std::get<0>(topk(in[0], 2, 0)); },
                  {transposed_leaf({2, 5, 3})});
  check_gradients(
      [](const std::vector<Tensor>& in) { return std::get<0>(topk(in[0], 3, -1, false)); },
      {strided_leaf({2, 7})});
  // Broadcast (expanded) input: the copies' gradients add up.
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return std::get<0>(sort(in[0].expand({3, 4}), 0, true)) * arange(12, kFloat64).view({3, 4});
      },
      {leaf({1, 4})});
}

TEST_CASE("sort and topk reject bad arguments", "[sort]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH(sort(x, 2), Contains("sort") && Contains("2"));
  CHECK_THROWS_WITH(topk(x, 4), Contains("topk") && Contains("k = 4") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(topk(x, -1), Contains("topk") && Contains("k = -1"));
  CHECK_THROWS_WITH(topk(x, 1, -3), Contains("topk"));
  CHECK_THROWS_WITH(topk(tensor({true, false}), 1), Contains("topk") && Contains("bool"));
  CHECK_THROWS_WITH(sort(Tensor()), Contains("sort") && Contains("undefined"));
}
