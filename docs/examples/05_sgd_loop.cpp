// 05_sgd_loop -- a two-layer net learns XOR with a hand-written SGD loop (no optimizer class).
//
// Goes with docs/internals.md, "A training step". Run: build/examples/05_sgd_loop
//
// A training step is four moves, and an optimizer class (nn/optim.h) only packages the last two:
//   1. forward: compute the loss, recording the tape
//   2. backward: loss.backward() ADDS each parameter's gradient into p.grad()
//   3. update: p -= lr * p.grad(), with the tape switched off (NoGradGuard) -- the update is not
//      part of the model, and a leaf that requires grad refuses in-place changes otherwise
//   4. zero: drop p.grad(), or the next backward adds onto this step's gradient
// XOR is the smallest problem a linear model cannot solve: the hidden tanh layer is needed.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "minidl.h"

using namespace minidl;

static void check(bool ok, const char* claim) {
  std::printf("  %s %s\n", ok ? "ok:" : "FAILED:", claim);
  if (!ok) std::exit(1);
}

int main() {
  manual_seed(0);
  Tensor X = tensor<float>({{0, 0}, {0, 1}, {1, 0}, {1, 1}});  // [4, 2]
  Tensor Y = tensor<float>({{0}, {1}, {1}, {0}});              // [4, 1]: x0 XOR x1

  // The parameters are plain leaf tensors: 2 inputs -> 8 tanh units -> 1 output.
  Tensor W1 = (randn({8, 2}) * 1.0).requires_grad_(), b1 = zeros({8}).requires_grad_();
  Tensor W2 = (randn({1, 8}) * 0.5).requires_grad_(), b2 = zeros({1}).requires_grad_();
  std::vector<Tensor> params = {W1, b1, W2, b2};
  auto forward = [&](const Tensor& x) {
    return (x.matmul(W1.t()) + b1).tanh().matmul(W2.t()) + b2;
  };

  // Step 3 without NoGradGuard: an in-place change of a leaf that requires grad is refused
  // (it would be recorded on the tape, and the leaf's history would be lost).
  mse_loss(forward(X), Y).backward();
  try {
    W1 -= W1.grad() * 0.1;
    check(false, "the unguarded update should have failed");
  } catch (const Error& err) {
    std::printf("update outside NoGradGuard -> minidl::Error: %s\n", err.what());
  }
  for (Tensor& p : params) p.zero_grad();

  const double lr = 0.05;
  const int steps = 500;
  double first_loss = 0.0, loss_value = 0.0;
  for (int step = 0; step <= steps; ++step) {
    Tensor loss = mse_loss(forward(X), Y);  // 1. forward
    loss.backward();                        // 2. backward: fills p.grad()
    {
      NoGradGuard no_grad;  // 3. update, unrecorded
      for (Tensor& p : params) p -= p.grad() * lr;
    }
    for (Tensor& p : params) p.zero_grad();  // 4. zero (set_to_none: the next backward starts anew)
    loss_value = loss.item<double>();
    if (step == 0) first_loss = loss_value;
    if (step % 50 == 0) std::printf("step %4d  loss %.6f\n", step, loss_value);
  }

  Tensor prediction;
  {
    NoGradGuard no_grad;  // evaluation: no tape needed
    prediction = forward(X);
  }
  std::printf("predictions for (0,0) (0,1) (1,0) (1,1): %s\n",
              prediction.flatten().to_string().c_str());
  std::printf("final loss %.6f\n", loss_value);
  check(first_loss > 0.1 && loss_value < 1e-3, "the loss fell from above 0.1 to below 0.001");
  check(prediction.gt(0.5).eq(Y.gt(0.5)).all().item<bool>(), "all four XOR cases are right");
  std::printf("05_sgd_loop: all checks passed\n");
  return 0;
}
