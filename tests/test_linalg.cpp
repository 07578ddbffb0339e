// matmul (every shape case of torch.matmul), mm, bmm, linear: gradients against finite
// differences, values and gradients against PyTorch, strided operands, the batch-parallel path,
// and every error.
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

Tensor matmul_fn(const std::vector<Tensor>& v) {
  return matmul(v[0], v[1]);
}

// A fresh float64 leaf holding t's values.
Tensor leaf_of(const Tensor& t) {
  return t.detach().clone().requires_grad_();
}

// Runs `op` on the fixture's a and b, back-propagates its gout, compares out, da and db.
void check_product_fixture(const Fixtures& fx, const std::string& name,
                           const std::function<Tensor(const Tensor&, const Tensor&)>& op,
                           double rtol = 1e-9, double atol = 1e-9) {
  INFO(name);
  Tensor a = leaf_of(fx[name + "_a"]), b = leaf_of(fx[name + "_b"]);
  Tensor out = op(a, b);
  CHECK(allclose(out, fx[name + "_out"], rtol, atol));
  out.backward(fx[name + "_gout"]);
  CHECK(allclose(a.grad(), fx[name + "_da"], rtol, atol));
  CHECK(allclose(b.grad(), fx[name + "_db"], rtol, atol));
}

}  // namespace

// ---------------------------------------------------------------- values against PyTorch

TEST_CASE("matmul matches PyTorch in every shape case, values and gradients", "[linalg]") {
  Fixtures fx("linalg.txt");
  auto op = [](const Tensor& a, const Tensor& b) { return matmul(a, b); };
  for (const char* name :
       {"dot", "mm", "vecmat", "matvec", "broadcast", "batch_vec", "vec_batch", "fold", "left2d"})
    check_product_fixture(fx, name, op);
  CHECK(matmul(fx["dot_a"], fx["dot_b"]).dim() == 0);
  CHECK(matmul(fx["broadcast_a"], fx["broadcast_b"]).shape() == Shape{2, 3, 2, 2});
  CHECK(matmul(fx["vec_batch_a"], fx["vec_batch_b"]).shape() == Shape{2, 2});
  CHECK(matmul(fx["batch_vec_a"], fx["batch_vec_b"]).shape() == Shape{2, 2});
}

TEST_CASE("mm, bmm and float32 match PyTorch", "[linalg]") {
  Fixtures fx("linalg.txt");
  check_product_fixture(fx, "bmm", [](const Tensor& a, const Tensor& b) { return bmm(a, b); });
  check_product_fixture(
      fx, "mm32", [](const Tensor& a, const Tensor& b) { return mm(a, b); }, 1e-5, 1e-5);
  CHECK(mm(fx["mm32_a"], fx["mm32_b"]).dtype() == kFloat32);
}

TEST_CASE("linear matches PyTorch with and without bias over 3-d input", "[linalg]") {
  Fixtures fx("linalg.txt");
  Tensor x = leaf_of(fx["linear_x"]), w = leaf_of(fx["linear_w"]), b = leaf_of(fx["linear_b"]);
  Tensor y = linear(x, w, b);
  CHECK(allclose(y, fx["linear_y"], 1e-9, 1e-9));
  y.backward(fx["linear_gout"]);
  CHECK(allclose(x.grad(), fx["linear_dx"], 1e-9, 1e-9));
  CHECK(allclose(w.grad(), fx["linear_dw"], 1e-9, 1e-9));
  CHECK(allclose(b.grad(), fx["linear_db"], 1e-9, 1e-9));

  Tensor x2 = leaf_of(fx["linear_nobias_x"]), w2 = leaf_of(fx["linear_nobias_w"]);
  Tensor y2 = linear(x2, w2);
  CHECK(allclose(y2, fx["linear_nobias_y"], 1e-9, 1e-9));
  y2.backward(fx["linear_nobias_gout"]);
  CHECK(allclose(x2.grad(), fx["linear_nobias_dx"], 1e-9, 1e-9));
  CHECK(allclose(w2.grad(), fx["linear_nobias_dw"], 1e-9, 1e-9));
}

