// Attention over an image, for captioners (a map over a grid of image regions for each generated
// word): the map upsampled to the image, laid over it as a PNG picture (the tutorial's per-word
// figures), and drawn beside it in the terminal. tools/predict shows Prediction::image with each
// row of Prediction::spatial_attention this way (models/common/task.h).
//
// image [H, W], [1, H, W] (grey) or [3, H, W] (RGB), values in [0, 1]; attention [grid_h,
// grid_w], non-negative (any floating dtype), cell (r, c) covering the r-th of grid_h equal bands
// of rows and the c-th of grid_w bands of columns (Prediction::spatial_attention's rows).
//
//   models::write_png("word-1.png", models::attention_overlay(p.image,
//                                                            p.spatial_attention.select(0, 0)));
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "models/common/plot.h"

namespace minidl::models {

// The map at image resolution, as the tutorial's upsampled heat map: bilinear between the cells'
// centres (clamped at the edges), divided by the map's largest weight -> height * width values
// in [0, 1], row-major.
std::vector<double> upsample_attention(const Tensor& attention, int height, int width);
// The image with the map laid over it: each pixel is 0.55 * the pixel (dimmed to 40 % where the
// upsampled weight t is 0, full where it is the max) + 0.45 * a black-red-yellow-white glow of t
// ("hot"); each pixel drawn scale x scale, below a white band of kOverlayTitleHeight pixels
// holding `title` (no band when it is empty). Size: (W * scale) x (H * scale + band).
constexpr int kOverlayTitleHeight = 20;
// image [H, W] / [1, H, W] / [3, H, W] and attention [grid_h, grid_w] -> the overlay described
// above.
Image attention_overlay(const Tensor& image, const Tensor& attention, int scale = 4,
                        const std::string& title = "");
// The same in the terminal: `title`, then the image (left, its mean brightness per grid cell)
// and the attention (right, scaled by the map's largest weight) side by side, each grid cell two
// characters of shade_ramp(unicode), then a legend line.
std::string terminal_attention_overlay(const Tensor& image, const Tensor& attention,
                                       const std::string& title, bool unicode);

}  // namespace minidl::models
