// libtorch's data API (nn/data/): Example, Dataset / BatchDataset / MapDataset, MNIST,
// TensorDataset, transforms, samplers and make_data_loader, used as a libtorch program uses them.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <type_traits>

#include "nn/data/dataloader.h"
#include "nn/data/dataset.h"
#include "nn/data/datasets/mnist.h"
#include "nn/data/datasets/tensor.h"
#include "nn/data/example.h"
#include "nn/data/samplers.h"
#include "nn/data/transforms.h"
#include "tests/fashion_test_data.h"
#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;
using minidl::testing::allclose;
using minidl::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Example i: data [i, 10 i] (float32), target i (int64); size() as given (nullopt: unsized).
struct Counting : data::datasets::Dataset<Counting> {
  explicit Counting(size_t n, bool sized = true) : n(n), sized(sized) {}
  data::Example<> get(size_t index) override {
    const double i = static_cast<double>(index);
    return {tensor({i, 10 * i}), scalar_tensor(i, kInt64)};
  }
  std::optional<size_t> size() const override {
    return sized ? std::optional<size_t>(n) : std::nullopt;
  }
  size_t n;
  bool sized;
};

// Counting, but example i takes sleep_ms(i) to load, records the thread that loaded it, and
// fails at index fail_at. Copies (one per worker) share the record.
struct Slow : data::datasets::Dataset<Slow> {
  struct Record {
    std::mutex mutex;
    std::set<std::thread::id> threads;
  };
  Slow(size_t n, std::function<int(size_t)> sleep_ms, size_t fail_at = SIZE_MAX)
      : n(n), sleep_ms(std::move(sleep_ms)), fail_at(fail_at), record(std::make_shared<Record>()) {}
  data::Example<> get(size_t index) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms(index)));
    {
      std::lock_guard<std::mutex> lock(record->mutex);
      record->threads.insert(std::this_thread::get_id());
    }
    MINIDL_CHECK(index != fail_at, "Slow", "cannot load example " << index);
    return Counting(n).get(index);
  }
  std::optional<size_t> size() const override { return n; }
  size_t n;
  std::function<int(size_t)> sleep_ms;
  size_t fail_at;
  std::shared_ptr<Record> record;
};

// The targets a loader serves in one epoch, in order, and the batch sizes.
template <typename Loader>
std::vector<int64_t> one_epoch(Loader& loader, std::vector<int64_t>* batch_sizes = nullptr) {
  std::vector<int64_t> seen;
  for (auto& batch : loader) {
    if (batch_sizes) batch_sizes->push_back(batch.target.size(0));
    CHECK(allclose(batch.data.select(1, 0), batch.target.to(kFloat32), 0, 0));
    for (int64_t t : batch.target.template to_vector<int64_t>()) seen.push_back(t);
  }
  return seen;
}

