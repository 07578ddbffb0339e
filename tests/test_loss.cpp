// Losses: PyTorch values and gradients for every reduction (weights, ignore_index, label
// smoothing, probability targets, broadcast bce weights), gradchecks on non-contiguous inputs,
// the NaN cases PyTorch defines, and every error path.
#include <limits>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::cos_upstream;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

Reduction reduction_of(const std::string& name) {
  if (name == "none") return Reduction::None;
  if (name == "sum") return Reduction::Sum;
  return Reduction::Mean;
}

// A fresh float64 leaf holding a fixture's values.
Tensor leaf_of(const Tensor& t) {
  return t.clone().requires_grad_();
}

// The same values as a non-contiguous leaf (stored transposed).
Tensor transposed_copy(const Tensor& t) {
  Tensor stored = t.transpose(0, 1).contiguous();
  return stored.detach().transpose(0, 1).requires_grad_();
}

const std::vector<Reduction> kReductions = {Reduction::None, Reduction::Mean, Reduction::Sum};

}  // namespace

// ---------------------------------------------------------------- PyTorch fixtures

TEST_CASE("cross_entropy with class indices matches PyTorch", "[loss]") {
  Fixtures fx("loss.txt");
  const Tensor& target = fx["ce_t"];  // contains an ignore_index (-100)
  const Tensor& weight = fx["ce_w"];
  struct Case {
    const char* reduction;
    double smoothing;
    bool weighted;
  };
  for (Case c : {Case{"none", 0.0, true}, Case{"mean", 0.0, false}, Case{"mean", 0.0, true},
                 Case{"mean", 0.2, false}, Case{"mean", 0.2, true}, Case{"sum", 0.2, true}}) {
    std::string name = std::string("ce_") + c.reduction + "_ls" +
                       std::to_string(static_cast<int>(c.smoothing * 10)) + "_w" +
                       std::to_string(c.weighted);
    INFO(name);
    for (bool contiguous : {true, false}) {
      Tensor x = contiguous ? leaf_of(fx["ce_x"]) : transposed_copy(fx["ce_x"]);
      Tensor loss = cross_entropy(x, target, c.weighted ? weight : Tensor(), -100,
                                  reduction_of(c.reduction), c.smoothing);
      CHECK(allclose(loss, fx[name + "_out"], 1e-6, 1e-9));
      loss.backward(cos_upstream(loss.shape()));
      CHECK(allclose(x.grad(), fx[name + "_dx"], 1e-6, 1e-9));
    }
  }
}

TEST_CASE("cross_entropy over [N, C, d1, d2] and unbatched [C] matches PyTorch", "[loss]") {
  Fixtures fx("loss.txt");
  // ignore_index 1 is a real class here: those positions are skipped.
  Tensor x = leaf_of(fx["ce_sp_x"]);
  Tensor loss = cross_entropy(x, fx["ce_sp_t"], fx["ce_sp_w"], 1, Reduction::Mean, 0.3);
  CHECK(allclose(loss, fx["ce_sp_mean_out"], 1e-6, 1e-9));
  loss.backward(cos_upstream({}));
  CHECK(allclose(x.grad(), fx["ce_sp_mean_dx"], 1e-6, 1e-9));

  Tensor y = leaf_of(fx["ce_sp_x"]);
  Tensor per_position = cross_entropy(y, fx["ce_sp_t"], Tensor(), 1, Reduction::None, 0.1);
  CHECK(per_position.shape() == Shape{2, 2, 2});
  CHECK(allclose(per_position, fx["ce_sp_none_out"], 1e-6, 1e-9));
  per_position.backward(cos_upstream(per_position.shape()));
  CHECK(allclose(y.grad(), fx["ce_sp_none_dx"], 1e-6, 1e-9));

  Tensor u = leaf_of(fx["ce_un_x"]);
  Tensor single = cross_entropy(u, scalar_tensor(2, kInt64), Tensor(), -100, Reduction::Mean, 0.1);
  CHECK(single.dim() == 0);
  CHECK(allclose(single, fx["ce_un_out"], 1e-6, 1e-9));
  single.backward(cos_upstream({}));
  CHECK(allclose(u.grad(), fx["ce_un_dx"], 1e-6, 1e-9));
}

