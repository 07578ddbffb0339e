// The metrics of the mosaic captions (models/captioning/mosaic_data.h), accumulated caption by
// caption over greedy decodes:
//
//   word_accuracy   position-wise: word i of the generated caption equals word i of the
//                   reference (i < 4; a missing word is wrong, extra words are not counted)
//   exact_match     the generated caption is the reference, word for word and of its length
//   quadrant mass   for generated word i < 4, the fraction of its attention on the grid cells of
//                   quadrant i (the quadrant word i describes; models/captioning/mosaic_data.h,
//                   grid_quadrant), averaged over the generated words -- overall and per quadrant
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "models/common/evaluation_sums.h"

namespace minidl::models {

// The fraction of attention [grid_h, grid_w] (non-negative, any floating dtype) on the cells of
// `quadrant` (0 .. 3), relative to the map's total (0 when the map is all zero).
double quadrant_mass(const Tensor& attention, int64_t quadrant);

// The running counts behind the metrics above; add() one caption at a time.
struct CaptionScores {
  int64_t captions = 0, exact = 0;
  int64_t words = 0, words_correct = 0;  // reference words (4 per caption) and those matched
  std::array<double, 4> quadrant_mass_sum{};
  std::array<int64_t, 4> quadrant_words{};  // generated words at each position < 4

  // Adds one caption: generated and reference token ids (without <start> / <end>), and the
  // attention [generated words, grid_h, grid_w] of each generated word.
  void add(const std::vector<int64_t>& generated, const std::vector<int64_t>& reference,
           const Tensor& attention);

  // The counts as named sums (models/common/evaluation_sums.h) -- the counts of disjoint sets of
  // captions add up, so N processes can each score a part -- and back from such sums.
  void add_to(EvaluationSums& sums) const;
  static CaptionScores from_sums(const EvaluationSums& sums);

  // words_correct / words and exact / captions (0 when nothing was added).
  double word_accuracy() const;
  double exact_match() const;
  // The mean quadrant mass over every generated word at a position < 4 / at position `quadrant`.
  double quadrant_attention() const;
  double quadrant_attention(int64_t quadrant) const;
};

}  // namespace minidl::models
