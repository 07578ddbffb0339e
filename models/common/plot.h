// Pictures for tools/train and tools/predict: attention maps as PNG heat maps (libpng, with the
// source tokens as column labels and the target tokens as row labels, drawn with a built-in
// 5x7 bitmap font) and as shaded characters in the terminal, and training curves as PNG
// (gnuplot reading the CSV log).
//
//   models::write_heat_map_png("attention.png", p.attention, p.source_tokens, p.target_tokens);
//   std::cout << models::terminal_heat_map(p.attention, p.source_tokens, p.target_tokens,
//                                          models::terminal_supports_utf8());
//
// Both heat maps scale the weights by the map's largest one (0 = lightest, max = darkest).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "core/utf8.h"

namespace minidl::models {

// One 8-bit RGB colour.
struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
  bool operator!=(const Rgb& o) const { return !(*this == o); }
};

// An 8-bit RGB picture, row-major.
struct Image {
  Image() = default;
  Image(int width, int height, Rgb fill = {255, 255, 255});
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
  // Pixels outside the image are ignored by set; get checks the coordinates.
  void set(int x, int y, Rgb color);
  Rgb get(int x, int y) const;
  void fill_rect(int x, int y, int w, int h, Rgb color);
};

// The built-in font: ASCII 32..126 as 5x7 glyphs, drawn in 6x8 cells (one pixel of spacing).
constexpr int kGlyphWidth = 5, kGlyphHeight = 7, kGlyphAdvance = 6, kGlyphLineHeight = 8;
// Row `row` (0 = top) of the glyph of `c`: bit 4 is the leftmost pixel. Latin-1 letters draw as
// their base letter (ä as a), any other character outside the font as '?'.
uint8_t glyph_row(char32_t c, int row);
// (The characters of a label come from core/utf8.h's utf8_decode: invalid bytes become U+FFFD.)
// Width in pixels of `text` drawn at `scale` (every character advances kGlyphAdvance * scale).
int text_width(const std::string& text, int scale = 1);
// Draws `text` with its top-left corner at (x, y); `vertical` rotates it 90 degrees
// counter-clockwise (it then reads bottom to top, its baseline side at x, its start at y).
void draw_text(Image& image, int x, int y, const std::string& text, Rgb color, int scale = 1,
               bool vertical = false);

// The colour of weight t in [0, 1] (clamped): light yellow (0) -> dark purple (1).
Rgb heat_color(double t);

// A rendered heat map and where its cells are: cell (row, col) covers
// [left + col * cell, +cell) x [top + row * cell, +cell).
struct HeatMap {
  Image image;
  int left = 0, top = 0, cell = 0;
};
// weights [target, source] (any floating dtype); one label per row and per column.
HeatMap render_heat_map(const Tensor& weights, const std::vector<std::string>& source_tokens,
                        const std::vector<std::string>& target_tokens);

// PNG files (8-bit RGB) through libpng; errors name the file.
void write_png(const std::string& path, const Image& image);
Image read_png(const std::string& path);
// render_heat_map + write_png.
void write_heat_map_png(const std::string& path, const Tensor& weights,
                        const std::vector<std::string>& source_tokens,
                        const std::vector<std::string>& target_tokens);

// Whether the locale (LC_ALL, LC_CTYPE, LANG) is UTF-8.
bool terminal_supports_utf8();
// The shades, lightest first: " ░▒▓█" (unicode) or " .:-=+*#%@".
const std::vector<std::string>& shade_ramp(bool unicode);
// The map as text: the source tokens written vertically above the columns (each column two
// characters wide), a target token at the start of each row, then a legend line.
std::string terminal_heat_map(const Tensor& weights, const std::vector<std::string>& source_tokens,
                              const std::vector<std::string>& target_tokens, bool unicode);

// Whether gnuplot is on the PATH.
bool gnuplot_available();
// The gnuplot script plot_training_curves runs for a log whose CSV header is `header`
// (epoch,step,train_loss,valid_...,elapsed_seconds): losses in the top panel, the other
// validation metrics in the bottom one, against the epoch.
std::string training_curves_script(const std::string& csv_path, const std::string& png_path,
                                   const std::vector<std::string>& header);
// Runs gnuplot on the CSV log to write a PNG; an error names the file or gnuplot's failure.
void plot_training_curves(const std::string& csv_path, const std::string& png_path);

}  // namespace minidl::models
