// nn::BahdanauAttention (nn/attention/bahdanau.*): the Keras tutorial's formula against a naive
// loop oracle and against the layer written in PyTorch; precomputed keys; gradchecks; errors.
#include "nn/attention/bahdanau.h"

#include "tests/attention_classic_util.h"

using namespace minidl;
using namespace minidl::testing;
using namespace minidl::testing::classic;

namespace {
// V(tanh(W1 q + W2 k)) with plain loops.
Score naive_bahdanau_score(const nn::BahdanauAttention& m, const Tensor& query,
                           const Tensor& keys) {
  Values q(query), k(keys), w1(m.W1->weight), b1(m.W1->bias), w2(m.W2->weight), b2(m.W2->bias),
      v(m.V->weight), bv(m.V->bias);
  const int64_t units = m.units, dq = m.query_dim, dk = m.key_dim;
  return [=](int64_t b, int64_t i, int64_t j) {
    double s = bv(0);
    for (int64_t u = 0; u < units; ++u) {
      double e = b1(u) + b2(u);
      for (int64_t g = 0; g < dq; ++g) e += w1(u, g) * q(b, i, g);
      for (int64_t g = 0; g < dk; ++g) e += w2(u, g) * k(b, j, g);
      s += v(0, u) * std::tanh(e);
    }
    return s;
  };
}
}  // namespace

TEST_CASE("BahdanauAttention matches a naive loop oracle (ranks, masks, values)",
          "[attention-classic]") {
  manual_seed(11);
  nn::BahdanauAttention att(5, 3, 4);
  att.to(kFloat64);
  Tensor mask = padding_mask({{0, 0, 0, 1, 1}, {1, 1, 1, 1, 1}});
  Values m(mask);
  for (int64_t Tq : {1, 3})
    for (bool single : {false, true})
      for (bool masked : {false, true}) {
        if (single && Tq != 1) continue;
        INFO("Tq=" << Tq << " single=" << single << " masked=" << masked);
        Tensor q = randn({2, Tq, 3}, kFloat64), k = randn({2, 5, 4}, kFloat64),
               v = randn({2, 5, 2}, kFloat64);
        auto exclude = [&](int64_t b, int64_t, int64_t j) { return masked && m(b, j) != 0; };
        Tensor query = single ? q.squeeze(1) : q, kpm = masked ? mask : Tensor();
        check_naive(att(query, k, v, kpm),
                    naive_attention(2, Tq, 5, naive_bahdanau_score(att, q, k), exclude, v), single);
        // the tutorial's values play both roles when no separate values are given
        check_naive(att(query, k, Tensor(), kpm),
                    naive_attention(2, Tq, 5, naive_bahdanau_score(att, q, k), exclude, k), single);
        // precomputed keys give the same result
        Tensor projected = att.precompute_keys(k);
        CHECK(projected.shape() == Shape({2, 5, 5}));
        nn::AttentionOutput a = att.forward_precomputed(query, projected, v, kpm),
                            b = att(query, k, v, kpm);
        CHECK(allclose(a.output, b.output, 1e-12, 1e-14));
        CHECK(allclose(a.weights, b.weights, 1e-12, 1e-14));
      }
}

TEST_CASE("BahdanauAttention gradients (float64 gradcheck, masks, non-contiguous inputs)",
          "[attention-classic]") {
  manual_seed(12);
  nn::BahdanauAttention att(3, 2, 3);
  att.to(kFloat64);
  Tensor mask = padding_mask({{0, 0, 1, 0}, {1, 1, 1, 1}});
  Tensor q = transposed_leaf({2, 3, 2}), k = strided_leaf({2, 4, 3}), v = leaf({2, 4, 2});
  check_module_gradients(att, {q, k, v}, [&](const std::vector<Tensor>& in) {
    return att(in[0], in[1], in[2], mask);
  });
  Tensor step = leaf({2, 2});
  check_module_gradients(att, {step, k}, [&](const std::vector<Tensor>& in) {
    return att.forward_precomputed(in[0], att.precompute_keys(in[1]), in[1]);
  });
}

