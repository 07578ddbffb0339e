// nn::LuongAttention and nn::LuongAttentionalHidden (nn/attention/luong.*): a naive loop oracle
// for every score, query rank and mask; float64 gradchecks; the PyTorch chatbot tutorial's Attn;
// errors.
#include "nn/attention/luong.h"

#include "tests/attention_classic_util.h"

using namespace minidl;
using namespace minidl::testing;
using namespace minidl::testing::classic;

namespace {
const char* const kScores[] = {"dot", "general", "concat"};
}

TEST_CASE("LuongAttention matches a naive loop oracle for every score, rank and mask",
          "[attention-classic]") {
  manual_seed(1);
  const int64_t B = 2, H = 3, Dv = 2;
  // batch 1 is fully padded: its weights and output are 0
  Tensor mask = padding_mask({{0, 0, 1, 0}, {1, 1, 1, 1}});
  for (const char* method : kScores)
    for (bool bias : {false, true})
      for (int64_t Tq : {1, 6})  // Tq > Tk exercises the key-side projection of `general`
        for (bool single : {false, true}) {
          if (single && Tq != 1) continue;
          for (bool masked : {false, true}) {
            INFO(method << " bias=" << bias << " Tq=" << Tq << " single=" << single
                        << " masked=" << masked);
            nn::LuongAttention att(H, method, bias);
            att.to(kFloat64);
            Tensor q = randn({B, Tq, H}, kFloat64), k = randn({B, 4, H}, kFloat64),
                   v = randn({B, 4, Dv}, kFloat64);
            Values m(mask);
            auto exclude = [&](int64_t b, int64_t, int64_t j) { return masked && m(b, j) != 0; };
            nn::AttentionOutput want =
                naive_attention(B, Tq, 4, naive_luong_score(att, q, k), exclude, v);
            nn::AttentionOutput got =
                att(single ? q.squeeze(1) : q, k, v, masked ? mask : Tensor());
            check_naive(got, want, single);
            // values default to the keys
            nn::AttentionOutput self = att(q, k);
            CHECK(allclose(self.output,
                           naive_attention(
                               B, Tq, 4, naive_luong_score(att, q, k),
                               [](int64_t, int64_t, int64_t) { return false; }, k)
                               .output,
                           1e-10, 1e-12));
          }
        }
}

TEST_CASE("LuongAttention gradients (float64 gradcheck, masks, non-contiguous inputs)",
          "[attention-classic]") {
  manual_seed(2);
  Tensor mask = padding_mask({{0, 1, 0, 0, 0}, {1, 1, 1, 1, 1}});
  for (const char* method : kScores) {
    INFO(method);
    nn::LuongAttention att(3, method, /*bias=*/true);
    att.to(kFloat64);
    Tensor q = transposed_leaf({2, 2, 3}), k = strided_leaf({2, 5, 3}), v = leaf({2, 5, 4});
    check_module_gradients(att, {q, k, v}, [&](const std::vector<Tensor>& in) {
      return att(in[0], in[1], in[2], mask);
    });
    Tensor step = leaf({2, 3});  // a single decoder step, values = keys
    check_module_gradients(att, {step, k},
                           [&](const std::vector<Tensor>& in) { return att(in[0], in[1]); });
  }
}

TEST_CASE("LuongAttention: a fully padded row gives zeros and no NaN in gradients",
          "[attention-classic]") {
  manual_seed(3);
  for (const char* method : kScores) {
    nn::LuongAttention att(3, method);
    Tensor q = randn({2, 3}).requires_grad_(), k = randn({2, 4, 3}).requires_grad_();
    nn::AttentionOutput r = att(q, k, Tensor(), padding_mask({{0, 0, 0, 1}, {1, 1, 1, 1}}));
    CHECK(allclose(r.output.select(0, 1), zeros({3})));
    CHECK(allclose(r.weights.select(0, 1), zeros({4})));
    CHECK(allclose(r.weights.sum({-1}).select(0, 0), ones({})));
    (r.output.sum() + r.weights.pow(2.0).sum()).backward();
    CHECK(no_nan(q));
    CHECK(no_nan(k));
    CHECK(allclose(q.grad().select(0, 1), zeros({3})));
    for (const Tensor& p : att.parameters()) CHECK(no_nan(p));
  }
}