std::vector<int64_t> iota_vector(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

std::vector<size_t> drain(data::samplers::Sampler<>& sampler, size_t batch_size,
                          std::vector<size_t>* batch_sizes = nullptr) {
  std::vector<size_t> all;
  while (auto batch = sampler.next(batch_size)) {
    if (batch_sizes) batch_sizes->push_back(batch->size());
    all.insert(all.end(), batch->begin(), batch->end());
  }
  return all;
}

void gzip_file(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  gzFile out = gzopen(to.c_str(), "wb");
  REQUIRE(out != nullptr);
  REQUIRE(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
  gzclose(out);
}

}  // namespace

TEST_CASE("Example holds data and target; TensorExample only data", "[data_api]") {
  static_assert(std::is_same<data::Example<>::DataType, Tensor>::value, "");
  static_assert(std::is_same<data::Example<>::TargetType, Tensor>::value, "");
  data::Example<> example{ones({2}), zeros({}, kInt64)};
  CHECK(example.data.shape() == Shape{2});
  CHECK(example.target.dtype() == kInt64);
  data::Example<std::string, int> other{"seven", 7};
  CHECK(other.data == "seven");
  CHECK(other.target == 7);

  data::TensorExample unlabeled = full({3}, 2.0);  // implicit from its tensor
  CHECK(unlabeled.data.sum().item<double>() == 6.0);
  const Tensor& as_tensor = unlabeled;
  CHECK(as_tensor.is_same(unlabeled.data));
}

TEST_CASE("Dataset::get_batch returns the examples at the indices, in order", "[data_api]") {
  Counting dataset(10);
  static_assert(std::is_same<Counting::BatchType, std::vector<data::Example<>>>::value, "");
  static_assert(!Counting::is_stateful, "");
  CHECK(dataset.size().value() == 10);
  std::vector<size_t> indices{7, 2, 2};
  std::vector<data::Example<>> batch = dataset.get_batch(indices);
  REQUIRE(batch.size() == 3);
  CHECK(batch[0].target.item<int64_t>() == 7);
  CHECK(batch[1].data.to_vector<float>() == std::vector<float>{2, 20});
  CHECK(batch[2].target.item<int64_t>() == 2);
  CHECK(dataset.get_batch({}).empty());
  CHECK_FALSE(Counting(5, false).size().has_value());
}

TEST_CASE("map() chains transforms and keeps the source dataset's size", "[data_api]") {
  Counting dataset(6);
  // An lvalue map copies the dataset; an rvalue map moves it.
  auto doubled = dataset.map(data::transforms::Lambda<data::Example<>>([](data::Example<> e) {
    e.data = e.data * 2.0;
    return e;
  }));
  auto stacked = std::move(doubled).map(data::transforms::Stack<>());
  static_assert(std::is_same<decltype(stacked)::BatchType, data::Example<>>::value, "");
  CHECK(stacked.size().value() == 6);
  CHECK(stacked.dataset().size().value() == 6);
  data::Example<> batch = stacked.get_batch(std::vector<size_t>{1, 3});
  CHECK(batch.data.shape() == Shape{2, 2});
  CHECK(batch.data.to_vector<float>() == std::vector<float>{2, 20, 6, 60});
  CHECK(batch.target.to_vector<int64_t>() == std::vector<int64_t>{1, 3});
  CHECK(dataset.get(1).data.to_vector<float>() == std::vector<float>{1, 10});  // unchanged

  // A free map() and a BatchLambda on the whole batch.
  auto counted = data::datasets::map(
      Counting(4), data::transforms::BatchLambda<std::vector<data::Example<>>, size_t>(
                       [](std::vector<data::Example<>> batch) { return batch.size(); }));
  CHECK(counted.get_batch(std::vector<size_t>{0, 1, 2}) == 3);
}

TEST_CASE("Normalize subtracts the mean and divides by stddev per channel", "[data_api]") {
  Tensor image = arange(12.0, kFloat32).view({3, 2, 2});
  data::transforms::Normalize<> scalar(1.0, 2.0);
  CHECK(scalar.mean.shape() == Shape{1, 1, 1});
  CHECK(allclose(scalar(image), (image - 1.0) / 2.0));

  data::transforms::Normalize<> per_channel({0.0, 4.0, 8.0}, {1.0, 2.0, 4.0});
  CHECK(per_channel.mean.shape() == Shape{3, 1, 1});
  CHECK(per_channel.stddev.dtype() == kFloat32);
  Tensor expected = tensor({0.f, 1.f, 2.f, 3.f, 0.f, 0.5f, 1.f, 1.5f, 0.f, 0.25f, 0.5f, 0.75f});
  CHECK(allclose(per_channel(image), expected.view({3, 2, 2})));
  // A batch [N, C, H, W] broadcasts too; float64 stays float64.
  Tensor batch = stack({image, image}).to(kFloat64);
  Tensor normalized = per_channel(batch);
  CHECK(normalized.dtype() == kFloat64);
  CHECK(allclose(normalized.select(0, 1), expected.view({3, 2, 2}).to(kFloat64)));

  // As a transform of examples: the target passes through.
  data::Example<> example{image, scalar_tensor(4, kInt64)};
  data::Example<> out = scalar.apply(example);
  CHECK(out.target.item<int64_t>() == 4);
  CHECK(allclose(out.data, (image - 1.0) / 2.0));
  // Normalize<NoTarget> maps TensorExamples.
  data::transforms::Normalize<data::example::NoTarget> unlabeled(0.5, 0.5);
  CHECK(allclose(unlabeled.apply(data::TensorExample(ones({1, 2}))).data, ones({1, 1, 2})));
}

TEST_CASE("Normalize rejects bad parameters and inputs", "[data_api]") {
  using data::transforms::Normalize;
  CHECK_THROWS_WITH(Normalize<>(0.5, 0.0), Contains("Normalize") && Contains("stddev[0] is zero"));
  CHECK_THROWS_WITH(Normalize<>(std::vector<double>{}, 1.0),
                    Contains("Normalize") && Contains("mean has no values"));
  CHECK_THROWS_WITH(Normalize<>({0.1, 0.2}, {1.0, 1.0, 1.0}),
                    Contains("Normalize") && Contains("mean has 2 channels, stddev 3"));
  CHECK_THROWS_WITH(Normalize<>(std::nan(""), 1.0), Contains("not finite"));
  Normalize<> rgb({0.5, 0.5, 0.5}, {0.2, 0.2, 0.2});
  CHECK_THROWS_WITH(rgb(zeros({1, 4, 4})),
                    Contains("Normalize") && Contains("[1, 4, 4]") && Contains("3 channels"));
  CHECK_THROWS_WITH(rgb(zeros({4, 4})), Contains("Normalize") && Contains("[4, 4]"));
  CHECK_THROWS_WITH(rgb(Tensor()), Contains("Normalize") && Contains("undefined"));
}

TEST_CASE("Lambda, TensorLambda and Collate wrap functions", "[data_api]") {
  data::transforms::TensorLambda<> square([](Tensor x) { return x * x; });
  data::Example<> squared = square.apply({tensor({3.0}), scalar_tensor(1, kInt64)});
  CHECK(squared.data.item<float>() == 9.0f);
  CHECK(squared.target.item<int64_t>() == 1);

  data::transforms::Lambda<int, std::string> name([](int i) { return std::to_string(i); });
  CHECK(name.apply_batch({1, 22}) == std::vector<std::string>{"1", "22"});

  data::transforms::Collate<data::Example<>> first(
      [](std::vector<data::Example<>> batch) { return batch.front(); });
  auto firsts = Counting(5).map(first);
  CHECK(firsts.get_batch(std::vector<size_t>{4, 1}).target.item<int64_t>() == 4);
}

TEST_CASE("Stack stacks examples and names the one at fault", "[data_api]") {
  data::transforms::Stack<> stack_examples;
  std::vector<data::Example<>> batch{{zeros({2, 3}), scalar_tensor(1, kInt64)},
                                     {ones({2, 3}), scalar_tensor(2, kInt64)}};
  data::Example<> stacked = stack_examples.apply_batch(batch);
  CHECK(stacked.data.shape() == Shape{2, 2, 3});
  CHECK(stacked.data.sum().item<double>() == 6.0);
  CHECK(stacked.target.to_vector<int64_t>() == std::vector<int64_t>{1, 2});

  CHECK_THROWS_WITH(stack_examples.apply_batch({}), Contains("Stack") && Contains("empty"));
  batch.push_back({zeros({3, 2}), scalar_tensor(3, kInt64)});
  CHECK_THROWS_WITH(stack_examples.apply_batch(batch),
                    Contains("Stack") && Contains("example 2") && Contains("[3, 2]"));
  batch.back() = {zeros({2, 3}), Tensor()};
  CHECK_THROWS_WITH(stack_examples.apply_batch(batch),
                    Contains("Stack") && Contains("example 2 has no target"));

  data::transforms::Stack<data::TensorExample> stack_tensors;
  data::TensorExample rows = stack_tensors.apply_batch({ones({2}), zeros({2}), ones({2})});
  CHECK(rows.data.shape() == Shape{3, 2});
  CHECK_THROWS_WITH(stack_tensors.apply_batch({ones({2}), ones({3})}),
                    Contains("Stack") && Contains("example 1"));
}

TEST_CASE("TensorDataset yields the rows of one tensor as TensorExamples", "[data_api]") {
  Tensor rows = arange(6.0, kFloat32).view({3, 2});
  data::datasets::TensorDataset dataset(rows);
  static_assert(std::is_same<decltype(dataset)::ExampleType, data::TensorExample>::value, "");
  CHECK(dataset.size().value() == 3);
  data::TensorExample row = dataset.get(1);
  CHECK(row.data.to_vector<float>() == std::vector<float>{2, 3});
  CHECK(row.data.shares_storage(rows));
  CHECK_THROWS_WITH(dataset.get(3), Contains("TensorDataset") && Contains("index 3"));

  data::datasets::TensorDataset from_list(std::vector<Tensor>{ones({2}), zeros({2})});
  CHECK(from_list.tensor.shape() == Shape{2, 2});
  CHECK_THROWS_WITH(data::datasets::TensorDataset(scalar_tensor(1.0)),
                    Contains("TensorDataset") && Contains("at least one dim"));
  CHECK_THROWS_WITH(data::datasets::TensorDataset(Tensor()), Contains("undefined"));

  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      dataset.map(data::transforms::Stack<data::TensorExample>()), 2);
  std::vector<Shape> shapes;
  for (auto& batch : *loader) shapes.push_back(batch.data.shape());
  CHECK(shapes == std::vector<Shape>{{2, 2}, {1, 2}});
}

