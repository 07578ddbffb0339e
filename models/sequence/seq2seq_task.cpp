// The encoder-decoder task (models/sequence/seq2seq_task.h): vocabularies, bucketed batches,
// teacher- forced loss, decoding and the data set's metric.
#include "models/sequence/seq2seq_task.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"
#include "models/common/batching.h"
#include "models/common/metrics.h"
#include "ops/elementwise.h"

namespace minidl::models {

using nn::Vocab;

Seq2SeqTask::Seq2SeqTask(Seq2SeqConfig config) : config_(std::move(config)) {
  MINIDL_CHECK(config_.load && config_.make_model, config_.name,
               "a Seq2SeqConfig needs a data loader and a model factory");
}

Seq2SeqModel& Seq2SeqTask::seq2seq() {
  MINIDL_CHECK(model_, config_.name, "call setup before using the model");
  return *model_;
}

void Seq2SeqTask::setup(const TaskOptions& options) {
  options_ = options;
  data_ = config_.load(options);
  MINIDL_CHECK(!data_.train.empty(), config_.name, "the training split is empty");
  std::vector<std::string> sources, targets;
  for (const Seq2SeqExample& e : data_.train) {
    MINIDL_CHECK(!e.references.empty(), config_.name,
                 "training example \"" << e.source << "\" has no target");
    sources.push_back(e.source);
    const size_t used = config_.train_on_all_references ? e.references.size() : 1;
    targets.insert(targets.end(), e.references.begin(), e.references.begin() + used);
  }
  source_vocab_ = Vocab::build(sources, data_.source_level, config_.source_min_freq);
  target_vocab_ = Vocab::build(targets, data_.target_level, config_.target_min_freq);
  train_.clear();
  max_target_length_ = 0;
  for (const Seq2SeqExample& e : data_.train) {
    const size_t used = config_.train_on_all_references ? e.references.size() : 1;
    for (size_t r = 0; r < used; ++r) {
      train_.push_back(encode(e.source, e.references[r]));
      max_target_length_ =
          std::max<int64_t>(max_target_length_, static_cast<int64_t>(train_.back().target.size()));
    }
  }
  manual_seed(options.seed);
  model_ = config_.make_model(source_vocab_.size(), target_vocab_.size(), options.smoke);
  MINIDL_CHECK(model_, config_.name, "the model factory returned null");
  batches_.clear();
}

TrainDefaults Seq2SeqTask::defaults() const {
  return options_.smoke ? config_.smoke_defaults : config_.defaults;
}

Seq2SeqTask::Example Seq2SeqTask::encode(const std::string& source,
                                         const std::string& target) const {
  return {source_vocab_.encode(source), target_vocab_.encode(target)};
}

int64_t Seq2SeqTask::start_epoch(int64_t epoch, int64_t batch_size) {
  MINIDL_CHECK(model_, config_.name, "call setup before start_epoch");
  MINIDL_CHECK(batch_size >= 1, config_.name, "batch_size must be positive, got " << batch_size);
  std::vector<int64_t> lengths;
  for (const Example& e : train_) lengths.push_back(static_cast<int64_t>(e.source.size()));
  batches_ = length_bucketed_batches(lengths, batch_size, options_.seed, epoch);
  return static_cast<int64_t>(batches_.size());
}

Seq2SeqTask::Batch Seq2SeqTask::make_batch(const std::vector<const Example*>& examples) const {
  const int64_t batch = static_cast<int64_t>(examples.size());
  int64_t source_steps = 1, target_steps = 1;
  for (const Example* e : examples) {
    source_steps = std::max<int64_t>(source_steps, static_cast<int64_t>(e->source.size()));
    target_steps = std::max<int64_t>(target_steps, static_cast<int64_t>(e->target.size()) + 1);
  }
  std::vector<int64_t> source(batch * source_steps, Vocab::kPad);
  std::vector<int64_t> target_input(batch * target_steps, Vocab::kPad);
  std::vector<int64_t> target_output(batch * target_steps, Vocab::kPad);
  Batch result;
  for (int64_t b = 0; b < batch; ++b) {
    const Example& e = *examples[b];
    std::copy(e.source.begin(), e.source.end(), source.begin() + b * source_steps);
    result.lengths.push_back(std::max<int64_t>(1, static_cast<int64_t>(e.source.size())));
    if (e.source.empty()) source[b * source_steps] = Vocab::kUnk;  // never empty
    const int64_t n = static_cast<int64_t>(e.target.size());
    target_input[b * target_steps] = Vocab::kBos;
    for (int64_t t = 0; t < n; ++t) {
      target_input[b * target_steps + t + 1] = e.target[t];
      target_output[b * target_steps + t] = e.target[t];
    }
    target_output[b * target_steps + n] = Vocab::kEos;
  }
  result.source = from_vector(source, {batch, source_steps}, kInt64);
  result.target_input = from_vector(target_input, {batch, target_steps}, kInt64);
  result.target_output = from_vector(target_output, {batch, target_steps}, kInt64);
  return result;
}

Tensor Seq2SeqTask::batch_loss(int64_t index, int64_t* items) {
  MINIDL_CHECK(!batches_.empty(), config_.name, "call start_epoch before batch_loss");
  MINIDL_CHECK(index >= 0 && index < static_cast<int64_t>(batches_.size()), config_.name,
               "batch " << index << " out of range [0, " << batches_.size() << ")");
  const std::vector<int64_t>& ids = batches_[index];
  // This process's part of the batch (models/common/shard.h; all of it on one process). The
  // loss is a mean over target tokens (each example's words and EOS), so the part's weight
  // counts tokens, not examples: world * part tokens / batch tokens. Then the mean over ranks
  // of the weighted part means is the whole batch's token mean, exactly.
  const ShardPart part = shard_part(shard_, static_cast<int64_t>(ids.size()));
  std::vector<const Example*> examples;
  for (int64_t k = part.begin; k < part.end; ++k) examples.push_back(&train_[ids[k]]);
  double weight = part.weight;
  if (shard_.world > 1 && weight > 0) {
    auto tokens = [&](int64_t begin, int64_t end) {
      double count = 0;
      for (int64_t k = begin; k < end; ++k)
        count += static_cast<double>(train_[ids[k]].target.size() + 1);
      return count;
    };
    weight = static_cast<double>(shard_.world) * tokens(part.begin, part.end) /
             tokens(0, static_cast<int64_t>(ids.size()));
  }
  Batch batch = make_batch(examples);
  if (items) *items = part.items();
  Tensor logits = model_->forward(batch.source, batch.lengths, batch.target_input).first;
  Tensor loss = sequence_loss(logits, batch.target_output);
  return weight == 1 ? loss : loss * weight;
}

const std::vector<Seq2SeqExample>& Seq2SeqTask::split(const std::string& name) const {
  if (name == "train") return data_.train;
  if (name == "valid") return data_.valid;
  if (name == "test") return data_.test;
  MINIDL_FAIL(config_.name,
              "unknown split '" << name << "' (expected \"train\", \"valid\" or \"test\")");
}

std::vector<std::string> Seq2SeqTask::translate(const std::vector<std::string>& sources,
                                                int64_t beam_width) {
  MINIDL_CHECK(model_, config_.name, "call setup before decoding");
  MINIDL_CHECK(beam_width >= 1, config_.name, "beam_width must be positive, got " << beam_width);
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  const int64_t max_length = max_target_length_ + 5;
  std::vector<std::string> outputs(sources.size());
  // Sorted by length, so each chunk decodes with little padding.
  std::vector<int64_t> order(sources.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return sources[a].size() < sources[b].size(); });
  const size_t chunk = 256;
  for (size_t first = 0; first < order.size(); first += chunk) {
    std::vector<Example> encoded;
    for (size_t i = first; i < std::min(order.size(), first + chunk); ++i)
      encoded.push_back(encode(sources[order[i]], ""));
    if (beam_width == 1) {
      std::vector<const Example*> examples;
      for (const Example& e : encoded) examples.push_back(&e);
      Batch batch = make_batch(examples);
      std::vector<Seq2SeqModel::Decoded> decoded =
          model_->greedy_decode(batch.source, batch.lengths, max_length);
      for (size_t k = 0; k < encoded.size(); ++k)
        outputs[order[first + k]] = target_vocab_.decode(decoded[k].tokens);
    } else {
      for (size_t k = 0; k < encoded.size(); ++k) {
        std::vector<int64_t> ids = encoded[k].source;
        if (ids.empty()) ids.push_back(Vocab::kUnk);
        outputs[order[first + k]] =
            target_vocab_.decode(model_->beam_search(ids, beam_width, max_length).tokens);
      }
    }
  }
  model_->train(was_training);
  return outputs;
}

