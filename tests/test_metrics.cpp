// Metrics on hand-computed examples: edit distance, G2P word/phoneme error rates, corpus BLEU
// (clipping, closest reference length, brevity penalty), accuracy, confusion matrix, errors.
#include "models/common/metrics.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {
Tokens chars(const std::string& s) {
  Tokens t;
  for (char c : s) t.push_back(std::string(1, c));
  return t;
}
}  // namespace

TEST_CASE("edit_distance is Levenshtein over tokens", "[datasets]") {
  CHECK(edit_distance(chars("kitten"), chars("sitting")) == 3);
  CHECK(edit_distance(chars("sitting"), chars("kitten")) == 3);
  CHECK(edit_distance(chars("flaw"), chars("lawn")) == 2);
  CHECK(edit_distance({}, chars("abc")) == 3);
  CHECK(edit_distance(chars("abc"), {}) == 3);
  CHECK(edit_distance({}, {}) == 0);
  CHECK(edit_distance({"AH", "B"}, {"AH", "B"}) == 0);
  // Tokens, not characters: "AH" vs "AA" is one substitution.
  CHECK(edit_distance({"K", "AH", "T"}, {"K", "AA", "T", "S"}) == 2);
}

TEST_CASE("g2p_scores: a word is right if it matches any pronunciation", "[datasets]") {
  // word 0: matches the second pronunciation exactly;
  // word 1: distance 1 to {T AH M EY T OW}, 2 to {T AH M AA T OW} -> 1 error over 6;
  // word 2: distance 2 to {K AE T} (3), 3 to {K AE T S IH Z} -> 2 over 3.
  const std::vector<Tokens> hyp = {{"EY"}, {"T", "AH", "M", "EY", "T", "AH"}, {"K", "EH"}};
  const std::vector<std::vector<Tokens>> ref = {
      {{"AH"}, {"EY"}},
      {{"T", "AH", "M", "EY", "T", "OW"}, {"T", "AH", "M", "AA", "T", "OW"}},
      {{"K", "AE", "T", "S", "IH", "Z"}, {"K", "AE", "T"}}};
  const G2PScores s = g2p_scores(hyp, ref);
  CHECK(s.words == 3);
  CHECK(s.word_errors == 2);
  CHECK(s.phoneme_errors == 0 + 1 + 2);
  CHECK(s.reference_phonemes == 1 + 6 + 3);
  CHECK(s.wer == Approx(2.0 / 3.0));
  CHECK(s.per == Approx(3.0 / 10.0));
  CHECK(word_error_rate(hyp, ref) == Approx(2.0 / 3.0));
  CHECK(phoneme_error_rate(hyp, ref) == Approx(0.3));
  // Equal distance to a long and a short reference: the shorter one counts.
  const G2PScores tie = g2p_scores({{"A", "B"}}, {{{"A", "B", "C", "D"}, {"A"}}});
  CHECK(tie.phoneme_errors == 1);
  CHECK(tie.reference_phonemes == 1);
  CHECK(g2p_scores({}, {}).wer == 0);
  CHECK_THROWS_WITH(g2p_scores({{"A"}}, {}),
                    Catch::Contains("g2p_scores") && Catch::Contains("1 hypotheses for 0"));
  CHECK_THROWS_WITH(g2p_scores({{"A"}}, {{}}), Catch::Contains("word 0 has no reference"));
}

TEST_CASE("corpus_bleu on a hand-computed corpus", "[datasets]") {
  // Sentence 1: hyp "the cat sat on the mat", ref "the cat sat on a mat": clipped matches
  //   1-grams 5/6 (the x2 clipped to 1), 2-grams 3/5, 3-grams 2/4, 4-grams 1/3; c = r = 6.
  const BleuScore one = bleu_from_text({"the cat sat on the mat"}, {{"the cat sat on a mat"}});
  CHECK(one.precisions[0] == Approx(5.0 / 6.0));
  CHECK(one.precisions[1] == Approx(3.0 / 5.0));
  CHECK(one.precisions[2] == Approx(2.0 / 4.0));
  CHECK(one.precisions[3] == Approx(1.0 / 3.0));
  CHECK(one.brevity_penalty == 1.0);
  CHECK(one.bleu == Approx(std::pow(1.0 / 12.0, 0.25)));  // 0.537285
  CHECK(one.bleu == Approx(0.537285).epsilon(1e-5));
  // Sentence 2: hyp "a b c d", refs "a b c d e" (5) and "x y" (2): closest length 5; every
  // n-gram matches. Corpus: p = 9/10, 6/8, 4/6, 2/4; c = 10, r = 11, BP = exp(1 - 11/10).
  const BleuScore two = bleu_from_text({"the cat sat on the mat", "a b c d"},
                                       {{"the cat sat on a mat"}, {"a b c d e", "x y"}});
  CHECK(two.hypothesis_length == 10);
  CHECK(two.reference_length == 11);
  CHECK(two.brevity_penalty == Approx(std::exp(-0.1)));
  CHECK(two.precisions[0] == Approx(0.9));
  CHECK(two.precisions[3] == Approx(0.5));
  CHECK(two.bleu == Approx(0.6231838).epsilon(1e-6));
}

