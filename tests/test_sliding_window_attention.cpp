// Sliding-window attention: the fused band kernel against a naive float64 loop reference and
// against dense attention with a band mask (float32, odd sizes), its gradients (gradcheck,
// non-contiguous, masks, dropout), O(T * w) memory at T = 20000, errors; and the
// nn::SlidingWindowAttention module (PyTorch MHA fixture with a window covering the sequence,
// gradcheck of its parameters, errors).
#include <chrono>
#include <cmath>
#include <limits>

#include "nn/attention/sliding_window.h"
#include "ops/sliding_window_attention.h"
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

// Plain-loop band attention over q [N, T, E], k [N, T, E], v [N, T, Ev] (float64 values);
// mask [B, T] (true = padded) shared by N / B consecutive sequences. Returns {out [N, T, Ev],
// dense weights [N, T, T]}.
std::pair<std::vector<double>, std::vector<double>> naive_band_attention(
    const Tensor& q, const Tensor& k, const Tensor& v, int64_t wl, int64_t wr, const Tensor& mask,
    double scale) {
  const int64_t T = q.size(-2), E = q.size(-1), Ev = v.size(-1);
  const int64_t N = q.numel() / (T * E);
  std::vector<double> qv = q.to_vector<double>(), kv = k.to_vector<double>(),
                      vv = v.to_vector<double>();
  std::vector<bool> padded(static_cast<size_t>(N * T), false);
  if (mask.defined()) {
    std::vector<bool> m = mask.to_vector<bool>();
    const int64_t B = static_cast<int64_t>(m.size()) / T;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < T; ++j) padded[n * T + j] = m[(n / (N / B)) * T + j];
  }
  std::vector<double> out(N * T * Ev, 0.0), weights(N * T * T, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < T; ++i) {
      std::vector<double> s(T, 0.0);
      std::vector<bool> in(T, false);
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < T; ++j) {
        in[j] = j >= i - wl && j <= i + wr && !padded[n * T + j];
        if (!in[j]) continue;
        for (int64_t e = 0; e < E; ++e) s[j] += qv[(n * T + i) * E + e] * kv[(n * T + j) * E + e];
        s[j] *= scale;
        m = std::max(m, s[j]);
      }
      double z = 0;
      for (int64_t j = 0; j < T; ++j)
        if (in[j]) z += std::exp(s[j] - m);
      for (int64_t j = 0; j < T; ++j) {
        if (!in[j]) continue;
        const double p = std::exp(s[j] - m) / z;
        weights[(n * T + i) * T + j] = p;
        for (int64_t c = 0; c < Ev; ++c) out[(n * T + i) * Ev + c] += p * vv[(n * T + j) * Ev + c];
      }
    }
  return {out, weights};
}

Tensor from_vector(const std::vector<double>& values, const Shape& shape) {
  Tensor t = empty(shape, kFloat64);
  double* p = t.data_ptr<double>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return t;
}

// Dense attention with a band mask through the library's ops: matmul + masked_softmax.
std::pair<Tensor, Tensor> dense_band_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                               int64_t wl, int64_t wr, const Tensor& mask,
                                               double scale) {
  const int64_t T = q.size(-2);
  Tensor outside = empty({T, T}, kBool);
  bool* o = outside.data_ptr<bool>();
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j) o[i * T + j] = j < i - wl || j > i + wr;
  Tensor excluded = outside;
  if (mask.defined()) {
    Shape s(static_cast<size_t>(q.dim()), 1);
    s[0] = mask.size(0);
    s.back() = T;
    excluded = logical_or(outside, mask.reshape(s));
  }
  Tensor p = masked_softmax(matmul(q, k.transpose(-2, -1)) * scale, excluded, -1);
  return {matmul(p, v), p};
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

