// The Bahdanau encoder-decoder and its date task: a smoke run (shapes, the loss falls, greedy and
// beam decoding with attention rows summing to 1, a checkpoint round trip), beam width 1 = greedy,
// padding does not change a sequence's encoding, and error paths.
#include <cstdio>

#include "core/factories.h"
#include "models/sequence/bahdanau_seq2seq.h"
#include "nn/optim.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::allclose;

namespace {

// Each attention row sums to 1 (it covers the source positions only).
void check_rows_sum_to_one(const Tensor& attention) {
  REQUIRE(attention.dim() == 2);
  std::vector<float> values = attention.to_vector<float>();
  const int64_t rows = attention.size(0), cols = attention.size(1);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += values[r * cols + c];
    CHECK(sum == Approx(1.0).margin(1e-5));
  }
}

std::unique_ptr<BahdanauDatesTask> smoke_task(uint64_t seed = 3) {
  auto task = std::make_unique<BahdanauDatesTask>();
  TaskOptions options;
  options.smoke = true;
  options.seed = seed;
  task->setup(options);
  return task;
}

}  // namespace

TEST_CASE("bahdanau seq2seq smoke: shapes, training, decoding, checkpoint", "[bahdanau-dates]") {
  auto task = smoke_task();
  BahdanauSeq2Seq& model = task->bahdanau();
  CHECK(task->defaults().optimizer == "rmsprop");

  // Teacher-forced shapes: logits [B, Tt, V], attention [B, Tt, Ts] whose rows sum to 1.
  Tensor source = tensor<int64_t>({{4, 5, 6, 7}, {5, 6, 0, 0}});
  Tensor target_input = tensor<int64_t>({{1, 4, 5}, {1, 6, 0}});
  auto [logits, weights] = model.forward(source, {4, 2}, target_input);
  CHECK(logits.shape() == Shape({2, 3, model.target_vocab}));
  CHECK(weights.shape() == Shape({2, 3, 4}));
  std::vector<float> w = weights.to_vector<float>();
  for (int t = 0; t < 3; ++t) {  // row 1 has two real characters: padding gets no weight
    CHECK(w[12 + t * 4 + 2] == 0.0f);
    CHECK(w[12 + t * 4 + 3] == 0.0f);
    CHECK(w[12 + t * 4] + w[12 + t * 4 + 1] == Approx(1.0).margin(1e-5));
  }

  // A few RMSprop steps on the same batch lower its loss.
  optim::RMSprop optimizer(model.parameters(), optim::RMSpropOptions(1e-2));
  const int64_t batches = task->start_epoch(0, 16);
  CHECK(batches == 4);
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 12);
  CHECK(fit.items == 16);
  CHECK(fit.last < 0.7 * fit.first);

  Metrics metrics = task->evaluate("valid");
  REQUIRE(metrics.size() == 3);
  CHECK(metrics[0].first == "exact_match");
  CHECK(metrics[1].first == "token_accuracy");
  CHECK(metrics[2].first == "loss");
  CHECK(metrics[2].second > 0);

  // Decoding: greedy and beam return one attention row per output token, each summing to 1.
  const std::string input = task->example_inputs().at(0);
  for (int64_t width : {1, 3}) {
    Prediction p = task->predict(input, width);
    CHECK(p.source_tokens.size() == input.size());
    REQUIRE(p.attention.defined());
    CHECK(p.attention.shape() == Shape({static_cast<int64_t>(p.target_tokens.size()),
                                        static_cast<int64_t>(input.size())}));
    CHECK(p.output.size() == p.target_tokens.size());
    check_rows_sum_to_one(p.attention);
  }

  // A checkpoint round trip gives identical predictions in a freshly built task.
  auto restored = smoke_task();
  CHECK(restored->predict(input).attention.size(1) == static_cast<int64_t>(input.size()));
  minidl::testing::checkpoint_round_trip(*task, optimizer, *restored, "bahdanau-dates");
  for (const std::string& text : task->example_inputs()) {
    Prediction a = task->predict(text, 2), b = restored->predict(text, 2);
    CHECK(a.output == b.output);
    CHECK(a.attention.to_vector<float>() == b.attention.to_vector<float>());
  }
}

