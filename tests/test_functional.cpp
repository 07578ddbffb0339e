// nn::functional (nn/functional/*.h): every F:: function equals the native op it forwards to,
// with the options passed through and libtorch's defaults; the mode and reduction tags; the
// errors of the options minidl does not support.
#include "nn/functional.h"

#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
namespace F = minidl::nn::functional;

namespace {

// Exactly equal values (both computed by the same kernel).
bool same(const Tensor& a, const Tensor& b) {
  return allclose(a, b, 0, 0);
}

}  // namespace

TEST_CASE("F activations equal the native ops, options and defaults included", "[functional]") {
  manual_seed(1);
  Tensor x = randn({3, 5}, kFloat64) * 3.0;
  CHECK(same(F::relu(x), relu(x)));
  CHECK(same(F::relu6(x), relu6(x)));
  CHECK(same(F::leaky_relu(x), leaky_relu(x, 0.01)));
  CHECK(same(F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.3)), leaky_relu(x, 0.3)));
  CHECK(same(F::elu(x), elu(x, 1.0)));
  CHECK(same(F::elu(x, F::ELUFuncOptions().alpha(0.5)), elu(x, 0.5)));
  CHECK(same(F::gelu(x), gelu(x, "none")));
  CHECK(same(F::gelu(x, F::GELUFuncOptions().approximate("tanh")), gelu(x, "tanh")));
  CHECK(same(F::silu(x), silu(x)));
  CHECK(same(F::softplus(x), softplus(x, 1.0, 20.0)));
  CHECK(same(F::softplus(x, F::SoftplusFuncOptions().beta(2).threshold(3)), softplus(x, 2.0, 3.0)));
  CHECK(same(F::hardtanh(x), hardtanh(x, -1.0, 1.0)));
  CHECK(same(F::hardtanh(x, F::HardtanhFuncOptions().min_val(-2).max_val(0.5)),
             hardtanh(x, -2.0, 0.5)));
  CHECK(same(F::softmax(x, F::SoftmaxFuncOptions(1)), softmax(x, 1)));
  CHECK(same(F::softmax(x, 0), softmax(x, 0)));
  CHECK(same(F::log_softmax(x, F::LogSoftmaxFuncOptions(-1)), log_softmax(x, -1)));
  Tensor as_float = F::softmax(x, F::SoftmaxFuncOptions(1).dtype(kFloat32));
  CHECK(as_float.dtype() == kFloat32);
  CHECK(same(as_float, softmax(x.to(kFloat32), 1)));
  CHECK(F::log_softmax(x, F::LogSoftmaxFuncOptions(0).dtype(kFloat32)).dtype() == kFloat32);
  // The defaults, as libtorch's.
  CHECK(F::LeakyReLUFuncOptions().negative_slope() == 0.01);
  CHECK(F::ELUFuncOptions().alpha() == 1.0);
  CHECK(F::GELUFuncOptions().approximate() == "none");
  CHECK(F::SoftplusFuncOptions().threshold() == 20.0);
  CHECK(F::HardtanhFuncOptions().min_val() == -1.0);
  CHECK(!F::ReLUFuncOptions().inplace());
  CHECK_THROWS_WITH(F::gelu(x, F::GELUFuncOptions().approximate("fast")), Catch::Contains("gelu"));
}