TEST_CASE("sliding_window_attention matches a naive float64 band reference",
          "[attention-efficient]") {
  manual_seed(1);
  struct Case {
    int64_t B, H, T, E, Ev, wl, wr;
    bool masked;
  };
  for (Case c : {Case{2, 2, 7, 3, 4, 2, 1, true}, Case{1, 3, 1, 2, 2, 3, 3, false},
                 Case{2, 1, 5, 4, 3, 9, 0, true}, Case{1, 2, 40, 5, 3, 3, 6, true},
                 Case{2, 1, 9, 3, 2, 0, 0, false}}) {
    INFO("T " << c.T << " wl " << c.wl << " wr " << c.wr << " masked " << c.masked);
    Tensor q = randn({c.B, c.H, c.T, c.E}, kFloat64), k = randn({c.B, c.H, c.T, c.E}, kFloat64),
           v = randn({c.B, c.H, c.T, c.Ev}, kFloat64);
    Tensor mask;
    if (c.masked) {
      mask = zeros({c.B, c.T}, kBool);
      // Batch 0: pad the last two keys; with a causal window of 1 the last query sees nothing.
      mask.select(0, 0)
          .narrow(0, std::max<int64_t>(0, c.T - 2), std::min<int64_t>(2, c.T))
          .fill_(1);
    }
    const double scale = 0.7;
    auto [out_ref, w_ref] = naive_band_attention(q, k, v, c.wl, c.wr, mask, scale);
    SlidingWindowResult r = sliding_window_attention(q, k, v, c.wl, c.wr, mask, scale, true);
    CHECK(r.weights.shape() == Shape({c.B, c.H, c.T, c.wl + c.wr + 1}));
    CHECK(allclose(r.output, from_vector(out_ref, {c.B, c.H, c.T, c.Ev}), 1e-12, 1e-12));
    CHECK(allclose(band_to_dense(r.weights, c.wl, c.wr), from_vector(w_ref, {c.B, c.H, c.T, c.T}),
                   1e-12, 1e-12));
  }
}

TEST_CASE("sliding_window_attention: band layout, out-of-sequence entries and empty rows are 0",
          "[attention-efficient]") {
  manual_seed(2);
  Tensor q = randn({1, 4, 2}, kFloat64), k = randn({1, 4, 2}, kFloat64),
         v = randn({1, 4, 3}, kFloat64);
  // window_left 1, window_right 0; keys 2 and 3 padded: query 3 sees keys 2, 3 -> nothing.
  Tensor mask = bool_tensor({0, 0, 1, 1}, {1, 4});
  SlidingWindowResult r = sliding_window_attention(q, k, v, 1, 0, mask, std::nullopt, true);
  std::vector<double> w = r.weights.to_vector<double>();  // [1, 4, 2]: columns keys i-1, i
  CHECK(w[0] == 0.0);                                     // key -1 is outside the sequence
  CHECK(w[1] == Approx(1.0));                             // query 0 sees only key 0
  CHECK(w[2] + w[3] == Approx(1.0));                      // query 1: keys 0, 1
  CHECK(w[4] == Approx(1.0));                             // query 2: key 1 (key 2 padded)
  CHECK(w[5] == 0.0);
  CHECK(w[6] == 0.0);  // query 3: fully masked row
  CHECK(w[7] == 0.0);
  std::vector<double> out = r.output.to_vector<double>();
  for (int c = 0; c < 3; ++c) CHECK(out[9 + c] == 0.0);
  // Unbatched 2-d inputs take a [T] mask.
  SlidingWindowResult r2 = sliding_window_attention(q.select(0, 0), k.select(0, 0), v.select(0, 0),
                                                    1, 0, mask.select(0, 0), std::nullopt, true);
  CHECK(allclose(r2.output, r.output.select(0, 0), 0, 0));
  // The dense expansion puts column c of row i at key i - 1 + c.
  Tensor dense = band_to_dense(r.weights, 1, 0);
  CHECK(dense.shape() == Shape({1, 4, 4}));
  CHECK(dense.to_vector<double>()[1 * 4 + 0] == Approx(w[2]));
}

