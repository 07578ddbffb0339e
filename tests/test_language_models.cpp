// The character language models (SimpleRNN, GPT) on the smoke task (in-memory fortunes, no Debian
// file): windows and vocabulary, shapes, the loss falls, metrics, a checkpoint round trip,
// seeded sampling, incremental decoding equal to the full forward, the GPT's causality and fused
// attention, and error paths.
#include <cmath>
#include <set>

#include "core/autograd.h"
#include "core/factories.h"
#include "models/language/char_rnn_lm.h"
#include "models/language/gpt_lm.h"
#include "nn/optim.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::allclose;

namespace {

std::unique_ptr<CharLMTask> smoke_task(const std::string& name, uint64_t seed = 3) {
  std::unique_ptr<Task> task =
      name == "rnn" ? make_char_rnn_fortunes_task() : make_gpt_fortunes_task();
  TaskOptions options;
  options.smoke = true;
  options.seed = seed;
  task->setup(options);
  return std::unique_ptr<CharLMTask>(dynamic_cast<CharLMTask*>(task.release()));
}

std::vector<float> values(const Tensor& t) {
  return t.contiguous().to_vector<float>();
}

// The names of every tape entry reachable from t.
std::multiset<std::string> tape_names(const Tensor& t) {
  std::multiset<std::string> names;
  std::set<const Node*> seen;
  std::vector<const Node*> stack = {t.grad_fn().get()};
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    if (node == nullptr || !seen.insert(node).second) continue;
    names.insert(node->name());
    for (const Edge& edge : node->next_edges) stack.push_back(edge.node.get());
  }
  return names;
}

void run_smoke(const std::string& name) {
  auto task = smoke_task(name);
  CharLanguageModel& model = task->language_model();
  const int64_t vocab = task->vocab().size(), context = task->context();
  CHECK(context == 16);
  CHECK(task->vocab().contains("%"));

  // Shapes.
  auto [input, target] = task->make_batch(task->split_ids("train"), {0, 5, 9}, context);
  Tensor logits = model.logits(input);
  CHECK(logits.shape() == Shape({3, context, vocab}));

  // A fresh model is near the uniform distribution; the loss falls over a few steps.
  const Metrics before = task->evaluate("valid");
  REQUIRE(before.size() == 3);
  CHECK(before[0].first == "nats_per_char");
  CHECK(before[1].first == "bits_per_char");
  CHECK(before[2].first == "loss");
  CHECK(before[1].second == Approx(before[0].second / std::log(2.0)));
  CHECK(before[0].second == Approx(std::log(static_cast<double>(vocab))).epsilon(0.25));

  optim::Adam optimizer(model.parameters(), optim::AdamOptions(1e-2));
  CHECK(task->start_epoch(0, 16) == 4);  // 64 windows
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 25, 4);
  CHECK(fit.items == 16 * context);
  CHECK(fit.last < fit.first * 0.7);
  CHECK(task->evaluate("valid")[0].second < before[0].second);

  // Sampling is seeded: the same seed gives the same text, another seed another text.
  const std::string a = task->sample("The ", 60, 1.0, 11), b = task->sample("The ", 60, 1.0, 11);
  const std::string c = task->sample("The ", 60, 1.0, 12);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(utf8_length(a) <= 60);
  CHECK(task->sample("The ", 0, 1.0, 1).empty());
  CHECK(task->sample("A dog", 30, 0.0, 1) == task->sample("A dog", 30, 0.0, 2));  // greedy
  const Prediction p = task->predict("The cat ");
  CHECK(p.output == task->predict("The cat ").output);
  CHECK(!p.attention.defined());

  // Incremental decoding gives the logits of the full forward.
  {
    NoGradGuard no_grad;
    model.eval();
    const std::vector<int64_t> ids = task->vocab().encode("The sea knows");
    Tensor step = model.start_sampling({ids.begin(), ids.end() - 2});
    step = model.continue_sampling(ids[ids.size() - 2]);
    step = model.continue_sampling(ids.back());
    Tensor full = model.logits(from_vector(ids, {1, static_cast<int64_t>(ids.size())}, kInt64));
    CHECK(allclose(step, full.select(0, 0).select(0, static_cast<int64_t>(ids.size()) - 1), 1e-5,
                   1e-5));
    model.train();
  }

  // A checkpoint round trip gives identical logits and samples.
  auto restored = smoke_task(name);
  CHECK(values(restored->language_model().logits(input)) != values(model.logits(input)));
  minidl::testing::checkpoint_round_trip(*task, optimizer, *restored, name);
  CHECK(values(restored->language_model().logits(input)) == values(model.logits(input)));
  for (const std::string& prompt : task->example_inputs())
    CHECK(restored->predict(prompt).output == task->predict(prompt).output);
}

}  // namespace