TEST_CASE("SequentialSampler serves 0..n-1 in batches and starts over on reset", "[data_api]") {
  data::samplers::SequentialSampler sampler(10);
  std::vector<size_t> sizes;
  std::vector<size_t> all = drain(sampler, 4, &sizes);
  CHECK(sizes == std::vector<size_t>{4, 4, 2});
  CHECK(all == std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(sampler.index() == 10);
  CHECK_FALSE(sampler.next(4).has_value());
  sampler.reset(3);
  CHECK(drain(sampler, 5) == std::vector<size_t>{0, 1, 2});
  sampler.reset();
  CHECK(sampler.index() == 0);
  CHECK_THROWS_WITH(sampler.next(0), Contains("SequentialSampler") && Contains("batch_size"));
  data::samplers::SequentialSampler empty(0);
  CHECK_FALSE(empty.next(1).has_value());
}

TEST_CASE("RandomSampler permutes with the default generator", "[data_api]") {
  manual_seed(3);
  data::samplers::RandomSampler sampler(50);
  std::vector<size_t> first = drain(sampler, 16);
  std::vector<size_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  std::vector<size_t> expected(50);
  std::iota(expected.begin(), expected.end(), size_t{0});
  CHECK(sorted == expected);
  CHECK(first != expected);
  sampler.reset();
  std::vector<size_t> second = drain(sampler, 16);
  CHECK(second != first);  // a new permutation per epoch

  manual_seed(3);
  data::samplers::RandomSampler again(50);
  CHECK(drain(again, 7) == first);  // reproducible from the seed

  sampler.reset(5);
  std::vector<size_t> small = drain(sampler, 2);
  std::sort(small.begin(), small.end());
  CHECK(small == std::vector<size_t>{0, 1, 2, 3, 4});
  CHECK_THROWS_WITH(data::samplers::RandomSampler(-1), Contains("RandomSampler"));
  CHECK_THROWS_WITH(data::samplers::RandomSampler(3, kFloat32),
                    Contains("RandomSampler") && Contains("int64"));
  CHECK_THROWS_WITH(sampler.next(0), Contains("RandomSampler") && Contains("batch_size"));
}

TEST_CASE("Distributed samplers split the indices among replicas", "[data_api]") {
  // 10 indices over 3 replicas: 4 each with duplicates (12 = 10 + 2 wrapped), 3 without.
  std::vector<size_t> served;
  for (size_t rank = 0; rank < 3; ++rank) {
    data::samplers::DistributedSequentialSampler sampler(10, 3, rank);
    std::vector<size_t> part = drain(sampler, 3);
    CHECK(part.size() == 4);
    served.insert(served.end(), part.begin(), part.end());
  }
  CHECK(served == std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1});
  data::samplers::DistributedSequentialSampler no_duplicates(10, 3, 2, false);
  CHECK(drain(no_duplicates, 8) == std::vector<size_t>{6, 7, 8});

  std::multiset<size_t> shuffled;
  std::vector<size_t> rank0_epoch0;
  for (size_t rank = 0; rank < 3; ++rank) {
    data::samplers::DistributedRandomSampler sampler(10, 3, rank);
    std::vector<size_t> part = drain(sampler, 2);
    CHECK(part.size() == 4);
    if (rank == 0) rank0_epoch0 = part;
    shuffled.insert(part.begin(), part.end());
  }
  std::set<size_t> distinct(shuffled.begin(), shuffled.end());
  CHECK(distinct.size() == 10);  // every index served, two of them twice
  CHECK(shuffled.size() == 12);

  data::samplers::DistributedRandomSampler rank0(10, 3, 0);
  rank0.reset();
  CHECK(drain(rank0, 4) == rank0_epoch0);  // the order depends on the epoch only
  rank0.set_epoch(1);
  CHECK(rank0.epoch() == 1);
  rank0.reset();
  CHECK(drain(rank0, 4) != rank0_epoch0);

  CHECK_THROWS_WITH(data::samplers::DistributedRandomSampler(10, 2, 2),
                    Contains("DistributedSampler") && Contains("rank 2"));
  CHECK_THROWS_WITH(data::samplers::DistributedSequentialSampler(10, 0), Contains("num_replicas"));
}