TEST_CASE("sliding_window_attention equals dense band-masked attention in float32",
          "[attention-efficient]") {
  manual_seed(3);
  struct Case {
    int64_t B, H, T, E, Ev, wl, wr;
    bool masked;
  };
  for (Case c : {Case{2, 2, 1, 8, 8, 4, 4, true}, Case{1, 2, 5, 6, 4, 8, 8, false},
                 Case{2, 3, 37, 16, 8, 5, 2, true}, Case{1, 1, 130, 8, 5, 17, 0, true},
                 Case{3, 1, 101, 7, 9, 40, 33, true}, Case{2, 2, 70, 4, 4, 0, 0, true}}) {
    INFO("T " << c.T << " wl " << c.wl << " wr " << c.wr);
    Tensor q = randn({c.B, c.H, c.T, c.E}).requires_grad_(),
           k = randn({c.B, c.H, c.T, c.E}).requires_grad_(),
           v = randn({c.B, c.H, c.T, c.Ev}).requires_grad_();
    Tensor mask;
    if (c.masked) {
      mask = rand({c.B, c.T}).lt(full({1}, 0.3));
      mask.select(0, c.B - 1).fill_(0);
      if (c.T > 3) mask.select(0, 0).narrow(0, 0, 3).fill_(1);  // fully masked rows for wr = 0
    }
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.E));
    SlidingWindowResult r = sliding_window_attention(q, k, v, c.wl, c.wr, mask, std::nullopt, true);
    Tensor up = cos_upstream(r.output.shape(), kFloat32);
    std::vector<Tensor> g = grad({(r.output * up).sum()}, {q, k, v});
    auto [out_ref, p_ref] = dense_band_attention(q, k, v, c.wl, c.wr, mask, scale);
    std::vector<Tensor> g_ref = grad({(out_ref * up).sum()}, {q, k, v});
    CHECK(allclose(r.output, out_ref, 1e-5, 1e-5));
    CHECK(allclose(band_to_dense(r.weights, c.wl, c.wr), p_ref, 1e-5, 1e-6));
    for (int i = 0; i < 3; ++i) {
      INFO("gradient " << i);
      CHECK(allclose(g[i], g_ref[i], 1e-4, 1e-5));
      CHECK(all_finite(g[i]));
    }
  }
}

TEST_CASE("sliding_window_attention gradcheck: q, k, v, non-contiguous, masks, dropout",
          "[attention-efficient]") {
  manual_seed(4);
  // Asymmetric window, a padded tail and a fully masked row (query 5 with window [4, 5]).
  Tensor q = transposed_leaf({2, 6, 3}), k = strided_leaf({2, 6, 3}), v = leaf({2, 6, 2});
  Tensor mask = bool_tensor({0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0}, {2, 6});
  check_gradients(
      [&](const std::vector<Tensor>& x) {
        return sliding_window_attention(x[0], x[1], x[2], 1, 0, mask).output;
      },
      {q, k, v});
  check_gradients(
      [&](const std::vector<Tensor>& x) {
        return sliding_window_attention(x[0], x[1], x[2], 2, 3, mask, 0.5).output;
      },
      {q, k, v});
  // Several query / key blocks (block = 16), 4-d inputs, only some inputs requiring grad.
  Tensor q4 = leaf({1, 2, 37, 2}), k4 = transposed_leaf({1, 2, 37, 2}), v4 = leaf({1, 2, 37, 2});
  check_gradients(
      [&](const std::vector<Tensor>& x) {
        return sliding_window_attention(x[0], x[1], x[2], 5, 2).output;
      },
      {q4, k4, v4});
  check_gradients(
      [&](const std::vector<Tensor>& x) {
        return sliding_window_attention(x[0], k4.detach(), x[1], 3, 3).output;
      },
      {q4, v4});
  // Dropout: the same mask each call (a fresh generator with one seed).
  check_gradients(
      [&](const std::vector<Tensor>& x) {
        Generator gen(7);
        return sliding_window_attention(x[0], x[1], x[2], 2, 1, mask, std::nullopt, false, 0.4,
                                        &gen)
            .output;
      },
      {q, k, v});
  // A non-contiguous mask reads the same as its contiguous copy.
  Tensor mask_t = mask.t().contiguous().t();
  REQUIRE_FALSE(mask_t.is_contiguous());
  CHECK(allclose(sliding_window_attention(q, k, v, 2, 1, mask_t).output,
                 sliding_window_attention(q, k, v, 2, 1, mask).output, 0, 0));
  // Fully masked rows give zero, finite gradients.
  Tensor all_padded = ones({2, 6}, kBool);
  Tensor out = sliding_window_attention(q, k, v, 1, 1, all_padded).output;
  std::vector<Tensor> g = grad({out.sum()}, {q, k, v});
  CHECK(out.abs().sum().item() == 0.0);
  for (const Tensor& t : g) CHECK(t.abs().sum().item() == 0.0);
}

