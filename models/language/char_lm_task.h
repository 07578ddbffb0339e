// The character language-model task shared by models/language/char_rnn_lm.h and
// models/language/gpt_lm.h: English prose from Debian's fortunes (models/data/text_corpus.h), one
// UTF-8 character per token (nn::Vocab at the Character level, built on the training text),
// next-character prediction.
//
// Text: the entries of each split joined with the fortune files' own separator "\n%\n" (so the
// models learn where a fortune ends). Training: an "epoch" is windows_per_epoch windows of
// context + 1 characters at random offsets of the training text (seeded by (seed, epoch)); input
// = the first `context` characters, target = the same shifted by one. Evaluation: a fixed set of
// windows of each held-out split (consecutive, non-overlapping, from its start; evenly spaced when
// the split holds more than eval_windows of them), every position scored, so the result is the
// mean cross-entropy in nats per character (a window's first characters have little context:
// the number is an upper bound of what the model reaches with a running context).
//
// A model is a CharLanguageModel: ids [B, T] -> logits [B, T, V] (position t predicts character
// t + 1), plus incremental decoding for sampling (a default that re-reads the last max_context()
// characters; a recurrent model overrides it to carry its state).
//
// predict(prompt) samples a continuation (temperature sampling, seeded by the task's seed, so
// the same prompt gives the same text) after "\n%\n" + prompt, until the model ends the fortune
// with "\n%\n" or sample_length characters; Prediction.output is the continuation alone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/common/task.h"
#include "models/data/text_corpus.h"
#include "nn/data.h"
#include "nn/module.h"

namespace minidl::models {

// The interface of a character language model (see above).
class CharLanguageModel : public nn::Module {
 public:
  using nn::Module::Module;
  // ids [B, T] int64 (T <= max_context() when that is > 0) -> logits [B, T, vocab].
  virtual Tensor logits(const Tensor& ids) = 0;
  // The longest input logits() accepts; 0 = any length.
  virtual int64_t max_context() const { return 0; }

  // Incremental decoding (no gradients): start_sampling(prompt) returns the logits [vocab] of the
  // character after `prompt` (non-empty); each continue_sampling(id) appends id and returns the
  // logits of the next one. The default re-runs logits() on the last max_context() characters.
  virtual Tensor start_sampling(const std::vector<int64_t>& prompt);
  virtual Tensor continue_sampling(int64_t id);

 protected:
  std::vector<int64_t> history_;

 private:
  Tensor last_logits();
};

// One registered character-LM task: window sizes, sampling, training defaults and the model.
struct CharLMConfig {
  std::string name;                  // the task's name ("gpt-fortunes")
  int64_t context = 128;             // characters per window
  int64_t windows_per_epoch = 8192;  // random training windows per epoch
  int64_t eval_windows = 512;        // at most this many windows per held-out split
  double temperature = 0.8;          // of predict's sampling
  int64_t sample_length = 300;       // characters predict samples at most
  TrainDefaults defaults;
  // The model for `vocab` characters and windows of `context`; `smoke` asks for a tiny one.
  std::function<std::shared_ptr<CharLanguageModel>(int64_t vocab, int64_t context, bool smoke)>
      make_model;
};

// The separator between entries ("\n%\n", as in the fortune files).
extern const char* const kFortuneSeparator;

// A few short in-memory "fortunes" split train/valid/test: the smoke data (TaskOptions::smoke),
// so tests need no Debian file.
TextCorpus smoke_fortunes();

// The Task described above: next-character prediction over the fortune corpus.
class CharLMTask : public Task {
 public:
  explicit CharLMTask(CharLMConfig config);

  // options.data_path: the fortunes directory ("" = /usr/share/games/fortunes). With
  // options.smoke: smoke_fortunes(), context 16, 64 windows per epoch, 8 evaluation windows.
  void setup(const TaskOptions& options) override;
  // Same, with the corpus given (tests; the other options as for setup).
  void setup_with_corpus(const TextCorpus& corpus, const TaskOptions& options);
  nn::Module& model() override;
  TrainDefaults defaults() const override { return config_.defaults; }
  int64_t start_epoch(int64_t epoch, int64_t batch_size) override;
  // Mean cross-entropy (nats/char) of a batch of windows; items = its number of characters.
  Tensor batch_loss(int64_t index, int64_t* items) override;
  // Batches and evaluations both cut by window (models/common/shard.h).
  bool shards_batches() const override { return true; }
  // evaluate(split): nats_per_char, bits_per_char, loss (= nats_per_char) on the split's fixed
  // windows, from the sums of their characters' nats and of their characters.
  bool evaluates_by_sums() const override { return true; }
  EvaluationSums evaluation_sums(const std::string& split) override;
  Metrics evaluation_metrics(const EvaluationSums& sums) const override;
  // output = a sampled continuation of the prompt (see the top of this file).
  Prediction predict(const std::string& input) override;
  std::vector<std::string> example_inputs() const override;

  // Samples up to `length` characters after "\n%\n" + prompt at this temperature (0 = greedy),
  // seeded; stops early where the model writes the separator (which is not returned).
  std::string sample(const std::string& prompt, int64_t length, double temperature, uint64_t seed);

  // The model (after setup; before it is an error).
  CharLanguageModel& language_model();
  const nn::Vocab& vocab() const { return vocab_; }
  int64_t context() const { return context_; }
  const CharLMConfig& config() const { return config_; }
  // The encoded text of "train", "valid" or "test".
  const std::vector<int64_t>& split_ids(const std::string& split) const;
  // Windows (input ids [B, T], targets [B, T]) starting at these offsets of a split.
  std::pair<Tensor, Tensor> make_batch(const std::vector<int64_t>& ids,
                                       const std::vector<int64_t>& starts, int64_t length) const;

 private:
  CharLMConfig config_;
  TaskOptions options_;
  int64_t context_ = 0, windows_per_epoch_ = 0, eval_windows_ = 0;
  nn::Vocab vocab_;
  std::vector<int64_t> train_, valid_, test_;
  std::shared_ptr<CharLanguageModel> model_;
  std::vector<int64_t> starts_;  // the current epoch's window offsets
  int64_t batch_size_ = 0;
  // The evaluation windows of a split: their offsets and their common length.
  std::pair<std::vector<int64_t>, int64_t> evaluation_windows(const std::string& split) const;
};

}  // namespace minidl::models
