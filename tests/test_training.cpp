// The training loop of tools/train (models/common/training.h) on a toy task: y = x0 + x1 + x2.
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "models/common/training.h"
#include "models/registry.h"
#include "nn/checkpoint.h"
#include "nn/container.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::TempDir;

namespace {

// Regression of the sum of three numbers by a small MLP with dropout (so training draws from
// the default generator, which resuming must restore).
class SumTask : public Task {
 public:
  explicit SumTask(int sleep_ms = 0) : sleep_ms_(sleep_ms) {}

  void setup(const TaskOptions& options) override {
    seed_ = options.seed;
    Generator gen(options.seed + 17);
    auto make = [&](int64_t n, std::vector<float>& x, std::vector<float>& y) {
      for (int64_t i = 0; i < n; ++i) {
        float sum = 0;
        for (int k = 0; k < 3; ++k) {
          const float v = static_cast<float>(gen.normal());
          x.push_back(v);
          sum += v;
        }
        y.push_back(sum);
      }
    };
    make(options.smoke ? 40 : 80, train_x_, train_y_);
    make(32, valid_x_, valid_y_);
    model_ = std::make_shared<nn::Sequential>(
        std::make_shared<nn::Linear>(3, 16), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Dropout>(0.1), std::make_shared<nn::Linear>(16, 1));
  }
  nn::Module& model() override { return *model_; }
  TrainDefaults defaults() const override {
    TrainDefaults d;
    d.epochs = 3;
    d.batch_size = 10;
    d.lr = 0.01;
    d.optimizer = "adam";
    return d;
  }
  int64_t start_epoch(int64_t epoch, int64_t batch_size) override {
    const int64_t n = static_cast<int64_t>(train_y_.size());
    order_.resize(n);
    for (int64_t i = 0; i < n; ++i) order_[i] = i;
    Generator gen(seed_ * 1000 + epoch);
    for (int64_t i = n - 1; i > 0; --i) std::swap(order_[i], order_[gen.randint(0, i + 1)]);
    batch_size_ = batch_size;
    return (n + batch_size - 1) / batch_size;
  }
  Tensor batch_loss(int64_t index, int64_t* items) override {
    if (sleep_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    const int64_t n = static_cast<int64_t>(order_.size());
    const int64_t first = index * batch_size_, count = std::min(batch_size_, n - first);
    std::vector<float> x, y;
    for (int64_t i = first; i < first + count; ++i) {
      const int64_t j = order_[i];
      x.insert(x.end(), train_x_.begin() + 3 * j, train_x_.begin() + 3 * j + 3);
      y.push_back(train_y_[j]);
    }
    *items = count;
    return mse_loss((*model_)(from_vector(x, {count, 3})), from_vector(y, {count, 1}));
  }
  Metrics evaluate(const std::string& split) override {
    REQUIRE(split == "valid");
    NoGradGuard no_grad;
    model_->eval();
    const int64_t n = static_cast<int64_t>(valid_y_.size());
    Tensor out = (*model_)(from_vector(valid_x_, {n, 3}));
    Tensor target = from_vector(valid_y_, {n, 1});
    const double mse = mse_loss(out, target).item<double>();
    const double mae = (out - target).abs().mean().item<double>();
    return {{"loss", mse}, {"mae", mae}};
  }
  Prediction predict(const std::string& input) override { return {input, {}, {}, Tensor()}; }
  std::vector<std::string> example_inputs() const override { return {"1 2 3"}; }

 private:
  int sleep_ms_;
  uint64_t seed_ = 0;
  std::vector<float> train_x_, train_y_, valid_x_, valid_y_;
  std::vector<int64_t> order_;
  int64_t batch_size_ = 1;
  std::shared_ptr<nn::Sequential> model_;
};

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TrainOptions toy_options(const std::string& dir, int64_t epochs) {
  TrainOptions o;
  o.model = "toy-sum";
  o.seed = 7;
  o.epochs = epochs;
  o.checkpoint_dir = dir;
  return o;
}

}  // namespace

TEST_CASE("train: the loss decreases and each epoch is validated", "[tools]") {
  SumTask task;
  TrainOptions o;
  o.epochs = 6;
  o.seed = 3;
  TrainResult r = train(task, o);
  CHECK(r.settings.batch_size == 10);
  CHECK(r.settings.lr == 0.01);
  CHECK(r.steps == 6 * 8);
  CHECK(r.losses.size() == 48);
  CHECK(r.epochs_completed == 6);
  CHECK_FALSE(r.stopped_early);
  REQUIRE(r.records.size() == 6);
  CHECK(r.records.back().train_loss < 0.5 * r.records.front().train_loss);
  CHECK(r.records.back().valid[0].second < r.records.front().valid[0].second);
  CHECK(r.records[2].epoch == 3);
  CHECK(r.records[2].step == 24);
  CHECK(r.best_metric == "loss");
  CHECK(r.items == 480);
  CHECK(r.items_per_second > 0);
}

TEST_CASE("train: the CSV log, the checkpoints and the run's metadata", "[tools]") {
  TempDir dir;
  SumTask task;
  TrainOptions o = toy_options(dir.path.string(), 3);
  o.optimizer = "SGD";
  o.lr = 0.05;
  std::ostringstream progress;
  o.progress = ProgressStyle::kLines;
  o.out = &progress;
  TrainResult r = train(task, o);
  CHECK(r.settings.optimizer == "sgd");

  const auto lines = read_lines(dir.file("log.csv"));
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "epoch,step,train_loss,valid_loss,valid_mae,elapsed_seconds");
  CHECK(lines[1].rfind("1,8,", 0) == 0);
  CHECK(lines[3].rfind("3,24,", 0) == 0);
  CHECK(progress.str().find("epoch 1/3  batch 8/8") != std::string::npos);
  CHECK(progress.str().find("valid: loss") != std::string::npos);

