// conv_transpose1d / conv_transpose2d (ops/conv_transpose.cpp) and the ConvTranspose1d /
// ConvTranspose2d modules (nn/conv_transpose.cpp): PyTorch values and gradients for stride,
// padding, output_padding, dilation, groups and unbatched inputs; the adjoint identity with
// conv2d; float64 gradchecks on non-contiguous inputs; the batch-parallel path; every error.
#include "nn/conv_transpose.h"
#include "ops/conv.h"
#include "ops/conv_transpose.h"
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

struct TransposeCase {
  std::string name;
  bool one_d;
  bool has_bias;
  ExpandingArray stride, padding, output_padding;
  int64_t groups;
  ExpandingArray dilation;
};

// The definition, one scatter per input element: y[n, g Cog + co, h S - P + i D, w S - P + j D]
// += x[n, g Cig + ci, h, w] * w[g Cig + ci, co, i, j] (groups = 1, square stride/padding here).
Tensor naive_conv_transpose2d(const Tensor& x, const Tensor& w, int64_t stride, int64_t pad,
                              int64_t output_padding) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(1), K = w.size(2);
  const int64_t OH = (H - 1) * stride - 2 * pad + K + output_padding;
  const int64_t OW = (W - 1) * stride - 2 * pad + K + output_padding;
  std::vector<double> xv = x.to_vector<double>(), wv = w.to_vector<double>();
  std::vector<double> out(N * O * OH * OW, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t v = 0; v < W; ++v)
          for (int64_t o = 0; o < O; ++o)
            for (int64_t i = 0; i < K; ++i)
              for (int64_t j = 0; j < K; ++j) {
                const int64_t oh = h * stride - pad + i, ow = v * stride - pad + j;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                out[((n * O + o) * OH + oh) * OW + ow] +=
                    xv[((n * C + c) * H + h) * W + v] * wv[((c * O + o) * K + i) * K + j];
              }
  return from_vector(out, {N, O, OH, OW}, kFloat64);
}

}  // namespace

TEST_CASE("conv_transpose1d and conv_transpose2d match PyTorch", "[conv_transpose]") {
  Fixtures fx("conv_transpose.txt");
  const std::vector<TransposeCase> cases = {
      {"t2_basic", false, true, 1, 0, 0, 1, 1},
      {"t2_stride_pad", false, false, 2, 1, 0, 1, 1},
      {"t2_outpad", false, true, {2, 3}, {1, 0}, {1, 2}, 1, 1},
      {"t2_dilation_outpad", false, true, 1, 0, 1, 1, {2, 3}},
      {"t2_same_size", false, true, 1, 1, 0, 1, 1},
      {"t2_groups", false, true, 2, 0, 0, 2, 1},
      {"t2_depthwise", false, false, 2, 1, 1, 3, 1},
      {"t2_pointwise", false, true, 1, 0, 0, 2, 1},
      {"t2_unbatched", false, true, {1, 2}, {0, 1}, 0, 1, 1},
      {"t1_basic", true, true, 2, 1, 1, 1, 2},
      {"t1_unbatched", true, false, 3, 0, 0, 2, 1},
  };
  for (const TransposeCase& c : cases) {
    Tensor x = fixture_leaf(fx, c.name + "_x");
    Tensor w = fixture_leaf(fx, c.name + "_w");
    Tensor b = c.has_bias ? fixture_leaf(fx, c.name + "_b") : Tensor();
    Tensor out = c.one_d ? conv_transpose1d(x, w, b, c.stride, c.padding, c.output_padding,
                                            c.groups, c.dilation)
                         : conv_transpose2d(x, w, b, c.stride, c.padding, c.output_padding,
                                            c.groups, c.dilation);
    CHECK(out.grad_fn() != nullptr);
    std::vector<std::pair<std::string, Tensor>> inputs = {{"x", x}, {"w", w}};
    if (c.has_bias) inputs.push_back({"b", b});
    check_against(fx, c.name, out, inputs, 1e-6, 1e-9);
  }
}

TEST_CASE("conv_transpose2d float32 agrees with PyTorch's float64 values", "[conv_transpose]") {
  Fixtures fx("conv_transpose.txt");
  Tensor x = fx["t2_outpad_x"].to(kFloat32).requires_grad_();
  Tensor w = fx["t2_outpad_w"].to(kFloat32).requires_grad_();
  Tensor out = conv_transpose2d(x, w, fx["t2_outpad_b"].to(kFloat32), {2, 3}, {1, 0}, {1, 2});
  CHECK(out.dtype() == kFloat32);
  CHECK(allclose(out, fx["t2_outpad_out"], 1e-5, 1e-5));
  out.backward(cos_upstream(out.shape()).to(kFloat32));
  CHECK(allclose(x.grad(), fx["t2_outpad_dx"], 1e-5, 1e-5));
  CHECK(allclose(w.grad(), fx["t2_outpad_dw"], 1e-5, 1e-5));
}

