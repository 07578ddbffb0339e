// Edit distance, G2P error rates, corpus BLEU, accuracy, confusion matrices.
#include "models/common/metrics.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

#include "core/error.h"

namespace minidl::models {

int64_t edit_distance(const Tokens& a, const Tokens& b) {
  // One row of the (|a|+1) x (|b|+1) dynamic-programming table at a time.
  std::vector<int64_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diagonal = row[0];  // table[i-1][j-1]
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t above = row[j];  // table[i-1][j]
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

void G2PScores::add(const Tokens& hypothesis, const std::vector<Tokens>& references) {
  MINIDL_CHECK(!references.empty(), "g2p_scores",
               "word " << words << " has no reference pronunciation");
  int64_t best = -1, best_length = 0;
  bool right = false;
  for (const Tokens& ref : references) {
    const int64_t d = edit_distance(hypothesis, ref);
    const int64_t length = static_cast<int64_t>(ref.size());
    if (best < 0 || d < best || (d == best && length < best_length)) best = d, best_length = length;
    right = right || d == 0;
  }
  ++words;
  word_errors += right ? 0 : 1;
  phoneme_errors += best;
  reference_phonemes += best_length;
  update_rates();
}

void G2PScores::update_rates() {
  wer = words ? static_cast<double>(word_errors) / static_cast<double>(words) : 0.0;
  per = reference_phonemes
            ? static_cast<double>(phoneme_errors) / static_cast<double>(reference_phonemes)
            : 0.0;
}

G2PScores g2p_scores(const std::vector<Tokens>& hypotheses,
                     const std::vector<std::vector<Tokens>>& references) {
  MINIDL_CHECK(hypotheses.size() == references.size(), "g2p_scores",
               hypotheses.size() << " hypotheses for " << references.size() << " references");
  G2PScores s;
  for (size_t i = 0; i < hypotheses.size(); ++i) s.add(hypotheses[i], references[i]);
  return s;
}

double word_error_rate(const std::vector<Tokens>& hypotheses,
                       const std::vector<std::vector<Tokens>>& references) {
  return g2p_scores(hypotheses, references).wer;
}

double phoneme_error_rate(const std::vector<Tokens>& hypotheses,
                          const std::vector<std::vector<Tokens>>& references) {
  return g2p_scores(hypotheses, references).per;
}

namespace {

std::map<Tokens, int64_t> ngram_counts(const Tokens& tokens, size_t n) {
  std::map<Tokens, int64_t> counts;
  for (size_t i = 0; i + n <= tokens.size(); ++i)
    ++counts[Tokens(tokens.begin() + static_cast<std::ptrdiff_t>(i),
                    tokens.begin() + static_cast<std::ptrdiff_t>(i + n))];
  return counts;
}

}  // namespace

void BleuCounts::add(const Tokens& hypothesis, const std::vector<Tokens>& references,
                     int max_order) {
  const char* who = "corpus_bleu";
  MINIDL_CHECK(max_order >= 1 && max_order <= 4, who,
               "max_order must be in [1, 4], got " << max_order);
  MINIDL_CHECK(!references.empty(), who,
               "a sentence has no reference (hypothesis of " << hypothesis.size() << " tokens)");
  const int64_t c = static_cast<int64_t>(hypothesis.size());
  int64_t closest = -1;
  for (const Tokens& ref : references) {
    const int64_t r = static_cast<int64_t>(ref.size());
    if (closest < 0 || std::llabs(r - c) < std::llabs(closest - c) ||
        (std::llabs(r - c) == std::llabs(closest - c) && r < closest))
      closest = r;
  }
  hypothesis_length += c;
  reference_length += closest;
  for (int n = 1; n <= max_order; ++n) {
    std::map<Tokens, int64_t> max_ref;
    for (const Tokens& ref : references)
      for (const auto& [gram, count] : ngram_counts(ref, static_cast<size_t>(n)))
        max_ref[gram] = std::max(max_ref[gram], count);
    for (const auto& [gram, count] : ngram_counts(hypothesis, static_cast<size_t>(n))) {
      auto it = max_ref.find(gram);
      matches[n - 1] += std::min(count, it == max_ref.end() ? int64_t{0} : it->second);
      totals[n - 1] += count;
    }
  }
}

BleuScore bleu_score(const BleuCounts& counts, int max_order) {
  MINIDL_CHECK(max_order >= 1 && max_order <= 4, "bleu_score",
               "max_order must be in [1, 4], got " << max_order);
  BleuScore score;
  score.hypothesis_length = counts.hypothesis_length;
  score.reference_length = counts.reference_length;
  double log_sum = 0;
  bool zero = false;
  for (int n = 0; n < max_order; ++n) {
    score.precisions[n] = counts.totals[n] ? static_cast<double>(counts.matches[n]) /
                                                 static_cast<double>(counts.totals[n])
                                           : 0.0;
    if (score.precisions[n] == 0)
      zero = true;
    else
      log_sum += std::log(score.precisions[n]);
  }
  const double c = static_cast<double>(score.hypothesis_length);
  const double r = static_cast<double>(score.reference_length);
  score.brevity_penalty = c == 0 ? 0.0 : c < r ? std::exp(1.0 - r / c) : 1.0;
  score.bleu = zero ? 0.0 : score.brevity_penalty * std::exp(log_sum / max_order);
  return score;
}

BleuScore corpus_bleu(const std::vector<Tokens>& hypotheses,
                      const std::vector<std::vector<Tokens>>& references, int max_order) {
  const char* who = "corpus_bleu";
  MINIDL_CHECK(hypotheses.size() == references.size(), who,
               hypotheses.size() << " hypotheses for " << references.size() << " reference sets");
  MINIDL_CHECK(max_order >= 1 && max_order <= 4, who,
               "max_order must be in [1, 4], got " << max_order);
  BleuCounts counts;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    MINIDL_CHECK(!references[i].empty(), who, "sentence " << i << " has no reference");
    counts.add(hypotheses[i], references[i], max_order);
  }
  return bleu_score(counts, max_order);
}

Tokens split_whitespace(const std::string& text) {
  std::istringstream in(text);
  Tokens tokens;
  for (std::string t; in >> t;) tokens.push_back(t);
  return tokens;
}

BleuScore bleu_from_text(const std::vector<std::string>& hypotheses,
                         const std::vector<std::vector<std::string>>& references, int max_order) {
  std::vector<Tokens> hyp;
  std::vector<std::vector<Tokens>> refs;
  for (const std::string& h : hypotheses) hyp.push_back(split_whitespace(h));
  for (const auto& set : references) {
    refs.emplace_back();
    for (const std::string& r : set) refs.back().push_back(split_whitespace(r));
  }
  return corpus_bleu(hyp, refs, max_order);
}

double accuracy(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels) {
  MINIDL_CHECK(predictions.size() == labels.size(), "accuracy",
               predictions.size() << " predictions for " << labels.size() << " labels");
  MINIDL_CHECK(!labels.empty(), "accuracy", "no predictions (accuracy of an empty set)");
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) right += predictions[i] == labels[i];
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

std::vector<std::vector<int64_t>> confusion_matrix(const std::vector<int64_t>& predictions,
                                                   const std::vector<int64_t>& labels,
                                                   int64_t num_classes) {
  const char* who = "confusion_matrix";
  MINIDL_CHECK(predictions.size() == labels.size(), who,
               predictions.size() << " predictions for " << labels.size() << " labels");
  MINIDL_CHECK(num_classes > 0, who, "num_classes must be positive, got " << num_classes);
  std::vector<std::vector<int64_t>> matrix(static_cast<size_t>(num_classes),
                                           std::vector<int64_t>(static_cast<size_t>(num_classes)));
  for (size_t i = 0; i < labels.size(); ++i) {
    MINIDL_CHECK(labels[i] >= 0 && labels[i] < num_classes && predictions[i] >= 0 &&
                     predictions[i] < num_classes,
                 who,
                 "item " << i << ": label " << labels[i] << ", prediction " << predictions[i]
                         << " outside [0, " << num_classes << ")");
    ++matrix[labels[i]][predictions[i]];
  }
  return matrix;
}

std::string format_confusion_matrix(const std::vector<std::vector<int64_t>>& matrix,
                                    const std::vector<std::string>& names) {
  MINIDL_CHECK(matrix.size() == names.size(), "format_confusion_matrix",
               matrix.size() << " rows for " << names.size() << " class names");
  size_t width = 6;
  for (const std::string& n : names) width = std::max(width, n.size() + 1);
  std::ostringstream out;
  out << std::setw(static_cast<int>(width)) << "";
  for (const std::string& n : names) out << std::setw(static_cast<int>(width)) << n;
  out << std::setw(static_cast<int>(width)) << "recall"
      << "\n";
  for (size_t i = 0; i < matrix.size(); ++i) {
    MINIDL_CHECK(
        matrix[i].size() == names.size(), "format_confusion_matrix",
        "row " << i << " has " << matrix[i].size() << " columns, expected " << names.size());
    int64_t total = 0;
    out << std::setw(static_cast<int>(width)) << names[i];
    for (int64_t v : matrix[i]) out << std::setw(static_cast<int>(width)) << v, total += v;
    out << std::setw(static_cast<int>(width)) << std::fixed << std::setprecision(3)
        << (total ? static_cast<double>(matrix[i][i]) / static_cast<double>(total) : 0.0) << "\n";
  }
  return out.str();
}

}  // namespace minidl::models
