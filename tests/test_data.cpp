// Datasets, DataLoader, pad_collate, read_lines and Vocab (nn/data.cpp).
#include "nn/data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;
using minidl::testing::allclose;
namespace fs = std::filesystem;

namespace {

// Example i has data [i, 10 i] (float32) and target i (int64).
std::shared_ptr<nn::TensorDataset> counting_dataset(int64_t n) {
  Tensor index = arange(static_cast<double>(n), kFloat32);
  Tensor data = stack({index, index * 10.0}, 1);
  return std::make_shared<nn::TensorDataset>(data, arange(static_cast<double>(n)));
}

// The targets served in one epoch, in order.
std::vector<int64_t> one_epoch(nn::DataLoader& loader,
                               std::vector<int64_t>* batch_sizes = nullptr) {
  std::vector<int64_t> seen;
  for (const nn::Example& batch : loader) {
    if (batch_sizes) batch_sizes->push_back(batch.target.size(0));
    // data and target stay paired through shuffling
    CHECK(allclose(batch.data.select(1, 0), batch.target.to(kFloat32), 0, 0));
    for (int64_t t : batch.target.to_vector<int64_t>()) seen.push_back(t);
  }
  return seen;
}

}  // namespace

TEST_CASE("TensorDataset serves rows as views and checks its inputs", "[io]") {
  auto data = counting_dataset(4);
  CHECK(data->size() == 4);
  nn::Example e = data->get(2);
  CHECK(e.data.to_vector<float>() == std::vector<float>{2, 20});
  CHECK(e.target.item<int64_t>() == 2);
  CHECK(e.target.dim() == 0);
  nn::TensorDataset no_target(zeros({3, 2}));
  CHECK_FALSE(no_target.get(0).target.defined());

  CHECK_THROWS_WITH(data->get(4),
                    Contains("TensorDataset") && Contains("index 4") && Contains("4 examples"));
  CHECK_THROWS_WITH(data->get(-1), Contains("index -1"));
  CHECK_THROWS_WITH(nn::TensorDataset(zeros({3, 2}), zeros({4})),
                    Contains("TensorDataset") && Contains("[3, 2]") && Contains("[4]"));
  CHECK_THROWS_WITH(nn::TensorDataset(scalar_tensor(1.0)),
                    Contains("TensorDataset") && Contains("shape []"));
}

