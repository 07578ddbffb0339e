// nn::MultiheadAttention: PyTorch fixtures (weights through safetensors; outputs, weights and
// gradients of the inputs and every parameter), a naive loop reference, gradcheck with masks, the
// fused path against the math path, and the error paths.
#include <cmath>
#include <limits>
#include <map>

#include "nn/attention/multihead.h"
#include "nn/safetensors.h"
#include "tests/mha_reference.h"
#include "tests/test_util.h"

using Catch::Matchers::Contains;
using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;

namespace {

using minidl::testing::check_mha_case;
using minidl::testing::load_mha_case;
using minidl::testing::MhaReference;

nn::MultiheadAttentionOptions mha_options(int64_t embed_dim, int64_t num_heads,
                                          bool batch_first = false) {
  nn::MultiheadAttentionOptions o(embed_dim, num_heads);
  o.batch_first(batch_first);
  return o;
}

}  // namespace

TEST_CASE("MultiheadAttention: parameters, shapes and initialization as PyTorch", "[mha]") {
  manual_seed(0);
  nn::MultiheadAttention packed(8, 2);
  std::vector<std::string> names;
  for (const auto& [name, p] : packed.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                          "out_proj.bias"});
  CHECK(packed.in_proj_weight.shape() == Shape({24, 8}));
  CHECK(packed.head_dim == 4);
  CHECK(packed.in_proj_bias.abs().max().item<double>() == 0.0);
  CHECK(packed.out_proj->bias.abs().max().item<double>() == 0.0);
  // xavier_uniform_ on [24, 8]: bound sqrt(6 / 32)
  const double bound = std::sqrt(6.0 / 32.0);
  CHECK(packed.in_proj_weight.abs().max().item<double>() <= bound);
  CHECK(packed.in_proj_weight.abs().max().item<double>() > 0.8 * bound);
  CHECK(packed.to_string() ==
        "MultiheadAttention(\n  (out_proj): Linear(in_features=8, out_features=8, bias=True)\n)");

  nn::MultiheadAttention separate(8, 2, 0.0, /*bias=*/false, false, false, /*kdim=*/3, /*vdim=*/5);
  names.clear();
  for (const auto& [name, p] : separate.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"q_proj_weight", "k_proj_weight", "v_proj_weight",
                                          "out_proj.weight"});
  CHECK(separate.k_proj_weight.shape() == Shape({8, 3}));
  CHECK(separate.v_proj_weight.shape() == Shape({8, 5}));
  CHECK_FALSE(separate.in_proj_weight.defined());

  nn::MultiheadAttention with_bias_kv(8, 2, 0.0, true, /*add_bias_kv=*/true);
  names.clear();
  for (const auto& [name, p] : with_bias_kv.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                          "out_proj.weight", "out_proj.bias"});
}

TEST_CASE("MultiheadAttention matches PyTorch: packed self-attention, [L, B, E]", "[mha]") {
  MhaReference ref("packed");
  nn::MultiheadAttention mha(6, 2);
  load_mha_case(mha, "packed");
  Tensor x = ref.leaf("x");
  nn::AttentionOutput r = mha(x, x, x);
  CHECK(r.weights.shape() == Shape({2, 4, 4}));  // averaged over heads
  check_mha_case(mha, ref, r.output, r.weights, {{"x", x}});
}

TEST_CASE("MultiheadAttention matches PyTorch: kdim/vdim, batch_first, padding, per head",
          "[mha]") {
  MhaReference ref("kvdim");
  nn::MultiheadAttention mha(6, 2, 0.0, true, false, false, /*kdim=*/4, /*vdim=*/3,
                             /*batch_first=*/true);
  load_mha_case(mha, "kvdim");
  Tensor q = ref.leaf("query"), k = ref.leaf("key"), v = ref.leaf("value");
  nn::AttentionOutput r = mha(q, k, v, ref.mask("key_padding_mask"), true, Tensor(),
                              /*average_attn_weights=*/false);
  CHECK(r.weights.shape() == Shape({2, 2, 4, 5}));
  check_mha_case(mha, ref, r.output, r.weights, {{"query", q}, {"key", k}, {"value", v}});
}

