// The "From Theory to Code" seq2seq (dot-product attention) on the date task: its configuration,
// a smoke run (shapes, padding gets no attention, Adam lowers the loss, greedy and beam decoding
// agree at width 1, attention rows sum to 1), and the registry entry.
#include "core/factories.h"
#include "models/registry.h"
#include "models/sequence/dot_attention_seq2seq.h"
#include "nn/optim.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::allclose;

TEST_CASE("dot-attention seq2seq smoke: no attention parameters, training, decoding",
          "[dot-attention-dates]") {
  auto task = make_dot_attention_dates_task();
  TaskOptions options;
  options.smoke = true;
  options.seed = 4;
  task->setup(options);
  CHECK(task->defaults().optimizer == "adam");
  auto& dates = dynamic_cast<BahdanauDatesTask&>(*task);
  BahdanauSeq2Seq& model = dates.bahdanau();
  CHECK(model.score == "dot");
  CHECK_FALSE(model.attention);
  for (const auto& [name, p] : model.named_parameters())  // softmax(QKᵀ)V has no parameters
    CHECK(name.rfind("attention.", 0) != 0);

  Tensor source = tensor<int64_t>({{4, 5, 6, 7}, {5, 6, 0, 0}});
  Tensor target_input = tensor<int64_t>({{1, 4, 5}, {1, 6, 0}});
  auto [logits, weights] = model.forward(source, {4, 2}, target_input);
  CHECK(logits.shape() == Shape({2, 3, model.target_vocab}));
  REQUIRE(weights.shape() == Shape({2, 3, 4}));
  std::vector<float> w = weights.to_vector<float>();
  for (int t = 0; t < 3; ++t) {  // row 1 has two real characters: padding gets no weight
    CHECK(w[12 + t * 4 + 2] == 0.0f);
    CHECK(w[12 + t * 4 + 3] == 0.0f);
    CHECK(w[12 + t * 4] + w[12 + t * 4 + 1] == Approx(1.0).margin(1e-5));
  }

  optim::Adam optimizer(model.parameters(), optim::AdamOptions(1e-2));
  task->start_epoch(0, 16);
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 30);
  CHECK(fit.last < 0.8 * fit.first);  // the same batch, 30 steps

  std::vector<int64_t> ids = {4, 5, 6, 7, 8};
  auto greedy = model.greedy_decode(from_vector(ids, {1, 5}, kInt64), {5}, 12)[0];
  auto beam = model.beam_search(ids, 1, 12);
  CHECK(beam.tokens == greedy.tokens);
  CHECK(allclose(beam.attention, greedy.attention, 0, 1e-6));
  Prediction prediction = task->predict("3 May 1979");
  REQUIRE(prediction.attention.defined());
  CHECK(prediction.attention.size(1) == 10);  // one column per input character
  std::vector<float> rows = prediction.attention.to_vector<float>();
  for (int64_t r = 0; r < prediction.attention.size(0); ++r) {
    double sum = 0;
    for (int64_t c = 0; c < 10; ++c) sum += rows[r * 10 + c];
    CHECK(sum == Approx(1.0).margin(1e-5));
  }
  CHECK(task->evaluate("valid")[0].first == "exact_match");
}

TEST_CASE("dot-attention seq2seq is registered and rejects unknown scores",
          "[dot-attention-dates]") {
  CHECK(make_task("dot-attention-dates") != nullptr);
  CHECK_THROWS_WITH(BahdanauSeq2Seq(10, 10, 4, 8, 8, "cosine"),
                    Catch::Contains("BahdanauSeq2Seq") && Catch::Contains("cosine"));
  auto task = make_dot_attention_dates_task();
  CHECK_THROWS_WITH(task->evaluate("valid"), Catch::Contains("dot-attention-dates"));
}
