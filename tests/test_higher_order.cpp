// Higher-order gradients (core/autograd: create_graph): gradgradcheck of every op marked twice
// differentiable (and agreement of its composed and fused first-order backward), Hessian-vector
// products and gradient penalties (MLP, CNN) against PyTorch, third derivatives, the history of
// leaves' .grad, and the error for an op whose backward is a fused kernel.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

struct SecondOrderCase {
  const char* name;  // the tape entry the case differentiates twice
  Fn fn;
  std::vector<Tensor> inputs;
  GradcheckOptions options = {};
};

// A float64 leaf with values in [lo, hi] (for log, sqrt, pow's positive base).
Tensor positive_leaf(const Shape& shape) {
  return (rand(shape, kFloat64) + 0.5).detach().requires_grad_();
}

std::vector<SecondOrderCase> cases() {
  manual_seed(7);
  Tensor bool_mask = gt(randn({3, 4}, kFloat64), 0.0);
  Tensor labels = tensor({2, 0, -1, 1}, kInt64);  // -1: ignore_index in the weighted cases
  Tensor pixel_labels = tensor({0, 2, 1, 1}, kInt64).view({2, 2});
  Tensor class_weight = tensor({0.5, 2.0, 1.2}, kFloat64);
  Tensor gather_index = tensor({0, 3, 3, 1, 0, 2, 2, 2, 0}, kInt64).view({3, 3});
  return {
      {"AddBackward0",
       [](auto x) { return (x[0] + x[1] * 2.0) * x[0]; },
       {leaf({3, 4}), leaf({4})}},
      {"AddBackward0 (alpha)",
       [](auto x) { return add(x[0], x[1], 0.5) * x[1]; },
       {leaf({3, 4}), transposed_leaf({3, 4})}},
      {"SubBackward0", [](auto x) { return (x[0] - x[1]) * x[1]; }, {leaf({2, 3}), leaf({2, 3})}},
      {"MulBackward0",
       [](auto x) { return x[0] * x[1] * x[0]; },
       {leaf({3, 4}), strided_leaf({3, 4})}},
      {"DivBackward0", [](auto x) { return x[0] / x[1]; }, {leaf({3, 4}), positive_leaf({4})}},
      {"PowBackward1",
       [](auto x) { return pow(x[0], x[1]); },
       {positive_leaf({3, 2}), leaf({3, 2})}},
      {"PowBackward0",
       [](auto x) { return x[0].pow(3.0) + x[0].pow(2.0) + x[0].pow(-1.5); },
       {positive_leaf({5})}},
      {"PowBackward1 (scalar base)", [](auto x) { return pow(2.0, x[0]); }, {leaf({4})}},
      {"RsubBackward1", [](auto x) { return (1.0 - x[0]) * x[0]; }, {leaf({4})}},
      {"RdivBackward0", [](auto x) { return 2.0 / x[0]; }, {positive_leaf({4})}},
      {"MulBackward0 (scalar)",
       [](auto x) { return (x[0] * 3.0 / 2.0 + 1.0 - 0.5) * x[0]; },
       {leaf({4})}},
      {"NegBackward0", [](auto x) { return -x[0] * x[0]; }, {leaf({4})}},
      {"ExpBackward0", [](auto x) { return x[0].exp(); }, {leaf({3, 4})}},
      {"LogBackward0", [](auto x) { return x[0].log(); }, {positive_leaf({3, 4})}},
      {"Log1PBackward0", [](auto x) { return x[0].log1p(); }, {positive_leaf({4})}},
      {"SqrtBackward0", [](auto x) { return x[0].sqrt(); }, {positive_leaf({3, 4})}},
      {"RsqrtBackward0", [](auto x) { return x[0].rsqrt(); }, {positive_leaf({4})}},
      {"SinBackward0", [](auto x) { return x[0].sin(); }, {leaf({4})}},
      {"CosBackward0", [](auto x) { return x[0].cos(); }, {transposed_leaf({3, 4})}},
      {"TanhBackward0", [](auto x) { return x[0].tanh(); }, {leaf({3, 4})}},
      {"SigmoidBackward0", [](auto x) { return x[0].sigmoid(); }, {strided_leaf({3, 4})}},
      {"ReluBackward0", [](auto x) { return x[0].relu() * x[0]; }, {leaf({3, 4})}},
      {"LeakyReluBackward0", [](auto x) { return leaky_relu(x[0], 0.2) * x[0]; }, {leaf({3, 4})}},
      {"EluBackward0", [](auto x) { return elu(x[0], 0.7); }, {leaf({3, 4})}},
      {"AbsBackward0", [](auto x) { return x[0].abs() * x[0]; }, {leaf({3, 4})}},
      {"ClampBackward1", [](auto x) { return x[0].clamp(-0.5, 0.5) * x[0]; }, {leaf({3, 4})}},
      {"MaximumBackward0",
       [](auto x) { return maximum(x[0], x[1]) * x[0]; },
       {leaf({3, 4}), leaf({4})}},
      {"WhereBackward0",
       [bool_mask](auto x) { return where(bool_mask, x[0] * x[0], x[1].exp()); },
       {leaf({3, 4}), leaf({3, 4})}},
      {"SumBackward0", [](auto x) { return (x[0] * x[0]).sum(); }, {leaf({3, 4})}},
      {"SumBackward1",
       [](auto x) { return (x[0].exp()).sum({1}, true); },
       {transposed_leaf({3, 4})}},
      {"MeanBackward1", [](auto x) { return (x[0] * x[0]).mean({0}); }, {leaf({3, 4})}},
      {"ViewBackward0", [](auto x) { return x[0].view({12}).exp(); }, {leaf({3, 4})}},
      {"TBackward0", [](auto x) { return x[0].t().mm(x[0]); }, {leaf({3, 4})}},
      {"PermuteBackward0",
       [](auto x) {
         return x[0].permute({2, 0, 1}).exp();
       },
       {leaf({2, 3, 2})}},
      {"ExpandBackward0",
       [](auto x) {
         return x[0].expand({3, 4}).exp();
       },
       {leaf({1, 4})}},
      {"SelectBackward0", [](auto x) { return x[0].select(1, 2).exp(); }, {leaf({3, 4})}},
      {"SliceBackward0", [](auto x) { return x[0].slice(1, 1, 3).exp(); }, {leaf({3, 4})}},
      {"SliceBackward0 (step)",
       [](auto x) { return x[0].slice(1, 0, std::nullopt, 2).exp(); },
       {leaf({3, 5})}},
      {"UnsqueezeBackward0",
       [](auto x) { return x[0].unsqueeze(1).squeeze(1).exp(); },
       {leaf({4})}},
      {"CatBackward0",
       [](auto x) {
         return cat({x[0], x[1] * x[1]}, 1).exp();
       },
       {leaf({2, 3}), leaf({2, 2})}},
      {"StackBackward0",
       [](auto x) {
         return stack({x[0], x[1]}, 0).tanh();
       },
       {leaf({2, 3}), leaf({2, 3})}},
      {"ConstantPadNdBackward0",
       [](auto x) {
         return pad(x[0], {1, 2}).exp();
       },
       {leaf({2, 3})}},
      {"RepeatBackward0",
       [](auto x) {
         return repeat(x[0], {2, 1}).exp();
       },
       {leaf({2, 3})}},
      {"TrilBackward0", [](auto x) { return tril(x[0]).exp(); }, {leaf({3, 3})}},
      {"MmBackward0",
       [](auto x) { return x[0].mm(x[1]).tanh(); },
       {leaf({2, 3}), transposed_leaf({3, 4})}},
      {"BmmBackward0",
       [](auto x) { return x[0].bmm(x[1]).tanh(); },
       {leaf({2, 2, 3}), leaf({2, 3, 2})}},
      {"MatmulBackward0",
       [](auto x) { return x[0].matmul(x[1]).tanh(); },
       {leaf({2, 2, 3}), leaf({3, 2})}},
      {"DotBackward0", [](auto x) { return x[0].matmul(x[1]).tanh(); }, {leaf({3}), leaf({3})}},
      {"AddmmBackward0",
       [](auto x) { return linear(x[0], x[1], x[2]).tanh(); },
       {leaf({3, 4}), leaf({2, 4}), leaf({2})}},
      {"LinearBackward0",
       [](auto x) { return linear(x[0], x[1]).tanh(); },
       {leaf({2, 3, 4}), transposed_leaf({2, 4})}},
      {"SoftmaxBackward0", [](auto x) { return softmax(x[0], 1); }, {leaf({3, 4})}},
      {"LogSoftmaxBackward0",
       [](auto x) { return log_softmax(x[0], 0); },
       {transposed_leaf({3, 4})}},
      {"MseLossBackward0",
       [](auto x) { return mse_loss(x[0].tanh(), x[1]); },
       {leaf({3, 4}), leaf({3, 4})}},
      {"CloneBackward0", [](auto x) { return x[0].t().contiguous().exp(); }, {leaf({3, 4})}},
      {"ToCopyBackward0",
       [](auto x) { return x[0].to(kFloat32).to(kFloat64).exp(); },
       {leaf({4})},
       GradcheckOptions{1e-3, 1e-3, 1e-2, 0}},  // float32 in the middle: larger step
      {"CrossEntropyBackward0 (indices, weight, ignore_index, label_smoothing)",
       [=](auto x) { return cross_entropy(x[0], labels, class_weight, -1, kMean, 0.2); },
       {transposed_leaf({4, 3})}},
      {"CrossEntropyBackward0 (indices, [N, C, d], none)",
       [=](auto x) { return cross_entropy(x[0], pixel_labels, Tensor(), -100, kNone); },
       {leaf({2, 3, 2})}},
      {"CrossEntropyBackward0 (unbatched, sum)",
       [=](auto x) {
         return cross_entropy(x[0], tensor({1}, kInt64).view({}), class_weight, -100, kSum, 0.1);
       },
       {leaf({3})}},
      {"CrossEntropyBackward0 (probabilities)",
       [=](auto x) { return cross_entropy(x[0], x[1], class_weight, -100, kMean, 0.3); },
       {leaf({4, 3}), strided_leaf({4, 3})}},
      {"CrossEntropyBackward0 (probabilities, [N, C, d], none)",
       [=](auto x) { return cross_entropy(x[0], x[1].softmax(1), Tensor(), -100, kNone); },
       {leaf({2, 3, 2}), leaf({2, 3, 2})}},
      {"NllLossBackward0",
       [=](auto x) { return nll_loss(log_softmax(x[0], 1), labels, class_weight, -1); },
       {strided_leaf({4, 3})}},
      {"NllLossBackward0 (none, sum)",
       [=](auto x) {
         return nll_loss(x[0] * x[0], pixel_labels, Tensor(), -100, kNone) +
                nll_loss(x[0].exp(), pixel_labels, class_weight, 2, kSum);
       },
       {leaf({2, 3, 2})}},
      {"NativeLayerNormBackward0",
       [](auto x) {
         return layer_norm(x[0], {3, 2}, x[1], x[2]);
       },
       {transposed_leaf({2, 3, 2}), leaf({3, 2}), strided_leaf({3, 2})}},
      {"NativeLayerNormBackward0 (no affine, 1-d)",
       [](auto x) { return layer_norm(x[0], {4}, Tensor(), Tensor(), 1e-3) * x[0]; },
       {leaf({4})}},
      {"NativeBatchNormBackward0 (training)",
       [](auto x) { return batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true, 0.1, 1e-3); },
       {strided_leaf({3, 2, 2}), leaf({2}), leaf({2})}},
      {"NativeBatchNormBackward0 (training, 4-d, no affine)",
       [](auto x) { return batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true).tanh(); },
       {leaf({2, 3, 2, 2})}},
      {"NativeBatchNormBackward0 (eval)",
       [](auto x) {
         Tensor running_mean = tensor({0.2, -0.1}, kFloat64);
         Tensor running_var = tensor({1.5, 0.7}, kFloat64);
         return batch_norm(x[0], running_mean, running_var, x[1], x[2], false).tanh();
       },
       {transposed_leaf({2, 2, 3}), leaf({2}), leaf({2})}},
      {"GatherBackward0",
       [=](auto x) { return gather(x[0], 1, gather_index).pow(2.0); },
       {transposed_leaf({3, 4})}},
      {"ScatterAddBackward0",
       [=](auto x) { return scatter_add(x[0], 1, gather_index, x[1]).pow(2.0); },
       {leaf({3, 4}), strided_leaf({3, 3})}},
      {"IndexSelectBackward0",
       [=](auto x) {
         return index_select(x[0], 0, tensor({2, 0, 2}, kInt64)).pow(2.0);
       },
       {transposed_leaf({3, 4})}},
      {"EmbeddingBackward0",
       [=](auto x) {
         return embedding(x[0], tensor({1, 3, 1, 0}, kInt64).view({2, 2}), 3).tanh();
       },
       {strided_leaf({4, 3})}},
      {"MaxPool2DWithIndicesBackward0",
       [](auto x) {
         return max_pool2d(x[0] * x[0], {2, 2}, {1, 2}, {1, 0}).tanh();
       },
       {transposed_leaf({1, 2, 3, 4})}},
      {"AvgPool2DBackward0",
       [](auto x) {
         return avg_pool2d(x[0], {2, 3}, {2, 1}, {1, 1}, true, false).tanh();
       },
       {strided_leaf({2, 3, 4})}},
      {"AdaptiveAvgPool2DBackward0",
       [](auto x) {
         return adaptive_avg_pool2d(x[0], {2, 3}).tanh();
       },
       {transposed_leaf({1, 2, 3, 5})}},
      {"GeluBackward0 (none)", [](auto x) { return gelu(x[0]); }, {transposed_leaf({3, 4})}},
      {"GeluBackward0 (tanh)", [](auto x) { return gelu(x[0], "tanh"); }, {strided_leaf({3, 4})}},
      {"SoftplusBackward0",
       [](auto x) { return softplus(x[0], 2.0, 1.0); },  // some elements past the threshold
       {leaf({3, 4})}},
      {"MaxBackward1", [](auto x) { return (x[0] * x[0]).max(); }, {leaf({3, 4})}},
      {"MinBackward0",
       [](auto x) { return x[0].tanh().min(1, true).first; },
       {transposed_leaf({3, 4})}},
      {"AmaxBackward0", [](auto x) { return amax(x[0].tanh(), {0}); }, {leaf({3, 4})}},
      {"VarBackward0", [](auto x) { return var(x[0], {1}); }, {strided_leaf({3, 4})}},
      {"StdBackward0", [](auto x) { return minidl::std(x[0], {0}, 0, true); }, {leaf({3, 4})}},
      {"LogsumexpBackward0",
       [](auto x) { return logsumexp(x[0], {1}); },
       {transposed_leaf({3, 4})}},
      {"NormBackward1 (p = 2)", [](auto x) { return norm(x[0], 2.0, {1}); }, {leaf({3, 4})}},
      {"NormBackward1 (p = 1, 3)",
       [](auto x) { return norm(x[0], 1.0).tanh() * norm(x[0], 3.0, {0}); },
       {strided_leaf({3, 4})}},
      {"NormBackward1 (p = inf)",
       [](auto x) { return norm(x[0], INFINITY, {1}) * x[0].sum(); },
       {leaf({3, 4})}},
      {"CumsumBackward0",
       [](auto x) { return x[0].cumsum(1).pow(2.0); },
       {transposed_leaf({3, 4})}},
      {"DropoutBackward0",
       [](auto x) {
         Generator same_mask(3);  // the same mask on every call
         return dropout(x[0], 0.4, true, &same_mask).tanh();
       },
       {strided_leaf({3, 4})}},
      {"L1LossBackward0",
       [](auto x) { return l1_loss(x[0], x[1], kNone).pow(2.0) + l1_loss(x[0] * x[1], x[1]); },
       {leaf({3, 4}), transposed_leaf({3, 4})}},
      {"HuberLossBackward0",
       [](auto x) { return huber_loss(x[0], x[1], kMean, 0.8); },
       {leaf({3, 4}), leaf({4})}},
      {"SmoothL1LossBackward0",
       [](auto x) {
         return smooth_l1_loss(x[0], x[1], kSum, 0.7) +
                smooth_l1_loss(x[0], x[1], kNone, 0.0).pow(2.0);
       },
       {strided_leaf({3, 4}), leaf({3, 4})}},
      {"BinaryCrossEntropyWithLogitsBackward0",
       [=](auto x) {
         return binary_cross_entropy_with_logits(x[0], x[1], class_weight.view({3, 1}),
                                                 tensor({1.5, 0.5, 2.0, 1.0}, kFloat64));
       },
       {leaf({3, 4}), strided_leaf({3, 4})}},
      {"BinaryCrossEntropyBackward0",
       [=](auto x) {
         return binary_cross_entropy(x[0].sigmoid(), x[1].sigmoid(), class_weight.view({3, 1}),
                                     kSum);
       },
       {transposed_leaf({3, 4}), leaf({3, 4})}},
      // convolutions: stride, padding, dilation, groups, output_padding; non-contiguous operands
      {"ConvolutionBackward0 (conv2d)",
       [](auto x) {
         return conv2d(x[0], x[1], x[2], {2, 1}, {1, 0}, {1, 2}, 2).tanh();
       },
       {leaf({2, 4, 5, 5}), transposed_leaf({4, 2, 2, 2}), leaf({4})}},
      {"ConvolutionBackward0 (conv2d, unbatched, 'same')",
       [](auto x) { return conv2d(x[0], x[1], Tensor(), 1, "same").tanh(); },
       {transposed_leaf({2, 4, 3}), leaf({3, 2, 2, 3})}},
      {"ConvolutionBackward0 (conv1d)",
       [](auto x) {
         return conv1d(x[0], x[1], x[2], 2, 1, 1, 1) * x[2].view({3, 1});
       },
       {strided_leaf({2, 2, 6}), leaf({3, 2, 3}), leaf({3})}},
      {"ConvolutionBackward0 (conv_transpose2d)",
       [](auto x) {
         return conv_transpose2d(x[0], x[1], x[2], 2, {1, 0}, 1, 2, {1, 2}).tanh();
       },
       {transposed_leaf({1, 4, 3, 3}), leaf({4, 1, 2, 3}), leaf({2})}},
      {"ConvolutionBackward0 (conv_transpose1d)",
       [](auto x) { return conv_transpose1d(x[0], x[1], Tensor(), 3, 1, 2).tanh(); },
       {leaf({2, 3, 3}), strided_leaf({3, 2, 2})}},
  };
}

}  // namespace

