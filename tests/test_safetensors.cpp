// safetensors read/write (nn/safetensors.cpp): round trips, a file written by Python, every
// malformed file, and state_dict loading into a module.
#include "nn/safetensors.h"

#include <algorithm>
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

std::string le64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

// A safetensors file with this header text and `data_bytes` zero bytes of data.
std::string st_file(const std::string& header, size_t data_bytes) {
  return le64(header.size()) + header + std::string(data_bytes, '\0');
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), ca.numel() * ca.element_size()) == 0;
}

struct TinyNet : nn::Module {
  TinyNet() : Module("TinyNet") {
    weight = register_parameter("weight", randn({3, 2}));
    bias = register_parameter("bias", randn({3}));
    count = register_buffer("count", zeros({}, kInt64));
  }
  Tensor weight, bias, count;
};

}  // namespace

TEST_CASE("safetensors round trip of every dtype, 0-d, empty and strided tensors", "[io]") {
  manual_seed(0);
  TempDir dir;
  std::string path = dir.file("all.safetensors");
  Tensor strided = randn({4, 6}).slice(1, 0, std::nullopt, 2);  // non-contiguous [4, 3]
  nn::StateDict tensors = {
      {"f32", randn({2, 3})},
      {"f64", randn({5}, kFloat64)},
      {"i64", tensor<int64_t>({-3, 0, 1LL << 40})},
      {"bool", tensor<bool>({true, false, true})},
      {"scalar", scalar_tensor(1.5, kFloat64)},
      {"empty", zeros({0, 4})},
      {"empty_i64", zeros({3, 0}, kInt64)},
      {"strided", strided},
      {"needs.grad", randn({2}).requires_grad_()},
  };
  nn::save_safetensors(path, tensors, {{"format", "pt"}, {"step", "7"}});
  nn::StateDict loaded = nn::load_safetensors(path);
  REQUIRE(loaded.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    INFO(tensors[i].first);
    CHECK(loaded[i].first == tensors[i].first);  // saved order is kept
    CHECK(same_bits(loaded[i].second, tensors[i].second));
    CHECK_FALSE(loaded[i].second.requires_grad());
  }
  CHECK(loaded[4].second.dim() == 0);
  CHECK(nn::load_safetensors_metadata(path) == nn::Metadata{{"format", "pt"}, {"step", "7"}});

  // The header is space-padded so the data starts 8-byte aligned; no temporary file remains.
  std::ifstream in(path, std::ios::binary);
  unsigned char length[8];
  in.read(reinterpret_cast<char*>(length), 8);
  CHECK(length[0] % 8 == 0);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);

  // Overwriting an existing file, with no tensors and no metadata.
  nn::save_safetensors(path, {});
  CHECK(nn::load_safetensors(path).empty());
  CHECK(nn::load_safetensors_metadata(path).empty());
}

TEST_CASE("safetensors reads the file written by Python", "[io]") {
  minidl::testing::Fixtures fx("io.txt");
  std::string path = std::string(MINIDL_FIXTURE_DIR) + "/io_small.safetensors";
  nn::StateDict loaded = nn::load_safetensors(path);
  REQUIRE(loaded.size() == 7);
  // Ordered by position in the buffer: the package puts 8-byte dtypes first.
  CHECK(loaded[0].first == "float64_vector");
  CHECK(loaded[1].first == "int64_matrix");
  for (const auto& [name, t] : loaded) {
    INFO(name);
    std::string key = "st_" + name;
    std::replace(key.begin(), key.end(), '.', '_');
    const Tensor& expected = fx[key];
    CHECK(t.dtype() == expected.dtype());
    CHECK(allclose(t, expected, 0, 0));
  }
  CHECK(nn::load_safetensors_metadata(path) ==
        nn::Metadata{{"format", "pt"}, {"source", "gen_io.py"}});
}

