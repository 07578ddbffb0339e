// The fused kernel (ops/flash_attention.cpp) against the math path: forward and every gradient in
// float32 within 1e-5 on odd sizes and every mask kind, float64 gradchecks, fully masked rows,
// broadcast and non-contiguous inputs, and the memory it does not allocate.
#include "ops/flash_attention.h"

#include <cmath>
#include <limits>

#include "ops/attention.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::leaf;
using minidl::testing::transposed_leaf;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Case {
  const char* name;
  Shape q, k, v;  // full shapes
  bool causal = false;
  bool padding = false;
  int mask = 0;  // 0 none, 1 bool [Tq, Tk], 2 float [.., Tq, Tk] with some -inf
  bool transposed = false;
  double scale = 0.0;  // 0: the default 1 / sqrt(E)
};

// Runs both backends on the same float32 leaves; compares outputs and the gradients of
// (out * upstream).sum() w.r.t. q, k, v.
void compare_backends(const Case& c) {
  INFO(c.name);
  manual_seed(21);
  auto make = [&](const Shape& s) {
    if (!c.transposed) return randn(s, kFloat32);
    Shape sw = s;  // stored transposed: a non-contiguous tensor of shape s
    std::swap(sw[sw.size() - 1], sw[sw.size() - 2]);
    return randn(sw, kFloat32).transpose(-1, -2);
  };
  Tensor q0 = make(c.q), k0 = make(c.k), v0 = make(c.v);
  const int64_t Tq = c.q[c.q.size() - 2], Tk = c.k[c.k.size() - 2];
  SdpaOptions o;
  o.is_causal = c.causal;
  if (c.scale > 0) o.scale = c.scale;
  const int64_t B = c.q.size() >= 3 ? c.q[0] : 1;
  if (c.padding) {
    o.key_padding_mask = zeros({B, Tk}, kBool);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = Tk - 1 - b % 3; j < Tk && j >= 0; ++j)
        o.key_padding_mask.select(0, b).select(0, j).fill_(1.0);
    if (B > 1) o.key_padding_mask.select(0, B - 1).fill_(1.0);  // one batch fully padded
  }
  if (c.mask == 1) {
    o.attn_mask = rand({Tq, Tk}) > 0.3;
    o.attn_mask.select(0, Tq / 2).fill_(0.0);  // one query sees nothing
  }
  if (c.mask == 2) {
    o.attn_mask = randn({Tq, Tk});
    o.attn_mask.select(1, Tk - 1).fill_(-kInf);
  }
  Tensor upstream;
  std::vector<Tensor> outs, grads[2];
  for (int path = 0; path < 2; ++path) {
    Tensor q = q0.detach().requires_grad_(), k = k0.detach().requires_grad_(),
           v = v0.detach().requires_grad_();
    o.backend = path == 0 ? SdpaBackend::Math : SdpaBackend::Fused;
    Tensor out = scaled_dot_product_attention(q, k, v, o).output;
    if (!upstream.defined()) upstream = randn(out.shape());
    (out * upstream).sum().backward();
    outs.push_back(out);
    grads[path] = {q.grad(), k.grad(), v.grad()};
    for (const Tensor& g : grads[path]) REQUIRE(std::isfinite(g.abs().sum().item<float>()));
  }
  CHECK(allclose(outs[1], outs[0], 1e-5, 1e-5));
  for (int i = 0; i < 3; ++i) {
    INFO("gradient "
         << "qkv"[i]);
    CHECK(allclose(grads[1][i], grads[0][i], 1e-5, 1e-5));
  }
}
}  // namespace

