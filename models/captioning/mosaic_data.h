// Mosaic captions: 56x56 images made of four Fashion-MNIST images -- top-left, top-right,
// bottom-left, bottom-right -- captioned by the four class names in that reading order:
//
//   +--------+--------+
//   | Bag    | Coat   |      caption: <start> bag coat sneaker trouser <end>
//   +--------+--------+
//   | Sneaker| Trouser|
//   +--------+--------+
//
// A mosaic set is a table [N, 4] of indices into a split of single images, a seeded permutation
// of the split cut in fours (every image used once, N = floor(n / 4)); the pixels are assembled
// per batch (compose_mosaics), so a set costs four indices per mosaic, not 56x56 floats.
//
// Tokens: each class name is ONE token (lowercased, spaces as '_': "t-shirt/top", "trouser",
// ..., "ankle_boot"), so word i of a caption is exactly the image in quadrant i, and a per-word
// accuracy and the quadrant of each generated word are well defined. Vocabulary ids: 0 <pad>,
// 1 <start>, 2 <end>, then the classes in label order (class k = id 3 + k).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace minidl::models {

constexpr int64_t kTileSize = 28, kMosaicSize = 56, kQuadrants = 4;
constexpr int64_t kCaptionPad = 0, kCaptionStart = 1, kCaptionEnd = 2, kFirstClassToken = 3;

// The caption token of a class name: "Ankle boot" -> "ankle_boot".
std::string class_token(const std::string& class_name);
// Every token by id: <pad>, <start>, <end>, then class_token of each class name.
std::vector<std::string> caption_vocabulary(const std::vector<std::string>& class_names);

// [floor(images / 4), 4] int64: a permutation of 0 .. images - 1 drawn from `seed`, cut in
// fours (row = one mosaic, columns in reading order); the last images % 4 are left out.
Tensor mosaic_table(int64_t images, uint64_t seed);

// tiles [4N, C, 28, 28] (each mosaic's four in reading order) -> mosaics [N, C, 56, 56].
Tensor compose_mosaics(const Tensor& tiles);

// The captions of mosaics whose quadrant class labels are labels [N, 4] (int64, 0 .. 9):
// [N, 6] int64 = <start>, the four class tokens, <end>. A decoder reads columns 0 .. 4 (teacher
// forcing) and predicts columns 1 .. 5.
Tensor caption_ids(const Tensor& labels);

// The quadrant (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) of cell (row, col) of a
// grid_h x grid_w grid over a mosaic; both sizes must be even, so every cell lies in one quadrant.
int64_t grid_quadrant(int64_t row, int64_t col, int64_t grid_h, int64_t grid_w);

}  // namespace minidl::models
