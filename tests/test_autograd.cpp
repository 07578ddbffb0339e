// The tape: backward, accumulation, retain_graph, NoGradGuard, grad(), in-place version checks.
#include <thread>

#include "core/sanitizer.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;

TEST_CASE("backward of a scalar chain gives the product rule", "[autograd]") {
  Tensor x = tensor({2.0, 3.0}, kFloat64).requires_grad_();
  Tensor y = (x * x * 3.0 + x).sum();  // dy/dx = 6x + 1
  y.backward();
  CHECK(allclose(x.grad(), tensor({13.0, 19.0}, kFloat64)));
  CHECK(x.is_leaf());
  CHECK_FALSE(y.is_leaf());
  CHECK(std::string(y.grad_fn()->name()) == "SumBackward0");
}

TEST_CASE("gradients accumulate across backward calls and zero_grad clears them", "[autograd]") {
  Tensor x = tensor({1.0}, kFloat64).requires_grad_();
  (x * 2.0).sum().backward();
  (x * 3.0).sum().backward();
  CHECK(x.grad().item() == 5.0);
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("a tensor used twice receives the sum of both gradients", "[autograd]") {
  Tensor x = tensor({1.5}, kFloat64).requires_grad_();
  Tensor y = x * x;  // both inputs of one entry are x
  y.sum().backward();
  CHECK(x.grad().item() == Approx(3.0));
}

TEST_CASE("a second backward through a freed graph is a clear error", "[autograd]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = (x.exp() * 2.0).sum();
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();  // allowed: the first call retained the graph
  CHECK(allclose(x.grad(), (x.detach().exp() * 4.0)));
  CHECK_THROWS_WITH(y.backward(),
                    Catch::Contains("second time") && Catch::Contains("retain_graph"));
}

TEST_CASE("NoGradGuard stops recording", "[autograd]") {
  Tensor x = ones({2}).requires_grad_();
  {
    NoGradGuard guard;
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
  }
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("backward of a non-scalar needs a gradient of its shape", "[autograd]") {
  Tensor x = ones({2, 3}).requires_grad_();
  Tensor y = x * 2.0;
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("implicitly") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(y.backward(ones({3})), Catch::Contains("[3]") && Catch::Contains("[2, 3]"));
  y.backward(full({2, 3}, 0.5));
  CHECK(allclose(x.grad(), ones({2, 3})));
}

TEST_CASE("backward of a tensor that does not require grad is an error", "[autograd]") {
  CHECK_THROWS_WITH(ones({1}).backward(), Catch::Contains("does not require grad"));
}

TEST_CASE("grad() returns gradients without touching .grad", "[autograd]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor h = x * 3.0;
  Tensor y = (h * h).sum();  // dy/dh = 2h = 6x, dy/dx = 18x
  auto grads = grad({y}, {x, h}, {}, /*retain_graph=*/true);
  CHECK(allclose(grads[0], tensor({18.0, 36.0}, kFloat64)));
  CHECK(allclose(grads[1], tensor({18.0, 36.0}, kFloat64) / 3.0));
  CHECK_FALSE(x.grad().defined());
  Tensor unused = ones({1}, kFloat64).requires_grad_();
  CHECK_THROWS_WITH(grad({y}, {unused}, {}, true), Catch::Contains("not used"));
  CHECK_FALSE(grad({y}, {unused}, {}, true, false, /*allow_unused=*/true)[0].defined());
}

TEST_CASE("retain_grad fills .grad of an intermediate", "[autograd]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor h = x * 2.0;
  h.retain_grad();
  (h * h).sum().backward();
  CHECK(allclose(h.grad(), h.detach() * 2.0));
}

TEST_CASE("modifying a saved tensor in place makes backward raise", "[autograd]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor h = x * 2.0;
  Tensor y = h.exp();  // saves its output
  {
    NoGradGuard guard;
    y.add_(1.0);
  }
  CHECK_THROWS_WITH(y.sum().backward(),
                    Catch::Contains("ExpBackward0") && Catch::Contains("modified by an in-place"));
}

TEST_CASE("in-place ops on a leaf requiring grad are refused", "[autograd]") {
  Tensor w = ones({2}).requires_grad_();
  CHECK_THROWS_WITH(w.add_(1.0), Catch::Contains("leaf") && Catch::Contains("NoGradGuard"));
  NoGradGuard guard;
  w.add_(1.0);
  CHECK(w._version() == 1);
  CHECK(allclose(w, full({2}, 2.0)));
}

TEST_CASE("in-place ops on non-leaf tensors are differentiable", "[autograd]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = x * 2.0;
  y.add_(x);    // y = 3x
  y.mul_(2.0);  // y = 6x
  y.sum().backward();
  CHECK(allclose(x.grad(), full({2}, 6.0, kFloat64)));
}

TEST_CASE("a long chain backpropagates and frees without recursion", "[autograd]") {
  Tensor x = tensor({1.0}, kFloat64).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 200000; ++i) y = y + 0.0;
  y.backward();
  CHECK(x.grad().item() == 1.0);
}

TEST_CASE("a long chain of ops that save their inputs frees without recursion", "[autograd]") {
  // sin saves its input, whose entry the saved tensor then also holds: the entries of this chain
  // are each owned twice, and freeing the chain unread (no backward ran) must still not recurse.
  Tensor x = tensor({0.5}, kFloat64).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 300000; ++i) y = y.sin();
  CHECK(y.grad_fn()->name() == "SinBackward0");
  y = Tensor();  // frees 300,000 entries here
  CHECK_FALSE(y.defined());
}