// ---------------------------------------------------------------- gradient checks

TEST_CASE("matmul gradcheck: 1-d, 2-d and batched shapes", "[linalg]") {
  manual_seed(1);
  check_gradients(matmul_fn, {leaf({4}), leaf({4})});                 // dot
  check_gradients(matmul_fn, {leaf({3, 4}), leaf({4, 5})});           // mm
  check_gradients(matmul_fn, {leaf({3}), leaf({3, 4})});              // vector @ matrix
  check_gradients(matmul_fn, {leaf({2, 3}), leaf({3})});              // matrix @ vector
  check_gradients(matmul_fn, {leaf({3}), leaf({2, 3, 4})});           // vector @ batch
  check_gradients(matmul_fn, {leaf({2, 2, 3}), leaf({3})});           // batch @ vector
  check_gradients(matmul_fn, {leaf({2, 3, 4}), leaf({4, 2})});        // batch folded into rows
  check_gradients(matmul_fn, {leaf({3, 4}), leaf({2, 4, 2})});        // matrix @ batch
  check_gradients(matmul_fn, {leaf({2, 3, 4}), leaf({2, 4, 2})});     // equal batches
  check_gradients(matmul_fn, {leaf({2, 1, 2, 3}), leaf({3, 3, 2})});  // broadcast batch
  check_gradients(matmul_fn, {leaf({1, 2, 3}), leaf({2, 1, 3, 2})});  // broadcast both ways
}

TEST_CASE("matmul gradcheck: non-contiguous operands", "[linalg]") {
  manual_seed(2);
  check_gradients(matmul_fn, {transposed_leaf({3, 4}), leaf({4, 5})});
  check_gradients(matmul_fn, {leaf({3, 4}), transposed_leaf({4, 5})});
  check_gradients(matmul_fn, {transposed_leaf({3, 4}), transposed_leaf({4, 5})});
  check_gradients(matmul_fn, {strided_leaf({3, 4}), strided_leaf({4, 5})});  // copied path
  check_gradients(matmul_fn, {strided_leaf({4}), strided_leaf({4})});
  check_gradients(matmul_fn, {strided_leaf({3}), transposed_leaf({2, 3, 2})});
  // A transposed batch does not fold into rows: copied, then folded.
  check_gradients(matmul_fn, {transposed_leaf({2, 3, 4}), transposed_leaf({4, 2})});
  check_gradients(matmul_fn, {transposed_leaf({2, 1, 2, 3}), strided_leaf({3, 3, 2})});
  // The same tensor on both sides.
  Tensor x = leaf({3, 3});
  check_gradients([](const std::vector<Tensor>& v) { return matmul(v[0], v[0].t()); }, {x});
  // An expanded (stride-0) operand inside the function.
  check_gradients(
      [](const std::vector<Tensor>& v) {
        return matmul(v[0], v[1].expand({4, 3}));
      },
      {leaf({2, 4}), leaf({4, 1})});
}

TEST_CASE("mm and bmm gradcheck including transposed operands", "[linalg]") {
  manual_seed(3);
  auto mm_fn = [](const std::vector<Tensor>& v) { return mm(v[0], v[1]); };
  auto bmm_fn = [](const std::vector<Tensor>& v) { return bmm(v[0], v[1]); };
  check_gradients(mm_fn, {leaf({2, 3}), leaf({3, 4})});
  check_gradients(mm_fn, {transposed_leaf({2, 3}), transposed_leaf({3, 4})});
  check_gradients(bmm_fn, {leaf({2, 3, 4}), leaf({2, 4, 3})});
  check_gradients(bmm_fn, {transposed_leaf({2, 3, 4}), strided_leaf({2, 4, 3})});
  // Only one operand requires grad.
  check_gradients(bmm_fn, {leaf({2, 3, 4}), randn({2, 4, 3}, kFloat64)});
  check_gradients(mm_fn, {randn({2, 3}, kFloat64), leaf({3, 4})});
}

