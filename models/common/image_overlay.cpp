// Attention laid over an image (models/common/image_overlay.h).
#include "models/common/image_overlay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace minidl::models {

namespace {

// The pixels of an image [H, W], [1, H, W] or [3, H, W] as rgb[(y * W + x) * 3 + k] in [0, 1]
// (grey repeated in the three channels; values clamped), after checking it.
std::vector<double> image_pixels(const char* op, const Tensor& image, int* height, int* width) {
  MINIDL_CHECK(image.defined(), op, "the image is undefined");
  const bool grey2d = image.dim() == 2;
  MINIDL_CHECK(
      grey2d || (image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3)), op,
      "expected an image [H, W], [1, H, W] or [3, H, W], got " << shape_str(image.shape()));
  MINIDL_CHECK(is_floating_point(image.dtype()), op,
               "expected a floating image, got " << dtype_name(image.dtype()));
  MINIDL_CHECK(image.numel() > 0, op, "empty image " << shape_str(image.shape()));
  const int64_t channels = grey2d ? 1 : image.size(0);
  *height = static_cast<int>(image.size(grey2d ? 0 : 1));
  *width = static_cast<int>(image.size(grey2d ? 1 : 2));
  const std::vector<double> values = image.detach().to(kFloat64).contiguous().to_vector<double>();
  const size_t plane = static_cast<size_t>(*height) * static_cast<size_t>(*width);
  std::vector<double> rgb(plane * 3);
  for (size_t p = 0; p < plane; ++p)
    for (size_t k = 0; k < 3; ++k)
      rgb[p * 3 + k] = std::clamp(values[(channels == 1 ? 0 : k) * plane + p], 0.0, 1.0);
  return rgb;
}

// The weights of an attention grid [grid_h, grid_w] (checked: floating, non-negative, finite).
std::vector<double> grid_weights(const char* op, const Tensor& attention, int* grid_h,
                                 int* grid_w) {
  MINIDL_CHECK(attention.defined() && attention.dim() == 2 && attention.numel() > 0, op,
               "expected an attention grid [grid_h, grid_w], got "
                   << (attention.defined() ? shape_str(attention.shape()) : "undefined"));
  MINIDL_CHECK(is_floating_point(attention.dtype()), op,
               "expected floating attention weights, got " << dtype_name(attention.dtype()));
  *grid_h = static_cast<int>(attention.size(0));
  *grid_w = static_cast<int>(attention.size(1));
  std::vector<double> weights = attention.detach().to(kFloat64).contiguous().to_vector<double>();
  for (double w : weights)
    MINIDL_CHECK(std::isfinite(w) && w >= 0, op,
                 "attention weights must be finite and non-negative, got " << w);
  return weights;
}

// The "hot" colour map: black (0) -> red -> yellow -> white (1), components in [0, 1].
void hot_color(double t, double rgb[3]) {
  for (int k = 0; k < 3; ++k) rgb[k] = std::clamp(3 * t - k, 0.0, 1.0);
}

}  // namespace

std::vector<double> upsample_attention(const Tensor& attention, int height, int width) {
  MINIDL_CHECK(height > 0 && width > 0, "upsample_attention",
               "the size must be positive, got " << height << "x" << width);
  int grid_h = 0, grid_w = 0;
  const std::vector<double> weights =
      grid_weights("upsample_attention", attention, &grid_h, &grid_w);
  double max_value = 0;
  for (double w : weights) max_value = std::max(max_value, w);
  if (max_value <= 0) max_value = 1;
  // Pixel y's centre in grid coordinates, where cell r's centre is r: (y + 0.5) * grid_h / H - 0.5.
  auto source = [](int pixel, int pixels, int cells, int* low, double* frac) {
    const double pos = std::clamp((pixel + 0.5) * cells / pixels - 0.5, 0.0, cells - 1.0);
    *low = std::min(static_cast<int>(pos), cells - 1);
    *frac = pos - *low;
  };
  std::vector<double> out(static_cast<size_t>(height) * static_cast<size_t>(width));
  for (int y = 0; y < height; ++y) {
    int r = 0;
    double fy = 0;
    source(y, height, grid_h, &r, &fy);
    const int r1 = std::min(r + 1, grid_h - 1);
    for (int x = 0; x < width; ++x) {
      int c = 0;
      double fx = 0;
      source(x, width, grid_w, &c, &fx);
      const int c1 = std::min(c + 1, grid_w - 1);
      const double top = weights[r * grid_w + c] * (1 - fx) + weights[r * grid_w + c1] * fx;
      const double bottom = weights[r1 * grid_w + c] * (1 - fx) + weights[r1 * grid_w + c1] * fx;
      out[static_cast<size_t>(y) * width + x] = (top * (1 - fy) + bottom * fy) / max_value;
    }
  }
  return out;
}

