// 02_broadcasting -- how shapes broadcast, and why the backward of a broadcast SUMS.
//
// Goes with docs/internals.md, "Broadcasting and why its backward sums".
// Run: build/examples/02_broadcasting
//
// The rule (NumPy's and PyTorch's): line the two shapes up from the right; each pair of sizes
// must be equal, or one of them 1 (or missing), and the result takes the larger one.
//   [4, 3] + [3]     -> [4, 3]    ([3] reads as [1, 3]; its one row is reused 4 times)
//   [4, 1] + [1, 3]  -> [4, 3]    (an outer sum)
//   [4, 3] + [4]     -> error     (3 vs 4 on the right)
// The reuse costs no memory: the small operand is read through an expand() view whose stride is
// 0 on the stretched dim (see 01_strides), so b[j] is literally read 4 times.
//
// Backward: if one number is used in 4 places, the loss feels it through all 4, and the chain
// rule adds the 4 contributions. So the gradient of a broadcast input is the upstream gradient
// summed over every dim it was stretched along ("sum_to" its own shape, ops/binary.cpp).
#include <cmath>
#include <cstdio>
#include <cstdlib>

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
  manual_seed(0);
  // The forward rule: the result's shape.
  Tensor x = randn({4, 3}, kFloat64).requires_grad_();
  Tensor b = tensor<double>({10, 20, 30}, kFloat64).requires_grad_();  // a bias, one per column
  Tensor y = x + b;
  std::printf("[4, 3] + [3] -> %s\n", shape_str(y.shape()).c_str());
  check(y.shape() == Shape{4, 3}, "[4, 3] + [3] broadcasts to [4, 3]");
  Tensor outer = arange(4.0, kFloat64).reshape({4, 1}) + arange(3.0, kFloat64).reshape({1, 3});
  std::printf("[4, 1] + [1, 3] ->\n%s\n", outer.to_string().c_str());
  check(outer.shape() == Shape{4, 3} && outer.select(0, 3).select(0, 2).item<double>() == 5.0,
        "[4, 1] + [1, 3] is the outer sum: out[i][j] = i + j");
  try {
    (void)(x + ones({4}, kFloat64));
    check(false, "[4, 3] + [4] should have failed");
  } catch (const Error& e) {
    std::printf("[4, 3] + [4] -> minidl::Error: %s\n", e.what());
  }

  // What broadcasting reads: b as a [4, 3] view with stride 0 on the rows.
  Tensor b_wide = b.expand({4, 3});
  std::printf("b.expand({4, 3}) strides %s\n", shape_str(b_wide.strides()).c_str());
  check(b_wide.strides() == Shape{0, 1}, "the broadcast view of b has stride 0 along the rows");

  // The backward. With upstream gradient G = dL/dy (any [4, 3] tensor; here random), the chain
  // rule gives  dL/dx[i][j] = G[i][j]  and  dL/db[j] = sum_i G[i][j]  -- b[j] fed all 4 rows.
  Tensor G = randn({4, 3}, kFloat64);
  y.backward(G);
  std::printf("upstream G =\n%s\nb.grad = %s\nG.sum(0) = %s\n", G.to_string().c_str(),
              b.grad().to_string().c_str(), G.sum(0).to_string().c_str());
  check(b.grad().shape() == Shape{3} && max_abs_diff(b.grad(), G.sum(0)) < 1e-12,
        "b.grad has b's shape [3], not y's [4, 3]: the column sums of G");
  check(max_abs_diff(x.grad(), G) < 1e-12, "x.grad = G (x was not broadcast)");

  // The same holds for any elementwise op and any stretched dim. A per-row scale s [4, 1]
  // multiplying x:  out = x * s,  dL/ds[i] = sum_j G[i][j] * x[i][j]  (summed along the columns,
  // keeping the size-1 dim so that s.grad has s's shape).
  Tensor s = randn({4, 1}, kFloat64).requires_grad_();
  x.zero_grad();
  (x * s).backward(G);
  Tensor expected_s = (G * x.detach()).sum(1, /*keepdim=*/true);
  check(s.grad().shape() == Shape{4, 1} && max_abs_diff(s.grad(), expected_s) < 1e-12,
        "s.grad [4, 1] = row sums of G * x");
  check(max_abs_diff(x.grad(), G * s.detach()) < 1e-12, "x.grad = G * s (s broadcast again)");

  // Summing is not a convention: it is what a finite difference measures. Nudge b[1] by h and
  // <G, y> changes by h * (sum of G's column 1), because all 4 entries of that column move.
  const double h = 1e-6;
  auto objective = [&](const Tensor& bias) { return (G * (x.detach() + bias)).sum(); };
  Tensor nudged = b.detach().clone();
  nudged.select(0, 1).add_(h);
  const double numeric = (objective(nudged) - objective(b.detach())).item<double>() / h;
  std::printf("finite difference d<G, y>/db[1] = %.6f, b.grad[1] = %.6f\n", numeric,
              b.grad().select(0, 1).item<double>());
  check(std::fabs(numeric - b.grad().select(0, 1).item<double>()) < 1e-6,
        "a finite difference in b[1] agrees with the summed gradient");
  std::printf("02_broadcasting: all checks passed\n");
  return 0;
}
