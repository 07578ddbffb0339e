// Sequential, ModuleList, ModuleDict (nn/container.*) and summary() (nn/summary.*).
#include "nn/activation.h"
#include "nn/container.h"
#include "nn/dropout.h"
#include "nn/functional_module.h"
#include "nn/linear.h"
#include "nn/rnn.h"
#include "nn/summary.h"
#include "tests/fixture.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::transposed_leaf;

namespace {

// A libtorch-style user module: its forward takes the tensor by value and does NOT override
// Module::forward, so only a call through the concrete type reaches it.
struct ScaleImpl : nn::Module {
  explicit ScaleImpl(double factor = 2.0) : Module("Scale"), factor(factor) {}
  Tensor forward(Tensor x) { return x * factor; }
  double factor;
};
MINIDL_MODULE(Scale);

}  // namespace

TEST_CASE("Sequential of Flatten/Linear/ReLU/Dropout(eval)/Linear matches PyTorch", "[nnlayers]") {
  Fixtures fx("nnlayers.txt");
  nn::Sequential seq(std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(12, 5),
                     std::make_shared<nn::ReLU>(), std::make_shared<nn::Dropout>(0.5),
                     std::make_shared<nn::Linear>(5, 3));
  std::vector<std::string> names;
  for (const auto& [name, t] : seq.state_dict()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"1.weight", "1.bias", "4.weight", "4.bias"});
  seq.eval();
  seq.to(kFloat64);
  nn::StateDict state;
  for (const auto& name : names) state.emplace_back(name, fx["sequential_p_" + name]);
  seq.load_state_dict(state);
  Tensor x = fx["sequential_x"].clone().requires_grad_();
  Tensor out = seq(x);
  CHECK(allclose(out, fx["sequential_out"], 1e-10, 1e-12));
  (out * fx["sequential_up"]).sum().backward();
  CHECK(allclose(x.grad(), fx["sequential_dx"], 1e-10, 1e-12));
  for (const auto& [name, p] : seq.named_parameters()) {
    INFO(name);
    CHECK(allclose(p.grad(), fx["sequential_dp_" + name], 1e-10, 1e-12));
  }
  // eval() reached the Dropout: a second run gives the same output.
  CHECK(allclose(seq(x), out, 0, 0));
}

TEST_CASE("Sequential: construction forms, indexing, printing, gradcheck", "[nnlayers]") {
  manual_seed(11);
  nn::Sequential seq(
      std::vector<nn::ModulePtr>{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::Tanh>()});
  seq.push_back(std::make_shared<nn::Linear>(4, 2));
  CHECK(seq.size() == 3);
  CHECK(seq[0]->type_name() == "Linear");
  CHECK(seq[-1]->type_name() == "Linear");
  CHECK(seq.at<nn::Linear>(2)->out_features == 2);
  CHECK_THROWS_WITH(seq.at<nn::Linear>(1),
                    Catch::Contains("Sequential") && Catch::Contains("Tanh"));
  CHECK_THROWS_WITH(seq[3], Catch::Contains("Sequential") && Catch::Contains("3"));
  CHECK_THROWS_WITH(seq[-4], Catch::Contains("Sequential") && Catch::Contains("-4"));
  CHECK(seq.to_string() ==
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): Tanh()\n"
        "  (2): Linear(in_features=4, out_features=2, bias=True)\n"
        ")");
  int count = 0;
  for (const auto& m : seq) count += m != nullptr;
  CHECK(count == 3);
  seq.to(kFloat64);
  std::vector<Tensor> inputs{transposed_leaf({5, 3})};
  for (const Tensor& p : seq.parameters()) inputs.push_back(p);
  check_gradients([&](const std::vector<Tensor>& in) { return seq(in[0]); }, inputs);

  nn::Sequential named(nn::NamedModules{{"fc", std::make_shared<nn::Linear>(2, 2)},
                                        {"act", std::make_shared<nn::ReLU>()}});
  CHECK(named.named_parameters()[0].first == "fc.weight");
  nn::Sequential empty;
  Tensor x = randn({2, 2});
  CHECK(empty(x).is_same(x));
  CHECK_THROWS_WITH(nn::Sequential(std::vector<nn::ModulePtr>{nullptr}),
                    Catch::Contains("Sequential") && Catch::Contains("null"));
  // A child's errors surface unchanged.
  CHECK_THROWS_WITH(seq(zeros({2, 5}, kFloat64)),
                    Catch::Contains("Linear") && Catch::Contains("[2, 5]"));
}