TEST_CASE("cross_entropy with probability targets matches PyTorch in input and target", "[loss]") {
  Fixtures fx("loss.txt");
  for (std::string red : {"none", "mean", "sum"}) {
    INFO(red);
    Tensor x = leaf_of(fx["ce_p_x"]), q = transposed_copy(fx["ce_p_t"]);
    Tensor loss = cross_entropy(x, q, fx["ce_w"], -100, reduction_of(red), 0.1);
    CHECK(allclose(loss, fx["ce_p_" + red + "_out"], 1e-6, 1e-9));
    loss.backward(cos_upstream(loss.shape()));
    CHECK(allclose(x.grad(), fx["ce_p_" + red + "_dx"], 1e-6, 1e-9));
    CHECK(allclose(q.grad(), fx["ce_p_" + red + "_dt"], 1e-6, 1e-9));
  }
}

TEST_CASE("nll_loss matches PyTorch", "[loss]") {
  Fixtures fx("loss.txt");
  for (std::string red : {"none", "mean", "sum"}) {
    INFO(red);
    Tensor x = transposed_copy(fx["nll_x"]);
    Tensor loss = nll_loss(x, fx["ce_t"], fx["ce_w"], -100, reduction_of(red));
    CHECK(allclose(loss, fx["nll_" + red + "_out"], 1e-6, 1e-9));
    loss.backward(cos_upstream(loss.shape()));
    CHECK(allclose(x.grad(), fx["nll_" + red + "_dx"], 1e-6, 1e-9));
  }
}

TEST_CASE("mse_loss, l1_loss and binary_cross_entropy_with_logits match PyTorch", "[loss]") {
  Fixtures fx("loss.txt");
  auto check = [&](const std::string& name, const Tensor& loss, const Tensor& a, const Tensor& b,
                   const char* da, const char* db) {
    INFO(name);
    CHECK(allclose(loss, fx[name + "_out"], 1e-6, 1e-9));
    loss.backward(cos_upstream(loss.shape()));
    CHECK(allclose(a.grad(), fx[name + da], 1e-6, 1e-9));
    CHECK(allclose(b.grad(), fx[name + db], 1e-6, 1e-9));
  };
  for (std::string red : {"none", "mean"}) {
    Tensor a = leaf_of(fx["el_a"]), b = transposed_copy(fx["el_b"]);
    check("mse_" + red, mse_loss(a, b, reduction_of(red)), a, b, "_da", "_db");
  }
  Tensor a = transposed_copy(fx["el_a"]), b = leaf_of(fx["el_b"]);
  check("l1_sum", l1_loss(a, b, Reduction::Sum), a, b, "_da", "_db");

  for (std::string red : {"none", "mean"}) {
    Tensor x = leaf_of(fx["bce_x"]), t = transposed_copy(fx["bce_t"]);
    // weight [3, 1] and pos_weight [4] broadcast over the [3, 4] input.
    check("bce_" + red,
          binary_cross_entropy_with_logits(x, t, fx["bce_w"], fx["bce_pw"], reduction_of(red)), x,
          t, "_dx", "_dt");
  }
  Tensor x = leaf_of(fx["bce_x"]), t = leaf_of(fx["bce_t"]);
  check("bce_plain", binary_cross_entropy_with_logits(x, t), x, t, "_dx", "_dt");
}

// ---------------------------------------------------------------- gradchecks