TEST_CASE("DataLoaderOptions chain; options() fills in the defaults", "[data_api]") {
  data::DataLoaderOptions defaults;
  CHECK(defaults.batch_size() == 1);
  CHECK(defaults.workers() == 0);
  CHECK_FALSE(defaults.max_jobs().has_value());
  CHECK_FALSE(defaults.timeout().has_value());
  CHECK(defaults.enforce_ordering());
  CHECK_FALSE(defaults.drop_last());

  auto options =
      data::DataLoaderOptions(8).workers(2).drop_last(true).timeout(std::chrono::milliseconds(500));
  CHECK(options.batch_size() == 8);
  auto loader = data::make_data_loader(Counting(20), options);
  CHECK(loader->options().batch_size == 8);
  CHECK(loader->options().workers == 2);
  CHECK(loader->options().max_jobs == 4);  // 2 * workers
  CHECK(loader->options().timeout == std::chrono::milliseconds(500));
  CHECK(loader->options().drop_last);
  auto explicit_jobs = data::make_data_loader(Counting(4), data::DataLoaderOptions().max_jobs(7));
  CHECK(explicit_jobs->options().max_jobs == 7);

  CHECK_THROWS_WITH(data::make_data_loader(Counting(4), data::DataLoaderOptions(0)),
                    Contains("DataLoader") && Contains("batch_size must be positive"));
  CHECK_THROWS_WITH(data::make_data_loader(Counting(4, /*sized=*/false), 2),
                    Contains("make_data_loader") && Contains("size"));
}

