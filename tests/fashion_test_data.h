// Small IDX files in Fashion-MNIST's layout for the vision smoke tests
// (tests/test_image_classification.cpp, tests/test_captioning_task.cpp,
// tests/test_fashion_vqa_task.cpp): n images of 28x28 whose
// class (0..9, image i has class i % 10) is the bright row band, so a model learns them in a few
// steps; the rest is seeded noise.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace minidl::testing {

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

// PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte in `dir` (prefix "train" or "t10k").
inline void write_band_split(const std::string& dir, const std::string& prefix, int32_t n,
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

// A directory (under the temporary directory, written once per process) with 400 training and
// 80 test images.
inline std::string band_fashion_dir() {
  static const std::string dir = [] {
    const std::string d = (std::filesystem::temp_directory_path() / "minidl_fashion_test").string();
    std::filesystem::create_directories(d);
    write_band_split(d, "train", 400, 1);
    write_band_split(d, "t10k", 80, 2);
    return d;
  }();
  return dir;
}

}  // namespace minidl::testing
