// The language-ID word classifiers (BiLSTM + attention pooling, Transformer encoder + mean
// pooling) on the smoke task: shapes, the loss falls, pooling weights sum to 1 over the real
// characters and are 0 on padding, predict, a checkpoint round trip, and error paths.

#include "core/factories.h"
#include "models/language/bilstm_attention_classifier.h"
#include "models/language/transformer_classifier.h"
#include "nn/optim.h"
#include "ops/loss.h"
#include "ops/reduction.h"
#include "tests/fixture.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

std::unique_ptr<Task> smoke_task(const std::string& name) {
  auto task =
      name == "bilstm" ? make_bilstm_attention_langid_task() : make_transformer_langid_task();
  TaskOptions options;
  options.smoke = true;
  options.seed = 5;
  task->setup(options);
  return task;
}

void run_smoke(const std::string& name) {
  auto task = smoke_task(name);
  auto& lang = dynamic_cast<LangIdTask&>(*task);
  CHECK(lang.data().languages.size() == 8);
  CHECK(lang.data().train.size() == 8 * 16);

  // Shapes and pooling weights on a padded batch.
  std::vector<const LangIdExample*> words = {&lang.data().train[0], &lang.data().train[1],
                                             &lang.data().train[2]};
  LangIdTask::Batch batch = lang.make_batch(words);
  auto [logits, weights] = lang.classifier().classify(batch.ids, batch.lengths);
  const int64_t steps = batch.ids.size(1);
  CHECK(logits.shape() == Shape({3, 8}));
  REQUIRE(weights.shape() == Shape({3, steps}));
  const std::vector<float> w = weights.to_vector<float>();
  for (int64_t b = 0; b < 3; ++b) {
    double sum = 0;
    for (int64_t t = 0; t < steps; ++t) {
      if (t >= batch.lengths[b]) CHECK(w[b * steps + t] == 0.0f);
      sum += w[b * steps + t];
    }
    CHECK(sum == Approx(1.0).margin(1e-5));
  }

  // The loss falls over a few steps on one batch.
  optim::Adam optimizer(task->model().parameters(), optim::AdamOptions(1e-2));
  task->start_epoch(0, 32);
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 15);
  CHECK(fit.items > 0);
  CHECK(fit.last < fit.first * 0.8);

  Metrics metrics = task->evaluate("valid");
  CHECK(metrics[0].first == "accuracy");
  CHECK(metrics.size() == 2 + 8);

  // Predict: a language name and a [1, chars] map over the characters.
  Prediction p = task->predict("schön");
  CHECK(p.target_tokens == std::vector<std::string>{p.output});
  CHECK(p.source_tokens.size() == 5);
  CHECK(p.attention.shape() == Shape({1, 5}));
  CHECK(p.attention.sum().item<double>() == Approx(1.0).margin(1e-5));

  // A checkpoint round trip gives identical predictions.
  auto restored = smoke_task(name);
  minidl::testing::checkpoint_round_trip(*task, optimizer, *restored, name);
  for (const std::string& text : task->example_inputs()) {
    Prediction a = task->predict(text), b = restored->predict(text);
    CHECK(a.output == b.output);
    CHECK(a.attention.to_vector<float>() == b.attention.to_vector<float>());
  }
}

}  // namespace

TEST_CASE("bilstm attention langid smoke", "[langid]") {
  run_smoke("bilstm");
}

TEST_CASE("transformer langid smoke", "[langid]") {
  run_smoke("transformer");
}