TEST_CASE("Sequential takes handles, shared_ptrs and functions, mixed", "[nnlayers]") {
  manual_seed(12);
  nn::ModuleHolder<nn::Linear> fc(3, 4);
  auto out = std::make_shared<nn::Linear>(4, 2);
  Scale scale(3.0);
  nn::Sequential seq(fc, relu, scale, out);
  CHECK(seq.size() == 4);
  CHECK(seq[1]->type_name() == "Functional");
  CHECK(seq[2]->type_name() == "Scale");
  CHECK(seq.named_parameters()[0].first == "0.weight");
  CHECK(seq.named_parameters()[2].first == "3.weight");
  Tensor x = randn({5, 3});
  // The user's non-virtual forward is the one called (Module::forward would throw).
  CHECK(allclose(seq(x), (*out)(relu(fc(x)) * 3.0), 0, 0));
  CHECK(seq[2].get() == scale.get());  // handles share their module

  nn::Sequential pushed;
  pushed.push_back(fc);
  pushed.push_back("act", [](const Tensor& t) { return leaky_relu(t, 0.5); });
  pushed.push_back(Scale(0.5));
  CHECK(pushed.named_children()[1].first == "act");
  CHECK(pushed.named_children()[2].first == "2");
  CHECK(allclose(pushed(x), leaky_relu(fc(x), 0.5) * 0.5, 0, 0));

  // Named entries, libtorch's Sequential({{"name", module}, ...}).
  nn::Sequential named({{"fc", fc}, {"scale", Scale(2.0)}, {"act", std::make_shared<nn::Tanh>()}});
  CHECK(named.named_parameters()[0].first == "fc.weight");
  CHECK(named.named_children()[1].first == "scale");
  CHECK(allclose(named(x), tanh(fc(x) * 2.0), 0, 0));

  // A module whose forward returns a tuple cannot run in a Sequential: the error names it.
  nn::Sequential recurrent(std::make_shared<nn::LSTM>(3, 4));
  CHECK_THROWS_WITH(recurrent(randn({2, 1, 3})), Catch::Contains("LSTM"));
  CHECK_THROWS_WITH(nn::Sequential(std::shared_ptr<nn::Linear>()),
                    Catch::Contains("Sequential") && Catch::Contains("null"));
}

TEST_CASE("Functional wraps a function, binding extra arguments after the input", "[nnlayers]") {
  Tensor x = randn({3, 4});
  nn::Functional plain(relu);
  CHECK(allclose(plain(x), relu(x), 0, 0));
  nn::Functional bound(leaky_relu, 0.2);
  CHECK(allclose(bound(x), leaky_relu(x, 0.2), 0, 0));
  nn::Functional lambda([](const Tensor& t, int64_t dim) { return softmax(t, dim); }, int64_t{0});
  CHECK(allclose(lambda(x), softmax(x, 0), 0, 0));
  CHECK(bound.to_string() == "Functional()");
  CHECK(bound.parameters().empty());
  CHECK_THROWS_WITH(nn::Functional(nn::Functional::Function()),
                    Catch::Contains("Functional") && Catch::Contains("empty"));
  // In a Sequential, as a handle.
  nn::ModuleHolder<nn::Functional> act(leaky_relu, 0.1);
  nn::Sequential seq(act, std::make_shared<nn::Functional>(sigmoid));
  CHECK(allclose(seq(x), sigmoid(leaky_relu(x, 0.1)), 0, 0));
}

TEST_CASE("Sequential nested in a module gives PyTorch's dotted names", "[nnlayers]") {
  struct Net : nn::Module {
    Net() : Module("Net") {
      features = register_module(
          "features", std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 3),
                                                       std::make_shared<nn::ReLU>()));
      head = register_module("head", std::make_shared<nn::Linear>(3, 2));
    }
    Tensor forward(const Tensor& x) override { return (*head)((*features)(x)); }
    std::shared_ptr<nn::Sequential> features;
    std::shared_ptr<nn::Linear> head;
  } net;
  std::vector<std::string> names;
  for (const auto& [name, t] : net.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"features.0.weight", "features.0.bias", "head.weight",
                                          "head.bias"});
  CHECK(net(randn({2, 4})).shape() == Shape{2, 2});
}

TEST_CASE("ModuleList holds modules by position", "[nnlayers]") {
  nn::ModuleList list({std::make_shared<nn::Linear>(2, 3), std::make_shared<nn::ReLU>()});
  list.append(std::make_shared<nn::Linear>(3, 1));
  list.extend({std::make_shared<nn::Sigmoid>()});
  CHECK(list.size() == 4);
  CHECK(list[-1]->type_name() == "Sigmoid");
  CHECK(list.at<nn::Linear>(2)->in_features == 3);
  CHECK(list.named_parameters()[2].first == "2.weight");
  CHECK(list.num_parameters() == 6 + 3 + 3 + 1);
  Tensor x = randn({4, 2});
  for (const auto& m : list) x = (*m)(x);
  CHECK(x.shape() == Shape{4, 1});
  CHECK(list.to_string() ==
        "ModuleList(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n"
        "  (2): Linear(in_features=3, out_features=1, bias=True)\n  (3): Sigmoid()\n)");
  CHECK_THROWS_WITH(list(x), Catch::Contains("ModuleList") && Catch::Contains("forward"));
  CHECK_THROWS_WITH(list[4], Catch::Contains("ModuleList") && Catch::Contains("4"));
  CHECK_THROWS_WITH(list.at<nn::Linear>(1),
                    Catch::Contains("ModuleList") && Catch::Contains("ReLU"));
}