TEST_CASE("sliding_window_attention dropout: weights are the dropped-out band, out = weights v",
          "[attention-efficient]") {
  manual_seed(5);
  Tensor q = randn({2, 9, 4}), k = randn({2, 9, 4}), v = randn({2, 9, 3});
  Generator gen(11);
  SlidingWindowResult r =
      sliding_window_attention(q, k, v, 2, 2, Tensor(), std::nullopt, true, 0.5, &gen);
  CHECK(allclose(r.output, matmul(band_to_dense(r.weights, 2, 2), v), 1e-5, 1e-6));
  std::vector<double> w = r.weights.to_vector<double>();
  int64_t zeros_in_band = 0;
  for (double x : w) zeros_in_band += x == 0.0;
  CHECK(zeros_in_band > 20);  // about half of the 2 * 9 * 5 entries are dropped
  SlidingWindowResult none =
      sliding_window_attention(q, k, v, 2, 2, Tensor(), std::nullopt, true, 1.0);
  CHECK(none.output.abs().sum().item() == 0.0);
}

TEST_CASE("sliding_window_attention is O(T * w): T = 20000, w = 16", "[attention-efficient]") {
  manual_seed(6);
  const int64_t T = 20000, w = 16;
  Tensor q = randn({1, 2, T, 16}).requires_grad_(), k = randn({1, 2, T, 16}).requires_grad_(),
         v = randn({1, 2, T, 16}).requires_grad_();
  auto start = std::chrono::steady_clock::now();
  SlidingWindowResult r = sliding_window_attention(q, k, v, w, w, Tensor(), std::nullopt, true);
  r.output.sum().backward();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.weights.shape() == Shape({1, 2, T, 2 * w + 1}));  // [T, 33], not [T, T]
  CHECK(q.grad().shape() == q.shape());
  CHECK(seconds < 2.0);  // dense attention would need 2 * 20000^2 * 4 bytes = 3.2 GB of scores
  // Rows sum to 1.
  Tensor row_sums = r.weights.sum({-1});
  CHECK(allclose(row_sums, ones_like(row_sums), 1e-5, 1e-5));
}

