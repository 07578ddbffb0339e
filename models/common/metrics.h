// Evaluation metrics of the sequence models: edit distance, the grapheme-to-phoneme word and
// phoneme error rates, corpus BLEU, accuracy and a confusion matrix.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace minidl::models {

using Tokens = std::vector<std::string>;

// Levenshtein distance between two token sequences (insertions, deletions and substitutions
// cost 1).
int64_t edit_distance(const Tokens& a, const Tokens& b);

// Grapheme-to-phoneme scores of hypotheses[i] against the listed pronunciations references[i]
// (at least one each):
//  - a word is right if its hypothesis equals any listed pronunciation; wer = wrong / words;
//  - per = sum over words of the smallest edit distance to any pronunciation, divided by the
//    summed length of those closest pronunciations (ties: the shorter one, then the first).
// The counts are sums over words, so the counts of disjoint parts of a test set add up to the
// whole set's (sharded evaluation, models/common/evaluation_sums.h).
struct G2PScores {
  double wer = 0, per = 0;
  int64_t words = 0, word_errors = 0;
  int64_t phoneme_errors = 0, reference_phonemes = 0;

  // Adds one word: its hypothesis against its listed pronunciations (at least one; an error
  // otherwise), then updates the rates.
  void add(const Tokens& hypothesis, const std::vector<Tokens>& references);
  // Sets wer and per from the counts (0 over no words / no phonemes).
  void update_rates();
};
// All the scores above; word_error_rate / phoneme_error_rate return one. hypotheses and
// references must have equal lengths (an error otherwise).
G2PScores g2p_scores(const std::vector<Tokens>& hypotheses,
                     const std::vector<std::vector<Tokens>>& references);
double word_error_rate(const std::vector<Tokens>& hypotheses,
                       const std::vector<std::vector<Tokens>>& references);
double phoneme_error_rate(const std::vector<Tokens>& hypotheses,
                          const std::vector<std::vector<Tokens>>& references);

// Corpus BLEU (Papineni et al. 2002) with up to 4-grams and uniform weights: modified n-gram
// precisions p_n = sum of clipped n-gram counts / sum of hypothesis n-gram counts over the whole
// corpus (clipping by the largest count in any one reference), brevity penalty
// BP = exp(1 - r / c) if c < r else 1, with c the total hypothesis length and r the sum of the
// reference lengths closest to each hypothesis length (ties: the shorter);
// BLEU = BP * exp(mean log p_n). No smoothing: if some p_n is 0, BLEU is 0. Tokens are taken
// as given; bleu_from_text() splits at whitespace (like sacrebleu with tokenize="none", or
// nltk's corpus_bleu on str.split() tokens) -- sacrebleu's default "13a" tokenizer would also
// split punctuation off, so its scores differ on punctuated text. Scores are in [0, 1]
// (sacrebleu prints 100x). Checked against nltk 3.8's corpus_bleu: equal to 1e-16 on a random
// 300-sentence corpus; nltk differs only when a hypothesis is shorter than n, for which it
// counts 1 instead of 0 n-grams in the denominator of p_n.
struct BleuScore {
  double bleu = 0;
  std::array<double, 4> precisions{};  // p_1..p_max_order (unused orders stay 0)
  double brevity_penalty = 0;
  int64_t hypothesis_length = 0, reference_length = 0;
};
// What corpus BLEU is computed from: sums over the sentences, so the counts of disjoint parts of
// a corpus add up to the whole corpus's (sharded evaluation, models/common/evaluation_sums.h).
struct BleuCounts {
  std::array<int64_t, 4> matches{};                     // clipped n-gram matches, n = 1..4
  std::array<int64_t, 4> totals{};                      // the hypotheses' n-grams
  int64_t hypothesis_length = 0, reference_length = 0;  // c and r above

  // Adds one sentence: the hypothesis against its references (one or more; an error otherwise),
  // counting n-grams up to max_order in [1, 4].
  void add(const Tokens& hypothesis, const std::vector<Tokens>& references, int max_order = 4);
};
// BLEU from a corpus's counts, with n-grams up to max_order in [1, 4].
BleuScore bleu_score(const BleuCounts& counts, int max_order = 4);
// hypotheses[i] against its references[i] (one or more); max_order in [1, 4].
BleuScore corpus_bleu(const std::vector<Tokens>& hypotheses,
                      const std::vector<std::vector<Tokens>>& references, int max_order = 4);
BleuScore bleu_from_text(const std::vector<std::string>& hypotheses,
                         const std::vector<std::vector<std::string>>& references,
                         int max_order = 4);
// Whitespace tokenization.
Tokens split_whitespace(const std::string& text);

// Fraction of predictions equal to their label.
double accuracy(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels);
// matrix[label][prediction] = count; labels and predictions in [0, num_classes).
std::vector<std::vector<int64_t>> confusion_matrix(const std::vector<int64_t>& predictions,
                                                   const std::vector<int64_t>& labels,
                                                   int64_t num_classes);
// The matrix as an aligned text table with the class names (rows: true class, columns:
// predicted), plus each row's recall.
std::string format_confusion_matrix(const std::vector<std::vector<int64_t>>& matrix,
                                    const std::vector<std::string>& names);

}  // namespace minidl::models
