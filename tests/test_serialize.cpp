// save / load (libtorch's torch::save / torch::load) for modules, optimizers and tensors.
#include "nn/serialize.h"

#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::TempDir;
using minidl::testing::write_bytes;

namespace {

struct NetImpl : nn::Module {
  NetImpl() : Module("Net") {
    fc1 = register_module("fc1", nn::ModuleHolder<nn::Linear>(3, 4));
    norm = register_module("norm", std::make_shared<nn::BatchNorm1d>(4));
    fc2 = register_module("fc2", nn::ModuleHolder<nn::Linear>(4, 2));
  }
  Tensor forward(const Tensor& x) override { return fc2(relu(norm->forward(fc1(x)))); }
  nn::ModuleHolder<nn::Linear> fc1{nullptr}, fc2{nullptr};
  std::shared_ptr<nn::BatchNorm1d> norm;
};
MINIDL_MODULE(Net);

// A few Adam steps on random data, so the optimizer has state and the batch norm running stats.
void train(Net& net, optim::Adam& adam, int steps) {
  for (int i = 0; i < steps; ++i) {
    adam.zero_grad();
    Tensor loss = net(randn({8, 3})).pow(2.0).mean();
    loss.backward();
    adam.step();
  }
}

}  // namespace

TEST_CASE("save/load: a module round-trips through a holder, a shared_ptr and a reference",
          "[serialize]") {
  TempDir dir;
  manual_seed(3);
  Net a;
  optim::Adam adam(a->parameters(), 0.01);
  train(a, adam, 3);
  save(a, dir.file("net.pt"));

  manual_seed(4);
  Net b;
  CHECK_FALSE(allclose(b->fc1->weight, a->fc1->weight));
  load(b, dir.file("net.pt"));
  for (const auto& [name, tensor] : a->state_dict()) {
    INFO(name);
    bool found = false;
    for (const auto& [other_name, other] : b->state_dict())
      if (other_name == name) {
        found = true;
        CHECK(allclose(other, tensor, 0, 0));
      }
    CHECK(found);
  }
  a->eval();
  b->eval();
  Tensor x = randn({5, 3});
  CHECK(allclose(b(x), a(x), 0, 0));

  // The same file through a shared_ptr and a plain reference.
  auto c = std::make_shared<NetImpl>();
  load(c, dir.file("net.pt"));
  CHECK(allclose(c->fc2->bias, a->fc2->bias, 0, 0));
  save(*c, dir.file("again.pt"));
  NetImpl d;
  load(d, dir.file("again.pt"));
  CHECK(allclose(d.fc2->weight, a->fc2->weight, 0, 0));
}

TEST_CASE("save/load: an optimizer resumes exactly", "[serialize]") {
  TempDir dir;
  manual_seed(5);
  Net reference;
  optim::Adam reference_adam(reference->parameters(), optim::AdamOptions(0.01).betas({0.8, 0.9}));
  train(reference, reference_adam, 2);
  save(reference, dir.file("model.pt"));
  save(reference_adam, dir.file("optimizer.pt"));
  manual_seed(6);
  train(reference, reference_adam, 2);

  Net resumed;
  optim::Adam resumed_adam(resumed->parameters(), optim::AdamOptions(0.01).betas({0.8, 0.9}));
  load(resumed, dir.file("model.pt"));
  load(resumed_adam, dir.file("optimizer.pt"));
  manual_seed(6);
  train(resumed, resumed_adam, 2);
  CHECK(allclose(resumed->fc1->weight, reference->fc1->weight, 0, 0));
  CHECK(allclose(resumed->fc2->bias, reference->fc2->bias, 0, 0));
  CHECK(resumed_adam.state(resumed->fc1->weight).step ==
        reference_adam.state(reference->fc1->weight).step);
}

TEST_CASE("save/load: tensors keep dtype, shape and values", "[serialize]") {
  TempDir dir;
  Tensor t = arange(6.0, kFloat64).view({2, 3}).t();  // non-contiguous
  save(t, dir.file("t.pt"));
  Tensor u;
  load(u, dir.file("t.pt"));
  CHECK(u.dtype() == kFloat64);
  CHECK(u.shape() == Shape{3, 2});
  CHECK(allclose(u, t, 0, 0));

  std::vector<Tensor> list{ones({2}), tensor<int64_t>({7, 8, 9})};
  save(list, dir.file("list.pt"));
  std::vector<Tensor> back;
  load(back, dir.file("list.pt"));
  REQUIRE(back.size() == 2);
  CHECK(back[1].dtype() == kInt64);
  CHECK(back[1].to_vector<int64_t>() == std::vector<int64_t>{7, 8, 9});
  CHECK_THROWS_WITH(load(u, dir.file("list.pt")),
                    Catch::Contains("holds 2 tensors") && Catch::Contains("std::vector<Tensor>"));
}

TEST_CASE("save/load: the wrong kind of file is an error that says what it holds", "[serialize]") {
  TempDir dir;
  Net net;
  optim::SGD sgd(net->parameters(), 0.1);  // a bare learning rate, as in libtorch
  save(net, dir.file("net.pt"));
  save(sgd, dir.file("sgd.pt"));
  save(ones({2}), dir.file("t.pt"));

  CHECK_THROWS_WITH(load(sgd, dir.file("net.pt")),
                    Catch::Contains("load") && Catch::Contains("a module's state_dict") &&
                        Catch::Contains("cannot be loaded into an optimizer"));
  CHECK_THROWS_WITH(load(net, dir.file("sgd.pt")), Catch::Contains("an optimizer's state"));
  optim::Adam adam(net->parameters());
  CHECK_THROWS_WITH(load(adam, dir.file("sgd.pt")),
                    Catch::Contains("state of a SGD optimizer") && Catch::Contains("Adam"));
  Tensor t;
  CHECK_THROWS_WITH(load(t, dir.file("net.pt")), Catch::Contains("a module's state_dict"));

  // A different architecture names the keys at fault and leaves the module unchanged.
  auto other = std::make_shared<nn::Linear>(3, 4);
  Tensor before = other->weight.clone();
  CHECK_THROWS_WITH(load(other, dir.file("net.pt")),
                    Catch::Contains("unexpected key(s)") && Catch::Contains("fc1.weight"));
  CHECK(allclose(other->weight, before, 0, 0));

  // A plain safetensors state_dict (as Python's safetensors.torch.save_file writes) loads.
  nn::save_safetensors(dir.file("plain.safetensors"), net->state_dict());
  Net copy;
  load(copy, dir.file("plain.safetensors"));
  CHECK(allclose(copy->fc1->weight, net->fc1->weight, 0, 0));

  // PyTorch's own archives are refused with what to do instead.
  write_bytes(dir.file("torch.pt"), std::string("PK\x03\x04rest of a zip", 18));
  CHECK_THROWS_WITH(
      load(net, dir.file("torch.pt")),
      Catch::Contains("PyTorch zip archive") && Catch::Contains("safetensors.torch.save_file"));
  write_bytes(dir.file("legacy.pt"), std::string("\x80\x02}q\x00.", 6));
  CHECK_THROWS_WITH(load(net, dir.file("legacy.pt")), Catch::Contains("PyTorch pickle archive"));
  CHECK_THROWS_WITH(load(net, dir.file("missing.pt")), Catch::Contains("cannot open"));
  Net empty{nullptr};
  CHECK_THROWS_WITH(save(empty, dir.file("x.pt")), Catch::Contains("handle is empty"));
  CHECK_THROWS_WITH(save(Tensor(), dir.file("x.pt")), Catch::Contains("undefined"));
}
