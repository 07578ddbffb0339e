// Mosaic captions (models/captioning/mosaic_data.h): class tokens, the seeded index tables,
// assembling four tiles into a mosaic in reading order, caption ids, grid quadrants, and errors.
#include <set>

#include "core/factories.h"
#include "models/captioning/mosaic_data.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

TEST_CASE("mosaic data: one token per class, <pad> <start> <end> first", "[captioning]") {
  CHECK(class_token("Ankle boot") == "ankle_boot");
  CHECK(class_token("T-shirt/top") == "t-shirt/top");
  const std::vector<std::string> vocabulary = caption_vocabulary({"T-shirt/top", "Trouser"});
  CHECK(vocabulary ==
        std::vector<std::string>{"<pad>", "<start>", "<end>", "t-shirt/top", "trouser"});
  CHECK(vocabulary[kCaptionPad] == "<pad>");
  CHECK(vocabulary[kCaptionStart] == "<start>");
  CHECK(vocabulary[kCaptionEnd] == "<end>");
  CHECK_THROWS_WITH(caption_vocabulary({}), Catch::Contains("no class names"));
  CHECK_THROWS_WITH(class_token(""), Catch::Contains("empty class name"));
}

TEST_CASE("mosaic data: seeded tables use every image once", "[captioning]") {
  const Tensor table = mosaic_table(10, 7);
  REQUIRE(table.shape() == Shape({2, 4}));  // 10 images: two mosaics, two images left out
  const std::vector<int64_t> ids = table.to_vector<int64_t>();
  CHECK(std::set<int64_t>(ids.begin(), ids.end()).size() == 8);
  for (int64_t id : ids) CHECK((id >= 0 && id < 10));
  CHECK(mosaic_table(10, 7).to_vector<int64_t>() == ids);  // seeded
  const Tensor big = mosaic_table(400, 1);
  CHECK(big.to_vector<int64_t>() != mosaic_table(400, 2).to_vector<int64_t>());
  const std::vector<int64_t> all = big.to_vector<int64_t>();
  CHECK(std::set<int64_t>(all.begin(), all.end()).size() == 400);
  CHECK_THROWS_WITH(mosaic_table(3, 0), Catch::Contains("needs at least 4 images, got 3"));
}

TEST_CASE("mosaic data: the quadrants hold the tiles in reading order", "[captioning]") {
  // Tile t of mosaic m has pixel (y, x) = 10000 m + 1000 t + 28 y + x, in each of 2 channels
  // (channel 1 negated).
  const int64_t mosaics = 2;
  std::vector<float> values;
  for (int64_t m = 0; m < mosaics; ++m)
    for (int64_t t = 0; t < 4; ++t)
      for (int64_t c = 0; c < 2; ++c)
        for (int64_t p = 0; p < 28 * 28; ++p)
          values.push_back((c == 0 ? 1.0f : -1.0f) * static_cast<float>(10000 * m + 1000 * t + p));
  const Tensor tiles = from_vector(values, {mosaics * 4, 2, 28, 28});
  const Tensor mosaic = compose_mosaics(tiles);
  REQUIRE(mosaic.shape() == Shape({mosaics, 2, 56, 56}));
  for (int64_t m = 0; m < mosaics; ++m)
    for (int64_t y : {0, 13, 27, 28, 40, 55})
      for (int64_t x : {0, 5, 27, 28, 50, 55}) {
        const int64_t tile = (y / 28) * 2 + x / 28;
        const double expected = 10000 * m + 1000 * tile + 28 * (y % 28) + x % 28;
        CHECK(mosaic.index({m, 0, y, x}).item<double>() == expected);
        CHECK(mosaic.index({m, 1, y, x}).item<double>() == -expected);
      }
  CHECK_THROWS_WITH(compose_mosaics(zeros({3, 1, 28, 28})),
                    Catch::Contains("expected tiles [4N, C, 28, 28], got [3, 1, 28, 28]"));
  CHECK_THROWS_WITH(compose_mosaics(zeros({4, 1, 28, 27})), Catch::Contains("[4, 1, 28, 27]"));
}

TEST_CASE("mosaic data: caption ids and grid quadrants", "[captioning]") {
  const Tensor labels = tensor<int64_t>({{9, 0, 1, 2}, {3, 3, 3, 3}});
  CHECK(caption_ids(labels).to_vector<int64_t>() ==
        std::vector<int64_t>{1, 12, 3, 4, 5, 2, 1, 6, 6, 6, 6, 2});
  CHECK_THROWS_WITH(caption_ids(tensor<int64_t>({{1, 2, 3}})),
                    Catch::Contains("expected int64 labels [N, 4], got [1, 3]"));
  CHECK_THROWS_WITH(caption_ids(tensor<int64_t>({{1, 2, -3, 4}})),
                    Catch::Contains("negative class label -3 in row 0"));

  CHECK(grid_quadrant(0, 0, 14, 14) == 0);
  CHECK(grid_quadrant(6, 6, 14, 14) == 0);
  CHECK(grid_quadrant(0, 7, 14, 14) == 1);
  CHECK(grid_quadrant(7, 0, 14, 14) == 2);
  CHECK(grid_quadrant(13, 13, 14, 14) == 3);
  CHECK(grid_quadrant(1, 1, 2, 4) == 2);
  CHECK(grid_quadrant(0, 2, 2, 4) == 1);
  CHECK_THROWS_WITH(grid_quadrant(0, 0, 7, 7),
                    Catch::Contains("even, positive sizes") && Catch::Contains("7x7"));
  CHECK_THROWS_WITH(grid_quadrant(14, 0, 14, 14),
                    Catch::Contains("cell (14, 0) is outside the 14x14 grid"));
}
