// conv1d / conv2d (ops/conv.cpp) and the Conv1d / Conv2d modules (nn/conv.cpp): PyTorch values
// and gradients for every padding form, stride, dilation, groups and unbatched inputs; float64
// gradchecks on non-contiguous inputs; the batch-parallel path; every error.
#include "nn/conv.h"
#include "ops/conv.h"
#include "tests/conv_test_util.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::conv_testing::check_conv_parameters;
using minidl::conv_testing::check_per_sample_gradients;
using minidl::testing::allclose;
using minidl::testing::check_against;
using minidl::testing::check_gradients;
using minidl::testing::cos_upstream;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

struct ConvCase {
  std::string name;
  bool one_d;
  bool has_bias;
  ExpandingArray stride;
  ConvPadding padding;
  ExpandingArray dilation;
  int64_t groups;
};

// A direct 2-d convolution in six nested loops: the reference for the batched kernels.
Tensor naive_conv2d(const Tensor& x, const Tensor& w, int64_t stride, int64_t pad) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), K = w.size(2);
  const int64_t OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
  std::vector<double> xv = x.to_vector<double>(), wv = w.to_vector<double>();
  std::vector<double> out(N * O * OH * OW, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = 0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < K; ++i)
              for (int64_t j = 0; j < K; ++j) {
                const int64_t h = oh * stride - pad + i, v = ow * stride - pad + j;
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                acc += xv[((n * C + c) * H + h) * W + v] * wv[((o * C + c) * K + i) * K + j];
              }
          out[((n * O + o) * OH + oh) * OW + ow] = acc;
        }
  return from_vector(out, {N, O, OH, OW}, kFloat64);
}

}  // namespace

TEST_CASE("conv1d and conv2d match PyTorch: stride, padding forms, dilation, groups", "[conv]") {
  Fixtures fx("conv.txt");
  const std::vector<ConvCase> cases = {
      {"c2_basic", false, true, 1, 0, 1, 1},
      {"c2_stride_pad", false, false, 2, 1, 1, 1},
      {"c2_pairs", false, true, {1, 2}, {2, 1}, {2, 1}, 1},
      {"c2_same", false, true, 1, "same", {1, 2}, 1},
      {"c2_valid", false, true, 1, "valid", 1, 1},
      {"c2_groups", false, true, 1, 1, 1, 2},
      {"c2_depthwise", false, false, 2, 1, 1, 3},
      {"c2_pointwise", false, true, 1, 0, 1, 2},
      {"c2_unbatched", false, true, 1, {1, 0}, 1, 1},
      {"c1_basic", true, true, 2, 1, 2, 1},
      {"c1_same", true, true, 1, "same", 1, 1},
      {"c1_groups", true, false, 1, "valid", 1, 2},
      {"c1_unbatched", true, true, 3, 0, 1, 1},
  };
  for (const ConvCase& c : cases) {
    Tensor x = fixture_leaf(fx, c.name + "_x");
    Tensor w = fixture_leaf(fx, c.name + "_w");
    Tensor b = c.has_bias ? fixture_leaf(fx, c.name + "_b") : Tensor();
    Tensor out = c.one_d ? conv1d(x, w, b, c.stride, c.padding, c.dilation, c.groups)
                         : conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups);
    CHECK(out.grad_fn() != nullptr);
    std::vector<std::pair<std::string, Tensor>> inputs = {{"x", x}, {"w", w}};
    if (c.has_bias) inputs.push_back({"b", b});
    check_against(fx, c.name, out, inputs, 1e-6, 1e-9);
  }
}

TEST_CASE("conv2d float32 agrees with PyTorch's float64 values", "[conv]") {
  Fixtures fx("conv.txt");
  Tensor x = fx["c2_pairs_x"].to(kFloat32).requires_grad_();
  Tensor w = fx["c2_pairs_w"].to(kFloat32);
  Tensor out = conv2d(x, w, fx["c2_pairs_b"].to(kFloat32), {1, 2}, {2, 1}, {2, 1});
  CHECK(out.dtype() == kFloat32);
  CHECK(allclose(out, fx["c2_pairs_out"], 1e-5, 1e-5));
  out.backward(cos_upstream(out.shape()).to(kFloat32));
  CHECK(allclose(x.grad(), fx["c2_pairs_dx"], 1e-5, 1e-5));
}

