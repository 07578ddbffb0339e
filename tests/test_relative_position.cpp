// Relative-position self-attention (Shaw et al. 2018): ops/relative_position.h and
// nn/attention/relative_position.h. The oracle is a plain-loop float64 implementation of the
// paper's formula with the [T, T, d] relative embeddings materialized.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "nn/attention/relative_position.h"
#include "ops/relative_position.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

// excluded(b, h, i, j): whether query i of head h in batch b may not see key j.
using ExcludedFn = std::function<bool(int64_t, int64_t, int64_t, int64_t)>;

struct NaiveResult {
  Tensor output;   // [B, T, E]
  Tensor weights;  // [B, H, T, T]
};

// Shaw attention with plain loops over float64 values, x [B, T, E] (batch first).
NaiveResult naive_shaw(const Tensor& x, const nn::RelativeMultiheadAttention& m,
                       const ExcludedFn& excluded, const Tensor& additive = Tensor()) {
  const int64_t B = x.size(0), T = x.size(1), E = x.size(2), H = m.num_heads, d = m.head_dim;
  const int64_t k = m.max_relative_position;
  const std::vector<double> xs = x.to_vector<double>();
  const std::vector<double> w_in = m.in_proj_weight.to_vector<double>();
  const std::vector<double> b_in = m.in_proj_bias.defined() ? m.in_proj_bias.to_vector<double>()
                                                            : std::vector<double>(3 * E, 0.0);
  const std::vector<double> w_out = m.out_proj->weight.to_vector<double>();
  const std::vector<double> b_out = m.out_proj->bias.defined()
                                        ? m.out_proj->bias.to_vector<double>()
                                        : std::vector<double>(E, 0.0);
  const std::vector<double> rel_k = m.relative_key.to_vector<double>();
  const std::vector<double> rel_v = m.relative_value.to_vector<double>();
  const std::vector<double> add =
      additive.defined() ? additive.to_vector<double>() : std::vector<double>();
  // The paper's [T, T, d] tensors a^K_ij, a^V_ij.
  std::vector<double> a_k(T * T * d), a_v(T * T * d);
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j) {
      const int64_t r = std::min(std::max(j - i, -k), k) + k;
      for (int64_t c = 0; c < d; ++c) {
        a_k[(i * T + j) * d + c] = rel_k[r * d + c];
        a_v[(i * T + j) * d + c] = rel_v[r * d + c];
      }
    }
  // qkv[b][t][o] = Σ_e x[b][t][e] W_in[o][e] + b_in[o]
  std::vector<double> qkv(B * T * 3 * E);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = 0; o < 3 * E; ++o) {
        double s = b_in[o];
        for (int64_t e = 0; e < E; ++e) s += xs[(b * T + t) * E + e] * w_in[o * E + e];
        qkv[(b * T + t) * 3 * E + o] = s;
      }
  auto q = [&](int64_t b, int64_t h, int64_t t, int64_t c) {
    return qkv[(b * T + t) * 3 * E + h * d + c];
  };
  auto key = [&](int64_t b, int64_t h, int64_t t, int64_t c) {
    return qkv[(b * T + t) * 3 * E + E + h * d + c];
  };
  auto val = [&](int64_t b, int64_t h, int64_t t, int64_t c) {
    return qkv[(b * T + t) * 3 * E + 2 * E + h * d + c];
  };
  std::vector<double> weights(B * H * T * T, 0.0), z(B * T * E, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i) {
        std::vector<double> e(T);
        double max_e = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < T; ++j) {
          double s = 0;
          for (int64_t c = 0; c < d; ++c)
            s += q(b, h, i, c) * (key(b, h, j, c) + a_k[(i * T + j) * d + c]);
          s /= std::sqrt(static_cast<double>(d));
          if (!add.empty()) s += add[i * T + j];
          if (excluded && excluded(b, h, i, j)) s = -std::numeric_limits<double>::infinity();
          e[j] = s;
          max_e = std::max(max_e, s);
        }
        if (max_e == -std::numeric_limits<double>::infinity()) continue;  // all excluded: 0
        double total = 0;
        for (int64_t j = 0; j < T; ++j) total += std::exp(e[j] - max_e);
        for (int64_t j = 0; j < T; ++j) {
          const double alpha = std::exp(e[j] - max_e) / total;
          weights[((b * H + h) * T + i) * T + j] = alpha;
          for (int64_t c = 0; c < d; ++c)
            z[(b * T + i) * E + h * d + c] += alpha * (val(b, h, j, c) + a_v[(i * T + j) * d + c]);
        }
      }
  std::vector<double> out(B * T * E);
  for (int64_t bt = 0; bt < B * T; ++bt)
    for (int64_t o = 0; o < E; ++o) {
      double s = b_out[o];
      for (int64_t e = 0; e < E; ++e) s += z[bt * E + e] * w_out[o * E + e];
      out[bt * E + o] = s;
    }
  return {from_vector(out, {B, T, E}, kFloat64), from_vector(weights, {B, H, T, T}, kFloat64)};
}

