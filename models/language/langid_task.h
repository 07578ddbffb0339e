// The language-identification task shared by the word classifiers of models/bilstm_attention_
// classifier.h and models/language/transformer_classifier.h: one word (UTF-8 characters, nn::Vocab
// at the Character level) -> one of the eight languages of models/data/langid_data.h.
//
// A model is a WordClassifier: character ids [B, T] (right-padded with 0) and the real lengths
// in; logits [B, C] and pooling weights over the characters [B, T] out (rows sum to 1 over the
// real characters, 0 on padding: the heat map). The task owns the data, the vocabulary, the
// batching (words of similar lengths batched together), the loss (cross-entropy), evaluation
// (accuracy, loss, accuracy of each language) and prediction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/common/task.h"
#include "models/data/langid_data.h"
#include "nn/data.h"
#include "nn/module.h"

namespace minidl::models {

// The interface of a language-identification model (see above).
class WordClassifier : public nn::Module {
 public:
  using nn::Module::Module;
  // ids [B, T] int64, right-padded with 0; lengths[b] in [1, T] -> (logits [B, C], weights [B, T]).
  virtual std::pair<Tensor, Tensor> classify(const Tensor& ids,
                                             const std::vector<int64_t>& lengths) = 0;
};

// One registered language-identification task: data size, training defaults and the model.
struct LangIdConfig {
  std::string name;              // the task's name ("bilstm-attention-langid")
  int64_t per_language = 20000;  // words sampled per language
  TrainDefaults defaults;        // epochs, batch size, lr, optimizer
  // The model for `vocab` characters and `classes` languages; `smoke` asks for a tiny one.
  std::function<std::shared_ptr<WordClassifier>(int64_t vocab, int64_t classes, bool smoke)>
      make_model;
};

// Tiny in-memory word lists for the eight languages (distinct letter patterns per language):
// the smoke data (TaskOptions::smoke), so tests need no Debian files.
std::vector<std::vector<std::string>> smoke_word_lists(int64_t per_language);

// The Task described above.
class LangIdTask : public Task {
 public:
  explicit LangIdTask(LangIdConfig config);

  void setup(const TaskOptions& options) override;
  nn::Module& model() override;
  TrainDefaults defaults() const override { return config_.defaults; }
  int64_t start_epoch(int64_t epoch, int64_t batch_size) override;
  Tensor batch_loss(int64_t index, int64_t* items) override;
  bool shards_batches() const override { return true; }
  // evaluate(split): accuracy, loss, accuracy_<language> for each language -- from the sums of
  // words, losses and each language's words and right answers.
  bool evaluates_by_sums() const override { return true; }
  EvaluationSums evaluation_sums(const std::string& split) override;
  Metrics evaluation_metrics(const EvaluationSums& sums) const override;
  // output = the language; target_tokens = {language}; source_tokens = the characters;
  // attention [1, chars] = the model's pooling weights.
  Prediction predict(const std::string& input) override;
  std::vector<std::string> example_inputs() const override;

  // The model (after setup; before it is an error).
  WordClassifier& classifier();
  const LangIdData& data() const { return data_; }
  const nn::Vocab& vocab() const { return vocab_; }

  // Words as character ids [B, T] (right-padded with 0), their lengths, and labels [B].
  struct Batch {
    Tensor ids, labels;  // [B, T], [B]
    std::vector<int64_t> lengths;
  };
  // The examples as one Batch, T = the longest word's length.
  Batch make_batch(const std::vector<const LangIdExample*>& examples) const;

 private:
  const std::vector<LangIdExample>& split(const std::string& name) const;

  LangIdConfig config_;
  TaskOptions options_;
  LangIdData data_;
  nn::Vocab vocab_;
  std::shared_ptr<WordClassifier> model_;
  std::vector<std::vector<int64_t>> batches_;  // the current epoch's batches (train indices)
};

}  // namespace minidl::models