TEST_CASE("conv gradients pass gradcheck, including non-contiguous inputs", "[conv]") {
  manual_seed(3);
  // conv2d: stride, asymmetric padding, dilation, groups; x stored transposed.
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return conv2d(in[0], in[1], in[2], {2, 1}, {1, 2}, {1, 2}, 2);
      },
      {transposed_leaf({2, 4, 5, 4}), leaf({4, 2, 2, 3}), leaf({4})});
  // 'same' with an even kernel (asymmetric), weight every other column of a wider tensor.
  check_gradients(
      [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], 1, "same"); },
      {leaf({1, 2, 4, 5}), strided_leaf({3, 2, 2, 2}), leaf({3})});
  // depthwise, no bias, unbatched
  check_gradients(
      [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], Tensor(), 1, 1, 1, 3); },
      {transposed_leaf({3, 4, 4}), leaf({3, 1, 3, 3})});
  // 1x1 pointwise (the columns are the input itself)
  check_gradients([](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2]); },
                  {strided_leaf({2, 3, 3, 2}), leaf({2, 3, 1, 1}), leaf({2})});
  // conv1d: stride, dilation, padding, groups; and 'same'
  check_gradients(
      [](const std::vector<Tensor>& in) { return conv1d(in[0], in[1], in[2], 2, 2, 2, 2); },
      {transposed_leaf({2, 4, 7}), leaf({2, 2, 3}), leaf({2})});
  check_gradients(
      [](const std::vector<Tensor>& in) { return conv1d(in[0], in[1], Tensor(), 1, "same", 2); },
      {leaf({3, 6}), leaf({2, 3, 4})});
}

TEST_CASE("conv2d only computes the gradients that are needed", "[conv]") {
  manual_seed(4);
  Tensor x = randn({2, 2, 4, 4}, kFloat64);
  Tensor w = leaf({3, 2, 3, 3});
  Tensor b = randn({3}, kFloat64);
  conv2d(x, w, b, 1, 1).sum().backward();
  CHECK(w.grad().defined());
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(conv2d(x, b.defined() ? randn({3, 2, 3, 3}, kFloat64) : Tensor()).requires_grad());
  {
    NoGradGuard no_grad;
    CHECK_FALSE(conv2d(x, w).requires_grad());
  }
}

TEST_CASE("the batch-parallel conv2d equals a naive convolution and per-sample calls", "[conv]") {
  manual_seed(5);
  // 16 samples of 4 * 27 * 90 multiply-adds: enough work to split the batch across threads.
  Tensor x = randn({16, 3, 10, 9}, kFloat32).requires_grad_();
  Tensor w = randn({4, 3, 3, 3}, kFloat32).requires_grad_();
  Tensor b = randn({4}, kFloat32).requires_grad_();
  Tensor out = conv2d(x, w, b, 1, 1);
  Tensor reference =
      naive_conv2d(x.detach(), w.detach(), 1, 1) + b.detach().to(kFloat64).view({1, 4, 1, 1});
  CHECK(allclose(out, reference, 1e-5, 1e-5));
  Tensor up = randn(out.shape(), kFloat32);
  out.backward(up);
  // The same gradients accumulated one sample at a time (serial path, BLAS threads).
  check_per_sample_gradients(
      [](const Tensor& xn, const Tensor& wn, const Tensor& bn) { return conv2d(xn, wn, bn, 1, 1); },
      x, w, b, up);
}

TEST_CASE("conv output sizes and an empty batch", "[conv]") {
  Tensor w = ones({2, 3, 3, 3});
  CHECK(conv2d(zeros({0, 3, 5, 5}), w).shape() == Shape{0, 2, 3, 3});
  CHECK(conv2d(zeros({1, 3, 7, 6}), w, Tensor(), 2, 1).shape() == Shape{1, 2, 4, 3});
  CHECK(conv2d(zeros({3, 5, 4}), w, Tensor(), 1, "same").shape() == Shape{2, 5, 4});
  CHECK(conv1d(zeros({2, 3, 8}), ones({4, 3, 2}), Tensor(), 1, "same").shape() == Shape{2, 4, 8});
  // A constant input of ones gives the window's element count at each output.
  Tensor counts = conv2d(ones({1, 1, 3, 3}), ones({1, 1, 3, 3}), Tensor(), 1, 1);
  CHECK(counts.to_vector<float>() == std::vector<float>{4, 6, 4, 6, 9, 6, 4, 6, 4});
}