namespace {
// Resident set size of this process in bytes (Linux). Under AddressSanitizer freed memory waits
// in a quarantine, so there the live heap bytes are counted instead.
long resident_bytes() {
  if (sanitizer::address_sanitizer()) return static_cast<long>(sanitizer::heap_bytes_in_use());
  long pages_total = 0, pages_resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
  std::fclose(f);
  return pages_resident * 4096;
}
}  // namespace

TEST_CASE("100k training steps do not grow memory", "[autograd]") {
  manual_seed(0);
  Tensor w = randn({16}).requires_grad_();
  Tensor x = randn({16});
  auto step = [&] {
    Tensor loss = ((w * x).tanh() - 0.5).pow(2.0).mean();
    loss.backward();
    NoGradGuard no_grad;
    w.sub_(w.grad() * 0.01);
    w.zero_grad();
    return loss;
  };
  double first = step().item();
  for (int i = 0; i < 2000; ++i) step();
  long before = resident_bytes();
  double last = 0;
  for (int i = 0; i < 100000; ++i) last = i % 1000 == 0 ? step().item<double>() : (step(), last);
  long after = resident_bytes();
  CHECK(step().item() < first);         // it did train
  CHECK(after - before < 1024 * 1024);  // and the tapes were freed
}

TEST_CASE("grad mode is per thread", "[autograd]") {
  Tensor x = ones({2}).requires_grad_();
  NoGradGuard guard;  // off in this thread only
  bool recorded_in_other_thread = false;
  std::thread worker([&] { recorded_in_other_thread = (x * 2.0).requires_grad(); });
  worker.join();
  CHECK(recorded_in_other_thread);
  CHECK_FALSE((x * 2.0).requires_grad());
  {
    EnableGradGuard enable;
    CHECK((x * 2.0).requires_grad());
  }
  CHECK_FALSE(GradMode::is_enabled());
}

TEST_CASE("detect_anomaly: the first NaN in forward or NaN/inf in backward names the op",
          "[autograd]") {
  Tensor x = tensor({0.0, 1.0}).requires_grad_();
  CHECK_FALSE(AnomalyMode::is_enabled());
  {  // off (the default): NaN and infinite gradients pass silently, as in PyTorch
    Tensor y = sqrt(x).sum();
    y.backward();
    CHECK(std::isinf(x.grad().to_vector<double>()[0]));
    x.zero_grad();
  }
  DetectAnomalyGuard anomaly;
  CHECK(AnomalyMode::is_enabled());
  // backward: d sqrt(x) / dx = 1 / (2 sqrt x) is infinite at 0
  Tensor y = sqrt(x).sum();
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("detect_anomaly: SqrtBackward0 (tape entry") &&
                                      Catch::Contains("returned NaN or infinity in the gradient "
                                                      "of its input 0 (shape [2])"));
  // forward: log of a negative number
  CHECK_THROWS_WITH(log(x - 2.0), Catch::Contains("the forward of LogBackward") &&
                                      Catch::Contains("produced NaN in its output of shape [2]") &&
                                      Catch::Contains("recorded outside any module"));
  // where: the modules being called
  auto linear = std::make_shared<nn::Linear>(2, 3);
  {
    NoGradGuard no_grad;
    linear->weight.index({0, 0}).fill_(std::nan(""));
  }
  CHECK_THROWS_WITH((*linear)(ones({1, 2})), Catch::Contains("recorded in Linear"));
  // an infinity in forward is not an anomaly (additive masks hold -inf on purpose)
  Tensor scores = tensor({{1.0, 2.0}}).requires_grad_();
  Tensor masked = scores + tensor({{0.0, -std::numeric_limits<double>::infinity()}});
  Tensor p = softmax(masked, 1);
  p.index({0, 0}).backward();
  CHECK(scores.grad().to_vector<double>() == std::vector<double>{0.0, 0.0});
}

TEST_CASE("tape entries carry PyTorch's node names", "[autograd]") {
  Tensor x = ones({2, 3}, kFloat64).requires_grad_();
  CHECK(x.sum().grad_fn()->name() == "SumBackward0");
  CHECK(x.sum({1}).grad_fn()->name() == "SumBackward1");
  CHECK(x.mean().grad_fn()->name() == "MeanBackward0");
  CHECK(x.mean({0}).grad_fn()->name() == "MeanBackward1");
  CHECK(x.t().grad_fn()->name() == "TBackward0");
  CHECK(x.transpose(0, 1).grad_fn()->name() == "TransposeBackward0");
  CHECK(x.view({6}).grad_fn()->name() == "ViewBackward0");
  CHECK(x.pow(2.0).grad_fn()->name() == "PowBackward0");
  CHECK(x.pow(x).grad_fn()->name() == "PowBackward1");
  CHECK((1.0 - x).grad_fn()->name() == "RsubBackward1");
  // A scalar operand is libtorch's Scalar overload, whose nodes are numbered 1 (x + 2 prints
  // AddBackward1 in libtorch's autograd tutorial; a tensor operand gives AddBackward0).
  CHECK((x + 2.0).grad_fn()->name() == "AddBackward1");
  CHECK((x - 2.0).grad_fn()->name() == "SubBackward1");
  CHECK((x * 3.0).grad_fn()->name() == "MulBackward1");
  CHECK((x / 3.0).grad_fn()->name() == "DivBackward1");
  CHECK((x * x).grad_fn()->name() == "MulBackward0");
  CHECK(x.log1p().grad_fn()->name() == "Log1PBackward0");
  CHECK(x.clamp(0.0, 1.0).grad_fn()->name() == "ClampBackward1");
  CHECK(x.unsqueeze(0).squeeze(0).grad_fn()->name() == "SqueezeBackward1");
  CHECK(x.max().grad_fn()->name() == "MaxBackward1");
  CHECK(x.max(0).first.grad_fn()->name() == "MaxBackward0");
}
