// cat, stack, split, chunk, pad, repeat, tril, triu: gradchecks on non-contiguous inputs,
// PyTorch reference values (tools/fixtures/gen_shape.py) and every error path.
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
  static const minidl::testing::Fixtures fixtures("shape.txt");
  return fixtures;
}

void check_fixture(const std::string& name, const Tensor& out,
                   const std::vector<std::pair<std::string, Tensor>>& inputs) {
  minidl::testing::check_fixture(fx(), name, out, inputs);
}

Tensor fixture_leaf(const std::string& name) {
  return minidl::testing::fixture_leaf(fx(), name);
}

Shape sizes_of(const std::vector<Tensor>& pieces, int64_t dim) {
  Shape sizes;
  for (const Tensor& p : pieces) sizes.push_back(p.size(dim));
  return sizes;
}

}  // namespace

// ---------------------------------------------------------------- cat / stack

TEST_CASE("cat promotes dtypes and matches PyTorch", "[shape]") {
  Tensor a = fx()["cat_a"], b = fx()["cat_b"], c = fx()["cat_c"];
  Tensor ab = cat({a, b}, 1);
  CHECK(ab.dtype() == kFloat32);
  CHECK(allclose(ab, fx()["cat_ab_dim1"]));
  Tensor abc = cat({a, b, c}, -1);
  CHECK(abc.dtype() == kFloat64);
  CHECK(allclose(abc, fx()["cat_abc_dim_neg1"]));
  CHECK(allclose(stack({a, a * 2.0}, 1), fx()["stack_a_a_dim1"]));
}

TEST_CASE("cat gradcheck over non-contiguous inputs and negative dims", "[shape]") {
  manual_seed(1);
  check_gradients([](const std::vector<Tensor>& in) { return cat(in, 0); },
                  {leaf({2, 3}), transposed_leaf({4, 3}), strided_leaf({1, 3})});
  check_gradients([](const std::vector<Tensor>& in) { return cat(in, -1); },
                  {strided_leaf({2, 3, 2}), leaf({2, 3, 1}), transposed_leaf({2, 3, 4})});
  // Only some inputs require grad; a constant in between shifts the offsets.
  Tensor constant = randn({2, 2}, kFloat64);
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        return cat({in[0], constant, in[1]}, 1);
      },
      {transposed_leaf({2, 3}), leaf({2, 1})});
}

TEST_CASE("cat sends each input its slice of the gradient in its own dtype", "[shape]") {
  Tensor a = ones({2, 2}, kFloat32).requires_grad_();
  Tensor b = ones({2, 1}, kFloat64).requires_grad_();
  Tensor out = cat({a, b}, 1);
  CHECK(out.dtype() == kFloat64);
  CHECK(std::string(out.grad_fn()->name()) == "CatBackward0");
  out.backward(arange(6, kFloat64).view({2, 3}));
  CHECK(a.grad().dtype() == kFloat32);
  CHECK(allclose(a.grad(), tensor({{0.0f, 1.0f}, {3.0f, 4.0f}})));
  CHECK(allclose(b.grad(), tensor({{2.0}, {5.0}}, kFloat64)));
}

TEST_CASE("cat skips 1-d empty tensors as PyTorch does", "[shape]") {
  Tensor empty1d = zeros({0}, kFloat64).requires_grad_();
  Tensor x = leaf({2, 3});
  Tensor out = cat({empty1d, x, empty1d}, 1);
  CHECK(out.shape() == Shape{2, 3});
  out.sum().backward();
  CHECK(empty1d.grad().shape() == Shape{0});
  CHECK(allclose(x.grad(), ones({2, 3}, kFloat64)));
  CHECK(cat({zeros({0}), zeros({0})}).shape() == Shape{0});
  // Empty tensors of the right rank take part normally.
  CHECK(cat({zeros({0, 3}), ones({2, 3})}).shape() == Shape{2, 3});
}