TEST_CASE("MultiheadAttention matches PyTorch: bool attn_mask and key_padding_mask", "[mha]") {
  MhaReference ref("boolmask");
  nn::MultiheadAttention mha(mha_options(6, 2, /*batch_first=*/true));
  load_mha_case(mha, "boolmask");
  Tensor x = ref.leaf("x");
  nn::AttentionOutput r = mha(x, x, x, ref.mask("key_padding_mask"), true, ref.mask("attn_mask"));
  check_mha_case(mha, ref, r.output, r.weights, {{"x", x}});
}

TEST_CASE("MultiheadAttention matches PyTorch: cross-attention, no bias, float 3-D mask", "[mha]") {
  MhaReference ref("floatmask");
  nn::MultiheadAttention mha(6, 2, 0.0, /*bias=*/false);
  load_mha_case(mha, "floatmask");
  Tensor q = ref.leaf("query"), memory = ref.leaf("memory");
  nn::AttentionOutput r = mha(q, memory, memory, Tensor(), true, ref.mask("attn_mask"));
  check_mha_case(mha, ref, r.output, r.weights, {{"query", q}, {"memory", memory}});
}

TEST_CASE("MultiheadAttention matches PyTorch: float key_padding_mask, need_weights=false",
          "[mha]") {
  MhaReference ref("floatpad");
  nn::MultiheadAttention mha(6, 2);
  load_mha_case(mha, "floatpad");
  Tensor q = ref.leaf("query"), k = ref.leaf("key"), v = ref.leaf("value");
  nn::AttentionOutput r = mha(q, k, v, ref.mask("key_padding_mask"), /*need_weights=*/false);
  check_mha_case(mha, ref, r.output, r.weights, {{"query", q}, {"key", k}, {"value", v}});
}

TEST_CASE("MultiheadAttention matches PyTorch: unbatched input with 3-D mask", "[mha]") {
  MhaReference ref("unbatched");
  nn::MultiheadAttention mha(6, 2);
  load_mha_case(mha, "unbatched");
  Tensor q = ref.leaf("query"), memory = ref.leaf("memory");
  nn::AttentionOutput r = mha(q, memory, memory, ref.mask("key_padding_mask"), true,
                              ref.mask("attn_mask"), /*average_attn_weights=*/false);
  CHECK(r.output.shape() == Shape({4, 6}));
  CHECK(r.weights.shape() == Shape({2, 4, 5}));
  check_mha_case(mha, ref, r.output, r.weights, {{"query", q}, {"memory", memory}});
}

TEST_CASE("MultiheadAttention matches PyTorch: need_weights=false self-attention (fused)",
          "[mha]") {
  MhaReference ref("noweights");
  nn::MultiheadAttention mha(mha_options(6, 2, /*batch_first=*/true));
  load_mha_case(mha, "noweights");
  Tensor x = ref.leaf("x");
  nn::AttentionOutput r = mha(x, x, x, ref.mask("key_padding_mask"), /*need_weights=*/false);
  check_mha_case(mha, ref, r.output, r.weights, {{"x", x}});
}

TEST_CASE("MultiheadAttention matches PyTorch: add_bias_kv and add_zero_attn with masks", "[mha]") {
  MhaReference ref("biaskv");
  nn::MultiheadAttention mha(6, 2, 0.0, true, /*add_bias_kv=*/true, /*add_zero_attn=*/true);
  CHECK(mha.bias_k.shape() == Shape({1, 1, 6}));
  load_mha_case(mha, "biaskv");
  Tensor x = ref.leaf("x");
  nn::AttentionOutput r = mha(x, x, x, ref.mask("key_padding_mask"), true, ref.mask("attn_mask"),
                              /*average_attn_weights=*/false);
  CHECK(r.weights.shape() == Shape({2, 2, 4, 6}));  // S + 2 keys
  check_mha_case(mha, ref, r.output, r.weights, {{"x", x}});
}

TEST_CASE("MultiheadAttention matches PyTorch: add_zero_attn, batch_first, float mask", "[mha]") {
  MhaReference ref("zeroattn");
  nn::MultiheadAttention mha(6, 2, 0.0, true, false, /*add_zero_attn=*/true, 0, 0, true);
  load_mha_case(mha, "zeroattn");
  Tensor q = ref.leaf("query"), memory = ref.leaf("memory");
  nn::AttentionOutput r = mha(q, memory, memory, Tensor(), true, ref.mask("attn_mask"));
  check_mha_case(mha, ref, r.output, r.weights, {{"query", q}, {"memory", memory}});
}

// ---------------------------------------------------------------- naive reference

