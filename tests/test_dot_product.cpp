// nn::DotProductAttention and nn::ProjectedDotProductAttention (nn/attention/dot_product.*):
// naive loop oracle with every mask, gradchecks, PyTorch fixtures (the tutorials' layers), errors.
#include "nn/attention/dot_product.h"

#include "tests/attention_classic_util.h"

using namespace minidl;
using namespace minidl::testing;
using namespace minidl::testing::classic;

namespace {
// scale · q[b, i] · k[b, j] with plain loops.
Score naive_dot_score(const Tensor& query, const Tensor& keys, double scale) {
  Values q(query), k(keys);
  return [=](int64_t b, int64_t i, int64_t j) {
    double s = 0.0;
    for (int64_t d = 0; d < q.shape[2]; ++d) s += q(b, i, d) * k(b, j, d);
    return s * scale;
  };
}

Tensor project(const nn::Linear& layer, const Tensor& x) {  // x W^T + b, with loops
  Values xv(x), w(layer.weight);
  Values bias(layer.bias.defined() ? layer.bias : zeros({layer.out_features}, kFloat64));
  std::vector<double> out;
  for (int64_t b = 0; b < x.size(0); ++b)
    for (int64_t t = 0; t < x.size(1); ++t)
      for (int64_t o = 0; o < layer.out_features; ++o) {
        double s = bias(o);
        for (int64_t i = 0; i < layer.in_features; ++i) s += w(o, i) * xv(b, t, i);
        out.push_back(s);
      }
  return from_vector(out, {x.size(0), x.size(1), layer.out_features}, kFloat64);
}
}  // namespace