TEST_CASE("linear gradcheck with and without bias, 1-d to 3-d input", "[linalg]") {
  manual_seed(4);
  auto with_bias = [](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); };
  auto without_bias = [](const std::vector<Tensor>& v) { return linear(v[0], v[1]); };
  check_gradients(with_bias, {leaf({3, 4}), leaf({5, 4}), leaf({5})});
  check_gradients(with_bias, {leaf({2, 3, 4}), leaf({5, 4}), leaf({5})});
  check_gradients(with_bias, {leaf({4}), leaf({2, 4}), leaf({2})});
  check_gradients(without_bias, {leaf({2, 3, 4}), leaf({5, 4})});
  // Non-contiguous input, weight and bias.
  check_gradients(with_bias,
                  {transposed_leaf({2, 3, 4}), transposed_leaf({5, 4}), strided_leaf({5})});
  check_gradients(without_bias, {strided_leaf({3, 4}), strided_leaf({2, 4})});
}

// ---------------------------------------------------------------- layouts and paths

TEST_CASE("a transposed operand gives the same product as its contiguous copy", "[linalg]") {
  manual_seed(5);
  Tensor a = randn({33, 17}), b = randn({9, 17});  // a @ b.t()
  Tensor reference = matmul(a, b.t().contiguous());
  CHECK(allclose(matmul(a, b.t()), reference, 1e-5, 1e-5));
  Tensor at = randn({17, 33}).t();  // a non-contiguous [33, 17]
  CHECK_FALSE(at.is_contiguous());
  CHECK(allclose(matmul(at, b.t()), matmul(at.contiguous(), b.t().contiguous()), 1e-5, 1e-5));
  // Batched: k^T per batch element, as attention uses it.
  Tensor q = randn({3, 5, 8}), k = randn({3, 6, 8});
  Tensor kt = k.transpose(-2, -1);
  CHECK(allclose(matmul(q, kt), matmul(q, kt.contiguous()), 1e-5, 1e-5));
  CHECK(allclose(bmm(q, kt), matmul(q, kt.contiguous()), 1e-5, 1e-5));
  // Strided and permuted batch dims (rows that cannot fold into one matrix).
  Tensor every_other = randn({6, 5, 8}).slice(0, 0, std::nullopt, 2);
  CHECK(allclose(matmul(every_other, kt), matmul(every_other.contiguous(), kt), 1e-5, 1e-5));
  Tensor permuted = randn({5, 3, 8}).transpose(0, 1);  // [3, 5, 8], last dim unit stride
  Tensor w = randn({8, 4});
  CHECK(allclose(matmul(permuted, w), matmul(permuted.contiguous(), w), 1e-5, 1e-5));
  CHECK(allclose(linear(permuted, w.t()), matmul(permuted.contiguous(), w), 1e-5, 1e-5));
  // Transposing also does not change the operand (no write through the view).
  std::vector<float> before = k.to_vector<float>();
  matmul(q, kt);
  CHECK(k.to_vector<float>() == before);
}

TEST_CASE("matmul over a large batch (threads split the batch) equals per-slice mm", "[linalg]") {
  manual_seed(6);
  Tensor a = randn({64, 8, 32}, kFloat64).requires_grad_();  // 131072 multiply-adds
  Tensor b = randn({64, 32, 8}, kFloat64).requires_grad_();
  Tensor out = bmm(a, b);
  Tensor g = randn({64, 8, 8}, kFloat64);
  out.backward(g);
  NoGradGuard no_grad;
  for (int64_t i = 0; i < 64; i += 9) {
    INFO("batch element " << i);
    Tensor ai = a.detach().select(0, i), bi = b.detach().select(0, i), gi = g.select(0, i);
    CHECK(allclose(out.select(0, i), mm(ai, bi), 1e-12, 1e-12));
    CHECK(allclose(a.grad().select(0, i), mm(gi, bi.t()), 1e-12, 1e-12));
    CHECK(allclose(b.grad().select(0, i), mm(ai.t(), gi), 1e-12, 1e-12));
  }
}