TEST_CASE("cat errors", "[shape]") {
  CHECK_THROWS_WITH(cat({}), Contains("cat") && Contains("non-empty"));
  CHECK_THROWS_WITH(cat({ones({2}), scalar_tensor(1.0)}),
                    Contains("cat") && Contains("zero-dimensional") && Contains("index 1"));
  CHECK_THROWS_WITH(cat({ones({2, 3}), ones({2, 3}), ones({4, 2})}, 0),
                    Contains("cat") && Contains("tensor 0 has shape [2, 3]") &&
                        Contains("tensor 2 has shape [4, 2]") && Contains("dimension 0"));
  CHECK_THROWS_WITH(cat({ones({2, 3}), ones({2, 3, 1})}, 0),
                    Contains("cat") && Contains("[2, 3, 1]"));
  CHECK_THROWS_WITH(cat({ones({2, 3}), ones({2, 3})}, 2),
                    Contains("cat") && Contains("dimension 2 out of range"));
  CHECK_THROWS_WITH(cat({ones({2}), Tensor()}), Contains("cat") && Contains("tensor 1"));
}

TEST_CASE("stack gradcheck and errors", "[shape]") {
  manual_seed(2);
  check_gradients([](const std::vector<Tensor>& in) { return stack(in, -1); },
                  {transposed_leaf({3, 2}), leaf({3, 2}), strided_leaf({3, 2})});
  check_gradients([](const std::vector<Tensor>& in) { return stack(in, 0); }, {leaf({}), leaf({})});
  CHECK(stack({ones({2, 3}), ones({2, 3})}, 2).shape() == Shape{2, 3, 2});
  CHECK(stack({ones({2, 3}), ones({2, 3})}, -3).shape() == Shape{2, 2, 3});
  CHECK_THROWS_WITH(stack({}), Contains("stack") && Contains("non-empty"));
  CHECK_THROWS_WITH(stack({ones({2, 3}), ones({3, 2})}), Contains("stack") && Contains("[2, 3]") &&
                                                             Contains("tensor 1 has shape [3, 2]"));
  CHECK_THROWS_WITH(stack({ones({2}), ones({2})}, 2),
                    Contains("stack") && Contains("dimension 2 out of range"));
  CHECK_THROWS_WITH(stack({ones({2}), Tensor()}), Contains("stack") && Contains("tensor 1"));
}

// ---------------------------------------------------------------- split / chunk

TEST_CASE("split and chunk give PyTorch's piece sizes", "[shape]") {
  for (auto [n, k] : std::vector<std::pair<int64_t, int64_t>>{{5, 3}, {6, 4}, {7, 7}, {2, 5}}) {
    INFO("chunk " << n << " into " << k);
    Tensor expected = fx()["chunk_sizes_" + std::to_string(n) + "_" + std::to_string(k)];
    CHECK(sizes_of(chunk(zeros({n}), k), 0) == expected.to_vector<int64_t>());
  }
  for (auto [n, s] : std::vector<std::pair<int64_t, int64_t>>{{5, 2}, {6, 3}, {1, 4}}) {
    INFO("split " << n << " by " << s);
    Tensor expected = fx()["split_sizes_" + std::to_string(n) + "_" + std::to_string(s)];
    CHECK(sizes_of(split(zeros({n}), s), 0) == expected.to_vector<int64_t>());
  }
  // An empty dim: split gives one empty piece, chunk gives `chunks` of them (as PyTorch).
  CHECK(sizes_of(split(zeros({0, 2}), 2), 0) == Shape{0});
  CHECK(sizes_of(split(zeros({0, 2}), 0), 0) == Shape{0});
  CHECK(sizes_of(chunk(zeros({0, 2}), 3), 0) == Shape{0, 0, 0});
  CHECK(sizes_of(split(zeros({2, 7}), Shape{3, 0, 4}, -1), 1) == Shape{3, 0, 4});
}

