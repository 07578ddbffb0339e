// The attention-dqn-cartpole task (models/rl/cartpole_dqn_task.h) trained through models::train's
// interaction loop (models/common/interactive_training.h) in its smoke configuration: the logs
// and checkpoints, resume == uninterrupted (at an epoch's end and in the middle of one),
// evaluation, predict's episode trace and attention map, and the errors.
#include "models/rl/cartpole_dqn_task.h"

#include <filesystem>
#include <fstream>

#include "models/common/training.h"
#include "models/registry.h"
#include "nn/checkpoint.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using namespace minidl::models::rl;
using Catch::Contains;
using minidl::testing::TempDir;
namespace fs = std::filesystem;

namespace {

TrainOptions smoke_options(const std::string& dir, int64_t epochs) {
  TrainOptions o;
  o.model = "attention-dqn-cartpole";
  o.smoke = true;
  o.epochs = epochs;
  o.checkpoint_dir = dir;
  return o;
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::vector<float>> parameters_of(nn::Module& model) {
  std::vector<std::vector<float>> values;
  for (const Tensor& p : model.parameters()) values.push_back(p.to_vector<float>());
  return values;
}

}  // namespace

TEST_CASE("cartpole dqn: smoke training logs epochs and episodes and checkpoints everything",
          "[cartpole_dqn]") {
  TempDir dir;
  std::unique_ptr<Task> task = make_task("attention-dqn-cartpole");
  REQUIRE(task->interactive() != nullptr);
  const TrainResult r = train(*task, smoke_options(dir.path.string(), 2));
  CHECK(r.steps == 200);  // 2 epochs of 100 environment steps
  CHECK(r.epochs_completed == 2);
  CHECK(r.updates == 200 - 31);  // from the 32nd stored transition on
  CHECK(static_cast<int64_t>(r.losses.size()) == r.updates);
  for (double l : r.losses) CHECK(std::isfinite(l));
  CHECK(r.episodes > 2);
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].valid.front().first == "v0_mean_return");
  CHECK(r.best_metric == "v0_mean_return");
  CHECK_FALSE(r.solved);

  const std::vector<std::string> log = lines_of(dir.path / "log.csv");
  REQUIRE(log.size() == 3);
  CHECK(log[0] ==
        "epoch,step,train_loss,episodes,return_100,epsilon,valid_v0_mean_return,"
        "valid_v1_mean_return,valid_v0_solved,valid_v1_solved,elapsed_seconds");
  CHECK(log[2].rfind("2,200,", 0) == 0);
  const std::vector<std::string> episodes = lines_of(dir.path / "episodes.csv");
  CHECK(episodes[0] == "episode,step,return,length,elapsed_seconds");
  CHECK(static_cast<int64_t>(episodes.size()) == r.episodes + 1);

  // The checkpoint holds the task's state besides model and optimizer.
  const nn::Metadata metadata =
      nn::load_safetensors_metadata((dir.path / "checkpoint.safetensors").string());
  CHECK(metadata.at("user.interactive") == "1");
  CHECK(metadata.at("user.task.env_steps") == "200");
  CHECK(metadata.count("user.task.environment"));
  bool has_replay = false, has_target = false;
  for (const auto& [name, tensor] :
       nn::load_safetensors((dir.path / "checkpoint.safetensors").string())) {
    has_replay = has_replay || name == "user.task.replay.states";
    has_target = has_target || name.rfind("user.task.target.", 0) == 0;
  }
  CHECK(has_replay);
  CHECK(has_target);
}