TEST_CASE("F inplace activations write into the input", "[functional]") {
  Tensor x = tensor({-1.0, 2.0, -3.0});
  Tensor y = F::relu(x, F::ReLUFuncOptions(true));
  CHECK(y.is_same(x));
  CHECK(same(x, tensor({0.0, 2.0, 0.0})));
  Tensor z = tensor({-1.0, 2.0});
  F::leaky_relu(z, F::LeakyReLUFuncOptions().negative_slope(0.5).inplace(true));
  CHECK(same(z, tensor({-0.5, 2.0})));
  // Out of place by default: the input is unchanged.
  Tensor w = tensor({-1.0, 7.0});
  CHECK(same(F::relu6(w), tensor({0.0, 6.0})));
  CHECK(same(w, tensor({-1.0, 7.0})));
  // Under autograd the input's history is rebased onto the op: the gradient flows through it.
  Tensor base = tensor({-1.0, 2.0, 3.0}).requires_grad_();
  Tensor scaled = base * 2.0;
  Tensor activated = F::relu(scaled, F::ReLUFuncOptions(true));
  CHECK(activated.is_same(scaled));
  sum(activated).backward();
  CHECK(same(base.grad(), tensor({0.0, 2.0, 2.0})));
  // A leaf that requires grad cannot be overwritten (Tensor::copy_'s rule).
  Tensor leaf = tensor({1.0, -1.0}).requires_grad_();
  CHECK_THROWS(F::elu(leaf, F::ELUFuncOptions().inplace(true)));
}

TEST_CASE("F dropout follows p and training", "[functional]") {
  Tensor x = ones({4, 8}, kFloat64);
  CHECK(F::dropout(x, F::DropoutFuncOptions().training(false)).is_same(x));
  CHECK(same(F::dropout(x, F::DropoutFuncOptions().p(1.0)), zeros({4, 8}, kFloat64)));
  manual_seed(7);
  Tensor a = F::dropout(x, F::DropoutFuncOptions().p(0.25));
  manual_seed(7);
  CHECK(same(a, dropout(x, 0.25, true)));
  Tensor img = ones({2, 3, 2, 2}, kFloat64);
  manual_seed(9);
  Tensor b = F::dropout2d(img);  // p = 0.5, training = true by default
  manual_seed(9);
  CHECK(same(b, dropout2d(img, 0.5, true)));
  CHECK(F::dropout2d(img, F::Dropout2dFuncOptions().training(false)).is_same(img));
  // In eval mode inplace has nothing to write: even a leaf that requires grad comes back as is.
  Tensor trained = ones({3}, kFloat64).requires_grad_();
  CHECK(
      F::dropout(trained, F::DropoutFuncOptions().training(false).inplace(true)).is_same(trained));
  Tensor scratch = ones({200}, kFloat64);
  Tensor dropped = F::dropout(scratch, F::DropoutFuncOptions().p(0.5).inplace(true));
  CHECK(dropped.is_same(scratch));
  CHECK(sum(eq(scratch, 0.0)).item<int64_t>() > 0);  // some of the 200 were zeroed in place
  CHECK(F::DropoutFuncOptions().p() == 0.5);
  CHECK(F::DropoutFuncOptions().training());
  CHECK_THROWS_WITH(F::dropout(x, F::DropoutFuncOptions().p(1.5)), Catch::Contains("dropout"));
}

