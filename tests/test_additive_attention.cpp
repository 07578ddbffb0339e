// additive_attention_scores (ops/additive_attention.*): the fused Σ_u v tanh(qp + kp) against the
// composition of library ops (float64 exactly, float32 with the vectorized tanh), gradcheck with
// non-contiguous inputs, errors.
#include "ops/additive_attention.h"

#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {
Tensor composed(const Tensor& qp, const Tensor& kp, const Tensor& v) {
  return matmul(tanh(qp.unsqueeze(2) + kp.unsqueeze(1)), v);
}
}  // namespace

TEST_CASE("additive_attention_scores equals tanh(qp + kp) @ v", "[attention-classic]") {
  manual_seed(41);
  Tensor qp = randn({2, 3, 37}, kFloat64), kp = randn({2, 5, 37}, kFloat64),
         v = randn({37}, kFloat64);
  CHECK(allclose(additive_attention_scores(qp, kp, v), composed(qp, kp, v), 1e-14, 1e-14));
  // float32: the polynomial tanh over small, medium, saturated and huge arguments
  for (double scale : {1e-3, 0.1, 1.0, 4.0, 30.0, 1e6}) {
    INFO("scale " << scale);
    Tensor q32 = randn({2, 4, 67}) * scale, k32 = randn({2, 6, 67}) * scale, v32 = randn({67});
    Tensor want = composed(q32.to(kFloat64), k32.to(kFloat64), v32.to(kFloat64));
    CHECK(allclose(additive_attention_scores(q32, k32, v32).to(kFloat64), want, 1e-5, 2e-6));
  }
  // the float32 gradients too
  Tensor q32 = randn({2, 2, 19}).requires_grad_(), k32 = randn({2, 3, 19}).requires_grad_(),
         v32 = randn({19}).requires_grad_();
  Tensor up = randn({2, 2, 3});
  (additive_attention_scores(q32, k32, v32) * up).sum().backward();
  Tensor q64 = q32.detach().to(kFloat64).requires_grad_(),
         k64 = k32.detach().to(kFloat64).requires_grad_(),
         v64 = v32.detach().to(kFloat64).requires_grad_();
  (composed(q64, k64, v64) * up.to(kFloat64)).sum().backward();
  CHECK(allclose(q32.grad().to(kFloat64), q64.grad(), 1e-5, 1e-5));
  CHECK(allclose(k32.grad().to(kFloat64), k64.grad(), 1e-5, 1e-5));
  CHECK(allclose(v32.grad().to(kFloat64), v64.grad(), 1e-5, 1e-5));
}

TEST_CASE("additive_attention_scores gradcheck (non-contiguous, zero upstream entries)",
          "[attention-classic]") {
  manual_seed(42);
  Tensor qp = transposed_leaf({2, 3, 4}), kp = strided_leaf({2, 5, 4}), v = leaf({4});
  check_gradients(
      [](const std::vector<Tensor>& in) { return additive_attention_scores(in[0], in[1], in[2]); },
      {qp, kp, v});
  // entries with zero gradient (masked keys) are skipped in backward: still exact
  Tensor keep = (arange(5.0, kFloat64) < 3.0).to(kFloat64);
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        return additive_attention_scores(in[0], in[1], in[2]) * keep;
      },
      {qp, kp, v});
  // only some inputs require grad
  Tensor fixed_k = kp.detach();
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        return additive_attention_scores(in[0], fixed_k, in[1]);
      },
      {qp, v});
}

TEST_CASE("additive_attention_scores errors", "[attention-classic]") {
  using Catch::Contains;
  Tensor qp = randn({2, 3, 4}), kp = randn({2, 5, 4}), v = randn({4});
  CHECK_THROWS_WITH(additive_attention_scores(qp, randn({2, 5, 3}), v),
                    Contains("additive_attention_scores") && Contains("[2, 5, 3]"));
  CHECK_THROWS_WITH(additive_attention_scores(qp, randn({3, 5, 4}), v),
                    Contains("additive_attention_scores") && Contains("[3, 5, 4]"));
  CHECK_THROWS_WITH(additive_attention_scores(qp, kp, randn({5})),
                    Contains("additive_attention_scores") && Contains("[5]"));
  CHECK_THROWS_WITH(additive_attention_scores(randn({3, 4}), kp, v),
                    Contains("additive_attention_scores") && Contains("[3, 4]"));
  CHECK_THROWS_WITH(additive_attention_scores(qp, kp.to(kFloat64), v),
                    Contains("additive_attention_scores") && Contains("dtype"));
  CHECK_THROWS_WITH(additive_attention_scores(qp.to(kInt64), kp.to(kInt64), v.to(kInt64)),
                    Contains("additive_attention_scores") && Contains("floating"));
}
