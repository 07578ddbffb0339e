// The Fashion-MNIST VQA task (models/multimodal/fashion_vqa_task.h) on small IDX files in
// Fashion-MNIST's layout: balanced splits, seeded epochs, the loss falls for all three models,
// evaluate's metrics, predict's answer and attention map, a checkpoint round trip, and errors.
#include <filesystem>
#include <map>

#include "models/multimodal/fashion_vqa_task.h"
#include "nn/optim.h"
#include "tests/fashion_test_data.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

std::string data_dir() {
  static const std::string dir = [] {
    const std::string d = (std::filesystem::temp_directory_path() / "minidl_vqa_test").string();
    std::filesystem::create_directories(d);
    minidl::testing::write_band_split(d, "train", 400, 11);
    minidl::testing::write_band_split(d, "t10k", 80, 12);
    return d;
  }();
  return dir;
}

std::unique_ptr<Task> smoke_task(std::unique_ptr<Task> task, uint64_t seed = 5) {
  TaskOptions options;
  options.data_path = data_dir();
  options.smoke = true;
  options.seed = seed;
  task->setup(options);
  return task;
}

// Every question string as often yes as no, every image once yes and once no.
void check_balanced(const FashionVqaTask::Split& split) {
  std::map<int64_t, int64_t> by_question, by_image;
  for (const VqaExample& e : split.examples) {
    CHECK(e.answer == (vqa_questions()[e.question].yes_for[split.labels[e.image]] ? 1 : 0));
    by_question[e.question] += e.answer ? 1 : -1;
    by_image[e.image] += e.answer ? 1 : -1;
  }
  for (const auto& [question, balance] : by_question) CHECK(balance == 0);
  for (const auto& [image, balance] : by_image) CHECK(balance == 0);
}

}  // namespace

TEST_CASE("multimodal-fashion-vqa smoke: balanced splits, training, predict, checkpoint",
          "[multimodal]") {
  auto task = smoke_task(make_multimodal_fashion_vqa_task());
  auto& vqa = dynamic_cast<FashionVqaTask&>(*task);
  // 256 training images, 64 validation, 64 test; about two questions per image.
  CHECK(vqa.split("train").examples.size() > 480);
  CHECK(vqa.split("valid").examples.size() > 100);
  CHECK(vqa.split("test").labels.size() == 64);
  for (const std::string name : {"train", "valid", "test"}) check_balanced(vqa.split(name));

  // Each epoch draws its own questions, the same ones for the same epoch.
  const int64_t batches = task->start_epoch(1, 32);
  CHECK(batches * 32 >= static_cast<int64_t>(vqa.split("train").examples.size()));
  const std::vector<VqaExample> epoch1 = vqa.split("train").examples;
  check_balanced(vqa.split("train"));
  task->start_epoch(2, 32);
  CHECK(vqa.split("train").examples[0].question != epoch1[0].question);
  task->start_epoch(1, 32);
  CHECK(vqa.split("train").examples[5].question == epoch1[5].question);

  optim::Adam optimizer(task->model().parameters(), optim::AdamOptions(3e-3));
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 30, 1);
  CHECK(fit.items == 32);
  CHECK(fit.last < fit.first * 0.8);  // one batch, fitted

  Metrics metrics = task->evaluate("valid");
  REQUIRE(metrics.size() == 6);
  CHECK(metrics[0].first == "accuracy");
  CHECK(metrics[1].first == "loss");
  CHECK(metrics[2].first == "accuracy_class");
  CHECK(metrics[5].first == "accuracy_not");
  for (const auto& [name, value] : metrics) CHECK((value >= 0.0 && value <= 3.0));

  // test image 7 is of class 7 (Sneaker) in these files.
  Prediction p = task->predict("test:7 Is this footwear?");
  CHECK((p.output.rfind("yes (p(yes) = ", 0) == 0 || p.output.rfind("no (p(yes) = ", 0) == 0));
  CHECK(p.output.find("the image is Sneaker, so the answer is yes") != std::string::npos);
  CHECK(p.target_tokens == std::vector<std::string>{"is", "this", "footwear", "?"});
  REQUIRE(p.source_tokens.size() == 4 + 49);
  CHECK(p.source_tokens[4] == "r0c0");
  CHECK(p.source_tokens.back() == "r6c6");
  CHECK(p.attention.shape() == Shape({4, 53}));
  CHECK(task->predict("7 is it a bag?").output.find("so the answer is no") != std::string::npos);

  auto restored = smoke_task(make_multimodal_fashion_vqa_task());
  minidl::testing::checkpoint_round_trip(*task, optimizer, *restored, "fashion_vqa");
  for (const std::string& input : task->example_inputs())
    CHECK(task->predict(input).output == restored->predict(input).output);
}

TEST_CASE("multimodal-fashion-vqa ablations: text-only and image-only train by name",
          "[multimodal]") {
  auto text = smoke_task(make_multimodal_fashion_vqa_text_only_task());
  auto image = smoke_task(make_multimodal_fashion_vqa_image_only_task());
  for (Task* task : {text.get(), image.get()}) {
    task->start_epoch(0, 32);
    optim::Adam optimizer(task->model().parameters(), optim::AdamOptions(3e-3));
    minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 12, 4);
    CHECK(std::isfinite(fit.last));
    // Exactly balanced: whatever a one-modality model answers is right half of the time.
    CHECK(task->evaluate("valid")[0].second == Approx(0.5));
  }
  auto& text_model = dynamic_cast<FashionVqaTask&>(*text).vqa_model();
  CHECK(text_model.conv1 == nullptr);
  CHECK(text->predict("test:3 is it a top?").attention.shape() == Shape({5, 5}));
  auto& image_model = dynamic_cast<FashionVqaTask&>(*image).vqa_model();
  CHECK(image_model.lstm == nullptr);
  Prediction p = image->predict("test:3 is it a top?");
  CHECK(p.attention.shape() == Shape({49, 49}));
  CHECK(p.target_tokens.front() == "r0c0");
}

TEST_CASE("multimodal-fashion-vqa: errors name the input at fault", "[multimodal]") {
  auto task = smoke_task(make_multimodal_fashion_vqa_task());
  CHECK_THROWS_WITH(task->predict("test:3 is this a hat?"), Catch::Contains("unknown word 'hat'"));
  CHECK_THROWS_WITH(task->predict("test:3 a bag is this?"),
                    Catch::Contains("is not a question of the grammar"));
  CHECK_THROWS_WITH(task->predict("test:3"),
                    Catch::Contains("expected 'SPLIT:INDEX QUESTION', e.g. 'test:17 is this"));
  CHECK_THROWS_WITH(task->predict("test:x is this a bag?"),
                    Catch::Contains("SPLIT:INDEX, e.g. test:17, got 'test:x'"));
  CHECK_THROWS_WITH(task->predict("test:64 is this a bag?"),
                    Catch::Contains("the test split has 64 images, asked for 64"));
  CHECK_THROWS_WITH(task->predict("holdout:1 is this a bag?"),
                    Catch::Contains("unknown split 'holdout'"));
  CHECK_THROWS_WITH(task->batch_loss(0, nullptr), Catch::Contains("call start_epoch"));
  CHECK_THROWS_WITH(task->evaluate("dev"), Catch::Contains("unknown split 'dev'"));
  auto missing = make_multimodal_fashion_vqa_task();
  TaskOptions options;
  options.data_path = "/nonexistent/fashion";
  CHECK_THROWS_WITH(missing->setup(options), Catch::Contains("dataset-fashion-mnist"));
}
