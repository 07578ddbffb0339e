// View ops (ops/view.cpp): no copies, values vs PyTorch, gradients, errors.
#include <limits>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::indexing;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::transposed_leaf;

TEST_CASE("views share storage and match PyTorch", "[view]") {
  Fixtures fx("core.txt");
  Tensor base = fx["base"];  // arange(60) as [3, 4, 5], float64
  Tensor p = base.permute({2, 0, 1});
  CHECK(p.shares_storage(base));
  CHECK_FALSE(p.is_contiguous());
  CHECK(allclose(p, fx["permute_201"], 0, 0));
  CHECK(allclose(base.index({Slice(), Slice(1, None, 2), Slice(None, None, 3)}), fx["slice_step"],
                 0, 0));
  CHECK(allclose(base.index({Slice(-2, None), Slice(None, -1), Slice(-3, None)}),
                 fx["slice_negative"], 0, 0));
  CHECK(allclose(base.index({1, Ellipsis, None, Slice(2, 4)}), fx["index_mixed"], 0, 0));
  CHECK(allclose(base.select(-1, -1), fx["select_last"], 0, 0));
  CHECK(allclose(base.transpose(0, 2).reshape({-1, 6}), fx["transpose_view"], 0, 0));
  CHECK(allclose(base.flatten(0, 1).unflatten(0, {2, 6}), fx["unflatten"], 0, 0));
  CHECK(allclose(arange(3, kFloat64).reshape({3, 1}).expand({2, 3, 4}), fx["expand"], 0, 0));
}

TEST_CASE("a write through a view is seen by its base", "[view]") {
  Tensor base = zeros({3, 4});
  Tensor column = base.select(1, 2);
  column.fill_(5.0);
  CHECK(base.sum().item() == 15.0);
  CHECK(base.index({1, 2}).item() == 5.0);
  CHECK(base._version() == 1);  // the version counter is shared by views
}

TEST_CASE("reshape views when it can and copies when it must", "[view]") {
  Tensor a = arange(12, kFloat32).reshape({3, 4});
  CHECK(a.reshape({2, 6}).shares_storage(a));
  Tensor t = a.t();
  Tensor flat = t.reshape({12});  // a transposed tensor cannot be flattened without a copy
  CHECK_FALSE(flat.shares_storage(a));
  CHECK(flat.to_vector<float>()[1] == 4.0f);
  CHECK_THROWS_WITH(t.view({12}), Catch::Contains("view") && Catch::Contains("reshape"));
  CHECK(t.view({4, 3}).shape() == Shape{4, 3});  // same shape is fine
  CHECK(a.view({-1}).shape() == Shape{12});
  CHECK(a.unsqueeze(1).view({3, 4}).shares_storage(a));
}

TEST_CASE("squeeze, unsqueeze, flatten, expand shapes", "[view]") {
  Tensor a = zeros({2, 1, 3, 1});
  CHECK(a.squeeze().shape() == Shape{2, 3});
  CHECK(a.squeeze(1).shape() == Shape{2, 3, 1});
  CHECK(a.squeeze(0).shape() == Shape{2, 1, 3, 1});
  CHECK(a.unsqueeze(-1).shape() == Shape{2, 1, 3, 1, 1});
  CHECK(a.unsqueeze(0).shape() == Shape{1, 2, 1, 3, 1});
  CHECK(a.flatten().shape() == Shape{6});
  CHECK(a.flatten(1).shape() == Shape{2, 3});
  CHECK(zeros({3, 1}).expand({2, -1, 4}).shape() == Shape{2, 3, 4});
  CHECK(zeros({3, 1}).expand({2, -1, 4}).strides()[0] == 0);
  CHECK(scalar_tensor(1.0).unsqueeze(0).shape() == Shape{1});
  CHECK(scalar_tensor(1.0).flatten().shape() == Shape{1});
}