TEST_CASE("empty operands give empty or zero products", "[linalg]") {
  CHECK(matmul(ones({0, 3}), ones({3, 4})).shape() == Shape{0, 4});
  CHECK(allclose(matmul(ones({2, 0}), ones({0, 3})), zeros({2, 3})));
  CHECK(allclose(matmul(ones({0}), ones({0})), zeros({})));
  CHECK(bmm(ones({0, 2, 3}), ones({0, 3, 4})).shape() == Shape{0, 2, 4});
  Tensor w = ones({3, 0}).requires_grad_();
  Tensor y = linear(ones({2, 0}), w, full({3}, 2.0));
  CHECK(allclose(y, full({2, 3}, 2.0)));
  y.sum().backward();
  CHECK(w.grad().shape() == Shape{3, 0});
}

TEST_CASE("matmul records the tape entry named like PyTorch's and methods forward", "[linalg]") {
  Tensor a = ones({2, 3}).requires_grad_(), b = ones({3, 2}).requires_grad_();
  CHECK(std::string(matmul(a, b).grad_fn()->name()) == "MmBackward0");
  CHECK(std::string(matmul(ones({3}).requires_grad_(), ones({3})).grad_fn()->name()) ==
        "DotBackward0");
  CHECK(std::string(matmul(ones({2, 2, 3}), b).grad_fn()->name()) == "MatmulBackward0");
  CHECK(std::string(a.unsqueeze(0).bmm(b.unsqueeze(0)).grad_fn()->name()) == "BmmBackward0");
  CHECK(std::string(linear(a, b.t()).grad_fn()->name()) == "MmBackward0");
  CHECK(linear(a, b.t(), ones({2}).requires_grad_()).grad_fn()->name() == "AddmmBackward0");
  CHECK(linear(a.unsqueeze(0), b.t()).grad_fn()->name() == "LinearBackward0");
  CHECK(allclose(a.matmul(b), full({2, 2}, 3.0)));
  CHECK(allclose(a.mm(b), full({2, 2}, 3.0)));
  NoGradGuard no_grad;
  CHECK_FALSE(matmul(a, b).requires_grad());
}

// ---------------------------------------------------------------- errors

