// Training checkpoints (nn/checkpoint.cpp): resuming gives bit-identical losses; truncated,
// corrupt and foreign files and mismatching models are clear errors that leave the model as it was.
#include "nn/checkpoint.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "core/generator.h"
#include "nn/activation.h"
#include "nn/container.h"
#include "nn/linear.h"
#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;
namespace fs = std::filesystem;
using minidl::testing::TempDir;
using minidl::testing::write_bytes;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), ca.numel() * ca.element_size()) == 0;
}

bool same_state(const nn::Module& a, const nn::Module& b) {
  nn::StateDict sa = a.state_dict(), sb = b.state_dict();
  if (sa.size() != sb.size()) return false;
  for (size_t i = 0; i < sa.size(); ++i)
    if (sa[i].first != sb[i].first || !same_bits(sa[i].second, sb[i].second)) return false;
  return true;
}

std::shared_ptr<nn::Sequential> make_mlp(int64_t out_features = 2) {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8),
                                          std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(8, out_features));
}

// A model, its Adam optimizer and StepLR schedule; initialized from the default generator.
struct Trainer {
  Trainer()
      : model(make_mlp()),
        optimizer(model->parameters(), optim::AdamOptions(0.05)),
        scheduler(optimizer, /*step_size=*/2, /*gamma=*/0.5) {}

  // One step on a batch drawn from the default generator; returns the loss before the update.
  float step() {
    Tensor x = randn({5, 4});
    Tensor y = randn({5, 2});
    optimizer.zero_grad();
    Tensor loss = ((*model)(x)-y).pow(2.0).mean();
    loss.backward();
    optimizer.step();
    scheduler.step();
    return loss.item<float>();
  }

  std::shared_ptr<nn::Sequential> model;
  optim::Adam optimizer;
  optim::StepLR scheduler;
};

// Three steps from seed 1, then a checkpoint at `path`; returns the trainer.
std::unique_ptr<Trainer> trained_checkpoint(const std::string& path) {
  manual_seed(1);
  auto trainer = std::make_unique<Trainer>();
  for (int i = 0; i < 3; ++i) trainer->step();
  nn::save_checkpoint(path, *trainer->model, trainer->optimizer, &trainer->scheduler, 3);
  return trainer;
}

}  // namespace

TEST_CASE("checkpoint: resumed training reproduces the losses bit for bit", "[interop]") {
  manual_seed(1);
  Trainer reference;
  std::vector<float> losses;
  for (int i = 0; i < 6; ++i) losses.push_back(reference.step());

  TempDir dir;
  manual_seed(1);
  std::string written;
  {
    Trainer first;
    for (int i = 0; i < 3; ++i) CHECK(first.step() == losses[i]);
    written = nn::save_checkpoint(dir.path.string(), *first.model, first.optimizer,
                                  &first.scheduler, 3, {{"epoch", "0"}, {"note", "three steps"}});
  }
  CHECK(written == dir.file("checkpoint.safetensors"));
  CHECK(nn::checkpoint_path(dir.path.string()) == written);
  CHECK(nn::checkpoint_path(dir.file("other.safetensors")) == dir.file("other.safetensors"));
  CHECK(nn::checkpoint_path("not/yet/") == "not/yet/checkpoint.safetensors");
  // Nothing but the checkpoint is left in the directory (the temporary file was renamed).
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);

  // A fresh trainer, initialized (and its generator moved) differently.
  manual_seed(12345);
  Trainer resumed;
  CHECK_FALSE(same_state(*resumed.model, *reference.model));
  nn::CheckpointInfo info =
      nn::load_checkpoint(dir.path.string(), *resumed.model, resumed.optimizer, &resumed.scheduler);
  CHECK(info.step == 3);
  CHECK(info.metadata == nn::Metadata{{"epoch", "0"}, {"note", "three steps"}});
  CHECK(resumed.scheduler.last_epoch() == 3);
  CHECK(resumed.optimizer.param_groups()[0].lr() == 0.025);
  for (int i = 3; i < 6; ++i) {
    INFO("step " << i);
    CHECK(resumed.step() == losses[i]);  // bit-identical, not approximately
  }
  CHECK(same_state(*resumed.model, *reference.model));
  CHECK(resumed.optimizer.param_groups()[0].lr() == reference.optimizer.param_groups()[0].lr());
}

