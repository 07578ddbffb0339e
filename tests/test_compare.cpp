// Comparisons, logical ops, where and masked_fill: values against PyTorch (NaN, broadcasting,
// int vs float), bool results, gradients of where/masked_fill, and errors.
#include <cmath>
#include <limits>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

const Fixtures& fx() {
  static const Fixtures fixtures("elementwise.txt");
  return fixtures;
}

// Same shape, bool dtype, same values.
bool same_bools(const Tensor& got, const Tensor& want) {
  if (got.dtype() != kBool || want.dtype() != kBool || got.shape() != want.shape()) {
    UNSCOPED_INFO("got " << got.dtype() << " " << shape_str(got.shape()) << ", want "
                         << want.dtype() << " " << shape_str(want.shape()));
    return false;
  }
  return got.to_vector<bool>() == want.to_vector<bool>();
}

}  // namespace

TEST_CASE("comparisons match PyTorch, NaN and infinities included", "[elementwise]") {
  const Fixtures& f = fx();
  const float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
  Tensor a = tensor({{1.0f, nan, 3.0f}, {-inf, 2.0f, inf}});  // as gen_elementwise.py's ca, cb
  Tensor b = tensor({1.0f, nan, 2.5f});
  CHECK(same_bools(eq(a, b), f["cmp_eq"]));
  CHECK(same_bools(ne(a, b), f["cmp_ne"]));
  CHECK(same_bools(lt(a, b), f["cmp_lt"]));
  CHECK(same_bools(le(a, b), f["cmp_le"]));
  CHECK(same_bools(gt(a, b), f["cmp_gt"]));
  CHECK(same_bools(ge(a, b), f["cmp_ge"]));
  CHECK(same_bools(a == b, f["cmp_eq"]));
  CHECK(same_bools(a != b, f["cmp_ne"]));
  CHECK(same_bools(a < b, f["cmp_lt"]));
  CHECK(same_bools(a <= b, f["cmp_le"]));
  CHECK(same_bools(a > b, f["cmp_gt"]));
  CHECK(same_bools(a >= b, f["cmp_ge"]));
  CHECK(same_bools(a.eq(b), f["cmp_eq"]));
  CHECK(same_bools(a.ne(b), f["cmp_ne"]));
  CHECK(same_bools(a.lt(b), f["cmp_lt"]));
  CHECK(same_bools(a.le(b), f["cmp_le"]));
  CHECK(same_bools(a.gt(b), f["cmp_gt"]));
  CHECK(same_bools(a.ge(b), f["cmp_ge"]));
  // with a scalar
  CHECK(same_bools(eq(a, 2.0), f["cmp_eq_scalar"]));
  CHECK(same_bools(a != 2.0, f["cmp_ne_scalar"]));
  CHECK(same_bools(a < 2.0, f["cmp_lt_scalar"]));
  CHECK(same_bools(le(a, 2.0), f["cmp_le_scalar"]));
  CHECK(same_bools(a > 2.0, f["cmp_gt_scalar"]));
  CHECK(same_bools(ge(a, 2.0), f["cmp_ge_scalar"]));
  CHECK(same_bools(a == 2.0, f["cmp_eq_scalar"]));
  CHECK(same_bools(a <= 2.0, f["cmp_le_scalar"]));
  CHECK(same_bools(a >= 2.0, f["cmp_ge_scalar"]));
  CHECK(same_bools(ne(a, 2.0), f["cmp_ne_scalar"]));
  CHECK(same_bools(lt(a, 2.0), f["cmp_lt_scalar"]));
  CHECK(same_bools(gt(a, 2.0), f["cmp_gt_scalar"]));
}

