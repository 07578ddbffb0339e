// Layers of nn/linear.*, nn/embedding.*, nn/activation.*, nn/dropout.* and the bilinear op
// (ops/linalg_extra.*): PyTorch fixtures with the same weights, gradchecks, init bounds, printing
// and errors.
#include <cmath>

#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "ops/linalg_extra.h"
#include "tests/fixture.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

// Loads fx[name_p_<key>] into the module (converted to float64), runs `call` on the fixture
// inputs, and compares the output and the gradients of (out * up).sum() with PyTorch's.
void check_module(const Fixtures& fx, const std::string& name, nn::Module& module,
                  const std::vector<std::string>& input_names,
                  const std::function<Tensor(const std::vector<Tensor>&)>& call) {
  module.to(kFloat64);
  nn::StateDict state;
  for (const auto& [key, t] : module.state_dict()) state.emplace_back(key, fx[name + "_p_" + key]);
  module.load_state_dict(state);
  std::vector<Tensor> inputs;
  for (const std::string& input : input_names) {
    Tensor t = fx[name + "_" + input].clone();
    if (t.is_floating_point()) t.requires_grad_();
    inputs.push_back(t);
  }
  Tensor out = call(inputs);
  INFO(name);
  CHECK(allclose(out, fx[name + "_out"], 1e-10, 1e-12));
  (out * fx[name + "_up"]).sum().backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].is_floating_point()) continue;
    INFO("d" << input_names[i]);
    REQUIRE(inputs[i].grad().defined());
    CHECK(allclose(inputs[i].grad(), fx[name + "_d" + input_names[i]], 1e-10, 1e-12));
  }
  for (const auto& [key, p] : module.named_parameters()) {
    INFO("parameter " << key);
    REQUIRE(p.grad().defined());
    CHECK(allclose(p.grad(), fx[name + "_dp_" + key], 1e-10, 1e-12));
  }
}

Tensor single(nn::Module& m, const std::vector<Tensor>& in) {
  return m(in[0]);
}

}  // namespace

// ---------------------------------------------------------------- Linear

TEST_CASE("Linear matches PyTorch with and without bias, on 2-D and 3-D inputs", "[nnlayers]") {
  Fixtures fx("nnlayers.txt");
  nn::Linear with_bias(3, 4);
  check_module(fx, "linear", with_bias, {"x"}, [&](auto& in) { return single(with_bias, in); });
  nn::Linear no_bias(3, 2, /*bias=*/false);
  CHECK_FALSE(no_bias.bias.defined());
  CHECK(no_bias.named_parameters().size() == 1);
  check_module(fx, "linear_nobias3d", no_bias, {"x"},
               [&](auto& in) { return single(no_bias, in); });
}

TEST_CASE("Linear: parameters, default init bounds, printing", "[nnlayers]") {
  manual_seed(3);
  nn::Linear layer(50, 200);
  auto params = layer.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[0].second.shape() == Shape{200, 50});
  CHECK(params[1].first == "bias");
  CHECK(params[1].second.shape() == Shape{200});
  // kaiming_uniform_(a = sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)); so is the bias.
  const double bound = 1.0 / std::sqrt(50.0);
  CHECK(layer.weight.abs().max().item() <= bound);
  CHECK(layer.weight.abs().max().item() > 0.95 * bound);
  CHECK(layer.bias.abs().max().item() <= bound);
  CHECK(layer.bias.abs().max().item() > 0.9 * bound);
  // U(-b, b) has standard deviation b / sqrt(3).
  CHECK(layer.weight.std().item() == Approx(bound / std::sqrt(3.0)).epsilon(0.03));
  CHECK(std::fabs(layer.weight.mean().item()) < 0.1 * bound);
  CHECK(layer.weight.requires_grad());
  CHECK(layer.weight.is_leaf());
  CHECK(layer.to_string() == "Linear(in_features=50, out_features=200, bias=True)");
  CHECK(nn::Linear(3, 4, false).to_string() == "Linear(in_features=3, out_features=4, bias=False)");
}

