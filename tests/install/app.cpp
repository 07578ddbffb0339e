// The README's example, built against an installed minidl through pkg-config by
// tests/install_test.sh: learn y = 3 x0 - 2 x1 + 1 by gradient descent on the tape.
#include <minidl/minidl.h>

#include <cstdio>
#include <iostream>

using namespace minidl;

int main() {
  manual_seed(0);
  Tensor x = randn({256, 2});
  Tensor y = matmul(x, tensor({3.0, -2.0})) + 1.0 + randn({256}) * 0.1;

  Tensor w = zeros({2}).requires_grad_();
  Tensor b = zeros({}).requires_grad_();
  for (int step = 0; step < 200; ++step) {
    Tensor loss = mse_loss(matmul(x, w) + b, y);
    loss.backward();  // fills w.grad() and b.grad()
    {
      NoGradGuard no_grad;    // the update itself is not recorded
      w.sub_(w.grad(), 0.1);  // w -= 0.1 * dL/dw
      b.sub_(b.grad(), 0.1);
    }
    w.zero_grad();
    b.zero_grad();
    if (step % 50 == 0) std::cout << "step " << step << " loss " << loss.item() << "\n";
  }
  std::cout << w << "\n" << b << "\n";  // close to [3, -2] and 1
  std::printf("learned w = [%.1f, %.1f], b = %.1f\n", w.index({0}).item<double>(),
              w.index({1}).item<double>(), b.item<double>());
}