TEST_CASE("safetensors loaders reject every malformed file", "[io]") {
  TempDir dir;
  std::string path = dir.file("bad.safetensors");
  auto fails_with = [&](const std::string& bytes, const std::string& problem) {
    write_bytes(path, bytes);
    INFO("expecting: " << problem);
    CHECK_THROWS_WITH(nn::load_safetensors(path),
                      Contains("load_safetensors") && Contains(path) && Contains(problem));
  };
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})";

  fails_with("", "truncated file of 0 bytes");
  fails_with(std::string("\x10\0\0", 3), "truncated file of 3 bytes");
  fails_with(le64(100) + "{}", "header length 100 is larger than the 2 bytes");
  fails_with(le64(~uint64_t(0)) + "{}", "is larger than");
  fails_with(st_file("{\"a\":", 0), "not valid JSON");
  fails_with(st_file("[1, 2]", 0), "must be a JSON object, got a JSON array");
  fails_with(st_file("{" + ok_entry + "," + ok_entry + "}", 24), "duplicate tensor name \"a\"");
  fails_with(st_file(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4),
             "unsupported dtype \"F16\"");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})", 20),
             "out of range for a data buffer of 20 bytes");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 20),
             "needs 24 bytes, but its data_offsets span 20");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8),
             "out of range");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                     12),
             "overlaps the previous tensor");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
             "hole of bytes [0, 4]");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 9),
             "5 trailing bytes");
  fails_with(st_file(R"({"a":{"dtype":"F64","shape":[1099511627776,1099511627776],)"
                     R"("data_offsets":[0,8]}})",
                     8),
             "absurd");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
             "non-negative integers");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8),
             "non-negative integers");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8),
             "must be two non-negative integers");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "needs dtype, shape");
  fails_with(st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", 4),
             "unknown field \"x\"");
  fails_with(st_file(R"({"a":[1,2]})", 0), "entry \"a\" must be an object");
  fails_with(st_file(R"({"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", 4),
             "is not a string");
  fails_with(st_file(R"({"__metadata__":{"k":1}})", 0), "__metadata__ value of \"k\"");
  fails_with(st_file(R"({"__metadata__":[]})", 0), "__metadata__ must be an object");

  // A valid file cut short anywhere is rejected.
  write_bytes(path, st_file("{" + ok_entry + "}", 24));
  CHECK(nn::load_safetensors(path).size() == 1);
  std::string header = "{" + ok_entry + "}", whole = st_file(header, 24);
  for (size_t cut : {size_t(5), size_t(20), whole.size() - 1})
    fails_with(whole.substr(0, cut), cut < 8                   ? "truncated"
                                     : cut < 8 + header.size() ? "larger than"
                                                               : "out of range");

  CHECK_THROWS_WITH(
      nn::load_safetensors(dir.file("missing.safetensors")),
      Contains("load_safetensors") && Contains("missing.safetensors") && Contains("cannot open"));
  write_bytes(path, st_file("[]", 0));
  CHECK_THROWS_WITH(nn::load_safetensors_metadata(path),
                    Contains("load_safetensors_metadata") && Contains("JSON object"));
}

TEST_CASE("safetensors BOOL bytes other than 0 and 1 read as true", "[io]") {
  TempDir dir;
  std::string path = dir.file("bool.safetensors");
  std::string header = R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})";
  write_bytes(path, le64(header.size()) + header + std::string("\x00\x02\xff", 3));
  Tensor m = nn::load_safetensors(path)[0].second;
  CHECK(m.to_vector<bool>() == std::vector<bool>{false, true, true});
  CHECK(m.to(kInt64).sum().item<int64_t>() == 2);
}

TEST_CASE("save_safetensors rejects bad names and unwritable paths", "[io]") {
  TempDir dir;
  std::string path = dir.file("x.safetensors");
  CHECK_THROWS_WITH(
      nn::save_safetensors(path, {{"a", zeros({1})}, {"a", zeros({2})}}),
      Contains("save_safetensors") && Contains(path) && Contains("duplicate tensor name \"a\""));
  CHECK_THROWS_WITH(nn::save_safetensors(path, {{"__metadata__", zeros({1})}}),
                    Contains("invalid tensor name \"__metadata__\""));
  CHECK_THROWS_WITH(nn::save_safetensors(path, {{"", zeros({1})}}),
                    Contains("invalid tensor name"));
  CHECK_THROWS_WITH(nn::save_safetensors(path, {{"u", Tensor()}}),
                    Contains("tensor \"u\" is undefined"));
  CHECK_FALSE(fs::exists(path));  // nothing written on error
  std::string nowhere = dir.file("no/such/dir/x.safetensors");
  CHECK_THROWS_WITH(nn::save_safetensors(nowhere, {{"a", zeros({1})}}),
                    Contains("save_safetensors") && Contains(nowhere) && Contains("cannot create"));
}