// The Transformer classifier against the same model built from torch.nn modules
// (tools/fixtures/gen_langid.py): logits, loss and gradients, in float64, for post-norm + mean
// pooling and for pre-norm + [BOS]/[EOS] markers + max pooling.
TEST_CASE("transformer classifier matches PyTorch", "[langid]") {
  testing::Fixtures fx("langid.txt");
  const std::vector<int64_t> lengths = fx["lengths"].to_vector<int64_t>();
  struct Case {
    std::string name, pooling;
    int64_t layers;
    bool norm_first, boundary_tokens;
  };
  for (const Case& c :
       {Case{"post_mean", "mean", 1, false, false}, Case{"pre_max", "max", 2, true, true}}) {
    INFO(c.name);
    TransformerClassifier model(7, 3, 4, 2, c.layers, 6, 0.0, 6, c.pooling, c.norm_first,
                                c.boundary_tokens);
    model.to(kFloat64);
    nn::StateDict state;
    for (const auto& [name, tensor] : model.state_dict())
      state.push_back({name, fx[c.name + "." + name]});
    model.load_state_dict(state);
    auto [logits, weights] = model.classify(fx["ids"], lengths);
    CHECK(testing::allclose(logits, fx[c.name + ".logits"], 1e-12, 1e-12));
    CHECK(weights.shape() == Shape({3, 5}));
    for (double sum : minidl::sum(weights, {1}).to_vector<double>()) CHECK(sum == Approx(1.0));
    const std::vector<double> w = weights.to_vector<double>();
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t t = lengths[b]; t < 5; ++t) CHECK(w[b * 5 + t] == 0.0);
    Tensor loss = cross_entropy(logits, fx["labels"]);
    CHECK(loss.item<double>() == Approx(fx[c.name + ".loss"].item<double>()).epsilon(1e-12));
    loss.backward();
    const nn::StateDict params = model.named_parameters();
    for (const std::string& name : std::vector<std::string>{
             "embedding.weight", "encoder.layers.0.self_attn.in_proj_weight",
             "encoder.layers." + std::to_string(c.layers - 1) + ".linear1.weight",
             "classifier.weight"}) {
      INFO(name);
      const auto it = std::find_if(params.begin(), params.end(),
                                   [&](const auto& p) { return p.first == name; });
      REQUIRE(it != params.end());
      CHECK(testing::allclose(it->second.grad(), fx[c.name + ".grad." + name], 1e-10, 1e-12));
    }
  }
}

TEST_CASE("langid classifiers: dropout only in training", "[langid]") {
  manual_seed(2);
  BiLSTMAttentionClassifier bilstm(10, 3, 6, 5, 4, 0.5);
  TransformerClassifier transformer(10, 3, 8, 2, 1, 8, 0.5, 6);
  Tensor ids = from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6, 0, 0}, {2, 4}, kInt64);
  for (WordClassifier* model :
       {static_cast<WordClassifier*>(&bilstm), static_cast<WordClassifier*>(&transformer)}) {
    INFO(model->type_name());
    model->train();
    const auto a = model->classify(ids, {4, 2}).first.to_vector<float>();
    const auto b = model->classify(ids, {4, 2}).first.to_vector<float>();
    CHECK(a != b);
    model->eval();
    const auto c = model->classify(ids, {4, 2}).first.to_vector<float>();
    const auto d = model->classify(ids, {4, 2}).first.to_vector<float>();
    CHECK(c == d);
  }
}

TEST_CASE("langid classifiers: error paths", "[langid]") {
  BiLSTMAttentionClassifier bilstm(10, 3, 4, 4, 4);
  TransformerClassifier transformer(10, 3, 8, 2, 1, 8, 0.0, 6);
  Tensor ids = ones({2, 4}, kInt64);
  CHECK_THROWS_WITH(bilstm.classify(ids, {4}),
                    Catch::Contains("BiLSTMAttentionClassifier") && Catch::Contains("[2, 4]"));
  CHECK_THROWS_WITH(bilstm.classify(ids, {4, 5}),
                    Catch::Contains("BiLSTMAttentionClassifier") && Catch::Contains("length 5"));
  CHECK_THROWS_WITH(bilstm.classify(ones({2, 4}), {4, 4}),
                    Catch::Contains("BiLSTMAttentionClassifier") && Catch::Contains("[2, 4]"));
  CHECK_THROWS_WITH(transformer.classify(ones({1, 7}, kInt64), {7}),
                    Catch::Contains("TransformerClassifier") && Catch::Contains("max_length 6"));
  CHECK_THROWS_WITH(transformer.classify(ids, {0, 4}),
                    Catch::Contains("TransformerClassifier") && Catch::Contains("length 0"));
  CHECK_THROWS_WITH(BiLSTMAttentionClassifier(0, 3), Catch::Contains("vocab_size 0"));
  CHECK_THROWS_WITH(BiLSTMAttentionClassifier(10, 3, 4, 4, 4, 1.5), Catch::Contains("1.5"));
  CHECK_THROWS_WITH(TransformerClassifier(10, 3, 8, 2, 1, 8, 0.0, 6, "sum"),
                    Catch::Contains("TransformerClassifier") && Catch::Contains("\"sum\""));
  CHECK_THROWS_WITH(make_bilstm_attention_langid_task()->predict("x"),
                    Catch::Contains("bilstm-attention-langid") && Catch::Contains("setup"));
  auto task = smoke_task("bilstm");
  CHECK_THROWS_WITH(task->evaluate("dev"), Catch::Contains("unknown split 'dev'"));
  CHECK_THROWS_WITH(task->batch_loss(0, nullptr), Catch::Contains("start_epoch"));
}