TEST_CASE("BahdanauAttention: a fully padded row gives zeros and no NaN", "[attention-classic]") {
  manual_seed(13);
  nn::BahdanauAttention att(4, 3, 3);
  Tensor q = randn({2, 3}).requires_grad_(), k = randn({2, 4, 3}).requires_grad_();
  nn::AttentionOutput r = att(q, k, Tensor(), padding_mask({{0, 1, 0, 0}, {1, 1, 1, 1}}));
  CHECK(allclose(r.output.select(0, 1), zeros({3})));
  CHECK(allclose(r.weights.select(0, 1), zeros({4})));
  CHECK(r.weights.select(0, 0).select(0, 1).item<double>() == 0.0);
  (r.output.sum() + r.weights.pow(2.0).sum()).backward();
  CHECK(no_nan(q));
  CHECK(no_nan(k));
  for (const Tensor& p : att.parameters()) CHECK(no_nan(p));
}

TEST_CASE("BahdanauAttention equals the Keras tutorial's layer written in PyTorch",
          "[attention-classic]") {
  Fixtures fx("attention_classic.txt");
  nn::BahdanauAttention att(4, 3, 2);
  check_module_fixture(
      fx, "bahdanau_step", att, {"query", "keys", "mask"},
      [&](const std::vector<Tensor>& in) { return att(in[0], in[1], Tensor(), in[2]); });
  check_module_fixture(fx, "bahdanau_seq", att, {"query", "keys"},
                       [&](const std::vector<Tensor>& in) { return att(in[0], in[1]); });
}

TEST_CASE("BahdanauAttention parameters and errors", "[attention-classic]") {
  using Catch::Contains;
  nn::BahdanauAttention att(5, 3, 4);
  nn::StateDict params = att.named_parameters();
  REQUIRE(params.size() == 6);
  CHECK(params[0].first == "W1.weight");
  CHECK(params[2].first == "W2.weight");
  CHECK(params[4].first == "V.weight");
  CHECK(att.V->weight.shape() == Shape({1, 5}));
  CHECK(att.extra_repr() == "units=5, query_dim=3, key_dim=4");

  CHECK_THROWS_WITH(nn::BahdanauAttention(0, 3, 4),
                    Contains("BahdanauAttention") && Contains("units"));
  Tensor q = randn({2, 3}), k = randn({2, 5, 4});
  CHECK_THROWS_WITH(att(randn({2, 4}), k), Contains("BahdanauAttention") && Contains("[2, 4]"));
  CHECK_THROWS_WITH(att(q, randn({2, 5, 3})),
                    Contains("BahdanauAttention") && Contains("[2, 5, 3]"));
  CHECK_THROWS_WITH(att(q, randn({3, 5, 4})),
                    Contains("BahdanauAttention") && Contains("[3, 5, 4]"));
  CHECK_THROWS_WITH(att(q, k, randn({2, 6, 2})),
                    Contains("BahdanauAttention") && Contains("[2, 6, 2]"));
  CHECK_THROWS_WITH(att(q, k, Tensor(), zeros({2, 4}, kBool)),
                    Contains("BahdanauAttention") && Contains("[2, 4]"));
  CHECK_THROWS_WITH(att(q, k, Tensor(), zeros({2, 5}, kInt64)),
                    Contains("BahdanauAttention") && Contains("bool"));
  CHECK_THROWS_WITH(att.precompute_keys(randn({2, 5, 3})),
                    Contains("BahdanauAttention") && Contains("[2, 5, 3]"));
  CHECK_THROWS_WITH(att.forward_precomputed(q, randn({2, 5, 4}), k),
                    Contains("BahdanauAttention") && Contains("[2, 5, 4]"));
  CHECK_THROWS_WITH(att.forward_precomputed(q, randn({2, 5, 5}), Tensor()),
                    Contains("BahdanauAttention") && Contains("values"));
}