Metrics Seq2SeqTask::score(const std::string& name,
                           const std::vector<std::string>& hypotheses) const {
  const std::vector<Seq2SeqExample>& examples = split(name);
  MINIDL_CHECK(hypotheses.size() == examples.size(), config_.name,
               "expected " << examples.size() << " hypotheses for split '" << name << "', got "
                           << hypotheses.size());
  EvaluationSums sums;
  add_score_sums(examples, 0, hypotheses, sums);
  return score_metrics(sums);
}

void Seq2SeqTask::add_score_sums(const std::vector<Seq2SeqExample>& examples, size_t first,
                                 const std::vector<std::string>& hypotheses,
                                 EvaluationSums& sums) const {
  int64_t exact = 0, tokens_right = 0, tokens_total = 0;
  G2PScores g2p;
  BleuCounts bleu;
  for (size_t k = 0; k < hypotheses.size(); ++k) {
    const Tokens got = target_vocab_.tokenize(hypotheses[k]);
    std::vector<Tokens> refs;
    for (const std::string& r : examples.at(first + k).references)
      refs.push_back(target_vocab_.tokenize(r));
    exact += std::find(refs.begin(), refs.end(), got) != refs.end();
    const Tokens& want = refs.front();
    for (size_t t = 0; t < want.size() && t < got.size(); ++t) tokens_right += got[t] == want[t];
    tokens_total += static_cast<int64_t>(want.size());
    if (config_.metric == Seq2SeqMetric::G2P) g2p.add(got, refs);
    if (config_.metric == Seq2SeqMetric::Bleu) bleu.add(got, refs);
  }
  sums.add("sentences", static_cast<double>(hypotheses.size()));
  sums.add("exact", static_cast<double>(exact));
  sums.add("tokens_right", static_cast<double>(tokens_right));
  sums.add("tokens_total", static_cast<double>(tokens_total));
  switch (config_.metric) {
    case Seq2SeqMetric::G2P:
      sums.add("word_errors", static_cast<double>(g2p.word_errors));
      sums.add("phoneme_errors", static_cast<double>(g2p.phoneme_errors));
      sums.add("reference_phonemes", static_cast<double>(g2p.reference_phonemes));
      break;
    case Seq2SeqMetric::Bleu:
      for (int n = 0; n < 4; ++n) {
        sums.add("matches_" + std::to_string(n + 1), static_cast<double>(bleu.matches[n]));
        sums.add("ngrams_" + std::to_string(n + 1), static_cast<double>(bleu.totals[n]));
      }
      sums.add("hypothesis_length", static_cast<double>(bleu.hypothesis_length));
      sums.add("reference_length", static_cast<double>(bleu.reference_length));
      break;
    case Seq2SeqMetric::ExactMatch:
      break;
  }
}