TEST_CASE("gradgradcheck: every op marked twice differentiable", "[higher_order]") {
  for (const SecondOrderCase& c : cases()) {
    INFO(c.name);
    GradcheckResult result = gradgradcheck(c.fn, c.inputs, c.options);
    INFO(result.message);
    CHECK(result.ok);
    // The composed backward (create_graph) and the first-order one agree.
    Tensor y = c.fn(c.inputs);
    Tensor r = randn(y.shape(), kFloat64).to(y.dtype());
    std::vector<Tensor> composed = grad({y}, c.inputs, {r}, true, true, true);
    std::vector<Tensor> fused = grad({y}, c.inputs, {r}, false, false, true);
    for (size_t i = 0; i < fused.size(); ++i)
      if (fused[i].defined()) CHECK(allclose(composed[i], fused[i], 1e-9, 1e-10));
  }
}

TEST_CASE("gradgradcheck catches a backward that drops its history", "[higher_order]") {
  // cumprod's backward is one fused loop: through a create_graph backward it is refused, so
  // gradgradcheck cannot silently see a zero second derivative.
  Tensor x = leaf({4});
  CHECK_THROWS_WITH(
      gradgradcheck([](auto v) { return cumprod(v[0], 0); }, {x}),
      Catch::Contains("CumprodBackward0") && Catch::Contains("differentiating twice"));
}