TEST_CASE("DataLoader batch counts with and without drop_last", "[io]") {
  auto data = counting_dataset(10);
  nn::DataLoader keep(data, 3);
  CHECK(keep.size() == 4);
  std::vector<int64_t> sizes;
  CHECK(one_epoch(keep, &sizes) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(sizes == std::vector<int64_t>{3, 3, 3, 1});

  nn::DataLoader drop(data, 3, false, /*drop_last=*/true);
  CHECK(drop.size() == 3);
  sizes.clear();
  CHECK(one_epoch(drop, &sizes).size() == 9);
  CHECK(sizes == std::vector<int64_t>{3, 3, 3});

  nn::DataLoader exact(data, 5, false, true);
  CHECK(exact.size() == 2);
  nn::DataLoader too_big(data, 32, false, true);
  CHECK(too_big.size() == 0);
  CHECK(one_epoch(too_big).empty());
  nn::DataLoader one_batch(data, 32);
  sizes.clear();
  one_epoch(one_batch, &sizes);
  CHECK(sizes == std::vector<int64_t>{10});

  // Batches are stacked: data [B, 2], target [B].
  nn::DataLoader loader(data, 4);
  auto it = loader.begin();
  CHECK(it->data.shape() == Shape{4, 2});
  CHECK(it->target.shape() == Shape{4});
  CHECK(it->target.dtype() == kInt64);
  int64_t count = 0;
  for (; it != loader.end(); ++it) ++count;
  CHECK(count == 3);

  CHECK_THROWS_WITH(nn::DataLoader(data, 0), Contains("DataLoader") && Contains("batch_size"));
  CHECK_THROWS_WITH(nn::DataLoader(nullptr, 2), Contains("DataLoader") && Contains("null"));
}

TEST_CASE("DataLoader shuffling is seeded, covers every example, and differs per epoch", "[io]") {
  auto data = counting_dataset(50);
  nn::DataLoader a(data, 8, /*shuffle=*/true, false, /*seed=*/7);
  nn::DataLoader b(data, 8, true, false, 7);
  nn::DataLoader other_seed(data, 8, true, false, 8);

  std::vector<int64_t> a0 = one_epoch(a), a1 = one_epoch(a);
  CHECK(a.epoch() == 2);
  CHECK(one_epoch(b) == a0);  // same seed, same epoch: same order
  CHECK(one_epoch(b) == a1);
  CHECK(a0 != a1);  // a new order every epoch
  CHECK(one_epoch(other_seed) != a0);
  std::vector<int64_t> sorted = a0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(50);
  std::iota(all.begin(), all.end(), 0);
  CHECK(sorted == all);  // each example exactly once
  CHECK(a0 != all);

  // set_epoch replays an epoch (resuming a run); epoch_order tells the order up front.
  a.set_epoch(1);
  CHECK(a.epoch_order(1) == a1);
  CHECK(one_epoch(a) == a1);
  CHECK_THROWS_WITH(a.set_epoch(-1), Contains("DataLoader") && Contains("-1"));

  // drop_last with shuffling drops the tail of the shuffled order.
  nn::DataLoader dropping(data, 8, true, true, 7);
  std::vector<int64_t> d0 = one_epoch(dropping);
  CHECK(d0 == std::vector<int64_t>(a0.begin(), a0.begin() + 48));
}

TEST_CASE("DataLoader with a custom collate, and default_collate errors", "[io]") {
  auto data = counting_dataset(6);
  auto sum_collate = [](const std::vector<nn::Example>& examples) {
    nn::Example out = nn::default_collate(examples);
    return nn::Example{out.data.sum({0}), out.target};
  };
  nn::DataLoader loader(data, 3, false, false, 0, sum_collate);
  auto it = loader.begin();
  CHECK(it->data.to_vector<float>() == std::vector<float>{3, 30});

  CHECK_THROWS_WITH(nn::default_collate({}), Contains("default_collate") && Contains("empty"));
  CHECK_THROWS_WITH(
      nn::default_collate({{zeros({2}), Tensor()}, {zeros({3}), Tensor()}}),
      Contains("default_collate") && Contains("example 1") && Contains("[3]") && Contains("[2]"));
  CHECK_THROWS_WITH(nn::default_collate({{zeros({2}), zeros({})}, {zeros({2}), Tensor()}}),
                    Contains("default_collate") && Contains("lacks a target"));
  CHECK_THROWS_WITH(nn::default_collate({{zeros({2}), zeros({1})}, {zeros({2}), zeros({2})}}),
                    Contains("default_collate") && Contains("target of shape [2]"));
}

TEST_CASE("pad_collate pads variable-length sequences with lengths and masks", "[io]") {
  std::vector<Tensor> sequences = {tensor<int64_t>({5, 6, 7}), tensor<int64_t>({8}),
                                   zeros({0}, kInt64), tensor<int64_t>({1, 2})};
  nn::PaddedBatch batch = nn::pad_collate(sequences);
  CHECK(batch.padded.shape() == Shape{4, 3});
  CHECK(batch.padded.dtype() == kInt64);
  CHECK(batch.padded.to_vector<int64_t>() ==
        std::vector<int64_t>{5, 6, 7, 8, 0, 0, 0, 0, 0, 1, 2, 0});
  CHECK(batch.lengths.to_vector<int64_t>() == std::vector<int64_t>{3, 1, 0, 2});
  CHECK(batch.mask.dtype() == kBool);
  CHECK(batch.mask.to_vector<bool>() == std::vector<bool>{true, true, true, true, false, false,
                                                          false, false, false, true, true, false});
  CHECK(nn::pad_collate({tensor<int64_t>({4, 4})}, -1).padded.to_vector<int64_t>() ==
        std::vector<int64_t>{4, 4});
  CHECK(nn::pad_collate({tensor<int64_t>({4}), tensor<int64_t>({1, 2})}, -1)
            .padded.to_vector<int64_t>() == std::vector<int64_t>{4, -1, 1, 2});

  // Feature sequences [T_i, F] pad along time; a strided input is fine.
  Tensor long_seq = arange(6.0, kFloat32).reshape({2, 3}).t();  // [3, 2], non-contiguous
  nn::PaddedBatch features = nn::pad_collate({ones({1, 2}), long_seq}, 0.5);
  CHECK(features.padded.shape() == Shape{2, 3, 2});
  CHECK(features.padded.to_vector<float>() ==
        std::vector<float>{1, 1, 0.5, 0.5, 0.5, 0.5, 0, 3, 1, 4, 2, 5});
  CHECK(features.mask.shape() == Shape{2, 3});

  CHECK_THROWS_WITH(nn::pad_collate({}), Contains("pad_collate") && Contains("empty"));
  CHECK_THROWS_WITH(nn::pad_collate({scalar_tensor(1.0)}),
                    Contains("pad_collate") && Contains("shape []"));
  CHECK_THROWS_WITH(nn::pad_collate({zeros({2, 3}), zeros({2, 4})}),
                    Contains("pad_collate") && Contains("sequence 1") && Contains("[2, 4]") &&
                        Contains("[2, 3]"));
  CHECK_THROWS_WITH(nn::pad_collate({zeros({2}, kInt64), zeros({2})}),
                    Contains("pad_collate") && Contains("float32") && Contains("int64"));
}

TEST_CASE("read_lines splits a text file into lines", "[io]") {
  std::string path = (fs::temp_directory_path() / "minidl_read_lines_test.txt").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << "first line\r\n\nthird \xc3\xa9t\xc3\xa9\nlast without newline";
  }
  CHECK(nn::read_lines(path) == std::vector<std::string>{"first line", "",
                                                         "third \xc3\xa9t\xc3\xa9",
                                                         "last without newline"});
  {
    std::ofstream out(path, std::ios::binary);
    out << "a\nb\n";
  }
  CHECK(nn::read_lines(path) == std::vector<std::string>{"a", "b"});
  fs::remove(path);
  CHECK_THROWS_WITH(nn::read_lines(path),
                    Contains("read_lines") && Contains(path) && Contains("cannot open"));
}