TEST_CASE("conv_transpose2d is the adjoint of conv2d", "[conv_transpose]") {
  // <conv2d(u, w), v> == <u, conv_transpose2d(v, w)> for every u, v of matching shapes.
  manual_seed(11);
  Tensor w = randn({3, 2, 3, 2}, kFloat64);  // conv2d: 2 -> 3 channels; transposed: 3 -> 2
  Tensor u = randn({2, 2, 7, 6}, kFloat64);
  Tensor conv = conv2d(u, w, Tensor(), {2, 1}, {1, 0}, {1, 2});
  Tensor v = randn(conv.shape(), kFloat64);
  Tensor back = conv_transpose2d(v, w, Tensor(), {2, 1}, {1, 0}, 0, 1, {1, 2});
  REQUIRE(back.shape() == u.shape());
  CHECK((conv * v).sum().item() == Approx((u * back).sum().item()).epsilon(1e-12));
}

TEST_CASE("conv_transpose gradients pass gradcheck, including non-contiguous inputs",
          "[conv_transpose]") {
  manual_seed(12);
  // stride, padding, output_padding, dilation, groups; x stored transposed
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return conv_transpose2d(in[0], in[1], in[2], {2, 1}, {1, 0}, {1, 0}, 2, {1, 2});
      },
      {transposed_leaf({2, 4, 3, 3}), leaf({4, 1, 2, 3}), leaf({2})});
  // output_padding below the dilation (stride 1), weight every other column of a wider tensor
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return conv_transpose2d(in[0], in[1], in[2], 1, 0, 1, 1, 2);
      },
      {leaf({1, 2, 3, 3}), strided_leaf({2, 3, 2, 2}), leaf({3})});
  // output the input's size (stride 1, padding 1), unbatched, no bias, x broadcast along H
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return conv_transpose2d(in[0].expand({2, 3, 4}), in[1], Tensor(), 1, 1);
      },
      {leaf({2, 1, 4}), leaf({2, 2, 3, 3})});
  // 1x1 pointwise
  check_gradients(
      [](const std::vector<Tensor>& in) { return conv_transpose2d(in[0], in[1], in[2]); },
      {strided_leaf({2, 3, 2, 2}), leaf({3, 2, 1, 1}), leaf({2})});
  // conv_transpose1d
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return conv_transpose1d(in[0], in[1], in[2], 2, 1, 1, 2, 1);
      },
      {transposed_leaf({2, 4, 5}), leaf({4, 1, 3}), leaf({2})});
}

TEST_CASE("the batch-parallel conv_transpose2d equals the definition and per-sample calls",
          "[conv_transpose]") {
  manual_seed(13);
  // 16 samples: enough work to split the batch across threads.
  Tensor x = randn({16, 3, 8, 7}, kFloat32).requires_grad_();
  Tensor w = randn({3, 4, 3, 3}, kFloat32).requires_grad_();
  Tensor b = randn({4}, kFloat32).requires_grad_();
  Tensor out = conv_transpose2d(x, w, b, 2, 1, 1);
  Tensor reference = naive_conv_transpose2d(x.detach(), w.detach(), 2, 1, 1) +
                     b.detach().to(kFloat64).view({1, 4, 1, 1});
  CHECK(allclose(out, reference, 1e-5, 1e-5));
  Tensor up = randn(out.shape(), kFloat32);
  out.backward(up);
  check_per_sample_gradients([](const Tensor& xn, const Tensor& wn,
                                const Tensor& bn) { return conv_transpose2d(xn, wn, bn, 2, 1, 1); },
                             x, w, b, up);
}