TEST_CASE("char lm task: smoke corpus, vocabulary and windows", "[language-models]") {
  const TextCorpus corpus = smoke_fortunes();
  CHECK(corpus.train.size() == 19);
  CHECK(corpus.valid.size() == 3);
  CHECK(corpus.test.size() == 3);
  auto task = smoke_task("gpt");
  const std::vector<int64_t>& train = task->split_ids("train");
  // The text starts and ends with the separator.
  CHECK(task->vocab().decode({train.begin(), train.begin() + 3}) == kFortuneSeparator);
  CHECK(task->vocab().decode({train.end() - 3, train.end()}) == kFortuneSeparator);
  CHECK(task->vocab().decode(task->split_ids("valid")) ==
        std::string(kFortuneSeparator) + join_entries(corpus.valid, kFortuneSeparator) +
            kFortuneSeparator);
  // Targets are the inputs shifted by one character.
  auto [input, target] = task->make_batch(train, {2, 7}, 5);
  CHECK(input.shape() == Shape({2, 5}));
  const std::vector<int64_t> in = input.to_vector<int64_t>(), out = target.to_vector<int64_t>();
  for (int64_t k = 0; k < 5; ++k) {
    CHECK(in[k] == train[2 + k]);
    CHECK(out[k] == train[3 + k]);
    CHECK(out[5 + k] == train[8 + k]);
  }
  // Epochs: 64 windows, seeded by (seed, epoch).
  CHECK(task->start_epoch(0, 10) == 7);
  int64_t items = 0;
  const double loss0 = task->batch_loss(0, &items).item<double>();
  CHECK(items == 10 * 16);
  CHECK(task->batch_loss(6, &items).item<double>() > 0);
  CHECK(items == 4 * 16);  // the last, partial batch
  task->start_epoch(1, 10);
  const double loss1 = task->batch_loss(0, nullptr).item<double>();
  task->start_epoch(0, 10);
  CHECK(task->batch_loss(0, nullptr).item<double>() == loss0);
  CHECK(loss1 != loss0);
  // The metrics are deterministic.
  CHECK(task->evaluate("test")[0].second == task->evaluate("test")[0].second);
}

TEST_CASE("char rnn language model smoke", "[language-models]") {
  run_smoke("rnn");
}

TEST_CASE("gpt language model smoke", "[language-models]") {
  run_smoke("gpt");
}