TEST_CASE("make_data_loader without Stack yields vectors of examples", "[data_api]") {
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(Counting(5), 2);
  static_assert(std::is_same<std::remove_reference_t<decltype(*loader->begin())>,
                             std::vector<data::Example<>>>::value,
                "");
  std::vector<size_t> sizes;
  std::vector<int64_t> targets;
  for (auto& batch : *loader) {
    sizes.push_back(batch.size());
    for (auto& example : batch) targets.push_back(example.target.item<int64_t>());
  }
  CHECK(sizes == std::vector<size_t>{2, 2, 1});
  CHECK(targets == iota_vector(5));
}

TEST_CASE("make_data_loader: samplers, drop_last, epochs and seeds", "[data_api]") {
  SECTION("a sampler type as template argument, in order") {
    auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
        Counting(10).map(data::transforms::Stack<>()), 4);
    std::vector<int64_t> sizes;
    CHECK(one_epoch(*loader, &sizes) == iota_vector(10));
    CHECK(sizes == std::vector<int64_t>{4, 4, 2});
    CHECK(one_epoch(*loader) == iota_vector(10));  // a second epoch
  }
  SECTION("drop_last drops the short batch") {
    auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
        Counting(10).map(data::transforms::Stack<>()),
        data::DataLoaderOptions().batch_size(4).drop_last(true));
    std::vector<int64_t> sizes;
    CHECK(one_epoch(*loader, &sizes) == iota_vector(8));
    CHECK(sizes == std::vector<int64_t>{4, 4});
  }
  SECTION("a sampler instance") {
    auto loader = data::make_data_loader(Counting(10).map(data::transforms::Stack<>()),
                                         data::samplers::DistributedSequentialSampler(10, 2, 1),
                                         data::DataLoaderOptions(3));
    CHECK(one_epoch(*loader) == std::vector<int64_t>{5, 6, 7, 8, 9});
  }
  SECTION("RandomSampler by default: every example once, reproducible from manual_seed") {
    manual_seed(11);
    auto loader = data::make_data_loader(Counting(30).map(data::transforms::Stack<>()),
                                         data::DataLoaderOptions().batch_size(8).workers(2));
    std::vector<int64_t> first = one_epoch(*loader);
    std::vector<int64_t> sorted = first;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == iota_vector(30));
    CHECK(first != iota_vector(30));
    std::vector<int64_t> second = one_epoch(*loader);
    CHECK(second != first);

    manual_seed(11);
    auto again = data::make_data_loader(Counting(30).map(data::transforms::Stack<>()), 8);
    CHECK(one_epoch(*again) == first);
    CHECK(one_epoch(*again) == second);
  }
}