TEST_CASE("F linear and convolutions equal the native ops", "[functional]") {
  manual_seed(2);
  Tensor x = randn({2, 3}, kFloat64), w = randn({4, 3}, kFloat64), b = randn({4}, kFloat64);
  CHECK(same(F::linear(x, w, b), linear(x, w, b)));
  CHECK(same(F::linear(x, w), linear(x, w)));
  Tensor img = randn({1, 2, 6, 6}, kFloat64), k = randn({4, 2, 3, 3}, kFloat64);
  Tensor bias = randn({4}, kFloat64);
  CHECK(same(F::conv2d(img, k), conv2d(img, k)));
  CHECK(same(F::conv2d(img, k, F::Conv2dFuncOptions().bias(bias).stride(2).padding(1)),
             conv2d(img, k, bias, 2, 1)));
  CHECK(same(F::conv2d(img, k, F::Conv2dFuncOptions().padding({1, 0}).dilation(2)),
             conv2d(img, k, Tensor(), 1, ConvPadding({1, 0}), 2)));
  Tensor same_out = F::conv2d(img, k, F::Conv2dFuncOptions().padding(kSame));
  CHECK(same_out.shape() == Shape{1, 4, 6, 6});
  CHECK(same(same_out, conv2d(img, k, Tensor(), 1, "same")));
  CHECK(F::conv2d(img, k, F::Conv2dFuncOptions().padding(kValid)).shape() == Shape{1, 4, 4, 4});
  Tensor grouped = randn({4, 1, 3, 3}, kFloat64);
  CHECK(same(F::conv2d(img, grouped, F::Conv2dFuncOptions().groups(2)),
             conv2d(img, grouped, Tensor(), 1, 0, 1, 2)));
  Tensor seq = randn({2, 2, 7}, kFloat64), k1 = randn({3, 2, 3}, kFloat64);
  CHECK(same(F::conv1d(seq, k1, F::Conv1dFuncOptions().stride(2)), conv1d(seq, k1, Tensor(), 2)));
  Tensor kt = randn({2, 3, 3, 3}, kFloat64);
  CHECK(same(F::conv_transpose2d(
                 img, kt, F::ConvTranspose2dFuncOptions().stride(2).padding(1).output_padding(1)),
             conv_transpose2d(img, kt, Tensor(), 2, 1, 1)));
  Tensor kt1 = randn({2, 3, 2}, kFloat64);
  CHECK(same(F::conv_transpose1d(seq, kt1), conv_transpose1d(seq, kt1)));
  CHECK_THROWS_WITH(F::conv2d(img, randn({4, 3, 3, 3}, kFloat64)), Catch::Contains("conv2d"));
}

TEST_CASE("F pooling equals the native ops; stride defaults to the kernel size", "[functional]") {
  manual_seed(3);
  Tensor x = randn({2, 3, 7, 6}, kFloat64);
  CHECK(same(F::max_pool2d(x, F::MaxPool2dFuncOptions(2)), max_pool2d(x, 2, 2)));
  CHECK(F::MaxPool2dFuncOptions(3).stride().values == std::vector<int64_t>{3});
  CHECK(same(F::max_pool2d(x, F::MaxPool2dFuncOptions({3, 2}).stride(1).padding(1).ceil_mode(true)),
             max_pool2d(x, {3, 2}, 1, 1, 1, true)));
  auto [values, indices] = F::max_pool2d_with_indices(x, F::MaxPool2dFuncOptions(2));
  auto [values2, indices2] = max_pool2d_with_indices(x, 2);
  CHECK(same(values, values2));
  CHECK(same(indices, indices2));
  CHECK(same(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2)), avg_pool2d(x, 2)));
  CHECK(same(
      F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(2).padding(1).count_include_pad(false)),
      avg_pool2d(x, 3, 2, 1, false, false)));
  CHECK(same(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).divisor_override(3)),
             avg_pool2d(x, 2, {}, 0, false, true, 3)));
  CHECK(same(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({3, 2})),
             adaptive_avg_pool2d(x, {3, 2})));
  CHECK_THROWS_WITH(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).divisor_override(0)),
                    Catch::Contains("avg_pool2d") && Catch::Contains("divisor_override"));
}

TEST_CASE("F pad: every mode, the default constant 0, and circular", "[functional]") {
  Tensor x = arange(12.0, kFloat64).reshape({1, 1, 3, 4});
  CHECK(same(F::pad(x, F::PadFuncOptions({1, 2})), pad(x, {1, 2})));
  CHECK(same(F::pad(x, F::PadFuncOptions({1, 1, 2, 0}).value(-5)),
             pad(x, {1, 1, 2, 0}, "constant", -5)));
  CHECK(same(F::pad(x, F::PadFuncOptions({2, 1}).mode(kReflect)), pad(x, {2, 1}, "reflect")));
  CHECK(same(F::pad(x, F::PadFuncOptions({2, 1, 1, 1}).mode(kReplicate)),
             pad(x, {2, 1, 1, 1}, "replicate")));
  CHECK(same(F::pad(x, F::PadFuncOptions({1, 2, 0, 1}).mode(kCircular)),
             circular_pad(x, {1, 2, 0, 1})));
  CHECK(std::string(F::PadFuncOptions({1}).mode().name) == "constant");
  CHECK_THROWS_WITH(F::pad(x, F::PadFuncOptions({4, 0}).mode(kReflect)), Catch::Contains("pad"));
}