TEST_CASE("checkpoint: the file is a safetensors file with the documented layout", "[interop]") {
  TempDir dir;
  const std::string path = dir.file("run.ckpt");
  auto trainer = trained_checkpoint(path);
  nn::Metadata metadata = nn::load_safetensors_metadata(path);
  CHECK(metadata.at("format") == "minidl.checkpoint");
  CHECK(metadata.at("version") == "1");
  CHECK(metadata.at("step") == "3");
  CHECK(metadata.at("optimizer") == "Adam");
  CHECK(metadata.at("scheduler") == "1");
  CHECK(metadata.at("optimizer.param_groups.0.lr") == "0.025000000000000001");
  CHECK(metadata.at("optimizer.state.0.step") == "3");
  CHECK(metadata.at("scheduler.last_epoch") == "3");
  CHECK(metadata.at("rng_state") == default_generator().get_state());

  nn::StateDict tensors = nn::load_safetensors(path);
  std::map<std::string, Tensor> by_name(tensors.begin(), tensors.end());
  CHECK(tensors.size() == 4 + 4 * 2);  // 4 model tensors, exp_avg and exp_avg_sq for each
  REQUIRE(by_name.count("model.0.weight"));
  CHECK(same_bits(by_name["model.0.weight"], trainer->model->state_dict()[0].second));
  CHECK(by_name.count("optimizer.state.3.exp_avg_sq"));

  // Without a scheduler, and with step 0 before any update: the state holds no tensors.
  manual_seed(2);
  Trainer fresh;
  nn::save_checkpoint(path, *fresh.model, fresh.optimizer, nullptr, 0);
  CHECK(nn::load_safetensors_metadata(path).at("scheduler") == "0");
  CHECK(nn::load_safetensors(path).size() == 4);
  Trainer other;
  CHECK(nn::load_checkpoint(path, *other.model, other.optimizer, nullptr).step == 0);
  CHECK(same_state(*other.model, *fresh.model));
}

TEST_CASE("checkpoint: extra tensors and metadata of the caller come back in CheckpointInfo",
          "[interop]") {
  // What a reinforcement-learning run adds: a replay buffer and a target network's weights.
  TempDir dir;
  const std::string path = dir.file("rl.ckpt");
  manual_seed(3);
  Trainer trainer;
  trainer.step();
  Tensor replay = arange(12.0).reshape({3, 4});
  Tensor counts = from_vector(std::vector<int64_t>{7, 9}, {2}, kInt64);
  nn::save_checkpoint(path, *trainer.model, trainer.optimizer, nullptr, 1, {{"episodes", "5"}},
                      {{"replay.observations", replay}, {"counts", counts}});
  CHECK(nn::load_safetensors_metadata(path).at("user.episodes") == "5");
  Trainer other;
  nn::CheckpointInfo info = nn::load_checkpoint(path, *other.model, other.optimizer, nullptr);
  CHECK(same_state(*other.model, *trainer.model));
  CHECK(info.metadata.at("episodes") == "5");
  REQUIRE(info.tensors.size() == 2);
  std::map<std::string, Tensor> by_name(info.tensors.begin(), info.tensors.end());
  REQUIRE(by_name.count("replay.observations"));
  CHECK(same_bits(by_name["replay.observations"], replay));
  CHECK(same_bits(by_name["counts"], counts));
}