Image attention_overlay(const Tensor& image, const Tensor& attention, int scale,
                        const std::string& title) {
  MINIDL_CHECK(scale >= 1 && scale <= 64, "attention_overlay",
               "scale must be in [1, 64], got " << scale);
  int height = 0, width = 0;
  const std::vector<double> pixels = image_pixels("attention_overlay", image, &height, &width);
  const std::vector<double> heat = upsample_attention(attention, height, width);
  const int band = title.empty() ? 0 : kOverlayTitleHeight;
  Image out(width * scale, height * scale + band);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const size_t p = static_cast<size_t>(y) * width + x;
      const double t = heat[p];
      double glow[3];
      hot_color(t, glow);
      uint8_t c[3];
      for (int k = 0; k < 3; ++k)
        c[k] = static_cast<uint8_t>(
            std::lround(255 * (0.55 * pixels[p * 3 + k] * (0.4 + 0.6 * t) + 0.45 * glow[k])));
      out.fill_rect(x * scale, band + y * scale, scale, scale, {c[0], c[1], c[2]});
    }
  if (band > 0) {
    const int text_scale = text_width(title, 2) + 4 <= out.width ? 2 : 1;
    draw_text(out, 2, (band - kGlyphHeight * text_scale) / 2, title, {0, 0, 0}, text_scale);
  }
  return out;
}

std::string terminal_attention_overlay(const Tensor& image, const Tensor& attention,
                                       const std::string& title, bool unicode) {
  int height = 0, width = 0, grid_h = 0, grid_w = 0;
  const std::vector<double> pixels =
      image_pixels("terminal_attention_overlay", image, &height, &width);
  const std::vector<double> weights =
      grid_weights("terminal_attention_overlay", attention, &grid_h, &grid_w);
  MINIDL_CHECK(grid_h <= height && grid_w <= width, "terminal_attention_overlay",
               "the attention grid " << grid_h << "x" << grid_w << " is finer than the image "
                                     << height << "x" << width);
  double max_value = 0;
  for (double w : weights) max_value = std::max(max_value, w);
  const std::vector<std::string>& ramp = shade_ramp(unicode);
  auto shade = [&ramp](double t) {
    const size_t level =
        std::min(ramp.size() - 1,
                 static_cast<size_t>(std::lround(std::clamp(t, 0.0, 1.0) * (ramp.size() - 1))));
    return ramp[level] + ramp[level];
  };
  std::string out = title + "\n";
  for (int r = 0; r < grid_h; ++r) {
    // The cell's rows [y0, y1) and columns [x0, x1) of the image.
    const int y0 = r * height / grid_h, y1 = (r + 1) * height / grid_h;
    std::string left = "  |", right = "|  |";
    for (int c = 0; c < grid_w; ++c) {
      const int x0 = c * width / grid_w, x1 = (c + 1) * width / grid_w;
      double sum = 0;
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x)
          for (int k = 0; k < 3; ++k) sum += pixels[(static_cast<size_t>(y) * width + x) * 3 + k];
      left += shade(sum / (3.0 * (y1 - y0) * (x1 - x0)));
      right += shade(max_value > 0 ? weights[r * grid_w + c] / max_value : 0.0);
    }
    out += left + right + "|\n";
  }
  std::string shades;
  for (const auto& s : ramp) shades += s;
  char legend[128];
  std::snprintf(legend, sizeof legend, "   image (left), attention (right) [%s] = 0 .. %.3f\n",
                shades.c_str(), max_value);
  return out + legend;
}

}  // namespace minidl::models