std::shared_ptr<nn::RelativeMultiheadAttention> make_module(int64_t E, int64_t H, int64_t k,
                                                            bool bias = true,
                                                            bool batch_first = true) {
  auto m = std::make_shared<nn::RelativeMultiheadAttention>(E, H, k, 0.0, bias, batch_first);
  m->to(kFloat64);
  // Non-zero biases, so their gradients are exercised with non-trivial values.
  NoGradGuard no_grad;
  for (auto& [name, p] : m->named_parameters()) p.copy_(randn(p.shape(), kFloat64) * 0.5);
  return m;
}

bool has_nan(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (std::isnan(v)) return true;
  return false;
}

}  // namespace

// ---------------------------------------------------------------- the ops

TEST_CASE("relative_position_index clips j - i to [-k, k] and shifts by k", "[relpos]") {
  Tensor index = relative_position_index(3, 5, 1);
  CHECK(index.to_vector<int64_t>() ==
        std::vector<int64_t>{1, 2, 2, 2, 2, 0, 1, 2, 2, 2, 0, 0, 1, 2, 2});
  CHECK(relative_position_index(2, 2, 0).to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0, 0});
}

TEST_CASE("relative_position_gather and bucket equal gather / scatter_add at the index",
          "[relpos]") {
  manual_seed(1);
  // (Tq, Tk, k): clipping on both sides, k = 0, k >= T, Tq > Tk and Tq < Tk.
  const std::vector<std::array<int64_t, 3>> cases = {{6, 6, 2}, {5, 5, 0}, {4, 4, 7}, {7, 3, 1},
                                                     {3, 8, 2}, {1, 1, 0}, {9, 9, 1}};
  for (const auto& [tq, tk, k] : cases) {
    INFO("Tq " << tq << " Tk " << tk << " k " << k);
    const int64_t width = 2 * k + 1;
    Tensor relative = randn({2, 3, tq, width}, kFloat64);
    Tensor weights = randn({2, 3, tq, tk}, kFloat64);
    Tensor index = relative_position_index(tq, tk, k).expand({2, 3, tq, tk}).contiguous();
    CHECK(allclose(relative_position_gather(relative, tk, k), gather(relative, -1, index), 0, 0));
    CHECK(allclose(relative_position_gather_add(weights, relative, k),
                   weights + gather(relative, -1, index), 1e-15, 1e-15));
    Tensor bucket = scatter_add(zeros({2, 3, tq, width}, kFloat64), -1, index, weights);
    CHECK(allclose(relative_position_bucket(weights, k), bucket, 1e-14, 1e-14));
  }
}

TEST_CASE("relative_position ops: float32 matches float64", "[relpos]") {
  manual_seed(2);
  Tensor relative = randn({4, 40, 9}), weights = randn({4, 40, 50});
  CHECK(allclose(
      relative_position_gather_add(weights, relative, 4),
      relative_position_gather_add(weights.to(kFloat64), relative.to(kFloat64), 4).to(kFloat32),
      1e-6, 1e-6));
  CHECK(allclose(relative_position_bucket(weights, 4).to(kFloat64),
                 relative_position_bucket(weights.to(kFloat64), 4), 1e-5, 1e-5));
}

