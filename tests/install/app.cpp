// A user's program, built against an installed minidl through pkg-config by tests/install_test.sh.
#include <minidl/minidl.h>

#include <iostream>

int main() {
  using namespace minidl;
  Tensor w = tensor({1.0, -2.0, 3.0}).requires_grad_();
  Tensor x = tensor({0.5, 0.25, 2.0});
  Tensor loss = (w * x).sum().pow(2.0);  // (0.5 - 0.5 + 6)^2 = 36, d/dw = 2 * 6 * x
  loss.backward();
  std::cout << "loss " << loss.item() << " grad " << w.grad().to_vector<float>()[2] << std::endl;
  return 0;
}
