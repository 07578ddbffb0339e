// Heat maps (PNG and terminal) and training curves (see models/common/plot.h).
#include "models/common/plot.h"

#include <png.h>

#include <algorithm>
#include <clocale>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "models/common/training.h"

namespace minidl::models {

namespace {

// ASCII 32..126, 7 rows each, bit 4 = leftmost pixel (drawn for this project).
const uint8_t kFont[95][kGlyphHeight] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // ' '
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04},  // '!'
    {0x0A, 0x0A, 0x0A, 0x00, 0x00, 0x00, 0x00},  // '"'
    {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A},  // '#'
    {0x04, 0x0F, 0x14, 0x0E, 0x05, 0x1E, 0x04},  // '$'
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},  // '%'
    {0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D},  // '&'
    {0x0C, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00},  // '\''
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},  // '('
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},  // ')'
    {0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00},  // '*'
    {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00},  // '+'
    {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08},  // ','
    {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00},  // '-'
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},  // '.'
    {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00},  // '/'
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},  // '0'
    {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},  // '1'
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},  // '2'
    {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},  // '3'
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},  // '4'
    {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},  // '5'
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},  // '6'
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},  // '7'
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},  // '8'
    {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},  // '9'
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},  // ':'
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08},  // ';'
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02},  // '<'
    {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00},  // '='
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08},  // '>'
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},  // '?'
    {0x0E, 0x11, 0x01, 0x0D, 0x15, 0x15, 0x0E},  // '@'
    {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11},  // 'A'
    {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},  // 'B'
    {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E},  // 'C'
    {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},  // 'D'
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F},  // 'E'
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},  // 'F'
    {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F},  // 'G'
    {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},  // 'H'
    {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},  // 'I'
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},  // 'J'
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},  // 'K'
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},  // 'L'
    {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11},  // 'M'
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},  // 'N'
    {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},  // 'O'
    {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},  // 'P'
    {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D},  // 'Q'
    {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},  // 'R'
    {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E},  // 'S'
    {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},  // 'T'
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},  // 'U'
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},  // 'V'
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A},  // 'W'
    {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},  // 'X'
    {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04},  // 'Y'
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},  // 'Z'
    {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E},  // '['
    {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00},  // '\\'
    {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E},  // ']'
    {0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00},  // '^'
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F},  // '_'
    {0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00},  // '`'
    {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F},  // 'a'
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E},  // 'b'
    {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E},  // 'c'
    {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F},  // 'd'
    {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E},  // 'e'
    {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08},  // 'f'
    {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E},  // 'g'
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11},  // 'h'
    {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E},  // 'i'
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C},  // 'j'
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12},  // 'k'
    {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},  // 'l'
    {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11},  // 'm'
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11},  // 'n'
    {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E},  // 'o'
    {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10},  // 'p'
    {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01},  // 'q'
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10},  // 'r'
    {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E},  // 's'
    {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06},  // 't'
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D},  // 'u'
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04},  // 'v'
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A},  // 'w'
    {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11},  // 'x'
    {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E},  // 'y'
    {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F},  // 'z'
    {0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02},  // '{'
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},  // '|'
    {0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08},  // '}'
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00},  // '~'
};

}  // namespace

Image::Image(int w, int h, Rgb fill) : width(w), height(h) {
  MINIDL_CHECK(w >= 0 && h >= 0, "Image", "negative size " << w << "x" << h);
  rgb.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < rgb.size(); i += 3) {
    rgb[i] = fill.r;
    rgb[i + 1] = fill.g;
    rgb[i + 2] = fill.b;
  }
}

void Image::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

Rgb Image::get(int x, int y) const {
  MINIDL_CHECK(
      x >= 0 && y >= 0 && x < width && y < height, "Image::get",
      "pixel (" << x << ", " << y << ") outside the " << width << "x" << height << " image");
  const uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
  return {p[0], p[1], p[2]};
}

void Image::fill_rect(int x, int y, int w, int h, Rgb c) {
  for (int j = y; j < y + h; ++j)
    for (int i = x; i < x + w; ++i) set(i, j, c);
}

