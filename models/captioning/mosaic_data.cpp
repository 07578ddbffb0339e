// Mosaic captions (models/captioning/mosaic_data.h): the vocabulary, the seeded index tables,
// assembling the pixels, and the quadrants of an attention grid.
#include "models/captioning/mosaic_data.h"

#include <cctype>

#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"

namespace minidl::models {

std::string class_token(const std::string& class_name) {
  MINIDL_CHECK(!class_name.empty(), "class_token", "empty class name");
  std::string token;
  for (char c : class_name)
    token += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return token;
}

std::vector<std::string> caption_vocabulary(const std::vector<std::string>& class_names) {
  MINIDL_CHECK(!class_names.empty(), "caption_vocabulary", "no class names");
  std::vector<std::string> vocabulary = {"<pad>", "<start>", "<end>"};
  for (const std::string& name : class_names) vocabulary.push_back(class_token(name));
  return vocabulary;
}

Tensor mosaic_table(int64_t images, uint64_t seed) {
  MINIDL_CHECK(images >= kQuadrants, "mosaic_table",
               "needs at least " << kQuadrants << " images, got " << images);
  Generator generator(seed);
  const int64_t mosaics = images / kQuadrants;
  return randperm(images, &generator)
      .narrow(0, 0, mosaics * kQuadrants)
      .reshape({mosaics, kQuadrants});
}

Tensor compose_mosaics(const Tensor& tiles) {
  MINIDL_CHECK(tiles.defined() && tiles.dim() == 4 && tiles.size(0) > 0 &&
                   tiles.size(0) % kQuadrants == 0 && tiles.size(2) == kTileSize &&
                   tiles.size(3) == kTileSize,
               "compose_mosaics",
               "expected tiles [4N, C, 28, 28], got "
                   << (tiles.defined() ? shape_str(tiles.shape()) : "undefined"));
  const int64_t mosaics = tiles.size(0) / kQuadrants, channels = tiles.size(1);
  // [N, 2 (tile row), 2 (tile col), C, 28, 28] -> [N, C, tile row, 28, tile col, 28]: pixel
  // (y, x) of the mosaic is pixel (y % 28, x % 28) of tile (y / 28) * 2 + x / 28.
  return tiles.reshape({mosaics, 2, 2, channels, kTileSize, kTileSize})
      .permute({0, 3, 1, 4, 2, 5})
      .reshape({mosaics, channels, kMosaicSize, kMosaicSize});
}

Tensor caption_ids(const Tensor& labels) {
  MINIDL_CHECK(
      labels.defined() && labels.dim() == 2 && labels.size(1) == kQuadrants &&
          labels.dtype() == kInt64,
      "caption_ids",
      "expected int64 labels [N, 4], got "
          << (labels.defined() ? shape_str(labels.shape()) + " " + dtype_name(labels.dtype())
                               : "undefined"));
  const int64_t n = labels.size(0);
  const std::vector<int64_t> classes = labels.contiguous().to_vector<int64_t>();
  std::vector<int64_t> ids;
  ids.reserve(static_cast<size_t>(n * (kQuadrants + 2)));
  for (int64_t i = 0; i < n; ++i) {
    ids.push_back(kCaptionStart);
    for (int64_t q = 0; q < kQuadrants; ++q) {
      const int64_t label = classes[i * kQuadrants + q];
      MINIDL_CHECK(label >= 0, "caption_ids", "negative class label " << label << " in row " << i);
      ids.push_back(kFirstClassToken + label);
    }
    ids.push_back(kCaptionEnd);
  }
  return from_vector(ids, {n, kQuadrants + 2}, kInt64);
}

int64_t grid_quadrant(int64_t row, int64_t col, int64_t grid_h, int64_t grid_w) {
  MINIDL_CHECK(grid_h > 0 && grid_w > 0 && grid_h % 2 == 0 && grid_w % 2 == 0, "grid_quadrant",
               "the grid must have even, positive sizes to split into quadrants, got "
                   << grid_h << "x" << grid_w);
  MINIDL_CHECK(
      row >= 0 && row < grid_h && col >= 0 && col < grid_w, "grid_quadrant",
      "cell (" << row << ", " << col << ") is outside the " << grid_h << "x" << grid_w << " grid");
  return (row >= grid_h / 2 ? 2 : 0) + (col >= grid_w / 2 ? 1 : 0);
}

}  // namespace minidl::models
