// The encoder-decoders on G2P and translation (models 1, 3 and 4 of issue 5) through the shared
// Seq2SeqTask: smoke runs on the in-memory data (shapes, padding gets no attention, the loss
// falls, greedy == beam width 1, the metrics, a checkpoint round trip), the data adapters, and
// error paths.
#include "core/factories.h"
#include "models/common/batching.h"
#include "models/registry.h"
#include "models/sequence/bahdanau_seq2seq.h"
#include "models/sequence/bilstm_seq2seq.h"
#include "models/sequence/seq2seq_data.h"
#include "models/sequence/translation_seq2seq.h"
#include "nn/optim.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::allclose;

namespace {

std::unique_ptr<Task> smoke(const std::string& name, uint64_t seed = 1) {
  std::unique_ptr<Task> task = make_task(name);
  TaskOptions options;
  options.smoke = true;
  options.seed = seed;
  task->setup(options);
  return task;
}

void check_seq2seq_smoke(const std::string& name, const std::string& headline) {
  auto task = smoke(name);
  auto& s2s = dynamic_cast<Seq2SeqTask&>(*task);
  Seq2SeqModel& model = s2s.seq2seq();
  model.eval();  // no dropout: the padding check below compares exact zeros

  // Teacher forcing: logits [B, Tt, V], attention [B, Tt, Ts]; padding gets no weight.
  Tensor source = tensor<int64_t>({{4, 5, 6, 7}, {5, 6, 0, 0}});
  Tensor target_input = tensor<int64_t>({{1, 4, 5}, {1, 6, 0}});
  auto [logits, weights] = model.forward(source, {4, 2}, target_input);
  CHECK(logits.shape() == Shape({2, 3, model.target_vocab_size()}));
  REQUIRE(weights.shape() == Shape({2, 3, 4}));
  std::vector<float> w = weights.to_vector<float>();
  for (int t = 0; t < 3; ++t) {
    CHECK(w[12 + t * 4 + 2] == 0.0f);
    CHECK(w[12 + t * 4 + 3] == 0.0f);
    CHECK(w[12 + t * 4] + w[12 + t * 4 + 1] == Approx(1.0).margin(1e-5));
  }
  // A row decodes the same alone and padded in a batch.
  auto together = model.greedy_decode(source, {4, 2}, 6);
  auto alone = model.greedy_decode(tensor<int64_t>({{5, 6}}), {2}, 6);
  CHECK(together[1].tokens == alone[0].tokens);

  model.train();
  optim::Adam optimizer(model.parameters(), optim::AdamOptions(1e-2));
  task->start_epoch(0, 16);
  minidl::testing::FitResult fit = minidl::testing::fit_batches(*task, optimizer, 25);
  CHECK(fit.last < 0.7 * fit.first);
  model.eval();

  // Greedy decoding is beam search of width 1, and a wider beam is never less likely.
  std::vector<int64_t> ids = {4, 5, 6, 7, 8};
  auto greedy = model.greedy_decode(from_vector(ids, {1, 5}, kInt64), {5}, 10)[0];
  auto beam1 = model.beam_search(ids, 1, 10);
  CHECK(beam1.tokens == greedy.tokens);
  CHECK(beam1.log_prob == Approx(greedy.log_prob).margin(1e-4));
  CHECK(allclose(beam1.attention, greedy.attention, 0, 1e-6));
  CHECK(model.beam_search(ids, 4, 10).log_prob >= greedy.log_prob - 1e-4);

  Metrics metrics = task->evaluate("valid");
  REQUIRE(metrics.size() >= 2);
  CHECK(metrics[0].first == headline);
  CHECK(metrics.back().first == "loss");
  CHECK(metrics.back().second > 0);

  const std::string input = task->example_inputs().at(0);
  Prediction p = task->predict(input);
  REQUIRE(p.attention.defined());
  CHECK(p.attention.size(0) == static_cast<int64_t>(p.target_tokens.size()));
  CHECK(p.attention.size(1) == static_cast<int64_t>(p.source_tokens.size()));

  // Checkpoint round trip: a fresh task with the loaded weights predicts the same.
  auto restored = smoke(name);
  minidl::testing::checkpoint_round_trip(*task, optimizer, *restored, name);
  for (const std::string& text : task->example_inputs()) {
    Prediction a = task->predict(text), b = restored->predict(text);
    CHECK(a.output == b.output);
  }
}

}  // namespace

TEST_CASE("bahdanau-g2p smoke", "[seq2seq-models]") {
  check_seq2seq_smoke("bahdanau-g2p", "wer");
}

TEST_CASE("translation-g2p smoke (LSTMCell decoder)", "[seq2seq-models]") {
  check_seq2seq_smoke("translation-g2p", "wer");
  auto task = smoke("translation-g2p");
  auto& model = dynamic_cast<TranslationSeq2Seq&>(dynamic_cast<Seq2SeqTask&>(*task).seq2seq());
  CHECK(model.cell->input_size == model.options.embedding_dim + model.options.hidden_size);
  CHECK(model.encoder->num_layers == 2);
}

TEST_CASE("translation-deu-eng smoke (BLEU)", "[seq2seq-models]") {
  check_seq2seq_smoke("translation-deu-eng", "bleu");
}

