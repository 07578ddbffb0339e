// .npy read/write (nn/npy.cpp): round trips, files written by numpy (incl. Fortran order and
// version 2.0), and every malformed file.
#include "nn/npy.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;
using minidl::testing::allclose;
namespace fs = std::filesystem;
using minidl::testing::TempDir;
using minidl::testing::write_bytes;

namespace {

// A version 1.0 file with this header dict (padded like numpy's) and `data_bytes` zero bytes.
std::string npy_file(std::string dict, size_t data_bytes) {
  dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
  dict.push_back('\n');
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes.push_back(static_cast<char>(dict.size() & 0xff));
  bytes.push_back(static_cast<char>(dict.size() >> 8));
  return bytes + dict + std::string(data_bytes, '\0');
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), ca.numel() * ca.element_size()) == 0;
}

}  // namespace

TEST_CASE("npy round trip of every dtype, 0-d, empty and strided tensors", "[io]") {
  manual_seed(0);
  TempDir dir;
  std::vector<Tensor> cases = {
      randn({2, 3}),
      randn({4}, kFloat64),
      tensor<int64_t>({-5, 0, 1LL << 50}),
      tensor<bool>({{true, false}, {false, true}}),
      scalar_tensor(-2.5, kFloat64),
      zeros({0, 3}),
      randn({3, 4}).t(),  // non-contiguous
      randn({2, 3, 4}, kFloat64).permute({2, 0, 1}),
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i << " " << shape_str(cases[i].shape()) << " " << cases[i].dtype());
    std::string path = dir.file("t" + std::to_string(i) + ".npy");
    nn::save_npy(path, cases[i]);
    Tensor back = nn::load_npy(path);
    CHECK(same_bits(back, cases[i]));
    CHECK(back.is_contiguous());
    // numpy's layout: magic, version 1.0, header padded so the data starts at a multiple of 64.
    uint64_t data_bytes = cases[i].numel() * cases[i].element_size();
    CHECK((fs::file_size(path) - data_bytes) % 64 == 0);
  }
  std::ifstream in(dir.file("t0.npy"), std::ios::binary);
  std::string head(128, '\0');
  in.read(head.data(), 128);
  CHECK(head.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  CHECK(head.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") == 10);
  nn::save_npy(dir.file("one.npy"), zeros({7}, kInt64));
  std::ifstream one(dir.file("one.npy"), std::ios::binary);
  std::string one_head(128, '\0');
  one.read(one_head.data(), 128);
  CHECK(one_head.find("'shape': (7,), }") != std::string::npos);  // Python's 1-tuple
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 9);
}

TEST_CASE("npy reads the files written by numpy", "[io]") {
  minidl::testing::Fixtures fx("io.txt");
  auto load = [](const std::string& name) {
    return nn::load_npy(std::string(MINIDL_FIXTURE_DIR) + "/io_small_" + name + ".npy");
  };
  for (const char* name : {"f4", "f8_scalar", "i8", "b1", "f4_empty", "fortran", "v2"}) {
    INFO(name);
    Tensor t = load(name);
    const Tensor& expected = fx[std::string("npy_") + name];
    CHECK(t.dtype() == expected.dtype());
    CHECK(allclose(t, expected, 0, 0));
  }
  CHECK(load("f8_scalar").dim() == 0);
  CHECK(load("fortran").shape() == Shape{3, 4, 2});
  CHECK(load("fortran").is_contiguous());
}

TEST_CASE("npy loader rejects every malformed file", "[io]") {
  TempDir dir;
  std::string path = dir.file("bad.npy");
  auto fails_with = [&](const std::string& bytes, const std::string& problem) {
    write_bytes(path, bytes);
    INFO("expecting: " << problem);
    CHECK_THROWS_WITH(nn::load_npy(path),
                      Contains("load_npy") && Contains(path) && Contains(problem));
  };
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  write_bytes(path, npy_file(ok, 24));
  CHECK(nn::load_npy(path).shape() == Shape{2, 3});

  fails_with("", "truncated file of 0 bytes");
  fails_with("\x93NUMPY\x01", "truncated file of 7 bytes");
  fails_with(std::string("PK\x03\x04 not numpy at all", 22), "bad magic");
  std::string v4 = npy_file(ok, 24);
  v4[6] = 4;
  fails_with(v4, "unsupported .npy format version 4.0");
  fails_with(std::string("\x93NUMPY\x01\x00\xff\x7f{}", 12), "header length 32767 is larger than");
  fails_with(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14), "is larger than");
  std::string whole = npy_file(ok, 24);
  fails_with(whole.substr(0, 40), "header length");
  fails_with(whole.substr(0, whole.size() - 1), "needs 24 bytes of data, the file has 23");
  fails_with(npy_file(ok, 25), "1 unexpected trailing bytes");
  fails_with(npy_file("[1, 2]", 0), "malformed header: expected {");
  fails_with(npy_file("{'descr': '<f4', 'shape': (2,), }", 8), "needs the keys");
  fails_with(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4),
             "expected a string, True, False or a tuple");
  fails_with(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 'y'}", 4),
             "unknown key 'x'");
  fails_with(npy_file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", 4),
             "repeats the key 'descr'");
  fails_with(npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8),
             "unsupported dtype '<i4'");
  fails_with(npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8),
             "unsupported dtype '>f4'");
  fails_with(npy_file("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", 8),
             "expected a string, True, False or a tuple");
  fails_with(npy_file("{'descr': '<f4', 'fortran_order': 'no', 'shape': (2,), }", 8),
             "'fortran_order' must be True or False");
  fails_with(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': 'x', }", 8),
             "'shape' must be a tuple");
  fails_with(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8),
             "expected a non-negative integer");
  fails_with(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}", 24),
             "expected ',' or ')'");
  fails_with(
      npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 8),
      "absurd size");
  // A header that claims 2^40 x 2^40 elements fails before any allocation.
  fails_with(npy_file("{'descr': '<f8', 'fortran_order': False, "
                      "'shape': (1099511627776, 1099511627776), }",
                      8),
             "needs more bytes than the 8 of data");
  CHECK_THROWS_WITH(nn::load_npy(dir.file("missing.npy")),
                    Contains("load_npy") && Contains("missing.npy") && Contains("cannot open"));
  CHECK_THROWS_WITH(nn::save_npy(dir.file("u.npy"), Tensor()),
                    Contains("save_npy") && Contains("undefined"));
  CHECK_THROWS_WITH(nn::save_npy(dir.file("no/dir/x.npy"), zeros({1})),
                    Contains("save_npy") && Contains("cannot create"));
}

TEST_CASE("npy shapes with zero sizes and bool bytes", "[io]") {
  TempDir dir;
  std::string path = dir.file("z.npy");
  // A zero anywhere makes the tensor empty, however large the other sizes claim to be.
  write_bytes(path, npy_file("{'descr': '<f8', 'fortran_order': False, "
                             "'shape': (1099511627776, 0), }",
                             0));
  CHECK(nn::load_npy(path).shape() == Shape{1099511627776, 0});
  std::string bools = npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", 0);
  write_bytes(path, bools + std::string("\x00\x07\x01", 3));
  CHECK(nn::load_npy(path).to_vector<bool>() == std::vector<bool>{false, true, true});
}