namespace {

// The module's function written with plain loops over doubles, for batch_first inputs
// query [B, L, E], key [B, S, kdim], value [B, S, vdim]; masks: bool attn [L, S] (true = not
// allowed), bool padding [B, S] (true = padded), causal. Returns output [B, L, E] and per-head
// weights [B, H, L, S]; a fully masked row has zero weights.
std::pair<std::vector<double>, std::vector<double>> naive_mha(
    const nn::MultiheadAttention& m, const Tensor& query, const Tensor& key, const Tensor& value,
    const Tensor& attn_mask, const Tensor& padding, bool causal) {
  const int64_t B = query.size(0), L = query.size(1), S = key.size(1), E = m.embed_dim,
                H = m.num_heads, D = m.head_dim, KD = m.kdim, VD = m.vdim;
  const auto q_in = query.to_vector<double>(), k_in = key.to_vector<double>(),
             v_in = value.to_vector<double>();
  std::vector<double> wq, wk, wv;
  if (m.qkv_same_embed_dim) {
    auto w = m.in_proj_weight.to_vector<double>();
    wq.assign(w.begin(), w.begin() + E * E);
    wk.assign(w.begin() + E * E, w.begin() + 2 * E * E);
    wv.assign(w.begin() + 2 * E * E, w.end());
  } else {
    wq = m.q_proj_weight.to_vector<double>();
    wk = m.k_proj_weight.to_vector<double>();
    wv = m.v_proj_weight.to_vector<double>();
  }
  std::vector<double> bias(3 * E, 0.0), out_b(E, 0.0);
  if (m.in_proj_bias.defined()) bias = m.in_proj_bias.to_vector<double>();
  if (m.out_proj->bias.defined()) out_b = m.out_proj->bias.to_vector<double>();
  const auto out_w = m.out_proj->weight.to_vector<double>();
  std::vector<double> amask, pmask;  // nonzero = excluded
  if (attn_mask.defined()) amask = attn_mask.to_vector<double>();
  if (padding.defined()) pmask = padding.to_vector<double>();

  auto project = [](const std::vector<double>& in, int64_t rows, int64_t in_dim,
                    const std::vector<double>& w, const double* b, int64_t out_dim) {
    std::vector<double> out(rows * out_dim);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out_dim; ++o) {
        double s = b[o];
        for (int64_t i = 0; i < in_dim; ++i) s += in[r * in_dim + i] * w[o * in_dim + i];
        out[r * out_dim + o] = s;
      }
    return out;
  };
  const auto q = project(q_in, B * L, E, wq, bias.data(), E);
  const auto k = project(k_in, B * S, KD, wk, bias.data() + E, E);
  const auto v = project(v_in, B * S, VD, wv, bias.data() + 2 * E, E);
  std::vector<double> weights(B * H * L * S, 0.0), context(B * L * E, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < L; ++i) {
        std::vector<double> score(S);
        std::vector<bool> allowed(S);
        double max_score = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < S; ++j) {
          allowed[j] = !(causal && j > i) && (amask.empty() || amask[i * S + j] == 0) &&
                       (pmask.empty() || pmask[b * S + j] == 0);
          double s = 0.0;
          for (int64_t d = 0; d < D; ++d)
            s += q[(b * L + i) * E + h * D + d] * k[(b * S + j) * E + h * D + d];
          score[j] = s / std::sqrt(static_cast<double>(D));
          if (allowed[j]) max_score = std::max(max_score, score[j]);
        }
        double total = 0.0;
        for (int64_t j = 0; j < S; ++j) total += allowed[j] ? std::exp(score[j] - max_score) : 0.0;
        for (int64_t j = 0; j < S; ++j) {
          const double p = allowed[j] ? std::exp(score[j] - max_score) / total : 0.0;
          weights[((b * H + h) * L + i) * S + j] = p;
          for (int64_t d = 0; d < D; ++d)
            context[(b * L + i) * E + h * D + d] += p * v[(b * S + j) * E + h * D + d];
        }
      }
  return {project(context, B * L, E, out_w, out_b.data(), E), weights};
}

// Moves every parameter away from its initialization (biases start at zero).
void perturb(nn::Module& m) {
  NoGradGuard no_grad;
  for (Tensor& p : m.parameters()) p.add_(randn(p.shape(), p.dtype()) * 0.3);
}

}  // namespace