TEST_CASE("conv_transpose output sizes, gradients needed only, an empty batch",
          "[conv_transpose]") {
  Tensor w = ones({3, 2, 3, 3});
  // (H - 1) S - 2 P + D (k - 1) + output_padding + 1
  CHECK(conv_transpose2d(zeros({1, 3, 4, 5}), w).shape() == Shape{1, 2, 6, 7});
  CHECK(conv_transpose2d(zeros({1, 3, 4, 5}), w, Tensor(), 2, 1, 1).shape() == Shape{1, 2, 8, 10});
  CHECK(conv_transpose2d(zeros({3, 4, 5}), w, Tensor(), 1, 0, 1, 1, 2).shape() == Shape{2, 9, 10});
  CHECK(conv_transpose2d(zeros({0, 3, 4, 5}), w).shape() == Shape{0, 2, 6, 7});
  CHECK(conv_transpose1d(zeros({2, 3, 4}), ones({3, 1, 2})).shape() == Shape{2, 1, 5});
  // Each input pixel scatters the 2x2 kernel of ones: overlapping windows count twice.
  Tensor counts = conv_transpose2d(ones({1, 1, 2, 2}), ones({1, 1, 2, 2}));
  CHECK(counts.to_vector<float>() == std::vector<float>{1, 2, 1, 2, 4, 2, 1, 2, 1});
  manual_seed(14);
  Tensor x = randn({1, 3, 3, 3}, kFloat64);
  Tensor wl = leaf({3, 2, 2, 2});
  conv_transpose2d(x, wl).sum().backward();
  CHECK(wl.grad().defined());
  CHECK_FALSE(x.grad().defined());
  NoGradGuard no_grad;
  CHECK_FALSE(conv_transpose2d(x, wl).requires_grad());
}

TEST_CASE("conv_transpose errors name the op and the shapes", "[conv_transpose]") {
  using Catch::Contains;
  Tensor x = zeros({1, 3, 3, 3});
  Tensor w = zeros({3, 2, 3, 3});
  CHECK_THROWS_WITH(conv_transpose2d(zeros({3, 3}), w),
                    Contains("conv_transpose2d") && Contains("[3, 3]"));
  CHECK_THROWS_WITH(conv_transpose2d(x, zeros({3, 2, 3})),
                    Contains("conv_transpose2d") && Contains("[3, 2, 3]"));
  CHECK_THROWS_WITH(conv_transpose1d(x, zeros({3, 2, 3})), Contains("conv_transpose1d"));
  // channel mismatch: the weight's dim 0 is the input's channels
  CHECK_THROWS_WITH(conv_transpose2d(zeros({1, 2, 3, 3}), w),
                    Contains("conv_transpose2d") && Contains("[1, 2, 3, 3]") &&
                        Contains("to have 3 channels, but got 2"));
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), 1, 0, 0, 2),
                    Contains("conv_transpose2d") && Contains("divisible by groups"));
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), 1, 0, 0, 0), Contains("groups must be"));
  // output_padding must be below the stride or the dilation (PyTorch's rule)
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), 1, 0, 1),
                    Contains("conv_transpose2d") &&
                        Contains("output padding must be smaller than either stride or dilation"));
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), 2, 0, {0, 2}),
                    Contains("output_padding (0, 2)"));
  CHECK_NOTHROW(conv_transpose2d(x, w, Tensor(), 1, 0, 1, 1, 2));
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), 1, 0, -1), Contains("non-negative"));
  // an output that would be empty
  CHECK_THROWS_WITH(conv_transpose2d(zeros({1, 3, 1, 1}), w, Tensor(), 1, 3),
                    Contains("conv_transpose2d") && Contains("(-3 x -3)") &&
                        Contains("Output size is too small"));
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), 0), Contains("stride must be positive"));
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), 1, -1), Contains("padding must be non-neg"));
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), 1, 0, 0, 1, 0),
                    Contains("dilation must be positive"));
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), {1, 1, 1}), Contains("stride must be"));
  // bias and dtypes
  CHECK_THROWS_WITH(conv_transpose2d(x, w, zeros({3})),
                    Contains("conv_transpose2d") && Contains("[2]") && Contains("[3]"));
  CHECK_THROWS_WITH(conv_transpose2d(x, w, zeros({2}, kFloat64)), Contains("bias dtype"));
  CHECK_THROWS_WITH(conv_transpose2d(x.to(kFloat64), w), Contains("float64"));
  CHECK_THROWS_WITH(conv_transpose2d(zeros({1, 3, 3, 3}, kInt64), zeros({3, 2, 3, 3}, kInt64)),
                    Contains("conv_transpose2d") && Contains("floating"));
  CHECK_THROWS_WITH(conv_transpose2d(x, zeros({3, 0, 3, 3})), Contains("weight must not be empty"));
}

// ---------------------------------------------------------------- modules

TEST_CASE("ConvTranspose2d reproduces PyTorch with its state_dict, also given output_size",
          "[conv_transpose]") {
  Fixtures fx("conv_transpose.txt");
  nn::ConvTranspose2d conv(3, 4, 3, 2, 1, 1);
  conv.to(kFloat64);
  conv.load_state_dict({{"weight", fx["m_ct2d_weight"]}, {"bias", fx["m_ct2d_bias"]}});
  Tensor x = fixture_leaf(fx, "m_ct2d_x");
  check_against(fx, "m_ct2d", conv(x), {{"x", x}, {"weight", conv.weight}, {"bias", conv.bias}},
                1e-6, 1e-9);
  Tensor x2 = fixture_leaf(fx, "m_ct2d_size_x");
  Tensor sized = conv.forward(x2, {5, 7});
  CHECK(sized.shape() == Shape{1, 4, 5, 7});
  check_against(fx, "m_ct2d_size", sized, {{"x", x2}}, 1e-6, 1e-9);
  // The full shape works too; the largest valid size is output_padding = stride - 1.
  CHECK(conv.forward(x2.detach(), {1, 4, 6, 8}).shape() == Shape{1, 4, 6, 8});
}

