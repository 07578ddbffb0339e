// scaled_dot_product_attention (ops/attention.cpp), math path: a naive float64 loop reference
// with every mask kind, gradchecks, fully masked rows, dropout, and the error paths.
#include "ops/attention.h"

#include <cmath>
#include <limits>

#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::leaf;
using minidl::testing::transposed_leaf;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

Shape lead_of(const Tensor& q, const Tensor& k, const Tensor& v) {
  auto lead = [](const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); };
  return broadcast_shapes(broadcast_shapes(lead(q), lead(k), "ref"), lead(v), "ref");
}

Shape with(Shape s, int64_t a, int64_t b) {
  s.push_back(a);
  s.push_back(b);
  return s;
}

// Naive attention with plain loops over float64 values (independent of the library's ops).
// Returns {output, weights}.
std::pair<Tensor, Tensor> naive_sdpa(const Tensor& q, const Tensor& k, const Tensor& v,
                                     const SdpaOptions& o) {
  const Shape lead = lead_of(q, k, v);
  const int64_t tq = q.size(-2), tk = k.size(-2), e = q.size(-1), ev = v.size(-1);
  const int64_t n = shape_numel(lead);
  std::vector<double> Q = q.detach().expand(with(lead, tq, e)).to_vector<double>();
  std::vector<double> K = k.detach().expand(with(lead, tk, e)).to_vector<double>();
  std::vector<double> V = v.detach().expand(with(lead, tk, ev)).to_vector<double>();
  std::vector<double> M;
  if (o.attn_mask.defined()) M = o.attn_mask.expand(with(lead, tq, tk)).to_vector<double>();
  std::vector<double> P;
  if (o.key_padding_mask.defined()) P = o.key_padding_mask.to_vector<double>();
  const int64_t per_batch = lead.empty() ? 1 : n / lead[0];
  const double scale = o.scale ? *o.scale : 1.0 / std::sqrt(static_cast<double>(e));
  std::vector<double> out(n * tq * ev, 0.0), w(n * tq * tk, 0.0);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < tq; ++i) {
      std::vector<double> s(tk);
      std::vector<bool> keep(tk, true);
      double mx = -kInf;
      for (int64_t j = 0; j < tk; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < e; ++c) dot += Q[(b * tq + i) * e + c] * K[(b * tk + j) * e + c];
        s[j] = dot * scale;
        if (!M.empty()) {
          double m = M[(b * tq + i) * tk + j];
          if (o.attn_mask.dtype() == kBool)
            keep[j] = keep[j] && m != 0.0;
          else
            s[j] += m;
        }
        if (!P.empty() && P[(b / per_batch) * tk + j] != 0.0) keep[j] = false;
        if (o.is_causal && j > i) keep[j] = false;
        if (s[j] == -kInf) keep[j] = false;
        if (keep[j]) mx = std::max(mx, s[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < tk; ++j) sum += keep[j] ? std::exp(s[j] - mx) : 0.0;
      for (int64_t j = 0; j < tk; ++j) {
        double p = keep[j] ? std::exp(s[j] - mx) / sum : 0.0;
        w[(b * tq + i) * tk + j] = p;
        for (int64_t c = 0; c < ev; ++c) out[(b * tq + i) * ev + c] += p * V[(b * tk + j) * ev + c];
      }
    }
  return {from_vector(out, with(lead, tq, ev), kFloat64),
          from_vector(w, with(lead, tq, tk), kFloat64)};
}

SdpaOptions math_opts() {
  SdpaOptions o;
  o.backend = SdpaBackend::Math;
  o.need_weights = true;
  return o;
}
}  // namespace

