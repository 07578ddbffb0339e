// 06_attention_weights -- scaled dot-product attention by hand on a tiny input, with and without
// a causal mask, checked against the library's op.
//
// Goes with docs/internals.md, "Attention". Run: build/examples/06_attention_weights
//
//   scores = q kᵀ / sqrt(E)      [Tq, Tk]  how well query i matches key j
//   W      = softmax(scores)     row by row: each query's weights over the keys sum to 1
//   out    = W v                 [Tq, Ev]  each query gets a weighted average of the values
// A causal mask lets query i see only keys j <= i: set the scores of the others to -inf before
// the softmax; exp(-inf) = 0, so they get weight exactly 0 and the rest renormalize.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "minidl.h"

using namespace minidl;

static void check(bool ok, const char* claim) {
  std::printf("  %s %s\n", ok ? "ok:" : "FAILED:", claim);
  if (!ok) std::exit(1);
}

static double max_abs_diff(const Tensor& a, const Tensor& b) {
  return (a - b).abs().max().item<double>();
}

int main() {
  // 3 queries and 4 keys in E = 2 dims, made by hand: key 0 points along x, key 1 along y,
  // key 2 along the diagonal, key 3 away from everything. The values are one-hot-ish labels,
  // so out[i] shows how much of each key query i took.
  Tensor q = tensor<double>({{2, 0}, {0, 2}, {1, 1}}, kFloat64);                      // [3, 2]
  Tensor k = tensor<double>({{1, 0}, {0, 1}, {0.7, 0.7}, {-1, -1}}, kFloat64);        // [4, 2]
  Tensor v = tensor<double>({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0}}, kFloat64);  // [4, 3]

  Tensor scores = q.matmul(k.t()) / std::sqrt(2.0);
  Tensor weights = scores.softmax(-1);
  std::printf("weights, no mask (row i = query i over keys 0..3):\n%s\n",
              weights.to_string().c_str());
  check(max_abs_diff(weights.sum(-1), ones({3}, kFloat64)) < 1e-12, "each row sums to 1");
  check(weights.argmax(-1).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2},
        "query 0 prefers key 0, query 1 key 1, query 2 the diagonal key 2");

  // Causal: key j is hidden from query i when j > i (PyTorch's top-left alignment).
  Tensor hidden = arange(4.0, kFloat64).unsqueeze(0).gt(arange(3.0, kFloat64).unsqueeze(1));
  Tensor causal = scores.masked_fill(hidden, -std::numeric_limits<double>::infinity()).softmax(-1);
  std::printf("weights, causal mask:\n%s\n", causal.to_string().c_str());
  check(max_abs_diff(causal.sum(-1), ones({3}, kFloat64)) < 1e-12, "each masked row sums to 1");
  check(causal.masked_select(hidden).abs().max().item<double>() == 0.0,
        "every hidden key (j > i) has weight exactly 0");
  check(causal.select(0, 0).select(0, 0).item<double>() == 1.0,
        "query 0 sees only key 0, so it gives it all its weight");
  Tensor out = causal.matmul(v);
  std::printf("causal output W v:\n%s\n", out.to_string().c_str());

  // The library's op: the math path returns its weights too; the default (fused, tiled online
  // softmax, ops/flash_attention.h) never builds the [Tq, Tk] matrix, only the output.
  SdpaOptions options;
  options.is_causal = true;
  options.need_weights = true;
  SdpaResult library = scaled_dot_product_attention(q, k, v, options);
  Tensor fused = scaled_dot_product_attention(q, k, v, Tensor(), 0.0, /*is_causal=*/true);
  std::printf("max |hand - library| weights %.3g, output %.3g, fused output %.3g\n",
              max_abs_diff(causal, library.weights), max_abs_diff(out, library.output),
              max_abs_diff(out, fused));
  check(max_abs_diff(causal, library.weights) < 1e-12, "the library's causal weights match");
  check(max_abs_diff(out, library.output) < 1e-12 && max_abs_diff(out, fused) < 1e-12,
        "the library's output matches, on the math path and on the fused one");
  std::printf("06_attention_weights: all checks passed\n");
  return 0;
}