TEST_CASE("Linear gradcheck on a tiny float64 instance with non-contiguous input", "[nnlayers]") {
  manual_seed(4);
  nn::Linear layer(3, 2);
  layer.to(kFloat64);
  check_gradients([&](const std::vector<Tensor>& in) { return layer(in[0]); },
                  {transposed_leaf({4, 3}), layer.weight, layer.bias});
  check_gradients([&](const std::vector<Tensor>& in) { return layer(in[0]); },
                  {strided_leaf({2, 2, 3}), layer.weight, layer.bias});
}

TEST_CASE("Linear errors name the module and the shapes", "[nnlayers]") {
  nn::Linear layer(3, 4);
  CHECK_THROWS_WITH(layer(zeros({2, 5})),
                    Catch::Contains("Linear") && Catch::Contains("[2, 5]") && Catch::Contains("3"));
  CHECK_THROWS_WITH(layer(zeros({}, kFloat32)), Catch::Contains("Linear") && Catch::Contains("[]"));
  CHECK_THROWS_WITH(layer(zeros({2, 3}, kFloat64)), Catch::Contains("Linear") &&
                                                        Catch::Contains("float64") &&
                                                        Catch::Contains("float32"));
  CHECK_THROWS_WITH(layer(zeros({2, 3}, kInt64)),
                    Catch::Contains("Linear") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(nn::Linear(-1, 2), Catch::Contains("Linear") && Catch::Contains("-1"));
}

// ---------------------------------------------------------------- Bilinear

TEST_CASE("Bilinear matches PyTorch", "[nnlayers]") {
  Fixtures fx("nnlayers.txt");
  nn::Bilinear layer(3, 4, 2);
  check_module(fx, "bilinear", layer, {"x1", "x2"},
               [&](const std::vector<Tensor>& in) { return layer(in[0], in[1]); });
  CHECK(layer.to_string() == "Bilinear(in1_features=3, in2_features=4, out_features=2, bias=True)");
  CHECK(layer.weight.shape() == Shape{2, 3, 4});
}

TEST_CASE("Bilinear: default init bounds and a module gradcheck", "[nnlayers]") {
  manual_seed(9);
  nn::Bilinear big(25, 6, 40);
  const double bound = 1.0 / std::sqrt(25.0);  // 1 / sqrt(in1_features), weight and bias
  CHECK(big.weight.abs().max().item() <= bound);
  CHECK(big.weight.abs().max().item() > 0.98 * bound);
  CHECK(big.bias.abs().max().item() <= bound);
  CHECK(big.weight.std().item() == Approx(bound / std::sqrt(3.0)).epsilon(0.05));
  nn::Bilinear tiny(2, 3, 2, /*bias=*/false);
  CHECK(tiny.named_parameters().size() == 1);
  tiny.to(kFloat64);
  check_gradients([&](const std::vector<Tensor>& in) { return tiny(in[0], in[1]); },
                  {transposed_leaf({2, 2, 2}), leaf({2, 2, 3}), tiny.weight});
}

TEST_CASE("bilinear op: gradcheck in every argument, non-contiguous and batched", "[nnlayers]") {
  manual_seed(5);
  auto f = [](const std::vector<Tensor>& in) { return bilinear(in[0], in[1], in[2], in[3]); };
  check_gradients(f, {leaf({4, 3}), leaf({4, 2}), leaf({5, 3, 2}), leaf({5})});
  check_gradients(f, {transposed_leaf({3, 2, 3}), strided_leaf({3, 2, 2}),
                      transposed_leaf({2, 3, 2}), strided_leaf({2})});
  check_gradients([](const std::vector<Tensor>& in) { return bilinear(in[0], in[1], in[2]); },
                  {leaf({3}), leaf({2}), leaf({4, 3, 2})});
  // Only some inputs requiring grad.
  Tensor x1 = randn({4, 3}, kFloat64), x2 = leaf({4, 2}), weight = randn({5, 3, 2}, kFloat64);
  Tensor y = bilinear(x1, x2, weight);
  y.sum().backward();
  CHECK(x2.grad().defined());
  // Value check against the definition: y[n, o] = sum_ij x1[n, i] W[o, i, j] x2[n, j].
  Tensor expected =
      (x1.unsqueeze(1).unsqueeze(3) * weight.unsqueeze(0) * x2.unsqueeze(1).unsqueeze(2))
          .sum({2, 3});
  CHECK(allclose(y, expected, 1e-12, 1e-12));
}

TEST_CASE("Bilinear and bilinear errors", "[nnlayers]") {
  nn::Bilinear layer(3, 4, 2);
  CHECK_THROWS_WITH(layer(zeros({5, 3}), zeros({5, 5})),
                    Catch::Contains("Bilinear") && Catch::Contains("[5, 5]"));
  CHECK_THROWS_WITH(layer(zeros({5, 2}), zeros({5, 4})),
                    Catch::Contains("Bilinear") && Catch::Contains("[5, 2]"));
  CHECK_THROWS_WITH(layer(zeros({5, 3})),
                    Catch::Contains("Bilinear") && Catch::Contains("forward"));
  CHECK_THROWS_WITH(
      bilinear(zeros({5, 3}), zeros({4, 4}), zeros({2, 3, 4})),
      Catch::Contains("bilinear") && Catch::Contains("[5, 3]") && Catch::Contains("[4, 4]"));
  CHECK_THROWS_WITH(bilinear(zeros({5, 3}), zeros({5, 4}), zeros({2, 3})),
                    Catch::Contains("bilinear") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(bilinear(zeros({5, 3}), zeros({5, 4}), zeros({2, 3, 4}), zeros({3})),
                    Catch::Contains("bilinear") && Catch::Contains("[3]"));
  CHECK_THROWS_WITH(bilinear(zeros({5, 3}), zeros({5, 4}, kFloat64), zeros({2, 3, 4})),
                    Catch::Contains("bilinear") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(
      bilinear(zeros({5, 3}, kInt64), zeros({5, 4}, kInt64), zeros({2, 3, 4}, kInt64)),
      Catch::Contains("bilinear") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(bilinear(zeros({5, 2}), zeros({5, 4}), zeros({2, 3, 4})),
                    Catch::Contains("bilinear") && Catch::Contains("[2, 3, 4]"));
}

// ---------------------------------------------------------------- Identity, Flatten, Unflatten

TEST_CASE("Identity, Flatten and Unflatten reshape like PyTorch", "[nnlayers]") {
  nn::Identity identity;
  Tensor x = leaf({2, 3, 4, 5});
  CHECK(identity(x).is_same(x));
  CHECK(identity.to_string() == "Identity()");

  nn::Flatten flatten;
  CHECK(flatten(x).shape() == Shape{2, 60});
  CHECK(nn::Flatten(0, 2)(x).shape() == Shape{24, 5});
  CHECK(flatten.to_string() == "Flatten(start_dim=1, end_dim=-1)");
  nn::Unflatten unflatten(1, {3, 20});
  Tensor y = unflatten(flatten(x));
  CHECK(y.shape() == Shape{2, 3, 20});
  CHECK(allclose(y.reshape({2, 3, 4, 5}), x, 0, 0));
  CHECK(unflatten.to_string() == "Unflatten(dim=1, unflattened_size=(3, 20))");
  CHECK(nn::Unflatten(1, {6}).to_string() == "Unflatten(dim=1, unflattened_size=(6,))");
  y.sum().backward();
  CHECK(allclose(x.grad(), ones_like(x), 0, 0));
  check_gradients([&](const std::vector<Tensor>& in) { return unflatten(flatten(in[0])) * 2.0; },
                  {transposed_leaf({2, 3, 4, 5})});
  CHECK(flatten(zeros({2, 3})).shape() == Shape{2, 3});
  CHECK_THROWS_WITH(nn::Flatten(3)(zeros({2, 3})),
                    Catch::Contains("flatten") && Catch::Contains("3"));
  CHECK_THROWS_WITH(nn::Unflatten(1, {4, 4})(zeros({2, 6})),
                    Catch::Contains("unflatten") && Catch::Contains("6"));
  CHECK_THROWS_WITH(nn::Unflatten(1, {}), Catch::Contains("Unflatten"));
}

// ---------------------------------------------------------------- Embedding

TEST_CASE("Embedding matches PyTorch; the padding row gets no gradient", "[nnlayers]") {
  Fixtures fx("nnlayers.txt");
  nn::Embedding table(6, 3, /*padding_idx=*/1);
  check_module(fx, "embedding", table, {"x"}, [&](auto& in) { return single(table, in); });
  Tensor padding_grad = table.weight.grad().select(0, 1);
  CHECK(allclose(padding_grad, zeros({3}, kFloat64), 0, 0));
  CHECK(table.to_string() == "Embedding(6, 3, padding_idx=1)");
}

TEST_CASE("Embedding init, padding_idx, from_pretrained, gradcheck and errors", "[nnlayers]") {
  manual_seed(6);
  nn::Embedding table(400, 8, -1);
  CHECK(table.padding_idx == 399);
  CHECK(table.to_string() == "Embedding(400, 8, padding_idx=399)");
  CHECK(allclose(table.weight.select(0, 399), zeros({8}), 0, 0));
  Tensor rest = table.weight.narrow(0, 0, 399);
  CHECK(std::fabs(rest.mean().item()) < 0.05);  // N(0, 1)
  CHECK(rest.std().item() == Approx(1.0).epsilon(0.05));
  CHECK(nn::Embedding(10, 3).to_string() == "Embedding(10, 3)");

  Tensor pretrained = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}});
  auto frozen = nn::Embedding::from_pretrained(pretrained);
  CHECK_FALSE(frozen->weight.requires_grad());
  CHECK(allclose((*frozen)(tensor({2, 0})), tensor({{5.0, 6.0}, {1.0, 2.0}}), 0, 0));
  CHECK(nn::Embedding::from_pretrained(pretrained, false)->weight.requires_grad());
  CHECK_FALSE(frozen->weight.shares_storage(pretrained));
  // from_pretrained draws no random numbers.
  manual_seed(60);
  nn::Embedding::from_pretrained(pretrained, true, 0);
  Tensor after = randn({3});
  manual_seed(60);
  CHECK(allclose(after, randn({3}), 0, 0));

  // (The padding row is constant, so finite differences would see a gradient the tape rightly
  // does not give; it is left out of the indices here and checked against PyTorch above.)
  nn::Embedding small(5, 2, 2);
  small.to(kFloat64);
  Tensor indices = tensor({{0, 3, 3}, {4, 0, 1}});
  check_gradients([&](const std::vector<Tensor>&) { return small(indices); }, {small.weight});

  CHECK_THROWS_WITH(small(zeros({2}, kFloat32)), Catch::Contains("Embedding") &&
                                                     Catch::Contains("float32") &&
                                                     Catch::Contains("[2]"));
  CHECK_THROWS_WITH(small(tensor({1, 5})), Catch::Contains("embedding") && Catch::Contains("5"));
  CHECK_THROWS_WITH(nn::Embedding(5, 2, 5),
                    Catch::Contains("Embedding") && Catch::Contains("padding_idx 5"));
  CHECK_THROWS_WITH(nn::Embedding(5, 2, -6), Catch::Contains("Embedding") && Catch::Contains("-6"));
  CHECK_THROWS_WITH(nn::Embedding::from_pretrained(zeros({3, 2}, kInt64)),
                    Catch::Contains("from_pretrained") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(nn::Embedding::from_pretrained(zeros({3})),
                    Catch::Contains("from_pretrained") && Catch::Contains("[3]"));
}

// ---------------------------------------------------------------- activations

TEST_CASE("activation modules match PyTorch", "[nnlayers]") {
  Fixtures fx("nnlayers.txt");
  nn::LeakyReLU leaky(0.2);
  check_module(fx, "leaky_relu", leaky, {"x"}, [&](auto& in) { return single(leaky, in); });
  nn::ELU elu_module(0.5);
  check_module(fx, "elu", elu_module, {"x"}, [&](auto& in) { return single(elu_module, in); });
  nn::GELU gelu_tanh("tanh");
  check_module(fx, "gelu_tanh", gelu_tanh, {"x"}, [&](auto& in) { return single(gelu_tanh, in); });
  nn::Softmax softmax_module(0);
  check_module(fx, "softmax", softmax_module, {"x"},
               [&](auto& in) { return single(softmax_module, in); });
  nn::LogSoftmax log_softmax_module(1);
  check_module(fx, "log_softmax", log_softmax_module, {"x"},
               [&](auto& in) { return single(log_softmax_module, in); });
}

TEST_CASE("activation modules: values, gradcheck, printing, errors", "[nnlayers]") {
  manual_seed(7);
  Tensor x = tensor({-2.0, -0.5, 0.0, 1.5});
  CHECK(allclose(nn::ReLU()(x), tensor({0.0, 0.0, 0.0, 1.5}), 0, 0));
  CHECK(allclose(nn::Tanh()(x), tanh(x), 0, 0));
  CHECK(allclose(nn::Sigmoid()(x), sigmoid(x), 0, 0));
  CHECK(allclose(nn::GELU()(x), gelu(x), 0, 0));
  CHECK(allclose(nn::LeakyReLU()(x), tensor({-0.02, -0.005, 0.0, 1.5})));

  std::vector<std::shared_ptr<nn::Module>> modules = {
      std::make_shared<nn::ReLU>(),      std::make_shared<nn::LeakyReLU>(0.1),
      std::make_shared<nn::ELU>(),       std::make_shared<nn::GELU>(),
      std::make_shared<nn::Tanh>(),      std::make_shared<nn::Sigmoid>(),
      std::make_shared<nn::Softmax>(-1), std::make_shared<nn::LogSoftmax>(0)};
  for (const auto& m : modules) {
    INFO(m->type_name());
    check_gradients([&](const std::vector<Tensor>& in) { return (*m)(in[0]); },
                    {transposed_leaf({3, 4})});
    CHECK_THROWS_WITH((*m)(zeros({2}, kInt64)),
                      Catch::Contains(m->type_name()) && Catch::Contains("int64"));
  }
  CHECK(nn::ReLU().to_string() == "ReLU()");
  CHECK(nn::LeakyReLU().to_string() == "LeakyReLU(negative_slope=0.01)");
  CHECK(nn::LeakyReLU(1e-5).to_string() == "LeakyReLU(negative_slope=1e-05)");
  CHECK(nn::ELU().to_string() == "ELU(alpha=1.0)");
  CHECK(nn::GELU().to_string() == "GELU(approximate='none')");
  CHECK(nn::GELU("tanh").to_string() == "GELU(approximate='tanh')");
  CHECK(nn::Tanh().to_string() == "Tanh()");
  CHECK(nn::Sigmoid().to_string() == "Sigmoid()");
  CHECK(nn::Softmax(1).to_string() == "Softmax(dim=1)");
  CHECK(nn::LogSoftmax(-1).to_string() == "LogSoftmax(dim=-1)");
  CHECK(nn::python_float(0.1) == "0.1");
  CHECK(nn::python_float(2.0) == "2.0");
  CHECK(nn::python_float(1.0 / 3.0) == "0.3333333333333333");
  CHECK_THROWS_WITH(nn::GELU("fast"), Catch::Contains("GELU") && Catch::Contains("fast"));
  CHECK_THROWS_WITH(nn::Softmax(2)(zeros({2, 2})), Catch::Contains("softmax"));
}

// ---------------------------------------------------------------- Dropout

TEST_CASE("Dropout respects train/eval, scales survivors, prints like PyTorch", "[nnlayers]") {
  manual_seed(8);
  nn::Dropout drop(0.25);
  Tensor x = ones({100, 100});
  Tensor y = drop(x);
  const double kept = y.ne(zeros_like(y)).to(kFloat64).mean().item();
  CHECK(kept == Approx(0.75).margin(0.02));
  CHECK(y.max().item() == Approx(1.0 / 0.75));
  drop.eval();
  CHECK(drop(x).is_same(x));
  drop.train();
  CHECK_FALSE(drop(x).is_same(x));
  CHECK(drop.to_string() == "Dropout(p=0.25, inplace=False)");
  CHECK(nn::Dropout().to_string() == "Dropout(p=0.5, inplace=False)");
  // Gradient: the mask scaled by 1 / (1 - p).
  Tensor z = leaf({50});
  Tensor out = drop(z);
  out.sum().backward();
  CHECK(allclose(z.grad(), out.detach().ne(zeros_like(out)).to(kFloat64) / 0.75, 1e-12, 1e-12));
  CHECK_THROWS_WITH(nn::Dropout(1.5), Catch::Contains("Dropout") && Catch::Contains("1.5"));
  CHECK_THROWS_WITH(nn::Dropout(-0.1), Catch::Contains("Dropout") && Catch::Contains("-0.1"));
}
