// The captioning task (models/captioning/captioning_task.h) on small IDX files in Fashion-MNIST's
// layout (tests/fashion_test_data.h): mosaics whose quadrants hold the images of their caption,
// seeded epochs, both registered models training a few steps, evaluate / predict with attention
// grids, a checkpoint round trip, tools/predict's overlays, and errors.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "models/captioning/captioning_task.h"
#include "models/captioning/mosaic_data.h"
#include "models/common/image_overlay.h"
#include "models/common/training.h"
#include "ops/index_ops.h"
#include "tests/fashion_test_data.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

std::unique_ptr<Task> smoke_task(std::unique_ptr<Task> task, uint64_t seed = 3) {
  TaskOptions options;
  options.data_path = minidl::testing::band_fashion_dir();
  options.smoke = true;
  options.seed = seed;
  task->setup(options);
  return task;
}

}  // namespace

TEST_CASE("captioning task: the quadrants hold the images of the caption, seeded", "[captioning]") {
  auto task = smoke_task(make_caption_lstm_attention_task());
  auto& captioning = dynamic_cast<CaptioningTask&>(*task);
  CHECK(captioning.vocabulary().size() == 13);
  CHECK(captioning.vocabulary()[12] == "ankle_boot");
  // Smoke: 256 training images (64 mosaics), 64 validation and test images (16 mosaics each).
  CHECK(task->start_epoch(0, 16) == 4);
  const CaptioningTask::MosaicSplit& valid = captioning.split("valid");
  REQUIRE(valid.table.shape() == Shape({16, 4}));
  const Tensor raw = captioning.raw_mosaics(valid, 2, 5);  // [3, 1, 56, 56] in [0, 1]
  auto [images, captions] = captioning.mosaics(valid, 2, 5);
  REQUIRE(raw.shape() == Shape({3, 1, 56, 56}));
  REQUIRE(images.shape() == Shape({3, 1, 56, 56}));
  REQUIRE(captions.shape() == Shape({3, 6}));
  for (int64_t m = 0; m < 3; ++m) {
    CHECK(captions.index({m, 0}).item<int64_t>() == kCaptionStart);
    CHECK(captions.index({m, 5}).item<int64_t>() == kCaptionEnd);
    for (int64_t q = 0; q < 4; ++q) {
      const int64_t image = valid.table.index({2 + m, q}).item<int64_t>();
      const Tensor quadrant =
          raw.select(0, m).narrow(1, (q / 2) * 28, 28).narrow(2, (q % 2) * 28, 28);
      CHECK(testing::allclose(quadrant, valid.images.images.select(0, image), 0, 0));
      CHECK(captions.index({m, q + 1}).item<int64_t>() ==
            kFirstClassToken + valid.images.labels.index({image}).item<int64_t>());
    }
  }
  // Normalised for the model; the same setup gives the same mosaics, another seed others.
  CHECK(images.min().item<double>() < -0.5);
  auto again = smoke_task(make_caption_lstm_attention_task());
  auto& same = dynamic_cast<CaptioningTask&>(*again);
  CHECK(same.split("test").table.to_vector<int64_t>() ==
        captioning.split("test").table.to_vector<int64_t>());
  auto other = smoke_task(make_caption_lstm_attention_task(), 4);
  CHECK(dynamic_cast<CaptioningTask&>(*other).split("test").table.to_vector<int64_t>() !=
        captioning.split("test").table.to_vector<int64_t>());
  // Each epoch draws new mosaics from the same training images.
  const std::vector<int64_t> epoch0 = captioning.split("train").table.to_vector<int64_t>();
  task->start_epoch(1, 16);
  CHECK(captioning.split("train").table.to_vector<int64_t>() != epoch0);
  task->start_epoch(0, 16);
  CHECK(captioning.split("train").table.to_vector<int64_t>() == epoch0);
}

TEST_CASE("caption-lstm-attention smoke: trains, evaluates, predicts with attention grids",
          "[captioning]") {
  auto task = smoke_task(make_caption_lstm_attention_task());
  task->start_epoch(0, 16);
  optim::Adam optimizer(task->model().parameters(), optim::AdamOptions(1e-2));
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 24, 4);
  CHECK(fit.items == 16);
  CHECK(fit.last < fit.first * 0.85);

  const Metrics metrics = task->evaluate("valid");
  REQUIRE(metrics.size() == 8);
  CHECK(metrics[0].first == "word_accuracy");
  CHECK(metrics[1].first == "exact_match");
  CHECK(metrics[2].first == "quadrant_attention");
  CHECK(metrics[3].first == "quadrant_attention_tl");
  CHECK(metrics[7].first == "loss");
  for (const auto& [name, value] : metrics) {
    INFO(name);
    CHECK(value >= 0);
    if (name != "loss") CHECK(value <= 1);
  }
  CHECK_FALSE(lower_is_better(metrics[0].first));

  const Prediction p = task->predict("test:3");
  auto& captioning = dynamic_cast<CaptioningTask&>(*task);
  REQUIRE(p.image.shape() == Shape({1, 56, 56}));
  const int64_t words = static_cast<int64_t>(p.target_tokens.size());
  REQUIRE(p.spatial_attention.shape() == Shape({words, 14, 14}));
  CHECK(p.source_tokens.at(0).find("test:3 (") == 0);
  std::string joined;
  for (const std::string& word : p.target_tokens) {
    CHECK(std::find(captioning.vocabulary().begin() + 3, captioning.vocabulary().end(), word) !=
          captioning.vocabulary().end());
    joined += (joined.empty() ? "" : " ") + word;
  }
  CHECK(p.output == joined);
  CHECK(p.image.min().item<double>() >= 0);
  CHECK(p.image.max().item<double>() <= 1);

  auto restored = smoke_task(make_caption_lstm_attention_task());
  minidl::testing::checkpoint_round_trip(*task, optimizer, *restored, "caption_lstm");
  for (const std::string& input : task->example_inputs())
    CHECK(task->predict(input).output == restored->predict(input).output);
}

