// Visual question answering on Fashion-MNIST as a Task: yes/no questions from the grammar of
// models/multimodal/vqa_data.h about real Fashion-MNIST images, answered by the multimodal
// attention model (models/multimodal/multimodal_attention.h) or one of its single-modality
// ablations.
//
// Splits: the 60,000 training images shuffled (seeded), the last 5,000 held out for validation;
// the 10,000 test images for test. Each split's questions are balanced exactly (two per image,
// one answered yes, one no; every question string as often yes as no), so a text-only or
// image-only model scores 0.5. Training questions are drawn afresh every epoch from (seed,
// epoch); validation questions from the seed; test questions from a fixed seed, the same for
// every run. Training images are augmented (random crop with padding 2, horizontal flip) and
// normalised, the others normalised.
//
// Metrics: accuracy (headline), loss (cross-entropy, nats), and accuracy_class / _or /
// _category / _not, the accuracy on each type of question.
//
// predict("test:17 is this footwear?"): SPLIT:INDEX (an image of the test, valid or train split;
// a bare number is a test index), a space, then a question of the grammar (any case; unknown
// words and non-questions are errors). The output is the answer and p(yes), with the grammar's
// answer for that image; the attention map is question tokens x [question tokens; image cells]
// ("r3c4" = row 3, column 4 of the 7x7 grid) -- image cells x image cells for the image-only
// model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/common/task.h"
#include "models/data/fashion_mnist.h"
#include "models/multimodal/multimodal_attention.h"
#include "models/multimodal/vqa_data.h"
#include "nn/data.h"
#include "nn/transforms.h"

namespace minidl::models {

// One registered VQA task: which modalities the model uses, and the training defaults.
struct FashionVqaConfig {
  std::string name;  // the registry name, for messages
  bool use_text = true, use_image = true;
  TrainDefaults defaults;
};

// The Task described above.
class FashionVqaTask : public Task {
 public:
  explicit FashionVqaTask(FashionVqaConfig config);

  void setup(const TaskOptions& options) override;
  nn::Module& model() override;
  TrainDefaults defaults() const override { return config_.defaults; }
  int64_t start_epoch(int64_t epoch, int64_t batch_size) override;
  Tensor batch_loss(int64_t index, int64_t* items) override;
  bool shards_batches() const override { return true; }
  // evaluate(split): accuracy, loss, accuracy_<question type> for each type -- from the sums of
  // questions, losses and each type's questions and right answers.
  bool evaluates_by_sums() const override { return true; }
  EvaluationSums evaluation_sums(const std::string& split) override;
  Metrics evaluation_metrics(const EvaluationSums& sums) const override;
  Prediction predict(const std::string& input) override;
  std::vector<std::string> example_inputs() const override;

  // One split's images and the questions asked about them.
  struct Split {
    ImageSplit images;
    std::vector<int64_t> labels;       // the images' classes
    std::vector<VqaExample> examples;  // questions about them
  };
  // "train" (this epoch's questions), "valid" or "test".
  const Split& split(const std::string& name) const;
  MultimodalAttentionVqa& vqa_model();
  const nn::Vocab& vocab() const { return vocab_; }

  // One batch of examples as the model reads them.
  struct Batch {
    Tensor images, ids, labels;  // [B, 1, 28, 28] (normalised; undefined for the text-only
                                 // model), [B, T], [B] (1 = yes)
    std::vector<int64_t> lengths;
  };
  // Examples [begin, end) of `order` (indices into data.examples); `augment` for training.
  Batch make_batch(const Split& data, const std::vector<int64_t>& order, int64_t begin, int64_t end,
                   Generator* augment) const;

 private:
  FashionVqaConfig config_;
  TaskOptions options_;
  Split train_, valid_, test_;
  std::vector<std::string> class_names_;
  nn::Vocab vocab_;
  std::vector<std::vector<int64_t>> question_ids_;  // each question's token ids
  std::shared_ptr<MultimodalAttentionVqa> model_;
  std::shared_ptr<nn::transforms::Transform> augment_, normalize_;
  std::vector<int64_t> order_;  // this epoch's order of train_.examples
  int64_t epoch_ = 0, batch_size_ = 0;
};

// The full model and its two ablations, registered in models/registry.cpp.
std::unique_ptr<Task> make_multimodal_fashion_vqa_task();
std::unique_ptr<Task> make_multimodal_fashion_vqa_text_only_task();
std::unique_ptr<Task> make_multimodal_fashion_vqa_image_only_task();

}  // namespace minidl::models