TEST_CASE("gradcheck: cross_entropy with class indices, weights, ignore_index, smoothing",
          "[loss]") {
  manual_seed(10);
  Tensor target = tensor({3, -100, 0, 2, 1});
  Tensor weight = rand({4}, kFloat64) + 0.5;
  for (Reduction red : kReductions) {
    for (double ls : {0.0, 0.3, 1.0}) {
      for (bool weighted : {false, true}) {
        INFO("reduction " << static_cast<int>(red) << " smoothing " << ls << " weighted "
                          << weighted);
        Tensor w = weighted ? weight : Tensor();
        check_gradients(
            [&](const std::vector<Tensor>& in) {
              return cross_entropy(in[0], target, w, -100, red, ls);
            },
            {transposed_leaf({5, 4}, 2.0)});
      }
    }
  }
  // [N, C, d1, d2] through a permuted (non-contiguous) input, ignore_index a real class.
  Tensor spatial_target =
      from_vector(std::vector<int64_t>{0, 2, 1, 1, 1, 2, 2, 0, 0, 1, 2, 0}, {2, 2, 3});
  Tensor x = leaf({2, 2, 3, 3}).permute({0, 3, 1, 2}).detach().requires_grad_();  // [2, 3, 2, 3]
  REQUIRE_FALSE(x.is_contiguous());
  for (Reduction red : kReductions) {
    check_gradients(
        [&](const std::vector<Tensor>& in) {
          return cross_entropy(in[0], spatial_target, weight.slice(0, 0, 3), 1, red, 0.2);
        },
        {x});
  }
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return cross_entropy(in[0], scalar_tensor(1, kInt64), Tensor(), -100, Reduction::Sum, 0.1);
      },
      {leaf({6})});
}

TEST_CASE("gradcheck: cross_entropy with probability targets in input and target", "[loss]") {
  manual_seed(11);
  Tensor weight = rand({4}, kFloat64) + 0.5;
  for (Reduction red : kReductions) {
    for (double ls : {0.0, 0.25}) {
      INFO("reduction " << static_cast<int>(red) << " smoothing " << ls);
      // Non-contiguous target: every other column of a [3, 8] tensor.
      Tensor q = rand({3, 8}, kFloat64).slice(1, 0, std::nullopt, 2).requires_grad_();
      check_gradients(
          [&](const std::vector<Tensor>& in) {
            return cross_entropy(in[0], in[1], weight, -100, red, ls);
          },
          {transposed_leaf({3, 4}), q});
    }
  }
  // [N, C, d] with the class dim in the middle.
  Tensor q = rand({2, 3, 5}, kFloat64).requires_grad_();
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return cross_entropy(in[0], in[1], Tensor(), -100, Reduction::Mean, 0.1);
      },
      {leaf({2, 3, 5}), q});
}

TEST_CASE("gradcheck: nll_loss", "[loss]") {
  manual_seed(12);
  Tensor target = tensor({1, 0, -1, 2});
  Tensor weight = rand({3}, kFloat64) + 0.5;
  for (Reduction red : kReductions) {
    for (bool weighted : {false, true}) {
      check_gradients(
          [&](const std::vector<Tensor>& in) {
            return nll_loss(in[0], target, weighted ? weight : Tensor(), -1, red);
          },
          {transposed_leaf({4, 3})});
    }
  }
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return nll_loss(in[0], tensor({{0, 2}, {1, 1}}), Tensor(), -100, Reduction::Mean);
      },
      {strided_leaf({2, 3, 2})});
}

TEST_CASE("gradcheck: mse_loss, l1_loss and bce with logits in input and target", "[loss]") {
  manual_seed(13);
  for (Reduction red : kReductions) {
    INFO("reduction " << static_cast<int>(red));
    check_gradients([red](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], red); },
                    {transposed_leaf({3, 4}), strided_leaf({3, 4})});
    check_gradients([red](const std::vector<Tensor>& in) { return l1_loss(in[0], in[1], red); },
                    {strided_leaf({2, 3}), leaf({2, 3})});
    Tensor t = rand({3, 4}, kFloat64).requires_grad_();
    Tensor w_row = rand({4}, kFloat64) + 0.5, w_col = rand({3, 1}, kFloat64) + 0.5;
    Tensor pw = rand({4}, kFloat64) * 3.0;
    check_gradients(
        [&](const std::vector<Tensor>& in) {
          return binary_cross_entropy_with_logits(in[0], in[1], w_row, pw, red);
        },
        {transposed_leaf({3, 4}, 3.0), t});
    check_gradients(
        [&](const std::vector<Tensor>& in) {
          return binary_cross_entropy_with_logits(in[0], in[1], w_col, Tensor(), red);
        },
        {strided_leaf({3, 4}, 3.0), t});
  }
}

