// Linear attention (phi = elu + 1): non-causal GEMM form and the fused causal kernel against
// direct O(T * S) loop sums in float64, the equivalent weights matrix, gradchecks with masks
// and non-contiguous inputs, the column-split parallel path, errors; and nn::LinearAttention
// against a PyTorch fixture, its parameter gradcheck and errors.
#include <cmath>

#include "nn/attention/linear_attention.h"
#include "ops/linear_attention.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::cos_upstream;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

double phi(double x) {
  return x > 0 ? x + 1 : std::exp(x);
}

// Direct sums over q [N, T, E], k [N, S, E], v [N, S, Ev] (mask [B, S], true = padded, shared by
// N / B consecutive sequences): A_ij = phi(q_i).phi(k_j) for visible keys,
// out_i = sum_j A_ij v_j / (sum_j A_ij + eps). Returns {out, A normalized}.
std::pair<Tensor, Tensor> naive_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                                 bool causal, const Tensor& mask, double eps) {
  const int64_t T = q.size(-2), S = k.size(-2), E = q.size(-1), Ev = v.size(-1);
  const int64_t N = q.numel() / (T * E);
  std::vector<double> qv = q.to_vector<double>(), kv = k.to_vector<double>(),
                      vv = v.to_vector<double>();
  std::vector<bool> m = mask.defined() ? mask.to_vector<bool>() : std::vector<bool>();
  const int64_t B = mask.defined() ? static_cast<int64_t>(m.size()) / S : 1;
  Shape out_shape = q.shape(), w_shape = q.shape();
  out_shape.back() = Ev;
  w_shape.back() = S;
  Tensor out = zeros(out_shape, kFloat64), weights = zeros(w_shape, kFloat64);
  double* o = out.data_ptr<double>();
  double* w = weights.data_ptr<double>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < T; ++i) {
      std::vector<double> a(S, 0.0);
      double den = eps;
      for (int64_t j = 0; j < S; ++j) {
        if ((causal && j > i) || (mask.defined() && m[(n / (N / B)) * S + j])) continue;
        for (int64_t e = 0; e < E; ++e)
          a[j] += phi(qv[(n * T + i) * E + e]) * phi(kv[(n * S + j) * E + e]);
        den += a[j];
      }
      for (int64_t j = 0; j < S; ++j) {
        w[(n * T + i) * S + j] = a[j] / den;
        for (int64_t c = 0; c < Ev; ++c)
          o[(n * T + i) * Ev + c] += a[j] * vv[(n * S + j) * Ev + c] / den;
      }
    }
  return {out, weights};
}

Tensor bool_tensor(const std::vector<int>& values, const Shape& shape) {
  Tensor t = empty(shape, kBool);
  bool* p = t.data_ptr<bool>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i] != 0;
  return t;
}