TEST_CASE("bilstm-g2p smoke (packed BiLSTM encoder)", "[seq2seq-models]") {
  check_seq2seq_smoke("bilstm-g2p", "wer");
  auto task = smoke("bilstm-g2p");
  auto& model = dynamic_cast<BiLSTMSeq2Seq&>(dynamic_cast<Seq2SeqTask&>(*task).seq2seq());
  CHECK(model.encoder->bidirectional);
}

TEST_CASE("seq2seq task scores G2P against any pronunciation and BLEU", "[seq2seq-models]") {
  auto task = smoke("bilstm-g2p");
  auto& s2s = dynamic_cast<Seq2SeqTask&>(*task);
  const std::vector<Seq2SeqExample>& valid = s2s.data().valid;
  REQUIRE(valid.size() >= 2);
  std::vector<std::string> perfect, last_reference, empty(valid.size());
  for (const Seq2SeqExample& e : valid) {
    perfect.push_back(e.references.front());
    last_reference.push_back(e.references.back());
  }
  CHECK(s2s.score("valid", perfect)[0].second == 0.0);         // wer
  CHECK(s2s.score("valid", last_reference)[0].second == 0.0);  // any pronunciation counts
  Metrics none = s2s.score("valid", empty);
  CHECK(none[0].second == 1.0);  // wer
  CHECK(none[1].second == 1.0);  // per: every phoneme deleted
  CHECK_THROWS_WITH(s2s.score("valid", {"AH"}), Catch::Contains("expected"));

  auto translation = smoke("translation-deu-eng");
  auto& t = dynamic_cast<Seq2SeqTask&>(*translation);
  std::vector<std::string> references;
  for (const Seq2SeqExample& e : t.data().test) references.push_back(e.references.front());
  Metrics scored = t.score("test", references);
  CHECK(scored[0].first == "bleu");  // (0 here: the smoke phrases are shorter than 4-grams)
  CHECK(scored[1].first == "unigram_precision");
  CHECK(scored[1].second == 1.0);
  CHECK(scored[3].first == "brevity_penalty");
  CHECK(scored[3].second == 1.0);
  CHECK(scored[4].first == "exact_match");
  CHECK(scored[4].second == 1.0);
}

TEST_CASE("seq2seq data: translation normalization and G2P splits", "[seq2seq-models]") {
  CHECK(normalize_for_translation("Er kam, sah   und SIEGTE!") == "er kam , sah und siegte !");
  CHECK(normalize_for_translation("\xC3\x9C"
                                  "ber (das)") ==
        "\xC3\xBC"
        "ber ( das )");
  TaskOptions options;
  options.smoke = true;
  Seq2SeqData g2p = g2p_seq2seq_data(options);
  CHECK(g2p.target_level == nn::Vocab::Level::Word);
  CHECK(g2p.train.size() + g2p.valid.size() + g2p.test.size() == 86);  // 89 lines, 3 alternates
  options.seed = 7;  // the G2P split does not depend on the training seed
  Seq2SeqData again = g2p_seq2seq_data(options);
  REQUIRE(again.test.size() == g2p.test.size());
  for (size_t i = 0; i < g2p.test.size(); ++i) CHECK(again.test[i].source == g2p.test[i].source);
  bool alternates = false;
  for (const Seq2SeqExample& e : g2p.train) alternates = alternates || e.references.size() > 1;
  CHECK(alternates);
}

TEST_CASE("length-bucketed batches cover every example once, seeded", "[seq2seq-models]") {
  std::vector<int64_t> lengths;
  for (int i = 0; i < 300; ++i) lengths.push_back((i * 37) % 11);
  auto batches = length_bucketed_batches(lengths, 8, 3, 1);
  std::vector<int> seen(300, 0);
  for (const auto& batch : batches) {
    CHECK(batch.size() <= 8);
    for (int64_t i : batch) ++seen[i];
  }
  for (int count : seen) CHECK(count == 1);
  CHECK(length_bucketed_batches(lengths, 8, 3, 1) == batches);
  CHECK(length_bucketed_batches(lengths, 8, 3, 2) != batches);
  CHECK_THROWS_WITH(length_bucketed_batches(lengths, 0, 3, 1), Catch::Contains("batch_size"));
}

TEST_CASE("seq2seq models reject bad sizes and inputs", "[seq2seq-models]") {
  CHECK_THROWS_WITH(TranslationSeq2Seq(2, 10), Catch::Contains("TranslationSeq2Seq"));
  CHECK_THROWS_WITH(BiLSTMSeq2Seq(10, 10, {8, 0, 1, 0.0}),
                    Catch::Contains("BiLSTMSeq2Seq") && Catch::Contains("hidden_size 0"));
  BiLSTMSeq2Seq model(10, 8, {4, 3, 1, 0.0});
  CHECK_THROWS_WITH(model.forward(zeros({2, 3}), {3, 3}, tensor<int64_t>({{1}, {1}})),
                    Catch::Contains("BiLSTMSeq2Seq") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(model.greedy_decode(tensor<int64_t>({{4, 5}}), {3}, 4),
                    Catch::Contains("length 3"));
  TranslationSeq2Seq translation(10, 8, {4, 6, 2, 5, 0.0});
  CHECK_THROWS_WITH(
      translation.forward(tensor<int64_t>({{4, 5}}), {2}, tensor<int64_t>({{1, 4}, {1, 5}})),
      Catch::Contains("target_input") && Catch::Contains("[2, 2]"));
  auto task = make_task("translation-g2p");
  CHECK_THROWS_WITH(task->evaluate("valid"), Catch::Contains("translation-g2p"));
}
