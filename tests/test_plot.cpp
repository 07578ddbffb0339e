// Heat maps (PNG and terminal), the bitmap font, and training curves (models/common/plot.h).
#include <filesystem>
#include <fstream>

#include "models/common/plot.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::TempDir;

namespace {

Tensor example_weights() {
  // 3 target rows x 4 source columns; the max (0.9) at row 1, column 2.
  return tensor<float>(
      {{0.5f, 0.2f, 0.2f, 0.1f}, {0.0f, 0.3f, 0.9f, 0.0f}, {0.25f, 0.25f, 0.25f, 0.25f}});
}

}  // namespace

TEST_CASE("plot: the bitmap font", "[tools]") {
  // 'A' as drawn in the table: .###. / #...# / #...# / #...# / ##### / #...# / #...#
  const uint8_t a[7] = {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11};
  for (int row = 0; row < 7; ++row) CHECK(glyph_row(U'A', row) == a[row]);
  CHECK(glyph_row(U' ', 3) == 0);
  // Outside the font: '?'.
  for (int row = 0; row < 7; ++row) CHECK(glyph_row(U'\u4e2d', row) == glyph_row(U'?', row));
  // Latin-1 letters: their base letter.
  for (int row = 0; row < 7; ++row) {
    CHECK(glyph_row(U'\u00e4', row) == glyph_row(U'a', row));
    CHECK(glyph_row(U'\u00c9', row) == glyph_row(U'E', row));
    CHECK(glyph_row(U'\u00df', row) == glyph_row(U's', row));
    CHECK(glyph_row(U'\u00ff', row) == glyph_row(U'y', row));
  }
  CHECK(glyph_row(U'A', 7) == 0);
  // Every printable glyph but the space has ink, and no row is wider than 5 pixels.
  for (char32_t c = 33; c < 127; ++c) {
    int ink = 0;
    for (int row = 0; row < 7; ++row) {
      CHECK(glyph_row(c, row) < 32);
      ink += glyph_row(c, row) != 0;
    }
    CHECK(ink > 0);
  }

  // Drawn at scale 2: pixel (col, row) of the glyph covers a 2x2 block.
  Image image(20, 20);
  draw_text(image, 1, 1, "A", {0, 0, 0}, 2);
  CHECK(image.get(1 + 0, 1 + 0) == Rgb{255, 255, 255});  // row 0, col 0 is blank
  CHECK(image.get(1 + 2, 1 + 0) == Rgb{0, 0, 0});        // row 0, col 1 is ink
  CHECK(image.get(1 + 3, 1 + 1) == Rgb{0, 0, 0});
  CHECK(image.get(1 + 8, 1 + 8) == Rgb{0, 0, 0});         // row 4 (the bar), col 4
  CHECK(image.get(1 + 4, 1 + 10) == Rgb{255, 255, 255});  // row 5, col 2 is blank
  CHECK(text_width("abc", 2) == 36);
  CHECK(utf8_decode("a\xc3\xa9\xe2\x96\x88") == std::u32string{U'a', U'\u00e9', U'\u2588'});
  CHECK(utf8_decode("\xff") == std::u32string{0xFFFD});
  CHECK(utf8_decode("\xc3") == std::u32string{0xFFFD});
}

TEST_CASE("plot: the heat map as a PNG", "[tools]") {
  TempDir dir;
  const std::vector<std::string> source = {"3", " ", "may", "79"}, target = {"1", "9", "-"};
  const HeatMap map = render_heat_map(example_weights(), source, target);
  const std::string path = dir.file("attention.png");
  write_png(path, map.image);

  const Image back = read_png(path);
  CHECK(back.width == map.image.width);
  CHECK(back.height == map.image.height);
  CHECK(back.rgb == map.image.rgb);
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  CHECK(std::string(magic + 1, 3) == "PNG");

  auto centre = [&](int row, int col) {
    return back.get(map.left + col * map.cell + map.cell / 2,
                    map.top + row * map.cell + map.cell / 2);
  };
  CHECK(centre(1, 2) == heat_color(1.0));  // the max is the darkest
  CHECK(centre(1, 0) == heat_color(0.0));
  CHECK(centre(0, 0) == heat_color(0.5 / static_cast<double>(0.9f)));
  CHECK(heat_color(0) == Rgb{255, 255, 217});
  CHECK(heat_color(1) == Rgb{45, 0, 75});
  CHECK(heat_color(2) == heat_color(1));

  // The labels are drawn in ink left of and above the cells.
  auto has_ink = [&](int x0, int y0, int x1, int y1) {
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x)
        if (back.get(x, y) == Rgb{0, 0, 0}) return true;
    return false;
  };
  for (int r = 0; r < 3; ++r)
    CHECK(has_ink(0, map.top + r * map.cell, map.left, map.top + (r + 1) * map.cell));
  for (int c = 0; c < 4; ++c)
    CHECK(has_ink(map.left + c * map.cell, 0, map.left + (c + 1) * map.cell, map.top));

  write_heat_map_png(dir.file("again.png"), example_weights().to(kFloat64), source, target);
  CHECK(read_png(dir.file("again.png")).rgb == back.rgb);
}