TEST_CASE("save_state_dict / load_state_dict move a module through a file", "[io]") {
  manual_seed(3);
  TempDir dir;
  std::string path = dir.file("net.safetensors");
  TinyNet a, b;
  a.count.fill_(12);
  REQUIRE_FALSE(allclose(a.weight, b.weight));
  nn::save_state_dict(a, path);
  nn::load_state_dict(b, path);
  CHECK(allclose(a.weight, b.weight, 0, 0));
  CHECK(allclose(a.bias, b.bias, 0, 0));
  CHECK(b.count.item<int64_t>() == 12);
  CHECK(b.weight.requires_grad());  // loading keeps b's parameters parameters

  // A float64 file loads into a float32 module (converted, as PyTorch's copy_).
  std::string f64_path = dir.file("f64.safetensors");
  nn::save_safetensors(
      f64_path,
      {{"weight", a.weight.to(kFloat64) * 2.0}, {"bias", a.bias.to(kFloat64)}, {"count", a.count}});
  nn::load_state_dict(b, f64_path);
  CHECK(b.weight.dtype() == kFloat32);
  CHECK(allclose(b.weight, a.weight * 2.0, 1e-6, 0));

  // Strict loading names the file and the key; non-strict skips missing and unexpected ones.
  std::string partial = dir.file("partial.safetensors");
  nn::save_safetensors(partial, {{"weight", a.weight}, {"extra", zeros({1})}});
  CHECK_THROWS_WITH(nn::load_state_dict(b, partial), Contains("load_state_dict") &&
                                                         Contains(partial) &&
                                                         Contains("missing key(s): bias count") &&
                                                         Contains("unexpected key(s): extra"));
  nn::load_state_dict(b, partial, /*strict=*/false);
  CHECK(allclose(b.weight, a.weight, 0, 0));

  std::string wrong = dir.file("wrong.safetensors");
  nn::save_safetensors(
      wrong, {{"weight", zeros({2, 3})}, {"bias", zeros({3})}, {"count", zeros({}, kInt64)}});
  CHECK_THROWS_WITH(nn::load_state_dict(b, wrong), Contains("load_state_dict") && Contains(wrong) &&
                                                       Contains("weight") && Contains("[2, 3]") &&
                                                       Contains("[3, 2]"));
  CHECK_THROWS_WITH(nn::load_state_dict(b, dir.file("none.safetensors")), Contains("cannot open"));
}

TEST_CASE("load_state_dict takes a module's tensors from the Python-written file", "[io]") {
  struct Layer : nn::Module {
    Layer() : Module("Layer") { weight = register_parameter("weight", zeros({3, 2})); }
    Tensor weight;
  };
  struct Holder : nn::Module {
    Holder() : Module("Holder") {
      layer = register_module("layer", std::make_shared<Layer>());
      scalar = register_parameter("scalar", zeros({}));
    }
    std::shared_ptr<Layer> layer;
    Tensor scalar;
  };
  minidl::testing::Fixtures fx("io.txt");
  std::string path = std::string(MINIDL_FIXTURE_DIR) + "/io_small.safetensors";
  Holder holder;
  CHECK_THROWS_WITH(nn::load_state_dict(holder, path),
                    Contains("load_state_dict") && Contains(path) &&
                        Contains("unexpected key(s): bool_vector empty"));
  nn::load_state_dict(holder, path, /*strict=*/false);
  CHECK(allclose(holder.layer->weight, fx["st_layer_weight"], 0, 0));
  CHECK(holder.scalar.item<float>() == 2.5f);
}