TEST_CASE("sliding_window_attention and band_to_dense errors", "[attention-efficient]") {
  Tensor q = zeros({2, 5, 3}), k = zeros({2, 5, 3}), v = zeros({2, 5, 4});
  using Catch::Contains;
  CHECK_THROWS_WITH(sliding_window_attention(q, zeros({2, 6, 3}), v, 1, 1),
                    Contains("sliding_window_attention") && Contains("[2, 6, 3]"));
  CHECK_THROWS_WITH(sliding_window_attention(q, zeros({2, 5, 2}), v, 1, 1),
                    Contains("sliding_window_attention") && Contains("[2, 5, 2]"));
  CHECK_THROWS_WITH(sliding_window_attention(q, k, zeros({5, 4}), 1, 1),
                    Contains("sliding_window_attention") && Contains("[5, 4]"));
  CHECK_THROWS_WITH(sliding_window_attention(q, k, v.to(kFloat64), 1, 1),
                    Contains("sliding_window_attention") && Contains("float64"));
  CHECK_THROWS_WITH(sliding_window_attention(q.to(kInt64), k.to(kInt64), v.to(kInt64), 1, 1),
                    Contains("sliding_window_attention") && Contains("int64"));
  CHECK_THROWS_WITH(sliding_window_attention(q, k, v, -1, 1),
                    Contains("sliding_window_attention") && Contains("-1"));
  CHECK_THROWS_WITH(sliding_window_attention(zeros({2, 5, 0}), zeros({2, 5, 0}), v, 1, 1),
                    Contains("sliding_window_attention") && Contains("[2, 5, 0]"));
  CHECK_THROWS_WITH(sliding_window_attention(q, k, v, 1, 1, zeros({2, 4}, kBool)),
                    Contains("sliding_window_attention") && Contains("[2, 4]"));
  CHECK_THROWS_WITH(sliding_window_attention(q, k, v, 1, 1, zeros({2, 5})),
                    Contains("sliding_window_attention") && Contains("float32"));
  CHECK_THROWS_WITH(sliding_window_attention(q, k, v, 1, 1, Tensor(), std::nullopt, false, 1.5),
                    Contains("sliding_window_attention") && Contains("1.5"));
  CHECK_THROWS_WITH(band_to_dense(zeros({5, 4}), 1, 1),
                    Contains("band_to_dense") && Contains("[5, 4]"));
}

// ---------------------------------------------------------------- the module

TEST_CASE("SlidingWindowAttention with a window covering the sequence equals PyTorch's MHA",
          "[attention-efficient]") {
  Fixtures fx("attention_efficient.txt");
  nn::SlidingWindowAttention m(4, 2, /*window=*/8);
  m.to(kFloat64);
  m.load_state_dict({{"in_proj_weight", fx["swa_in_proj_weight"]},
                     {"in_proj_bias", fx["swa_in_proj_bias"]},
                     {"out_proj.weight", fx["swa_out_proj.weight"]},
                     {"out_proj.bias", fx["swa_out_proj.bias"]}});
  Tensor x = fx["swa_x"].clone().requires_grad_();
  nn::AttentionOutput r = m(x, fx["swa_mask"], true);
  CHECK(allclose(r.output, fx["swa_out"], 1e-10, 1e-12));
  // Band weights [B, T, 17] averaged over heads; their dense form is MHA's [B, T, T] weights.
  CHECK(r.weights.shape() == Shape({2, 5, 17}));
  CHECK(allclose(band_to_dense(r.weights, 8, 8), fx["swa_weights"], 1e-10, 1e-12));
  (r.output * cos_upstream(r.output.shape())).sum().backward();
  CHECK(allclose(x.grad(), fx["swa_dx"], 1e-9, 1e-12));
  CHECK(allclose(m.in_proj_weight.grad(), fx["swa_d_in_proj_weight"], 1e-9, 1e-12));
  CHECK(allclose(m.out_proj->weight.grad(), fx["swa_d_out_proj_weight"], 1e-9, 1e-12));
}

