// Image captioning with attention as a Task: mosaics of four Fashion-MNIST images
// (models/captioning/mosaic_data.h) captioned word by word by an attention decoder
// (models/captioning/show_attend_tell.h), trained with teacher forcing and cross-entropy over
// the four words and <end>, decoded greedily.
//
// Splits: the 60,000 training images shuffled (seeded); the last 5,000 are held out, making
// 1,250 validation mosaics; the other 55,000 make 13,750 training mosaics, drawn afresh each epoch
// (a seeded permutation cut in fours, so every image is used once per epoch, in a new company
// and quadrant). The 10,000 test images make 2,500 test mosaics (one seeded permutation). In
// training each 28x28 tile is augmented before the mosaic is assembled (random crop with padding
// 2, horizontal flip; nn/transforms.h); every image is normalised with Fashion-MNIST's mean and
// standard deviation.
//
// Metrics (models/captioning/caption_metrics.h), on greedy captions: word_accuracy (headline),
// exact_match, quadrant_attention (the mean fraction of each word's attention on its quadrant)
// and its value per quadrant (quadrant_attention_tl, _tr, _bl, _br), and the teacher-forced loss.
// predict("test:17") captions test mosaic 17 ("valid:N", and "train:N" for epoch 0's mosaics,
// likewise) and returns the mosaic and each word's attention grid for the overlays of
// tools/predict.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/captioning/show_attend_tell.h"
#include "models/common/task.h"
#include "models/data/fashion_mnist.h"
#include "nn/transforms.h"

namespace minidl::models {

// What distinguishes the two registered captioning tasks: the model (full and smoke sizes),
// training defaults and augmentation.
struct CaptioningConfig {
  std::string name;                 // the registry name, for messages
  AttentionCaptionerOptions model;  // vocab_size is set by setup
  AttentionCaptionerOptions smoke_model;
  TrainDefaults defaults;
  int64_t crop_padding = 2;  // RandomCrop(28, padding) of each tile; 0 = no crop
  bool flip = true;          // RandomHorizontalFlip(0.5) of each tile
};

// The Task (models/common/task.h) described above.
class CaptioningTask : public Task {
 public:
  explicit CaptioningTask(CaptioningConfig config);

  void setup(const TaskOptions& options) override;
  nn::Module& model() override;
  TrainDefaults defaults() const override { return config_.defaults; }
  int64_t start_epoch(int64_t epoch, int64_t batch_size) override;
  Tensor batch_loss(int64_t index, int64_t* items) override;
  bool shards_batches() const override { return true; }
  // evaluate(split): word_accuracy, exact_match, the quadrant attention overall and per quadrant
  // (models/captioning/caption_metrics.h), loss -- from CaptionScores' counts and the summed loss.
  bool evaluates_by_sums() const override { return true; }
  EvaluationSums evaluation_sums(const std::string& split) override;
  Metrics evaluation_metrics(const EvaluationSums& sums) const override;
  Prediction predict(const std::string& input) override;
  std::vector<std::string> example_inputs() const override;

  const std::vector<std::string>& vocabulary() const { return vocabulary_; }
  // The model (after setup; before it is an error).
  AttentionCaptioner& captioner();

  // A set of mosaics: the single images, and which four make each mosaic.
  struct MosaicSplit {
    ImageSplit images;
    Tensor table;  // [N, 4] int64 indices into images
  };
  // "train", "valid" or "test" (another name is an error).
  const MosaicSplit& split(const std::string& name) const;
  // Mosaics rows [begin, end) of a split as the model sees them: [n, 1, 56, 56], normalised
  // (augmented tile by tile when `augment` is given), and their captions [n, 6].
  std::pair<Tensor, Tensor> mosaics(const MosaicSplit& data, int64_t begin, int64_t end,
                                    Generator* augment = nullptr) const;
  // The same unnormalised, pixels in [0, 1] (for pictures).
  Tensor raw_mosaics(const MosaicSplit& data, int64_t begin, int64_t end) const;

 private:
  CaptioningConfig config_;
  TaskOptions options_;
  MosaicSplit train_, valid_, test_;
  std::vector<std::string> class_names_, vocabulary_;
  std::shared_ptr<AttentionCaptioner> model_;
  std::shared_ptr<nn::transforms::Transform> augment_, normalize_;
  int64_t epoch_ = 0, batch_size_ = 0;
};

// `caption-lstm-attention` (additive attention, the tutorial's) and `caption-dot-attention`
// (tanh-dot attention), registered in models/registry.cpp.
std::unique_ptr<Task> make_caption_lstm_attention_task();
std::unique_ptr<Task> make_caption_dot_attention_task();

}  // namespace minidl::models