TEST_CASE("F interpolate: size or scale_factor, every mode, align_corners", "[functional]") {
  manual_seed(4);
  Tensor x = randn({1, 2, 3, 4}, kFloat64);
  CHECK(same(F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{6, 8})),
             interpolate(x, {6, 8})));
  CHECK(same(F::interpolate(x, F::InterpolateFuncOptions()
                                   .scale_factor(std::vector<double>{2.0, 1.5})
                                   .mode(kBilinear)
                                   .align_corners(true)),
             interpolate(x, {}, {2.0, 1.5}, "bilinear", true)));
  CHECK(
      same(F::interpolate(
               x, F::InterpolateFuncOptions().size(std::vector<int64_t>{5, 5}).mode(kNearestExact)),
           interpolate(x, {5, 5}, {}, "nearest-exact")));
  CHECK(same(F::interpolate(x, F::InterpolateFuncOptions()
                                   .scale_factor(std::vector<double>{1.7})
                                   .mode(kBilinear)
                                   .recompute_scale_factor(true)),
             interpolate(x, {}, {1.7}, "bilinear", std::nullopt, true)));
  Tensor seq = randn({2, 3, 5}, kFloat64);
  CHECK(same(
      F::interpolate(seq, F::InterpolateFuncOptions().size(std::vector<int64_t>{9}).mode(kLinear)),
      interpolate(seq, {9}, {}, "linear")));
  CHECK(std::string(F::InterpolateFuncOptions().mode().name) == "nearest");
  CHECK_THROWS_WITH(F::interpolate(x), Catch::Contains("interpolate"));
  CHECK_THROWS_WITH(
      F::interpolate(x,
                     F::InterpolateFuncOptions().size(std::vector<int64_t>{6, 8}).antialias(true)),
      Catch::Contains("interpolate") && Catch::Contains("antialias"));
  CHECK_THROWS_WITH(
      F::interpolate(
          x, F::InterpolateFuncOptions().size(std::vector<int64_t>{6, 8}).align_corners(true)),
      Catch::Contains("interpolate"));
}

TEST_CASE("F normalization: layer_norm, batch_norm, normalize", "[functional]") {
  manual_seed(5);
  Tensor x = randn({4, 3, 5}, kFloat64), w = randn({5}, kFloat64), b = randn({5}, kFloat64);
  CHECK(same(F::layer_norm(x, F::LayerNormFuncOptions({5})), layer_norm(x, {5})));
  CHECK(same(F::layer_norm(x, F::LayerNormFuncOptions({3, 5}).eps(1e-3)),
             layer_norm(x, {3, 5}, {}, {}, 1e-3)));
  CHECK(same(F::layer_norm(x, F::LayerNormFuncOptions({5}).weight(w).bias(b)),
             layer_norm(x, {5}, w, b)));
  Tensor mean = zeros({3}, kFloat64), var = ones({3}, kFloat64);
  Tensor gamma = randn({3}, kFloat64), beta = randn({3}, kFloat64);
  CHECK(same(F::batch_norm(x, mean, var), batch_norm(x, mean, var)));
  CHECK(same(
      F::batch_norm(x, mean, var, F::BatchNormFuncOptions().weight(gamma).bias(beta).eps(1e-3)),
      batch_norm(x, mean, var, gamma, beta, false, 0.1, 1e-3)));
  // Training updates the running statistics in place with the momentum.
  Tensor running_mean = zeros({3}, kFloat64), running_var = ones({3}, kFloat64);
  Tensor m2 = zeros({3}, kFloat64), v2 = ones({3}, kFloat64);
  Tensor y = F::batch_norm(x, running_mean, running_var,
                           F::BatchNormFuncOptions().training(true).momentum(0.5));
  CHECK(same(y, batch_norm(x, m2, v2, {}, {}, true, 0.5)));
  CHECK(same(running_mean, m2));
  CHECK(!allclose(running_mean, zeros({3}, kFloat64)));
  CHECK_THROWS_WITH(F::batch_norm(x, mean, var, F::BatchNormFuncOptions().momentum(std::nullopt)),
                    Catch::Contains("batch_norm") && Catch::Contains("momentum"));
  CHECK(same(F::normalize(x), normalize(x, 2.0, 1, 1e-12)));
  CHECK(same(F::normalize(x, F::NormalizeFuncOptions().p(1).dim(-1).eps(0.5)),
             normalize(x, 1.0, -1, 0.5)));
  CHECK(F::NormalizeFuncOptions().eps() == 1e-12);
  CHECK(F::LayerNormFuncOptions({2}).eps() == 1e-5);
}