TEST_CASE("a Hessian-vector product matches PyTorch", "[higher_order]") {
  Fixtures fx("higher_order.txt");
  Tensor x = fx["hvp_x"].clone().requires_grad_();
  Tensor f = (x.pow(3.0) * x.sin()).sum() + (x * x.sigmoid()).sum() + x.tanh().pow(2.0).sum();
  Tensor g = grad({f}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  CHECK(g.requires_grad());
  CHECK(allclose(g, fx["hvp_grad"], 1e-10, 1e-12));
  Tensor hv = grad({g}, {x}, {fx["hvp_v"]})[0];
  CHECK(allclose(hv, fx["hvp_hv"], 1e-10, 1e-12));
  CHECK_FALSE(hv.requires_grad());  // without create_graph the result is a plain value
}

TEST_CASE("a gradient penalty on an MLP trains as in PyTorch", "[higher_order]") {
  Fixtures fx("higher_order.txt");
  std::vector<std::string> names = {"w1", "b1", "w2", "b2", "w3", "b3"};
  std::map<std::string, Tensor> p;
  for (const std::string& n : names) p[n] = fx["gp_init_" + n].clone().requires_grad_();
  auto critic = [&](const Tensor& in) {
    Tensor h = linear(in, p["w1"], p["b1"]).tanh();
    h = leaky_relu(linear(h, p["w2"], p["b2"]), 0.2);
    return linear(h, p["w3"], p["b3"]);
  };
  std::vector<double> losses;
  for (int step = 0; step < 3; ++step) {
    Tensor in = fx["gp_x"].clone().requires_grad_();
    Tensor out = critic(in);
    Tensor dx = grad({out.sum()}, {in}, {}, std::nullopt, /*create_graph=*/true)[0];
    Tensor norms = (dx.pow(2.0).sum({1}) + 1e-12).sqrt();
    Tensor loss = mse_loss(out, fx["gp_y"]) + (norms - 1.0).pow(2.0).mean();
    for (auto& [n, t] : p) t.zero_grad();
    loss.backward();
    NoGradGuard no_grad;
    for (auto& [n, t] : p) t.sub_(t.grad() * 0.05);
    losses.push_back(loss.item());
  }
  CHECK(allclose(from_vector(losses, {3}, kFloat64), fx["gp_losses"], 1e-9, 1e-12));
  for (const std::string& n : names) {
    INFO(n);
    CHECK(allclose(p[n], fx["gp_final_" + n], 1e-9, 1e-12));
  }
}

TEST_CASE("a gradient penalty on a CNN trains as in PyTorch", "[higher_order]") {
  // conv2d, leaky_relu, max_pool2d, avg_pool2d, linear: the penalty's gradient runs through the
  // double backward of the convolutions and both pools.
  Fixtures fx("higher_order.txt");
  std::vector<std::string> names = {"c1w", "c1b", "c2w", "c2b", "lw", "lb"};
  std::map<std::string, Tensor> p;
  for (const std::string& n : names) p[n] = fx["cnn_init_" + n].clone().requires_grad_();
  auto critic = [&](const Tensor& in) {
    Tensor h = leaky_relu(conv2d(in, p["c1w"], p["c1b"], 1, 1), 0.2);
    h = max_pool2d(h, 2);
    h = leaky_relu(conv2d(h, p["c2w"], p["c2b"]), 0.2);
    h = avg_pool2d(h, 2);
    return linear(h.flatten(1), p["lw"], p["lb"]);
  };
  std::vector<double> losses;
  for (int step = 0; step < 3; ++step) {
    Tensor in = fx["cnn_x"].clone().requires_grad_();
    Tensor out = critic(in);
    Tensor dx = grad({out.sum()}, {in}, {}, std::nullopt, /*create_graph=*/true)[0];
    Tensor norms = (dx.pow(2.0).sum({1, 2, 3}) + 1e-12).sqrt();
    Tensor loss = mse_loss(out, fx["cnn_y"]) + (norms - 1.0).pow(2.0).mean();
    for (auto& [n, t] : p) t.zero_grad();
    loss.backward();
    NoGradGuard no_grad;
    for (auto& [n, t] : p) t.sub_(t.grad() * 0.05);
    losses.push_back(loss.item());
  }
  CHECK(allclose(from_vector(losses, {3}, kFloat64), fx["cnn_losses"], 1e-9, 1e-12));
  for (const std::string& n : names) {
    INFO(n);
    CHECK(allclose(p[n], fx["cnn_final_" + n], 1e-9, 1e-12));
  }
}

TEST_CASE("a Hessian-vector product through a classifier with cross_entropy matches PyTorch",
          "[higher_order]") {
  // linear, layer_norm, tanh, linear, cross_entropy with class weights and label smoothing
  Fixtures fx("higher_order.txt");
  std::vector<std::string> names = {"w1", "b1", "g", "beta", "w2", "b2"};
  std::vector<Tensor> params, directions;
  for (const std::string& n : names) {
    params.push_back(fx["cls_" + n].clone().requires_grad_());
    directions.push_back(fx["cls_v_" + n]);
  }
  Tensor h = linear(fx["cls_x"], params[0], params[1]);
  h = layer_norm(h, {5}, params[2], params[3]).tanh();
  Tensor f = cross_entropy(linear(h, params[4], params[5]), fx["cls_y"], fx["cls_weight"], -100,
                           kMean, 0.1);
  std::vector<Tensor> g = grad({f}, params, {}, std::nullopt, /*create_graph=*/true);
  Tensor dot = zeros({}, kFloat64);
  for (size_t i = 0; i < g.size(); ++i) dot = dot + (g[i] * directions[i]).sum();
  std::vector<Tensor> hv = grad({dot}, params);
  for (size_t i = 0; i < names.size(); ++i) {
    INFO(names[i]);
    CHECK(allclose(g[i], fx["cls_grad_" + names[i]], 1e-10, 1e-12));
    CHECK(allclose(hv[i], fx["cls_hv_" + names[i]], 1e-9, 1e-12));
  }
}

TEST_CASE("backward with create_graph leaves a .grad that can be differentiated",
          "[higher_order]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = (x.pow(3.0)).sum();
  y.backward(Tensor(), std::nullopt, /*create_graph=*/true);
  Tensor dx = x.grad();  // 3 x^2, with history
  REQUIRE(dx.requires_grad());
  CHECK(allclose(dx, tensor({3.0, 12.0}, kFloat64)));
  Tensor d2 = grad({dx.sum()}, {x})[0];  // 6 x
  CHECK(allclose(d2, tensor({6.0, 12.0}, kFloat64)));
  // retain_graph defaulted to create_graph: the first graph can be walked again.
  x.zero_grad();
  y.backward();
  CHECK(allclose(x.grad(), tensor({3.0, 12.0}, kFloat64)));
  CHECK_FALSE(x.grad().requires_grad());
}

TEST_CASE("an op's saved output is re-attached when differentiating twice", "[higher_order]") {
  // exp saves its output; the output handle itself is gone when the second derivative runs.
  Tensor x = tensor({0.5, -1.0}, kFloat64).requires_grad_();
  Tensor g = grad({x.exp().sum()}, {x}, {}, std::nullopt, true)[0];  // e^x
  Tensor g2 = grad({g.sum()}, {x})[0];                               // e^x again
  CHECK(allclose(g2, x.detach().exp()));
  // a third derivative, through softmax's saved output
  Tensor z = tensor({0.1, 0.7, -0.3}, kFloat64).requires_grad_();
  Tensor s = softmax(z, 0);
  Tensor w = tensor({1.0, -2.0, 0.5}, kFloat64);
  Tensor d1 = grad({(s * w).sum()}, {z}, {}, std::nullopt, true)[0];
  Tensor d2 = grad({(d1 * w).sum()}, {z}, {}, std::nullopt, true)[0];
  CHECK(d2.requires_grad());
  GradcheckResult r = gradgradcheck(
      [&](auto v) {
        return grad({(softmax(v[0], 0) * w).sum()}, {v[0]}, {}, std::nullopt, true)[0];
      },
      {z});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("third derivatives through a convolution and a pooling", "[higher_order]") {
  // gradgradcheck of a function of the gradient: differentiates the ops that the create_graph
  // backward of conv2d / conv_transpose2d / max_pool2d records (ConvolutionBackwardBackward0...)
  auto of_gradient = [](Fn f) {
    return [f](const std::vector<Tensor>& v) {
      std::vector<Tensor> g = grad({f(v).pow(2.0).sum()}, v, {}, true, true);
      return g[0].pow(2.0).sum() + g[1].pow(2.0).sum();
    };
  };
  for (auto [fn, inputs] : std::vector<std::pair<Fn, std::vector<Tensor>>>{
           {[](auto v) { return max_pool2d(conv2d(v[0], v[1], Tensor(), 2, 1, 1, 2), 2); },
            {leaf({1, 2, 5, 5}), leaf({2, 1, 2, 2})}},
           {[](auto v) { return conv_transpose2d(v[0], v[1], Tensor(), 2, 1, 1); },
            {leaf({1, 2, 2, 2}), transposed_leaf({2, 1, 3, 3})}}}) {
    GradcheckResult r = gradgradcheck(of_gradient(fn), inputs);
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("create_graph through a fused backward is an error naming the op", "[higher_order]") {
  // gru_cell's backward is a fused kernel
  Tensor x_proj = leaf({2, 6}), h = leaf({2, 2}), w_hh = leaf({6, 2});
  Tensor y = gru_cell(x_proj, h, w_hh, Tensor()).sum();
  CHECK_THROWS_WITH(grad({y}, {h}, {}, std::nullopt, true),
                    Catch::Contains("GruBackward0") &&
                        Catch::Contains("differentiating twice through this op is not supported"));
  // the same graph differentiates once without complaint
  CHECK(grad({gru_cell(x_proj, h, w_hh, Tensor()).sum()}, {h})[0].defined());
}
