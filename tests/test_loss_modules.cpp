// The loss modules of nn/loss.h: each equals its functional loss with the module's options,
// KLDivLoss matches PyTorch (the fixture of ops/kl_div), class weights are buffers that follow
// to(dtype) and appear in the state_dict, a temporary module can be called, gradients flow.
#include "nn/loss.h"

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against;
using minidl::testing::Fixtures;
namespace F = minidl::nn::functional;

namespace {
bool same(const Tensor& a, const Tensor& b) {
  return allclose(a, b, 0, 0);
}
}  // namespace

TEST_CASE("regression loss modules equal their functional losses", "[loss_modules]") {
  manual_seed(1);
  Tensor x = randn({4, 3}, kFloat64), t = randn({4, 3}, kFloat64);
  CHECK(same(nn::MSELoss()(x, t), F::mse_loss(x, t)));
  CHECK(same(nn::MSELoss(kSum)(x, t), mse_loss(x, t, kSum)));
  CHECK(same(nn::MSELoss(nn::MSELossOptions().reduction(kNone)).forward(x, t),
             mse_loss(x, t, kNone)));
  CHECK(same(nn::L1Loss(kSum)(x, t), l1_loss(x, t, kSum)));
  CHECK(same(nn::SmoothL1Loss(nn::SmoothL1LossOptions().beta(0.3))(x, t),
             smooth_l1_loss(x, t, kMean, 0.3)));
  CHECK(same(nn::HuberLoss(nn::HuberLossOptions(kNone).delta(0.7))(x, t),
             huber_loss(x, t, kNone, 0.7)));
  nn::HuberLoss huber;
  CHECK(huber.options.delta() == 1.0);
  huber.options.delta(0.2);  // the options are live: forward reads them
  CHECK(same(huber(x, t), huber_loss(x, t, kMean, 0.2)));
  CHECK(huber.to_string() == "HuberLoss()");
  CHECK(huber.parameters().empty());
}

TEST_CASE("classification loss modules: weights are buffers, forward equals F::",
          "[loss_modules]") {
  manual_seed(2);
  Tensor x = randn({5, 3}, kFloat64), labels = tensor({0, 2, 1, 2, 1}, kInt64);
  Tensor weight = tensor({1.0, 2.0, 0.5}, kFloat64);
  nn::CrossEntropyLoss ce(
      nn::CrossEntropyLossOptions().weight(weight).label_smoothing(0.1).ignore_index(1));
  CHECK(same(ce(x, labels), F::cross_entropy(x, labels, ce.options)));
  CHECK(same(ce(x, labels), cross_entropy(x, labels, weight, 1, kMean, 0.1)));
  auto buffers = ce.named_buffers();
  REQUIRE(buffers.size() == 1);
  CHECK(buffers[0].first == "weight");
  CHECK(ce.state_dict().size() == 1);
  CHECK(nn::CrossEntropyLoss().state_dict().empty());  // no weight given: no buffer saved
  // to(dtype) converts the buffer the module reads.
  ce.to(kFloat32);
  CHECK(ce.weight.dtype() == kFloat32);
  CHECK(ce(x.to(kFloat32), labels).dtype() == kFloat32);

  Tensor logp = log_softmax(x, 1);
  nn::NLLLoss nll(nn::NLLLossOptions().weight(weight).reduction(kSum));
  CHECK(same(nll(logp, labels), nll_loss(logp, labels, weight, -100, kSum)));
  CHECK(nll.named_buffers().size() == 1);

  Tensor p = sigmoid(x), q = rand({5, 3}, kFloat64), w3 = tensor({0.5, 1.0, 2.0}, kFloat64);
  nn::BCELoss bce(nn::BCELossOptions().weight(w3));
  CHECK(same(bce(p, q), binary_cross_entropy(p, q, w3)));
  nn::BCEWithLogitsLoss bcel(nn::BCEWithLogitsLossOptions().pos_weight(w3).reduction(kSum));
  CHECK(same(bcel(x, q), binary_cross_entropy_with_logits(x, q, Tensor(), w3, kSum)));
  auto bcel_buffers = bcel.named_buffers();
  REQUIRE(bcel_buffers.size() == 1);
  CHECK(bcel_buffers[0].first == "pos_weight");
  CHECK(same(nn::BCEWithLogitsLoss()(x, q), binary_cross_entropy_with_logits(x, q)));
}

TEST_CASE("MarginRankingLoss takes three tensors and matches PyTorch", "[loss_modules]") {
  Fixtures fx("functional.txt");
  Tensor x1 = fx["rank_x1"].clone().detach().requires_grad_();
  Tensor x2 = fx["rank_x2"].clone().detach().requires_grad_();
  Tensor y = fx["rank_y"].clone().detach().requires_grad_();
  nn::MarginRankingLoss loss(nn::MarginRankingLossOptions(kSum).margin(0.5));
  check_against(fx, "rank_sum", loss(x1, x2, y), {{"x1", x1}, {"x2", x2}, {"y", y}});
  CHECK(nn::MarginRankingLoss().options.margin() == 0.0);
  CHECK(nn::MarginRankingLoss().options.reduction() == kMean);
}

TEST_CASE("KLDivLoss matches PyTorch for every reduction", "[loss_modules]") {
  Fixtures fx("functional.txt");
  for (const auto& [name, reduction] : std::vector<std::pair<std::string, KLDivReduction>>{
           {"none", kNone}, {"mean", kMean}, {"sum", kSum}, {"batchmean", kBatchMean}}) {
    Tensor x = fx["kl_x"].clone().detach().requires_grad_();
    Tensor t = fx["kl_lt"].clone().detach().requires_grad_();
    nn::KLDivLoss loss(nn::KLDivLossOptions(reduction).log_target(true));
    check_against(fx, "kl_log_" + name, loss(x, t), {{"x", x}, {"t", t}});
  }
  CHECK(nn::KLDivLoss().options.reduction() == KLDivReduction(kMean));
  CHECK(nn::KLDivLoss(kSum).options.reduction() == KLDivReduction(kSum));
}

TEST_CASE("loss modules: gradients flow, one-tensor call refused, errors named", "[loss_modules]") {
  Tensor x = tensor({1.0, 2.0}).requires_grad_(), t = tensor({0.0, 0.0});
  Tensor loss = nn::MSELoss(kSum)(x, t);
  loss.backward();
  CHECK(same(x.grad(), tensor({2.0, 4.0})));  // d/dx sum(x^2) = 2x
  nn::L1Loss l1;
  nn::Module& as_module = l1;
  CHECK_THROWS_WITH(as_module(x), Catch::Contains("L1Loss"));
  CHECK_THROWS_WITH(nn::MSELoss()(x, tensor({1.0, 2.0, 3.0})), Catch::Contains("mse_loss"));
  CHECK_THROWS_WITH(nn::CrossEntropyLoss()(zeros({2, 3}, kFloat64), tensor({0, 3}, kInt64)),
                    Catch::Contains("cross_entropy"));
}
