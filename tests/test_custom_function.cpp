// Custom autograd functions (core/custom_function.h), as libtorch's torch::autograd::Function.
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::autograd;
using minidl::testing::allclose;

namespace {

// y = x * k ;  dx = dy * k   (k is not a tensor: no gradient)
struct MulConstant : Function<MulConstant> {
  static Tensor forward(AutogradContext* ctx, Tensor x, double k) {
    ctx->saved_data["k"] = k;
    ctx->saved_data["label"] = "scale";
    return x * k;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    CHECK(ctx->saved_data["label"].toStringRef() == "scale");
    return {grad_outputs[0] * ctx->saved_data["k"].toDouble(), Tensor()};
  }
};

// y = x * w^2 ;  dx = dy * w^2 ,  dw = 2 dy x w   (saves both inputs)
struct ScaledSquare : Function<ScaledSquare> {
  static Tensor forward(AutogradContext* ctx, Tensor x, Tensor w) {
    ctx->save_for_backward({x, w});
    return x * w * w;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    tensor_list saved = ctx->get_saved_variables();
    const Tensor& g = grad_outputs[0];
    Tensor dx = ctx->needs_input_grad(0) ? g * saved[1] * saved[1] : Tensor();
    Tensor dw = ctx->needs_input_grad(1) ? (g * saved[0] * saved[1] * 2.0).sum({0}) : Tensor();
    return {dx, dw};
  }
};

// Two outputs: (x + y, x * y) ;  dx = da + db y ,  dy = da + db x
struct SumAndProduct : Function<SumAndProduct> {
  static tensor_list forward(AutogradContext* ctx, Tensor x, Tensor y) {
    ctx->save_for_backward({x, y});
    return {x + y, x * y};
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    tensor_list s = ctx->get_saved_variables();
    return {grad_outputs[0] + grad_outputs[1] * s[1], grad_outputs[0] + grad_outputs[1] * s[0]};
  }
};

// max along dim 0 with its (non-differentiable, int64) index as a float tensor
struct MaxWithIndex : Function<MaxWithIndex> {
  static tensor_list forward(AutogradContext* ctx, Tensor x) {
    auto [values, indices] = x.max(0);
    Tensor index_as_float = indices.to(kFloat64);
    ctx->mark_non_differentiable({index_as_float});
    ctx->saved_data["index"] = indices;
    ctx->saved_data["n"] = x.size(0);
    return {values, index_as_float};
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    Tensor one_hot = zeros({ctx->saved_data["n"].toInt()}, kFloat64);
    one_hot.data_ptr<double>()[ctx->saved_data["index"].toTensor().item<int64_t>()] = 1.0;
    return {grad_outputs[0] * one_hot};
  }
};

// x *= 2 in place (mark_dirty) ;  dx = 2 dy
struct DoubleInPlace : Function<DoubleInPlace> {
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    x.mul_(2.0);
    ctx->mark_dirty({x});
    return x;
  }
  static tensor_list backward(AutogradContext*, tensor_list grad_outputs) {
    return {grad_outputs[0] * 2.0};
  }
};

struct TooFewGradients : Function<TooFewGradients> {
  static Tensor forward(AutogradContext*, Tensor x, double) { return x * 3.0; }
  static tensor_list backward(AutogradContext*, tensor_list grad_outputs) {
    return {grad_outputs[0]};
  }
};

struct WrongShape : Function<WrongShape> {
  static Tensor forward(AutogradContext*, Tensor x) { return x.sum(); }
  static tensor_list backward(AutogradContext*, tensor_list grad_outputs) {
    return {grad_outputs[0].reshape({1})};
  }
};

}  // namespace

TEST_CASE("Function: forward with a non-tensor argument and saved_data", "[custom_function]") {
  Tensor x = tensor({1.0, -2.0, 3.0}, kFloat64).requires_grad_();
  Tensor y = MulConstant::apply(x, 2.5);
  CHECK(allclose(y, tensor({2.5, -5.0, 7.5}, kFloat64)));
  CHECK(y.grad_fn()->name() == "(anonymous namespace)::MulConstant");
  y.sum().backward();
  CHECK(allclose(x.grad(), tensor({2.5, 2.5, 2.5}, kFloat64)));
  // no input requires grad: nothing is recorded
  CHECK_FALSE(MulConstant::apply(tensor({1.0}), 2.0).requires_grad());
}

TEST_CASE("Function: saved inputs, needs_input_grad and gradcheck", "[custom_function]") {
  manual_seed(3);
  Tensor x = minidl::testing::leaf({3, 2});
  Tensor w = minidl::testing::leaf({2});
  minidl::testing::check_gradients([](auto v) { return ScaledSquare::apply(v[0], v[1]); }, {x, w});
  Tensor frozen = w.detach();
  ScaledSquare::apply(x, frozen).sum().backward();  // needs_input_grad(1) is false
  CHECK(allclose(x.grad(), (frozen * frozen).expand({3, 2})));
}