TEST_CASE("Worker threads load ahead and keep the sampler's order", "[data_api]") {
  // Every third batch is slow, so later batches finish first on the other worker.
  Slow slow(24, [](size_t i) { return (i / 4) % 3 == 0 ? 3 : 0; });
  auto record = slow.record;
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      slow.map(data::transforms::Stack<>()), data::DataLoaderOptions(4).workers(2));
  std::vector<int64_t> sizes;
  CHECK(one_epoch(*loader, &sizes) == iota_vector(24));
  CHECK(sizes == std::vector<int64_t>(6, 4));
  {
    std::lock_guard<std::mutex> lock(record->mutex);
    CHECK(record->threads.count(std::this_thread::get_id()) == 0);  // all on the workers
    CHECK(!record->threads.empty());
  }
  // A new epoch in the middle of one starts over.
  auto it = loader->begin();
  ++it;
  CHECK(one_epoch(*loader) == iota_vector(24));

  // With a RandomSampler: the same batches as without workers, from the same seed.
  manual_seed(5);
  auto serial = data::make_data_loader(Counting(30).map(data::transforms::Stack<>()), 4);
  std::vector<int64_t> expected = one_epoch(*serial);
  manual_seed(5);
  auto threaded = data::make_data_loader(
      Slow(30, [](size_t i) { return static_cast<int>(i % 2); }).map(data::transforms::Stack<>()),
      data::DataLoaderOptions(4).workers(3).max_jobs(5).drop_last(true));
  std::vector<int64_t> sizes_threaded;
  std::vector<int64_t> got = one_epoch(*threaded, &sizes_threaded);
  CHECK(got == std::vector<int64_t>(expected.begin(), expected.begin() + 28));
  CHECK(sizes_threaded == std::vector<int64_t>(7, 4));  // drop_last: 30 = 7 * 4 + 2
  auto unfinished = threaded->begin();
  threaded->join();
  CHECK_THROWS_WITH(threaded->begin(), Contains("join"));
  CHECK_THROWS_WITH(++unfinished, Contains("DataLoader") && Contains("after join()"));
}