uint8_t glyph_row(char32_t c, int row) {
  if (row < 0 || row >= kGlyphHeight) return 0;
  // Latin-1 letters are drawn as their base letter (a for ä, e for é, s for ß).
  static const char latin1[] = "AAAAAAACEEEEIIIIDNOOOOOxOUUUUYPsaaaaaaaceeeeiiiidnooooo/ouuuuypy";
  if (c >= 0xC0 && c <= 0xFF) c = static_cast<unsigned char>(latin1[c - 0xC0]);
  if (c < 32 || c > 126) c = U'?';
  return kFont[c - 32][row];
}

std::u32string utf8_decode(const std::string& text) {
  std::u32string out;
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    const int extra = b < 0x80         ? 0
                      : (b >> 5) == 6  ? 1
                      : (b >> 4) == 14 ? 2
                      : (b >> 3) == 30 ? 3
                                       : -1;
    bool ok = extra >= 0 && i + extra < text.size();
    char32_t c = ok ? (extra == 0 ? b : (b & (0x3F >> extra))) : 0;
    for (int k = 1; ok && k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xC0) == 0x80;
      c = (c << 6) | (next & 0x3F);
    }
    out.push_back(ok ? c : 0xFFFD);
    i += ok ? extra + 1 : 1;
  }
  return out;
}

int text_width(const std::string& text, int scale) {
  return static_cast<int>(utf8_decode(text).size()) * kGlyphAdvance * scale;
}

void draw_text(Image& image, int x, int y, const std::string& text, Rgb color, int scale,
               bool vertical) {
  int pen = 0;  // along the text, in pixels
  for (char32_t c : utf8_decode(text)) {
    for (int row = 0; row < kGlyphHeight; ++row) {
      const uint8_t bits = glyph_row(c, row);
      for (int col = 0; col < kGlyphWidth; ++col) {
        if (!(bits >> (kGlyphWidth - 1 - col) & 1)) continue;
        for (int dy = 0; dy < scale; ++dy)
          for (int dx = 0; dx < scale; ++dx) {
            const int u = pen + col * scale + dx, v = row * scale + dy;  // unrotated
            if (vertical)
              image.set(x + v, y - u, color);  // 90 degrees counter-clockwise
            else
              image.set(x + u, y + v, color);
          }
      }
    }
    pen += kGlyphAdvance * scale;
  }
}

Rgb heat_color(double t) {
  // Anchors of a light-to-dark sequential map (yellow-orange-red-purple).
  static const double anchors[5][3] = {
      {255, 255, 217}, {254, 196, 79}, {236, 112, 20}, {174, 1, 126}, {45, 0, 75}};
  if (!(t > 0)) t = 0;  // NaN too
  if (t > 1) t = 1;
  const double pos = t * 4;
  const int i = std::min(3, static_cast<int>(pos));
  const double f = pos - i;
  Rgb c;
  uint8_t* out[3] = {&c.r, &c.g, &c.b};
  for (int k = 0; k < 3; ++k)
    *out[k] =
        static_cast<uint8_t>(std::lround(anchors[i][k] + f * (anchors[i + 1][k] - anchors[i][k])));
  return c;
}

namespace {

// The weights as doubles [rows][cols] after checking them against the labels, and their max.
std::vector<double> heat_values(const char* op, const Tensor& weights,
                                const std::vector<std::string>& source,
                                const std::vector<std::string>& target, double* max_value) {
  MINIDL_CHECK(weights.defined(), op, "the attention weights are undefined");
  MINIDL_CHECK(weights.dim() == 2, op,
               "expected weights [target, source], got " << shape_str(weights.shape()));
  MINIDL_CHECK(is_floating_point(weights.dtype()), op,
               "expected floating weights, got " << dtype_name(weights.dtype()));
  MINIDL_CHECK(weights.size(0) == static_cast<int64_t>(target.size()) &&
                   weights.size(1) == static_cast<int64_t>(source.size()),
               op,
               "weights " << shape_str(weights.shape()) << " do not match " << target.size()
                          << " target and " << source.size() << " source tokens");
  MINIDL_CHECK(weights.numel() > 0, op, "empty weights " << shape_str(weights.shape()));
  Tensor w = weights.detach().to(kFloat64).contiguous();
  const double* p = w.data_ptr<double>();
  std::vector<double> values(p, p + w.numel());
  double m = 0;
  for (double v : values)
    if (v > m) m = v;
  *max_value = m > 0 ? m : 1;
  return values;
}

// A token as a label: an invisible space becomes `space`.
std::string label_text(const std::string& token, const std::string& space) {
  if (token.empty()) return space;
  bool blank = true;
  for (char c : token) blank = blank && c == ' ';
  return blank ? space : token;
}

}  // namespace

