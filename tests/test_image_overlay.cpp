// Attention over an image (models/common/image_overlay.h): the bilinear upsampling, the blended
// PNG picture (size, colours, a PNG round trip) and the terminal rendering, and errors.
#include "models/common/image_overlay.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

TEST_CASE("image overlay: attention laid over an image (PNG and terminal)", "[tools]") {
  // A 2x2 grid with all the weight on the top-left cell, over an 8x8 image that is white on its
  // left half.
  const Tensor grid = tensor<float>({{0.8f, 0.0f}, {0.0f, 0.0f}});
  const std::vector<double> heat = upsample_attention(grid, 8, 8);
  REQUIRE(heat.size() == 64);
  CHECK(heat[0] == Approx(1.0));          // inside the cell's centre: clamped, the max
  CHECK(heat[1 * 8 + 1] == Approx(1.0));  // (1.5, 1.5) is the centre of cell (0, 0)
  // Pixel 3's centre is at 3.5 * 2 / 8 - 0.5 = 0.375 in grid coordinates: (1 - 0.375)^2.
  CHECK(heat[3 * 8 + 3] == Approx(0.390625));
  CHECK(heat[7 * 8 + 7] == Approx(0.0));
  CHECK(heat[2 * 8 + 1] > heat[3 * 8 + 1]);  // decreasing away from the cell
  Tensor image = zeros({1, 8, 8});
  image.narrow(2, 0, 4).fill_(1.0);

  const Image plain = attention_overlay(image, grid, 3);
  CHECK(plain.width == 24);
  CHECK(plain.height == 24);
  // Attended white pixel: white (0.55 + 0.45 * hot(1) = white); unattended white pixel: dimmed
  // grey; attended pixels are brighter than unattended ones of the same grey.
  CHECK(plain.get(0, 0) == Rgb{255, 255, 255});
  CHECK(plain.get(3 * 3, 7 * 3) == Rgb{56, 56, 56});  // 255 * 0.55 * 0.4, no glow
  CHECK(plain.get(2 * 3, 2 * 3).r > plain.get(2 * 3, 6 * 3).r);
  const Image titled = attention_overlay(image, grid, 4, "1. bag");
  CHECK(titled.width == 32);
  CHECK(titled.height == 32 + kOverlayTitleHeight);
  CHECK(titled.get(0, kOverlayTitleHeight) == Rgb{255, 255, 255});  // the image starts below

  minidl::testing::TempDir dir;
  const std::string path = dir.file("overlay.png");
  write_png(path, titled);
  const Image back = read_png(path);
  CHECK(back.width == titled.width);
  CHECK(back.height == titled.height);
  CHECK(back.rgb == titled.rgb);

  const std::string text = terminal_attention_overlay(image, grid, "1. bag", false);
  // The title, 2 grid rows, the legend: the image's left cells are white ('@'), the attention's
  // top-left cell is the max ('@').
  CHECK(text.find("1. bag\n") == 0);
  INFO(text);
  CHECK(text.find("  |@@  |  |@@  |\n  |@@  |  |    |\n") != std::string::npos);
  CHECK(text.find("attention (right)") != std::string::npos);
  CHECK(text.find("0 .. 0.800") != std::string::npos);

  CHECK_THROWS_WITH(attention_overlay(zeros({2, 1, 8, 8}), grid),
                    Catch::Contains("attention_overlay") &&
                        Catch::Contains("expected an image [H, W], [1, H, W] or [3, H, W], got "
                                        "[2, 1, 8, 8]"));
  CHECK_THROWS_WITH(attention_overlay(image, -grid),
                    Catch::Contains("finite and non-negative, got -0.8"));
  CHECK_THROWS_WITH(attention_overlay(image, zeros({4})),
                    Catch::Contains("expected an attention grid [grid_h, grid_w], got [4]"));
  CHECK_THROWS_WITH(attention_overlay(image, grid, 0), Catch::Contains("scale must be in"));
  CHECK_THROWS_WITH(attention_overlay(image.to(kInt64), grid),
                    Catch::Contains("expected a floating image"));
  CHECK_THROWS_WITH(terminal_attention_overlay(image, zeros({16, 16}), "", true),
                    Catch::Contains("the attention grid 16x16 is finer than the image 8x8"));
  CHECK_THROWS_WITH(upsample_attention(grid, 0, 4), Catch::Contains("must be positive"));
}
