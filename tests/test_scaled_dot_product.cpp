// nn::ScaledDotProductAttention and the functional form against PyTorch fixtures (the 2.x formula
// written in torch ops, tools/fixtures/gen_sdpa.py), both backends; dropout in train/eval mode;
// gradcheck; errors.
#include "nn/attention/scaled_dot_product.h"

#include "ops/attention.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::nn::AttentionOutput;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::cos_upstream;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;

TEST_CASE("sdpa matches PyTorch (fixtures): module, math and fused paths", "[sdpa]") {
  Fixtures fx("sdpa.txt");
  for (const std::string name : {"masked", "float_mask"}) {
    for (int path = 0; path < 3; ++path) {  // 0 module (math, weights), 1 math, 2 fused
      INFO(name << " path " << path);
      Tensor q = fx[name + "_q"].clone().requires_grad_(),
             k = fx[name + "_k"].clone().requires_grad_(),
             v = fx[name + "_v"].clone().requires_grad_();
      SdpaOptions o;
      const bool masked = name == "masked";
      if (masked) {
        o.attn_mask = fx[name + "_attn_mask"];
        o.key_padding_mask = fx[name + "_key_padding_mask"];
        o.is_causal = true;
      } else {
        o.attn_mask = fx[name + "_attn_mask"].clone().requires_grad_();
        o.scale = 0.5;
      }
      AttentionOutput r;
      if (path == 0) {
        if (!masked) continue;  // the module has the default scale
        nn::ScaledDotProductAttention m(0.1);
        m.eval();  // no dropout
        auto res = m(q, k, v, o.attn_mask, o.key_padding_mask, true, true);
        r = {res.output, res.weights};
      } else {
        o.backend = path == 1 ? SdpaBackend::Math : SdpaBackend::Auto;
        o.need_weights = path == 1;
        if (path == 2 && !masked)
          o.attn_mask = o.attn_mask.detach();  // fused: mask not differentiated
        SdpaResult res = scaled_dot_product_attention(q, k, v, o);
        r = {res.output, res.weights};
      }
      CHECK(allclose(r.output, fx[name + "_out"], 1e-7, 1e-9));
      if (r.weights.defined()) CHECK(allclose(r.weights, fx[name + "_weights"], 1e-7, 1e-9));
      if (path == 2) CHECK(std::string(r.output.grad_fn()->name()) == "FlashAttentionBackward0");
      (r.output * cos_upstream(r.output.shape())).sum().backward();
      CHECK(allclose(q.grad(), fx[name + "_dq"], 1e-7, 1e-9));
      CHECK(allclose(k.grad(), fx[name + "_dk"], 1e-7, 1e-9));
      CHECK(allclose(v.grad(), fx[name + "_dv"], 1e-7, 1e-9));
      if (!masked && path == 1)
        CHECK(allclose(o.attn_mask.grad(), fx[name + "_dattn_mask"], 1e-7, 1e-9));
    }
  }
}

TEST_CASE("ScaledDotProductAttention: dropout only in training, need_weights, repr", "[sdpa]") {
  manual_seed(31);
  nn::ScaledDotProductAttention m(0.5);
  CHECK(m.extra_repr() == "dropout=0.5");
  CHECK(m.named_parameters().empty());
  Tensor q = randn({2, 4, 3}, kFloat64), k = randn({2, 6, 3}, kFloat64),
         v = randn({2, 6, 3}, kFloat64);
  // Training: weights are dropped out (zeros, survivors scaled by 2), rows no longer sum to 1.
  AttentionOutput train = m(q, k, v);
  REQUIRE(train.weights.defined());
  std::vector<double> w = train.weights.to_vector<double>();
  int64_t zeros_count = 0;
  for (double x : w) zeros_count += x == 0.0;
  CHECK(zeros_count > 0);
  CHECK(allclose(train.output, matmul(train.weights, v), 1e-12, 1e-12));
  // Eval: deterministic, equals the functional form; need_weights = false gives no weights.
  m.eval();
  AttentionOutput ev = m(q, k, v);
  CHECK(allclose(ev.output, scaled_dot_product_attention(q, k, v), 1e-12, 1e-12));
  CHECK(allclose(ev.weights.sum({-1}), ones({2, 4}, kFloat64), 1e-12, 1e-12));
  AttentionOutput fused = m(q, k, v, Tensor(), Tensor(), /*need_weights=*/false);
  CHECK_FALSE(fused.weights.defined());
  CHECK(allclose(fused.output, ev.output, 1e-12, 1e-12));
}

TEST_CASE("ScaledDotProductAttention: float64 gradcheck with masks, non-contiguous input",
          "[sdpa]") {
  manual_seed(32);
  nn::ScaledDotProductAttention m;
  Tensor q = strided_leaf({2, 3, 4}), k = leaf({2, 5, 4}), v = leaf({2, 5, 2});
  Tensor kpm = zeros({2, 5}, kBool);
  kpm.select(0, 0).select(0, 4).fill_(1.0);
  Tensor mask = rand({3, 5}, kFloat64) > 0.2;
  for (bool need_weights : {true, false}) {
    check_gradients(
        [&](const std::vector<Tensor>& x) {
          return m(x[0], x[1], x[2], mask, kpm, need_weights, true).output;
        },
        {q, k, v});
  }
}

TEST_CASE("ScaledDotProductAttention: errors name the module and the shapes", "[sdpa]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::ScaledDotProductAttention(1.5),
                    Contains("ScaledDotProductAttention") && Contains("1.5"));
  CHECK_THROWS_WITH(nn::ScaledDotProductAttention(-0.5),
                    Contains("ScaledDotProductAttention") && Contains("-0.5"));
  nn::ScaledDotProductAttention m;
  Tensor q = randn({2, 3, 4}), k = randn({2, 5, 4}), v = randn({2, 5, 6});
  CHECK_THROWS_WITH(m(q, randn({2, 5, 3}), v),
                    Contains("ScaledDotProductAttention") && Contains("[2, 5, 3]"));
  CHECK_THROWS_WITH(
      m(q, k, v, Tensor(), zeros({2, 3}, kBool)),
      Contains("ScaledDotProductAttention") && Contains("key_padding_mask") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(m(q, k, v, ones({4, 5}, kBool)), Contains("ScaledDotProductAttention") &&
                                                         Contains("attn_mask") &&
                                                         Contains("[4, 5]"));
}
