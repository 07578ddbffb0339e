// nonzero, masked_select and indexing with tensors (ops/masked_select.cpp): values as
// torch.nonzero / torch.masked_select / x[index] give them, gradients, and the error paths.
#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::leaf;
using minidl::testing::transposed_leaf;

TEST_CASE("nonzero lists positions in row-major order", "[masked_select]") {
  Tensor x = tensor({{0.0, 1.5, 0.0}, {-2.0, 0.0, 3.0}});
  Tensor nz = nonzero(x);
  CHECK(nz.shape() == Shape{3, 2});
  CHECK(nz.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 1, 0, 1, 2});
  CHECK(nonzero(tensor({false, true})).to_vector<int64_t>() == std::vector<int64_t>{1});
  CHECK(nonzero(zeros({2, 2})).shape() == Shape{0, 2});
  CHECK(nonzero(scalar_tensor(1.0)).shape() == Shape{1, 0});
}

TEST_CASE("masked_select picks the true positions, broadcasting", "[masked_select]") {
  Tensor x = arange(6, kFloat64).view({2, 3});
  Tensor mask = tensor({true, false, true});  // broadcast over rows
  CHECK(masked_select(x, mask).to_vector<double>() == std::vector<double>{0, 2, 3, 5});
  // The mask may be the larger one: x broadcast to it.
  Tensor col = tensor({{1.0}, {2.0}});
  CHECK(masked_select(col, tensor({{true, true}, {false, true}})).to_vector<double>() ==
        std::vector<double>{1, 1, 2});
  CHECK(masked_select(x, x.gt(100)).numel() == 0);
  manual_seed(7);
  Tensor keep =
      tensor({{true, false, true, true}, {false, true, false, true}, {true, true, false, false}});
  check_gradients([&](const std::vector<Tensor>& in) { return masked_select(in[0], keep); },
                  {transposed_leaf({3, 4})});
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        return masked_select(in[0].expand({3, 4}), keep);
      },
      {leaf({1, 4})});
  CHECK_THROWS_WITH(masked_select(x, x), Contains("masked_select") && Contains("bool"));
  CHECK_THROWS_WITH(masked_select(x, tensor({true, false})),
                    Contains("masked_select") && Contains("[2, 3]"));
}

TEST_CASE("t[index] and t[mask] index dim 0 as PyTorch's advanced indexing", "[masked_select]") {
  Tensor t = arange(12, kFloat64).view({3, 4});
  Tensor rows = t[tensor({2, -3})];
  CHECK(rows.shape() == Shape{2, 4});
  CHECK(rows.to_vector<double>() == std::vector<double>{8, 9, 10, 11, 0, 1, 2, 3});
  CHECK(t[tensor({{0, 1}, {1, 2}})].shape() == Shape{2, 2, 4});
  CHECK(t[tensor({true, false, true})].to_vector<double>() ==
        std::vector<double>{0, 1, 2, 3, 8, 9, 10, 11});
  CHECK(t[t.gt(9.5)].to_vector<double>() == std::vector<double>{10, 11});
  CHECK(t[scalar_tensor(1.0, kBool)].shape() == Shape{1, 3, 4});
  Tensor x = ones({3, 2}, kFloat64).requires_grad_();
  x[tensor({0, 0, 2})].sum().backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 2, 0, 0, 1, 1});
  CHECK_THROWS_WITH(t[tensor({3})], Contains("index_select") && Contains("3"));
  CHECK_THROWS_WITH(t[tensor({1.0})], Contains("operator[]") && Contains("float32"));
  CHECK_THROWS_WITH(t[tensor({true, false})], Contains("operator[]") && Contains("[3, 4]"));
  CHECK_THROWS_WITH(scalar_tensor(1.0)[tensor({0})], Contains("operator[]") && Contains("0-d"));
}