// ---------------------------------------------------------------- semantics

TEST_CASE("an all-ignored or empty mean is NaN, as in PyTorch", "[loss]") {
  Tensor x = leaf({3, 4});
  Tensor ignored = full({3}, -100, kInt64);
  Tensor ce = cross_entropy(x, ignored);
  CHECK(std::isnan(ce.item()));
  CHECK(std::isnan(cross_entropy(x, ignored, Tensor(), -100, Reduction::Mean, 0.1).item()));
  CHECK(std::isnan(nll_loss(x, ignored).item()));
  CHECK(cross_entropy(x, ignored, Tensor(), -100, Reduction::Sum).item() == 0.0);
  ce.backward();
  CHECK(allclose(x.grad(), zeros({3, 4}, kFloat64)));  // ignored positions get no gradient

  CHECK(std::isnan(cross_entropy(zeros({0, 3}), zeros({0}, kInt64)).item()));
  CHECK(std::isnan(cross_entropy(zeros({0, 3}), zeros({0, 3})).item()));
  CHECK(std::isnan(mse_loss(zeros({0}), zeros({0})).item()));
  CHECK(cross_entropy(zeros({0, 3}), zeros({0}, kInt64), Tensor(), -100, Reduction::None).shape() ==
        Shape{0});
}

TEST_CASE("cross_entropy is stable for huge logits and runs rows in parallel", "[loss]") {
  Tensor big = tensor({{1000.0, 0.0, -1000.0}});
  CHECK(cross_entropy(big, tensor({0})).item() == Approx(0.0).margin(1e-6));
  CHECK(cross_entropy(big, tensor({2})).item() == Approx(2000.0));

  // 512 x 100 = 51200 elements: above kParallelGrain. Reference: -log_softmax at the target.
  manual_seed(14);
  Tensor x = randn({512, 100}).requires_grad_();
  Tensor target = randint(0, 100, {512});
  Tensor loss = cross_entropy(x, target);
  std::vector<float> logp = log_softmax(x.detach(), 1).to_vector<float>();
  std::vector<int64_t> t = target.to_vector<int64_t>();
  double expected = 0;
  for (int64_t n = 0; n < 512; ++n) expected -= logp[n * 100 + t[n]];
  CHECK(loss.item() == Approx(expected / 512).epsilon(1e-5));
  loss.backward();
  // dx = (softmax - one_hot) / N
  Tensor one_hot = zeros({512, 100});
  float* p = one_hot.data_ptr<float>();
  for (int64_t n = 0; n < 512; ++n) p[n * 100 + t[n]] = 1.0f;
  CHECK(allclose(x.grad(), (softmax(x.detach(), 1) - one_hot) / 512.0, 1e-4, 1e-8));
}

TEST_CASE("loss outputs record their backward entries", "[loss]") {
  Tensor x = leaf({2, 3}), t = leaf({2, 3});
  CHECK(std::string(cross_entropy(x, tensor({0, 1})).grad_fn()->name()) == "CrossEntropyBackward0");
  CHECK(std::string(nll_loss(x, tensor({0, 1})).grad_fn()->name()) == "NllLossBackward0");
  CHECK(std::string(mse_loss(x, t).grad_fn()->name()) == "MseLossBackward0");
  CHECK(std::string(l1_loss(x, t).grad_fn()->name()) == "L1LossBackward0");
  CHECK(std::string(binary_cross_entropy_with_logits(x, t).grad_fn()->name()) ==
        "BinaryCrossEntropyWithLogitsBackward0");
  // The target alone may require grad.
  Tensor input = randn({2, 3}, kFloat64);
  mse_loss(input, t, Reduction::Sum).backward();
  CHECK(allclose(t.grad(), (t.detach() - input) * 2.0));
}

// ---------------------------------------------------------------- errors

