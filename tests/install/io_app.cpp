// Built against an installed minidl by tests/install_test.sh with the README's pkg-config line:
// a program that writes a PNG heat map (libpng) and reads IDX files (zlib) links with no extra
// flags -- the static library's own dependencies come from minidl.pc's Libs.
#include <minidl/minidl.h>
#include <minidl/models/common/plot.h>
#include <minidl/nn/idx.h>

#include <cstdio>
#include <string>

using namespace minidl;

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  Tensor weights = softmax(tensor({{1.0f, 2.0f, 3.0f}, {3.0f, 1.0f, 0.0f}}), 1);
  models::write_heat_map_png(dir + "/heat.png", weights, {"a", "b", "c"}, {"x", "y"});
  const models::Image image = models::read_png(dir + "/heat.png");
  std::printf("png %dx%d\n", image.width, image.height);
  try {
    nn::read_idx(dir + "/missing-images-idx3-ubyte.gz");
  } catch (const std::exception& e) {
    std::printf("idx error: %s\n", e.what());
  }
}