TEST_CASE("cartpole dqn: a resumed run acts and learns exactly as an uninterrupted one",
          "[cartpole_dqn]") {
  TempDir whole_dir, split_dir, mid_dir;
  std::unique_ptr<Task> whole = make_task("attention-dqn-cartpole");
  const TrainResult reference = train(*whole, smoke_options(whole_dir.path.string(), 2));

  // Stopped at the end of epoch 1, resumed for epoch 2.
  std::unique_ptr<Task> first = make_task("attention-dqn-cartpole");
  const TrainResult part1 = train(*first, smoke_options(split_dir.path.string(), 1));
  std::unique_ptr<Task> second = make_task("attention-dqn-cartpole");
  TrainOptions resume = smoke_options(split_dir.path.string(), 2);
  resume.resume = true;
  const TrainResult part2 = train(*second, resume);
  std::vector<double> losses = part1.losses;
  losses.insert(losses.end(), part2.losses.begin(), part2.losses.end());
  CHECK(losses == reference.losses);
  CHECK(part2.episodes == reference.episodes);
  CHECK(parameters_of(second->model()) == parameters_of(whole->model()));
  CHECK(lines_of(split_dir.path / "episodes.csv").size() ==
        lines_of(whole_dir.path / "episodes.csv").size());

  // Stopped in the middle of epoch 2 (max_steps counts environment steps), resumed.
  std::unique_ptr<Task> a = make_task("attention-dqn-cartpole");
  TrainOptions stop = smoke_options(mid_dir.path.string(), 2);
  stop.max_steps = 150;
  const TrainResult early = train(*a, stop);
  CHECK(early.stopped_early);
  CHECK(early.steps == 150);
  std::unique_ptr<Task> b = make_task("attention-dqn-cartpole");
  TrainOptions go_on = smoke_options(mid_dir.path.string(), 2);
  go_on.resume = true;
  const TrainResult rest = train(*b, go_on);
  CHECK(rest.start_step == 150);
  std::vector<double> joined = early.losses;
  joined.insert(joined.end(), rest.losses.begin(), rest.losses.end());
  CHECK(joined == reference.losses);
  CHECK(parameters_of(b->model()) == parameters_of(whole->model()));
  // The log keeps the mid-epoch row, then the epoch's end, as in the epoch files.
  CHECK(lines_of(mid_dir.path / "log.csv").size() == 4);
}

TEST_CASE("cartpole dqn: greedy evaluation and predict's episode", "[cartpole_dqn]") {
  std::unique_ptr<Task> task = make_task("attention-dqn-cartpole");
  setup_task(*task, TaskOptions{"", 0, true});
  auto& cartpole = dynamic_cast<CartPoleDQNTask&>(*task);
  // Batched greedy episodes are seeded: the same seeds, the same returns; each within the limit.
  const EpisodeReturns a = cartpole.greedy_episodes(200, 6, 42);
  const EpisodeReturns b = cartpole.greedy_episodes(200, 6, 42);
  CHECK(a.returns == b.returns);
  for (double r : a.returns) CHECK((r >= 1 && r <= 200));
  const Metrics valid = task->evaluate("valid");
  REQUIRE(valid.size() == 4);
  CHECK(valid[0].first == "v0_mean_return");
  CHECK(valid[0].second == task->evaluate("valid")[0].second);

  Prediction p = task->predict("v1 seed 3");
  CHECK(p.output.rfind("CartPole-v1 seed 3: return ", 0) == 0);
  CHECK(p.output.find("step   0") != std::string::npos);
  CHECK(p.source_tokens == std::vector<std::string>{"x", "x_dot", "theta", "theta_dot"});
  REQUIRE(p.attention.defined());
  CHECK(p.attention.shape() == Shape{4, 4});
  CHECK(task->example_inputs().size() == 2);
}

TEST_CASE("cartpole dqn: misuse is an error", "[cartpole_dqn]") {
  std::unique_ptr<Task> task = make_task("attention-dqn-cartpole");
  setup_task(*task, TaskOptions{"", 0, true});
  CHECK_THROWS_WITH(task->start_epoch(0, 8), Contains("interactive task has no epochs"));
  int64_t items = 0;
  CHECK_THROWS_WITH(task->batch_loss(0, &items), Contains("interactive task has no batches"));
  CHECK_THROWS_WITH(task->predict("v2"), Contains("expected \"v0\" or \"v1\""));
  CHECK_THROWS_WITH(task->predict("v0 seed"), Contains("seed N"));
  CHECK_THROWS_WITH(task->evaluate("train"), Contains("unknown split \"train\""));
  std::unique_ptr<Task> other = make_task("attention-dqn-cartpole");
  CHECK_THROWS_WITH(setup_task(*other, TaskOptions{"/some/data", 0, true}),
                    Contains("reads no data"));
}