TEST_CASE("views are differentiable", "[view]") {
  manual_seed(3);
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return in[0].permute({2, 0, 1}) * 2.0;
      },
      {leaf({2, 3, 4})});
  check_gradients([](const std::vector<Tensor>& in) { return in[0].t().reshape({-1}); },
                  {transposed_leaf({3, 4})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return in[0].index({Slice(1, None, 2), -1, None});
      },
      {leaf({5, 3})});
  check_gradients([](const std::vector<Tensor>& in) { return in[0].narrow(1, 1, 2).exp(); },
                  {transposed_leaf({3, 4})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return in[0].expand({2, 3, 4}) * in[1];
      },
      {leaf({3, 1}), leaf({2, 3, 4})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return in[0].unsqueeze(0).squeeze(0).flatten().view({4, 3});
      },
      {leaf({3, 4})});
  check_gradients(
      [](const std::vector<Tensor>& in) { return in[0].select(0, 1) + in[0].select(0, 0); },
      {leaf({2, 3})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return in[0].unflatten(1, {2, 2}).transpose(0, 2);
      },
      {leaf({3, 4})});
  check_gradients([](const std::vector<Tensor>& in) { return in[0].contiguous() * in[0].clone(); },
                  {transposed_leaf({3, 4})});
}

TEST_CASE("view ops reject bad arguments", "[view]") {
  Tensor a = zeros({2, 3});
  CHECK_THROWS_WITH(a.view({4, 2}), Catch::Contains("view") && Catch::Contains("6"));
  CHECK_THROWS_WITH(a.view({-1, -1}), Catch::Contains("only one dimension can be -1"));
  // The known sizes' product past 64 bits (fuzz_shapes found it overflowing, UB, before).
  const int64_t huge = int64_t(3) << 60;
  CHECK_THROWS_WITH(a.view({huge, 4, -1}), Catch::Contains("view") && Catch::Contains("invalid"));
  CHECK_THROWS_WITH(a.reshape({-1, huge, huge}), Catch::Contains("reshape"));
  CHECK_THROWS_WITH(a.transpose(0, 2),
                    Catch::Contains("transpose") && Catch::Contains("out of range"));
  CHECK_THROWS_WITH(a.permute({0, 0}), Catch::Contains("permute") && Catch::Contains("repeated"));
  CHECK_THROWS_WITH(a.permute({0}), Catch::Contains("permute") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(a.select(1, 3), Catch::Contains("select") && Catch::Contains("index 3"));
  CHECK_THROWS_WITH(a.narrow(0, 1, 2), Catch::Contains("narrow") && Catch::Contains("size 2"));
  CHECK_THROWS_WITH(a.slice(0, 0, 2, 0), Catch::Contains("slice") && Catch::Contains("step"));
  // A step near 2^63 takes one element (it used to overflow computing the length and stride).
  const int64_t max_step = std::numeric_limits<int64_t>::max();
  CHECK(a.slice(1, 0, 3, max_step).shape() == Shape{2, 1});
  CHECK(a.slice(1, 1, 3, max_step - 1).shape() == Shape{2, 1});
  CHECK(a.slice(1, 2, 1, max_step).shape() == Shape{2, 0});
  CHECK_THROWS_WITH(a.narrow(1, 2, max_step),
                    Catch::Contains("narrow") && Catch::Contains("exceed"));
  // Empty with a huge dim: unsqueeze before it works (its stride * size overflowed before).
  Tensor empty_wide = zeros({0, 2}).expand({int64_t(1) << 62, 0, 2});
  CHECK(empty_wide.unsqueeze(0).shape() == Shape{1, int64_t(1) << 62, 0, 2});
  // ... and slicing or selecting far along it (index * stride overflowed).
  const int64_t last = (int64_t(1) << 61) - 1;
  Tensor far = zeros({int64_t(1) << 61, 0, 40});  // strides [40, 40, 1]
  CHECK(far.slice(0, last).shape() == Shape{1, 0, 40});
  CHECK(far.select(0, last).shape() == Shape{0, 40});
  CHECK_THROWS_WITH(a.expand({3, 3}), Catch::Contains("expand") && Catch::Contains("[3, 3]"));
  CHECK_THROWS_WITH(a.expand({3}), Catch::Contains("expand") && Catch::Contains("fewer"));
  CHECK_THROWS_WITH(a.index({0, 0, 0}), Catch::Contains("index") && Catch::Contains("too many"));
  CHECK_THROWS_WITH(a.index({Ellipsis, Ellipsis}), Catch::Contains("single ellipsis"));
  CHECK_THROWS_WITH(a.flatten(1, 0), Catch::Contains("flatten"));
  CHECK_THROWS_WITH(a.unflatten(1, {2, 2}), Catch::Contains("unflatten"));
  CHECK_THROWS_WITH(zeros({3}).t().t().size(1),
                    Catch::Contains("size") && Catch::Contains("out of range"));
  CHECK_THROWS_WITH(zeros({2, 3, 4}).t(), Catch::Contains("t") && Catch::Contains("[2, 3, 4]"));
}
