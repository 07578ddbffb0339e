// The task every attention encoder-decoder of models/ trains through: text pairs (a source and
// one or more acceptable targets), the vocabularies, length-bucketed batching, teacher-forced
// cross-entropy, greedy/beam decoding and the metric of the data set:
//
//   ExactMatch  dates:                exact_match (any reference), token_accuracy, loss
//   G2P         grapheme-to-phoneme:  wer, per (a word is right if it matches any listed
//                                     pronunciation; models/common/metrics.h), exact_match, loss
//   Bleu        translation:          bleu (corpus BLEU-4 against all references), its unigram
//                                     and bigram precisions and brevity penalty, exact_match, loss
//
// A task is a Seq2SeqConfig: a loader for the data, a factory for the model, the training
// defaults and the metric. Models 1, 3 and 4 of issue 5 on dates, CMUdict and FreeDict are all
// such configurations (models/sequence/bahdanau_seq2seq.h, translation_seq2seq.h,
// bilstm_seq2seq.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/common/task.h"
#include "models/sequence/seq2seq_model.h"
#include "nn/data.h"

namespace minidl::models {

// One pair: the source text and its acceptable targets (references[0] is the training target;
// with train_on_all_references every one is a training pair).
struct Seq2SeqExample {
  std::string source;
  std::vector<std::string> references;
};

// The split text pairs and the vocabulary levels of each side.
struct Seq2SeqData {
  std::vector<Seq2SeqExample> train, valid, test;
  // How each side is tokenized (nn::Vocab): characters, or whitespace-separated words.
  nn::Vocab::Level source_level = nn::Vocab::Level::Character;
  nn::Vocab::Level target_level = nn::Vocab::Level::Character;
};

enum class Seq2SeqMetric { ExactMatch, G2P, Bleu };

// One registered encoder-decoder task (see above).
struct Seq2SeqConfig {
  std::string name;  // the task's name (in errors and reports)
  // The data for the options (TaskOptions::smoke: a few in-memory examples).
  std::function<Seq2SeqData(const TaskOptions&)> load;
  // The model for the vocabularies' sizes; `smoke` asks for a tiny one.
  std::function<std::shared_ptr<Seq2SeqModel>(int64_t source_vocab, int64_t target_vocab,
                                              bool smoke)>
      make_model;
  TrainDefaults defaults, smoke_defaults;
  Seq2SeqMetric metric = Seq2SeqMetric::ExactMatch;
  bool train_on_all_references = false;
  // Tokens seen fewer times in training become <unk> (word-level vocabularies).
  int64_t source_min_freq = 1, target_min_freq = 1;
  std::vector<std::string> examples;  // inputs shown in reports, before a few test sources
};

// The Task described above.
class Seq2SeqTask : public Task {
 public:
  explicit Seq2SeqTask(Seq2SeqConfig config);

  void setup(const TaskOptions& options) override;
  nn::Module& model() override { return seq2seq(); }
  TrainDefaults defaults() const override;
  int64_t start_epoch(int64_t epoch, int64_t batch_size) override;
  Tensor batch_loss(int64_t index, int64_t* items) override;
  bool shards_batches() const override { return true; }
  // evaluate(split): the metrics of score() on greedy translations, then the teacher-forced loss
  // per target token -- from sums over sentences (exact matches, edit counts or BLEU's n-gram
  // counts, summed token losses), so that N processes can each evaluate a part of the split.
  bool evaluates_by_sums() const override { return true; }
  EvaluationSums evaluation_sums(const std::string& split) override;
  Metrics evaluation_metrics(const EvaluationSums& sums) const override;
  Prediction predict(const std::string& input) override { return predict(input, 1); }
  // beam_width 1 = greedy decoding.
  Prediction predict(const std::string& input, int64_t beam_width);
  std::vector<std::string> example_inputs() const override;

  // Greedy (beam_width 1) or beam-search outputs for a list of sources, as target texts.
  std::vector<std::string> translate(const std::vector<std::string>& sources,
                                     int64_t beam_width = 1);
  // The metrics of hypotheses (target texts) against the split's references.
  Metrics score(const std::string& split, const std::vector<std::string>& hypotheses) const;

  Seq2SeqModel& seq2seq();  // after setup
  const Seq2SeqData& data() const { return data_; }
  const nn::Vocab& source_vocab() const { return source_vocab_; }
  const nn::Vocab& target_vocab() const { return target_vocab_; }
  const Seq2SeqConfig& config() const { return config_; }
  int64_t max_target_length() const { return max_target_length_; }

 protected:
  // One encoded training pair.
  struct Example {
    std::vector<int64_t> source, target;
  };
  struct Batch {
    Tensor source, target_input, target_output;  // [B, Ts], [B, Tt], [B, Tt]
    std::vector<int64_t> lengths;
  };
  Batch make_batch(const std::vector<const Example*>& examples) const;
  const std::vector<Seq2SeqExample>& split(const std::string& name) const;
  Example encode(const std::string& source, const std::string& target) const;
  // Adds to sums what score() computes its metrics from: hypotheses[k] against the references of
  // examples[first + k].
  void add_score_sums(const std::vector<Seq2SeqExample>& examples, size_t first,
                      const std::vector<std::string>& hypotheses, EvaluationSums& sums) const;
  // score()'s metrics from those sums.
  Metrics score_metrics(const EvaluationSums& sums) const;

  Seq2SeqConfig config_;
  TaskOptions options_;
  Seq2SeqData data_;
  nn::Vocab source_vocab_, target_vocab_;
  std::vector<Example> train_;
  std::shared_ptr<Seq2SeqModel> model_;
  std::vector<std::vector<int64_t>> batches_;  // the current epoch's batches (train indices)
  int64_t max_target_length_ = 0;
};

}  // namespace minidl::models