TEST_CASE("sdpa math path matches a naive loop reference with every mask kind", "[sdpa]") {
  manual_seed(11);
  const int64_t B = 2, H = 3, Tq = 5, Tk = 7, E = 4, Ev = 3;
  Tensor q = randn({B, H, Tq, E}, kFloat64), k = randn({B, H, Tk, E}, kFloat64),
         v = randn({B, H, Tk, Ev}, kFloat64);
  Tensor bool_mask = rand({Tq, Tk}, kFloat64) > 0.3;
  Tensor float_mask = randn({H, Tq, Tk}, kFloat64);
  Tensor kpm = zeros({B, Tk}, kBool);
  kpm.select(0, 1).narrow(0, 4, Tk - 4).fill_(1.0);
  for (int variant = 0; variant < 8; ++variant) {
    INFO("variant " << variant);
    SdpaOptions o = math_opts();
    if (variant & 1) o.attn_mask = bool_mask;
    if (variant & 2) o.key_padding_mask = kpm;
    if (variant & 4) o.is_causal = true;
    if (variant == 6) o.attn_mask = float_mask;
    if (variant == 5) o.scale = 0.3;
    SdpaResult r = scaled_dot_product_attention(q, k, v, o);
    auto [out, w] = naive_sdpa(q, k, v, o);
    CHECK(allclose(r.output, out, 1e-10, 1e-12));
    CHECK(allclose(r.weights, w, 1e-10, 1e-12));
  }
  // Broadcast leading dims: q [B, H, Tq, E] with k, v shared over heads [B, 1, Tk, E], 2-D inputs.
  SdpaOptions o = math_opts();
  Tensor k1 = randn({B, 1, Tk, E}, kFloat64), v1 = randn({Tk, Ev}, kFloat64);
  SdpaResult r = scaled_dot_product_attention(q, k1, v1, o);
  CHECK(r.output.shape() == Shape({B, H, Tq, Ev}));
  CHECK(allclose(r.output, naive_sdpa(q, k1, v1, o).first, 1e-10, 1e-12));
  Tensor q2 = randn({Tq, E}, kFloat64);
  o.is_causal = true;
  CHECK(allclose(scaled_dot_product_attention(q2, k1.select(0, 0).select(0, 0), v1, o).output,
                 naive_sdpa(q2, k1.select(0, 0).select(0, 0), v1, o).first, 1e-10, 1e-12));
  // The PyTorch-signature form.
  CHECK(allclose(scaled_dot_product_attention(q, k, v, bool_mask, 0.0, true),
                 naive_sdpa(q, k, v,
                            [&] {
                              SdpaOptions p;
                              p.attn_mask = bool_mask;
                              p.is_causal = true;
                              return p;
                            }())
                     .first,
                 1e-10, 1e-12));
}

TEST_CASE("sdpa math path: float64 gradchecks with masks and non-contiguous inputs", "[sdpa]") {
  manual_seed(12);
  const int64_t B = 2, Tq = 3, Tk = 4, E = 3, Ev = 2;
  Tensor q = transposed_leaf({B, Tq, E}), k = leaf({B, Tk, E}), v = leaf({B, Tk, Ev});
  Tensor fmask = leaf({Tq, Tk});
  Tensor kpm = zeros({B, Tk}, kBool);
  kpm.select(0, 0).select(0, 3).fill_(1.0);
  for (int variant = 0; variant < 3; ++variant) {
    INFO("variant " << variant);
    SdpaOptions o;
    o.backend = SdpaBackend::Math;
    if (variant == 1) {
      o.key_padding_mask = kpm;
      o.is_causal = true;
    }
    if (variant == 2) o.attn_mask = rand({B, Tq, Tk}, kFloat64) > 0.4;
    check_gradients(
        [&](const std::vector<Tensor>& x) {
          return scaled_dot_product_attention(x[0], x[1], x[2], o).output;
        },
        {q, k, v});
  }
  // The float attn_mask is differentiable too (added to the scores).
  check_gradients(
      [&](const std::vector<Tensor>& x) {
        SdpaOptions o;
        o.backend = SdpaBackend::Math;
        o.attn_mask = x[3];
        return scaled_dot_product_attention(x[0], x[1], x[2], o).output;
      },
      {q, k, v, fmask});
}

TEST_CASE("sdpa: a fully masked query row gives zero weights, zero output, finite gradients",
          "[sdpa]") {
  manual_seed(13);
  Tensor q = leaf({2, 3, 4}), k = leaf({2, 5, 4}), v = leaf({2, 5, 3});
  Tensor mask = ones({3, 5}, kBool);
  mask.select(0, 1).fill_(0.0);  // query 1 attends to nothing
  Tensor kpm = zeros({2, 5}, kBool);
  kpm.select(0, 1).fill_(1.0);  // batch 1: every key padded
  SdpaOptions o = math_opts();
  o.attn_mask = mask;
  o.key_padding_mask = kpm;
  SdpaResult r = scaled_dot_product_attention(q, k, v, o);
  auto [ref_out, ref_w] = naive_sdpa(q, k, v, o);
  CHECK(allclose(r.output, ref_out, 1e-10, 1e-12));
  CHECK(allclose(r.weights, ref_w, 1e-10, 1e-12));
  CHECK(r.output.select(0, 1).abs().sum().item<double>() == 0.0);
  CHECK(r.output.select(0, 0).select(0, 1).abs().sum().item<double>() == 0.0);
  r.output.sum().backward();
  for (const Tensor& t : {q, k, v}) {
    std::vector<double> g = t.grad().to_vector<double>();
    for (double x : g) REQUIRE(std::isfinite(x));
  }
  CHECK(q.grad().select(0, 1).abs().sum().item<double>() == 0.0);
  CHECK(k.grad().select(0, 1).abs().sum().item<double>() == 0.0);
  // A -inf float mask on every key of a row behaves the same.
  SdpaOptions f = math_opts();
  f.attn_mask = zeros({3, 5}, kFloat64);
  f.attn_mask.select(0, 2).fill_(-kInf);
  Tensor out = scaled_dot_product_attention(q, k, v, f).output;
  CHECK(out.select(1, 2).abs().sum().item<double>() == 0.0);
  CHECK(std::isfinite(out.sum().item<double>()));
}