TEST_CASE("comparisons: int vs float promote, scalars compare exactly", "[elementwise]") {
  const Fixtures& f = fx();
  Tensor i = f["cmp_i"], fl = f["cmp_f"];  // int64 [3] vs float32 [2, 1]
  CHECK(same_bools(i < fl, f["cmp_i_lt_f"]));
  CHECK(same_bools(i == fl, f["cmp_i_eq_f"]));
  CHECK(same_bools(i > 2.5, f["cmp_i_gt_2_5"]));  // an int tensor against a fractional scalar
  CHECK(same_bools(i >= 2.0, f["cmp_i_ge_2"]));
  // non-finite scalars against an int tensor
  const double inf = std::numeric_limits<double>::infinity();
  CHECK((i < inf).to_vector<bool>() == std::vector<bool>{true, true, true});
  CHECK((i > -inf).to_vector<bool>() == std::vector<bool>{true, true, true});
  CHECK((i == std::nan("")).to_vector<bool>() == std::vector<bool>{false, false, false});
  CHECK((i != 1e30).to_vector<bool>() == std::vector<bool>{true, true, true});
  // bool tensors compare too
  Tensor t = tensor({true, false}), u = tensor({true, true});
  CHECK(eq(t, u).to_vector<bool>() == std::vector<bool>{true, false});
  CHECK(lt(t, u).to_vector<bool>() == std::vector<bool>{false, true});
}

TEST_CASE("comparisons: non-contiguous and large inputs, no gradient", "[elementwise]") {
  manual_seed(21);
  Tensor a = randn({200, 300}), b = randn({300, 200}).t();
  REQUIRE_FALSE(b.is_contiguous());
  Tensor got = a > b;
  std::vector<float> va = a.to_vector<float>(), vb = b.to_vector<float>();
  std::vector<bool> vg = got.to_vector<bool>();
  bool ok = true;
  for (size_t k = 0; k < va.size(); ++k) ok &= vg[k] == (va[k] > vb[k]);
  CHECK(ok);
  Tensor x = ones({3}).requires_grad_();
  Tensor c = x > 0.5;
  CHECK(c.dtype() == kBool);
  CHECK_FALSE(c.requires_grad());
}

TEST_CASE("logical ops match PyTorch on any dtype, with broadcasting", "[elementwise]") {
  const Fixtures& f = fx();
  Tensor a = f["log_a"], b = f["log_b"];  // float32 [1, 4] vs int64 [2, 1]
  CHECK(same_bools(logical_and(a, b), f["log_and"]));
  CHECK(same_bools(logical_or(a, b), f["log_or"]));
  CHECK(same_bools(logical_xor(a, b), f["log_xor"]));
  CHECK(same_bools(logical_not(a), f["log_not"]));
  CHECK(same_bools(a.logical_not(), f["log_not"]));
  CHECK(same_bools(!a, f["log_not"]));
  CHECK(same_bools(!!a, logical_not(f["log_not"])));
  CHECK_THROWS_WITH(logical_and(ones({2}), ones({3})), Catch::Contains("logical_and") &&
                                                           Catch::Contains("[2]") &&
                                                           Catch::Contains("[3]"));
  CHECK_THROWS_WITH(logical_or(ones({2}), ones({3})), Catch::Contains("logical_or"));
  CHECK_THROWS_WITH(logical_xor(ones({2}), ones({3})), Catch::Contains("logical_xor"));
}