  CHECK(std::filesystem::exists(dir.file("checkpoint.safetensors")));
  CHECK(std::filesystem::exists(dir.file("best.safetensors")));
  const nn::Metadata meta = nn::load_safetensors_metadata(dir.file("checkpoint.safetensors"));
  CHECK(meta.at("user.epoch") == "3");
  CHECK(meta.at("user.batch") == "0");
  CHECK(meta.at("user.optimizer") == "sgd");
  CHECK(meta.at("step") == "24");

  const CheckpointConfig config = read_checkpoint_config(dir.path.string());
  CHECK(config.model == "toy-sum");
  CHECK(config.task.seed == 7);
  CHECK_FALSE(config.task.smoke);

  // A fresh task rebuilt from the metadata, with the parameters loaded, validates the same.
  SumTask again;
  setup_task(again, config.task);
  load_model_parameters(again.model(), dir.path.string());
  CHECK(again.evaluate("valid")[0].second == r.records.back().valid[0].second);
}

TEST_CASE("train: resuming gives the same losses as an uninterrupted run", "[tools]") {
  TempDir whole_dir, split_dir;
  SumTask whole_task;
  TrainResult whole = train(whole_task, toy_options(whole_dir.path.string(), 4));
  REQUIRE(whole.losses.size() == 32);

  SECTION("stopped at an epoch's end") {
    SumTask first_task, second_task;
    TrainResult first = train(first_task, toy_options(split_dir.path.string(), 2));
    TrainOptions o = toy_options(split_dir.path.string(), 4);
    o.resume = true;
    TrainResult second = train(second_task, o);
    CHECK(second.start_step == 16);
    REQUIRE(second.losses.size() == 16);
    for (size_t i = 0; i < 16; ++i) CHECK(first.losses[i] == whole.losses[i]);
    for (size_t i = 0; i < 16; ++i) CHECK(second.losses[i] == whole.losses[16 + i]);
    const auto lines = read_lines(split_dir.file("log.csv"));
    CHECK(lines.size() == 5);
    CHECK(second.records.back().valid == whole.records.back().valid);
  }
  SECTION("stopped in the middle of an epoch (max_steps)") {
    SumTask first_task, second_task;
    TrainOptions o = toy_options(split_dir.path.string(), 4);
    o.max_steps = 13;
    TrainResult first = train(first_task, o);
    CHECK(first.stopped_early);
    CHECK(first.steps == 13);
    CHECK(first.records.back().epoch == Approx(1.625));
    o.max_steps = 0;
    o.resume = true;
    TrainResult second = train(second_task, o);
    REQUIRE(second.losses.size() == 19);
    for (size_t i = 0; i < 19; ++i) CHECK(second.losses[i] == whole.losses[13 + i]);
    CHECK(second.records.back().valid == whole.records.back().valid);
    // The log: epoch 1, the partial 1.625, then epochs 2, 3, 4.
    CHECK(read_lines(split_dir.file("log.csv")).size() == 6);
  }
}