TEST_CASE("SlidingWindowAttention: naive per-head reference, layouts, gradcheck of parameters",
          "[attention-efficient]") {
  manual_seed(8);
  nn::SlidingWindowAttention m(6, 3, /*window=*/2, /*causal=*/true);
  m.to(kFloat64);
  for (Tensor p : m.parameters()) {
    NoGradGuard no_grad;
    p.uniform_(-0.5, 0.5);
  }
  Tensor x = randn({2, 7, 6}, kFloat64);
  Tensor mask = bool_tensor({0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0}, {2, 7});
  nn::AttentionOutput r = m(x, mask, true, false);
  CHECK(r.weights.shape() == Shape({2, 3, 7, 3}));
  // Reference: projections by hand, the naive band loop per head, the output projection.
  Tensor qkv = matmul(x, m.in_proj_weight.t()) + m.in_proj_bias;  // [2, 7, 18]
  Tensor heads = qkv.view({2, 7, 3, 3, 2}).permute({2, 0, 3, 1, 4}).contiguous();
  auto [out_ref, w_ref] = naive_band_attention(
      heads.select(0, 0), heads.select(0, 1), heads.select(0, 2), 2, 0, mask, 1.0 / std::sqrt(2.0));
  Tensor merged = from_vector(out_ref, {2, 3, 7, 2}).permute({0, 2, 1, 3}).reshape({2, 7, 6});
  Tensor expected = matmul(merged, m.out_proj->weight.t()) + m.out_proj->bias;
  CHECK(allclose(r.output, expected, 1e-10, 1e-12));
  CHECK(allclose(band_to_dense(r.weights, 2, 0), from_vector(w_ref, {2, 3, 7, 7}), 1e-10, 1e-12));
  // Sequence-first layout and unbatched input give the same numbers.
  nn::SlidingWindowAttention seq_first(6, 3, 2, true, 0.0, true, /*batch_first=*/false);
  seq_first.to(kFloat64);
  seq_first.load_state_dict(m.state_dict());
  CHECK(allclose(seq_first(x.transpose(0, 1), mask).output.transpose(0, 1), r.output, 1e-12, 0));
  CHECK(allclose(m(x.select(0, 1), mask.select(0, 1)).output, r.output.select(0, 1), 1e-12, 1e-14));
  CHECK(allclose(m.forward(x), m(x, Tensor()).output, 0, 0));
  // Gradients of the input and of every parameter.
  Tensor xl = strided_leaf({2, 7, 6});
  std::vector<Tensor> inputs = {xl};
  for (const auto& p : m.parameters()) inputs.push_back(p);
  check_gradients([&](const std::vector<Tensor>& in) { return m(in[0], mask).output; }, inputs);
  CHECK(m.to_string().find("window=2, causal=True") != std::string::npos);
}

TEST_CASE("SlidingWindowAttention dropout in training only; bias=false", "[attention-efficient]") {
  manual_seed(9);
  nn::SlidingWindowAttention m(4, 1, 3, false, 0.5, /*bias=*/false);
  CHECK(m.named_parameters().size() == 2);  // in_proj_weight, out_proj.weight
  Tensor x = randn({1, 12, 4});
  Tensor train_out = m(x, Tensor()).output;
  m.eval();
  Tensor eval_out = m(x, Tensor()).output;
  CHECK(allclose(eval_out, m(x, Tensor()).output, 0, 0));
  CHECK_FALSE(allclose(train_out, eval_out, 1e-3, 1e-3));
}

TEST_CASE("SlidingWindowAttention errors", "[attention-efficient]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::SlidingWindowAttention(6, 4, 2),
                    Contains("SlidingWindowAttention") && Contains("divisible"));
  CHECK_THROWS_WITH(nn::SlidingWindowAttention(6, 2, -3),
                    Contains("SlidingWindowAttention") && Contains("-3"));
  CHECK_THROWS_WITH(nn::SlidingWindowAttention(0, 1, 2),
                    Contains("SlidingWindowAttention") && Contains("embed_dim=0"));
  nn::SlidingWindowAttention m(6, 2, 2);
  CHECK_THROWS_WITH(m(zeros({2, 5, 4}), Tensor()),
                    Contains("SlidingWindowAttention") && Contains("[2, 5, 4]"));
  CHECK_THROWS_WITH(m(zeros({2, 5, 6}), zeros({2, 4}, kBool)),
                    Contains("SlidingWindowAttention") && Contains("[2, 4]"));
  CHECK_THROWS_WITH(m(zeros({2, 5, 6}), zeros({2, 5})),
                    Contains("SlidingWindowAttention") && Contains("float32"));
  CHECK_THROWS_WITH(m(zeros({2, 5, 6}, kFloat64), Tensor()),
                    Contains("SlidingWindowAttention") && Contains("float64"));
}