TEST_CASE("gpt language model: causal, fused attention", "[language-models]") {
  manual_seed(4);
  GPTLanguageModel model(12, 10, 16, 2, 2, 32);
  std::vector<int64_t> ids = {4, 5, 6, 7, 8, 9, 10, 11, 4, 5, 9, 9, 8, 7, 6, 5, 4, 11, 10, 9};
  Tensor base = model.logits(from_vector(ids, {2, 10}, kInt64));
  CHECK(base.shape() == Shape({2, 10, 12}));
  // Changing the tokens after position t leaves the outputs up to t unchanged.
  const int64_t t = 5;
  std::vector<int64_t> changed = ids;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t k = t + 1; k < 10; ++k) changed[b * 10 + k] = 4 + (changed[b * 10 + k] + 3) % 8;
  Tensor other = model.logits(from_vector(changed, {2, 10}, kInt64));
  CHECK(allclose(other.narrow(1, 0, t + 1), base.narrow(1, 0, t + 1), 1e-6, 1e-6));
  CHECK(values(other.narrow(1, t + 1, 10 - t - 1)) != values(base.narrow(1, t + 1, 10 - t - 1)));
  // A shorter input gives the same logits as the first positions of a longer one.
  Tensor prefix =
      model.logits(from_vector(std::vector<int64_t>(ids.begin(), ids.begin() + 4), {1, 4}, kInt64));
  CHECK(allclose(prefix.select(0, 0), base.select(0, 0).narrow(0, 0, 4), 1e-5, 1e-5));
  // Every layer's attention is the fused kernel (no materialized softmax).
  const std::multiset<std::string> names = tape_names(base);
  CHECK(names.count("FlashAttentionBackward0") == 2);
  CHECK(names.count("SoftmaxBackward0") == 0);
  // Gradients reach every parameter.
  base.sum().backward();
  for (const auto& [param_name, param] : model.named_parameters()) {
    INFO(param_name);
    CHECK(param.grad().defined());
  }
}

TEST_CASE("language models: error paths", "[language-models]") {
  GPTLanguageModel gpt(12, 8, 16, 2, 1, 32);
  CHECK_THROWS_WITH(gpt.logits(ones({1, 9}, kInt64)), Catch::Contains("GPTLanguageModel") &&
                                                          Catch::Contains("[1, 9]") &&
                                                          Catch::Contains("context 8"));
  CHECK_THROWS_WITH(gpt.logits(ones({1, 4})),
                    Catch::Contains("GPTLanguageModel") && Catch::Contains("float32"));
  CHECK_THROWS_WITH(GPTLanguageModel(12, 8, 15, 2), Catch::Contains("not divisible by nhead 2"));
  CHECK_THROWS_WITH(GPTLanguageModel(0, 8), Catch::Contains("vocab_size 0"));
  CharRNNLanguageModel rnn(12, 4, 8);
  CHECK_THROWS_WITH(rnn.logits(ones({4}, kInt64)),
                    Catch::Contains("CharRNNLanguageModel") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(rnn.continue_sampling(3), Catch::Contains("start_sampling"));
  CHECK_THROWS_WITH(gpt.start_sampling({}), Catch::Contains("non-empty prompt"));
  CHECK_THROWS_WITH(CharRNNLanguageModel(12, 4, 0), Catch::Contains("hidden_size 0"));

  CHECK_THROWS_WITH(make_gpt_fortunes_task()->predict("x"),
                    Catch::Contains("gpt-fortunes") && Catch::Contains("setup"));
  auto task = smoke_task("rnn");
  CHECK_THROWS_WITH(task->evaluate("dev"), Catch::Contains("unknown split 'dev'"));
  CHECK_THROWS_WITH(task->batch_loss(0, nullptr), Catch::Contains("start_epoch"));
  CHECK_THROWS_WITH(task->start_epoch(0, 0), Catch::Contains("batch_size must be positive"));
  task->start_epoch(0, 32);
  CHECK_THROWS_WITH(task->batch_loss(2, nullptr), Catch::Contains("batch 2 out of range [0, 2)"));
  CHECK_THROWS_WITH(task->sample("a", 5, -1.0, 0), Catch::Contains("temperature"));
  CHECK_THROWS_WITH(task->sample("a", -1, 1.0, 0), Catch::Contains("sample length"));
  CHECK_THROWS_WITH(task->make_batch(task->split_ids("valid"), {1000000}, 4),
                    Catch::Contains("out of a text"));
  TaskOptions missing;
  missing.data_path = "/nonexistent/fortunes";
  CHECK_THROWS_WITH(make_gpt_fortunes_task()->setup(missing),
                    Catch::Contains("/nonexistent/fortunes") && Catch::Contains("fortunes"));
}