TEST_CASE("relative_position ops: gradcheck, non-contiguous inputs", "[relpos]") {
  manual_seed(3);
  for (int64_t k : {0, 1, 2, 6}) {
    INFO("k " << k);
    const int64_t width = 2 * k + 1;
    check_gradients(
        [k](const std::vector<Tensor>& in) { return relative_position_gather(in[0], 5, k); },
        {transposed_leaf({2, 4, width})});
    check_gradients(
        [k](const std::vector<Tensor>& in) {
          return relative_position_gather_add(in[0], in[1], k);
        },
        {strided_leaf({2, 4, 5}), transposed_leaf({2, 4, width})});
    check_gradients(
        [k](const std::vector<Tensor>& in) { return relative_position_bucket(in[0], k); },
        {transposed_leaf({3, 4, 5})});
  }
  // Only one input requiring grad.
  Tensor scores = randn({2, 3, 3}, kFloat64);
  check_gradients(
      [scores](const std::vector<Tensor>& in) {
        return relative_position_gather_add(scores, in[0], 1);
      },
      {leaf({2, 3, 3})});
}

TEST_CASE("relative_position ops: errors name the op and the shapes", "[relpos]") {
  Tensor rel = zeros({2, 4, 5}), scores = zeros({2, 4, 6});
  CHECK_THROWS_WITH(relative_position_gather(rel, 6, 1),
                    Catch::Contains("relative_position_gather") && Catch::Contains("[2, 4, 5]") &&
                        Catch::Contains("2k+1"));
  CHECK_THROWS_WITH(relative_position_gather(rel, 6, -1),
                    Catch::Contains("relative_position_gather") && Catch::Contains("-1"));
  CHECK_THROWS_WITH(relative_position_gather(rel, -3, 2),
                    Catch::Contains("relative_position_gather") && Catch::Contains("-3"));
  CHECK_THROWS_WITH(relative_position_gather(zeros({5}), 6, 2),
                    Catch::Contains("relative_position_gather") && Catch::Contains("[5]"));
  CHECK_THROWS_WITH(relative_position_gather(zeros({4, 5}, kInt64), 6, 2),
                    Catch::Contains("relative_position_gather") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(relative_position_gather_add(zeros({2, 3, 6}), rel, 2),
                    Catch::Contains("relative_position_gather_add") &&
                        Catch::Contains("[2, 3, 6]") && Catch::Contains("[2, 4, 5]"));
  CHECK_THROWS_WITH(relative_position_gather_add(scores.to(kFloat64), rel, 2),
                    Catch::Contains("relative_position_gather_add") && Catch::Contains("float64") &&
                        Catch::Contains("float32"));
  CHECK_THROWS_WITH(relative_position_gather_add(zeros({6}), rel, 2),
                    Catch::Contains("relative_position_gather_add") && Catch::Contains("[6]"));
  CHECK_THROWS_WITH(relative_position_bucket(zeros({6}), 2),
                    Catch::Contains("relative_position_bucket") && Catch::Contains("[6]"));
  CHECK_THROWS_WITH(relative_position_bucket(zeros({3, 6}, kInt64), 2),
                    Catch::Contains("relative_position_bucket") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(relative_position_bucket(scores, -2),
                    Catch::Contains("relative_position_bucket") && Catch::Contains("-2"));
  CHECK_THROWS_WITH(relative_position_index(3, 3, -1),
                    Catch::Contains("relative_position_index") && Catch::Contains("-1"));
}

// ---------------------------------------------------------------- the module

TEST_CASE("RelativeMultiheadAttention: parameters, names and repr", "[relpos]") {
  manual_seed(4);
  nn::RelativeMultiheadAttention m(8, 2, 3);
  std::vector<std::string> names;
  for (auto& [name, p] : m.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"in_proj_weight", "in_proj_bias", "relative_key",
                                          "relative_value", "out_proj.weight", "out_proj.bias"});
  CHECK(m.in_proj_weight.shape() == Shape{24, 8});
  CHECK(m.relative_key.shape() == Shape{7, 4});
  CHECK(m.relative_value.shape() == Shape{7, 4});
  CHECK(m.in_proj_bias.abs().max().item() == 0.0);
  CHECK(m.out_proj->bias.abs().max().item() == 0.0);
  CHECK(m.in_proj_weight.abs().max().item() > 0.0);
  // xavier_uniform_ bound sqrt(6 / (fan_in + fan_out)) = sqrt(6 / 32)
  CHECK(m.in_proj_weight.abs().max().item() <= std::sqrt(6.0 / 32.0));
  CHECK(m.extra_repr() ==
        "embed_dim=8, num_heads=2, max_relative_position=3, dropout=0.0, bias=True, "
        "batch_first=True");
  nn::RelativeMultiheadAttention no_bias(8, 4, 0, 0.1, false, false);
  CHECK(!no_bias.in_proj_bias.defined());
  CHECK(!no_bias.out_proj->bias.defined());
  CHECK(no_bias.relative_key.shape() == Shape{1, 2});
  CHECK(no_bias.named_parameters().size() == 4);
}

TEST_CASE("RelativeMultiheadAttention equals the naive Shaw formula, masks included", "[relpos]") {
  manual_seed(5);
  const int64_t B = 2, T = 6, E = 8, H = 2;
  auto m = make_module(E, H, 2);
  Tensor x = randn({B, T, E}, kFloat64);

  SECTION("no mask") {
    auto result = (*m)(x, Tensor());
    NaiveResult ref = naive_shaw(x, *m, nullptr);
    CHECK(allclose(result.output, ref.output, 1e-12, 1e-12));
    CHECK(allclose(result.weights, ref.weights.mean({1}), 1e-12, 1e-12));
    auto per_head = m->forward(x, Tensor(), Tensor(), false, true, false);
    CHECK(allclose(per_head.weights, ref.weights, 1e-12, 1e-12));
    CHECK(!m->forward(x, Tensor(), Tensor(), false, false).weights.defined());
    CHECK(allclose(m->forward(x), ref.output, 1e-12, 1e-12));
  }
  SECTION("key padding, bool attn_mask and is_causal combined") {
    Tensor padding = zeros({B, T}, kBool);
    padding.select(0, 1).narrow(0, 4, 2).fill_(1.0);
    Tensor attn_mask = zeros({T, T}, kBool);
    attn_mask.select(0, 3).narrow(0, 0, 2).fill_(1.0);
    auto p = padding.to_vector<int64_t>(), a = attn_mask.to_vector<int64_t>();
    auto result = m->forward(x, padding, attn_mask, true, true, false);
    NaiveResult ref = naive_shaw(x, *m, [&](int64_t b, int64_t, int64_t i, int64_t j) {
      return p[b * T + j] || a[i * T + j] || j > i;
    });
    CHECK(allclose(result.output, ref.output, 1e-12, 1e-12));
    CHECK(allclose(result.weights, ref.weights, 1e-12, 1e-12));
  }
  SECTION("per-head bool mask [B * H, T, T] and an additive float mask") {
    Tensor per_head = rand({B * H, T, T}, kFloat64) > 0.6;
    per_head.select(2, 0).fill_(0.0);  // every row keeps key 0
    auto pm = per_head.to_vector<int64_t>();
    auto result = m->forward(x, Tensor(), per_head, false, true, false);
    NaiveResult ref = naive_shaw(x, *m, [&](int64_t b, int64_t h, int64_t i, int64_t j) {
      return pm[((b * H + h) * T + i) * T + j] != 0;
    });
    CHECK(allclose(result.output, ref.output, 1e-12, 1e-12));
    CHECK(allclose(result.weights, ref.weights, 1e-12, 1e-12));

    Tensor additive = randn({T, T}, kFloat64);
    additive.select(0, 2).select(0, 5).fill_(-std::numeric_limits<double>::infinity());
    auto with_add = m->forward(x, Tensor(), additive, false, true, false);
    NaiveResult ref_add = naive_shaw(x, *m, nullptr, additive);
    CHECK(allclose(with_add.output, ref_add.output, 1e-12, 1e-12));
    CHECK(allclose(with_add.weights, ref_add.weights, 1e-12, 1e-12));
    CHECK(with_add.weights.select(0, 1).select(0, 1).select(0, 2).select(0, 5).item() == 0.0);
  }
  SECTION("batch_first = false reads and writes [T, B, E]") {
    auto seq = make_module(E, H, 2, true, false);
    seq->load_state_dict(m->state_dict());
    auto result = (*seq)(x.transpose(0, 1), Tensor());
    CHECK(result.output.shape() == Shape{T, B, E});
    NaiveResult ref = naive_shaw(x, *m, nullptr);
    CHECK(allclose(result.output.transpose(0, 1), ref.output, 1e-12, 1e-12));
  }
}

TEST_CASE("RelativeMultiheadAttention: a fully masked query row gives 0, never NaN", "[relpos]") {
  manual_seed(6);
  const int64_t B = 2, T = 4, E = 4, H = 2;
  auto m = make_module(E, H, 1);
  Tensor x = leaf({B, T, E});
  Tensor attn_mask = zeros({T, T}, kBool);
  attn_mask.select(0, 1).fill_(1.0);  // query 1 sees nothing
  Tensor padding = zeros({B, T}, kBool);
  padding.select(0, 1).fill_(1.0);  // batch 1: every key padded
  auto result = m->forward(x, padding, attn_mask, false, true, false);
  auto a = attn_mask.to_vector<int64_t>();
  NaiveResult ref = naive_shaw(
      x, *m, [&](int64_t b, int64_t, int64_t i, int64_t j) { return b == 1 || a[i * T + j]; });
  CHECK(allclose(result.output, ref.output, 1e-12, 1e-12));
  CHECK(allclose(result.weights, ref.weights, 1e-12, 1e-12));
  CHECK(result.weights.select(0, 0).select(1, 1).abs().sum().item() == 0.0);
  // z = 0 on the empty rows, so the output there is out_proj's bias.
  CHECK(allclose(result.output.select(0, 1), m->out_proj->bias.expand({T, E}), 0, 1e-15));
  (result.output.sum() + result.weights.sum()).backward();
  CHECK(!has_nan(x.grad()));
  for (auto& [name, p] : m->named_parameters()) {
    INFO(name);
    CHECK(!has_nan(p.grad()));
  }
}

TEST_CASE("RelativeMultiheadAttention: k >= T never clips; k = 0 is plain attention + a^V",
          "[relpos]") {
  manual_seed(7);
  const int64_t B = 2, T = 5, E = 6, H = 3;
  Tensor x = randn({B, T, E}, kFloat64);
  SECTION("k >= T") {
    for (int64_t k : {4, 5, 9}) {
      auto m = make_module(E, H, k);
      NaiveResult ref = naive_shaw(x, *m, nullptr);
      auto result = m->forward(x, Tensor(), Tensor(), true, true, false);
      NaiveResult ref_causal =
          naive_shaw(x, *m, [](int64_t, int64_t, int64_t i, int64_t j) { return j > i; });
      CHECK(allclose((*m)(x, Tensor()).output, ref.output, 1e-12, 1e-12));
      CHECK(allclose(result.output, ref_causal.output, 1e-12, 1e-12));
      CHECK(allclose(result.weights, ref_causal.weights, 1e-12, 1e-12));
    }
  }
  SECTION("k = 0") {
    auto m = make_module(E, H, 0);
    // All pairs share one relative vector: q·a^K is constant along a row (softmax ignores it)
    // and Σ_j α_ij a^V = a^V. So the module is softmax(q kᵀ / sqrt(d)) v + relative_value[0].
    Tensor qkv = linear(x, m->in_proj_weight, m->in_proj_bias).view({B, T, 3, H, 2});
    Tensor q = qkv.select(2, 0).transpose(1, 2), keys = qkv.select(2, 1).transpose(1, 2);
    Tensor values = qkv.select(2, 2).transpose(1, 2);
    Tensor weights = softmax(matmul(q, keys.transpose(-1, -2)) / std::sqrt(2.0), -1);
    Tensor z = matmul(weights, values) + m->relative_value.select(0, 0);
    Tensor expected = (*m->out_proj)(z.transpose(1, 2).reshape({B, T, E}));
    Tensor xl = x.clone().requires_grad_();
    auto result = m->forward(xl, Tensor(), Tensor(), false, true, false);
    CHECK(allclose(result.output, expected.detach(), 1e-12, 1e-12));
    CHECK(allclose(result.weights, weights.detach(), 1e-12, 1e-12));
    CHECK(allclose(result.output, naive_shaw(x, *m, nullptr).output, 1e-12, 1e-12));
    (result.output * randn({B, T, E}, kFloat64)).sum().backward();
    CHECK(m->relative_key.grad().abs().max().item() < 1e-12);
    CHECK(m->relative_value.grad().abs().max().item() > 1e-3);
  }
}

TEST_CASE("RelativeMultiheadAttention: gradcheck of the input and every parameter", "[relpos]") {
  manual_seed(8);
  const int64_t B = 2, T = 4, E = 4, H = 2;
  for (bool masked : {false, true}) {
    INFO("masked " << masked);
    auto m = make_module(E, H, 1);
    Tensor padding = zeros({B, T}, kBool);
    padding.select(0, 1).narrow(0, 3, 1).fill_(1.0);
    Tensor attn_mask = zeros({T, T}, kBool);
    attn_mask.select(0, 0).fill_(1.0);                          // a fully masked row too
    std::vector<Tensor> inputs = {transposed_leaf({B, T, E})};  // non-contiguous
    for (auto& [name, p] : m->named_parameters()) inputs.push_back(p);
    check_gradients(
        [&](const std::vector<Tensor>& in) {
          auto r = masked ? m->forward(in[0], padding, attn_mask, true, true, false)
                          : m->forward(in[0], Tensor());
          return cat({r.output.flatten(), r.weights.flatten()});
        },
        inputs);
  }
  // batch_first = false, no biases, k >= T.
  auto m = make_module(E, H, 5, false, false);
  std::vector<Tensor> inputs = {strided_leaf({T, B, E})};
  for (auto& [name, p] : m->named_parameters()) inputs.push_back(p);
  check_gradients([&](const std::vector<Tensor>& in) { return (*m)(in[0], Tensor()).output; },
                  inputs);
}

TEST_CASE("RelativeMultiheadAttention matches the PyTorch Shaw attention fixture", "[relpos]") {
  minidl::testing::Fixtures fx("relpos.txt");
  for (const std::string name : {"shaw", "shaw_masked"}) {
    INFO(name);
    nn::RelativeMultiheadAttention m(6, 2, 2);
    m.to(kFloat64);
    nn::StateDict state;
    for (const char* p : {"in_proj_weight", "in_proj_bias", "relative_key", "relative_value",
                          "out_proj.weight", "out_proj.bias"})
      state.emplace_back(p, fx[p]);
    m.load_state_dict(state);
    Tensor x = minidl::testing::fixture_leaf(fx, "x");
    const bool masked = name == "shaw_masked";
    auto result = masked ? m.forward(x, fx["key_padding_mask"], fx["attn_mask"], true)
                         : m.forward(x, Tensor());
    CHECK(allclose(result.weights, fx[name + "_weights"], 1e-10, 1e-12));
    std::vector<std::pair<std::string, Tensor>> inputs = {{"x", x}};
    for (auto& [pname, p] : m.named_parameters()) inputs.emplace_back(pname, p);
    minidl::testing::check_fixture(fx, name, result.output, inputs, 1e-10);

    // The float32 module agrees with the float64 PyTorch values to ~1e-5.
    nn::RelativeMultiheadAttention m32(6, 2, 2);
    m32.load_state_dict(state);
    Tensor x32 = fx["x"].to(kFloat32).requires_grad_();
    auto r32 = masked ? m32.forward(x32, fx["key_padding_mask"], fx["attn_mask"], true)
                      : m32.forward(x32, Tensor());
    CHECK(allclose(r32.output, fx[name], 1e-5, 1e-5));
    (r32.output * fx[name + "_up"].to(kFloat32)).sum().backward();
    CHECK(allclose(x32.grad(), fx[name + "_dx"], 1e-5, 1e-5));
    CHECK(allclose(m32.relative_key.grad(), fx[name + "_drelative_key"], 1e-5, 1e-5));
    CHECK(allclose(m32.relative_value.grad(), fx[name + "_drelative_value"], 1e-5, 1e-5));
  }
}

TEST_CASE("RelativeMultiheadAttention: float32 at a size that runs the parallel kernels",
          "[relpos]") {
  manual_seed(10);
  const int64_t B = 2, T = 64, E = 32, H = 4;
  nn::RelativeMultiheadAttention m(E, H, 5);
  Tensor x = randn({B, T, E});
  Tensor padding = zeros({B, T}, kBool);
  padding.select(0, 0).narrow(0, 50, 14).fill_(1.0);
  auto p = padding.to_vector<int64_t>();
  auto result = m.forward(x, padding, Tensor(), true, true, false);
  NaiveResult ref = naive_shaw(
      x, m, [&](int64_t b, int64_t, int64_t i, int64_t j) { return p[b * T + j] || j > i; });
  CHECK(allclose(result.output, ref.output, 1e-4, 1e-5));
  CHECK(allclose(result.weights, ref.weights, 1e-4, 1e-6));
}

TEST_CASE("RelativeMultiheadAttention: dropout on the weights in training only", "[relpos]") {
  manual_seed(9);
  nn::RelativeMultiheadAttention m(8, 2, 2, 0.5);
  Tensor x = randn({2, 6, 8});
  auto train = m.forward(x, Tensor(), Tensor(), false, true, false);
  auto w = train.weights.to_vector<double>();
  const auto zeros_count = std::count(w.begin(), w.end(), 0.0);
  CHECK(zeros_count > 0);
  CHECK(zeros_count < static_cast<int64_t>(w.size()));
  // The dropped weights W weight both terms: z_i = Σ_j W_ij (v_j + a^V_ij).
  {
    NoGradGuard no_grad;
    const int64_t B = 2, T = 6, H = 2, d = 4;
    Tensor v = linear(x, m.in_proj_weight, m.in_proj_bias)
                   .narrow(-1, 16, 8)
                   .view({B, T, H, d})
                   .transpose(1, 2);  // [B, H, T, d]
    Tensor a_v = index_select(m.relative_value, 0, relative_position_index(T, T, 2).flatten())
                     .view({T, T, d});
    Tensor z = matmul(train.weights, v) + (train.weights.unsqueeze(-1) * a_v).sum({-2});
    Tensor expected = (*m.out_proj)(z.transpose(1, 2).reshape({B, T, 8}));
    CHECK(allclose(train.output, expected, 1e-5, 1e-5));
  }
  m.eval();
  auto eval = m.forward(x, Tensor(), Tensor(), false, true, false);
  CHECK(allclose(eval.weights.sum({-1}), ones({2, 2, 6}), 1e-5, 1e-5));
  CHECK(allclose(eval.output, m.forward(x, Tensor()).output, 0, 0));
}

TEST_CASE("RelativeMultiheadAttention: errors name the module and the shapes", "[relpos]") {
  using M = nn::RelativeMultiheadAttention;
  CHECK_THROWS_WITH(M(10, 3, 2), Catch::Contains("RelativeMultiheadAttention") &&
                                     Catch::Contains("divisible") && Catch::Contains("10"));
  CHECK_THROWS_WITH(M(0, 1, 2),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("positive"));
  CHECK_THROWS_WITH(M(8, -2, 2),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("-2"));
  CHECK_THROWS_WITH(M(8, 2, -1), Catch::Contains("max_relative_position") && Catch::Contains("-1"));
  CHECK_THROWS_WITH(M(8, 2, 1, 1.5),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("1.5"));
  M m(8, 2, 2);
  CHECK_THROWS_WITH(m.forward(zeros({2, 5, 6}), Tensor()),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("[2, 5, 6]"));
  CHECK_THROWS_WITH(m.forward(zeros({2, 0, 8}), Tensor()),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("[2, 0, 8]") &&
                        Catch::Contains("empty"));
  CHECK(m.forward(zeros({0, 3, 8}), Tensor()).output.shape() == Shape{0, 3, 8});
  CHECK_THROWS_WITH(m.forward(zeros({5, 8}), Tensor()),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("[5, 8]"));
  CHECK_THROWS_WITH(m.forward(zeros({2, 5, 8}, kFloat64), Tensor()),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(m.forward(zeros({2, 5, 8}), zeros({2, 4}, kBool)),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("[2, 4]") &&
                        Catch::Contains("key_padding_mask"));
  CHECK_THROWS_WITH(m.forward(zeros({2, 5, 8}), zeros({2, 5})),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("bool"));
  CHECK_THROWS_WITH(m.forward(zeros({2, 5, 8}), Tensor(), zeros({5, 4}, kBool)),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("[5, 4]") &&
                        Catch::Contains("attn_mask"));
  CHECK_THROWS_WITH(m.forward(zeros({2, 5, 8}), Tensor(), zeros({2, 5, 5}, kBool)),
                    Catch::Contains("[2, 5, 5]") && Catch::Contains("[4, 5, 5]"));
  CHECK_THROWS_WITH(m.forward(zeros({2, 5, 8}), Tensor(), zeros({5, 5}, kInt64)),
                    Catch::Contains("RelativeMultiheadAttention") && Catch::Contains("int64"));
}