HeatMap render_heat_map(const Tensor& weights, const std::vector<std::string>& source_tokens,
                        const std::vector<std::string>& target_tokens) {
  double max_value = 1;
  const std::vector<double> values =
      heat_values("render_heat_map", weights, source_tokens, target_tokens, &max_value);
  const int rows = static_cast<int>(target_tokens.size());
  const int cols = static_cast<int>(source_tokens.size());
  std::vector<std::string> source, target;
  for (const auto& t : source_tokens) source.push_back(label_text(t, "_"));
  for (const auto& t : target_tokens) target.push_back(label_text(t, "_"));

  HeatMap map;
  const int longest = std::max(cols, rows);
  map.cell = std::clamp(1200 / std::max(longest, 1), 6, 28);
  const int scale = map.cell >= 18 ? 2 : 1;
  const int char_w = kGlyphAdvance * scale, char_h = kGlyphLineHeight * scale;
  int source_len = 0, target_w = 0;
  for (const auto& s : source) source_len = std::max(source_len, text_width(s, scale));
  for (const auto& t : target) target_w = std::max(target_w, text_width(t, scale));
  const bool vertical = source_len > map.cell;
  const int header = vertical ? source_len : char_h;
  const int margin = 8, gap = 6, bar = 14;
  map.left = margin + target_w + gap;
  map.top = margin + header + gap;
  const int legend_w = bar + gap + text_width("0.00", 1);
  const int width = map.left + cols * map.cell + gap + legend_w + margin;
  const int height = map.top + rows * map.cell + margin;
  map.image = Image(width, height);
  Image& img = map.image;
  const Rgb ink{0, 0, 0};

  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      img.fill_rect(map.left + c * map.cell, map.top + r * map.cell, map.cell, map.cell,
                    heat_color(values[static_cast<size_t>(r) * cols + c] / max_value));
  // Row labels, right-aligned and centred on their row.
  for (int r = 0; r < rows; ++r)
    draw_text(img, map.left - gap - text_width(target[r], scale),
              map.top + r * map.cell + (map.cell - kGlyphHeight * scale) / 2, target[r], ink,
              scale);
  // Column labels: across if every label fits a cell, else rotated, ending just above the map.
  for (int c = 0; c < cols; ++c) {
    const int x0 = map.left + c * map.cell;
    if (vertical)
      draw_text(img, x0 + (map.cell - kGlyphHeight * scale) / 2, map.top - gap, source[c], ink,
                scale, /*vertical=*/true);
    else
      draw_text(img, x0 + (map.cell - text_width(source[c], scale) + scale) / 2,
                map.top - gap - char_h + scale, source[c], ink, scale);
  }
  (void)char_w;
  // The colour bar with 0 and the max weight.
  const int bx = map.left + cols * map.cell + gap, bh = rows * map.cell;
  for (int y = 0; y < bh; ++y)
    img.fill_rect(bx, map.top + y, bar, 1,
                  heat_color(1.0 - static_cast<double>(y) / std::max(bh - 1, 1)));
  char top_label[32];
  std::snprintf(top_label, sizeof top_label, "%.2f", max_value);
  draw_text(img, bx + bar + 3, map.top, top_label, ink, 1);
  draw_text(img, bx + bar + 3, map.top + bh - kGlyphHeight, "0", ink, 1);
  return map;
}