TEST_CASE("train: a resumed run keeps the checkpoint's settings unless overridden", "[tools]") {
  TempDir dir;
  SumTask first, second, third;
  TrainOptions o = toy_options(dir.path.string(), 2);
  o.optimizer = "sgd";
  o.lr = 0.02;
  o.batch_size = 16;
  o.max_steps = 3;  // stops in the middle of epoch 1 (5 batches of 16)
  train(first, o);
  TrainOptions again = toy_options(dir.path.string(), 0);
  again.resume = true;
  again.max_steps = 4;
  TrainResult r = train(second, again);
  CHECK(r.settings.optimizer == "sgd");
  CHECK(r.settings.lr == 0.02);
  CHECK(r.settings.batch_size == 16);
  CHECK(r.settings.epochs == 2);
  again.max_steps = 0;
  again.batch_size = 10;
  CHECK_THROWS_WITH(train(third, again), Catch::Contains("--batch-size") && Catch::Contains("16"));
  again.batch_size = 0;
  again.lr = 0.03125;
  TrainResult faster = train(third, again);
  CHECK(faster.settings.lr == 0.03125);
  const nn::Metadata meta = nn::load_safetensors_metadata(dir.file("checkpoint.safetensors"));
  CHECK(meta.at("user.lr") == "0.03125");
  CHECK(meta.at("optimizer.param_groups.0.lr") == "0.03125");
}

TEST_CASE("train: the time budget stops training and leaves a resumable checkpoint", "[tools]") {
  TempDir dir;
  SumTask task(/*sleep_ms=*/5);
  TrainOptions o = toy_options(dir.path.string(), 50);
  o.time_budget = 0.15;
  const auto start = std::chrono::steady_clock::now();
  TrainResult r = train(task, o);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.stopped_early);
  CHECK(r.steps >= 1);
  CHECK(r.steps < 50 * 8);
  CHECK(seconds < 2.0);
  const nn::Metadata meta = nn::load_safetensors_metadata(dir.file("checkpoint.safetensors"));
  CHECK(meta.at("step") == std::to_string(r.steps));

  // Resumable: the next run starts where this one stopped.
  SumTask next(/*sleep_ms=*/0);
  o.time_budget = 0;
  o.resume = true;
  o.max_steps = r.steps + 3;
  TrainResult more = train(next, o);
  CHECK(more.start_step == r.steps);
  CHECK(more.steps == r.steps + 3);
  CHECK(more.losses.size() == 3);
}

TEST_CASE("train: the progress bar and lines", "[tools]") {
  SumTask task;
  TrainOptions o;
  o.epochs = 2;
  std::ostringstream bar;
  o.progress = ProgressStyle::kBar;
  o.out = &bar;
  train(task, o);
  const std::string text = bar.str();
  CHECK(text.find("\repoch 1/2 [########################] 8/8  loss ") != std::string::npos);
  CHECK(text.find("items/s  ETA ") != std::string::npos);
  CHECK(text.find("\nepoch 2/2  step 16  train_loss ") != std::string::npos);
  CHECK(text.find("training the task: 81 parameters, adam (lr 0.01), batch 10, 2 epochs") !=
        std::string::npos);

  std::ostringstream quiet;
  o.progress = ProgressStyle::kQuiet;
  o.out = &quiet;
  train(task, o);
  CHECK(quiet.str().empty());
}

TEST_CASE("train: option errors", "[tools]") {
  SumTask task;
  TrainOptions o;
  o.optimizer = "adamax";
  CHECK_THROWS_WITH(train(task, o), Catch::Contains("unknown optimizer \"adamax\"") &&
                                        Catch::Contains("adam, adamw, sgd, rmsprop, adagrad"));
  CHECK_THROWS_WITH(make_optimizer("lbfgs", {}, 0.1),
                    Catch::Contains("make_optimizer") && Catch::Contains("lbfgs"));
  CHECK_THROWS_WITH(make_optimizer("adam", {}, -1), Catch::Contains("learning rate"));
  o = TrainOptions();
  o.epochs = -2;
  CHECK_THROWS_WITH(validate_options(o), Catch::Contains("--epochs") && Catch::Contains("-2"));
  o = TrainOptions();
  o.lr = -0.1;
  CHECK_THROWS_WITH(validate_options(o), Catch::Contains("--lr"));
  o = TrainOptions();
  o.time_budget = -1;
  CHECK_THROWS_WITH(validate_options(o), Catch::Contains("--time-budget"));
  o = TrainOptions();
  o.resume = true;
  CHECK_THROWS_WITH(validate_options(o), Catch::Contains("--checkpoint-dir"));

  TempDir dir;
  o = toy_options(dir.path.string(), 1);
  o.resume = true;
  CHECK_THROWS_WITH(train(task, o), Catch::Contains("no checkpoint"));
  // Resuming with another seed than the checkpoint's would train on other data.
  o.resume = false;
  train(task, o);
  o.resume = true;
  o.seed = 8;
  CHECK_THROWS_WITH(train(task, o), Catch::Contains("seed 7"));

  CHECK_THROWS_WITH(
      make_task("no-such-model"),
      Catch::Contains("unknown model \"no-such-model\"") && Catch::Contains("known:"));
  CHECK_THROWS_WITH(read_checkpoint_config(dir.file("missing.safetensors")),
                    Catch::Contains("no checkpoint"));
}

