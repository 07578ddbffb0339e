// Image classification as a Task: any model mapping images [N, C, H, W] to class logits, trained
// with cross-entropy on Fashion-MNIST, with the vision pipeline users of vision frameworks expect
// -- per-channel normalisation, and seeded augmentation (random crop with padding, horizontal
// flip; nn/transforms.h) on the training batches only.
//
// Splits: the 60,000 training images shuffled (seeded), the last 5,000 held out for validation;
// the 10,000 test images for test. Metrics: accuracy (headline) and mean loss.
// predict("test:17") classifies test image 17 ("valid:N", "train:N" likewise; a bare number is
// a test index).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/common/task.h"
#include "models/data/fashion_mnist.h"
#include "nn/transforms.h"

namespace minidl::models {

// One registered image classifier: the model factory, training defaults and augmentation.
struct ImageClassificationConfig {
  std::string name;  // the registry name, for messages
  // The model for `classes` classes: a Module whose forward maps [N, 1, 28, 28] to [N, classes].
  std::function<std::shared_ptr<nn::Module>(int64_t classes)> build;
  TrainDefaults defaults;
  int64_t crop_padding = 2;  // RandomCrop(28, padding); 0 = no crop
  bool flip = true;          // RandomHorizontalFlip(0.5)
};

// Fashion-MNIST classification as a Task (see above).
class ImageClassificationTask : public Task {
 public:
  explicit ImageClassificationTask(ImageClassificationConfig config);

  void setup(const TaskOptions& options) override;
  nn::Module& model() override;
  TrainDefaults defaults() const override { return config_.defaults; }
  int64_t start_epoch(int64_t epoch, int64_t batch_size) override;
  Tensor batch_loss(int64_t index, int64_t* items) override;
  bool shards_batches() const override { return true; }
  bool evaluates_by_sums() const override { return true; }
  EvaluationSums evaluation_sums(const std::string& split) override;
  Metrics evaluation_metrics(const EvaluationSums& sums) const override;
  Prediction predict(const std::string& input) override;
  std::vector<std::string> example_inputs() const override;

  const std::vector<std::string>& class_names() const { return class_names_; }
  // The images of a batch as the model sees them in training (augmented and normalised).
  Tensor training_images(int64_t index) const;

 private:
  const ImageSplit& split(const std::string& name) const;

  ImageClassificationConfig config_;
  TaskOptions options_;
  ImageSplit train_, valid_, test_;
  std::vector<std::string> class_names_;
  std::shared_ptr<nn::Module> model_;
  std::shared_ptr<nn::transforms::Transform> augment_, normalize_;
  Tensor order_;  // this epoch's training order (int64 permutation)
  int64_t epoch_ = 0, batch_size_ = 0;
};

// The tutorial models on Fashion-MNIST, registered in models/registry.cpp:
// the W5 CNN (conv 32 - pool - conv 64 - pool - Linear 128 - Linear 10), and the Vision
// Transformer (models/vision/vit.h: 4x4 patches, d 64, 6 pre-norm layers of 4 heads, no dropout).
std::unique_ptr<Task> make_cnn_fashion_mnist_task();
std::unique_ptr<Task> make_vit_fashion_mnist_task();

}  // namespace minidl::models