TEST_CASE("conv errors name the op and the shapes", "[conv]") {
  using Catch::Contains;
  Tensor x = zeros({2, 3, 5, 5});
  Tensor w = zeros({4, 3, 3, 3});
  CHECK_THROWS_WITH(conv2d(zeros({3, 5}), w), Contains("conv2d") && Contains("[3, 5]"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3})), Contains("conv2d") && Contains("[4, 3, 3]"));
  CHECK_THROWS_WITH(conv1d(x, zeros({4, 3, 3})), Contains("conv1d") && Contains("[2, 3, 5, 5]"));
  // channel mismatch
  CHECK_THROWS_WITH(conv2d(zeros({2, 4, 5, 5}), w),
                    Contains("conv2d") && Contains("[2, 4, 5, 5]") && Contains("3 channels"));
  // groups not dividing the channels
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 1, 3, 3}), Tensor(), 1, 0, 1, 2),
                    Contains("conv2d") && Contains("divisible by groups"));
  CHECK_THROWS_WITH(conv2d(zeros({2, 4, 5, 5}), zeros({3, 2, 3, 3}), Tensor(), 1, 0, 1, 2),
                    Contains("conv2d") && Contains("[3, 2, 3, 3]"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 1, 0, 1, 0), Contains("groups must be positive"));
  // kernel larger than the padded input
  CHECK_THROWS_WITH(conv2d(zeros({1, 3, 2, 2}), w),
                    Contains("conv2d") && Contains("(2 x 2)") && Contains("(3 x 3)"));
  CHECK_THROWS_WITH(conv2d(zeros({1, 3, 3, 3}), w, Tensor(), 1, 0, 2),
                    Contains("Kernel size can't be greater"));
  CHECK_NOTHROW(conv2d(zeros({1, 3, 2, 2}), w, Tensor(), 1, 1));
  // 'same' with a stride, a bad padding string, bad numbers
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 2, "same"),
                    Contains("conv2d") && Contains("'same' is not supported for strided"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 1, "full"), Contains("conv2d") && Contains("'full'"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 0), Contains("stride must be positive"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 1, -1), Contains("padding must be non-negative"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 1, 0, {1, 0}), Contains("dilation must be positive"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), {1, 1, 1}), Contains("stride must be an int or 2"));
  // bias and dtypes
  CHECK_THROWS_WITH(conv2d(x, w, zeros({3})), Contains("conv2d") && Contains("[3]"));
  CHECK_THROWS_WITH(conv2d(x, w, zeros({4}, kFloat64)), Contains("bias dtype"));
  CHECK_THROWS_WITH(conv2d(x.to(kFloat64), w), Contains("conv2d") && Contains("float64"));
  CHECK_THROWS_WITH(conv2d(zeros({2, 3, 5, 5}, kInt64), zeros({4, 3, 3, 3}, kInt64)),
                    Contains("conv2d") && Contains("floating"));
  CHECK_THROWS_WITH(conv2d(x, zeros({0, 3, 3, 3})), Contains("weight must not be empty"));
}

// ---------------------------------------------------------------- modules

TEST_CASE("Conv2d and Conv1d modules reproduce PyTorch with its state_dict", "[conv]") {
  Fixtures fx("conv.txt");
  {
    nn::Conv2d conv(3, 4, 3, 2, 1);
    conv.to(kFloat64);
    conv.load_state_dict({{"weight", fx["m_conv2d_weight"]}, {"bias", fx["m_conv2d_bias"]}});
    Tensor x = fixture_leaf(fx, "m_conv2d_x");
    check_against(fx, "m_conv2d", conv(x), {{"x", x}, {"weight", conv.weight}, {"bias", conv.bias}},
                  1e-6, 1e-9);
  }
  {
    nn::Conv1d conv(4, 2, 3, 1, "same", 1, 2, false);
    conv.to(kFloat64);
    conv.load_state_dict({{"weight", fx["m_conv1d_weight"]}});
    Tensor x = fixture_leaf(fx, "m_conv1d_x");
    check_against(fx, "m_conv1d", conv(x), {{"x", x}, {"weight", conv.weight}}, 1e-6, 1e-9);
  }
}

