// The language-identification task plumbing shared by the word classifiers: data, vocabulary,
// length-bucketed padded batches, cross-entropy, accuracy per language, prediction.
#include "models/language/langid_task.h"

#include <algorithm>
#include <random>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"
#include "models/common/batching.h"
#include "models/data/text_corpus.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/reduction.h"

namespace minidl::models {

using nn::Vocab;

std::vector<std::vector<std::string>> smoke_word_lists(int64_t per_language) {
  // Each language draws from its own syllables, so the classes are learnable.
  const std::vector<std::vector<std::string>> syllables = {
      {"th", "ing", "ed", "wh"}, {"sch", "ei", "ung", "ß"}, {"eau", "ç", "oi", "è"},
      {"ñ", "ar", "os", "ció"},  {"zz", "ia", "tt", "ò"},   {"ão", "lh", "nh", "ê"},
      {"ij", "oe", "aa", "kk"},  {"å", "ä", "ö", "sj"}};
  std::vector<std::vector<std::string>> lists(syllables.size());
  std::mt19937_64 rng(7);
  for (size_t l = 0; l < syllables.size(); ++l)
    for (int64_t i = 0; static_cast<int64_t>(lists[l].size()) < per_language; ++i) {
      std::string word;
      const uint64_t parts = 1 + rng() % 4;
      for (uint64_t p = 0; p < parts; ++p) word += syllables[l][rng() % syllables[l].size()];
      word += static_cast<char>('a' + i % 26);
      if (std::find(lists[l].begin(), lists[l].end(), word) == lists[l].end())
        lists[l].push_back(word);
    }
  return lists;
}

LangIdTask::LangIdTask(LangIdConfig config) : config_(std::move(config)) {
  MINIDL_CHECK(static_cast<bool>(config_.make_model), "LangIdTask",
               "the configuration of '" << config_.name << "' has no model factory");
}

void LangIdTask::setup(const TaskOptions& options) {
  options_ = options;
  LangIdOptions data_options;
  data_options.seed = options.seed;
  if (options.smoke) {
    data_options.per_language = 20;
    data_ = make_langid_data(langid_languages(), smoke_word_lists(30), data_options);
  } else {
    if (!options.data_path.empty()) data_options.dict_dir = options.data_path;
    data_options.per_language = config_.per_language;
    data_ = load_langid(data_options);
  }
  std::vector<std::string> words;
  for (const LangIdExample& e : data_.train) words.push_back(e.word);
  vocab_ = Vocab::build(words);
  manual_seed(options.seed);
  model_ = config_.make_model(vocab_.size(), static_cast<int64_t>(data_.languages.size()),
                              options.smoke);
  batches_.clear();
}

WordClassifier& LangIdTask::classifier() {
  MINIDL_CHECK(model_, config_.name, "call setup before using the model");
  return *model_;
}

nn::Module& LangIdTask::model() {
  return classifier();
}

int64_t LangIdTask::start_epoch(int64_t epoch, int64_t batch_size) {
  MINIDL_CHECK(model_, config_.name, "call setup before start_epoch");
  MINIDL_CHECK(batch_size >= 1, config_.name, "batch_size must be positive, got " << batch_size);
  std::vector<int64_t> lengths;
  for (const LangIdExample& e : data_.train) lengths.push_back(static_cast<int64_t>(e.word.size()));
  batches_ = length_bucketed_batches(lengths, batch_size, options_.seed, epoch);
  return static_cast<int64_t>(batches_.size());
}

LangIdTask::Batch LangIdTask::make_batch(const std::vector<const LangIdExample*>& examples) const {
  MINIDL_CHECK(!examples.empty(), config_.name, "make_batch needs at least one word");
  const int64_t batch = static_cast<int64_t>(examples.size());
  std::vector<std::vector<int64_t>> encoded;
  int64_t steps = 1;
  for (const LangIdExample* e : examples) {
    encoded.push_back(vocab_.encode(e->word));
    if (encoded.back().empty()) encoded.back().push_back(Vocab::kUnk);  // never empty
    steps = std::max<int64_t>(steps, static_cast<int64_t>(encoded.back().size()));
  }
  std::vector<int64_t> ids(static_cast<size_t>(batch * steps), Vocab::kPad), labels;
  Batch result;
  for (int64_t b = 0; b < batch; ++b) {
    std::copy(encoded[b].begin(), encoded[b].end(), ids.begin() + b * steps);
    result.lengths.push_back(static_cast<int64_t>(encoded[b].size()));
    labels.push_back(examples[b]->label);
  }
  result.ids = from_vector(ids, {batch, steps}, kInt64);
  result.labels = from_vector(labels, {batch}, kInt64);
  return result;
}

Tensor LangIdTask::batch_loss(int64_t index, int64_t* items) {
  MINIDL_CHECK(!batches_.empty(), config_.name, "call start_epoch before batch_loss");
  MINIDL_CHECK(index >= 0 && index < static_cast<int64_t>(batches_.size()), config_.name,
               "batch " << index << " out of range [0, " << batches_.size() << ")");
  // This process's part of the batch (models/common/shard.h; all of it on one process).
  const std::vector<int64_t>& ids = batches_[index];
  const ShardPart part = shard_part(shard_, static_cast<int64_t>(ids.size()));
  std::vector<const LangIdExample*> examples;
  for (int64_t k = part.begin; k < part.end; ++k) examples.push_back(&data_.train[ids[k]]);
  if (items) *items = part.items();
  Batch batch = make_batch(examples);
  Tensor loss = cross_entropy(model_->classify(batch.ids, batch.lengths).first, batch.labels);
  return part.weight == 1 ? loss : loss * part.weight;
}

const std::vector<LangIdExample>& LangIdTask::split(const std::string& name) const {
  if (name == "train") return data_.train;
  if (name == "valid") return data_.valid;
  if (name == "test") return data_.test;
  MINIDL_FAIL(config_.name,
              "unknown split '" << name << "' (expected \"train\", \"valid\" or \"test\")");
}

EvaluationSums LangIdTask::evaluation_sums(const std::string& name) {
  MINIDL_CHECK(model_, config_.name, "call setup before evaluate");
  const std::vector<LangIdExample>& examples = split(name);
  MINIDL_CHECK(!examples.empty(), config_.name, "split '" << name << "' is empty");
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  // This process's part of the split (all of it on one process).
  const ShardPart part = shard_evaluation_part(shard_, static_cast<int64_t>(examples.size()));
  const int64_t chunk = 512;
  const size_t classes = data_.languages.size();
  std::vector<int64_t> right(classes, 0), seen(classes, 0);
  double loss_sum = 0;
  for (int64_t first = part.begin; first < part.end; first += chunk) {
    const int64_t count = std::min(chunk, part.end - first);
    std::vector<const LangIdExample*> words;
    for (int64_t i = first; i < first + count; ++i) words.push_back(&examples[i]);
    Batch batch = make_batch(words);
    Tensor logits = model_->classify(batch.ids, batch.lengths).first;
    loss_sum += cross_entropy(logits, batch.labels).item<double>() * count;
    const std::vector<int64_t> predicted = argmax(logits, 1).to_vector<int64_t>();
    for (int64_t b = 0; b < count; ++b) {
      seen[words[b]->label] += 1;
      right[words[b]->label] += predicted[b] == words[b]->label;
    }
  }
  model_->train(was_training);
  EvaluationSums sums;
  add_class_counts(sums, data_.languages, seen, right);
  sums.add("loss", loss_sum);
  return sums;
}

Metrics LangIdTask::evaluation_metrics(const EvaluationSums& sums) const {
  return class_accuracy_metrics(sums, data_.languages);
}

Prediction LangIdTask::predict(const std::string& input) {
  MINIDL_CHECK(model_, config_.name, "call setup before predict");
  MINIDL_CHECK(!input.empty(), config_.name, "predict needs a non-empty word");
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  const std::string normalized = normalize_langid_word(input);
  const LangIdExample example{normalized.empty() ? input : normalized, 0};
  Batch batch = make_batch({&example});
  auto [logits, weights] = model_->classify(batch.ids, batch.lengths);
  model_->train(was_training);
  const int64_t label = argmax(logits, 1).to_vector<int64_t>()[0];
  Prediction prediction;
  prediction.output = data_.languages[label];
  prediction.target_tokens = {prediction.output};
  prediction.source_tokens = utf8_chars(example.word);
  prediction.attention = weights.contiguous();  // [1, chars]
  return prediction;
}

std::vector<std::string> LangIdTask::example_inputs() const {
  std::vector<std::string> inputs = {"house", "haus", "maison", "casa", "huis", "hus"};
  for (size_t i = 0; i < data_.test.size() && i < 6; ++i) inputs.push_back(data_.test[i].word);
  return inputs;
}

}  // namespace minidl::models