TEST_CASE("plot: the heat map in the terminal", "[tools]") {
  const std::vector<std::string> source = {"ab", " ", "c", "d"}, target = {"x", "yy", "z"};
  const std::string text = terminal_heat_map(example_weights(), source, target, /*unicode=*/true);
  std::vector<std::string> lines;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  REQUIRE(lines.size() == 2 + 3 + 1);  // 2 header lines ("ab" is 2 long), 3 rows, the legend
  // Source labels written downwards above their columns (two characters per column).
  CHECK(lines[0] == "   a \u2423 c d");
  CHECK(lines[1] == "   b");
  // Row labels right-aligned; the max (row 1, col 2) is the darkest shade.
  const std::string full = "\u2588\u2588", none = "  ";
  CHECK(lines[3].rfind("yy " + none, 0) == 0);
  CHECK(lines[3].find(full) != std::string::npos);
  CHECK(lines[3] == "yy " + none + "\u2591\u2591" + full + none);
  CHECK(lines[2].rfind(" x ", 0) == 0);
  CHECK(lines[4].rfind(" z ", 0) == 0);
  CHECK(text.find("0.900") != std::string::npos);
  // The darkest shade appears exactly once (two characters).
  CHECK(text.find(full) == text.rfind(full));

  const std::string ascii = terminal_heat_map(example_weights(), source, target, false);
  CHECK(ascii.find("yy   --@@  \n") != std::string::npos);
  CHECK(ascii.find("\u2588") == std::string::npos);
  CHECK(shade_ramp(false).size() == 10);
  const char* saved = std::getenv("LC_ALL");
  const std::string saved_value = saved ? saved : "";
  setenv("LC_ALL", "en_US.UTF-8", 1);
  CHECK(terminal_supports_utf8());
  setenv("LC_ALL", "C", 1);
  CHECK_FALSE(terminal_supports_utf8());
  if (saved)
    setenv("LC_ALL", saved_value.c_str(), 1);
  else
    unsetenv("LC_ALL");
  CHECK(shade_ramp(true).front() == " ");
}

TEST_CASE("plot: heat map errors", "[tools]") {
  const std::vector<std::string> source = {"a", "b", "c", "d"}, target = {"x", "y", "z"};
  CHECK_THROWS_WITH(render_heat_map(example_weights(), source, {"x"}),
                    Catch::Contains("render_heat_map") && Catch::Contains("[3, 4]") &&
                        Catch::Contains("1 target"));
  CHECK_THROWS_WITH(terminal_heat_map(zeros({3}), source, target, true),
                    Catch::Contains("terminal_heat_map") && Catch::Contains("[3]"));
  CHECK_THROWS_WITH(terminal_heat_map(zeros({3, 4}, kInt64), source, target, true),
                    Catch::Contains("floating"));
  CHECK_THROWS_WITH(render_heat_map(Tensor(), source, target), Catch::Contains("undefined"));
  CHECK_THROWS_WITH(read_png("/nonexistent/x.png"),
                    Catch::Contains("read_png") && Catch::Contains("/nonexistent/x.png"));
  CHECK_THROWS_WITH(write_png("/nonexistent/dir/x.png", Image(2, 2)),
                    Catch::Contains("write_png") && Catch::Contains("/nonexistent/dir"));
  TempDir dir;
  minidl::testing::write_bytes(dir.file("bad.png"), "not a png at all");
  CHECK_THROWS_WITH(read_png(dir.file("bad.png")), Catch::Contains("bad.png"));
}

TEST_CASE("plot: training curves through gnuplot", "[tools]") {
  TempDir dir;
  const std::vector<std::string> header = {
      "epoch", "step", "train_loss", "valid_loss", "valid_exact_match", "elapsed_seconds"};
  const std::string script = training_curves_script("log.csv", "curves.png", header);
  CHECK(script.find("using 1:3 with linespoints title \"train_loss\"") != std::string::npos);
  CHECK(script.find("using 1:4 with linespoints title \"valid_loss\"") != std::string::npos);
  CHECK(script.find("using 1:5 with linespoints title \"valid_exact_match\"") != std::string::npos);
  CHECK(script.find("using 1:6") == std::string::npos);  // elapsed seconds are not plotted
  CHECK(script.find("multiplot") != std::string::npos);
  CHECK_THROWS_WITH(training_curves_script("log.csv", "c.png", {"a", "b"}),
                    Catch::Contains("plot_training_curves") && Catch::Contains("log.csv"));

  const std::string csv = dir.file("log.csv");
  minidl::testing::write_bytes(
      csv, "epoch,step,train_loss,valid_loss,valid_exact_match,elapsed_seconds\n");
  CHECK_THROWS_WITH(plot_training_curves(csv, dir.file("c.png")), Catch::Contains("no rows"));
  if (!gnuplot_available()) {
    WARN("gnuplot is not installed: the PNG is not drawn");
    return;
  }
  minidl::testing::write_bytes(
      csv,
      "epoch,step,train_loss,valid_loss,valid_exact_match,elapsed_seconds\n"
      "1,10,2.5,2.0,0.1,1.5\n2,20,1.5,1.2,0.6,3.0\n3,30,0.7,0.8,0.9,4.5\n");
  plot_training_curves(csv, dir.file("curves.png"));
  const Image image = read_png(dir.file("curves.png"));
  CHECK(image.width == 900);
  CHECK(image.height == 800);
  CHECK_FALSE(std::filesystem::exists(dir.file("curves.png.gnuplot")));
}
