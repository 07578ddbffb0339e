// Small Fashion-MNIST look-alikes for the vision tests (tests/test_image_classification.cpp,
// tests/test_fashion_vqa.cpp): IDX files in Fashion-MNIST's layout whose class is easy to see,
// so a model learns it in a few steps.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace minidl::testing {

// An uncompressed IDX file of unsigned bytes with the given dims.
inline void write_idx(const std::string& path, const std::vector<int32_t>& dims,
                      const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  const unsigned char head[4] = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  out.write(reinterpret_cast<const char*>(head), 4);
  for (int32_t d : dims) {
    const unsigned char be[4] = {static_cast<unsigned char>(d >> 24),
                                 static_cast<unsigned char>(d >> 16),
                                 static_cast<unsigned char>(d >> 8), static_cast<unsigned char>(d)};
    out.write(reinterpret_cast<const char*>(be), 4);
  }
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// dir/PREFIX-images-idx3-ubyte and dir/PREFIX-labels-idx1-ubyte: n images, image i of class
// i % 10, whose bright row band (rows 3c .. 3c + 2 for class c) over seeded noise shows it.
inline void write_fashion_split(const std::string& dir, const std::string& prefix, int32_t n,
                                uint32_t seed) {
  std::vector<uint8_t> images(static_cast<size_t>(n) * 28 * 28), labels(n);
  uint32_t state = seed;
  for (int32_t i = 0; i < n; ++i) {
    labels[i] = static_cast<uint8_t>(i % 10);
    for (int32_t p = 0; p < 28 * 28; ++p) {
      state = state * 1664525u + 1013904223u;
      const bool band = (p / 28) / 3 == labels[i];
      images[static_cast<size_t>(i) * 784 + p] =
          static_cast<uint8_t>((state >> 24) % 64 + (band ? 180 : 0));
    }
  }
  write_idx(dir + "/" + prefix + "-images-idx3-ubyte", {n, 28, 28}, images);
  write_idx(dir + "/" + prefix + "-labels-idx1-ubyte", {n}, labels);
}

}  // namespace minidl::testing
