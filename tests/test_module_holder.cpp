// nn::ModuleHolder and MINIDL_MODULE (nn/module_holder.h): libtorch's module handles --
// construction from arguments, empty handles, shared copies, calls, register_module.
#include "nn/container.h"
#include "nn/linear.h"
#include "nn/module_holder.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;

namespace {

// A handle of an existing layer, as MINIDL_MODULE would define it.
using LinearHandle = nn::ModuleHolder<nn::Linear>;

struct TwoLayerImpl : nn::Module {
  explicit TwoLayerImpl(int64_t hidden = 8) : Module("TwoLayer") {
    fc1 = register_module("fc1", LinearHandle(4, hidden));
    fc2 = register_module("fc2", LinearHandle(hidden, 2));
  }
  Tensor forward(const Tensor& x) override { return fc2(relu(fc1->forward(x))); }
  LinearHandle fc1{nullptr}, fc2{nullptr};
};
MINIDL_MODULE(TwoLayer);

// A module with no default arguments, and a forward of two tensors.
struct PairSumImpl : nn::Module {
  explicit PairSumImpl(double scale) : Module("PairSum"), scale(scale) {}
  Tensor forward(const Tensor& a, const Tensor& b) { return (a + b) * scale; }
  double scale;
};
MINIDL_MODULE(PairSum);

}  // namespace

TEST_CASE("a handle is built like its module and called like a function", "[module_holder]") {
  manual_seed(0);
  TwoLayer net;  // default arguments
  REQUIRE_FALSE(net.is_empty());
  CHECK(static_cast<bool>(net));
  Tensor x = randn({3, 4});
  Tensor y = net(x);
  CHECK(y.shape() == Shape{3, 2});
  CHECK(allclose(y, net->forward(x)));
  CHECK(allclose(y, (*net).forward(x)));
  CHECK(net->parameters().size() == 4);

  TwoLayer wide(16);  // constructor arguments
  CHECK(wide->fc1->weight.shape() == Shape{16, 4});
  PairSum pair(2.0);  // any forward signature
  CHECK(allclose(pair(ones({2}), ones({2})), full({2}, 4.0)));
}

TEST_CASE("register_module with a handle: the member and the child are one module",
          "[module_holder]") {
  TwoLayer net;
  const auto children = net->named_children();
  REQUIRE(children.size() == 2);
  CHECK(children[0].first == "fc1");
  CHECK(children[0].second.get() == net->fc1.ptr().get());
  const nn::StateDict params = net->named_parameters();
  REQUIRE(params.size() == 4);
  CHECK(params[0].first == "fc1.weight");
  CHECK(params[3].first == "fc2.bias");
  // A change through the member is seen through the parent, and the other way round.
  net->eval();
  CHECK_FALSE(net->fc1->is_training());
}

TEST_CASE("copies of a handle share the module; a shared_ptr converts to a handle",
          "[module_holder]") {
  LinearHandle a(3, 2);
  LinearHandle b = a;
  CHECK(b.ptr() == a.ptr());
  b->train(false);
  CHECK_FALSE(a->is_training());
  auto module = std::make_shared<nn::Linear>(5, 1);
  LinearHandle c = module;  // the std::make_shared style still works
  CHECK(c.get() == module.get());
  LinearHandle empty{nullptr};
  empty = a;  // assigned later, as a member is
  CHECK(empty.ptr() == a.ptr());
}

TEST_CASE("an empty handle raises an error naming the module type", "[module_holder]") {
  LinearHandle fc{nullptr};
  CHECK(fc.is_empty());
  CHECK_FALSE(static_cast<bool>(fc));
  CHECK_THROWS_WITH(fc(ones({1, 3})), Catch::Contains("minidl::nn::Linear") &&
                                          Catch::Contains("empty") &&
                                          Catch::Contains("register_module"));
  CHECK_THROWS_WITH(fc->forward(ones({1, 3})), Catch::Contains("empty"));
  CHECK_THROWS_WITH(fc.ptr(), Catch::Contains("empty"));
  PairSum pair{nullptr};
  CHECK_THROWS_WITH(pair(ones({1}), ones({1})), Catch::Contains("PairSumImpl"));
}

TEST_CASE("a handle of a container indexes it", "[module_holder]") {
  nn::ModuleHolder<nn::Sequential> seq(std::make_shared<nn::Linear>(4, 3),
                                       std::make_shared<nn::Linear>(3, 2));
  CHECK(seq->size() == 2);
  CHECK(seq[1]->type_name() == "Linear");
  CHECK(seq(ones({1, 4})).shape() == Shape{1, 2});
}