TEST_CASE("F embedding, one_hot, cosine_similarity", "[functional]") {
  manual_seed(6);
  Tensor weight = randn({5, 3}, kFloat64).requires_grad_();
  Tensor idx = tensor({{0, 4, 2}, {4, 4, 1}}, kInt64);
  CHECK(same(F::embedding(idx, weight), embedding(weight, idx)));
  // A negative padding_idx counts from the end, as libtorch's: -1 is row 4, which gets no gradient.
  Tensor out = F::embedding(idx, weight, F::EmbeddingFuncOptions().padding_idx(-1));
  sum(out).backward();
  CHECK(same(weight.grad().select(0, 4), zeros({3}, kFloat64)));
  CHECK(same(weight.grad().select(0, 0), ones({3}, kFloat64)));
  CHECK_THROWS_WITH(F::embedding(idx, weight, F::EmbeddingFuncOptions().padding_idx(5)),
                    Catch::Contains("embedding") && Catch::Contains("padding_idx"));
  CHECK_THROWS_WITH(F::embedding(idx, weight, F::EmbeddingFuncOptions().max_norm(1.0)),
                    Catch::Contains("embedding") && Catch::Contains("max_norm"));
  CHECK_THROWS_WITH(F::embedding(idx, weight, F::EmbeddingFuncOptions().sparse(true)),
                    Catch::Contains("embedding"));
  CHECK(same(F::one_hot(tensor({0, 2}, kInt64)), tensor({{1, 0, 0}, {0, 0, 1}}, kInt64)));
  CHECK(F::one_hot(tensor({1}, kInt64), 4).shape() == Shape{1, 4});
  Tensor a = randn({3, 4}, kFloat64), b = randn({3, 4}, kFloat64);
  CHECK(same(F::cosine_similarity(a, b), cosine_similarity(a, b, 1, 1e-8)));
  CHECK(same(F::cosine_similarity(a, b, F::CosineSimilarityFuncOptions().dim(0).eps(0.1)),
             cosine_similarity(a, b, 0, 0.1)));
}