TEST_CASE("split pieces are views whose gradients flow back", "[shape]") {
  Tensor x = arange(12, kFloat64).view({3, 4});
  auto pieces = split(x, 3, 1);
  REQUIRE(pieces.size() == 2);
  CHECK(pieces[0].shares_storage(x));
  CHECK(allclose(pieces[1], tensor({{3.0}, {7.0}, {11.0}}, kFloat64)));
  manual_seed(3);
  // Each piece scaled differently, then rejoined in reverse order.
  check_gradients(
      [](const std::vector<Tensor>& in) {
        auto p = split(in[0], 2, -1);
        return cat({p[2] * 3.0, p[1].exp(), p[0] * 2.0}, -1);
      },
      {transposed_leaf({3, 5})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        auto p = split(in[0], Shape{1, 3}, 0);
        return cat({p[1] * p[1], p[0]}, 0);
      },
      {strided_leaf({4, 2})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        auto p = chunk(in[0], 3, -2);
        return p[0] * 2.0 + p[2].sin() - p[1];
      },
      {transposed_leaf({2, 6, 3})});
}

TEST_CASE("split and chunk errors", "[shape]") {
  CHECK_THROWS_WITH(split(scalar_tensor(1.0), 1), Contains("split") && Contains("0-d"));
  CHECK_THROWS_WITH(split(ones({3}), -1), Contains("split") && Contains("non-negative"));
  CHECK_THROWS_WITH(split(ones({3, 2}), 0),
                    Contains("split") && Contains("[3, 2]") && Contains("size 3"));
  CHECK_THROWS_WITH(split(ones({3, 2}), 1, 2), Contains("split") && Contains("out of range"));
  CHECK_THROWS_WITH(split(ones({5, 2}), Shape{2, 2}), Contains("split") && Contains("[2, 2]") &&
                                                          Contains("add up to 4") &&
                                                          Contains("[5, 2]"));
  CHECK_THROWS_WITH(split(ones({5}), Shape{6, -1}), Contains("split") && Contains("non-negative"));
  CHECK_THROWS_WITH(split(scalar_tensor(1.0), Shape{1}), Contains("split") && Contains("0-d"));
  CHECK_THROWS_WITH(split(ones({5}), Shape{5}, 1), Contains("split") && Contains("out of range"));
  CHECK_THROWS_WITH(chunk(ones({4}), 0), Contains("chunk") && Contains("positive"));
  CHECK_THROWS_WITH(chunk(scalar_tensor(1.0), 2), Contains("chunk") && Contains("0-d"));
  CHECK_THROWS_WITH(chunk(ones({4}), 2, -2), Contains("chunk") && Contains("out of range"));
  // Found by fuzz_shapes: sizes near 2^63 overflowed computing the piece count, and a huge
  // expanded dim in unit pieces asked for a vector of 2^62 tensors (std::length_error).
  const int64_t big = std::numeric_limits<int64_t>::max();
  CHECK(split(ones({5}), big).size() == 1);
  CHECK(chunk(ones({5}), big).size() == 5);
  CHECK_THROWS_WITH(split(ones({1}).expand({int64_t(1) << 62}), 1),
                    Contains("split") && Contains("more than any memory"));
  CHECK_THROWS_WITH(chunk(ones({0}), big), Contains("chunk") && Contains("more"));
  Tensor half = ones({1}).expand({int64_t(1) << 62});  // two of these overflow the cat
  CHECK_THROWS_WITH(cat({half, half, half}, 0), Contains("cat") && Contains("overflow"));
  CHECK_THROWS_WITH(split(ones({2}), Shape{big, big}), Contains("split") && Contains("overflow"));
}

// ---------------------------------------------------------------- pad

TEST_CASE("pad matches PyTorch values and gradients in every mode", "[shape]") {
  {
    Tensor x = fixture_leaf("pad_x");
    Tensor out = pad(x, {1, 2, -1, 1}, "constant", 0.5);
    CHECK(out.shape() == Shape{1, 3, 7});
    check_fixture("pad_constant", out, {{"x", x}});
  }
  const std::vector<std::tuple<std::string, std::string, std::vector<int64_t>, std::string>> cases =
      {{"pad_reflect1", "reflect", {3, 2}, "pad_x"},
       {"pad_reflect2", "reflect", {1, 3, 2, 1}, "pad_x"},
       {"pad_replicate2", "replicate", {2, 0, 1, 3}, "pad_x"},
       {"pad_reflect_crop", "reflect", {-1, 2}, "pad_x"},
       {"pad_replicate3", "replicate", {1, 2, 0, 1, 2, 1}, "pad_x5"},
       {"pad_reflect3", "reflect", {1, 2, 2, 1, 1, 1}, "pad_x5"}};
  for (const auto& [name, mode, pads, input] : cases) {
    INFO(name);
    Tensor x = fixture_leaf(input);
    check_fixture(name, pad(x, pads, mode), {{"x", x}});
  }
}