TEST_CASE("Function: a backward made of minidl ops differentiates twice", "[custom_function]") {
  manual_seed(4);
  Tensor x = minidl::testing::leaf({2, 2});
  Tensor w = minidl::testing::leaf({2});
  GradcheckResult r = gradgradcheck([](auto v) { return ScaledSquare::apply(v[0], v[1]); }, {x, w});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("Function: several outputs, each with its gradient", "[custom_function]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = tensor({3.0, -1.0}, kFloat64).requires_grad_();
  tensor_list out = SumAndProduct::apply(x, y);
  REQUIRE(out.size() == 2);
  (out[0] * 2.0 + out[1]).sum().backward();  // dx = 2 + y, dy = 2 + x
  CHECK(allclose(x.grad(), tensor({5.0, 1.0}, kFloat64)));
  CHECK(allclose(y.grad(), tensor({3.0, 4.0}, kFloat64)));
  // only the second output used: the first one's gradient is zero
  x.zero_grad();
  SumAndProduct::apply(x, y)[1].sum().backward();
  CHECK(allclose(x.grad(), y.detach()));
}

TEST_CASE("Function: mark_non_differentiable and IValue kinds", "[custom_function]") {
  Tensor x = tensor({1.0, 5.0, 2.0}, kFloat64).requires_grad_();
  tensor_list out = MaxWithIndex::apply(x);
  CHECK(out[0].requires_grad());
  CHECK_FALSE(out[1].requires_grad());
  CHECK(out[1].item() == 1.0);
  out[0].backward();
  CHECK(allclose(x.grad(), tensor({0.0, 1.0, 0.0}, kFloat64)));
  IValue v = int64_t{4};
  CHECK(v.isInt());
  CHECK(v.toInt() == 4);
  CHECK(IValue(true).toBool());
  CHECK_THROWS_WITH(v.toDouble(), Catch::Contains("expected Double") && Catch::Contains("Int"));
}

TEST_CASE("Function: mark_dirty continues the input's history", "[custom_function]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor h = x * 3.0;
  Tensor y = DoubleInPlace::apply(h);
  CHECK(y.is_same(h));
  CHECK(allclose(y, tensor({6.0, 12.0}, kFloat64)));
  y.sum().backward();
  CHECK(allclose(x.grad(), tensor({6.0, 6.0}, kFloat64)));
  CHECK_THROWS_WITH(DoubleInPlace::apply(tensor({1.0}, kFloat64).requires_grad_()),
                    Catch::Contains("DoubleInPlace") && Catch::Contains("leaf"));
}

TEST_CASE("Function: wrong gradient counts and shapes name the function", "[custom_function]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  CHECK_THROWS_WITH(TooFewGradients::apply(x, 1.0).sum().backward(),
                    Catch::Contains("TooFewGradients") && Catch::Contains("expected 2"));
  CHECK_THROWS_WITH(WrongShape::apply(x).backward(), Catch::Contains("WrongShape") &&
                                                         Catch::Contains("[1]") &&
                                                         Catch::Contains("[2]"));
}

namespace {
// y = x w^T (+ b): libtorch's documented LinearFunction, whose bias has a default.
struct LinearWithDefault : Function<LinearWithDefault> {
  static Tensor forward(AutogradContext* ctx, Tensor x, Tensor w, Tensor b = Tensor()) {
    ctx->save_for_backward({x, w, b});
    Tensor y = x.mm(w.t());
    return b.defined() ? y + b : y;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    tensor_list saved = ctx->get_saved_variables();
    Tensor g = grad_outputs[0];
    return {g.mm(saved[1]), g.t().mm(saved[0]), saved[2].defined() ? g.sum(0) : Tensor()};
  }
};
// Returns a defined gradient for an argument apply() was not given: an error.
struct ExtraGradient : Function<ExtraGradient> {
  static Tensor forward(AutogradContext*, Tensor x) { return x * 2.0; }
  static tensor_list backward(AutogradContext*, tensor_list g) { return {g[0] * 2.0, g[0]}; }
};
}  // namespace

TEST_CASE("Function: extra trailing undefined gradients are dropped, defined ones refused",
          "[custom_function]") {
  Tensor x = randn({2, 3}, kFloat64).requires_grad_();
  Tensor w = randn({4, 3}, kFloat64).requires_grad_();
  LinearWithDefault::apply(x, w).sum().backward();  // backward returns 3, apply got 2
  CHECK(allclose(x.grad(), ones({2, 4}, kFloat64).mm(w.detach())));
  CHECK(allclose(w.grad(), ones({4, 2}, kFloat64).mm(x.detach())));
  CHECK_THROWS_WITH(ExtraGradient::apply(x).sum().backward(),
                    Catch::Contains("ExtraGradient") && Catch::Contains("expected 1"));
}