TEST_CASE("sdpa: dropout on the weights, seeded by the generator", "[sdpa]") {
  manual_seed(14);
  Tensor q = randn({2, 6, 4}, kFloat64), k = randn({2, 8, 4}, kFloat64),
         v = randn({2, 8, 4}, kFloat64);
  SdpaOptions o = math_opts();
  o.dropout_p = 0.5;
  Generator g1(7), g2(7);
  o.generator = &g1;
  SdpaResult a = scaled_dot_product_attention(q, k, v, o);
  o.generator = &g2;
  SdpaResult b = scaled_dot_product_attention(q, k, v, o);
  CHECK(allclose(a.output, b.output, 0, 0));
  // The returned weights are the dropped-out ones and the output is weights @ v.
  CHECK(allclose(a.output, matmul(a.weights, v), 1e-12, 1e-12));
  std::vector<double> w = a.weights.to_vector<double>();
  int64_t zeros_count = 0;
  for (double x : w) zeros_count += x == 0.0;
  CHECK(zeros_count > 10);
  CHECK(zeros_count < 86);
  // Without dropout the weights of each row sum to 1.
  o.dropout_p = 0.0;
  CHECK(allclose(scaled_dot_product_attention(q, k, v, o).weights.sum({-1}), ones({2, 6}, kFloat64),
                 1e-12, 1e-12));
  // p = 1 drops everything.
  o.dropout_p = 1.0;
  CHECK(scaled_dot_product_attention(q, k, v, o).output.abs().sum().item<double>() == 0.0);
}

TEST_CASE("sdpa: error paths name the op and the shapes", "[sdpa]") {
  Tensor q = randn({2, 3, 4}), k = randn({2, 5, 4}), v = randn({2, 5, 6});
  auto call = [&](const Tensor& a, const Tensor& b, const Tensor& c, SdpaOptions o = {}) {
    return scaled_dot_product_attention(a, b, c, o);
  };
  using Catch::Contains;
  CHECK_THROWS_WITH(call(randn({4}), k, v),
                    Contains("scaled_dot_product_attention") && Contains("[4]"));
  CHECK_THROWS_WITH(call(q, randn({2, 5, 3}), v),
                    Contains("scaled_dot_product_attention") && Contains("[2, 5, 3]"));
  CHECK_THROWS_WITH(call(q, k, randn({2, 4, 6})), Contains("Tk") && Contains("[2, 4, 6]"));
  CHECK_THROWS_WITH(call(q, randn({3, 5, 4}), randn({3, 5, 6})),
                    Contains("do not broadcast") && Contains("[3, 5, 4]"));
  CHECK_THROWS_WITH(call(q, k.to(kFloat64), v), Contains("dtype"));
  CHECK_THROWS_WITH(call(q.to(kInt64), k.to(kInt64), v.to(kInt64)), Contains("floating"));
  SdpaOptions o;
  o.attn_mask = ones({3, 4}, kBool);
  CHECK_THROWS_WITH(call(q, k, v, o),
                    Contains("attn_mask") && Contains("[3, 4]") && Contains("[2, 3, 5]"));
  o.attn_mask = ones({3, 5}, kInt64);
  CHECK_THROWS_WITH(call(q, k, v, o), Contains("attn_mask") && Contains("int64"));
  o = {};
  o.key_padding_mask = zeros({2, 4}, kBool);
  CHECK_THROWS_WITH(call(q, k, v, o), Contains("key_padding_mask") && Contains("[2, 4]"));
  o.key_padding_mask = zeros({2, 5});
  CHECK_THROWS_WITH(call(q, k, v, o), Contains("key_padding_mask") && Contains("float32"));
  o = {};
  o.dropout_p = 1.5;
  CHECK_THROWS_WITH(call(q, k, v, o), Contains("dropout_p") && Contains("1.5"));
  o.dropout_p = -0.1;
  CHECK_THROWS_WITH(call(q, k, v, o), Contains("dropout_p"));
  o = {};
  o.need_weights = true;
  o.backend = SdpaBackend::Fused;
  CHECK_THROWS_WITH(call(q, k, v, o), Contains("need_weights") && Contains("Fused"));
}

TEST_CASE("sdpa: empty key sequence and empty batch", "[sdpa]") {
  // No keys: every query row is fully masked, so the output is zeros (math path).
  Tensor q = randn({2, 3, 4}), k = randn({2, 0, 4}), v = randn({2, 0, 5});
  Tensor out = scaled_dot_product_attention(q, k, v);
  CHECK(out.shape() == Shape({2, 3, 5}));
  CHECK(out.abs().sum().item<float>() == 0.0f);
  Tensor e = scaled_dot_product_attention(randn({0, 3, 4}), randn({0, 2, 4}), randn({0, 2, 5}));
  CHECK(e.shape() == Shape({0, 3, 5}));
}
