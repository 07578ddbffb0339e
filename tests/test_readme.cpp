// The README's "Building models" example, compiled and run: if this breaks, so does the README.
#include "minidl.h"
#include "tests/test_util.h"

using namespace minidl;

namespace {
struct Net : nn::Module {
  Net() : Module("Net") {
    conv = register_module("conv", std::make_shared<nn::Conv2d>(1, 8, 3, 1, 1));
    fc = register_module("fc", std::make_shared<nn::Linear>(8 * 14 * 14, 10));
  }
  Tensor forward(const Tensor& x) override {
    return (*fc)(max_pool2d(relu((*conv)(x)), 2).flatten(1));
  }
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::Linear> fc;
};
}  // namespace

TEST_CASE("the README's model example trains and reloads", "[readme]") {
  manual_seed(0);
  minidl::testing::TempDir dir;
  std::string path = dir.file("net.safetensors");
  {
    Net trained;
    nn::save_state_dict(trained, path);
  }
  auto net = std::make_shared<Net>();
  nn::load_state_dict(*net, path);

  Tensor images = randn({32, 1, 28, 28});
  Tensor labels = randint(0, 10, {32});
  nn::DataLoader loader(std::make_shared<nn::TensorDataset>(images, labels), 8, true);
  optim::Adam optimizer(net->parameters(), optim::AdamOptions(1e-3));
  double first = 0, last = 0;
  for (int epoch = 0; epoch < 5; ++epoch) {
    double total = 0;
    for (const nn::Example& batch : loader) {
      optimizer.zero_grad();
      Tensor loss = cross_entropy((*net)(batch.data), batch.target);
      loss.backward();
      optimizer.step();
      total += loss.item();
    }
    (epoch == 0 ? first : last) = total;
  }
  CHECK(last < first);
  std::string table = nn::summary(*net, images.narrow(0, 0, 4));
  CHECK_THAT(table, Catch::Contains("conv (Conv2d)") && Catch::Contains("[4, 8, 28, 28]") &&
                        Catch::Contains("fc (Linear)") && Catch::Contains("[4, 10]"));
}