TEST_CASE("train: optimizers by name and metric directions", "[tools]") {
  std::vector<Tensor> params = {zeros({2}).requires_grad_()};
  CHECK(make_optimizer("adam", params, 0.1)->name() == "Adam");
  CHECK(make_optimizer("AdamW", params, 0.1)->name() == "AdamW");
  CHECK(make_optimizer("sgd", params, 0.1)->name() == "SGD");
  CHECK(make_optimizer("rmsprop", params, 0.1)->name() == "RMSprop");
  CHECK(make_optimizer("adagrad", params, 0.1)->name() == "Adagrad");
  CHECK(make_optimizer("rmsprop", params, 0.25)->param_groups()[0].lr() == 0.25);
  CHECK(lower_is_better("loss"));
  CHECK(lower_is_better("wer"));
  CHECK(lower_is_better("valid_nats_per_char"));
  CHECK_FALSE(lower_is_better("exact_match"));
  CHECK_FALSE(lower_is_better("accuracy"));
  CHECK_FALSE(lower_is_better("bleu"));
  CHECK(format_duration(12.34) == "12.3s");
  CHECK(format_duration(185) == "3m05s");
  CHECK(format_metrics({{"a", 0.5}, {"b", 2}}) == "a 0.5000  b 2.0000");
}

TEST_CASE("train: learning-rate schedules (warmup, cosine) and resuming under them", "[tools]") {
  TrainDefaults s;
  s.lr = 0.1;
  CHECK(scheduled_lr(s, 0, 100) == 0.1);  // constant
  CHECK(scheduled_lr(s, 99, 100) == 0.1);
  s.warmup_steps = 4;
  CHECK(scheduled_lr(s, 0, 100) == Approx(0.025));
  CHECK(scheduled_lr(s, 3, 100) == Approx(0.1));
  s.schedule = "cosine";
  CHECK(scheduled_lr(s, 4, 100) == Approx(0.1));  // decay starts after the warmup
  CHECK(scheduled_lr(s, 99, 100) == Approx(0.001));
  CHECK(scheduled_lr(s, 52, 101) == Approx(0.1 * (0.01 + 0.99 * 0.5)));  // halfway
  CHECK(scheduled_lr(s, 150, 100) == Approx(0.001));                     // past the end: the floor

  // A cosine run interrupted mid-epoch and resumed matches the uninterrupted one.
  TempDir whole_dir, split_dir;
  SumTask whole_task, first_task, second_task;
  TrainOptions o = toy_options(whole_dir.path.string(), 4);
  o.schedule = "cosine";
  o.warmup_steps = 3;
  TrainResult whole = train(whole_task, o);
  o.checkpoint_dir = split_dir.path.string();
  o.max_steps = 11;
  train(first_task, o);
  TrainOptions resumed = toy_options(split_dir.path.string(), 4);
  resumed.resume = true;  // the schedule comes from the checkpoint
  TrainResult second = train(second_task, resumed);
  REQUIRE(second.losses.size() == whole.losses.size() - 11);
  for (size_t i = 0; i < second.losses.size(); ++i) CHECK(second.losses[i] == whole.losses[11 + i]);
  CHECK(second.settings.schedule == "cosine");
  CHECK(second.settings.warmup_steps == 3);

  SumTask task;
  TrainOptions bad = toy_options("", 1);
  bad.schedule = "step";
  CHECK_THROWS_WITH(train(task, bad), Catch::Contains("schedule \"step\""));
  bad.schedule = "";
  bad.warmup_steps = -3;
  CHECK_THROWS_WITH(train(task, bad), Catch::Contains("warmup"));
}

namespace {

// Raises `flag` (as a SIGINT handler would) while computing its `at`-th batch of the run.
class InterruptingSumTask : public SumTask {
 public:
  InterruptingSumTask(std::atomic<bool>* flag, int at) : flag_(flag), at_(at) {}
  Tensor batch_loss(int64_t index, int64_t* items) override {
    if (++calls_ == at_) flag_->store(true);
    return SumTask::batch_loss(index, items);
  }