TEST_CASE("checkpoint: truncated, corrupt and foreign files are clear errors", "[interop]") {
  TempDir dir;
  const std::string path = dir.file("good.ckpt");
  trained_checkpoint(path);
  const std::string bytes = read_bytes(path);
  manual_seed(7);
  Trainer target;
  const nn::StateDict before = [&] {
    nn::StateDict copy;
    for (const auto& [name, t] : target.model->state_dict()) copy.emplace_back(name, t.clone());
    return copy;
  }();
  auto load = [&](const std::string& file) {
    nn::load_checkpoint(file, *target.model, target.optimizer, &target.scheduler);
  };

  const std::string truncated_header = dir.file("truncated_header.ckpt");
  write_bytes(truncated_header, bytes.substr(0, 40));
  CHECK_THROWS_WITH(load(truncated_header), Contains("load_checkpoint") &&
                                                Contains(truncated_header) &&
                                                Contains("truncated or corrupt"));

  const std::string truncated_data = dir.file("truncated_data.ckpt");
  write_bytes(truncated_data, bytes.substr(0, bytes.size() - 10));
  CHECK_THROWS_WITH(load(truncated_data), Contains("load_checkpoint") && Contains(truncated_data) &&
                                              Contains("out of range"));

  const std::string tiny = dir.file("tiny.ckpt");
  write_bytes(tiny, "abc");
  CHECK_THROWS_WITH(load(tiny), Contains("load_checkpoint") && Contains("truncated file of 3"));

  std::string garbled = bytes;
  garbled[8] = '[';  // the header's opening brace
  const std::string corrupt = dir.file("corrupt.ckpt");
  write_bytes(corrupt, garbled);
  CHECK_THROWS_WITH(load(corrupt),
                    Contains("load_checkpoint") && Contains(corrupt) && Contains("not valid JSON"));

  CHECK_THROWS_WITH(load(dir.file("missing.ckpt")), Contains("load_checkpoint") &&
                                                        Contains("missing.ckpt") &&
                                                        Contains("cannot open"));

  const std::string plain = dir.file("plain.safetensors");
  nn::save_state_dict(*target.model, plain);
  CHECK_THROWS_WITH(load(plain), Contains("load_checkpoint") && Contains(plain) &&
                                     Contains("not a minidl checkpoint"));

  // Valid safetensors files whose checkpoint entries are wrong.
  const nn::StateDict tensors = nn::load_safetensors(path);
  const nn::Metadata metadata = nn::load_safetensors_metadata(path);
  auto with = [&](const std::string& key, const std::string& value) {
    nn::Metadata changed = metadata;
    if (value.empty())
      changed.erase(key);
    else
      changed[key] = value;
    const std::string file = dir.file("edited.ckpt");
    nn::save_safetensors(file, tensors, changed);
    return file;
  };
  CHECK_THROWS_WITH(load(with("version", "2")), Contains("unsupported checkpoint version \"2\""));
  CHECK_THROWS_WITH(load(with("step", "")), Contains("lacks the metadata entry \"step\""));
  CHECK_THROWS_WITH(load(with("step", "-3")), Contains("\"step\" must be a non-negative integer"));
  CHECK_THROWS_WITH(load(with("step", "2.5")), Contains("\"step\" must be a non-negative integer"));
  CHECK_THROWS_WITH(load(with("rng_state", "not a state")),
                    Contains("load_checkpoint") && Contains("invalid \"rng_state\""));
  CHECK_THROWS_WITH(load(with("optimizer.param_groups.0.lr", "0.1x")),
                    Contains("\"optimizer.param_groups.0.lr\" is not a number: \"0.1x\""));
  CHECK_THROWS_WITH(load(with("scheduler", "yes")),
                    Contains("\"scheduler\" must be \"0\" or \"1\""));
  nn::StateDict extra_tensor = tensors;
  extra_tensor.emplace_back("stray", zeros({2}));
  nn::save_safetensors(dir.file("stray.ckpt"), extra_tensor, metadata);
  CHECK_THROWS_WITH(load(dir.file("stray.ckpt")), Contains("unexpected tensor \"stray\""));

  // A failure in the optimizer's part puts the model back (it was loaded before).
  CHECK_THROWS_WITH(load(with("optimizer.param_groups.0.num_params", "5")),
                    Contains("load_checkpoint") && Contains(": optimizer: ") &&
                        Contains("has 4 parameters, the loaded state 5"));
  // ... and so does one in the scheduler's part.
  CHECK_THROWS_WITH(load(with("scheduler.last_epoch", "")),
                    Contains(": scheduler: ") && Contains("StepLR.load_state_dict"));
  nn::StateDict after = target.model->state_dict();
  for (size_t i = 0; i < before.size(); ++i) CHECK(same_bits(after[i].second, before[i].second));
  CHECK(target.optimizer.state(target.model->parameters()[0]).empty());
  CHECK(target.scheduler.last_epoch() == 0);
}