TEST_CASE("A worker's error reaches the loop; a late batch times out", "[data_api]") {
  auto failing = data::make_data_loader<data::samplers::SequentialSampler>(
      Slow(
          10, [](size_t) { return 0; }, /*fail_at=*/6),
      data::DataLoaderOptions(2).workers(2));
  std::vector<size_t> sizes;
  auto collect = [&] {
    for (auto& batch : *failing) sizes.push_back(batch.size());
  };
  CHECK_THROWS_WITH(collect(), Contains("Slow") && Contains("cannot load example 6"));
  CHECK(sizes == std::vector<size_t>{2, 2, 2});  // the batches before the failing one

  auto late = data::make_data_loader<data::samplers::SequentialSampler>(
      Slow(2, [](size_t) { return 200; }),
      data::DataLoaderOptions(1).workers(1).timeout(std::chrono::milliseconds(5)));
  CHECK_THROWS_WITH(late->begin(), Contains("DataLoader") && Contains("timeout of 5 ms"));
}

TEST_CASE("Loader iterators: the end, copies, and join()", "[data_api]") {
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      Counting(3).map(data::transforms::Stack<>()), 2);
  auto it = loader->begin();
  auto copy = it;
  CHECK(it == copy);
  CHECK(it != loader->end());
  CHECK(it->target.size(0) == 2);
  ++it;
  CHECK((*it).target.to_vector<int64_t>() == std::vector<int64_t>{2});
  ++it;
  CHECK(it == loader->end());
  CHECK(loader->end() == it);
  CHECK_THROWS_WITH(*it, Contains("DataLoader") && Contains("at the end"));
  CHECK_THROWS_WITH(++it, Contains("DataLoader") && Contains("at the end"));
  loader->join();
  CHECK_THROWS_WITH(loader->begin(), Contains("DataLoader") && Contains("join"));
}