 private:
  std::atomic<bool>* flag_;
  int at_, calls_ = 0;
};

// Records, at every batch, the batch number of the checkpoint on disk ("none" before the first).
class CheckpointWatchingSumTask : public SumTask {
 public:
  explicit CheckpointWatchingSumTask(std::string path) : path_(std::move(path)) {}
  Tensor batch_loss(int64_t index, int64_t* items) override {
    seen.push_back(std::filesystem::exists(path_)
                       ? nn::load_safetensors_metadata(path_).at("user.batch")
                       : std::string("none"));
    return SumTask::batch_loss(index, items);
  }
  std::vector<std::string> seen;

 private:
  std::string path_;
};

std::vector<float> model_values(const std::string& checkpoint) {
  std::vector<float> values;
  for (auto& [name, tensor] : nn::load_safetensors(checkpoint))
    if (name.rfind("model.", 0) == 0)
      for (float v : tensor.to_vector<float>()) values.push_back(v);
  return values;
}

}  // namespace

TEST_CASE("train: an interruption stops after the batch, saves, and resumes bit for bit",
          "[tools]") {
  TempDir whole_dir, split_dir;
  SumTask whole_task;
  TrainResult whole = train(whole_task, toy_options(whole_dir.path.string(), 3));
  REQUIRE(whole.losses.size() == 24);

  std::atomic<bool> flag{false};
  InterruptingSumTask first_task(&flag, 11);  // in the middle of epoch 2
  TrainOptions o = toy_options(split_dir.path.string(), 3);
  o.interrupt = &flag;
  TrainResult first = train(first_task, o);
  CHECK(first.interrupted);
  CHECK(first.stopped_early);
  CHECK(first.steps == 11);  // the batch in progress was finished, nothing after it
  const nn::Metadata meta = nn::load_safetensors_metadata(split_dir.file("checkpoint.safetensors"));
  CHECK(meta.at("user.epoch") == "1");
  CHECK(meta.at("user.batch") == "3");
  CHECK(read_lines(split_dir.file("log.csv")).size() == 2);  // no row for the interrupted part

  SumTask second_task;
  o.interrupt = nullptr;
  o.resume = true;
  TrainResult second = train(second_task, o);
  CHECK_FALSE(second.interrupted);
  REQUIRE(second.losses.size() == 13);
  for (size_t i = 0; i < 13; ++i) CHECK(second.losses[i] == whole.losses[11 + i]);
  CHECK(model_values(split_dir.file("checkpoint.safetensors")) ==
        model_values(whole_dir.file("checkpoint.safetensors")));

  // Resuming a finished run says how to train further.
  SumTask third_task;
  CHECK_THROWS_WITH(train(third_task, o), Catch::Contains("already finished its 3 epochs") &&
                                              Catch::Contains("--resume --epochs 6"));
}

TEST_CASE("train: checkpoints inside an epoch, best before last, stale temp files", "[tools]") {
  TempDir dir;
  // A temporary file of a process that no longer runs (a kill mid-write), and one of a process
  // that still does (pid 1).
  pid_t dead = 999999;
  while (::kill(dead, 0) == 0 || errno != ESRCH) --dead;
  const std::string stale = dir.file("checkpoint.safetensors.tmp." + std::to_string(dead));
  const std::string live = dir.file("best.safetensors.tmp.1");
  minidl::testing::write_bytes(stale, "half a checkpoint");
  minidl::testing::write_bytes(live, "being written");

  CheckpointWatchingSumTask task(dir.file("checkpoint.safetensors"));
  TrainOptions o = toy_options(dir.path.string(), 1);
  o.checkpoint_every = 1e-9;  // after every batch
  train(task, o);
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK(std::filesystem::exists(live));
  // While batch k ran, the checkpoint on disk was the one written after batch k - 1.
  CHECK(task.seen == std::vector<std::string>{"none", "1", "2", "3", "4", "5", "6", "7"});
  TempDir plain_dir;
  TrainOptions p = toy_options(plain_dir.path.string(), 1);
  p.checkpoint_every = 0;  // only at the epoch's end
  CheckpointWatchingSumTask unsaved(plain_dir.file("checkpoint.safetensors"));
  train(unsaved, p);
  CHECK(unsaved.seen == std::vector<std::string>(8, "none"));

  // best.safetensors is written before checkpoint.safetensors at an epoch's end.
  SumTask whole;
  TempDir other;
  train(whole, toy_options(other.path.string(), 1));
  CHECK(std::filesystem::last_write_time(other.file("best.safetensors")) <=
        std::filesystem::last_write_time(other.file("checkpoint.safetensors")));
  o.checkpoint_every = -1;
  CHECK_THROWS_WITH(validate_options(o), Catch::Contains("--checkpoint-every"));
}