TEST_CASE("pad gradcheck on non-contiguous inputs", "[shape]") {
  manual_seed(4);
  auto padder = [](std::vector<int64_t> pads, std::string mode) {
    return [pads, mode](const std::vector<Tensor>& in) { return pad(in[0], pads, mode, 1.5); };
  };
  check_gradients(padder({2, -1, 0, 3}, "constant"), {transposed_leaf({2, 3, 4})});
  check_gradients(padder({1, 1, 1, 1, 1, 1, 1, 1}, "constant"), {strided_leaf({2, 2, 2, 2})});
  check_gradients(padder({2, 3}, "reflect"), {transposed_leaf({2, 5, 4})});
  check_gradients(padder({3, 1, 1, 2}, "reflect"), {strided_leaf({2, 4, 4})});
  check_gradients(padder({1, 2, 2, 0, 1, 1}, "reflect"), {transposed_leaf({3, 3, 3})});
  check_gradients(padder({4, 1}, "replicate"), {strided_leaf({3, 2})});
  check_gradients(padder({0, 2, 3, 1}, "replicate"), {transposed_leaf({2, 2, 3})});
  check_gradients(padder({2, 1, 1, 1, 2, 0}, "replicate"), {strided_leaf({2, 2, 2, 3})});
  check_gradients(padder({-1, 2, 1, -1}, "replicate"), {transposed_leaf({2, 4, 3})});
}

TEST_CASE("pad on integer and bool tensors, and cropping to nothing", "[shape]") {
  Tensor x = arange(6).view({2, 3});
  Tensor out = pad(x, {1, 0}, "constant", 7);
  CHECK(out.dtype() == kInt64);
  CHECK(out.to_vector<int64_t>() == std::vector<int64_t>{7, 0, 1, 2, 7, 3, 4, 5});
  CHECK(pad(x, {1, 1}, "reflect").to_vector<int64_t>() ==
        std::vector<int64_t>{1, 0, 1, 2, 1, 4, 3, 4, 5, 4});
  CHECK(pad(x, {0, 0, 1, 0}, "replicate").to_vector<int64_t>() ==
        std::vector<int64_t>{0, 1, 2, 0, 1, 2, 3, 4, 5});
  Tensor mask = pad(ones({1, 1}, kBool), {1, 1});
  CHECK(mask.dtype() == kBool);
  CHECK(mask.to_vector<bool>() == std::vector<bool>{false, true, false});
  Tensor y = leaf({2, 3});
  Tensor cropped = pad(y, {-2, -1});
  CHECK(cropped.shape() == Shape{2, 0});
  CHECK(pad(y, {-4, 2}).shape() == Shape{2, 1});  // crops past the data: all fill value
  CHECK(allclose(pad(y, {-4, 2}, "constant", 3.0), full({2, 1}, 3.0, kFloat64)));
}

