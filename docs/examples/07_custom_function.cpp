// 07_custom_function -- an autograd::Function with a hand-written backward, verified by gradcheck.
//
// Goes with docs/internals.md, "Writing a new op". Run: build/examples/07_custom_function
//
// A Function (core/custom_function.h, as libtorch's torch::autograd::Function) is the user-level
// way to add an op: forward runs with the tape off and saves what backward needs in the context;
// apply() records ONE tape entry, named after the type, whose closure calls your backward.
// The op here is  out = hypot(x, y) = sqrt(x² + y²)  (elementwise), with
//   dx = dout * x / out ,  dy = dout * y / out.
// gradcheck (core/gradcheck.h) compares a backward with central finite differences in float64;
// it is how every op in the library is tested, and it catches a wrong backward at once.
#include <cstdio>
#include <cstdlib>

#include "minidl.h"

using namespace minidl;
using autograd::AutogradContext;
using autograd::tensor_list;

static void check(bool ok, const char* claim) {
  std::printf("  %s %s\n", ok ? "ok:" : "FAILED:", claim);
  if (!ok) std::exit(1);
}

struct Hypot : autograd::Function<Hypot> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& y) {
    Tensor out = (x * x + y * y).sqrt();
    ctx->save_for_backward({x, y, out});  // version-checked, like every saved tensor
    return out;
  }
  // One gradient per forward argument, in order. Written with minidl ops, so a create_graph
  // backward can differentiate it again (gradgradcheck below).
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    tensor_list saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &y = saved[1], &out = saved[2], &dout = grad_outputs[0];
    return {dout * x / out, dout * y / out};
  }
};

// The same forward with a classic slip in backward: the derivative of sqrt forgotten.
struct BrokenHypot : autograd::Function<BrokenHypot> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& y) {
    ctx->save_for_backward({x, y});
    return (x * x + y * y).sqrt();
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    tensor_list saved = ctx->get_saved_variables();
    return {grad_outputs[0] * 2 * saved[0], grad_outputs[0] * 2 * saved[1]};
  }
};

int main() {
  manual_seed(0);
  Tensor x = randn({3, 4}, kFloat64).requires_grad_();
  Tensor y = randn({3, 4}, kFloat64).requires_grad_();

  Tensor out = Hypot::apply(x, y);
  std::printf("out.grad_fn()->name() = %s\n", out.grad_fn()->name().c_str());
  check(out.grad_fn()->name() == "Hypot", "the tape entry is named after the Function type");
  check((out - (x.pow(2) + y.pow(2)).sqrt()).abs().max().item<double>() < 1e-12,
        "forward computes sqrt(x^2 + y^2)");

  auto hypot = [](const std::vector<Tensor>& in) { return Hypot::apply(in[0], in[1]); };
  GradcheckResult first = gradcheck(hypot, {x, y});
  std::printf("gradcheck: ok=%d max |analytic - numeric| = %.3g\n", first.ok, first.max_abs_error);
  check(first.ok, "gradcheck accepts the hand-written backward");
  GradcheckResult second = gradgradcheck(hypot, {x, y});
  check(second.ok, "gradgradcheck accepts its second derivative (backward uses minidl ops)");

  auto broken = [](const std::vector<Tensor>& in) { return BrokenHypot::apply(in[0], in[1]); };
  GradcheckResult wrong = gradcheck(broken, {x, y});
  std::printf("gradcheck of BrokenHypot: %s\n", wrong.message.c_str());
  check(!wrong.ok, "gradcheck rejects the broken backward");
  std::printf("07_custom_function: all checks passed\n");
  return 0;
}