TEST_CASE("ModuleDict holds modules by key in insertion order", "[nnlayers]") {
  nn::ModuleDict dict(
      {{"encoder", std::make_shared<nn::Linear>(2, 3)}, {"act", std::make_shared<nn::GELU>()}});
  dict.insert("decoder", std::make_shared<nn::Linear>(3, 2));
  CHECK(dict.size() == 3);
  CHECK(dict.keys() == std::vector<std::string>{"encoder", "act", "decoder"});
  CHECK(dict.values().size() == 3);
  CHECK(dict.contains("act"));
  CHECK_FALSE(dict.contains("missing"));
  CHECK(dict["decoder"]->type_name() == "Linear");
  CHECK(dict.at<nn::Linear>("encoder")->out_features == 3);
  CHECK(dict.named_parameters()[0].first == "encoder.weight");
  CHECK(dict.named_parameters()[2].first == "decoder.weight");
  CHECK(dict.to_string() ==
        "ModuleDict(\n  (encoder): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (act): GELU(approximate='none')\n"
        "  (decoder): Linear(in_features=3, out_features=2, bias=True)\n)");
  CHECK_THROWS_WITH(dict["missing"], Catch::Contains("ModuleDict") && Catch::Contains("missing") &&
                                         Catch::Contains("encoder, act, decoder"));
  CHECK_THROWS_WITH(dict.insert("act", std::make_shared<nn::ReLU>()),
                    Catch::Contains("act") && Catch::Contains("registered twice"));
  CHECK_THROWS_WITH(dict.insert("a.b", std::make_shared<nn::ReLU>()), Catch::Contains("'.'"));
  CHECK_THROWS_WITH(dict.at<nn::Linear>("act"),
                    Catch::Contains("ModuleDict") && Catch::Contains("GELU"));
}

TEST_CASE("summary lists each invoked layer with output shape and parameter counts", "[nnlayers]") {
  manual_seed(12);
  nn::Sequential model(std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(12, 16),
                       std::make_shared<nn::ReLU>(), std::make_shared<nn::Dropout>(0.1),
                       std::make_shared<nn::Linear>(16, 3));
  model.at<nn::Linear>(4)->bias.requires_grad_(false);
  std::string table = nn::summary(model, randn({2, 3, 4}));
  CHECK(table ==
        "Model: Sequential\n"
        "Layer (type)  Output Shape  Param #\n"
        "===================================\n"
        "0 (Flatten)   [2, 12]       0\n"
        "1 (Linear)    [2, 16]       208\n"
        "2 (ReLU)      [2, 16]       0\n"
        "3 (Dropout)   [2, 16]       0\n"
        "4 (Linear)    [2, 3]        51\n"
        "===================================\n"
        "Total params: 259\n"
        "Trainable params: 256\n"
        "Non-trainable params: 3\n");
  // Nested containers give dotted names; plain calls inside a custom forward are listed too.
  struct Net : nn::Module {
    Net() : Module("Net") {
      body = register_module("body",
                             std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 5),
                                                              std::make_shared<nn::Tanh>()));
      head = register_module("head", std::make_shared<nn::Linear>(5, 2));
    }
    Tensor forward(const Tensor& x) override { return (*head)((*body)(x)); }
    std::shared_ptr<nn::Sequential> body;
    std::shared_ptr<nn::Linear> head;
  } net;
  std::string nested = nn::summary(net, randn({7, 4}));
  CHECK_THAT(nested, Catch::Contains("body (Sequential)  [7, 5]        0\n"
                                     "body.0 (Linear)    [7, 5]        25\n"
                                     "body.1 (Tanh)      [7, 5]        0\n"
                                     "head (Linear)      [7, 2]        12\n"));
  CHECK_THAT(nested, Catch::Contains("Total params: 37"));
  // A failing forward propagates its error and leaves no recorder behind.
  CHECK_THROWS_WITH(nn::summary(model, randn({2, 5})),
                    Catch::Contains("Linear") && Catch::Contains("[2, 5]"));
  CHECK_THAT(nn::summary(model, randn({2, 3, 4})), Catch::Contains("4 (Linear)"));
}