TEST_CASE("MultiheadAttention equals a naive loop reference, masks included", "[mha]") {
  manual_seed(3);
  const int64_t B = 2, L = 5, S = 4;
  for (bool separate : {false, true}) {
    INFO("separate projections " << separate);
    nn::MultiheadAttention mha(8, 2, 0.0, true, false, false, separate ? 3 : 0, separate ? 5 : 0,
                               /*batch_first=*/true);
    mha.to(kFloat64);
    perturb(mha);
    Tensor q = randn({B, L, 8}, kFloat64);
    Tensor k = randn({B, S, separate ? 3 : 8}, kFloat64);
    Tensor v = randn({B, S, separate ? 5 : 8}, kFloat64);
    Tensor attn =
        from_vector(std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0},
                    {L, S}, kBool);
    // batch 1 pads every key: its rows are fully masked (zeros)
    Tensor padding = from_vector(std::vector<double>{0, 0, 1, 0, 1, 1, 1, 1}, {B, S}, kBool);
    for (bool causal : {false, true}) {
      INFO("causal " << causal);
      auto [expected_out, expected_w] = naive_mha(mha, q, k, v, attn, padding, causal);
      nn::AttentionOutput r = mha(q, k, v, padding, true, attn, false, causal);
      CHECK(allclose(r.output, from_vector(expected_out, {B, L, 8}, kFloat64), 1e-10, 1e-10));
      CHECK(allclose(r.weights, from_vector(expected_w, {B, 2, L, S}, kFloat64), 1e-10, 1e-10));
      // need_weights = false (fused kernel) computes the same output
      nn::AttentionOutput fused = mha(q, k, v, padding, false, attn, false, causal);
      CHECK(allclose(fused.output, r.output, 1e-10, 1e-10));
      // batch 1 is fully masked: its output is out_proj.bias
      Tensor masked_rows = r.output.select(0, 1);
      CHECK(allclose(masked_rows, mha.out_proj->bias.unsqueeze(0).expand({L, 8}), 0, 1e-12));
    }
  }
}

TEST_CASE("MultiheadAttention: fully masked rows give zero gradients, never NaN", "[mha]") {
  manual_seed(4);
  nn::MultiheadAttention mha(mha_options(4, 2, true));
  mha.to(kFloat64);
  Tensor x = randn({2, 3, 4}, kFloat64).requires_grad_();
  Tensor padding = from_vector(std::vector<double>{0, 0, 1, 1, 1, 1}, {2, 3}, kBool);
  for (bool need_weights : {true, false}) {
    mha.zero_grad();
    x.zero_grad();
    nn::AttentionOutput r = mha(x, x, x, padding, need_weights);
    Tensor loss = r.output.sum();
    if (need_weights) loss = loss + r.weights.sum();
    loss.backward();
    CHECK_FALSE(std::isnan(r.output.sum().item<double>()));
    CHECK_FALSE(std::isnan(x.grad().sum().item<double>()));
    for (const Tensor& p : mha.parameters()) CHECK_FALSE(std::isnan(p.grad().sum().item<double>()));
    // batch 1 attends to nothing: its input gets no gradient
    CHECK(x.grad().select(0, 1).abs().max().item<double>() == 0.0);
  }
}

TEST_CASE("MultiheadAttention: float and bool masks agree; is_causal equals the causal mask",
          "[mha]") {
  manual_seed(5);
  nn::MultiheadAttention mha(8, 4);
  mha.to(kFloat64);
  perturb(mha);
  Tensor x = randn({5, 2, 8}, kFloat64);
  Tensor causal_bool = from_vector(std::vector<double>(25, 0.0), {5, 5}, kBool);
  {
    std::vector<double> v(25);
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) v[i * 5 + j] = j > i;
    causal_bool = from_vector(v, {5, 5}, kBool);
  }
  Tensor causal_float =
      zeros({5, 5}, kFloat64).masked_fill(causal_bool, -std::numeric_limits<double>::infinity());
  Tensor a = std::get<0>(mha(x, x, x, Tensor(), true, causal_bool));
  Tensor b = std::get<0>(mha(x, x, x, Tensor(), true, causal_float));
  Tensor c = std::get<0>(mha(x, x, x, Tensor(), true, Tensor(), true, /*is_causal=*/true));
  Tensor d = std::get<0>(mha(x, x, x, Tensor(), false, Tensor(), true, /*is_causal=*/true));
  CHECK(allclose(a, b, 1e-12, 1e-12));
  CHECK(allclose(a, c, 1e-12, 1e-12));
  CHECK(allclose(a, d, 1e-10, 1e-10));
  // float padding (-inf) equals bool padding
  Tensor pad_bool = from_vector(std::vector<double>{0, 0, 0, 1, 1, 0, 0, 0, 0, 0}, {2, 5}, kBool);
  Tensor pad_float =
      zeros({2, 5}, kFloat64).masked_fill(pad_bool, -std::numeric_limits<double>::infinity());
  CHECK(allclose(std::get<0>(mha(x, x, x, pad_bool)), std::get<0>(mha(x, x, x, pad_float)), 1e-12,
                 1e-12));
  // float padding combined with a bool attn_mask
  CHECK(allclose(std::get<0>(mha(x, x, x, pad_bool, true, causal_bool)),
                 std::get<0>(mha(x, x, x, pad_float, true, causal_bool)), 1e-12, 1e-12));
}

