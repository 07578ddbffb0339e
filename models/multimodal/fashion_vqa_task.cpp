#include "models/multimodal/fashion_vqa_task.h"

#include <algorithm>
#include <cstdio>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"
#include "ops/elementwise.h"
#include "ops/index_ops.h"
#include "ops/loss.h"
#include "ops/reduction.h"
#include "ops/softmax.h"

namespace minidl::models {

namespace {

// Fashion-MNIST's pixel statistics over the training images (after scaling to [0, 1]).
constexpr double kMean = 0.2860, kStd = 0.3530;
constexpr int64_t kValid = 5000, kEvalBatch = 500;
// Streams of nn::transforms::batch_seed(seed, epoch, stream) besides the batches (>= 0) and the
// epoch order (-1): the training questions of an epoch, and the validation / test questions.
constexpr int64_t kQuestionStream = -2, kHeldOutEpoch = -2;
// The test questions are the same for every run (seed 0), so every model meets the same ones.
constexpr uint64_t kTestQuestionSeed = 0;

Tensor rows(const Tensor& t, const Tensor& order, int64_t begin, int64_t end) {
  return index_select(t, 0, order.narrow(0, begin, end - begin));
}

std::string cell_name(int64_t cell) {
  return "r" + std::to_string(cell / MultimodalAttentionVqa::kImageSide) + "c" +
         std::to_string(cell % MultimodalAttentionVqa::kImageSide);
}

// The question types' names, in QuestionType order (the classes of the per-type accuracies).
std::vector<std::string> question_type_names() {
  std::vector<std::string> names;
  for (int t = 0; t < kQuestionTypes; ++t)
    names.push_back(question_type_name(static_cast<QuestionType>(t)));
  return names;
}

}  // namespace

FashionVqaTask::FashionVqaTask(FashionVqaConfig config) : config_(std::move(config)) {}

void FashionVqaTask::setup(const TaskOptions& options) {
  options_ = options;
  FashionMnist data = load_fashion_mnist(options.data_path);
  class_names_ = data.class_names;
  MINIDL_CHECK(static_cast<int64_t>(class_names_.size()) == kFashionClasses, config_.name,
               "expected " << kFashionClasses << " classes, got " << class_names_.size());
  const int64_t n = data.train.images.size(0);
  // Smoke runs keep a few hundred images; otherwise 5,000 are held out for validation.
  const int64_t valid = options.smoke ? std::min<int64_t>(64, n / 4) : std::min(kValid, n / 10);
  MINIDL_CHECK(n - valid > 0 && data.test.images.size(0) > 0, config_.name,
               "needs training and test images, got " << n << " and " << data.test.images.size(0));
  Generator gen(options.seed);
  const Tensor order = randperm(n, &gen);
  const int64_t train_n = options.smoke ? std::min<int64_t>(256, n - valid) : n - valid;
  auto make_split = [](ImageSplit images) {
    Split s;
    s.labels = images.labels.contiguous().to_vector<int64_t>();
    s.images = std::move(images);
    return s;
  };
  train_ = make_split(
      {rows(data.train.images, order, 0, train_n), rows(data.train.labels, order, 0, train_n)});
  valid_ = make_split(
      {rows(data.train.images, order, n - valid, n), rows(data.train.labels, order, n - valid, n)});
  const int64_t test_n =
      options.smoke ? std::min<int64_t>(64, data.test.images.size(0)) : data.test.images.size(0);
  test_ =
      make_split({data.test.images.narrow(0, 0, test_n), data.test.labels.narrow(0, 0, test_n)});
  using nn::transforms::batch_seed;
  valid_.examples =
      make_vqa_examples(valid_.labels, batch_seed(options.seed, kHeldOutEpoch, kQuestionStream));
  test_.examples = make_vqa_examples(test_.labels,
                                     batch_seed(kTestQuestionSeed, kHeldOutEpoch, kQuestionStream));
  train_.examples = make_vqa_examples(train_.labels, batch_seed(options.seed, 0, kQuestionStream));

  // The vocabulary is the grammar's, so it is the same for every data set and seed.
  vocab_ = nn::Vocab(nn::Vocab::Level::Word);
  question_ids_.clear();
  for (const VqaQuestion& q : vqa_questions()) {
    std::vector<int64_t> ids;
    for (const std::string& word : q.tokens) ids.push_back(vocab_.add_token(word));
    question_ids_.push_back(ids);
  }

  using namespace nn::transforms;
  normalize_ = std::make_shared<Normalize>(std::vector<double>{kMean}, std::vector<double>{kStd});
  augment_ = std::make_shared<Compose>(std::vector<std::shared_ptr<Transform>>{
      std::make_shared<RandomCrop>(28, 2), std::make_shared<RandomHorizontalFlip>(0.5),
      normalize_});

  MultimodalAttentionOptions model_options;
  model_options.vocab_size = vocab_.size();
  model_options.use_text = config_.use_text;
  model_options.use_image = config_.use_image;
  if (options.smoke) {
    model_options.embedding_dim = 8;
    model_options.hidden_size = 16;
    model_options.channels1 = 4;
    model_options.channels2 = 8;
    model_options.d_model = 16;
    model_options.heads = 2;
    model_options.dim_feedforward = 32;
    model_options.dropout = 0.0;
  }
  manual_seed(options.seed);
  model_ = std::make_shared<MultimodalAttentionVqa>(model_options);
  order_.clear();
  batch_size_ = 0;
}

MultimodalAttentionVqa& FashionVqaTask::vqa_model() {
  MINIDL_CHECK(model_, config_.name, "call setup before using the model");
  return *model_;
}

nn::Module& FashionVqaTask::model() {
  return vqa_model();
}

int64_t FashionVqaTask::start_epoch(int64_t epoch, int64_t batch_size) {
  MINIDL_CHECK(model_, config_.name, "call setup before start_epoch");
  MINIDL_CHECK(batch_size > 0, config_.name, "batch size must be positive, got " << batch_size);
  using nn::transforms::batch_seed;
  train_.examples =
      make_vqa_examples(train_.labels, batch_seed(options_.seed, epoch, kQuestionStream));
  const int64_t n = static_cast<int64_t>(train_.examples.size());
  Generator gen(batch_seed(options_.seed, epoch, -1));
  order_ = randperm(n, &gen).to_vector<int64_t>();
  epoch_ = epoch;
  batch_size_ = batch_size;
  return (n + batch_size - 1) / batch_size;
}

FashionVqaTask::Batch FashionVqaTask::make_batch(const Split& data,
                                                 const std::vector<int64_t>& order, int64_t begin,
                                                 int64_t end, Generator* augment) const {
  MINIDL_CHECK(
      begin >= 0 && begin < end && end <= static_cast<int64_t>(order.size()), config_.name,
      "batch [" << begin << ", " << end << ") is out of range for " << order.size() << " examples");
  const int64_t count = end - begin;
  std::vector<int64_t> images, labels;
  int64_t steps = 1;
  for (int64_t i = begin; i < end; ++i) {
    const VqaExample& e = data.examples.at(order[i]);
    images.push_back(e.image);
    labels.push_back(e.answer);
    steps = std::max<int64_t>(steps, static_cast<int64_t>(question_ids_[e.question].size()));
  }
  Batch batch;
  std::vector<int64_t> ids(static_cast<size_t>(count * steps), nn::Vocab::kPad);
  for (int64_t b = 0; b < count; ++b) {
    const std::vector<int64_t>& q = question_ids_[data.examples[order[begin + b]].question];
    std::copy(q.begin(), q.end(), ids.begin() + b * steps);
    batch.lengths.push_back(static_cast<int64_t>(q.size()));
  }
  batch.ids = from_vector(ids, {count, steps}, kInt64);
  batch.labels = from_vector(labels, {count}, kInt64);
  if (!config_.use_image) return batch;  // the text-only model reads no images
  Tensor raw = index_select(data.images.images, 0, from_vector(images, {count}, kInt64));
  Generator unused(0);
  batch.images = augment ? (*augment_)(raw, *augment) : (*normalize_)(raw, unused);
  return batch;
}

Tensor FashionVqaTask::batch_loss(int64_t index, int64_t* items) {
  const int64_t n = static_cast<int64_t>(order_.size());
  MINIDL_CHECK(batch_size_ > 0, config_.name, "call start_epoch before batch_loss");
  MINIDL_CHECK(index >= 0 && index * batch_size_ < n, config_.name,
               "batch " << index << " is out of range for " << (n + batch_size_ - 1) / batch_size_
                        << " batches");
  const int64_t begin = index * batch_size_, end = std::min(n, begin + batch_size_);
  Generator gen(nn::transforms::batch_seed(options_.seed, epoch_, index));
  Batch batch = make_batch(train_, order_, begin, end, &gen);
  // The whole batch is augmented (its random draws are the batch's), then this process keeps
  // its part (models/common/shard.h; all of it on one process).
  const ShardPart part = shard_part(shard_, end - begin);
  if (part.end - part.begin < end - begin) {
    const int64_t count = part.end - part.begin;
    if (batch.images.defined()) batch.images = batch.images.narrow(0, part.begin, count);
    batch.ids = batch.ids.narrow(0, part.begin, count);
    batch.labels = batch.labels.narrow(0, part.begin, count);
    batch.lengths =
        std::vector<int64_t>(batch.lengths.begin() + part.begin, batch.lengths.begin() + part.end);
  }
  model_->train();
  if (items) *items = part.items();
  Tensor loss =
      cross_entropy(model_->answer(batch.images, batch.ids, batch.lengths).logits, batch.labels);
  return part.weight == 1 ? loss : loss * part.weight;
}

const FashionVqaTask::Split& FashionVqaTask::split(const std::string& name) const {
  if (name == "valid") return valid_;
  if (name == "test") return test_;
  if (name == "train") return train_;
  MINIDL_FAIL(config_.name, "unknown split '" << name << "' (expected train, valid or test)");
}

EvaluationSums FashionVqaTask::evaluation_sums(const std::string& name) {
  MINIDL_CHECK(model_, config_.name, "call setup before evaluate");
  const Split& data = split(name);
  const int64_t n = static_cast<int64_t>(data.examples.size());
  MINIDL_CHECK(n > 0, config_.name, "the " << name << " split has no questions");
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  // This process's part of the questions (all of them on one process).
  const ShardPart part = shard_evaluation_part(shard_, n);
  std::vector<int64_t> right(kQuestionTypes, 0), seen(kQuestionTypes, 0);
  double loss_sum = 0;
  for (int64_t begin = part.begin; begin < part.end; begin += kEvalBatch) {
    const int64_t end = std::min(part.end, begin + kEvalBatch);
    Batch batch = make_batch(data, order, begin, end, nullptr);
    Tensor logits = model_->answer(batch.images, batch.ids, batch.lengths).logits;
    loss_sum +=
        cross_entropy(logits, batch.labels).item<double>() * static_cast<double>(end - begin);
    const std::vector<int64_t> predicted = argmax(logits, 1).to_vector<int64_t>();
    for (int64_t i = begin; i < end; ++i) {
      const VqaExample& e = data.examples[i];
      const auto type = static_cast<size_t>(vqa_questions()[e.question].type);
      seen[type] += 1;
      right[type] += predicted[i - begin] == e.answer;
    }
  }
  model_->train(was_training);
  EvaluationSums sums;
  add_class_counts(sums, question_type_names(), seen, right);
  sums.add("loss", loss_sum);
  return sums;
}

Metrics FashionVqaTask::evaluation_metrics(const EvaluationSums& sums) const {
  return class_accuracy_metrics(sums, question_type_names());
}

Prediction FashionVqaTask::predict(const std::string& input) {
  MINIDL_CHECK(model_, config_.name, "call setup before predict");
  const size_t space = input.find(' ');
  MINIDL_CHECK(
      space != std::string::npos && space > 0, config_.name,
      "expected 'SPLIT:INDEX QUESTION', e.g. 'test:17 is this footwear?', got '" << input << "'");
  const std::string image = input.substr(0, space), question_text = input.substr(space + 1);
  const auto [name, index] = parse_split_index(image, config_.name, "an image");
  const Split& data = split(name);
  const int64_t images = data.images.images.size(0);
  MINIDL_CHECK(index < images, config_.name,
               "the " << name << " split has " << images << " images, asked for " << index);
  const int64_t question = find_question(question_text);

  // One example: the image with the question (the answer is the grammar's, for the report).
  const int64_t label = data.labels[index];
  const bool truth = vqa_questions()[question].yes_for[label];
  Split one;
  one.images = data.images;
  one.examples = {{index, question, truth ? 1 : 0}};
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  Batch batch = make_batch(one, {0}, 0, 1, nullptr);
  VqaOutput out = model_->answer(batch.images, batch.ids, batch.lengths);
  model_->train(was_training);
  const double p_yes = softmax(out.logits, 1).index({0, 1}).item<double>();

  Prediction p;
  char text[200];
  std::snprintf(text, sizeof text, "%s (p(yes) = %.3f; the image is %s, so the answer is %s)",
                p_yes >= 0.5 ? "yes" : "no", p_yes, class_names_.at(label).c_str(),
                truth ? "yes" : "no");
  p.output = text;
  std::vector<std::string> cells;
  for (int64_t c = 0; c < MultimodalAttentionVqa::kImageTokens; ++c) cells.push_back(cell_name(c));
  if (config_.use_text) {
    p.target_tokens = vqa_questions()[question].tokens;
    p.source_tokens = p.target_tokens;
    if (config_.use_image)
      p.source_tokens.insert(p.source_tokens.end(), cells.begin(), cells.end());
  } else {
    p.target_tokens = cells;
    p.source_tokens = cells;
  }
  p.attention = out.attention.select(0, 0).contiguous();  // [queries, keys]
  return p;
}

std::vector<std::string> FashionVqaTask::example_inputs() const {
  return {"test:0 is this footwear?", "test:1 is it a top?", "test:2 is this a bag?",
          "test:3 is this a sneaker or a sandal?", "test:4 is it not clothing?"};
}

namespace {

std::unique_ptr<Task> make_fashion_vqa(const std::string& name, bool text, bool image) {
  FashionVqaConfig config;
  config.name = name;
  config.use_text = text;
  config.use_image = image;
  config.defaults = train_defaults("adam", 1e-3, 8, 64, 1.0, "cosine");
  return std::make_unique<FashionVqaTask>(config);
}

}  // namespace

std::unique_ptr<Task> make_multimodal_fashion_vqa_task() {
  return make_fashion_vqa("multimodal-fashion-vqa", true, true);
}
std::unique_ptr<Task> make_multimodal_fashion_vqa_text_only_task() {
  return make_fashion_vqa("multimodal-fashion-vqa-text-only", true, false);
}
std::unique_ptr<Task> make_multimodal_fashion_vqa_image_only_task() {
  return make_fashion_vqa("multimodal-fashion-vqa-image-only", false, true);
}

}  // namespace minidl::models