TEST_CASE("flash attention equals the math path in float32 on odd sizes and every mask", "[sdpa]") {
  const std::vector<Case> cases = {
      {"plain 3-D, T not a multiple of the tiles", {2, 70, 16}, {2, 300, 16}, {2, 300, 8}},
      {"T = 1", {1, 1, 8}, {1, 1, 8}, {1, 1, 8}},
      {"Tq = 1, Tk = 5", {3, 1, 4}, {3, 5, 4}, {3, 5, 6}},
      {"2-D inputs", {33, 5}, {17, 5}, {17, 3}},
      {"causal square", {2, 130, 8}, {2, 130, 8}, {2, 130, 8}, true},
      {"causal Tq > Tk", {2, 140, 8}, {2, 70, 8}, {2, 70, 4}, true},
      {"causal Tq < Tk", {2, 65, 8}, {2, 290, 8}, {2, 290, 4}, true},
      {"padding", {4, 40, 8}, {4, 300, 8}, {4, 300, 8}, false, true},
      {"padding + causal + bool mask", {3, 67, 8}, {3, 67, 8}, {3, 67, 8}, true, true, 1},
      {"bool mask", {2, 2, 50, 8}, {2, 2, 260, 8}, {2, 2, 260, 8}, false, false, 1},
      {"float mask", {2, 50, 8}, {2, 260, 8}, {2, 260, 8}, false, false, 2},
      {"4-D with padding", {2, 3, 45, 16}, {2, 3, 45, 16}, {2, 3, 45, 16}, false, true},
      {"broadcast k/v over heads", {2, 3, 20, 8}, {2, 1, 30, 8}, {30, 8}},
      {"non-contiguous", {2, 3, 70, 8}, {2, 3, 90, 8}, {2, 3, 90, 8}, true, false, 0, true},
      {"scale", {2, 30, 8}, {2, 40, 8}, {2, 40, 8}, false, false, 0, false, 0.7},
      // Large enough for the parallel schedules (with 2+ threads): one slice split by key blocks
      // (per-thread dQ), an odd number of slices (per-thread dQ), whole slices per thread.
      {"parallel, one slice, causal", {1, 600, 32}, {1, 600, 32}, {1, 600, 32}, true},
      {"parallel, 3 slices, padding", {3, 300, 32}, {3, 300, 32}, {3, 300, 32}, false, true},
      {"parallel, 4 slices, bool mask", {4, 300, 32}, {4, 300, 32}, {4, 300, 32}, false, false, 1},
  };
  for (const Case& c : cases) compare_backends(c);
}

TEST_CASE("flash attention reads head-split views in place, equal to the math path", "[sdpa]") {
  // q, k, v [B, H, T, D] as views of [B, T, H * D] projections (row stride H * D, as
  // MultiheadAttention splits heads): BLAS reads them without a copy.
  manual_seed(26);
  const int64_t B = 2, H = 3, Tq = 70, Tk = 150, D = 8;
  auto heads = [&](int64_t T) {
    return randn({B, T, H * D}).view({B, T, H, D}).permute({0, 2, 1, 3});
  };
  Tensor q0 = heads(Tq), k0 = heads(Tk), v0 = heads(Tk);
  REQUIRE(q0.stride(-2) == H * D);
  Tensor upstream = randn({B, H, Tq, D});
  std::vector<Tensor> results[2];
  for (int path = 0; path < 2; ++path) {
    Tensor q = q0.detach().requires_grad_(), k = k0.detach().requires_grad_(),
           v = v0.detach().requires_grad_();
    SdpaOptions o;
    o.backend = path == 0 ? SdpaBackend::Math : SdpaBackend::Fused;
    o.is_causal = true;
    o.key_padding_mask = zeros({B, Tk}, kBool);
    o.key_padding_mask.select(0, 1).narrow(0, 100, Tk - 100).fill_(1.0);
    Tensor out = scaled_dot_product_attention(q, k, v, o).output;
    (out * upstream).sum().backward();
    results[path] = {out, q.grad(), k.grad(), v.grad()};
  }
  for (int i = 0; i < 4; ++i) {
    INFO("result " << i);
    CHECK(allclose(results[1][i], results[0][i], 1e-5, 1e-5));
  }
  // float64 gradcheck through head-split views.
  Tensor x = leaf({1, 4, 2 * 3});
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        Tensor h = in[0].view({1, 4, 2, 3}).permute({0, 2, 1, 3});
        SdpaOptions o;
        o.backend = SdpaBackend::Fused;
        return scaled_dot_product_attention(h, h, h, o).output;
      },
      {x});
}

TEST_CASE("flash attention: float64 gradchecks with masks and a non-contiguous input", "[sdpa]") {
  manual_seed(22);
  Tensor q = transposed_leaf({2, 5, 3}), k = leaf({2, 6, 3}), v = leaf({2, 6, 2});
  Tensor kpm = zeros({2, 6}, kBool);
  kpm.select(0, 1).narrow(0, 4, 2).fill_(1.0);
  for (int variant = 0; variant < 4; ++variant) {
    INFO("variant " << variant);
    SdpaOptions o;
    o.backend = SdpaBackend::Fused;
    if (variant == 1) o.is_causal = true;
    if (variant == 2) o.key_padding_mask = kpm;
    if (variant == 3) {
      o.attn_mask = randn({5, 6}, kFloat64);
      o.attn_mask.select(0, 0).fill_(-kInf);  // a fully masked query row
      o.is_causal = true;
    }
    check_gradients(
        [&](const std::vector<Tensor>& x) {
          return scaled_dot_product_attention(x[0], x[1], x[2], o).output;
        },
        {q, k, v});
  }
}