TEST_CASE("LuongAttention equals the PyTorch chatbot tutorial's Attn", "[attention-classic]") {
  Fixtures fx("attention_classic.txt");
  for (const char* method : kScores) {
    nn::LuongAttention att(3, method, /*bias=*/true);  // the tutorial's Linear layers have bias
    check_module_fixture(fx, std::string("luong_") + method, att, {"query", "keys"},
                         [&](const std::vector<Tensor>& in) { return att(in[0], in[1]); });
  }
}

TEST_CASE("LuongAttention parameters, names and printing", "[attention-classic]") {
  CHECK(nn::LuongAttention(4).named_parameters().empty());
  nn::LuongAttention general(4, "general");
  REQUIRE(general.named_parameters().size() == 1);
  CHECK(general.named_parameters()[0].first == "attn.weight");
  CHECK(general.attn->weight.shape() == Shape({4, 4}));
  nn::LuongAttention concat(4, "concat", true);
  CHECK(concat.named_parameters().size() == 3);
  CHECK(concat.attn->weight.shape() == Shape({4, 8}));
  CHECK(concat.v.shape() == Shape({4}));
  CHECK(concat.v.abs().max().item<double>() <= 0.5);
  CHECK(concat.extra_repr() == "hidden_size=4, score=concat, bias=True");
}

TEST_CASE("LuongAttention errors name the module and the shapes", "[attention-classic]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::LuongAttention(4, "additive"),
                    Contains("LuongAttention") && Contains("unknown score 'additive'"));
  CHECK_THROWS_WITH(nn::LuongAttention(0), Contains("LuongAttention") && Contains("hidden_size"));
  nn::LuongAttention att(4, "general");
  Tensor q = randn({2, 4}), k = randn({2, 5, 4});
  CHECK_THROWS_WITH(att(randn({2, 3}), k), Contains("LuongAttention") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(att(q, randn({2, 5, 3})), Contains("LuongAttention") && Contains("[2, 5, 3]"));
  CHECK_THROWS_WITH(att(q, randn({5, 4})), Contains("LuongAttention") && Contains("[5, 4]"));
  CHECK_THROWS_WITH(att(randn({3, 4}), k), Contains("LuongAttention") && Contains("[3, 4]"));
  CHECK_THROWS_WITH(att(randn({2, 1, 1, 4}), k),
                    Contains("LuongAttention") && Contains("[2, 1, 1, 4]"));
  CHECK_THROWS_WITH(att(q, k, randn({2, 4, 4})),
                    Contains("LuongAttention") && Contains("[2, 4, 4]"));
  CHECK_THROWS_WITH(att(q, k, Tensor(), zeros({2, 4}, kBool)),
                    Contains("LuongAttention") && Contains("[2, 4]"));
  CHECK_THROWS_WITH(att(q, k, Tensor(), zeros({2, 5})),
                    Contains("LuongAttention") && Contains("bool"));
  CHECK_THROWS_WITH(att(q.to(kFloat64), k), Contains("LuongAttention") && Contains("dtype"));
  CHECK_THROWS_WITH(att(q, randn({2, 0, 4})), Contains("LuongAttention") && Contains("[2, 0, 4]"));
}

TEST_CASE("LuongAttentionalHidden: tanh(W_c [c; h]) against loops, gradcheck, errors",
          "[attention-classic]") {
  manual_seed(4);
  nn::LuongAttentionalHidden layer(3, 2);
  layer.to(kFloat64);
  REQUIRE(layer.named_parameters().size() == 1);
  CHECK(layer.named_parameters()[0].first == "W_c.weight");
  Tensor c = strided_leaf({4, 2}), h = leaf({4, 3});
  Tensor out = layer(c, h);
  Values cv(c), hv(h), w(layer.W_c->weight), got(out);
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t o = 0; o < 3; ++o) {
      double e = 0.0;
      for (int64_t i = 0; i < 2; ++i) e += w(o, i) * cv(b, i);
      for (int64_t i = 0; i < 3; ++i) e += w(o, 2 + i) * hv(b, i);
      CHECK(got(b, o) == Approx(std::tanh(e)).epsilon(1e-12));
    }
  std::vector<Tensor> inputs = {c, h, layer.W_c->weight};
  minidl::testing::check_gradients(
      [&](const std::vector<Tensor>& in) { return layer(in[0], in[1]); }, inputs);
  CHECK_THROWS_WITH(layer(randn({4, 3}, kFloat64), h),
                    Catch::Contains("LuongAttentionalHidden") && Catch::Contains("[4, 3]"));
  CHECK_THROWS_WITH(nn::LuongAttentionalHidden(0), Catch::Contains("LuongAttentionalHidden"));
}
