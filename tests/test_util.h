// Small helpers shared by the tests.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "minidl.h"

namespace minidl::testing {

// |a - b| <= atol + rtol |b| elementwise, same shape; prints the first mismatch.
inline bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-6) {
  if (a.shape() != b.shape()) {
    UNSCOPED_INFO("shape " << shape_str(a.shape()) << " vs " << shape_str(b.shape()));
    return false;
  }
  std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (size_t i = 0; i < va.size(); ++i) {
    bool both_nan = std::isnan(va[i]) && std::isnan(vb[i]);
    if (!both_nan && !(std::fabs(va[i] - vb[i]) <= atol + rtol * std::fabs(vb[i]))) {
      UNSCOPED_INFO("element " << i << ": " << va[i] << " vs " << vb[i]);
      return false;
    }
  }
  return true;
}

// Runs gradcheck and reports the mismatch through Catch.
inline void check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                            const std::vector<Tensor>& inputs, GradcheckOptions options = {}) {
  GradcheckResult result = gradcheck(fn, inputs, options);
  INFO(result.message);
  CHECK(result.ok);
}

// A float64 leaf of this shape with values from randn (seeded by the caller's manual_seed).
inline Tensor leaf(const Shape& shape, double scale = 1.0) {
  Tensor t = randn(shape, kFloat64) * scale;
  return t.detach().requires_grad_();
}

// The same values as a non-contiguous leaf: stored transposed (last two dims swapped).
inline Tensor transposed_leaf(const Shape& shape, double scale = 1.0) {
  Shape swapped = shape;
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  Tensor t = (randn(swapped, kFloat64) * scale).transpose(-1, -2);
  return t.detach().requires_grad_();
}

// A non-contiguous leaf that is every other column of a wider tensor.
inline Tensor strided_leaf(const Shape& shape, double scale = 1.0) {
  Shape wide = shape;
  wide.back() *= 2;
  Tensor t = (randn(wide, kFloat64) * scale).slice(-1, 0, std::nullopt, 2);
  return t.detach().requires_grad_();
}

// What a shell command printed (stdout; add 2>&1 for stderr too) and its exit status as
// pclose returns it (0 on success; -1 if it could not be started).
struct CommandResult {
  int status = -1;
  std::string output;
};
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) result.output += buffer;
  result.status = pclose(pipe);
  return result;
}

// A fresh directory (under the system temp dir) for one test, removed with everything in it
// when the test ends.
struct TempDir {
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "minidl_test_XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw Error("TempDir: cannot create " + pattern);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::filesystem::path path;
};

// A leaf copy of t (same values, no history) that requires grad: a fixture's input made
// trainable.
inline Tensor fresh(const Tensor& t) {
  return t.clone().detach().requires_grad_();
}

// Where the tools and examples under test were built: $MINIDL_BUILD_DIR (make test sets it; the
// sanitizer builds use their own directories), else "build".
inline std::string build_dir() {
  const char* build = std::getenv("MINIDL_BUILD_DIR");
  return build ? build : "build";
}

// The repository's root (the fixtures live in <root>/tests/fixtures).
inline std::filesystem::path source_root() {
  return std::filesystem::path(MINIDL_FIXTURE_DIR).parent_path().parent_path();
}

// A whole file as a string ("" if it cannot be opened).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes `bytes` to `path` as they are (for hand-made, possibly malformed files).
inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace minidl::testing