TEST_CASE("DotProductAttention matches a naive loop oracle with every mask",
          "[attention-classic]") {
  manual_seed(21);
  const int64_t B = 2, Tq = 3, Tk = 4;
  Tensor kpm = padding_mask({{0, 0, 1, 0}, {0, 0, 0, 0}});
  // batch 1, query 0 has every key excluded by attn_mask [B, Tq, Tk]
  Tensor batched =
      padding_mask(
          {{0, 1, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {1, 1, 1, 1}, {0, 0, 0, 1}, {0, 1, 0, 1}})
          .view({B, Tq, Tk});
  Tensor shared = padding_mask({{0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 0}});
  Values kp(kpm), bm(batched), sm(shared);
  for (bool scaled : {false, true})
    for (int mask_kind = 0; mask_kind < 4; ++mask_kind)
      for (bool causal : {false, true}) {
        INFO("scaled=" << scaled << " mask_kind=" << mask_kind << " causal=" << causal);
        nn::DotProductAttention att(scaled);
        Tensor q = randn({B, Tq, 5}, kFloat64), k = randn({B, Tk, 5}, kFloat64),
               v = randn({B, Tk, 2}, kFloat64);
        auto exclude = [&](int64_t b, int64_t i, int64_t j) {
          bool out = causal && j > i;
          if (mask_kind == 1) out = out || kp(b, j) != 0;
          if (mask_kind == 2) out = out || bm(b, i, j) != 0;
          if (mask_kind == 3) out = out || sm(i, j) != 0 || kp(b, j) != 0;
          return out;
        };
        Tensor key_padding = mask_kind == 1 || mask_kind == 3 ? kpm : Tensor();
        Tensor attn_mask = mask_kind == 2 ? batched : mask_kind == 3 ? shared : Tensor();
        check_naive(
            att(q, k, v, key_padding, attn_mask, causal),
            naive_attention(B, Tq, Tk, naive_dot_score(q, k, scaled ? 1 / std::sqrt(5.0) : 1.0),
                            exclude, v),
            false);
      }
}

TEST_CASE("ProjectedDotProductAttention matches a naive loop oracle", "[attention-classic]") {
  manual_seed(22);
  for (bool scaled : {false, true})
    for (bool bias : {false, true}) {
      INFO("scaled=" << scaled << " bias=" << bias);
      nn::ProjectedDotProductAttention att(4, 3, 2, scaled, bias);
      att.to(kFloat64);
      Tensor q = randn({2, 3, 4}, kFloat64), k = randn({2, 5, 3}, kFloat64),
             v = randn({2, 5, 2}, kFloat64);
      Tensor kpm = padding_mask({{0, 0, 0, 1, 1}, {1, 1, 1, 1, 1}});
      Values kp(kpm);
      auto exclude = [&](int64_t b, int64_t, int64_t j) { return kp(b, j) != 0; };
      check_naive(att(q, k, v, kpm),
                  naive_attention(2, 3, 5,
                                  naive_dot_score(project(*att.query, q), project(*att.key, k),
                                                  scaled ? 0.5 : 1.0),
                                  exclude, project(*att.value, v)),
                  false);
    }
}

TEST_CASE("Dot-product attention gradients (float64 gradcheck, masks, non-contiguous)",
          "[attention-classic]") {
  manual_seed(23);
  Tensor kpm = padding_mask({{0, 1, 0, 0}, {0, 0, 0, 0}});
  Tensor attn_mask = padding_mask({{0, 0, 0, 1}, {1, 1, 1, 1}, {0, 0, 0, 0}});
  nn::DotProductAttention plain(true);
  Tensor q = transposed_leaf({2, 3, 3}), k = strided_leaf({2, 4, 3}), v = leaf({2, 4, 2});
  check_module_gradients(plain, {q, k, v}, [&](const std::vector<Tensor>& in) {
    return plain(in[0], in[1], in[2], kpm, attn_mask, true);
  });
  nn::ProjectedDotProductAttention projected(2, 3, 2);
  projected.to(kFloat64);
  Tensor pq = transposed_leaf({2, 3, 2});
  check_module_gradients(projected, {pq, k, v}, [&](const std::vector<Tensor>& in) {
    return projected(in[0], in[1], in[2], kpm, attn_mask);
  });
}

TEST_CASE("Dot-product attention: fully excluded rows give zeros, no NaN", "[attention-classic]") {
  manual_seed(24);
  nn::ProjectedDotProductAttention att(3);
  Tensor x = randn({2, 3, 3}).requires_grad_();
  nn::AttentionOutput r = att(x, x, x, padding_mask({{0, 0, 0}, {1, 1, 1}}), Tensor(), true);
  CHECK(allclose(r.output.select(0, 1), zeros({3, 3})));
  CHECK(allclose(r.weights.select(0, 0).select(0, 0), tensor({1.0f, 0.0f, 0.0f})));
  (r.output.sum() + r.weights.pow(2.0).sum()).backward();
  CHECK(no_nan(x));
  for (const Tensor& p : att.parameters()) CHECK(no_nan(p));
}

TEST_CASE("Dot-product attention equals the tutorials' layers in PyTorch", "[attention-classic]") {
  Fixtures fx("attention_classic.txt");
  nn::DotProductAttention plain;
  check_module_fixture(fx, "dot", plain, {"query", "key", "value"},
                       [&](const std::vector<Tensor>& in) { return plain(in[0], in[1], in[2]); });
  nn::ProjectedDotProductAttention head(3, 2, 2, /*scaled=*/true);
  check_module_fixture(fx, "projected", head, {"query", "key", "value"},
                       [&](const std::vector<Tensor>& in) {
                         return head(in[0], in[1], in[2], Tensor(), Tensor(), /*is_causal=*/true);
                       });
}

TEST_CASE("Dot-product attention parameters and errors", "[attention-classic]") {
  using Catch::Contains;
  nn::ProjectedDotProductAttention att(4, 3, 2, true, false);
  nn::StateDict params = att.named_parameters();
  REQUIRE(params.size() == 3);
  CHECK(params[0].first == "query.weight");
  CHECK(params[1].first == "key.weight");
  CHECK(params[2].first == "value.weight");
  CHECK(att.key->weight.shape() == Shape({4, 3}));
  CHECK(att.extra_repr() == "embed_dim=4, kdim=3, vdim=2, scaled=True, bias=False");
  CHECK(nn::DotProductAttention().parameters().empty());
  CHECK_THROWS_WITH(nn::ProjectedDotProductAttention(0),
                    Contains("ProjectedDotProductAttention") && Contains("embed_dim"));

  Tensor q = randn({2, 3, 4}), k = randn({2, 5, 3}), v = randn({2, 5, 2});
  CHECK_THROWS_WITH(att(randn({2, 3, 3}), k, v),
                    Contains("ProjectedDotProductAttention") && Contains("[2, 3, 3]"));
  CHECK_THROWS_WITH(att(q, k, randn({2, 5, 3})),
                    Contains("ProjectedDotProductAttention") && Contains("[2, 5, 3]"));
  CHECK_THROWS_WITH(att(randn({2, 4}), k, v),
                    Contains("ProjectedDotProductAttention") && Contains("[2, 4]"));

  nn::DotProductAttention plain;
  Tensor pk = randn({2, 5, 4});
  CHECK_THROWS_WITH(plain(q, k, v), Contains("DotProductAttention") && Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(plain(q, pk, randn({2, 4, 2})),
                    Contains("DotProductAttention") && Contains("[2, 4, 2]"));
  CHECK_THROWS_WITH(plain(q, pk, v, Tensor(), zeros({3, 4}, kBool)),
                    Contains("DotProductAttention") && Contains("[3, 4]"));
  CHECK_THROWS_WITH(plain(q, pk, v, Tensor(), zeros({3, 5})),
                    Contains("DotProductAttention") && Contains("bool"));
  CHECK_THROWS_WITH(plain(q, pk, v, zeros({2, 3}, kBool)),
                    Contains("DotProductAttention") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(plain(q, pk, Tensor()), Contains("DotProductAttention") && Contains("value"));
}
