// Sharded evaluation (issue 15), in one process: the sums that N ranks each compute over their
// part of a split add up to the whole split's, and the metrics computed from them equal the
// whole split's evaluate() -- for every task family that evaluates by sums, including metrics
// that are not means over examples (corpus BLEU, G2P error rates, per-class accuracies). Also
// the pieces: EvaluationSums, shard_evaluation_part, BLEU / G2P / caption counts added by parts.
#include <cmath>
#include <string>
#include <vector>

#include "models/captioning/caption_metrics.h"
#include "models/common/evaluation_sums.h"
#include "models/common/metrics.h"
#include "models/common/shard.h"
#include "models/common/training.h"
#include "models/registry.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

// Adds every sum of `part` into `total` (what the all-reduce does across ranks).
void add_sums(EvaluationSums& total, const EvaluationSums& part) {
  for (size_t k = 0; k < part.names().size(); ++k) total.add(part.names()[k], part.values()[k]);
}

// The metrics of `world` ranks' parts of task's split, their sums added, as rank 0 computes them.
Metrics metrics_of_parts(Task& task, const std::string& split, int64_t world,
                         std::vector<Metrics>* part_metrics = nullptr) {
  EvaluationSums total;
  for (int64_t rank = 0; rank < world; ++rank) {
    task.set_shard({rank, world});
    const EvaluationSums part = task.evaluation_sums(split);
    if (rank > 0) REQUIRE(part.names() == total.names());  // the values line up, rank by rank
    add_sums(total, part);
    if (part_metrics) part_metrics->push_back(task.evaluate(split));
  }
  task.set_shard({0, 1});
  return task.evaluation_metrics(total);
}

}  // namespace

TEST_CASE("shard_evaluation_part: contiguous parts in rank order, empty when there are too few",
          "[models][shard]") {
  // 10 examples on 4 ranks: [0, 3), [3, 6), [6, 8), [8, 10), as shard_part cuts a batch.
  const int64_t begins[] = {0, 3, 6, 8}, ends[] = {3, 6, 8, 10};
  for (int64_t r = 0; r < 4; ++r) {
    const ShardPart part = shard_evaluation_part({r, 4}, 10);
    CHECK(part.begin == begins[r]);
    CHECK(part.end == ends[r]);
    CHECK(part.items() == ends[r] - begins[r]);
    CHECK(part.begin == shard_part({r, 4}, 10).begin);
  }
  // 2 examples on 3 ranks: rank 2 has nothing to evaluate -- not shard_part's weight-0 stand-in.
  const ShardPart empty = shard_evaluation_part({2, 3}, 2);
  CHECK(empty.begin == 2);
  CHECK(empty.end == 2);
  CHECK(empty.items() == 0);
  CHECK(shard_part({2, 3}, 2).end - shard_part({2, 3}, 2).begin == 1);
  CHECK(shard_evaluation_part({0, 1}, 0).items() == 0);
  CHECK_THROWS_WITH(shard_evaluation_part({3, 3}, 5),
                    Catch::Contains("rank 3") && Catch::Contains("world of 3"));
  CHECK_THROWS_WITH(shard_evaluation_part({0, 2}, -1), Catch::Contains("-1 examples"));
}