void write_png(const std::string& path, const Image& image) {
  MINIDL_CHECK(image.width > 0 && image.height > 0, "write_png",
               path << ": empty image " << image.width << "x" << image.height);
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  MINIDL_CHECK(png_image_write_to_memory(&png, nullptr, &size, 0, image.rgb.data(), 0, nullptr),
               "write_png", path << ": " << png.message);
  std::string bytes(size, '\0');
  MINIDL_CHECK(
      png_image_write_to_memory(&png, bytes.data(), &size, 0, image.rgb.data(), 0, nullptr),
      "write_png", path << ": " << png.message);
  bytes.resize(size);
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  MINIDL_CHECK(parent.empty() || std::filesystem::is_directory(parent), "write_png",
               path << ": no directory " << parent.string());
  // Temporary file + rename, as every minidl writer.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    MINIDL_CHECK(out, "write_png", path << ": cannot write " << tmp);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    MINIDL_CHECK(out, "write_png", path << ": cannot write " << tmp);
  }
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  MINIDL_CHECK(!error, "write_png", path << ": cannot rename " << tmp << ": " << error.message());
}

Image read_png(const std::string& path) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  MINIDL_CHECK(png_image_begin_read_from_file(&png, path.c_str()), "read_png",
               path << ": " << png.message);
  png.format = PNG_FORMAT_RGB;
  Image image(static_cast<int>(png.width), static_cast<int>(png.height));
  if (!png_image_finish_read(&png, nullptr, image.rgb.data(), 0, nullptr)) {
    std::string message = png.message;
    png_image_free(&png);
    MINIDL_FAIL("read_png", path << ": " << message);
  }
  return image;
}

void write_heat_map_png(const std::string& path, const Tensor& weights,
                        const std::vector<std::string>& source_tokens,
                        const std::vector<std::string>& target_tokens) {
  write_png(path, render_heat_map(weights, source_tokens, target_tokens).image);
}

bool terminal_supports_utf8() {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* value = std::getenv(name);
    if (value && *value) {
      std::string v = value;
      for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return v.find("utf-8") != std::string::npos || v.find("utf8") != std::string::npos;
    }
  }
  return false;
}

const std::vector<std::string>& shade_ramp(bool unicode) {
  static const std::vector<std::string> blocks = {" ", "\u2591", "\u2592", "\u2593", "\u2588"};
  static const std::vector<std::string> ascii = {" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"};
  return unicode ? blocks : ascii;
}