TEST_CASE("cross_entropy and nll_loss reject bad targets, weights and arguments", "[loss]") {
  Tensor x = zeros({3, 5});
  // Out of range: names the value, the position and the class count.
  CHECK_THROWS_WITH(cross_entropy(x, tensor({0, 7, 1})),
                    Catch::Contains("cross_entropy") && Catch::Contains("target 7") &&
                        Catch::Contains("position [1]") && Catch::Contains("[0, 5)"));
  CHECK_THROWS_WITH(nll_loss(zeros({2, 3, 2}), tensor({{0, 1}, {-1, 2}})),
                    Catch::Contains("nll_loss") && Catch::Contains("target -1") &&
                        Catch::Contains("position [1, 0]"));
  // Float targets where indices are needed.
  CHECK_THROWS_WITH(cross_entropy(x, zeros({3})),
                    Catch::Contains("cross_entropy") && Catch::Contains("float32") &&
                        Catch::Contains("[3]") && Catch::Contains("[3, 5]") &&
                        Catch::Contains("int64"));
  CHECK_THROWS_WITH(nll_loss(x, zeros({3})), Catch::Contains("nll_loss") &&
                                                 Catch::Contains("int64") &&
                                                 Catch::Contains("float32"));
  CHECK_THROWS_WITH(cross_entropy(x, zeros({3}, kBool)),
                    Catch::Contains("cross_entropy") && Catch::Contains("bool"));
  // Shape mismatches.
  CHECK_THROWS_WITH(cross_entropy(x, tensor({0, 1})), Catch::Contains("cross_entropy") &&
                                                          Catch::Contains("[2]") &&
                                                          Catch::Contains("[3, 5]"));
  CHECK_THROWS_WITH(cross_entropy(zeros({2, 3, 4}), zeros({2, 3}, kInt64)),
                    Catch::Contains("[2, 3]") && Catch::Contains("[2, 4]"));
  CHECK_THROWS_WITH(cross_entropy(x, zeros({3, 5}, kInt64)),
                    Catch::Contains("cross_entropy") && Catch::Contains("[3, 5]"));
  CHECK_THROWS_WITH(cross_entropy(x, zeros({5, 3})), Catch::Contains("cross_entropy") &&
                                                         Catch::Contains("[5, 3]") &&
                                                         Catch::Contains("probabilities"));
  CHECK_THROWS_WITH(cross_entropy(scalar_tensor(1.0), scalar_tensor(0, kInt64)),
                    Catch::Contains("cross_entropy") && Catch::Contains("0-d"));
  CHECK_THROWS_WITH(cross_entropy(zeros({3, 0}), zeros({3}, kInt64)),
                    Catch::Contains("cross_entropy") && Catch::Contains("[3, 0]"));
  CHECK_THROWS_WITH(cross_entropy(zeros({3, 5}, kInt64), tensor({0, 1, 2})),
                    Catch::Contains("cross_entropy") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(cross_entropy(x, Tensor()), Catch::Contains("target is undefined"));
  // Weights of the wrong size or dtype.
  CHECK_THROWS_WITH(
      cross_entropy(x, tensor({0, 1, 2}), ones({4})),
      Catch::Contains("cross_entropy") && Catch::Contains("[5]") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(nll_loss(x, tensor({0, 1, 2}), ones({1, 5})),
                    Catch::Contains("nll_loss") && Catch::Contains("[1, 5]"));
  CHECK_THROWS_WITH(cross_entropy(x, tensor({0, 1, 2}), ones({5}, kFloat64)),
                    Catch::Contains("weight") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(cross_entropy(x, zeros({3, 5}), ones({3})),
                    Catch::Contains("cross_entropy") && Catch::Contains("[3]"));
  // label_smoothing outside [0, 1].
  CHECK_THROWS_WITH(cross_entropy(x, tensor({0, 1, 2}), Tensor(), -100, Reduction::Mean, 1.5),
                    Catch::Contains("cross_entropy") && Catch::Contains("label_smoothing") &&
                        Catch::Contains("1.5"));
  CHECK_THROWS_WITH(cross_entropy(x, zeros({3, 5}), Tensor(), -100, Reduction::Mean, -0.1),
                    Catch::Contains("label_smoothing") && Catch::Contains("-0.1"));
  // Probability targets: no ignore_index, same dtype as the input.
  CHECK_THROWS_WITH(cross_entropy(x, zeros({3, 5}), Tensor(), 2),
                    Catch::Contains("cross_entropy") && Catch::Contains("ignore_index"));
  CHECK_THROWS_WITH(cross_entropy(x, zeros({3, 5}, kFloat64)), Catch::Contains("cross_entropy") &&
                                                                   Catch::Contains("float64") &&
                                                                   Catch::Contains("float32"));
}

TEST_CASE("elementwise losses reject mismatched shapes, dtypes and weights", "[loss]") {
  CHECK_THROWS_WITH(mse_loss(zeros({2, 3}), zeros({3, 2})), Catch::Contains("mse_loss") &&
                                                                Catch::Contains("[2, 3]") &&
                                                                Catch::Contains("[3, 2]"));
  CHECK_THROWS_WITH(l1_loss(zeros({2, 3}), zeros({3})), Catch::Contains("l1_loss") &&
                                                            Catch::Contains("[2, 3]") &&
                                                            Catch::Contains("[3]"));
  CHECK_THROWS_WITH(mse_loss(zeros({2}), zeros({2}, kFloat64)), Catch::Contains("mse_loss") &&
                                                                    Catch::Contains("float64") &&
                                                                    Catch::Contains("float32"));
  CHECK_THROWS_WITH(l1_loss(zeros({2}, kInt64), zeros({2}, kInt64)),
                    Catch::Contains("l1_loss") && Catch::Contains("int64"));
  const char* op = "binary_cross_entropy_with_logits";
  CHECK_THROWS_WITH(binary_cross_entropy_with_logits(zeros({3, 4}), zeros({4, 3})),
                    Catch::Contains(op) && Catch::Contains("[4, 3]") && Catch::Contains("[3, 4]"));
  CHECK_THROWS_WITH(binary_cross_entropy_with_logits(zeros({3, 4}), zeros({3, 4}), ones({5})),
                    Catch::Contains(op) && Catch::Contains("[5]") && Catch::Contains("[3, 4]"));
  CHECK_THROWS_WITH(
      binary_cross_entropy_with_logits(zeros({3, 4}), zeros({3, 4}), ones({2, 3, 4})),
      Catch::Contains(op) && Catch::Contains("weight") && Catch::Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(
      binary_cross_entropy_with_logits(zeros({3, 4}), zeros({3, 4}), Tensor(), ones({3})),
      Catch::Contains(op) && Catch::Contains("[3]") && Catch::Contains("[3, 4]"));
  CHECK_THROWS_WITH(
      binary_cross_entropy_with_logits(zeros({3, 4}), zeros({3, 4}), Tensor(), ones({4}, kFloat64)),
      Catch::Contains("pos_weight") && Catch::Contains("float64"));
}

TEST_CASE("nll_loss and cross_entropy_loss in libtorch's ATen argument order", "[loss]") {
  manual_seed(2);
  Tensor logits = randn({4, 3});
  Tensor target = tensor<int64_t>({0, 2, 1, 2});
  Tensor log_probs = log_softmax(logits, 1);
  CHECK(allclose(nll_loss(log_probs, target, {}, Reduction::Sum),
                 nll_loss(log_probs, target, {}, -100, Reduction::Sum)));
  CHECK(allclose(nll_loss(log_probs, tensor<int64_t>({0, 2, 1, -1}), {}, kMean, -1),
                 nll_loss(log_probs, tensor<int64_t>({0, 2, 1, -1}), {}, -1, kMean)));
  CHECK(allclose(cross_entropy_loss(logits, target, {}, kSum, -100, 0.1),
                 cross_entropy(logits, target, {}, -100, kSum, 0.1)));
  CHECK(allclose(cross_entropy_loss(logits, target), cross_entropy(logits, target)));
}