TEST_CASE("pad errors", "[shape]") {
  Tensor x = ones({2, 3});
  CHECK_THROWS_WITH(pad(x, {1, 2, 3}),
                    Contains("pad") && Contains("even") && Contains("[1, 2, 3]"));
  CHECK_THROWS_WITH(pad(x, {1, 1, 1, 1, 1, 1}),
                    Contains("pad") && Contains("3 dims") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(pad(x, {1, 1}, "circular"), Contains("pad") && Contains("circular"));
  CHECK_THROWS_WITH(pad(x, {-2, -2}),
                    Contains("pad") && Contains("negative size") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(pad(x, {3, 0}, "reflect"), Contains("pad") && Contains("(3, 0)") &&
                                                   Contains("size 3") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(pad(x, {0, 0, 0, 2}, "reflect"),
                    Contains("pad") && Contains("(0, 2)") && Contains("size 2"));
  CHECK_THROWS_WITH(pad(ones({2, 2, 2, 2}), {1, 1, 1, 1, 1, 1, 1, 1}, "replicate"),
                    Contains("pad") && Contains("1 to 3 dims"));
  CHECK_THROWS_WITH(pad(ones({2, 0}), {1, 1}, "replicate"),
                    Contains("pad") && Contains("size 0") && Contains("[2, 0]"));
}

// ---------------------------------------------------------------- repeat

TEST_CASE("repeat matches PyTorch and sums the tiles in backward", "[shape]") {
  Tensor x = fixture_leaf("repeat_x");
  Tensor out = repeat(x, {2, 1, 3});
  CHECK(out.shape() == Shape{2, 2, 9});
  check_fixture("repeat", out, {{"x", x}});
  manual_seed(5);
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return repeat(in[0], {2, 3});
      },
      {transposed_leaf({3, 2})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return repeat(in[0], {3, 1, 2, 2});
      },
      {strided_leaf({1, 2, 2})});
  check_gradients([](const std::vector<Tensor>& in) { return repeat(in[0], {4}); }, {leaf({})});
  check_gradients([](const std::vector<Tensor>& in) { return repeat(in[0], {}); }, {leaf({})});
  // A zero repeat empties the tensor; the gradient is then zero.
  Tensor y = leaf({2, 2});
  Tensor none = repeat(y, {0, 2});
  CHECK(none.shape() == Shape{0, 4});
  none.sum().backward();
  CHECK(allclose(y.grad(), zeros({2, 2}, kFloat64)));
  CHECK(repeat(tensor({true, false}), {2}).to_vector<bool>() ==
        std::vector<bool>{true, false, true, false});
}

TEST_CASE("repeat errors", "[shape]") {
  CHECK_THROWS_WITH(repeat(ones({2, 3}), {2}),
                    Contains("repeat") && Contains("[2]") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(repeat(ones({2, 3}), {2, -1}),
                    Contains("repeat") && Contains("non-negative") && Contains("[2, -1]"));
  // An empty input with a size times its repeat past 64 bits (found by fuzz_shapes; it wrapped).
  CHECK_THROWS_WITH(repeat(ones({0, 3}), {1, int64_t(1) << 62}),
                    Contains("repeat") && Contains("overflow"));
}

// ---------------------------------------------------------------- tril / triu

TEST_CASE("tril and triu match PyTorch on a batch", "[shape]") {
  Tensor x = fx()["tri_x"];
  CHECK(allclose(tril(x), fx()["tril_0"]));
  CHECK(allclose(tril(x, -1), fx()["tril_m1"]));
  CHECK(allclose(triu(x, 1), fx()["triu_1"]));
  CHECK(allclose(triu(x, -2), fx()["triu_m2"]));
  CHECK(allclose(tril(x, 10), x));
  CHECK(allclose(triu(x, 10), zeros_like(x)));
  CHECK(tril(ones({3, 3}, kBool)).to_vector<bool>() ==
        std::vector<bool>{true, false, false, true, true, false, true, true, true});
  CHECK(triu(arange(4).view({2, 2})).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0, 3});
  CHECK(tril(zeros({2, 0, 3})).shape() == Shape{2, 0, 3});
}

TEST_CASE("tril and triu mask the gradient the same way", "[shape]") {
  manual_seed(6);
  for (int64_t diagonal : {-1, 0, 2}) {
    INFO("diagonal " << diagonal);
    check_gradients([=](const std::vector<Tensor>& in) { return tril(in[0], diagonal); },
                    {transposed_leaf({2, 3, 4})});
    check_gradients([=](const std::vector<Tensor>& in) { return triu(in[0], diagonal); },
                    {strided_leaf({4, 3})});
  }
  Tensor x = ones({2, 2}, kFloat64).requires_grad_();
  triu(x).sum().backward();
  CHECK(allclose(x.grad(), tensor({{1.0, 1.0}, {0.0, 1.0}}, kFloat64)));
}

TEST_CASE("tril and triu errors", "[shape]") {
  CHECK_THROWS_WITH(tril(ones({3})), Contains("tril") && Contains("[3]") && Contains("2 dims"));
  CHECK_THROWS_WITH(triu(scalar_tensor(1.0)), Contains("triu") && Contains("[]"));
}