TEST_CASE("MultiheadAttention: batch_first and sequence-first layouts agree", "[mha]") {
  manual_seed(6);
  nn::MultiheadAttention seq_first(8, 2), batch_first(mha_options(8, 2, true));
  seq_first.to(kFloat64);
  batch_first.to(kFloat64);
  perturb(seq_first);
  batch_first.load_state_dict(seq_first.state_dict());
  Tensor x = randn({4, 3, 8}, kFloat64), memory = randn({6, 3, 8}, kFloat64);
  Tensor padding = randn({3, 6}, kFloat64).gt(full({3, 6}, 0.8, kFloat64));
  nn::AttentionOutput a = seq_first(x, memory, memory, padding);
  nn::AttentionOutput b =
      batch_first(x.transpose(0, 1), memory.transpose(0, 1), memory.transpose(0, 1), padding);
  CHECK(allclose(a.output, b.output.transpose(0, 1), 1e-12, 1e-12));
  CHECK(allclose(a.weights, b.weights, 1e-12, 1e-12));
}

TEST_CASE("MultiheadAttention gradcheck: every input and parameter, masks, non-contiguous",
          "[mha]") {
  manual_seed(7);
  for (bool separate : {false, true}) {
    INFO("separate projections " << separate);
    nn::MultiheadAttention mha(4, 2, 0.0, true, false, false, separate ? 3 : 0, 0, true);
    mha.to(kFloat64);
    perturb(mha);
    Tensor q = testing::transposed_leaf({2, 3, 4});
    Tensor k = testing::strided_leaf({2, 4, separate ? 3 : 4});
    Tensor v = testing::leaf({2, 4, 4});
    Tensor padding = from_vector(std::vector<double>{0, 0, 0, 1, 1, 1, 1, 1}, {2, 4}, kBool);
    Tensor attn =
        from_vector(std::vector<double>{0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0}, {3, 4}, kBool);
    std::vector<Tensor> inputs{q, k, v};
    for (const Tensor& p : mha.parameters()) inputs.push_back(p);
    for (bool need_weights : {true, false})
      check_gradients(
          [&](const std::vector<Tensor>& in) {
            nn::AttentionOutput r = mha(in[0], in[1], in[2], padding, need_weights, attn);
            return need_weights ? r.output.sum({2}) + r.weights.sum({2}) : r.output;
          },
          inputs);
    // self-attention (the packed one-GEMM path) with a float mask
    if (!separate) {
      Tensor x = testing::transposed_leaf({2, 3, 4});
      Tensor float_mask = randn({4, 3, 3}, kFloat64);  // [B * H, L, S]
      std::vector<Tensor> self_inputs{x};
      for (const Tensor& p : mha.parameters()) self_inputs.push_back(p);
      check_gradients(
          [&](const std::vector<Tensor>& in) {
            return std::get<0>(mha(in[0], in[0], in[0], Tensor(), true, float_mask));
          },
          self_inputs);
    }
  }
}

TEST_CASE("MultiheadAttention gradcheck: add_bias_kv and add_zero_attn", "[mha]") {
  manual_seed(10);
  for (bool bias_kv : {false, true}) {
    INFO("add_bias_kv " << bias_kv);
    nn::MultiheadAttention mha(4, 2, 0.0, true, bias_kv, /*add_zero_attn=*/!bias_kv, 0, 0, true);
    mha.to(kFloat64);
    perturb(mha);
    Tensor q = testing::leaf({2, 3, 4}), kv = testing::transposed_leaf({2, 2, 4});
    Tensor padding = from_vector(std::vector<double>{0, 1, 1, 1}, {2, 2}, kBool);
    std::vector<Tensor> inputs{q, kv};
    for (const Tensor& p : mha.parameters()) inputs.push_back(p);
    check_gradients(
        [&](const std::vector<Tensor>& in) {
          nn::AttentionOutput r = mha(in[0], in[1], in[1], padding);
          return r.output.sum({2}) + r.weights.sum({2});
        },
        inputs);
  }
}