TEST_CASE("ConvTranspose parameters: shapes, PyTorch's init bounds, extra_repr",
          "[conv_transpose]") {
  manual_seed(15);
  nn::ConvTranspose2d conv(6, 8, {3, 5}, 1, 0, 0, 2);
  // bound = 1 / sqrt(fan_in), fan_in = weight.size(1) * 3 * 5 = 60 (out_channels / groups)
  check_conv_parameters(conv, conv.weight, conv.bias, {6, 4, 3, 5}, {8}, 1.0 / std::sqrt(60.0),
                        0.7);
  CHECK(conv.extra_repr() == "6, 8, kernel_size=(3, 5), stride=(1, 1), groups=2");
  CHECK(nn::ConvTranspose2d(4, 6, {3, 2}, 2, 1, 1, 1, false, 2).extra_repr() ==
        "4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
        "output_padding=(1, 1), bias=False");
  CHECK(nn::ConvTranspose1d(2, 4, 3, 2).extra_repr() == "2, 4, kernel_size=(3,), stride=(2,)");
  CHECK(conv.to_string().find("ConvTranspose2d(6, 8, kernel_size=(3, 5)") != std::string::npos);
}

TEST_CASE("ConvTranspose modules: gradcheck, and forward equals the op", "[conv_transpose]") {
  manual_seed(16);
  nn::ConvTranspose2d conv(2, 2, 2, 2, 0, 1, 2);
  conv.to(kFloat64);
  check_gradients([&](const std::vector<Tensor>& in) { return conv(in[0]); },
                  {transposed_leaf({1, 2, 3, 3}), conv.weight, conv.bias});
  Tensor x = transposed_leaf({1, 2, 3, 3});
  CHECK(allclose(conv(x), conv_transpose2d(x, conv.weight, conv.bias, 2, 0, 1, 2), 1e-12, 0));
  nn::ConvTranspose1d conv1(3, 2, 3, 2, 1);
  conv1.to(kFloat64);
  Tensor x1 = leaf({2, 3, 4});
  CHECK(conv1(x1).shape() == Shape{2, 2, 7});
  CHECK(allclose(conv1(x1), conv_transpose1d(x1, conv1.weight, conv1.bias, 2, 1), 1e-12, 0));
}

TEST_CASE("ConvTranspose module errors name the module and the shapes", "[conv_transpose]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::ConvTranspose2d(3, 4, 3, 1, 0, 0, 2),
                    Contains("ConvTranspose2d") && Contains("in_channels (3)"));
  CHECK_THROWS_WITH(nn::ConvTranspose2d(4, 3, 3, 1, 0, 0, 2), Contains("out_channels (3)"));
  CHECK_THROWS_WITH(nn::ConvTranspose2d(3, 4, {3, 3, 3}),
                    Contains("ConvTranspose2d") && Contains("kernel_size"));
  CHECK_THROWS_WITH(nn::ConvTranspose1d(3, 4, 0), Contains("ConvTranspose1d"));
  CHECK_THROWS_WITH(nn::ConvTranspose2d(3, 4, 3, 1, 0, -1), Contains("output_padding"));
  nn::ConvTranspose2d conv(3, 4, 3, 2);
  CHECK_THROWS_WITH(conv(zeros({2, 2, 5, 5})),
                    Contains("ConvTranspose2d") && Contains("[2, 2, 5, 5]"));
  CHECK_THROWS_WITH(conv(zeros({1, 3, 5, 5}, kFloat64)), Contains("float64"));
  CHECK_THROWS_WITH(conv.forward(zeros({1, 3, 2, 2}), {4, 7}),
                    Contains("ConvTranspose2d") && Contains("requested an output size of (4, 7)") &&
                        Contains("from (5, 5) to (6, 6)"));
  CHECK_THROWS_WITH(conv.forward(zeros({1, 3, 2, 2}), {5}), Contains("output_size must have 2"));
  // output_padding is checked when the op runs, as in PyTorch
  nn::ConvTranspose2d bad(3, 4, 3, 1, 0, 1);
  CHECK_THROWS_WITH(bad(zeros({1, 3, 2, 2})), Contains("output padding must be smaller"));
}