Metrics Seq2SeqTask::score_metrics(const EvaluationSums& sums) const {
  const double exact_match = sums.ratio("exact", "sentences");
  switch (config_.metric) {
    case Seq2SeqMetric::G2P: {
      G2PScores s;
      s.words = sums.count("sentences");
      s.word_errors = sums.count("word_errors");
      s.phoneme_errors = sums.count("phoneme_errors");
      s.reference_phonemes = sums.count("reference_phonemes");
      s.update_rates();
      return {{"wer", s.wer}, {"per", s.per}, {"exact_match", exact_match}};
    }
    case Seq2SeqMetric::Bleu: {
      BleuCounts counts;
      for (int n = 0; n < 4; ++n) {
        counts.matches[n] = sums.count("matches_" + std::to_string(n + 1));
        counts.totals[n] = sums.count("ngrams_" + std::to_string(n + 1));
      }
      counts.hypothesis_length = sums.count("hypothesis_length");
      counts.reference_length = sums.count("reference_length");
      const BleuScore b = bleu_score(counts);
      return {{"bleu", b.bleu},
              {"unigram_precision", b.precisions[0]},
              {"bigram_precision", b.precisions[1]},
              {"brevity_penalty", b.brevity_penalty},
              {"exact_match", exact_match}};
    }
    case Seq2SeqMetric::ExactMatch:
      break;
  }
  return {{"exact_match", exact_match},
          {"token_accuracy", sums.ratio("tokens_right", "tokens_total")}};
}