TEST_CASE("EvaluationSums: named sums in order, ratios, counts, errors", "[models][shard]") {
  EvaluationSums sums;
  sums.add("right", 3);
  sums.add("examples", 4);
  sums.add("right", 2);
  CHECK(sums.names() == std::vector<std::string>{"right", "examples"});
  CHECK(sums.values() == std::vector<double>{5, 4});
  CHECK(sums.get("right") == 5);
  CHECK(sums.count("examples") == 4);
  CHECK(sums.ratio("right", "examples") == 1.25);
  sums.add("nothing", 0);
  CHECK(sums.ratio("right", "nothing") == 0);  // a rate over no examples
  CHECK_THROWS_WITH(sums.get("wrong"), Catch::Contains("no sum called \"wrong\"") &&
                                           Catch::Contains("right, examples, nothing"));
  CHECK_THROWS_WITH(EvaluationSums().ratio("a", "b"), Catch::Contains("the sums are: none"));

  // A classifier's counts by class, and the accuracies from them.
  EvaluationSums classes;
  add_class_counts(classes, {"cat", "dog"}, {3, 1}, {2, 0});
  classes.add("loss", 8);
  const Metrics m = class_accuracy_metrics(classes, {"cat", "dog"});
  CHECK(m ==
        Metrics{{"accuracy", 0.5}, {"loss", 2.0}, {"accuracy_cat", 2.0 / 3}, {"accuracy_dog", 0}});
  CHECK_THROWS_WITH(add_class_counts(classes, {"cat"}, {1, 2}, {1}),
                    Catch::Contains("add_class_counts") && Catch::Contains("1 classes, 2 example"));
}

TEST_CASE("BLEU, G2P and caption counts of two halves add up to the whole corpus's",
          "[models][shard]") {
  const std::vector<Tokens> hyp = {{"the", "cat", "sat"},
                                   {"a", "dog", "ran", "far", "away"},
                                   {"on", "the", "mat"},
                                   {"it", "is", "a", "cat"}};
  const std::vector<std::vector<Tokens>> ref = {
      {{"the", "cat", "sat", "down"}},
      {{"the", "dog", "ran", "far", "away"}, {"a", "dog", "ran", "away"}},
      {{"on", "the", "mat"}},
      {{"it", "is", "a", "small", "cat"}}};
  BleuCounts first, second;
  for (size_t i = 0; i < 2; ++i) first.add(hyp[i], ref[i]);
  for (size_t i = 2; i < 4; ++i) second.add(hyp[i], ref[i]);
  BleuCounts both = first;
  for (int n = 0; n < 4; ++n) {
    both.matches[n] += second.matches[n];
    both.totals[n] += second.totals[n];
  }
  both.hypothesis_length += second.hypothesis_length;
  both.reference_length += second.reference_length;
  const BleuScore whole = corpus_bleu(hyp, ref), halves = bleu_score(both);
  REQUIRE(whole.bleu > 0);
  CHECK(halves.bleu == whole.bleu);
  CHECK(halves.precisions == whole.precisions);
  CHECK(halves.brevity_penalty == whole.brevity_penalty);
  // Not the mean of the halves' BLEU: corpus BLEU is not a mean over sentences.
  CHECK(std::abs((bleu_score(first).bleu + bleu_score(second).bleu) / 2 - whole.bleu) > 1e-3);
  CHECK_THROWS_WITH(first.add(hyp[0], {}), Catch::Contains("no reference"));
  CHECK_THROWS_WITH(bleu_score(both, 5), Catch::Contains("max_order must be in [1, 4]"));

  G2PScores g2p_first, g2p_second;
  for (size_t i = 0; i < 2; ++i) g2p_first.add(hyp[i], ref[i]);
  for (size_t i = 2; i < 4; ++i) g2p_second.add(hyp[i], ref[i]);
  G2PScores g2p_both;
  g2p_both.words = g2p_first.words + g2p_second.words;
  g2p_both.word_errors = g2p_first.word_errors + g2p_second.word_errors;
  g2p_both.phoneme_errors = g2p_first.phoneme_errors + g2p_second.phoneme_errors;
  g2p_both.reference_phonemes = g2p_first.reference_phonemes + g2p_second.reference_phonemes;
  g2p_both.update_rates();
  const G2PScores g2p_whole = g2p_scores(hyp, ref);
  CHECK(g2p_both.wer == g2p_whole.wer);
  CHECK(g2p_both.per == g2p_whole.per);
  CHECK(g2p_whole.wer == 0.75);  // only "on the mat" is right

  // Caption counts through EvaluationSums and back.
  CaptionScores captions;
  captions.add({1, 2, 3, 4}, {1, 2, 3, 4}, full({4, 2, 2}, 0.25));
  captions.add({1, 3}, {1, 2, 3, 4}, full({2, 2, 2}, 0.25));
  EvaluationSums sums;
  captions.add_to(sums);
  const CaptionScores back = CaptionScores::from_sums(sums);
  CHECK(back.word_accuracy() == captions.word_accuracy());
  CHECK(back.exact_match() == 0.5);
  CHECK(back.quadrant_attention() == captions.quadrant_attention());
  CHECK(back.quadrant_attention(1) == captions.quadrant_attention(1));
}

