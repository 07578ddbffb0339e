// The autograd tutorial of libtorch's C++ frontend, in its idiom: requires_grad options, grad_fn
// names, backward with a gradient, no-grad blocks, higher-order gradients (a gradient penalty and a
// Hessian-vector product with create_graph), custom autograd Functions, tensor hooks. Each result
// is checked; the program fails on the first wrong one. Built unchanged against minidl by
// tests/libtorch_test.sh.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <iostream>

using namespace torch::autograd;

static int failures = 0;

static void expect(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

static bool close(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::allclose(a, b, 1e-5, 1e-6);
}

// y = x W^T + b, with its own backward (the C++ frontend's documented example of a Function).
class LinearFunction : public Function<LinearFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor input, torch::Tensor weight,
                               torch::Tensor bias = torch::Tensor()) {
    ctx->save_for_backward({input, weight, bias});
    auto output = input.mm(weight.t());
    if (bias.defined()) output += bias.unsqueeze(0).expand_as(output);
    return output;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    auto input = saved[0], weight = saved[1], bias = saved[2];
    auto grad_output = grad_outputs[0];
    auto grad_input = grad_output.mm(weight);
    auto grad_weight = grad_output.t().mm(input);
    auto grad_bias = torch::Tensor();
    if (bias.defined()) grad_bias = grad_output.sum(0);
    return {grad_input, grad_weight, grad_bias};
  }
};

// y = x * constant; the constant is not a tensor and gets no gradient.
class MulConstant : public Function<MulConstant> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor tensor, double constant) {
    ctx->saved_data["constant"] = constant;
    return tensor * constant;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    return {grad_outputs[0] * ctx->saved_data["constant"].toDouble(), torch::Tensor()};
  }
};

int main() {
  torch::manual_seed(0);

  // Basic autograd operations.
  auto x = torch::ones({2, 2}, torch::requires_grad());
  auto y = x + 2;
  expect(y.grad_fn()->name() == "AddBackward1", "y = x + 2 has grad_fn AddBackward1");
  auto z = y * y * 3;
  auto out = z.mean();
  expect(z.grad_fn()->name() == "MulBackward1", "z = y * y * 3 has grad_fn MulBackward1");
  expect(out.grad_fn()->name() == "MeanBackward0", "out = z.mean() has grad_fn MeanBackward0");
  out.backward();
  expect(close(x.grad(), torch::full({2, 2}, 4.5)), "d(out)/dx = 4.5");

  auto a = torch::randn({2, 2});
  a = ((a * 3) / (a - 1));
  expect(!a.requires_grad(), "a does not require grad");
  a.requires_grad_(true);
  expect(a.requires_grad(), "requires_grad_(true) turns it on");
  auto b = (a * a).sum();
  expect(b.grad_fn()->name() == "SumBackward0", "b has grad_fn SumBackward0");

  // A vector-Jacobian product: y.backward(v).
  x = torch::randn(3, torch::requires_grad());
  y = x * 2;
  while (y.norm().item<double>() < 1000) y = y * 2;
  auto v = torch::tensor({0.1, 1.0, 0.0001}, torch::kFloat);
  y.backward(v);
  const double scale = (y / x).detach()[0].item<double>();
  expect(close(x.grad(), v * scale), "y.backward(v) gives v * dy/dx");

  // No-grad blocks and detach.
  expect(x.requires_grad() && x.pow(2).requires_grad(), "x and x^2 require grad");
  {
    torch::NoGradGuard no_grad;
    expect(!x.pow(2).requires_grad(), "x^2 under NoGradGuard does not");
  }
  auto d = x.detach();
  expect(!d.requires_grad() && x.eq(d).all().item<bool>(), "detach keeps values, drops grad");

  // Higher order: a gradient penalty || d model(input) / d input ||^2 on a small MLP, and its
  // gradient with respect to the model's weights.
  auto model = torch::nn::Linear(4, 3);
  auto input = torch::randn({3, 4}).requires_grad_(true);
  auto output = torch::tanh(model(input));
  auto grad_output = torch::ones_like(output);
  auto gradient = torch::autograd::grad({output}, {input}, /*grad_outputs=*/{grad_output},
                                        /*retain_graph=*/true,
                                        /*create_graph=*/true)[0];
  auto gradient_penalty = torch::pow((gradient.norm(2, /*dim=*/1) - 1), 2).mean();
  gradient_penalty.backward();
  expect(model->weight.grad().defined() && model->weight.grad().abs().sum().item<double>() > 0,
         "the gradient penalty reaches the weights");
  // The same penalty's weight gradient by central finite differences, on one weight.
  {
    torch::NoGradGuard no_grad;
    auto penalty_at = [&](double delta) {
      auto w = model->weight.clone();
      w[0][1] += delta;
      auto t = torch::tanh(input.mm(w.t()) + model->bias);
      auto g = (1 - t * t).mm(w);  // d sum(tanh(x W^T + b)) / dx
      return torch::pow(g.norm(2, 1) - 1, 2).mean().item<double>();
    };
    const double numeric = (penalty_at(1e-2) - penalty_at(-1e-2)) / 2e-2;
    const double analytic = model->weight.grad()[0][1].item<double>();
    std::printf("     penalty gradient analytic %.5f numeric %.5f\n", analytic, numeric);
    expect(std::fabs(analytic - numeric) < 2e-3 * (1 + std::fabs(numeric)),
           "create_graph gradient matches finite differences");
  }

  // A Hessian-vector product: f(x) = sum(x^3), H = diag(6 x), so H v = 6 x v.
  auto p = torch::randn({5}, torch::dtype(torch::kDouble).requires_grad(true));
  auto direction = torch::randn({5}, torch::kDouble);
  auto first = torch::autograd::grad({p.pow(3).sum()}, {p}, {}, true, true)[0];
  auto hvp = torch::autograd::grad({(first * direction).sum()}, {p})[0];
  expect(close(hvp, 6 * p.detach() * direction), "Hessian-vector product of sum(x^3)");

  // Custom Functions.
  auto xf = torch::randn({2, 3}).requires_grad_();
  auto weight = torch::randn({4, 3}).requires_grad_();
  auto yf = LinearFunction::apply(xf, weight);
  yf.sum().backward();
  expect(close(xf.grad(), torch::ones({2, 4}).mm(weight)), "LinearFunction: input gradient");
  expect(close(weight.grad(), torch::ones({4, 2}).mm(xf)), "LinearFunction: weight gradient");

  auto xm = torch::randn({2}).requires_grad_();
  auto ym = MulConstant::apply(xm, 5.5);
  ym.sum().backward();
  expect(close(xm.grad(), torch::full({2}, 5.5)), "MulConstant: gradient 5.5");

  // Hooks: a hook on a non-leaf sees and may replace its gradient.
  auto h = torch::ones({3}, torch::requires_grad());
  auto doubled = h * 2;
  torch::Tensor seen;
  doubled.register_hook([&seen](torch::Tensor grad) { seen = grad.clone(); });
  doubled.register_hook([](torch::Tensor grad) { return grad * 10; });
  doubled.sum().backward();
  expect(close(seen, torch::ones({3})), "an observing hook sees the incoming gradient");
  expect(close(h.grad(), torch::full({3}, 20.0)), "a replacing hook scales what flows on");

  std::printf("%s\n", failures == 0 ? "all autograd checks passed" : "some autograd checks FAILED");
  return failures == 0 ? 0 : 1;
}
