// Tensor::register_hook / remove_hook (core/autograd.cpp), as libtorch's.
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;

TEST_CASE("a hook on a leaf replaces its gradient", "[hooks]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  x.register_hook([](Tensor g) { return g * 10.0; });
  (x * x).sum().backward();
  CHECK(allclose(x.grad(), tensor({20.0, 40.0}, kFloat64)));
}

TEST_CASE("a void hook observes the gradient of a non-leaf", "[hooks]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor h = x * 3.0;
  Tensor seen;
  h.register_hook([&seen](Tensor g) { seen = g; });
  (h * h).sum().backward();  // d/dh = 2h
  REQUIRE(seen.defined());
  CHECK(allclose(seen, tensor({6.0, 12.0}, kFloat64)));
  CHECK(allclose(x.grad(), tensor({18.0, 36.0}, kFloat64)));
}

TEST_CASE("a hook on a non-leaf changes what flows further back", "[hooks]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor h = x * 3.0;
  h.register_hook([](Tensor g) { return g * 0.0 + 1.0; });
  (h * h).sum().backward();
  CHECK(allclose(x.grad(), tensor({3.0, 3.0}, kFloat64)));
  // hooks run for grad() too
  Tensor y = x * 2.0;
  y.register_hook([](Tensor g) { return g * -1.0; });
  CHECK(allclose(grad({y.sum()}, {x})[0], tensor({-2.0, -2.0}, kFloat64)));
}

TEST_CASE("hooks run in order and can be removed", "[hooks]") {
  Tensor x = tensor({1.0}, kFloat64).requires_grad_();
  std::vector<int> order;
  uint64_t first = x.register_hook([&order](Tensor g) {
    order.push_back(1);
    return g + 1.0;
  });
  x.register_hook([&order](Tensor g) {
    order.push_back(2);
    return g * 2.0;
  });
  (x * 1.0).sum().backward();
  CHECK(order == std::vector<int>{1, 2});
  CHECK(x.grad().item() == 4.0);  // (1 + 1) * 2
  x.remove_hook(first);
  x.zero_grad();
  (x * 1.0).sum().backward();
  CHECK(x.grad().item() == 2.0);
  CHECK_THROWS_WITH(x.remove_hook(first), Catch::Contains("remove_hook"));
}

TEST_CASE("hooks: errors name register_hook", "[hooks]") {
  CHECK_THROWS_WITH(tensor({1.0}).register_hook([](Tensor g) { return g; }),
                    Catch::Contains("register_hook") && Catch::Contains("does not require grad"));
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  x.register_hook([](Tensor) { return ones({3}, kFloat64); });
  CHECK_THROWS_WITH((x * 2.0).sum().backward(),
                    Catch::Contains("register_hook") && Catch::Contains("[3]"));
}

TEST_CASE("a leaf used twice has its hook called once, with the summed gradient", "[hooks]") {
  Tensor x = tensor({2.0}, kFloat64).requires_grad_();
  int calls = 0;
  x.register_hook([&calls](Tensor g) {
    ++calls;
    return g * g;  // not linear: calling it per use would give 3^2 + 4^2
  });
  (x * 3.0 + x * 4.0).sum().backward();
  CHECK(calls == 1);
  CHECK(x.grad().item() == 49.0);
}
