// IDX reader (nn/idx.cpp): tiny gzip'd files written here with zlib, every malformed file, and
// Fashion-MNIST from Debian's dataset-fashion-mnist when it is installed.
#include "nn/idx.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;
namespace fs = std::filesystem;
using minidl::testing::TempDir;
using minidl::testing::write_bytes;

namespace {

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!bytes.empty()) REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
  gzclose(f);
}

void write_plain(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The IDX header for unsigned bytes of this shape (sizes big-endian).
std::string idx_header(const std::vector<uint32_t>& dims, unsigned char type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      s.push_back(static_cast<char>((d >> shift) & 0xff));
  return s;
}

std::string byte_range(int n, int start = 0) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((start + i) & 0xff));
  return s;
}

}  // namespace

TEST_CASE("read_idx reads gzip'd labels as int64 and images as float32", "[io]") {
  TempDir dir;
  std::string labels = dir.file("labels-idx1-ubyte.gz");
  write_gz(labels, idx_header({5}) + std::string("\x07\x00\x09\x03\xff", 5));
  Tensor y = nn::read_idx(labels);
  CHECK(y.dtype() == kInt64);
  CHECK(y.to_vector<int64_t>() == std::vector<int64_t>{7, 0, 9, 3, 255});

  std::string images = dir.file("images-idx3-ubyte.gz");
  write_gz(images, idx_header({2, 3, 4}) + byte_range(24, 240));  // 240..255, then 0..7
  Tensor x = nn::read_idx(images);
  CHECK(x.dtype() == kFloat32);
  CHECK(x.shape() == Shape{2, 3, 4});
  CHECK(x.index({0, 0, 0}).item<float>() == 240.0f);
  CHECK(x.index({0, 3 / 3, 3}).item<float>() == 247.0f);
  CHECK(x.index({1, 2, 3}).item<float>() == 7.0f);
  CHECK(x.max().item<float>() == 255.0f);

  // An uncompressed file reads the same (zlib passes it through), and so does an empty one.
  std::string plain = dir.file("plain-idx1-ubyte");
  write_plain(plain, idx_header({5}) + std::string("\x07\x00\x09\x03\xff", 5));
  CHECK(nn::read_idx(plain).to_vector<int64_t>() == y.to_vector<int64_t>());
  write_gz(plain, idx_header({0, 28, 28}));
  CHECK(nn::read_idx(plain).shape() == Shape{0, 28, 28});
}

TEST_CASE("read_idx rejects malformed files", "[io]") {
  TempDir dir;
  std::string path = dir.file("bad.gz");
  auto fails_with = [&](const std::string& bytes, const std::string& problem, bool gz = true) {
    if (gz)
      write_gz(path, bytes);
    else
      write_plain(path, bytes);
    INFO("expecting: " << problem);
    CHECK_THROWS_WITH(nn::read_idx(path),
                      Contains("read_idx") && Contains(path) && Contains(problem));
  };
  fails_with("", "shorter than the 4-byte IDX magic");
  fails_with(std::string("\x01\x00\x08\x01", 4) + std::string(8, '\0'), "bad magic");
  fails_with(idx_header({3}, 0x0D) + std::string(12, '\0'), "unsupported IDX element type 0xd");
  fails_with(idx_header({}), "unsupported number of dimensions 0");
  fails_with(std::string("\0\0\x08\x09", 4) + std::string(36, '\1'),
             "unsupported number of dimensions 9");
  fails_with(idx_header({3, 4}).substr(0, 9), "the header promises 2 sizes");
  fails_with(idx_header({4, 5}) + byte_range(19), "promises 20 bytes of data, the file holds 19");
  fails_with(idx_header({4}) + byte_range(6), "unexpected trailing bytes");
  // A lying header: 2^32-1 cubed elements, with 3 bytes of data.
  fails_with(idx_header({0xffffffffu, 0xffffffffu, 0xffffffffu}) + byte_range(3), "absurd size");
  // A large but representable claim fails on the data, without allocating it first.
  fails_with(idx_header({60000, 28, 28}) + byte_range(10), "the file holds 10");

  // A gzip stream cut short or corrupted.
  std::string whole = dir.file("whole.gz");
  write_gz(whole, idx_header({1000}) + std::string(1000, '\x05'));
  std::ifstream in(whole, std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fails_with(gz.substr(0, gz.size() - 12), "gzip data", false);
  std::string corrupt = gz;
  for (size_t i = 12; i < corrupt.size() - 8; ++i) corrupt[i] = static_cast<char>(0xA5 ^ i);
  fails_with(corrupt, "gzip data", false);

  CHECK_THROWS_WITH(nn::read_idx(dir.file("missing.gz")),
                    Contains("read_idx") && Contains("missing.gz") && Contains("cannot open"));
}

TEST_CASE("read_idx reads Fashion-MNIST's test labels and images", "[io]") {
  const std::string root = "/usr/share/datasets/fashion-mnist/";
  if (!fs::exists(root + "t10k-labels-idx1-ubyte.gz")) {
    WARN("skipped: " << root << " not installed (Debian package dataset-fashion-mnist)");
    return;
  }
  Tensor labels = nn::read_idx(root + "t10k-labels-idx1-ubyte.gz");
  CHECK(labels.dtype() == kInt64);
  CHECK(labels.shape() == Shape{10000});
  CHECK(labels.min().item<int64_t>() == 0);
  CHECK(labels.max().item<int64_t>() == 9);
  // The test set is balanced: 1000 of each class.
  std::vector<int64_t> counts(10, 0);
  for (int64_t label : labels.to_vector<int64_t>()) ++counts[label];
  CHECK(counts == std::vector<int64_t>(10, 1000));
  Tensor images = nn::read_idx(root + "t10k-images-idx3-ubyte.gz");
  CHECK(images.shape() == Shape{10000, 28, 28});
  CHECK(images.min().item<float>() == 0.0f);
  CHECK(images.max().item<float>() == 255.0f);
}
