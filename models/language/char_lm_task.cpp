// The character language-model task: fortunes text, random training windows, fixed evaluation
// windows, cross-entropy in nats per character, seeded temperature sampling.
#include "models/language/char_lm_task.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/loss.h"

namespace minidl::models {

using nn::Vocab;

const char* const kFortuneSeparator = "\n%\n";

// ---- CharLanguageModel: the default incremental decoding ------------------------------------

Tensor CharLanguageModel::last_logits() {
  const int64_t limit = max_context();
  const int64_t total = static_cast<int64_t>(history_.size());
  const int64_t keep = limit > 0 ? std::min(limit, total) : total;
  std::vector<int64_t> window(history_.end() - keep, history_.end());
  Tensor out = logits(from_vector(window, {1, keep}, kInt64));  // [1, keep, V]
  return out.select(0, 0).select(0, keep - 1).contiguous();     // [V]
}

Tensor CharLanguageModel::start_sampling(const std::vector<int64_t>& prompt) {
  MINIDL_CHECK(!prompt.empty(), type_name(), "start_sampling needs a non-empty prompt");
  history_ = prompt;
  return last_logits();
}

Tensor CharLanguageModel::continue_sampling(int64_t id) {
  MINIDL_CHECK(!history_.empty(), type_name(), "call start_sampling before continue_sampling");
  history_.push_back(id);
  return last_logits();
}

// ---- smoke data ----------------------------------------------------------------------------

TextCorpus smoke_fortunes() {
  TextCorpus corpus;
  corpus.files = {"smoke"};
  const std::vector<std::string> subjects = {"The cat", "A dog", "The old man", "My friend",
                                             "The sea"};
  const std::vector<std::string> verbs = {"sees", "likes", "hates", "finds", "knows"};
  const std::vector<std::string> objects = {"the moon.", "a red hat.", "the truth.", "the sea.",
                                            "a good book."};
  std::vector<std::string> entries;
  for (size_t i = 0; i < subjects.size(); ++i)
    for (size_t j = 0; j < verbs.size(); ++j)
      entries.push_back(subjects[i] + " " + verbs[j] + " " + objects[(i + j) % objects.size()] +
                        "\n\t-- " + subjects[(i + 2 * j) % subjects.size()]);
  // 25 entries: 19 train, 3 valid, 3 test.
  for (size_t k = 0; k < entries.size(); ++k) {
    if (k % 8 == 3)
      corpus.valid.push_back(entries[k]);
    else if (k % 8 == 6)
      corpus.test.push_back(entries[k]);
    else
      corpus.train.push_back(entries[k]);
  }
  return corpus;
}

// ---- the task ------------------------------------------------------------------------------

CharLMTask::CharLMTask(CharLMConfig config) : config_(std::move(config)) {
  MINIDL_CHECK(static_cast<bool>(config_.make_model), "CharLMTask",
               "the configuration of '" << config_.name << "' has no model factory");
  MINIDL_CHECK(config_.context >= 1 && config_.windows_per_epoch >= 1 && config_.eval_windows >= 1,
               config_.name,
               "context, windows_per_epoch and eval_windows must be positive, got "
                   << config_.context << ", " << config_.windows_per_epoch << ", "
                   << config_.eval_windows);
}

void CharLMTask::setup(const TaskOptions& options) {
  if (options.smoke) {
    setup_with_corpus(smoke_fortunes(), options);
  } else {
    FortuneOptions fortune_options;
    if (!options.data_path.empty()) fortune_options.dir = options.data_path;
    fortune_options.seed = options.seed;
    setup_with_corpus(load_fortunes(fortune_options), options);
  }
}

void CharLMTask::setup_with_corpus(const TextCorpus& corpus, const TaskOptions& options) {
  options_ = options;
  context_ = options.smoke ? 16 : config_.context;
  windows_per_epoch_ = options.smoke ? 64 : config_.windows_per_epoch;
  eval_windows_ = options.smoke ? 8 : config_.eval_windows;
  // Every split starts with the separator (so the first entry starts like every other one).
  auto text = [](const std::vector<std::string>& entries) {
    return kFortuneSeparator + join_entries(entries, kFortuneSeparator) + kFortuneSeparator;
  };
  const std::string train_text = text(corpus.train);
  vocab_ = Vocab::build({train_text});
  train_ = vocab_.encode(train_text);
  valid_ = vocab_.encode(text(corpus.valid));
  test_ = vocab_.encode(text(corpus.test));
  MINIDL_CHECK(static_cast<int64_t>(train_.size()) >= 2, config_.name,
               "the training text holds " << train_.size() << " characters; at least 2 are needed");
  // Windows never need more characters than the training text holds.
  context_ = std::min<int64_t>(context_, static_cast<int64_t>(train_.size()) - 1);
  manual_seed(options.seed);
  model_ = config_.make_model(vocab_.size(), context_, options.smoke);
  MINIDL_CHECK(model_ != nullptr, config_.name, "the model factory returned null");
  starts_.clear();
  batch_size_ = 0;
}

CharLanguageModel& CharLMTask::language_model() {
  MINIDL_CHECK(model_, config_.name, "call setup before using the model");
  return *model_;
}

nn::Module& CharLMTask::model() {
  return language_model();
}

const std::vector<int64_t>& CharLMTask::split_ids(const std::string& split) const {
  if (split == "train") return train_;
  if (split == "valid") return valid_;
  if (split == "test") return test_;
  MINIDL_FAIL(config_.name,
              "unknown split '" << split << "' (expected \"train\", \"valid\" or \"test\")");
}

int64_t CharLMTask::start_epoch(int64_t epoch, int64_t batch_size) {
  MINIDL_CHECK(model_, config_.name, "call setup before start_epoch");
  MINIDL_CHECK(batch_size >= 1, config_.name, "batch_size must be positive, got " << batch_size);
  MINIDL_CHECK(epoch >= 0, config_.name, "epoch must be >= 0, got " << epoch);
  std::mt19937_64 rng(options_.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 1);
  const uint64_t positions = train_.size() - static_cast<uint64_t>(context_);  // >= 1
  starts_.resize(static_cast<size_t>(windows_per_epoch_));
  for (int64_t& start : starts_) start = static_cast<int64_t>(rng() % positions);
  batch_size_ = batch_size;
  return (windows_per_epoch_ + batch_size - 1) / batch_size;
}

std::pair<Tensor, Tensor> CharLMTask::make_batch(const std::vector<int64_t>& ids,
                                                 const std::vector<int64_t>& starts,
                                                 int64_t length) const {
  MINIDL_CHECK(!starts.empty() && length >= 1, config_.name,
               "make_batch needs windows, got " << starts.size() << " of length " << length);
  const int64_t batch = static_cast<int64_t>(starts.size());
  std::vector<int64_t> input(static_cast<size_t>(batch * length)), target(input.size());
  for (int64_t b = 0; b < batch; ++b) {
    MINIDL_CHECK(starts[b] >= 0 && starts[b] + length < static_cast<int64_t>(ids.size()),
                 config_.name,
                 "window [" << starts[b] << ", " << starts[b] + length + 1
                            << ") is out of a text of " << ids.size() << " characters");
    std::copy_n(ids.begin() + starts[b], length, input.begin() + b * length);
    std::copy_n(ids.begin() + starts[b] + 1, length, target.begin() + b * length);
  }
  return {from_vector(input, {batch, length}, kInt64),
          from_vector(target, {batch, length}, kInt64)};
}

Tensor CharLMTask::batch_loss(int64_t index, int64_t* items) {
  MINIDL_CHECK(!starts_.empty(), config_.name, "call start_epoch before batch_loss");
  const int64_t batches = (static_cast<int64_t>(starts_.size()) + batch_size_ - 1) / batch_size_;
  MINIDL_CHECK(index >= 0 && index < batches, config_.name,
               "batch " << index << " out of range [0, " << batches << ")");
  const int64_t first = index * batch_size_;
  const int64_t last = std::min<int64_t>(first + batch_size_, static_cast<int64_t>(starts_.size()));
  // This process's part of the batch's windows (all of them on one process).
  const ShardPart part = shard_part(shard_, last - first);
  std::vector<int64_t> starts(starts_.begin() + first + part.begin,
                              starts_.begin() + first + part.end);
  auto [input, target] = make_batch(train_, starts, context_);
  if (items) *items = part.weight == 0 ? 0 : input.numel();
  Tensor logits = model_->logits(input);  // [B, T, V]
  Tensor loss =
      cross_entropy(logits.reshape({input.numel(), logits.size(-1)}), target.reshape({-1}));
  return part.weight == 1 ? loss : loss * part.weight;
}

std::pair<std::vector<int64_t>, int64_t> CharLMTask::evaluation_windows(
    const std::string& split) const {
  const std::vector<int64_t>& ids = split_ids(split);
  const int64_t total = static_cast<int64_t>(ids.size());
  MINIDL_CHECK(total >= 2, config_.name,
               "split '" << split << "' holds " << total << " characters; at least 2 are needed");
  // Fixed windows: consecutive from the start, or evenly spaced when there are too many.
  const int64_t length = std::min(context_, total - 1);
  const int64_t available = (total - 1) / length;
  const int64_t count = std::min(available, eval_windows_);
  std::vector<int64_t> starts;
  for (int64_t k = 0; k < count; ++k)
    starts.push_back(count == available
                         ? k * length
                         : (count == 1 ? 0 : k * (total - 1 - length) / (count - 1)));
  return {starts, length};
}

EvaluationSums CharLMTask::evaluation_sums(const std::string& split) {
  MINIDL_CHECK(model_, config_.name, "call setup before evaluate");
  const std::vector<int64_t>& ids = split_ids(split);
  auto [all_starts, length] = evaluation_windows(split);
  // This process's part of the windows (all of them on one process).
  const ShardPart part = shard_evaluation_part(shard_, static_cast<int64_t>(all_starts.size()));
  const std::vector<int64_t> starts(all_starts.begin() + part.begin, all_starts.begin() + part.end);
  const int64_t count = part.end - part.begin;
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  double nats = 0;
  const int64_t chunk = 32;
  for (int64_t first = 0; first < count; first += chunk) {
    std::vector<int64_t> windows(starts.begin() + first,
                                 starts.begin() + std::min(count, first + chunk));
    auto [input, target] = make_batch(ids, windows, length);
    Tensor logits = model_->logits(input);
    nats += cross_entropy(logits.reshape({input.numel(), logits.size(-1)}), target.reshape({-1}))
                .item<double>() *
            static_cast<double>(input.numel());
  }
  model_->train(was_training);
  EvaluationSums sums;
  sums.add("characters", static_cast<double>(count * length));
  sums.add("nats", nats);
  return sums;
}

Metrics CharLMTask::evaluation_metrics(const EvaluationSums& sums) const {
  const double per_char = sums.ratio("nats", "characters");
  return {
      {"nats_per_char", per_char}, {"bits_per_char", per_char / std::log(2.0)}, {"loss", per_char}};
}

std::string CharLMTask::sample(const std::string& prompt, int64_t length, double temperature,
                               uint64_t seed) {
  MINIDL_CHECK(model_, config_.name, "call setup before sampling");
  MINIDL_CHECK(length >= 0, config_.name, "sample length must be >= 0, got " << length);
  MINIDL_CHECK(temperature >= 0 && std::isfinite(temperature), config_.name,
               "temperature must be finite and >= 0, got " << temperature);
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  std::mt19937_64 rng(seed);
  const std::string separator = kFortuneSeparator;
  std::string text;
  std::vector<int64_t> produced;
  Tensor logits;
  for (int64_t step = 0; step < length; ++step) {
    logits = step == 0 ? model_->start_sampling(vocab_.encode(separator + prompt))
                       : model_->continue_sampling(produced.back());
    const std::vector<double> z = logits.to(kFloat64).to_vector<double>();
    // The special tokens are never sampled.
    int64_t choice = -1;
    if (temperature == 0) {
      for (int64_t v = Vocab::kUnk + 1; v < static_cast<int64_t>(z.size()); ++v)
        if (choice < 0 || z[v] > z[choice]) choice = v;
    } else {
      double top = -INFINITY;
      for (int64_t v = Vocab::kUnk + 1; v < static_cast<int64_t>(z.size()); ++v)
        top = std::max(top, z[v]);
      std::vector<double> weights(z.size(), 0.0);
      double sum = 0;
      for (int64_t v = Vocab::kUnk + 1; v < static_cast<int64_t>(z.size()); ++v)
        sum += weights[v] = std::exp((z[v] - top) / temperature);
      double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * sum;
      for (int64_t v = Vocab::kUnk + 1; v < static_cast<int64_t>(z.size()); ++v) {
        choice = v;
        if ((u -= weights[v]) < 0) break;
      }
    }
    if (choice < 0) break;  // a vocabulary of special tokens only
    produced.push_back(choice);
    text += vocab_.id_to_token(choice);
    if (text.size() >= separator.size() &&
        text.compare(text.size() - separator.size(), separator.size(), separator) == 0) {
      text.erase(text.size() - separator.size());
      break;
    }
  }
  model_->train(was_training);
  return text;
}

Prediction CharLMTask::predict(const std::string& input) {
  MINIDL_CHECK(model_, config_.name, "call setup before predict");
  Prediction prediction;
  prediction.output = sample(input, config_.sample_length, config_.temperature, options_.seed);
  return prediction;
}

std::vector<std::string> CharLMTask::example_inputs() const {
  return {"The ", "A man ", "Life is ", "Q:\tWhat "};
}

}  // namespace minidl::models