TEST_CASE("F losses equal the native ops with libtorch's defaults and the k-tags", "[functional]") {
  manual_seed(7);
  Tensor x = randn({4, 3}, kFloat64), t = randn({4, 3}, kFloat64);
  for (Reduction r : {kNone, kMean, kSum}) {
    CHECK(same(F::mse_loss(x, t, F::MSELossFuncOptions(r)), mse_loss(x, t, r)));
    CHECK(same(F::mse_loss(x, t, F::MSELossFuncOptions().reduction(r)), mse_loss(x, t, r)));
    CHECK(same(F::l1_loss(x, t, r), l1_loss(x, t, r)));
    CHECK(same(F::smooth_l1_loss(x, t, F::SmoothL1LossFuncOptions(r).beta(0.5)),
               smooth_l1_loss(x, t, r, 0.5)));
    CHECK(same(F::huber_loss(x, t, F::HuberLossFuncOptions().reduction(r).delta(2.0)),
               huber_loss(x, t, r, 2.0)));
  }
  CHECK(same(F::mse_loss(x, t), mse_loss(x, t, Reduction::Mean)));
  CHECK(same(F::smooth_l1_loss(x, t), smooth_l1_loss(x, t, kMean, 1.0)));
  CHECK(same(F::huber_loss(x, t), huber_loss(x, t, kMean, 1.0)));

  Tensor labels = tensor({0, 2, 1, 2}, kInt64), weight = tensor({1.0, 2.0, 0.5}, kFloat64);
  CHECK(same(F::cross_entropy(x, labels), cross_entropy(x, labels)));
  CHECK(same(F::cross_entropy(x, labels,
                              F::CrossEntropyFuncOptions()
                                  .weight(weight)
                                  .ignore_index(1)
                                  .reduction(kSum)
                                  .label_smoothing(0.2)),
             cross_entropy(x, labels, weight, 1, kSum, 0.2)));
  CHECK(F::CrossEntropyFuncOptions().ignore_index() == -100);
  CHECK(F::CrossEntropyFuncOptions().label_smoothing() == 0.0);
  Tensor logp = log_softmax(x, 1);
  CHECK(same(F::nll_loss(logp, labels), nll_loss(logp, labels)));
  CHECK(same(F::nll_loss(logp, labels, F::NLLLossFuncOptions().weight(weight).reduction(kNone)),
             nll_loss(logp, labels, weight, -100, kNone)));

  Tensor p = sigmoid(x), q = rand({4, 3}, kFloat64), w3 = tensor({0.5, 1.0, 2.0}, kFloat64);
  CHECK(same(F::binary_cross_entropy(p, q), binary_cross_entropy(p, q)));
  CHECK(same(
      F::binary_cross_entropy(p, q, F::BinaryCrossEntropyFuncOptions().weight(w3).reduction(kSum)),
      binary_cross_entropy(p, q, w3, kSum)));
  CHECK(same(F::binary_cross_entropy_with_logits(x, q), binary_cross_entropy_with_logits(x, q)));
  CHECK(same(
      F::binary_cross_entropy_with_logits(
          x, q,
          F::BinaryCrossEntropyWithLogitsFuncOptions().weight(w3).pos_weight(w3 * 2.0).reduction(
              kNone)),
      binary_cross_entropy_with_logits(x, q, w3, w3 * 2.0, kNone)));

  Tensor lq = log_softmax(t, 1);
  CHECK(same(F::kl_div(logp, softmax(t, 1)), kl_div(logp, softmax(t, 1), kMean)));
  CHECK(same(F::kl_div(logp, lq, F::KLDivFuncOptions(kBatchMean).log_target(true)),
             kl_div(logp, lq, kBatchMean, true)));
  CHECK(same(F::kl_div(logp, lq, F::KLDivFuncOptions().reduction(kSum).log_target(true)),
             kl_div(logp, lq, kSum, true)));
  CHECK(F::KLDivFuncOptions().reduction() == KLDivReduction(kMean));
  CHECK(!F::KLDivFuncOptions().log_target());
  CHECK(F::MSELossFuncOptions().reduction() == kMean);
  Tensor y = tensor({1.0, -1.0, 1.0, -1.0}, kFloat64);
  Tensor s1 = randn({4}, kFloat64), s2 = randn({4}, kFloat64);
  CHECK(same(F::margin_ranking_loss(s1, s2, y), margin_ranking_loss(s1, s2, y, 0.0, kMean)));
  CHECK(same(F::margin_ranking_loss(s1, s2, y, F::MarginRankingLossFuncOptions(kNone).margin(0.3)),
             margin_ranking_loss(s1, s2, y, 0.3, kNone)));
  CHECK(F::MarginRankingLossFuncOptions().margin() == 0.0);
  // Errors come from the native ops, named.
  CHECK_THROWS_WITH(F::mse_loss(x, randn({4, 2}, kFloat64)), Catch::Contains("mse_loss"));
  CHECK_THROWS_WITH(F::cross_entropy(x, tensor({0, 5, 1, 2}, kInt64)),
                    Catch::Contains("cross_entropy"));
}
