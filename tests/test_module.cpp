// nn::Module (nn/module.cpp): registration, dotted names, train/eval, to(dtype), state_dict.
#include "nn/module.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;

namespace {
struct Affine : nn::Module {
  Affine(int64_t in, int64_t out, bool bias = true) : Module("Affine") {
    weight = register_parameter("weight", randn({out, in}));
    this->bias = register_parameter("bias", bias ? zeros({out}) : Tensor());
    steps = register_buffer("steps", zeros({}, kInt64));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = matmul(x, weight.t());
    return bias.defined() ? y + bias : y;
  }
  std::string extra_repr() const override { return "in=" + std::to_string(weight.size(1)); }
  Tensor weight, bias, steps;
};

struct Net : nn::Module {
  Net() : Module("Net") {
    encoder = register_module("encoder", std::make_shared<Affine>(3, 4));
    head = register_module("head", std::make_shared<Affine>(4, 2, false));
  }
  Tensor forward(const Tensor& x) override { return (*head)(relu((*encoder)(x))); }
  std::shared_ptr<Affine> encoder, head;
};
}  // namespace

TEST_CASE("parameters have PyTorch's dotted names in registration order", "[module]") {
  Net net;
  std::vector<std::string> names;
  for (const auto& [name, t] : net.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"encoder.weight", "encoder.bias", "head.weight"});
  CHECK(net.parameters().size() == 3);
  CHECK(net.num_parameters() == 12 + 4 + 8);
  CHECK(net.named_buffers().size() == 2);
  CHECK(net.state_dict().size() == 5);
  CHECK(net.children().size() == 2);
  CHECK(net.named_modules().size() == 3);
  CHECK(net.named_modules()[1].first == "encoder");
  for (const Tensor& p : net.parameters()) CHECK(p.requires_grad());
  CHECK_FALSE(net.named_buffers()[0].second.requires_grad());
}

TEST_CASE("forward, backward and zero_grad through a module tree", "[module]") {
  manual_seed(0);
  Net net;
  Tensor loss = net(randn({5, 3})).pow(2.0).sum();
  loss.backward();
  for (const Tensor& p : net.parameters()) CHECK(p.grad().defined());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("train and eval propagate to submodules", "[module]") {
  Net net;
  CHECK(net.encoder->is_training());
  net.eval();
  CHECK_FALSE(net.encoder->is_training());
  net.train();
  CHECK(net.head->is_training());
  int visited = 0;
  net.apply([&](nn::Module&) { ++visited; });
  CHECK(visited == 3);
}

TEST_CASE("state_dict round trip and strict loading errors", "[module]") {
  manual_seed(1);
  Net a, b;
  CHECK_FALSE(allclose(a.encoder->weight, b.encoder->weight));
  b.load_state_dict(a.state_dict());
  CHECK(allclose(a.encoder->weight, b.encoder->weight, 0, 0));
  CHECK_FALSE(b.encoder->weight.shares_storage(a.encoder->weight));  // values copied

  nn::StateDict missing = a.state_dict();
  missing.erase(missing.begin());
  CHECK_THROWS_WITH(b.load_state_dict(missing), Catch::Contains("missing key(s): encoder.weight"));
  b.load_state_dict(missing, /*strict=*/false);

  nn::StateDict extra = a.state_dict();
  extra.emplace_back("decoder.weight", zeros({1}));
  CHECK_THROWS_WITH(b.load_state_dict(extra), Catch::Contains("unexpected key(s): decoder.weight"));

  nn::StateDict wrong = a.state_dict();
  wrong[0].second = zeros({4, 4});
  CHECK_THROWS_WITH(b.load_state_dict(wrong, false),
                    Catch::Contains("size mismatch for encoder.weight") &&
                        Catch::Contains("[4, 4]") && Catch::Contains("[4, 3]"));
}

TEST_CASE("to(dtype) converts in place and keeps handles valid", "[module]") {
  Net net;
  Tensor w = net.encoder->weight;
  net.to(kFloat64);
  CHECK(w.dtype() == kFloat64);
  CHECK(net.encoder->weight.dtype() == kFloat64);
  CHECK(w.requires_grad());
  CHECK(net.named_buffers()[0].second.dtype() == kInt64);  // integer buffers are left alone
  CHECK(net(randn({2, 3}, kFloat64)).dtype() == kFloat64);
  CHECK_THROWS_WITH(net.to(kInt64), Catch::Contains("floating"));
}

TEST_CASE("registration errors and printing", "[module]") {
  nn::Module m("Custom");
  m.register_parameter("w", zeros({2}));
  CHECK_THROWS_WITH(m.register_parameter("w", zeros({2})), Catch::Contains("registered twice"));
  CHECK_THROWS_WITH(m.register_parameter("a.b", zeros({2})), Catch::Contains("'.'"));
  CHECK_THROWS_WITH(m(zeros({1})), Catch::Contains("Custom") && Catch::Contains("forward"));
  Net net;
  CHECK(net.to_string() == "Net(\n  (encoder): Affine(in=3)\n  (head): Affine(in=4)\n)");
}

TEST_CASE("a rejected state_dict leaves the module untouched", "[module]") {
  manual_seed(2);
  Net a, b;
  Tensor before = b.encoder->weight.clone();
  nn::StateDict bad = a.state_dict();
  bad.back().second = zeros({7});  // the last entry has the wrong shape
  CHECK_THROWS_WITH(b.load_state_dict(bad), Catch::Contains("size mismatch"));
  CHECK(allclose(b.encoder->weight, before, 0, 0));
  nn::StateDict unexpected = a.state_dict();
  unexpected.emplace_back("extra", zeros({1}));
  CHECK_THROWS(b.load_state_dict(unexpected));
  CHECK(allclose(b.encoder->weight, before, 0, 0));
}

TEST_CASE("Module::to(device): the CPU is accepted, other devices are an error naming them",
          "[module]") {
  nn::Linear fc(2, 3);
  Tensor before = fc.weight;
  fc.to(Device(kCPU));
  fc.to(kCPU);
  fc.to(Device("cpu"), kFloat64);
  CHECK(fc.weight.dtype() == kFloat64);
  CHECK(fc.weight.is_same(before));  // converted in place: handles stay valid
  CHECK_THROWS_WITH(fc.to(Device("cuda:0")), Catch::Contains("Module::to") &&
                                                 Catch::Contains("cuda:0") &&
                                                 Catch::Contains("CPU only"));
  CHECK_THROWS_WITH(fc.to(kCUDA), Catch::Contains("CPU only"));
}