TEST_CASE("MNIST reads a split (plain or gzip'd) into images and targets", "[data_api]") {
  TempDir dir;
  const std::string root = dir.path.string();
  minidl::testing::write_band_split(root, "train", 12, 1);
  minidl::testing::write_band_split(root, "t10k", 5, 2);
  // The test split only gzip'd, as Debian installs it.
  for (const char* name : {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    gzip_file(dir.file(name), dir.file(std::string(name) + ".gz"));
    fs::remove(dir.file(name));
  }

  data::datasets::MNIST train(root);  // kTrain by default
  CHECK(train.is_train());
  CHECK(train.size().value() == 12);
  CHECK(train.images().shape() == Shape{12, 1, 28, 28});
  CHECK(train.images().dtype() == kFloat32);
  CHECK(train.images().min().item<float>() >= 0.0f);
  CHECK(train.images().max().item<float>() <= 1.0f);
  CHECK(train.images().max().item<float>() > 0.7f);  // the band: bytes >= 180
  CHECK(train.targets().dtype() == kInt64);
  CHECK(train.targets().to_vector<int64_t>() ==
        std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1});
  data::Example<> third = train.get(3);
  CHECK(third.data.shape() == Shape{1, 28, 28});
  CHECK(third.target.item<int64_t>() == 3);
  CHECK_THROWS_WITH(train.get(12), Contains("MNIST") && Contains("index 12"));

  data::datasets::MNIST test(root, data::datasets::MNIST::Mode::kTest);
  CHECK_FALSE(test.is_train());
  CHECK(test.size().value() == 5);
  CHECK(test.targets().to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("MNIST names the files it cannot find or use", "[data_api]") {
  TempDir dir;
  const std::string root = dir.path.string();
  CHECK_THROWS_WITH(data::datasets::MNIST(root), Contains("MNIST") &&
                                                     Contains("train-images-idx3-ubyte") &&
                                                     Contains(".gz") && Contains(root));
  minidl::testing::write_band_split(root, "t10k", 4, 1);
  fs::remove(dir.file("t10k-labels-idx1-ubyte"));
  CHECK_THROWS_WITH(data::datasets::MNIST(root, data::datasets::MNIST::Mode::kTest),
                    Contains("t10k-labels-idx1-ubyte"));
  // Labels for 3 images, not 4.
  minidl::testing::write_idx(dir.file("t10k-labels-idx1-ubyte"), {3}, {0, 1, 2});
  CHECK_THROWS_WITH(data::datasets::MNIST(root, data::datasets::MNIST::Mode::kTest),
                    Contains("MNIST") && Contains("4 images") && Contains("3 labels"));
  // Images must be [N, H, W].
  minidl::testing::write_idx(dir.file("t10k-images-idx3-ubyte"), {3, 4}, std::vector<uint8_t>(12));
  CHECK_THROWS_WITH(data::datasets::MNIST(root, data::datasets::MNIST::Mode::kTest),
                    Contains("MNIST") && Contains("[3, 4]"));
}

TEST_CASE("The libtorch MNIST pipeline: map(Normalize).map(Stack) through a loader", "[data_api]") {
  TempDir dir;
  minidl::testing::write_band_split(dir.path.string(), "train", 20, 3);
  data::datasets::MNIST raw(dir.path.string(), data::datasets::MNIST::Mode::kTrain);
  auto train = data::datasets::MNIST(dir.path.string(), data::datasets::MNIST::Mode::kTrain)
                   .map(data::transforms::Normalize<>(0.1307, 0.3081))
                   .map(data::transforms::Stack<>());
  const size_t n = train.size().value();
  CHECK(n == 20);
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(std::move(train), 8);
  std::vector<Shape> shapes;
  int64_t seen = 0;
  for (auto& batch : *loader) {
    auto data = batch.data, targets = batch.target;
    shapes.push_back(data.shape());
    CHECK(data.dtype() == kFloat32);
    CHECK(targets.dtype() == kInt64);
    Tensor expected = (raw.images().narrow(0, seen, data.size(0)) - 0.1307) / 0.3081;
    CHECK(allclose(data, expected));
    CHECK(allclose(targets, raw.targets().narrow(0, seen, data.size(0)), 0, 0));
    seen += data.size(0);
  }
  CHECK(shapes == std::vector<Shape>{{8, 1, 28, 28}, {8, 1, 28, 28}, {4, 1, 28, 28}});
}

TEST_CASE("MNIST reads Fashion-MNIST's test split from Debian's package", "[data_api]") {
  const std::string root = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(root + "/t10k-images-idx3-ubyte.gz")) {
    WARN("skipped: " << root << " not installed (Debian package dataset-fashion-mnist)");
    return;
  }
  data::datasets::MNIST test(root, data::datasets::MNIST::Mode::kTest);
  CHECK_FALSE(test.is_train());
  CHECK(test.size().value() == 10000);
  CHECK(test.images().shape() == Shape{10000, 1, 28, 28});
  CHECK(test.images().min().item<float>() == 0.0f);
  CHECK(test.images().max().item<float>() == 1.0f);
  CHECK(test.targets().shape() == Shape{10000});
  data::Example<> first = test.get(0);
  CHECK(first.target.item<int64_t>() == 9);  // an ankle boot
  // Its pixels sum to 33456 / 255.
  CHECK(first.data.sum().item<double>() == Approx(33456.0 / 255.0).epsilon(1e-5));
}