TEST_CASE("checkpoint: a different model, optimizer or scheduler is named", "[interop]") {
  TempDir dir;
  const std::string path = dir.file("mlp.ckpt");
  trained_checkpoint(path);

  SECTION("a layer of another shape names the key, and the model is left as it was") {
    manual_seed(3);
    auto model = make_mlp(3);
    optim::Adam adam(model->parameters(), optim::AdamOptions(0.05));
    optim::StepLR step_lr(adam, 2, 0.5);
    Tensor first_weight = model->state_dict()[0].second.clone();
    CHECK_THROWS_WITH(nn::load_checkpoint(path, *model, adam, &step_lr),
                      Contains("load_checkpoint") && Contains(path) && Contains("model") &&
                          Contains("size mismatch for 2.weight") && Contains("[2, 8]") &&
                          Contains("[3, 8]"));
    // 0.weight was copied before 2.weight failed: it was restored.
    CHECK(same_bits(model->state_dict()[0].second, first_weight));
  }
  SECTION("an extra layer names the missing keys") {
    manual_seed(3);
    auto model = make_mlp();
    model->push_back(std::make_shared<nn::Linear>(2, 2));
    optim::Adam adam(model->parameters(), optim::AdamOptions(0.05));
    optim::StepLR step_lr(adam, 2, 0.5);
    CHECK_THROWS_WITH(nn::load_checkpoint(path, *model, adam, &step_lr),
                      Contains("load_checkpoint") && Contains("missing key(s): 3.weight 3.bias"));
  }
  SECTION("another optimizer kind") {
    manual_seed(3);
    auto model = make_mlp();
    optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1));
    CHECK_THROWS_WITH(nn::load_checkpoint(path, *model, sgd, nullptr),
                      Contains("load_checkpoint") && Contains("Adam optimizer") &&
                          Contains("cannot be loaded into a SGD"));
  }
  SECTION("a scheduler is required exactly when one was saved") {
    manual_seed(3);
    Trainer trainer;
    CHECK_THROWS_WITH(nn::load_checkpoint(path, *trainer.model, trainer.optimizer, nullptr),
                      Contains("load_checkpoint") && Contains("no scheduler was given"));
    nn::save_checkpoint(path, *trainer.model, trainer.optimizer, nullptr, 0);
    CHECK_THROWS_WITH(
        nn::load_checkpoint(path, *trainer.model, trainer.optimizer, &trainer.scheduler),
        Contains("holds no scheduler state"));
  }
  SECTION("save errors") {
    manual_seed(3);
    Trainer trainer;
    CHECK_THROWS_WITH(nn::save_checkpoint(path, *trainer.model, trainer.optimizer, nullptr, -1),
                      Contains("save_checkpoint") && Contains("step must be non-negative, got -1"));
    CHECK_THROWS_WITH(nn::save_checkpoint(dir.file("no/such/dir/x.ckpt"), *trainer.model,
                                          trainer.optimizer, nullptr, 0),
                      Contains("save_checkpoint") && Contains("no/such/dir/x.ckpt"));
  }
}