TEST_CASE("corpus_bleu clipping, reference length ties, zero precision", "[datasets]") {
  // Papineni et al.'s example: "the" x7 against two references; "the" occurs at most twice in
  // one reference, so the unigram precision is 2/7.
  const BleuScore clip = bleu_from_text(
      {"the the the the the the the"}, {{"the cat is on the mat", "there is a cat on the mat"}}, 1);
  CHECK(clip.precisions[0] == Approx(2.0 / 7.0));
  CHECK(clip.bleu == Approx(2.0 / 7.0));  // c = 7 >= closest r = 7: no penalty
  // Hypothesis of 4 tokens, references of 3 and 5: equally close, the shorter (3) is used.
  const BleuScore tie = bleu_from_text({"a b c d"}, {{"a b c", "a b c d e"}});
  CHECK(tie.reference_length == 3);
  CHECK(tie.brevity_penalty == 1.0);
  CHECK(tie.bleu == Approx(1.0));
  // No 4-gram matches: BLEU is 0 (no smoothing), while lower orders are reported.
  const BleuScore zero = bleu_from_text({"a b c x e"}, {{"a b c d e"}});
  CHECK(zero.bleu == 0.0);
  CHECK(zero.precisions[0] == Approx(0.8));
  CHECK(bleu_from_text({"a b c x e"}, {{"a b c d e"}}, 2).bleu ==
        Approx(std::sqrt(0.8 * 2.0 / 4.0)));
  // Short hypotheses are penalized.
  const BleuScore brief = bleu_from_text({"a b"}, {{"a b c d"}}, 2);
  CHECK(brief.brevity_penalty == Approx(std::exp(1.0 - 4.0 / 2.0)));
  CHECK(brief.bleu == Approx(std::exp(-1.0)));
  CHECK(split_whitespace("  a \t b\nc ") == Tokens{"a", "b", "c"});
  CHECK_THROWS_WITH(corpus_bleu({{"a"}}, {}),
                    Catch::Contains("corpus_bleu") && Catch::Contains("1 hypotheses for 0"));
  CHECK_THROWS_WITH(corpus_bleu({{"a"}}, {{{"a"}}}, 5),
                    Catch::Contains("max_order") && Catch::Contains("5"));
  CHECK_THROWS_WITH(corpus_bleu({{"a"}}, {{}}), Catch::Contains("sentence 0 has no reference"));
}

TEST_CASE("accuracy and confusion matrix", "[datasets]") {
  const std::vector<int64_t> pred = {0, 1, 2, 2, 1, 0}, label = {0, 1, 1, 2, 1, 2};
  CHECK(accuracy(pred, label) == Approx(4.0 / 6.0));
  const auto m = confusion_matrix(pred, label, 3);
  CHECK(m == std::vector<std::vector<int64_t>>{{1, 0, 0}, {0, 2, 1}, {1, 0, 1}});
  const std::string table = format_confusion_matrix(m, {"en", "de", "fr"});
  CHECK_THAT(table, Catch::Contains("recall") && Catch::Contains("0.667") &&
                        Catch::Contains("1.000") && Catch::Contains("0.500"));
  CHECK_THROWS_WITH(accuracy({1}, {1, 2}),
                    Catch::Contains("accuracy") && Catch::Contains("1 predictions for 2"));
  CHECK_THROWS_WITH(accuracy({}, {}), Catch::Contains("empty"));
  CHECK_THROWS_WITH(confusion_matrix({0, 3}, {0, 1}, 3), Catch::Contains("confusion_matrix") &&
                                                             Catch::Contains("item 1") &&
                                                             Catch::Contains("prediction 3"));
  CHECK_THROWS_WITH(confusion_matrix({0}, {-1}, 3), Catch::Contains("label -1"));
  CHECK_THROWS_WITH(confusion_matrix({}, {}, 0), Catch::Contains("num_classes"));
  CHECK_THROWS_WITH(format_confusion_matrix(m, {"a"}), Catch::Contains("3 rows for 1"));
}
