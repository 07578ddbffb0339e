// Caption metrics (models/captioning/caption_metrics.h): the quadrant mass of hand-made
// attention maps, word accuracy and exact match position by position, and errors.
#include "core/factories.h"
#include "models/captioning/caption_metrics.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

// A [4, 4] map with all its weight in quadrant q (spread over the quadrant's four cells).
Tensor on_quadrant(int64_t q) {
  Tensor map = zeros({4, 4});
  const int64_t r0 = (q / 2) * 2, c0 = (q % 2) * 2;
  for (int64_t r = r0; r < r0 + 2; ++r)
    for (int64_t c = c0; c < c0 + 2; ++c) map.index({r, c}).fill_(0.25);
  return map;
}

}  // namespace

TEST_CASE("caption metrics: quadrant mass of a hand-made map", "[captioning]") {
  // Weights 0.5 at the top-left corner, 0.25 in the top-right and 0.25 in the bottom-right
  // quadrant, given unnormalised (x2): the mass is relative to the total.
  const Tensor map = tensor<double>(
      {{1.0, 0.0, 0.0, 0.5}, {0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.5}});
  CHECK(quadrant_mass(map, 0) == Approx(0.5));
  CHECK(quadrant_mass(map, 1) == Approx(0.25));
  CHECK(quadrant_mass(map, 2) == Approx(0.0));
  CHECK(quadrant_mass(map, 3) == Approx(0.25));
  // A 14x14 grid: the row and column 7 start the lower and right quadrants.
  Tensor grid = zeros({14, 14});
  grid.index({6, 6}).fill_(0.6);  // top-left
  grid.index({6, 7}).fill_(0.3);  // top-right
  grid.index({7, 6}).fill_(0.1);  // bottom-left
  CHECK(quadrant_mass(grid, 0) == Approx(0.6));
  CHECK(quadrant_mass(grid, 1) == Approx(0.3));
  CHECK(quadrant_mass(grid, 2) == Approx(0.1));
  CHECK(quadrant_mass(zeros({2, 2}), 0) == 0.0);

  CHECK_THROWS_WITH(quadrant_mass(map, 4), Catch::Contains("quadrant 4 is not in [0, 4)"));
  CHECK_THROWS_WITH(quadrant_mass(zeros({1, 4, 4}), 0),
                    Catch::Contains("expected a floating attention map [grid_h, grid_w], got "
                                    "[1, 4, 4]"));
  CHECK_THROWS_WITH(quadrant_mass(-map, 0), Catch::Contains("negative attention weight -1"));
  CHECK_THROWS_WITH(quadrant_mass(zeros({3, 4}), 0), Catch::Contains("even, positive sizes"));
}

TEST_CASE("caption metrics: word accuracy, exact match and quadrant attention", "[captioning]") {
  CaptionScores scores;
  const std::vector<int64_t> reference = {3, 4, 5, 6};
  // Right, with each word's attention on its quadrant.
  scores.add(reference, reference,
             stack({on_quadrant(0), on_quadrant(1), on_quadrant(2), on_quadrant(3)}));
  CHECK(scores.word_accuracy() == 1.0);
  CHECK(scores.exact_match() == 1.0);
  CHECK(scores.quadrant_attention() == Approx(1.0));

  // Three words, the second wrong; word 1 looks half at its quadrant, word 2 at the wrong one.
  Tensor half = on_quadrant(0) * 0.5 + on_quadrant(3) * 0.5;
  scores.add({3, 9, 5}, reference, stack({half, on_quadrant(0), on_quadrant(2)}));
  CHECK(scores.captions == 2);
  CHECK(scores.words == 8);
  CHECK(scores.words_correct == 6);  // 4 + words 1 and 3
  CHECK(scores.word_accuracy() == Approx(0.75));
  CHECK(scores.exact_match() == Approx(0.5));
  // Quadrant masses: 1, 1, 1, 1 (first caption), 0.5, 0, 1 (second): 5.5 / 7.
  CHECK(scores.quadrant_attention() == Approx(5.5 / 7));
  CHECK(scores.quadrant_attention(0) == Approx(0.75));
  CHECK(scores.quadrant_attention(1) == Approx(0.5));
  CHECK(scores.quadrant_attention(3) == Approx(1.0));

  // Five words: right words but too long, so no exact match; the fifth is not scored.
  scores.add(
      {3, 4, 5, 6, 7}, reference,
      stack({on_quadrant(0), on_quadrant(1), on_quadrant(2), on_quadrant(3), on_quadrant(0)}));
  CHECK(scores.words_correct == 10);
  CHECK(scores.exact_match() == Approx(1.0 / 3));
  CHECK(scores.quadrant_words[3] == 2);
  // An empty caption: four wrong words, no attention needed.
  scores.add({}, reference, Tensor());
  CHECK(scores.word_accuracy() == Approx(10.0 / 16));

  CHECK_THROWS_WITH(scores.add({3}, {3, 4, 5}, stack({on_quadrant(0)})),
                    Catch::Contains("a reference caption has 4 words, got 3"));
  CHECK_THROWS_WITH(scores.add({3, 4}, reference, stack({on_quadrant(0)})),
                    Catch::Contains("expected attention [2, grid_h, grid_w] for 2 generated "
                                    "words, got [1, 4, 4]"));
  CHECK_THROWS_WITH(scores.quadrant_attention(-1), Catch::Contains("quadrant -1"));
  CHECK(CaptionScores().word_accuracy() == 0.0);
}