TEST_CASE("MultiheadAttention: dropout on the weights in training mode only", "[mha]") {
  manual_seed(8);
  nn::MultiheadAttention mha(8, 2, /*dropout=*/0.5);
  Tensor x = randn({6, 2, 8});
  mha.eval();
  nn::AttentionOutput eval1 = mha(x, x, x), eval2 = mha(x, x, x);
  CHECK(allclose(eval1.output, eval2.output, 0, 0));
  mha.train();
  nn::AttentionOutput train = mha(x, x, x);
  // dropped weights are 0, the kept ones are scaled by 2: rows no longer sum to 1
  CHECK(train.weights.eq(zeros_like(train.weights)).sum().item<double>() > 0);
  CHECK_FALSE(allclose(train.output, eval1.output, 1e-3, 1e-3));
}

TEST_CASE("MultiheadAttention: errors name the module and the shapes", "[mha]") {
  CHECK_THROWS_WITH(nn::MultiheadAttention(10, 3), Contains("MultiheadAttention") &&
                                                       Contains("divisible by num_heads") &&
                                                       Contains("embed_dim=10"));
  CHECK_THROWS_WITH(nn::MultiheadAttention(0, 1),
                    Contains("MultiheadAttention") && Contains("must be positive"));
  CHECK_THROWS_WITH(nn::MultiheadAttention(8, 2, 1.5), Contains("dropout probability"));

  manual_seed(9);
  nn::MultiheadAttention mha(8, 2);
  Tensor x = randn({5, 2, 8});
  CHECK_THROWS_WITH(mha(randn({5, 2, 6}), x, x), Contains("MultiheadAttention") &&
                                                     Contains("embed_dim=8") &&
                                                     Contains("[5, 2, 6]"));
  CHECK_THROWS_WITH(mha(x, randn({5, 2, 6}), x), Contains("kdim=8") && Contains("[5, 2, 6]"));
  CHECK_THROWS_WITH(mha(x, x, randn({5, 2, 7})), Contains("vdim=8") && Contains("[5, 2, 7]"));
  CHECK_THROWS_WITH(mha(randn({1, 5, 2, 8}), x, x), Contains("rank 3") && Contains("[1, 5, 2, 8]"));
  CHECK_THROWS_WITH(mha(x, randn({5, 8}), randn({5, 8})), Contains("same rank"));
  CHECK_THROWS_WITH(mha(x, randn({5, 3, 8}), randn({5, 3, 8})),
                    Contains("same batch size") && Contains("[5, 3, 8]"));
  CHECK_THROWS_WITH(mha(x, randn({4, 2, 8}), randn({5, 2, 8})),
                    Contains("same sequence length") && Contains("[4, 2, 8]"));
  CHECK_THROWS_WITH(mha(x.to(kFloat64), x, x), Contains("dtype"));
  // masks
  CHECK_THROWS_WITH(mha(x, x, x, Tensor(), true, zeros({5, 4}, kBool)),
                    Contains("attn_mask") && Contains("[5, 4]") && Contains("[5, 5]"));
  CHECK_THROWS_WITH(mha(x, x, x, Tensor(), true, zeros({3, 5, 5}, kBool)),
                    Contains("attn_mask") && Contains("[3, 5, 5]") && Contains("[4, 5, 5]"));
  CHECK_THROWS_WITH(mha(x, x, x, Tensor(), true, zeros({5, 5}, kInt64)),
                    Contains("attn_mask must be bool") && Contains("int64"));
  CHECK_THROWS_WITH(mha(x, x, x, zeros({2, 4}, kBool)),
                    Contains("key_padding_mask") && Contains("[2, 4]") && Contains("[2, 5]"));
  CHECK_THROWS_WITH(mha(x, x, x, zeros({2, 5}, kInt64)),
                    Contains("key_padding_mask must be bool") && Contains("int64"));
  CHECK_THROWS_WITH(mha(x, x, x, zeros({2, 5, 1}, kBool)), Contains("key_padding_mask"));
}