bool all_finite(const Tensor& t) {
  for (double x : t.to_vector<double>())
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace

TEST_CASE("linear_attention matches direct sums, causal and not, with padding",
          "[attention-efficient]") {
  manual_seed(21);
  Tensor q = randn({2, 2, 5, 3}, kFloat64), k = randn({2, 2, 5, 3}, kFloat64),
         v = randn({2, 2, 5, 4}, kFloat64);
  Tensor mask = bool_tensor({0, 0, 1, 0, 1, 0, 0, 0, 0, 0}, {2, 5});
  for (bool causal : {false, true}) {
    for (bool masked : {false, true}) {
      INFO("causal " << causal << " masked " << masked);
      Tensor m = masked ? mask : Tensor();
      auto [out_ref, w_ref] = naive_linear_attention(q, k, v, causal, m, 1e-6);
      CHECK(allclose(linear_attention(q, k, v, causal, m), out_ref, 1e-12, 1e-12));
      Tensor w = linear_attention_weights(q, k, causal, m);
      CHECK(allclose(w, w_ref, 1e-12, 1e-12));
      CHECK(allclose(matmul(w, v), out_ref, 1e-12, 1e-12));
    }
  }
  // Non-causal with S != T and unbatched inputs ([S] mask), eps changed.
  Tensor k7 = randn({7, 3}, kFloat64), v7 = randn({7, 2}, kFloat64), q3 = randn({3, 3}, kFloat64);
  Tensor m7 = bool_tensor({0, 1, 0, 0, 0, 0, 1}, {7});
  auto [ref7, w7] = naive_linear_attention(q3, k7, v7, false, m7, 0.1);
  CHECK(allclose(linear_attention(q3, k7, v7, false, m7, 0.1), ref7, 1e-12, 1e-12));
}

TEST_CASE("causal linear_attention: the column-split parallel kernel on long sequences",
          "[attention-efficient]") {
  manual_seed(22);
  // N = 1 sequence, T * E * Ev above the parallel grain: the value columns are split across
  // threads; float32 against the float64 reference.
  Tensor q = randn({1, 1, 64, 32}), k = randn({1, 1, 64, 32}), v = randn({1, 1, 64, 32});
  Tensor mask = zeros({1, 64}, kBool);
  mask.narrow(1, 10, 5).fill_(1);
  auto [ref, w] = naive_linear_attention(q, k, v, true, mask, 1e-6);
  CHECK(allclose(linear_attention(q, k, v, true, mask), ref.to(kFloat32), 1e-4, 1e-5));
  // Gradients of the fused causal kernel equal those of the materialized O(T^2) form.
  Tensor qd = q.to(kFloat64).requires_grad_(), kd = k.to(kFloat64).requires_grad_(),
         vd = v.to(kFloat64).requires_grad_();
  Tensor up = cos_upstream({1, 1, 64, 32});
  std::vector<Tensor> g =
      grad({(linear_attention(qd, kd, vd, true, mask) * up).sum()}, {qd, kd, vd});
  Tensor dense = matmul(linear_attention_weights(qd, kd, true, mask), vd);
  std::vector<Tensor> g_ref = grad({(dense * up).sum()}, {qd, kd, vd});
  for (int i = 0; i < 3; ++i) {
    INFO("gradient " << i);
    CHECK(allclose(g[i], g_ref[i], 1e-9, 1e-11));
  }
}

TEST_CASE("linear_attention gradcheck: q, k, v, non-contiguous, masks, both modes",
          "[attention-efficient]") {
  manual_seed(23);
  Tensor q = transposed_leaf({2, 5, 3}), k = strided_leaf({2, 5, 3}), v = leaf({2, 5, 2});
  Tensor mask = bool_tensor({0, 1, 0, 0, 1, 1, 0, 0, 0, 0}, {2, 5});
  for (bool causal : {false, true}) {
    INFO("causal " << causal);
    check_gradients(
        [&](const std::vector<Tensor>& x) {
          return linear_attention(x[0], x[1], x[2], causal, mask);
        },
        {q, k, v});
    check_gradients(
        [&](const std::vector<Tensor>& x) {
          return linear_attention_weights(x[0], x[1], causal, mask);
        },
        {q, k});
  }
  // A non-contiguous mask reads the same as its contiguous copy.
  Tensor mask_t = mask.t().contiguous().t();
  REQUIRE_FALSE(mask_t.is_contiguous());
  for (bool causal : {false, true})
    CHECK(allclose(linear_attention(q, k, v, causal, mask_t),
                   linear_attention(q, k, v, causal, mask), 0, 0));
  // 4-d, S != T, only k and v requiring grad.
  Tensor q4 = randn({2, 2, 3, 2}, kFloat64), k4 = leaf({2, 2, 4, 2}),
         v4 = transposed_leaf({2, 2, 4, 3});
  check_gradients([&](const std::vector<Tensor>& x) { return linear_attention(q4, x[0], x[1]); },
                  {k4, v4});
  // A sequence whose keys are all padded: output 0, finite gradients.
  Tensor all_padded = bool_tensor({1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, {2, 5});
  for (bool causal : {false, true}) {
    Tensor out = linear_attention(q, k, v, causal, all_padded);
    CHECK(out.select(0, 0).abs().sum().item() == 0.0);
    std::vector<Tensor> g = grad({(out * cos_upstream(out.shape())).sum()}, {q, k, v});
    for (const Tensor& t : g) CHECK(all_finite(t));
    CHECK(g[1].select(0, 0).abs().sum().item() == 0.0);  // padded keys get no gradient
  }
}

TEST_CASE("linear_attention errors", "[attention-efficient]") {
  using Catch::Contains;
  Tensor q = zeros({2, 4, 3}), k = zeros({2, 6, 3}), v = zeros({2, 6, 5});
  CHECK_THROWS_WITH(linear_attention(q, zeros({2, 6, 2}), v),
                    Contains("linear_attention") && Contains("[2, 6, 2]"));
  CHECK_THROWS_WITH(linear_attention(q, k, zeros({2, 5, 5})),
                    Contains("linear_attention") && Contains("[2, 5, 5]"));
  CHECK_THROWS_WITH(linear_attention(q, k, v, true),
                    Contains("linear_attention") && Contains("T == S"));
  CHECK_THROWS_WITH(linear_attention(zeros({4}), k, v),
                    Contains("linear_attention") && Contains("[4]"));
  CHECK_THROWS_WITH(linear_attention(q, k, v.to(kFloat64)),
                    Contains("linear_attention") && Contains("float64"));
  CHECK_THROWS_WITH(linear_attention(q, k, v, false, zeros({2, 4}, kBool)),
                    Contains("linear_attention") && Contains("[2, 4]"));
  CHECK_THROWS_WITH(linear_attention(q, k, v, false, zeros({2, 6}, kInt64)),
                    Contains("linear_attention") && Contains("int64"));
  CHECK_THROWS_WITH(linear_attention(q, k, v, false, Tensor(), -1.0),
                    Contains("linear_attention") && Contains("eps"));
  CHECK_THROWS_WITH(linear_attention_weights(q, zeros({2, 6, 4})),
                    Contains("linear_attention_weights") && Contains("[2, 6, 4]"));
}

// ---------------------------------------------------------------- the module

TEST_CASE("LinearAttention matches the PyTorch formulation, causal and not",
          "[attention-efficient]") {
  Fixtures fx("attention_efficient.txt");
  for (bool causal : {false, true}) {
    const std::string tag = causal ? "la_causal_" : "la_";
    INFO(tag);
    nn::LinearAttention m(4, 2, causal);
    m.to(kFloat64);
    nn::StateDict sd;
    for (const char* name : {"q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias",
                             "v_proj.weight", "v_proj.bias", "out_proj.weight", "out_proj.bias"})
      sd.emplace_back(name, fx[tag + name]);
    m.load_state_dict(sd);
    Tensor q = fx[tag + "q"].clone().requires_grad_(), k = fx[tag + "k"].clone().requires_grad_(),
           v = fx[tag + "v"].clone().requires_grad_();
    nn::AttentionOutput r = m(q, k, v, fx[tag + "mask"]);
    CHECK_FALSE(r.weights.defined());
    CHECK(allclose(r.output, fx[tag + "out"], 1e-10, 1e-12));
    (r.output * cos_upstream(r.output.shape())).sum().backward();
    CHECK(allclose(q.grad(), fx[tag + "dq"], 1e-9, 1e-12));
    CHECK(allclose(k.grad(), fx[tag + "dk"], 1e-9, 1e-12));
    CHECK(allclose(v.grad(), fx[tag + "dv"], 1e-9, 1e-12));
    CHECK(allclose(m.k_proj->weight.grad(), fx[tag + "d_k_proj_weight"], 1e-9, 1e-12));
  }
}

TEST_CASE("LinearAttention: weights on request, layouts, gradcheck of parameters",
          "[attention-efficient]") {
  manual_seed(24);
  nn::LinearAttention m(6, 2, /*causal=*/true);
  m.to(kFloat64);
  Tensor x = randn({2, 5, 6}, kFloat64);
  Tensor mask = bool_tensor({0, 0, 0, 1, 1, 0, 0, 0, 0, 0}, {2, 5});
  nn::AttentionOutput r = m(x, x, x, mask, true, false);
  REQUIRE(r.weights.shape() == Shape({2, 2, 5, 5}));
  // output = out_proj(A v) per head with the materialized weights.
  Tensor v = m.v_proj->forward(x).view({2, 5, 2, 3}).transpose(1, 2);
  Tensor heads = matmul(r.weights, v).transpose(1, 2).reshape({2, 5, 6});
  CHECK(allclose(r.output, m.out_proj->forward(heads), 1e-10, 1e-12));
  CHECK(m(x, x, x, mask, true).weights.shape() == Shape({2, 5, 5}));  // averaged over heads
  // Sequence-first and unbatched layouts.
  nn::LinearAttention seq_first(6, 2, true, true, /*batch_first=*/false);
  seq_first.to(kFloat64);
  seq_first.load_state_dict(m.state_dict());
  Tensor xt = x.transpose(0, 1);
  CHECK(allclose(seq_first(xt, xt, xt, mask).output.transpose(0, 1), r.output, 1e-12, 0));
  Tensor x1 = x.select(0, 1);
  CHECK(allclose(m(x1, x1, x1, mask.select(0, 1)).output, r.output.select(0, 1), 1e-12, 1e-14));
  // Gradients of all inputs (one non-contiguous) and every parameter, non-causal with S != T.
  nn::LinearAttention cross(6, 3, false, /*bias=*/false);
  cross.to(kFloat64);
  CHECK(cross.named_parameters().size() == 4);
  Tensor q = leaf({2, 3, 6}), k = transposed_leaf({2, 4, 6}), val = leaf({2, 4, 6});
  Tensor mask4 = bool_tensor({0, 1, 0, 0, 0, 0, 0, 1}, {2, 4});
  std::vector<Tensor> inputs = {q, k, val};
  for (const auto& p : cross.parameters()) inputs.push_back(p);
  check_gradients(
      [&](const std::vector<Tensor>& in) { return cross(in[0], in[1], in[2], mask4).output; },
      inputs);
  std::vector<Tensor> params = m.parameters();
  check_gradients([&](const std::vector<Tensor>&) { return m(x, x, x, mask).output; }, params);
  CHECK(m.to_string().find("causal=True") != std::string::npos);
}

TEST_CASE("LinearAttention errors", "[attention-efficient]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::LinearAttention(6, 4),
                    Contains("LinearAttention") && Contains("divisible"));
  CHECK_THROWS_WITH(nn::LinearAttention(-2, 1), Contains("LinearAttention") && Contains("-2"));
  nn::LinearAttention m(6, 2), causal(6, 2, true);
  Tensor x = zeros({2, 5, 6});
  CHECK_THROWS_WITH(m(zeros({2, 5, 4}), x, x),
                    Contains("LinearAttention") && Contains("[2, 5, 4]"));
  CHECK_THROWS_WITH(m(x, zeros({3, 5, 6}), zeros({3, 5, 6})),
                    Contains("LinearAttention") && Contains("[3, 5, 6]"));
  CHECK_THROWS_WITH(m(x, x, zeros({2, 4, 6})),
                    Contains("LinearAttention") && Contains("[2, 4, 6]"));
  CHECK_THROWS_WITH(m(x, x, x, zeros({2, 6}, kBool)),
                    Contains("LinearAttention") && Contains("[2, 6]"));
  CHECK_THROWS_WITH(causal(x, zeros({2, 7, 6}), zeros({2, 7, 6})),
                    Contains("LinearAttention") && Contains("[2, 7, 6]"));
  CHECK_THROWS_WITH(m(x.to(kFloat64), x, x), Contains("LinearAttention") && Contains("float64"));
}
