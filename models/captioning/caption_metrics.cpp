// Word accuracy, exact match and the quadrant attention mass of mosaic captions
// (models/captioning/caption_metrics.h).
#include "models/captioning/caption_metrics.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "models/captioning/mosaic_data.h"

namespace minidl::models {

double quadrant_mass(const Tensor& attention, int64_t quadrant) {
  MINIDL_CHECK(attention.defined() && attention.dim() == 2 && is_floating_point(attention.dtype()),
               "quadrant_mass",
               "expected a floating attention map [grid_h, grid_w], got "
                   << (attention.defined() ? shape_str(attention.shape()) : "undefined"));
  MINIDL_CHECK(quadrant >= 0 && quadrant < kQuadrants, "quadrant_mass",
               "quadrant " << quadrant << " is not in [0, 4)");
  const int64_t grid_h = attention.size(0), grid_w = attention.size(1);
  const std::vector<double> weights =
      attention.detach().to(kFloat64).contiguous().to_vector<double>();
  double inside = 0, total = 0;
  for (int64_t r = 0; r < grid_h; ++r)
    for (int64_t c = 0; c < grid_w; ++c) {
      const double w = weights[r * grid_w + c];
      MINIDL_CHECK(w >= 0, "quadrant_mass",
                   "negative attention weight " << w << " at cell (" << r << ", " << c << ")");
      total += w;
      if (grid_quadrant(r, c, grid_h, grid_w) == quadrant) inside += w;
    }
  return total > 0 ? inside / total : 0.0;
}

void CaptionScores::add(const std::vector<int64_t>& generated,
                        const std::vector<int64_t>& reference, const Tensor& attention) {
  MINIDL_CHECK(static_cast<int64_t>(reference.size()) == kQuadrants, "CaptionScores",
               "a reference caption has 4 words, got " << reference.size());
  const int64_t scored = std::min<int64_t>(static_cast<int64_t>(generated.size()), kQuadrants);
  if (scored > 0)
    MINIDL_CHECK(attention.defined() && attention.dim() == 3 &&
                     attention.size(0) == static_cast<int64_t>(generated.size()),
                 "CaptionScores",
                 "expected attention ["
                     << generated.size() << ", grid_h, grid_w] for " << generated.size()
                     << " generated words, got "
                     << (attention.defined() ? shape_str(attention.shape()) : "undefined"));
  ++captions;
  exact += generated == reference;
  words += kQuadrants;
  for (int64_t i = 0; i < scored; ++i) {
    words_correct += generated[i] == reference[i];
    quadrant_mass_sum[i] += quadrant_mass(attention.select(0, i), i);
    ++quadrant_words[i];
  }
}

void CaptionScores::add_to(EvaluationSums& sums) const {
  sums.add("captions", static_cast<double>(captions));
  sums.add("exact", static_cast<double>(exact));
  sums.add("words", static_cast<double>(words));
  sums.add("words_correct", static_cast<double>(words_correct));
  for (int64_t q = 0; q < kQuadrants; ++q) {
    sums.add("quadrant_mass_" + std::to_string(q), quadrant_mass_sum[q]);
    sums.add("quadrant_words_" + std::to_string(q), static_cast<double>(quadrant_words[q]));
  }
}

CaptionScores CaptionScores::from_sums(const EvaluationSums& sums) {
  CaptionScores scores;
  scores.captions = sums.count("captions");
  scores.exact = sums.count("exact");
  scores.words = sums.count("words");
  scores.words_correct = sums.count("words_correct");
  for (int64_t q = 0; q < kQuadrants; ++q) {
    scores.quadrant_mass_sum[q] = sums.get("quadrant_mass_" + std::to_string(q));
    scores.quadrant_words[q] = sums.count("quadrant_words_" + std::to_string(q));
  }
  return scores;
}

double CaptionScores::word_accuracy() const {
  return words > 0 ? static_cast<double>(words_correct) / static_cast<double>(words) : 0.0;
}

double CaptionScores::exact_match() const {
  return captions > 0 ? static_cast<double>(exact) / static_cast<double>(captions) : 0.0;
}

double CaptionScores::quadrant_attention() const {
  double sum = 0;
  int64_t count = 0;
  for (int64_t q = 0; q < kQuadrants; ++q) {
    sum += quadrant_mass_sum[q];
    count += quadrant_words[q];
  }
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

double CaptionScores::quadrant_attention(int64_t quadrant) const {
  MINIDL_CHECK(quadrant >= 0 && quadrant < kQuadrants, "CaptionScores",
               "quadrant " << quadrant << " is not in [0, 4)");
  return quadrant_words[quadrant] > 0
             ? quadrant_mass_sum[quadrant] / static_cast<double>(quadrant_words[quadrant])
             : 0.0;
}

}  // namespace minidl::models
