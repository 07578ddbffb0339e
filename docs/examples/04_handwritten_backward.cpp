// 04_handwritten_backward -- the matrix calculus of a 2-layer MLP, written out and checked
// against the tape.
//
// Goes with docs/internals.md, "The tape" and "Writing a new op" (every op's backward is a few
// lines like these). Run: build/examples/04_handwritten_backward
//
// The net, for a batch X [N, D] with targets Y [N, O] (all float64, so the match is to rounding):
//   Z1 = X W1ᵀ + b1        [N, H]      W1 [H, D], b1 [H]
//   A1 = tanh(Z1)          [N, H]
//   Z2 = A1 W2ᵀ + b2       [N, O]      W2 [O, H], b2 [O]
//   L  = mean((Z2 - Y)²)   scalar      (mean over all N*O entries)
// Backward, one line per forward line, in reverse (dT means dL/dT, always of T's shape):
//   dZ2 = 2 (Z2 - Y) / (N*O)
//   dW2 = dZ2ᵀ A1     db2 = sum over rows of dZ2     dA1 = dZ2 W2
//   dZ1 = dA1 * (1 - A1²)                            (tanh' = 1 - tanh², elementwise)
//   dW1 = dZ1ᵀ X      db1 = sum over rows of dZ1     dX  = dZ1 W1
// Rule of thumb for a matmul C = A B: dA = dC Bᵀ, dB = Aᵀ dC (the only way the shapes fit);
// for a broadcast bias: sum over the broadcast dim (02_broadcasting).
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "minidl.h"

using namespace minidl;

static void check(bool ok, const char* claim) {
  std::printf("  %s %s\n", ok ? "ok:" : "FAILED:", claim);
  if (!ok) std::exit(1);
}

static Tensor leaf(const Shape& shape) {
  return randn(shape, kFloat64).requires_grad_();
}

int main() {
  manual_seed(0);
  const int64_t N = 5, D = 3, H = 4, O = 2;
  Tensor X = leaf({N, D}), W1 = leaf({H, D}), b1 = leaf({H}), W2 = leaf({O, H}), b2 = leaf({O});
  Tensor Y = randn({N, O}, kFloat64);

  // Forward with the library's ops, recording the tape; then let the tape differentiate.
  Tensor Z1 = X.matmul(W1.t()) + b1;
  Tensor A1 = Z1.tanh();
  Tensor Z2 = A1.matmul(W2.t()) + b2;
  Tensor L = mse_loss(Z2, Y);
  L.backward();
  std::printf("loss %.6f\n", L.item<double>());

  // The same gradients by hand, from the formulas above. NoGradGuard: plain arithmetic, nothing
  // recorded (detach() would do too).
  NoGradGuard no_grad;
  Tensor dZ2 = 2.0 * (Z2 - Y) / static_cast<double>(N * O);
  Tensor dW2 = dZ2.t().matmul(A1);
  Tensor db2 = dZ2.sum(0);
  Tensor dA1 = dZ2.matmul(W2);
  Tensor dZ1 = dA1 * (1.0 - A1 * A1);
  Tensor dW1 = dZ1.t().matmul(X);
  Tensor db1 = dZ1.sum(0);
  Tensor dX = dZ1.matmul(W1);

  struct Compare {
    const char* name;
    Tensor hand, tape;
  };
  double worst = 0.0;
  bool shapes_match = true;
  for (const Compare& c : {Compare{"dW2", dW2, W2.grad()}, Compare{"db2", db2, b2.grad()},
                           Compare{"dW1", dW1, W1.grad()}, Compare{"db1", db1, b1.grad()},
                           Compare{"dX", dX, X.grad()}}) {
    shapes_match = shapes_match && c.hand.shape() == c.tape.shape();
    const double diff = (c.hand - c.tape).abs().max().item<double>();
    std::printf("%-4s %-7s max |hand - tape| = %.3g\n", c.name, shape_str(c.hand.shape()).c_str(),
                diff);
    worst = std::max(worst, diff);
  }
  check(shapes_match, "each hand-written gradient has its tensor's shape");
  std::printf("dW1 by hand:\n%s\n", dW1.to_string().c_str());
  check(worst < 1e-12, "every hand-written gradient matches the tape's to 1e-12");
  std::printf("04_handwritten_backward: all checks passed\n");
  return 0;
}