TEST_CASE("caption-dot-attention smoke: the tanh-dot attention trains through the same task",
          "[captioning]") {
  auto task = smoke_task(make_caption_dot_attention_task(), 5);
  auto& model = dynamic_cast<CaptioningTask&>(*task).captioner();
  CHECK(model.options.attention == "tanh-dot");
  CHECK(dynamic_cast<TanhDotGridAttention*>(model.attention.get()) != nullptr);
  task->start_epoch(0, 16);
  optim::Adam optimizer(task->model().parameters(), optim::AdamOptions(1e-2));
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 24, 4);
  CHECK(fit.last < fit.first * 0.85);
  CHECK(task->evaluate("test")[2].first == "quadrant_attention");
}

TEST_CASE("captioning task: tools/predict writes one overlay PNG per word", "[captioning]") {
  const std::string predict = minidl::testing::build_dir() + "/predict";
  if (!std::filesystem::exists(predict)) {
    WARN("skipped: " << predict << " is not built");
    return;
  }
  minidl::testing::TempDir dir;
  TrainOptions options;
  options.model = "caption-dot-attention";
  options.data_path = minidl::testing::band_fashion_dir();
  options.smoke = true;
  options.max_steps = 2;
  options.batch_size = 16;
  options.checkpoint_dir = dir.file("run");
  auto task = make_caption_dot_attention_task();
  train(*task, options);
  const Prediction p = task->predict("test:1");
  const std::string out = dir.file("overlays");
  const std::string command = predict + " --checkpoint " + options.checkpoint_dir +
                              " --input test:1 --output " + out + " --ascii 2>&1";
  const auto [status, output] = minidl::testing::run_command(command);
  CHECK(status == 0);
  INFO(output);
  CHECK(output.find("test:1  ->  " + p.output) != std::string::npos);
  CHECK(output.find("image (left), attention (right)") != std::string::npos);
  // NN-WORD.png, one per word ('/' of "t-shirt/top" replaced), each the 56x56 mosaic drawn 4x
  // below a title band.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    const Image image = read_png(entry.path().string());
    CHECK(image.width == 56 * 4);
    CHECK(image.height == 56 * 4 + kOverlayTitleHeight);
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() == p.target_tokens.size());
  for (size_t w = 0; w < names.size(); ++w) {
    std::string word = p.target_tokens[w];
    std::replace(word.begin(), word.end(), '/', '-');
    CHECK(names[w] == (w < 9 ? "0" : "") + std::to_string(w + 1) + "-" + word + ".png");
  }
}

TEST_CASE("captioning task: errors name the problem", "[captioning]") {
  auto task = make_caption_lstm_attention_task();
  TaskOptions options;
  options.data_path = "/nonexistent/fashion";
  CHECK_THROWS_WITH(task->setup(options),
                    Catch::Contains("no train-images-idx3-ubyte(.gz) in /nonexistent/fashion") &&
                        Catch::Contains("dataset-fashion-mnist"));
  CHECK_THROWS_WITH(task->start_epoch(0, 8), Catch::Contains("call setup before start_epoch"));
  auto ready = smoke_task(make_caption_lstm_attention_task());
  CHECK_THROWS_WITH(ready->batch_loss(0, nullptr), Catch::Contains("call start_epoch"));
  ready->start_epoch(0, 16);
  CHECK_THROWS_WITH(ready->batch_loss(4, nullptr),
                    Catch::Contains("batch 4 is out of range for 4 batches"));
  CHECK_THROWS_WITH(ready->start_epoch(0, 0), Catch::Contains("batch size must be positive"));
  CHECK_THROWS_WITH(ready->predict("test:x"), Catch::Contains("SPLIT:INDEX, e.g. test:17"));
  CHECK_THROWS_WITH(ready->predict("test:16"),
                    Catch::Contains("the test split has 16 mosaics, asked for 16"));
  CHECK_THROWS_WITH(ready->predict("holdout:1"), Catch::Contains("unknown split 'holdout'"));
  CHECK_THROWS_WITH(ready->evaluate("dev"), Catch::Contains("unknown split 'dev'"));
  auto& captioning = dynamic_cast<CaptioningTask&>(*ready);
  CHECK_THROWS_WITH(captioning.mosaics(captioning.split("test"), 10, 20),
                    Catch::Contains("mosaic rows [10, 20) are out of range for 16 mosaics"));
}