TEST_CASE("where and masked_fill: values and dtypes match PyTorch", "[elementwise]") {
  const Fixtures& f = fx();
  Tensor cond = f["wh_cond"];
  Tensor out = where(cond, f["wh_a"], f["wh_b"]);  // [2, 1] ? float32 [2, 3] : float64 [3]
  CHECK(out.dtype() == kFloat64);
  CHECK(allclose(out, f["wh_out"]));
  Tensor with_scalar = where(cond, f["wh_a"], 0.5);
  CHECK(with_scalar.dtype() == kFloat32);
  CHECK(allclose(with_scalar, f["wh_scalar"]));
  Tensor int_scalar = where(cond, f["cmp_i"], 0.5);
  CHECK(int_scalar.dtype() == f["wh_int_scalar"].dtype());
  CHECK(allclose(int_scalar, f["wh_int_scalar"]));
  CHECK(allclose(where(logical_not(cond), 0.5, f["wh_a"]), f["wh_scalar"]));
  Tensor int_inf = where(tensor({true, false}), tensor({1, 2}), -INFINITY);
  CHECK(int_inf.dtype() == kFloat32);
  CHECK(int_inf.to_vector<float>()[1] == -INFINITY);
  Tensor filled = masked_fill(f["mf_x"], f["mf_mask"], -1e9);
  CHECK(filled.dtype() == kFloat32);
  CHECK(allclose(filled, f["mf_out"]));
  CHECK(allclose(f["mf_x"].masked_fill(f["mf_mask"], -1e9), f["mf_out"]));
  // a large, transposed input with a broadcast mask (the dense and strided kernel paths)
  manual_seed(22);
  Tensor big = randn({256, 300}).t();
  Tensor mask = randn({1, 256}) > 0.0;
  Tensor got = masked_fill(big, mask, 3.0);
  std::vector<float> vb = big.to_vector<float>(), vg = got.to_vector<float>();
  std::vector<bool> vm = mask.to_vector<bool>();
  bool ok = true;
  for (int64_t r = 0; r < 300; ++r)
    for (int64_t k = 0; k < 256; ++k) ok &= vg[r * 256 + k] == (vm[k] ? 3.0f : vb[r * 256 + k]);
  CHECK(ok);
}

TEST_CASE("where: gradients of both branches with a broadcast condition", "[elementwise]") {
  manual_seed(23);
  Tensor cond = randn({2, 1, 4}) > 0.0;
  auto fn = [cond](const std::vector<Tensor>& v) { return where(cond, v[0], v[1]); };
  check_gradients(fn, {leaf({3, 4}), leaf({2, 3, 1})});
  check_gradients(fn, {transposed_leaf({3, 4}), strided_leaf({4})});
  check_gradients(fn, {leaf({}), transposed_leaf({2, 3, 4})});
  check_gradients(fn, {leaf({3, 4}), leaf({3, 4}).detach()});  // only one branch tracked
  check_gradients([cond](const std::vector<Tensor>& v) { return where(cond, v[0], -1.0); },
                  {strided_leaf({3, 4})});
  check_gradients([cond](const std::vector<Tensor>& v) { return where(cond, 2.0, v[0]); },
                  {transposed_leaf({3, 4})});
  // the gradient goes exactly where the condition selects
  Tensor a = ones({2, 2}, kFloat64).requires_grad_(), b = ones({2}, kFloat64).requires_grad_();
  Tensor c = tensor({true, false, true, true}).reshape({2, 2});
  where(c, a, b).sum().backward();
  CHECK(allclose(a.grad(), tensor({{1.0, 0.0}, {1.0, 1.0}}, kFloat64)));
  CHECK(allclose(b.grad(), tensor({0.0, 1.0}, kFloat64)));
}

TEST_CASE("masked_fill: gradient is zero under the mask", "[elementwise]") {
  manual_seed(24);
  Tensor mask = randn({3, 1}) > 0.0;
  auto fn = [mask](const std::vector<Tensor>& v) { return masked_fill(v[0], mask, 0.5); };
  check_gradients(fn, {leaf({3, 4})});
  check_gradients(fn, {transposed_leaf({2, 3, 4})});
  Tensor x = ones({2, 3}, kFloat64).requires_grad_();
  x.masked_fill(tensor({false, true, false}), -1e9).sum().backward();
  CHECK(allclose(x.grad(), tensor({{1.0, 0.0, 1.0}, {1.0, 0.0, 1.0}}, kFloat64)));
}