TEST_CASE("matmul errors name the op, the shapes and the dtypes", "[linalg]") {
  CHECK_THROWS_WITH(
      matmul(ones({2, 3}), ones({4, 5})),
      Catch::Equals("matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)"));
  CHECK_THROWS_WITH(matmul(ones({3}), ones({4})),
                    Catch::Contains("[3] and [4]") && Catch::Contains("(3 != 4)"));
  CHECK_THROWS_WITH(matmul(ones({2, 2, 3}), ones({2})),
                    Catch::Contains("matmul") && Catch::Contains("[2, 2, 3] and [2]"));
  CHECK_THROWS_WITH(matmul(ones({2, 2, 3}), ones({3, 3, 4})), Catch::Contains("matmul") &&
                                                                  Catch::Contains("batch") &&
                                                                  Catch::Contains("(2 != 3)"));
  CHECK_THROWS_WITH(matmul(ones({}), ones({2, 3})),
                    Catch::Contains("matmul") && Catch::Contains("0-d"));
  CHECK_THROWS_WITH(
      matmul(ones({2, 3}, kInt64), ones({3, 2}, kInt64)),
      Catch::Contains("matmul") && Catch::Contains("int64") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(matmul(ones({2, 3}, kBool), ones({3, 2})), Catch::Contains("matmul") &&
                                                                   Catch::Contains("bool") &&
                                                                   Catch::Contains("float32"));
  CHECK_THROWS_WITH(matmul(ones({2, 3}), ones({3, 2}, kFloat64)),
                    Catch::Contains("matmul") && Catch::Contains("float32") &&
                        Catch::Contains("float64") && Catch::Contains("same dtype"));
}

TEST_CASE("mm and bmm check their ranks and batch sizes", "[linalg]") {
  CHECK_THROWS_WITH(mm(ones({2, 3, 4}), ones({4, 5})), Catch::Contains("mm") &&
                                                           Catch::Contains("2-D") &&
                                                           Catch::Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(mm(ones({2, 3}), ones({4, 5})),
                    Catch::Equals("mm: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)"));
  CHECK_THROWS_WITH(mm(ones({2, 3}, kInt64), ones({3, 2})),
                    Catch::Contains("mm") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(bmm(ones({2, 3}), ones({2, 3, 4})),
                    Catch::Contains("bmm") && Catch::Contains("3-D") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(bmm(ones({2, 3, 4}), ones({3, 4, 5})),
                    Catch::Contains("bmm") && Catch::Contains("[2, 3, 4] and [3, 4, 5]") &&
                        Catch::Contains("(2 != 3)"));
  CHECK_THROWS_WITH(bmm(ones({1, 3, 4}), ones({2, 4, 5})),  // no broadcasting in bmm
                    Catch::Contains("bmm") && Catch::Contains("(1 != 2)"));
  CHECK_THROWS_WITH(bmm(ones({2, 3, 4}), ones({2, 5, 5})),
                    Catch::Contains("bmm") && Catch::Contains("(4 != 5)"));
  CHECK_THROWS_WITH(bmm(ones({2, 3, 4}, kFloat64), ones({2, 4, 5})),
                    Catch::Contains("bmm") && Catch::Contains("float64"));
}

TEST_CASE("linear checks weight, input and bias", "[linalg]") {
  CHECK_THROWS_WITH(linear(ones({2, 3}), ones({4, 5})),
                    Catch::Contains("linear") && Catch::Contains("[2, 3]") &&
                        Catch::Contains("[4, 5]") && Catch::Contains("(3 != 5)"));
  CHECK_THROWS_WITH(linear(ones({2, 3}), ones({3})), Catch::Contains("linear") &&
                                                         Catch::Contains("2-D weight") &&
                                                         Catch::Contains("[3]"));
  CHECK_THROWS_WITH(linear(ones({}), ones({2, 3})),
                    Catch::Contains("linear") && Catch::Contains("0-d"));
  CHECK_THROWS_WITH(linear(ones({2, 3}), ones({4, 3}), ones({3})),
                    Catch::Contains("linear") && Catch::Contains("bias") &&
                        Catch::Contains("[4]") && Catch::Contains("[3]"));
  CHECK_THROWS_WITH(linear(ones({2, 3}), ones({4, 3}), ones({4}, kFloat64)),
                    Catch::Contains("linear") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(linear(ones({2, 3}, kInt64), ones({4, 3}, kInt64)),
                    Catch::Contains("linear") && Catch::Contains("int64"));
}

TEST_CASE("linear and matmul over inputs with a zero-size dim give empty results", "[linalg]") {
  Tensor w = randn({4, 8}, kFloat64).requires_grad_(), b = randn({4}, kFloat64).requires_grad_();
  Tensor x = zeros({2, 0, 8}, kFloat64).requires_grad_();
  Tensor y = linear(x, w, b);
  CHECK(y.shape() == Shape{2, 0, 4});
  y.sum().backward();
  CHECK(x.grad().shape() == Shape{2, 0, 8});
  CHECK(w.grad().abs().sum().item<double>() == 0.0);  // no rows: nothing flows into the weight
  CHECK(matmul(zeros({3, 0, 5}), zeros({5, 2})).shape() == Shape{3, 0, 2});
}