TEST_CASE("Conv2d parameters: names, shapes, PyTorch's init bounds, extra_repr", "[conv]") {
  manual_seed(6);
  nn::Conv2d conv(6, 8, {3, 5}, 1, 0, 1, 2);
  // bound = 1 / sqrt(fan_in), fan_in = 3 * 3 * 5 = 45; the values fill the range.
  check_conv_parameters(conv, conv.weight, conv.bias, {8, 3, 3, 5}, {8}, 1.0 / std::sqrt(45.0),
                        0.8);
  CHECK(conv.extra_repr() == "6, 8, kernel_size=(3, 5), stride=(1, 1), groups=2");
  CHECK(nn::Conv2d(1, 32, 3, 1, 1).extra_repr() ==
        "1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)");
  CHECK(nn::Conv2d(2, 4, 3, 1, "same", 2, 1, false).extra_repr() ==
        "2, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, dilation=(2, 2), bias=False");
  CHECK(nn::Conv1d(2, 4, 3, 2).extra_repr() == "2, 4, kernel_size=(3,), stride=(2,)");
  CHECK(nn::Conv1d(2, 4, 3, 1, "valid").extra_repr() ==
        "2, 4, kernel_size=(3,), stride=(1,), padding=valid");
  CHECK_FALSE(nn::Conv1d(2, 4, 3, 1, 0, 1, 1, false).bias.defined());
  CHECK(nn::Conv1d(2, 4, 3).named_parameters().size() == 2);
  CHECK(conv.to_string().find("Conv2d(6, 8, kernel_size=(3, 5)") != std::string::npos);
}

TEST_CASE("Conv modules: gradcheck on a tiny instance", "[conv]") {
  manual_seed(7);
  nn::Conv2d conv(2, 2, 2, 1, 1, 1, 2);
  conv.to(kFloat64);
  // The module's own parameters are perturbed in place by gradcheck.
  check_gradients([&](const std::vector<Tensor>& in) { return conv(in[0]); },
                  {transposed_leaf({1, 2, 3, 3}), conv.weight, conv.bias});
  Tensor x = transposed_leaf({1, 2, 3, 3});
  Tensor y = conv(x);
  CHECK(allclose(y, conv2d(x, conv.weight, conv.bias, 1, 1, 1, 2), 1e-12, 0));
}

TEST_CASE("Conv module errors name the module and the shapes", "[conv]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::Conv2d(3, 4, 3, 1, 0, 1, 2), Contains("Conv2d") && Contains("groups"));
  CHECK_THROWS_WITH(nn::Conv2d(4, 3, 3, 1, 0, 1, 2), Contains("out_channels (3)"));
  CHECK_THROWS_WITH(nn::Conv2d(3, 4, 3, 2, "same"),
                    Contains("Conv2d") && Contains("'same' is not supported"));
  CHECK_THROWS_WITH(nn::Conv2d(3, 4, 3, 1, "full"), Contains("Conv2d") && Contains("'full'"));
  CHECK_THROWS_WITH(nn::Conv2d(3, 4, {3, 3, 3}), Contains("Conv2d") && Contains("kernel_size"));
  CHECK_THROWS_WITH(nn::Conv1d(3, 4, 0), Contains("Conv1d") && Contains("kernel_size"));
  CHECK_THROWS_WITH(nn::Conv2d(0, 4, 3), Contains("Conv2d") && Contains("positive"));
  nn::Conv2d conv(3, 4, 3);
  CHECK_THROWS_WITH(conv(zeros({2, 2, 5, 5})), Contains("Conv2d") && Contains("[2, 2, 5, 5]"));
  CHECK_THROWS_WITH(conv(zeros({5, 5})), Contains("Conv2d") && Contains("[5, 5]"));
  CHECK_THROWS_WITH(conv(zeros({1, 3, 5, 5}, kFloat64)), Contains("Conv2d") && Contains("float64"));
  nn::Conv1d conv1(3, 4, 3);
  CHECK_THROWS_WITH(conv1(zeros({2, 4, 5})), Contains("Conv1d") && Contains("[2, 4, 5]"));
}