TEST_CASE("comparisons, where and masked_fill: errors", "[elementwise]") {
  Tensor x = ones({2, 3});
  CHECK_THROWS_WITH(eq(x, ones({4})),
                    Catch::Contains("eq") && Catch::Contains("[2, 3]") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(x < ones({2}), Catch::Contains("lt") && Catch::Contains("[2]"));
  CHECK_THROWS_WITH(ge(x, ones({3, 2})), Catch::Contains("ge") && Catch::Contains("[3, 2]"));
  CHECK_THROWS_WITH(where(ones({2, 3}), x, x), Catch::Contains("where") &&
                                                   Catch::Contains("bool") &&
                                                   Catch::Contains("float32"));
  CHECK_THROWS_WITH(where(tensor({true, false}), x, x), Catch::Contains("where") &&
                                                            Catch::Contains("[2]") &&
                                                            Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(masked_fill(x, tensor({1, 0, 1}), 0.0), Catch::Contains("masked_fill") &&
                                                                Catch::Contains("bool") &&
                                                                Catch::Contains("int64"));
  CHECK_THROWS_WITH(masked_fill(x, tensor({true, false}), 0.0), Catch::Contains("masked_fill") &&
                                                                    Catch::Contains("[2]") &&
                                                                    Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(
      masked_fill(tensor({1, 2}), tensor({true, false}), INFINITY),
      Catch::Contains("masked_fill") && Catch::Contains("inf") && Catch::Contains("int64"));
  // a mask that broadcasts only to a larger shape than the input's
  CHECK_THROWS_WITH(
      masked_fill(ones({3}), full({2, 3}, 1.0, kBool), 0.0),
      Catch::Contains("masked_fill") && Catch::Contains("[2, 3]") && Catch::Contains("[3]"));
}

TEST_CASE("bitwise ops on bool and int64, refused on floats", "[compare]") {
  Tensor a = tensor({true, true, false, false});
  Tensor b = tensor({true, false, true, false});
  CHECK((~a).to_vector<bool>() == std::vector<bool>{false, false, true, true});
  CHECK((a & b).to_vector<bool>() == std::vector<bool>{true, false, false, false});
  CHECK((a | b).to_vector<bool>() == std::vector<bool>{true, true, true, false});
  CHECK((a ^ b).to_vector<bool>() == std::vector<bool>{false, true, true, false});
  CHECK((a & b).dtype() == kBool);
  Tensor i = tensor({1, -2, 6});
  CHECK((~i).to_vector<int64_t>() == std::vector<int64_t>{-2, 1, -7});
  CHECK(i.bitwise_not().to_vector<int64_t>() == std::vector<int64_t>{-2, 1, -7});
  CHECK((i & tensor({3})).to_vector<int64_t>() == std::vector<int64_t>{1, 2, 2});  // broadcast
  CHECK((i | tensor({1, 1, 1})).to_vector<int64_t>() == std::vector<int64_t>{1, -1, 7});
  CHECK((i ^ i).to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  // bool with int64 promotes to int64, as in PyTorch.
  Tensor mixed = tensor({true, false, true}) & tensor({3, 2, 2});
  CHECK(mixed.dtype() == kInt64);
  CHECK(mixed.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0});
  // Masks combine as in libtorch programs: (x > 0) & (x < 2).
  Tensor x = tensor({-1.0, 0.5, 1.5, 2.5});
  CHECK(((x > 0.0) & (x < 2.0)).to_vector<bool>() == std::vector<bool>{false, true, true, false});
  CHECK_THROWS_WITH(~x, Catch::Contains("bitwise_not") && Catch::Contains("float32"));
  CHECK_THROWS_WITH(x & x, Catch::Contains("bitwise_and") && Catch::Contains("float32"));
  CHECK_THROWS_WITH(a | tensor({1.0}), Catch::Contains("bitwise_or"));
  CHECK_THROWS_WITH(i ^ tensor({1, 2}), Catch::Contains("bitwise_xor"));
}
