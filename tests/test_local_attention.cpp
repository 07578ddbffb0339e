// nn::LocalAttention (nn/attention/local.*): Luong local-m and local-p against a naive loop
// oracle (every score, both query ranks, padding), gradchecks (the Gaussian carries gradient into
// the predicted position), local-p written in PyTorch, errors.
#include "nn/attention/local.h"

#include "tests/attention_classic_util.h"

using namespace minidl;
using namespace minidl::testing;
using namespace minidl::testing::classic;

namespace {
// local-p's p_t = S_b · sigmoid(v_pᵀ tanh(W_p h_t)) with loops; S_b = unpadded length.
std::vector<std::vector<double>> naive_positions(const nn::LocalAttention& m, const Tensor& query,
                                                 const Tensor& mask, int64_t source) {
  Values q(query), wp(m.W_p->weight), vp(m.v_p->weight);
  const int64_t h = m.hidden_size;
  std::vector<std::vector<double>> p(query.size(0), std::vector<double>(query.size(1)));
  for (int64_t b = 0; b < query.size(0); ++b) {
    double length = static_cast<double>(source);
    if (mask.defined()) {
      Values mv(mask);
      for (int64_t s = 0; s < source; ++s) length -= mv(b, s) != 0 ? 1 : 0;
    }
    for (int64_t i = 0; i < query.size(1); ++i) {
      double a = 0.0;
      for (int64_t u = 0; u < h; ++u) {
        double e = 0.0;
        for (int64_t g = 0; g < h; ++g) e += wp(u, g) * q(b, i, g);
        a += vp(0, u) * std::tanh(e);
      }
      p[b][i] = length / (1.0 + std::exp(-a));
    }
  }
  return p;
}
}  // namespace

TEST_CASE("LocalAttention matches a naive loop oracle (modes, scores, ranks, masks)",
          "[attention-classic]") {
  manual_seed(31);
  const int64_t B = 2, H = 3, S = 7, D = 2;
  Tensor mask = padding_mask({{0, 0, 0, 0, 0, 1, 1}, {1, 1, 1, 1, 1, 1, 1}});
  Values mv(mask);
  for (const char* mode : {"local-m", "local-p"})
    for (const char* score : {"dot", "general", "concat"})
      for (bool single : {false, true})
        for (bool masked : {false, true}) {
          INFO(mode << " " << score << " single=" << single << " masked=" << masked);
          nn::LocalAttention att(H, D, mode, score, /*bias=*/true);
          att.to(kFloat64);
          const int64_t Tq = single ? 1 : 4, step = single ? 3 : 1;
          Tensor q = randn({B, Tq, H}, kFloat64), k = randn({B, S, H}, kFloat64),
                 v = randn({B, S, 2}, kFloat64);
          Tensor kpm = masked ? mask : Tensor();
          std::vector<std::vector<double>> p(B, std::vector<double>(Tq));
          if (std::string(mode) == "local-p") {
            p = naive_positions(att, q, kpm, S);
          } else {
            for (int64_t b = 0; b < B; ++b)
              for (int64_t i = 0; i < Tq; ++i) p[b][i] = static_cast<double>(step + i);
          }
          auto exclude = [&](int64_t b, int64_t i, int64_t j) {
            return std::fabs(j - p[b][i]) > D || (masked && mv(b, j) != 0);
          };
          Score gaussian = nullptr;
          if (std::string(mode) == "local-p")
            gaussian = [&](int64_t b, int64_t i, int64_t j) {
              const double sigma = D / 2.0, d = j - p[b][i];
              return std::exp(-d * d / (2 * sigma * sigma));
            };
          nn::AttentionOutput want =
              naive_attention(B, Tq, S, naive_luong_score(att, q, k), exclude, v, gaussian);
          nn::LocalAttentionOutput got = att(single ? q.squeeze(1) : q, k, v, kpm, step);
          check_naive(got, want, single);
          std::vector<double> flat;
          for (const auto& row : p) flat.insert(flat.end(), row.begin(), row.end());
          Tensor expected = from_vector(flat, {B, Tq}, kFloat64);
          CHECK(allclose(got.positions, single ? expected.squeeze(1) : expected, 1e-12, 1e-12));
          // zero weight outside the window
          Values w(single ? got.weights.unsqueeze(1) : got.weights);
          for (int64_t b = 0; b < B; ++b)
            for (int64_t i = 0; i < Tq; ++i)
              for (int64_t j = 0; j < S; ++j)
                if (std::fabs(j - p[b][i]) > D) CHECK(w(b, i, j) == 0.0);
        }
}