TEST_CASE("sharded evaluation: the parts' sums give the whole split's metrics, every task family",
          "[models][shard]") {
  // One model per family that evaluates by sums, and one per seq2seq metric (exact match and
  // token accuracy; G2P error rates; BLEU).
  const std::vector<std::string> names = {"cnn-fashion-mnist",
                                          "char-rnn-fortunes",
                                          "bilstm-attention-langid",
                                          "multimodal-fashion-vqa",
                                          "caption-dot-attention",
                                          "bahdanau-dates",
                                          "bilstm-g2p",
                                          "translation-deu-eng"};
  for (const std::string& name : names) {
    INFO(name);
    auto task = find_task(name).make();
    setup_task(*task, TaskOptions{"", 1, true});
    REQUIRE(task->evaluates_by_sums());
    // A few steps, so that decoders say something other than one token.
    task->start_epoch(0, 8);
    auto optimizer = make_optimizer("adam", task->model().parameters(), 1e-2);
    testing::fit_batches(*task, *optimizer, 3);
    const Metrics whole = task->evaluate("valid");
    for (int64_t world : {2, 3}) {
      INFO(world << " ranks");
      std::vector<Metrics> parts;
      const Metrics sharded = metrics_of_parts(*task, "valid", world, &parts);
      REQUIRE(sharded.size() == whole.size());
      for (size_t k = 0; k < whole.size(); ++k) {
        INFO(whole[k].first << ": whole " << whole[k].second << ", from parts "
                            << sharded[k].second);
        CHECK(sharded[k].first == whole[k].first);
        // Counts add exactly; summed losses differ by float summation order (other batches).
        CHECK(std::abs(sharded[k].second - whole[k].second) <=
              1e-5 * std::max(1.0, std::abs(whole[k].second)));
      }
      // The ranks really evaluated different examples: their own losses differ.
      auto loss = [](const Metrics& metrics) {
        for (const auto& [metric, value] : metrics)
          if (metric == "loss") return value;
        FAIL("no loss metric");
        return 0.0;
      };
      CHECK(loss(parts[0]) != loss(parts[1]));
    }
  }
}

TEST_CASE("sharded evaluation: more ranks than examples, and tasks that do not evaluate by sums",
          "[models][shard]") {
  auto task = find_task("cnn-fashion-mnist").make();
  setup_task(*task, TaskOptions{"", 1, true});
  const Metrics whole = task->evaluate("valid");
  const int64_t images = task->evaluation_sums("valid").count("images");
  REQUIRE(images > 0);
  // images + 2 ranks: the last two have empty parts, which add nothing.
  task->set_shard({images + 1, images + 2});
  const EvaluationSums empty = task->evaluation_sums("valid");
  CHECK(empty.count("images") == 0);
  CHECK(empty.get("loss") == 0);
  const Metrics sharded = metrics_of_parts(*task, "valid", images + 2);
  for (size_t k = 0; k < whole.size(); ++k)
    CHECK(std::abs(sharded[k].second - whole[k].second) <= 1e-5);

  // A graph task runs the whole graph and evaluates it all on every rank.
  auto graph = find_task("gat-karate").make();
  setup_task(*graph, TaskOptions{"", 1, true});
  CHECK_FALSE(graph->evaluates_by_sums());
  CHECK_THROWS_WITH(graph->evaluation_sums("valid"),
                    Catch::Contains("does not evaluate by sums") && Catch::Contains("valid"));
  CHECK_THROWS_WITH(graph->evaluation_metrics(EvaluationSums()),
                    Catch::Contains("does not evaluate by sums"));
}