TEST_CASE("flash attention: fully masked rows give zeros and finite, zero gradients", "[sdpa]") {
  manual_seed(23);
  Tensor q = randn({2, 4, 8}).requires_grad_(), k = randn({2, 6, 8}).requires_grad_(),
         v = randn({2, 6, 8}).requires_grad_();
  SdpaOptions o;
  o.backend = SdpaBackend::Fused;
  o.key_padding_mask = zeros({2, 6}, kBool);
  o.key_padding_mask.select(0, 1).fill_(1.0);
  Tensor out = scaled_dot_product_attention(q, k, v, o).output;
  CHECK(out.select(0, 1).abs().sum().item<float>() == 0.0f);
  CHECK(out.select(0, 0).abs().sum().item<float>() > 0.0f);
  out.sum().backward();
  for (const Tensor& t : {q, k, v}) {
    REQUIRE(std::isfinite(t.grad().abs().sum().item<float>()));
    CHECK(t.grad().select(0, 1).abs().sum().item<float>() == 0.0f);
  }
}

TEST_CASE("flash attention: backend selection and what falls back to math", "[sdpa]") {
  manual_seed(24);
  Tensor q = randn({2, 5, 4}).requires_grad_(), k = randn({2, 6, 4}), v = randn({2, 6, 4});
  SdpaOptions o;
  CHECK(flash_attention_supported(q, k, v, o));
  // Auto: fused (one FlashAttentionBackward entry) without weights, math with them.
  CHECK(std::string(scaled_dot_product_attention(q, k, v, o).output.grad_fn()->name()) ==
        "FlashAttentionBackward0");
  o.need_weights = true;
  SdpaResult r = scaled_dot_product_attention(q, k, v, o);
  CHECK(r.weights.defined());
  CHECK(std::string(r.output.grad_fn()->name()) != "FlashAttentionBackward0");
  // Dropout runs on the math path; Fused with dropout is an error.
  o.need_weights = false;
  o.dropout_p = 0.2;
  CHECK_FALSE(flash_attention_supported(q, k, v, o));
  o.backend = SdpaBackend::Fused;
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, v, o),
                    Catch::Contains("scaled_dot_product_attention") && Catch::Contains("dropout"));
  // A float mask that requires grad goes to math too (its gradient is [Tq, Tk]).
  SdpaOptions m;
  m.attn_mask = randn({5, 6}).requires_grad_();
  CHECK_FALSE(flash_attention_supported(q, k, v, m));
  Tensor out = scaled_dot_product_attention(q, k, v, m).output;
  out.sum().backward();
  CHECK(m.attn_mask.grad().defined());
  // Integer inputs are rejected by the checks before any backend.
  CHECK_FALSE(flash_attention_supported(q.to(kInt64), k.to(kInt64), v.to(kInt64), {}));
}

TEST_CASE("flash attention does not materialize the [Tq, Tk] scores", "[sdpa]") {
  // T = 4096: float32 scores would take 64 MiB (and the weights as much again). Every freed
  // storage of 64 KiB and more goes to the allocator's cache, so after a forward + backward whose
  // tensors are all gone, cached_bytes() bounds what the pass held at once: the fused pass holds
  // O(T) (q, k, v, out, L, their gradients: a few MiB), the math pass the [T, T] matrices.
  const int64_t T = 4096;
  auto run = [&](SdpaBackend backend) {
    manual_seed(25);
    Tensor q = randn({1, T, 16}).requires_grad_(), k = randn({1, T, 16}).requires_grad_(),
           v = randn({1, T, 16}).requires_grad_();
    SdpaOptions o;
    o.backend = backend;
    o.is_causal = true;
    Tensor out = scaled_dot_product_attention(q, k, v, o).output;
    out.sum().backward();
    // Row 0 attends only to key 0.
    CHECK(allclose(out.select(1, 0), v.select(1, 0).detach(), 1e-6, 1e-6));
    CHECK(std::isfinite(q.grad().abs().sum().item<float>()));
    CHECK(k.grad().abs().sum().item<float>() > 0.0f);
  };
  empty_cache();
  run(SdpaBackend::Fused);
  const size_t fused_bytes = cached_bytes();
  CHECK(fused_bytes < size_t{8} << 20);
  empty_cache();
  {
    Tensor s = empty({T, T});  // the control: a [T, T] float32 matrix is seen
  }
  CHECK(cached_bytes() >= size_t{64} << 20);
  empty_cache();
}