TEST_CASE("LocalAttention gradients (float64 gradcheck incl. the predicted position)",
          "[attention-classic]") {
  manual_seed(32);
  Tensor mask = padding_mask({{0, 0, 0, 0, 1, 1}, {1, 1, 1, 1, 1, 1}});
  for (const char* mode : {"local-m", "local-p"}) {
    INFO(mode);
    nn::LocalAttention att(3, 2, mode, "concat");
    att.to(kFloat64);
    Tensor q = transposed_leaf({2, 3, 3}), k = strided_leaf({2, 6, 3}), v = leaf({2, 6, 2});
    check_module_gradients(att, {q, k, v}, [&](const std::vector<Tensor>& in) {
      return static_cast<nn::AttentionOutput>(att(in[0], in[1], in[2], mask, 1));
    });
  }
  // local-p with the general score, no mask, and a gradient reaching W_p, v_p via p_t alone
  nn::LocalAttention att(3, 3, "local-p", "general");
  att.to(kFloat64);
  Tensor q = leaf({2, 2, 3}), k = leaf({2, 5, 3});
  check_module_gradients(att, {q, k}, [&](const std::vector<Tensor>& in) {
    return static_cast<nn::AttentionOutput>(att(in[0], in[1]));
  });
  std::vector<Tensor> inputs = {q, att.W_p->weight, att.v_p->weight};
  minidl::testing::check_gradients(
      [&](const std::vector<Tensor>& in) { return att(in[0], k).positions; }, inputs);
}

TEST_CASE("LocalAttention: empty windows and fully padded rows give zeros, no NaN",
          "[attention-classic]") {
  manual_seed(33);
  nn::LocalAttention local_m(3, 1, "local-m", "dot");
  Tensor q = randn({2, 3, 3}).requires_grad_(), k = randn({2, 4, 3}).requires_grad_();
  // step 5: queries aligned with 5, 6, 7; no source position (0..3) lies within 1 of them
  nn::LocalAttentionOutput r = local_m(q, k, Tensor(), Tensor(), 5);
  CHECK(allclose(r.output, zeros({2, 3, 3})));
  CHECK(allclose(r.positions.select(0, 1), tensor({5.0f, 6.0f, 7.0f})));
  r = local_m(q, k, Tensor(), Tensor(), 3);
  CHECK(allclose(r.weights.select(1, 0).sum({-1}), ones({2})));
  CHECK(allclose(r.weights.select(1, 2), zeros({2, 4})));

  nn::LocalAttention local_p(3, 2, "local-p", "general");
  nn::LocalAttentionOutput p = local_p(q, k, Tensor(), padding_mask({{0, 0, 1, 1}, {1, 1, 1, 1}}));
  CHECK(allclose(p.output.select(0, 1), zeros({3, 3})));
  CHECK(allclose(p.positions.select(0, 1), zeros({3})));
  CHECK(p.positions.select(0, 0).max().item<double>() <= 2.0);
  (p.output.sum() + p.weights.pow(2.0).sum() + p.positions.sum()).backward();
  CHECK(no_nan(q));
  CHECK(no_nan(k));
  for (const Tensor& param : local_p.parameters()) CHECK(no_nan(param));
}

TEST_CASE("LocalAttention local-p equals the paper's formula written in PyTorch",
          "[attention-classic]") {
  Fixtures fx("attention_classic.txt");
  nn::LocalAttention att(3, 2, "local-p", "general");
  Tensor positions;
  check_module_fixture(fx, "local_p", att, {"query", "keys"}, [&](const std::vector<Tensor>& in) {
    nn::LocalAttentionOutput r = att(in[0], in[1]);
    positions = r.positions;
    return static_cast<nn::AttentionOutput>(r);
  });
  CHECK(allclose(positions, fx["local_p_positions"], 1e-10, 1e-12));
}

TEST_CASE("LocalAttention parameters and errors", "[attention-classic]") {
  using Catch::Contains;
  nn::LocalAttention att(4, 2, "local-p", "general");
  nn::StateDict params = att.named_parameters();
  REQUIRE(params.size() == 3);
  CHECK(params[0].first == "attn.weight");
  CHECK(params[1].first == "W_p.weight");
  CHECK(params[2].first == "v_p.weight");
  CHECK(att.extra_repr() == "hidden_size=4, window=2, mode=local-p, score=general, bias=False");
  CHECK(nn::LocalAttention(4, 0, "local-m", "dot").parameters().empty());

  CHECK_THROWS_WITH(nn::LocalAttention(4, 2, "local-x"),
                    Contains("LocalAttention") && Contains("unknown mode 'local-x'"));
  CHECK_THROWS_WITH(nn::LocalAttention(4, -1, "local-m"),
                    Contains("LocalAttention") && Contains("window") && Contains("-1"));
  CHECK_THROWS_WITH(nn::LocalAttention(4, 0, "local-p"),
                    Contains("LocalAttention") && Contains("window"));
  CHECK_THROWS_WITH(nn::LocalAttention(4, 2, "local-p", "cosine"),
                    Contains("LocalAttention") && Contains("unknown score 'cosine'"));
  Tensor q = randn({2, 4}), k = randn({2, 5, 4});
  CHECK_THROWS_WITH(att(q, k, Tensor(), Tensor(), -1),
                    Contains("LocalAttention") && Contains("step"));
  CHECK_THROWS_WITH(att(randn({2, 3}), k), Contains("LocalAttention") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(att(q, randn({2, 5, 2})), Contains("LocalAttention") && Contains("[2, 5, 2]"));
  CHECK_THROWS_WITH(att(q, k, Tensor(), zeros({2, 6}, kBool)),
                    Contains("LocalAttention") && Contains("[2, 6]"));
}
