// 08_higher_order -- gradients of gradients: create_graph, tanh'' and a Hessian-vector product.
//
// Goes with docs/internals.md, "Higher-order gradients". Run: build/examples/08_higher_order
//
// A backward closure computes gradients with ordinary ops. With create_graph=true the engine runs
// those closures with the tape ON, so the gradient it returns is itself a recorded tensor -- a
// function of the inputs that can be differentiated again. (Entries whose backward is a fused
// kernel instead of recorded ops are refused in that mode, with the op's name.)
//   tanh:   y = tanh(x),   y' = 1 - y²,   y'' = -2 y (1 - y²)
//   HVP:    f(x) = (x·x)²,  ∇f = 4 (x·x) x,  H = 4 (x·x) I + 8 x xᵀ,  so  H v = 4 (x·x) v + 8 x
//   (x·v)
// A Hessian-vector product never builds H: differentiate the scalar <∇f(x), v> once more.
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
  // d/dx tanh at five points. y.sum() makes a scalar whose gradient is y' elementwise.
  Tensor x = linspace(-2, 2, 5, kFloat64).requires_grad_();
  Tensor y = x.tanh();
  Tensor dy = autograd::grad({y.sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  std::printf("dy.grad_fn() = %s: the first derivative was recorded\n",
              dy.grad_fn()->name().c_str());
  Tensor d2y = autograd::grad({dy.sum()}, {x})[0];

  NoGradGuard no_grad;  // the formulas below are checks, not part of any graph
  Tensor t = x.detach().tanh();
  std::printf("x       %s\n", x.detach().to_string().c_str());
  std::printf("tanh''  %s\n", d2y.to_string().c_str());
  check(max_abs_diff(dy, 1 - t * t) < 1e-12, "first derivative: 1 - tanh^2");
  check(max_abs_diff(d2y, -2 * t * (1 - t * t)) < 1e-12, "second derivative: -2 tanh (1 - tanh^2)");

  // Hessian-vector product of f(x) = (x.x)^2 at a point p, in a direction v.
  Tensor p = tensor<double>({1, -2, 0.5}, kFloat64), v = tensor<double>({0.3, 0.1, -1}, kFloat64);
  Tensor hv;
  {
    EnableGradGuard grad_on;  // record again inside this block
    Tensor xp = p.clone().requires_grad_();
    Tensor f = (xp * xp).sum().pow(2);
    Tensor g = autograd::grad({f}, {xp}, {}, true, /*create_graph=*/true)[0];  // ∇f, recorded
    hv = autograd::grad({(g * v).sum()}, {xp})[0];  // d<∇f, v>/dx = H v
  }
  const double pp = (p * p).sum().item<double>(), pv = (p * v).sum().item<double>();
  Tensor expected = 4 * pp * v + 8 * pv * p;
  std::printf("H v by double backward %s\nH v by the formula     %s\n", hv.to_string().c_str(),
              expected.to_string().c_str());
  check(max_abs_diff(hv, expected) < 1e-12, "Hessian-vector product: 4 (x.x) v + 8 x (x.v)");

  // Without create_graph the first gradient is a plain number with no history: differentiating
  // it again is an error, not a silent zero.
  try {
    EnableGradGuard grad_on;
    Tensor xp = p.clone().requires_grad_();
    Tensor g = autograd::grad({(xp * xp).sum().pow(2)}, {xp})[0];
    check(!g.requires_grad(), "a gradient computed without create_graph has no history");
    autograd::grad({(g * v).sum()}, {xp});
    check(false, "differentiating it should have failed");
  } catch (const Error& err) {
    std::printf("grad of a gradient without create_graph -> minidl::Error: %s\n", err.what());
  }
  std::printf("08_higher_order: all checks passed\n");
  return 0;
}