TEST_CASE("bahdanau seq2seq: beam width 1 is greedy decoding", "[bahdanau-dates]") {
  auto task = smoke_task(5);
  // A little training so the decisions are not all the same token.
  optim::RMSprop optimizer(task->model().parameters(), optim::RMSpropOptions(1e-2));
  task->start_epoch(0, 16);
  minidl::testing::fit_batches(*task, optimizer, 8, 4);
  BahdanauSeq2Seq& model = task->bahdanau();
  for (const Seq2SeqExample& pair : task->data().valid) {
    std::vector<int64_t> ids;
    for (char ch : pair.source) ids.push_back(4 + (static_cast<unsigned char>(ch) % 10));
    auto batched =
        model.greedy_decode(from_vector(ids, {1, static_cast<int64_t>(ids.size())}, kInt64),
                            {static_cast<int64_t>(ids.size())}, 16)[0];
    auto beamed = model.beam_search(ids, 1, 16);
    CHECK(beamed.tokens == batched.tokens);
    CHECK(beamed.log_prob == Approx(batched.log_prob).margin(1e-4));
    CHECK(allclose(beamed.attention, batched.attention, 0, 1e-6));
    // A wider beam never finds a less likely output than greedy.
    auto wide = model.beam_search(ids, 4, 16);
    CHECK(wide.log_prob >= batched.log_prob - 1e-4);
  }
}

TEST_CASE("bahdanau seq2seq: a padded row decodes as it does alone", "[bahdanau-dates]") {
  auto task = smoke_task(7);
  BahdanauSeq2Seq& model = task->bahdanau();
  Tensor batch = tensor<int64_t>({{4, 5, 6, 7, 8, 9}, {9, 8, 7, 0, 0, 0}});
  auto together = model.greedy_decode(batch, {6, 3}, 8);
  auto alone = model.greedy_decode(tensor<int64_t>({{9, 8, 7}}), {3}, 8);
  CHECK(together[1].tokens == alone[0].tokens);
  REQUIRE(together[1].attention.size(0) == alone[0].attention.size(0));
  if (alone[0].attention.size(0) > 0) {
    CHECK(allclose(together[1].attention.narrow(1, 0, 3), alone[0].attention, 0, 1e-5));
    CHECK(together[1].attention.narrow(1, 3, 3).abs().max().item<double>() == 0.0);
  }
}

TEST_CASE("bahdanau seq2seq errors name the model and the shapes", "[bahdanau-dates]") {
  CHECK_THROWS_WITH(BahdanauSeq2Seq(2, 10), Catch::Contains("BahdanauSeq2Seq"));
  BahdanauSeq2Seq model(10, 8, 4, 6, 5);
  CHECK_THROWS_WITH(model.encode(zeros({2, 3}), {3, 3}),
                    Catch::Contains("BahdanauSeq2Seq") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(model.encode(tensor<int64_t>({{4, 5, 6}}), {4}),
                    Catch::Contains("BahdanauSeq2Seq") && Catch::Contains("length 4"));
  CHECK_THROWS_WITH(model.encode(tensor<int64_t>({{4, 5, 6}}), {3, 3}),
                    Catch::Contains("expected 1 lengths"));
  CHECK_THROWS_WITH(
      model.forward(tensor<int64_t>({{4, 5, 6}}), {3}, tensor<int64_t>({{1, 4}, {1, 5}})),
      Catch::Contains("target_input") && Catch::Contains("[2, 2]"));
  CHECK_THROWS_WITH(model.beam_search({4, 5}, 0, 5), Catch::Contains("beam_width"));
  CHECK_THROWS_WITH(model.beam_search({}, 2, 5), Catch::Contains("non-empty"));
  auto task = smoke_task();
  CHECK_THROWS_WITH(task->evaluate("nope"), Catch::Contains("unknown split 'nope'"));
  CHECK_THROWS_WITH(task->batch_loss(0, nullptr), Catch::Contains("start_epoch"));
  task->start_epoch(0, 16);
  CHECK_THROWS_WITH(task->batch_loss(4, nullptr), Catch::Contains("batch 4 out of range [0, 4)"));
  BahdanauDatesTask fresh;
  CHECK_THROWS_WITH(fresh.predict("1 May 1999"), Catch::Contains("setup"));
  CHECK_THROWS_WITH(fresh.model(), Catch::Contains("setup"));
}