std::string terminal_heat_map(const Tensor& weights, const std::vector<std::string>& source_tokens,
                              const std::vector<std::string>& target_tokens, bool unicode) {
  double max_value = 1;
  const std::vector<double> values =
      heat_values("terminal_heat_map", weights, source_tokens, target_tokens, &max_value);
  const std::vector<std::string>& ramp = shade_ramp(unicode);
  const std::string space = unicode ? "\u2423" : "_";
  const size_t rows = target_tokens.size(), cols = source_tokens.size();
  std::vector<std::u32string> source;
  size_t header_lines = 0, label_width = 0;
  for (const auto& t : source_tokens) {
    source.push_back(utf8_decode(label_text(t, space)));
    header_lines = std::max(header_lines, source.back().size());
  }
  std::vector<std::string> target;
  for (const auto& t : target_tokens) {
    target.push_back(label_text(t, space));
    label_width = std::max(label_width, utf8_decode(target.back()).size());
  }
  auto encode = [](char32_t c) {
    std::string s;
    if (c < 0x80) {
      s += static_cast<char>(c);
    } else if (c < 0x800) {
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      s += static_cast<char>(0xE0 | (c >> 12));
      s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (c >> 18));
      s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
    return s;
  };
  std::string out;
  const std::string indent(label_width + 1, ' ');
  // Source tokens written downwards, one character per line, two columns per token.
  for (size_t line = 0; line < header_lines; ++line) {
    std::string text = indent;
    for (size_t c = 0; c < cols; ++c)
      text += (line < source[c].size() ? encode(source[c][line]) : std::string(" ")) + " ";
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  for (size_t r = 0; r < rows; ++r) {
    const size_t width = utf8_decode(target[r]).size();
    std::string text = std::string(label_width - width, ' ') + target[r] + " ";
    for (size_t c = 0; c < cols; ++c) {
      const double t = std::clamp(values[r * cols + c] / max_value, 0.0, 1.0);
      const size_t level =
          std::min(ramp.size() - 1, static_cast<size_t>(std::lround(t * (ramp.size() - 1))));
      text += ramp[level] + ramp[level];
    }
    out += text + "\n";
  }
  char legend[96];
  std::snprintf(legend, sizeof legend, " = 0 .. %.3f\n", max_value);
  std::string shades;
  for (const auto& s : ramp) shades += s;
  out += indent + "[" + shades + "]" + legend;
  return out;
}

bool gnuplot_available() {
  return std::system("gnuplot --version > /dev/null 2>&1") == 0;
}

namespace {

std::string gnuplot_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string training_curves_script(const std::string& csv_path, const std::string& png_path,
                                   const std::vector<std::string>& header) {
  MINIDL_CHECK(header.size() >= 3 && header[0] == "epoch" && header[2] == "train_loss",
               "plot_training_curves",
               csv_path << ": expected a header epoch,step,train_loss,..., got " << header.size()
                        << " columns");
  std::vector<size_t> losses = {3}, others;  // 1-based gnuplot columns
  for (size_t i = 3; i < header.size(); ++i) {
    if (header[i] == "elapsed_seconds") continue;
    (lower_is_better(header[i]) ? losses : others).push_back(i + 1);
  }
  const std::string data = gnuplot_string(csv_path);
  auto plot_line = [&](const std::vector<size_t>& columns) {
    std::string line = "plot ";
    for (size_t k = 0; k < columns.size(); ++k)
      line += (k ? ", " : "") + data + " using 1:" + std::to_string(columns[k]) +
              " with linespoints title " + gnuplot_string(header[columns[k] - 1]);
    return line + "\n";
  };
  std::ostringstream s;
  s << "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
    << "  set terminal pngcairo size 900," << (others.empty() ? 450 : 800) << "\n"
    << "} else {\n"
    << "  set terminal png size 900," << (others.empty() ? 450 : 800) << "\n"
    << "}\n"
    << "set termoption noenhanced\n"
    << "set output " << gnuplot_string(png_path) << "\n"
    << "set datafile separator \",\"\n"
    << "set grid\n"
    << "set key outside right\n"
    << "set xlabel \"epoch\"\n"
    << "set lmargin at screen 0.1\n"  // the same plot area in both panels
    << "set rmargin at screen 0.68\n";
  if (!others.empty()) s << "set multiplot layout 2,1\n";
  s << "set ylabel \"loss\"\n"
    << "set title " << gnuplot_string("training curves: " + csv_path) << "\n"
    << plot_line(losses);
  if (!others.empty()) {
    s << "set ylabel \"metric\"\nunset title\n" << plot_line(others) << "unset multiplot\n";
  }
  s << "set output\n";
  return s.str();
}

void plot_training_curves(const std::string& csv_path, const std::string& png_path) {
  std::ifstream in(csv_path);
  MINIDL_CHECK(in, "plot_training_curves", "cannot read " << csv_path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream fields(line);
  for (std::string f; std::getline(fields, f, ',');) header.push_back(f);
  std::string row;
  bool has_row = false;
  while (std::getline(in, row)) has_row = has_row || !row.empty();
  MINIDL_CHECK(has_row, "plot_training_curves", csv_path << " has no rows to plot");
  const std::string script = training_curves_script(csv_path, png_path, header);
  MINIDL_CHECK(gnuplot_available(), "plot_training_curves",
               "gnuplot is not installed (tools/install_deps.sh installs gnuplot-nox)");
  const std::string script_path = png_path + ".gnuplot";
  {
    std::ofstream out(script_path);
    MINIDL_CHECK(out, "plot_training_curves", "cannot write " << script_path);
    out << script;
  }
  const std::string log_path = png_path + ".gnuplot.log";
  const int status = std::system(
      ("gnuplot " + shell_quote(script_path) + " > " + shell_quote(log_path) + " 2>&1").c_str());
  std::string messages;
  {
    std::ifstream log(log_path);
    std::stringstream text;
    text << log.rdbuf();
    messages = text.str();
  }
  std::filesystem::remove(script_path);
  std::filesystem::remove(log_path);
  MINIDL_CHECK(status == 0 && std::filesystem::exists(png_path), "plot_training_curves",
               "gnuplot failed on " << csv_path << ": " << messages);
}

}  // namespace minidl::models
