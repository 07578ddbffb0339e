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

TEST_CASE("a leaf's hooks run as soon as its gradient is complete, before earlier entries",
          "[hooks]") {
  // out = sum((x * w1) * w2): backward runs sum, then the second mul (which completes w2), then
  // the first mul (which completes w1). w2's hook must not wait for the whole backward -- that
  // is what lets DistributedDataParallel overlap its all-reduce with the rest of backward.
  Tensor x = tensor({1.0, 2.0}, kFloat64);
  Tensor w1 = tensor({3.0, 4.0}, kFloat64).requires_grad_();
  Tensor w2 = tensor({5.0, 6.0}, kFloat64).requires_grad_();
  std::vector<std::string> order;
  w1.register_hook([&order](Tensor) { order.push_back("w1"); });
  w2.register_hook([&order](Tensor) { order.push_back("w2"); });
  Tensor h = x * w1;
  h.register_hook([&order](Tensor) { order.push_back("h"); });
  (h * w2).sum().backward();
  CHECK(order == std::vector<std::string>{"w2", "h", "w1"});
  CHECK(allclose(w1.grad(), tensor({5.0, 12.0}, kFloat64)));
  CHECK(allclose(w2.grad(), tensor({3.0, 8.0}, kFloat64)));
}

TEST_CASE("an early hook still sees every use of its leaf, summed", "[hooks]") {
  // w is used by the first and the last entry: its hook may only run after the first one.
  Tensor x = tensor({1.0, 2.0}, kFloat64);
  Tensor w = tensor({3.0, 4.0}, kFloat64).requires_grad_();
  Tensor v = tensor({0.5, 0.25}, kFloat64).requires_grad_();
  std::vector<std::string> order;
  Tensor seen;
  w.register_hook([&](Tensor g) {
    order.push_back("w");
    seen = g;
  });
  v.register_hook([&order](Tensor) { order.push_back("v"); });
  Tensor h = (x * w) * v;      // entries: mul#0 (x, w), mul#1 (., v)
  Tensor out = (h * w).sum();  // mul#2 (h, w), sum#3
  out.backward();
  // d out / d w = x * v * w (through mul#0) + h (through mul#2) = 2 x v w.
  CHECK(order == std::vector<std::string>{"v", "w"});
  REQUIRE(seen.defined());
  CHECK(allclose(seen, tensor({3.0, 4.0}, kFloat64)));
  CHECK(allclose(w.grad(), tensor({3.0, 4.0}, kFloat64)));
}
