// The image-classification task (models/vision/image_classification_task.h) on small IDX files
// in Fashion-MNIST's layout (tests/fashion_test_data.h): data loading, splits, augmentation only
// in training and seeded, the loss falls, evaluate / predict, a checkpoint round trip, and errors.
#include "core/factories.h"
#include "models/vision/image_classification_task.h"
#include "models/vision/vit.h"
#include "nn/optim.h"
#include "ops/reduction.h"
#include "tests/fashion_test_data.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

std::string data_dir() {
  return minidl::testing::band_fashion_dir();
}

std::unique_ptr<Task> smoke_task() {
  auto task = make_cnn_fashion_mnist_task();
  TaskOptions options;
  options.data_path = data_dir();
  options.smoke = true;
  options.seed = 3;
  task->setup(options);
  return task;
}

}  // namespace

TEST_CASE("cnn-fashion-mnist smoke: splits, seeded augmentation, training, checkpoint",
          "[vision]") {
  auto task = smoke_task();
  auto& vision = dynamic_cast<ImageClassificationTask&>(*task);
  CHECK(vision.class_names().size() == 10);
  CHECK(vision.class_names()[9] == "Ankle boot");

  // 256 training images in batches of 32; the same batch augments the same way every time,
  // another epoch differently, and the images are normalised (mean ~0, not the raw [0, 1]).
  CHECK(task->start_epoch(0, 32) == 8);
  Tensor a = vision.training_images(1), b = vision.training_images(1);
  CHECK(a.shape() == Shape({32, 1, 28, 28}));
  CHECK(testing::allclose(a, b, 0, 0));
  CHECK(a.min().item<double>() < -0.5);
  task->start_epoch(1, 32);
  CHECK_FALSE(testing::allclose(vision.training_images(1), a, 1e-3, 1e-3));
  task->start_epoch(0, 32);

  optim::Adam optimizer(task->model().parameters(), optim::AdamOptions(2e-3));
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 24, 8);
  CHECK(fit.items == 32);
  CHECK(fit.last < fit.first * 0.7);

  Metrics metrics = task->evaluate("valid");
  REQUIRE(metrics.size() == 2);
  CHECK(metrics[0].first == "accuracy");
  CHECK(metrics[0].second > 0.3);  // far above chance (0.1) after 24 steps on bands
  CHECK(task->evaluate("test")[1].first == "loss");

  Prediction p = task->predict("test:3");
  CHECK(std::find(vision.class_names().begin(), vision.class_names().end(), p.output) !=
        vision.class_names().end());
  CHECK(p.source_tokens.at(0).find("test:3 (") == 0);

  auto restored = smoke_task();
  minidl::testing::checkpoint_round_trip(*task, optimizer, *restored, "cnn_fashion");
  for (const std::string& input : task->example_inputs())
    CHECK(task->predict(input).output == restored->predict(input).output);
}

TEST_CASE("vit-fashion-mnist smoke: the Vision Transformer trains through the same task",
          "[vision]") {
  auto task = make_vit_fashion_mnist_task();
  TaskOptions options;
  options.data_path = data_dir();
  options.smoke = true;
  options.seed = 4;
  task->setup(options);
  // 49 patches of 4x4 plus the class token, d 64.
  auto& vit = dynamic_cast<VisionTransformer&>(task->model());
  CHECK(vit.positions.shape() == Shape({1, 50, 64}));
  CHECK(vit(rand({3, 1, 28, 28})).shape() == Shape({3, 10}));
  task->start_epoch(0, 32);
  // lr 1e-3: six pre-norm layers at the full run's 2e-3 need its 300 warmup steps
  optim::AdamW optimizer(task->model().parameters(), optim::AdamWOptions(1e-3));
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 100, 8);
  CHECK(fit.last < fit.first * 0.8);
  CHECK(task->evaluate("train")[0].second > 0.2);  // the 256 images it was fitted on (chance 0.1)
  CHECK_THROWS_WITH(vit(rand({2, 1, 32, 32})),
                    Catch::Contains("expected images [B, 1, 28, 28], got [2, 1, 32, 32]"));
  ViTOptions bad;
  bad.patch_size = 5;
  CHECK_THROWS_WITH(VisionTransformer(bad), Catch::Contains("multiple of the patch size 5"));
}

TEST_CASE("cnn-fashion-mnist: errors name the problem and what to do", "[vision]") {
  auto task = make_cnn_fashion_mnist_task();
  TaskOptions options;
  options.data_path = "/nonexistent/fashion";
  CHECK_THROWS_WITH(task->setup(options),
                    Catch::Contains("no train-images-idx3-ubyte(.gz) in /nonexistent/fashion") &&
                        Catch::Contains("dataset-fashion-mnist"));
  auto ready = smoke_task();
  CHECK_THROWS_WITH(ready->predict("test:x"), Catch::Contains("SPLIT:INDEX, e.g. test:17"));
  CHECK_THROWS_WITH(ready->predict("test:99999"),
                    Catch::Contains("has 64 images, asked for 99999"));
  CHECK_THROWS_WITH(ready->predict("holdout:1"), Catch::Contains("unknown split 'holdout'"));
  CHECK_THROWS_WITH(ready->batch_loss(0, nullptr), Catch::Contains("call start_epoch"));
}
