// PyTorch interop: models built and initialized in PyTorch (tools/fixtures/gen_interop.py), their
// state_dicts saved as safetensors files, load unchanged into the same architectures built from
// minidl modules, which reproduce PyTorch's outputs and the gradients of every parameter and
// float input (float32, to 1e-5).
#include <algorithm>
#include <memory>

#include "nn/activation.h"
#include "nn/container.h"
#include "nn/conv.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "nn/rnn.h"
#include "nn/safetensors.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;
using minidl::testing::allclose;
using minidl::testing::Fixtures;

namespace {

const Fixtures& fixtures() {
  static const Fixtures fx("interop.txt");
  return fx;
}

std::string fixture_file(const std::string& name) {
  return std::string(MINIDL_FIXTURE_DIR) + "/" + name;
}

constexpr double kTolerance = 1e-5;

// Runs `forward` on fx[<name>_x] (a leaf if it is floating), checks the output against
// fx[<name>_out], backpropagates (out * up).sum() and checks the input's and every parameter's
// gradient against fx[<name>_dx] and fx[<name>_d.<parameter>].
template <typename Forward>
void check_model(const std::string& name, nn::Module& model, Forward forward) {
  const Fixtures& fx = fixtures();
  Tensor x = fx[name + "_x"].clone();
  const bool float_input = x.is_floating_point();
  if (float_input) x.requires_grad_();
  Tensor out = forward(x);
  CHECK(out.dtype() == kFloat32);
  CHECK(allclose(out, fx[name + "_out"], kTolerance, kTolerance));
  (out * fx[name + "_up"]).sum().backward();
  if (float_input) {
    INFO(name << " input gradient");
    REQUIRE(x.grad().defined());
    CHECK(allclose(x.grad(), fx[name + "_dx"], kTolerance, kTolerance));
  }
  int checked = 0;
  for (const auto& [parameter, value] : model.named_parameters()) {
    INFO(name << " gradient of " << parameter);
    REQUIRE(value.grad().defined());
    CHECK(allclose(value.grad(), fx[name + "_d." + parameter], kTolerance, kTolerance));
    ++checked;
  }
  CHECK(checked > 0);
}

// PyTorch's nn.Sequential(Conv2d(1,4,3,padding=1), BatchNorm2d(4), ReLU(), MaxPool2d(2),
// Flatten(), Linear(64, 5)).
std::shared_ptr<nn::Sequential> make_cnn() {
  return std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(1, 4, 3, 1, 1), std::make_shared<nn::BatchNorm2d>(4),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(4 * 4 * 4, 5));
}

// Embedding -> LayerNorm -> h + Linear(GELU(Linear(h))) -> LayerNorm -> Linear: a Transformer
// block's feed-forward half with its residual, no attention.
struct TransformerIsh : nn::Module {
  TransformerIsh() : Module("TransformerIsh") {
    embed = register_module("embed", std::make_shared<nn::Embedding>(20, 16));
    norm1 = register_module("norm1", std::make_shared<nn::LayerNorm>(16));
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(16, 32));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(32, 16));
    norm2 = register_module("norm2", std::make_shared<nn::LayerNorm>(16));
    head = register_module("head", std::make_shared<nn::Linear>(16, 3));
  }
  Tensor forward(const Tensor& tokens) override {
    Tensor h = (*norm1)((*embed)(tokens));
    h = h + (*fc2)(gelu((*fc1)(h)));
    return (*head)((*norm2)(h));
  }
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::LayerNorm> norm1, norm2;
  std::shared_ptr<nn::Linear> fc1, fc2, head;
};

// A 2-layer batch-first LSTM and a Linear on every step's output.
struct LSTMHead : nn::Module {
  LSTMHead() : Module("LSTMHead") {
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(8, 12, 2, true, true));
    fc = register_module("fc", std::make_shared<nn::Linear>(12, 4));
  }
  Tensor forward(const Tensor& x) override { return (*fc)(std::get<0>(lstm->forward(x))); }
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> fc;
};

// Every tensor of the file reached the module unchanged (same values, same names).
void check_loaded(const nn::Module& model, const std::string& file) {
  nn::StateDict saved = nn::load_safetensors(file);
  nn::StateDict state = model.state_dict();
  CHECK(saved.size() == state.size());
  for (const auto& [name, value] : saved) {
    INFO(name);
    auto it =
        std::find_if(state.begin(), state.end(), [&](const auto& e) { return e.first == name; });
    REQUIRE(it != state.end());
    CHECK(it->second.dtype() == value.dtype());
    CHECK(allclose(it->second, value, 0.0, 0.0));
  }
}

}  // namespace

TEST_CASE("interop: a PyTorch Conv2d-BatchNorm-MaxPool-Linear net", "[interop]") {
  const Fixtures& fx = fixtures();
  const std::string file = fixture_file("interop_cnn.safetensors");
  manual_seed(0);
  auto cnn = make_cnn();
  nn::load_state_dict(*cnn, file);
  check_loaded(*cnn, file);

  // Training mode: batch statistics, and the running statistics move.
  cnn->train();
  check_model("cnn", *cnn, [&](const Tensor& x) { return (*cnn)(x); });
  for (const auto& [name, buffer] : cnn->named_buffers()) {
    INFO(name);
    CHECK(allclose(buffer, fx["cnn_after." + name], kTolerance, kTolerance));
  }
  CHECK(cnn->named_buffers().size() == 3);  // running_mean, running_var, num_batches_tracked

  // Eval mode uses the running statistics PyTorch had after the same forward.
  cnn->eval();
  NoGradGuard no_grad;
  CHECK(allclose((*cnn)(fx["cnn_x_eval"]), fx["cnn_out_eval"], kTolerance, kTolerance));
}

TEST_CASE("interop: a PyTorch Transformer-ish stack (Embedding, LayerNorm, GELU MLP)",
          "[interop]") {
  const std::string file = fixture_file("interop_transformer.safetensors");
  manual_seed(0);
  TransformerIsh model;
  nn::load_state_dict(model, file);
  check_loaded(model, file);
  check_model("transformer", model, [&](const Tensor& tokens) {
    CHECK(tokens.dtype() == kInt64);
    return model(tokens);
  });
}

TEST_CASE("interop: a PyTorch 2-layer LSTM with a Linear head", "[interop]") {
  const std::string file = fixture_file("interop_lstm.safetensors");
  manual_seed(0);
  LSTMHead model;
  nn::load_state_dict(model, file);
  check_loaded(model, file);
  check_model("lstm", model, [&](const Tensor& x) { return model(x); });
}

TEST_CASE("interop: a PyTorch file into the wrong architecture names the key", "[interop]") {
  manual_seed(0);
  TransformerIsh transformer;
  const std::string cnn_file = fixture_file("interop_cnn.safetensors");
  CHECK_THROWS_WITH(nn::load_state_dict(transformer, cnn_file),
                    Contains("load_state_dict") && Contains(cnn_file) &&
                        Contains("missing key(s): embed.weight") &&
                        Contains("unexpected key(s): 0.bias"));
  auto wider = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(1, 6, 3, 1, 1), std::make_shared<nn::BatchNorm2d>(6),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(6 * 4 * 4, 5));
  CHECK_THROWS_WITH(nn::load_state_dict(*wider, cnn_file), Contains("size mismatch for 0.weight") &&
                                                               Contains("[4, 1, 3, 3]") &&
                                                               Contains("[6, 1, 3, 3]"));
}