EvaluationSums Seq2SeqTask::evaluation_sums(const std::string& name) {
  MINIDL_CHECK(model_, config_.name, "call setup before evaluate");
  const std::vector<Seq2SeqExample>& examples = split(name);
  MINIDL_CHECK(!examples.empty(), config_.name, "split '" << name << "' is empty");
  // This process's part of the split (all of it on one process).
  const ShardPart part = shard_evaluation_part(shard_, static_cast<int64_t>(examples.size()));
  const auto begin = static_cast<size_t>(part.begin), end = static_cast<size_t>(part.end);
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  // Teacher-forced loss per target token (<eos> included), against the first reference.
  double loss_sum = 0;
  int64_t loss_tokens = 0;
  const size_t chunk = 256;
  for (size_t first = begin; first < end; first += chunk) {
    std::vector<Example> encoded;
    for (size_t i = first; i < std::min(end, first + chunk); ++i)
      encoded.push_back(encode(examples[i].source, examples[i].references.at(0)));
    std::vector<const Example*> pointers;
    int64_t tokens = 0;
    for (const Example& e : encoded) {
      pointers.push_back(&e);
      tokens += static_cast<int64_t>(e.target.size()) + 1;
    }
    Batch batch = make_batch(pointers);
    Tensor logits = model_->forward(batch.source, batch.lengths, batch.target_input).first;
    loss_sum += sequence_loss(logits, batch.target_output).item<double>() * tokens;
    loss_tokens += tokens;
  }
  model_->train(was_training);
  std::vector<std::string> sources;
  for (size_t i = begin; i < end; ++i) sources.push_back(examples[i].source);
  EvaluationSums sums;
  add_score_sums(examples, begin, translate(sources), sums);
  sums.add("loss_tokens", static_cast<double>(loss_tokens));
  sums.add("loss", loss_sum);
  return sums;
}

Metrics Seq2SeqTask::evaluation_metrics(const EvaluationSums& sums) const {
  Metrics metrics = score_metrics(sums);
  metrics.emplace_back("loss", sums.ratio("loss", "loss_tokens"));
  return metrics;
}

Prediction Seq2SeqTask::predict(const std::string& input, int64_t beam_width) {
  MINIDL_CHECK(model_, config_.name, "call setup before predict");
  MINIDL_CHECK(!input.empty(), config_.name, "predict needs a non-empty input");
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  std::vector<int64_t> source = source_vocab_.encode(input);
  MINIDL_CHECK(!source.empty(), config_.name, "predict needs an input with at least one token");
  const int64_t steps = static_cast<int64_t>(source.size()), max_length = max_target_length_ + 5;
  Seq2SeqModel::Decoded decoded =
      beam_width == 1
          ? model_->greedy_decode(from_vector(source, {1, steps}, kInt64), {steps}, max_length)[0]
          : model_->beam_search(source, beam_width, max_length);
  model_->train(was_training);
  Prediction prediction;
  prediction.output = target_vocab_.decode(decoded.tokens);
  prediction.source_tokens = source_vocab_.tokenize(input);
  for (int64_t token : decoded.tokens)
    prediction.target_tokens.push_back(target_vocab_.id_to_token(token));
  prediction.attention = decoded.attention;
  return prediction;
}

std::vector<std::string> Seq2SeqTask::example_inputs() const {
  std::vector<std::string> inputs = config_.examples;
  for (size_t i = 0; i < data_.test.size() && i < 5; ++i) inputs.push_back(data_.test[i].source);
  return inputs;
}

}  // namespace minidl::models