TEST_CASE("Vocab: special tokens, frequency order, min_freq, encode and decode", "[io]") {
  nn::Vocab empty;
  CHECK(empty.size() == 4);
  CHECK(empty.id_to_token(nn::Vocab::kPad) == "<pad>");
  CHECK(empty.token_to_id("<bos>") == 1);
  CHECK(empty.token_to_id("<eos>") == 2);
  CHECK(empty.token_to_id("<unk>") == 3);

  nn::Vocab chars = nn::Vocab::build({"abba", "cab"}, nn::Vocab::Level::Character);
  // a: 3, b: 3, c: 1 -> by count, ties in token order
  CHECK(chars.tokens() ==
        std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>", "a", "b", "c"});
  CHECK(chars.encode("cab", true, true) == std::vector<int64_t>{1, 6, 4, 5, 2});
  CHECK(chars.encode("abz") == std::vector<int64_t>{4, 5, 3});
  CHECK(chars.decode({1, 6, 4, 5, 2, 0, 0}) == "cab");
  CHECK(chars.decode({1, 6, 2}, /*skip_special=*/false) == "<bos>c<eos>");

  nn::Vocab frequent = nn::Vocab::build({"abba", "cab"}, nn::Vocab::Level::Character, 2);
  CHECK(frequent.size() == 6);
  CHECK_FALSE(frequent.contains("c"));
  CHECK(frequent.encode("c") == std::vector<int64_t>{nn::Vocab::kUnk});

  // Characters are UTF-8 code points, not bytes.
  nn::Vocab utf8 = nn::Vocab::build({"\xc3\xa9t\xc3\xa9 \xe2\x82\xac"});
  CHECK(utf8.size() == 4 + 4);  // é, t, space, €
  CHECK(utf8.decode(utf8.encode("\xe2\x82\xac\xc3\xa9")) == "\xe2\x82\xac\xc3\xa9");

  nn::Vocab words = nn::Vocab::build({"the cat sat", "the  dog\tsat"}, nn::Vocab::Level::Word);
  CHECK(words.tokenize(" the  cat ") == std::vector<std::string>{"the", "cat"});
  CHECK(words.id_to_token(4) == "sat");  // 2 each for sat and the; "sat" < "the"
  CHECK(words.id_to_token(5) == "the");
  CHECK(words.decode(words.encode("the dog sat", true, true)) == "the dog sat");
  CHECK(words.decode(words.encode("the bird")) == "the");  // unknown dropped as special
  CHECK(words.decode(words.encode("the bird"), false) == "the <unk>");

  int64_t bird = words.add_token("bird");
  CHECK(bird == words.size() - 1);
  CHECK(words.add_token("bird") == bird);  // no duplicate
  CHECK(words.size() == bird + 1);
  CHECK_THROWS_WITH(words.id_to_token(99), Contains("Vocab") && Contains("99"));
  CHECK_THROWS_WITH(words.decode({-1}), Contains("Vocab") && Contains("-1"));
  CHECK_THROWS_WITH(nn::Vocab::build({"a"}, nn::Vocab::Level::Character, 0),
                    Contains("Vocab::build") && Contains("min_freq"));
  CHECK_THROWS_WITH(words.add_token(""), Contains("Vocab") && Contains("empty"));
}
