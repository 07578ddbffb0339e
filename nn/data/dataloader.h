// The data loader, in libtorch's torch::data names and shapes:
//
//   auto loader = data::make_data_loader(std::move(dataset),   // RandomSampler by default
//                                        data::DataLoaderOptions().batch_size(64).drop_last(true));
//   auto in_order = data::make_data_loader<data::samplers::SequentialSampler>(std::move(ds), 64);
//   for (auto& batch : *loader) ...   // Dataset::BatchType: e.g. Example<> after a Stack<>
//
// Each begin() starts an epoch: it resets the sampler (a RandomSampler draws a new order), then
// every ++ asks the sampler for the next indices and the dataset for that batch, until the
// sampler is done (or, with drop_last, gives a short batch).
//
// With workers == 0 (the default) batches are loaded on the calling thread. With workers > 0,
// that many threads, each with its own copy of the dataset (which must be copyable), fetch up to
// max_jobs batches ahead (nn/data/prefetcher.h); the batches still come in the sampler's order,
// so the result does not depend on the number of workers (enforce_ordering is always in
// effect). `timeout` bounds the wait for a worker's batch.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "nn/data/prefetcher.h"
#include "nn/data/samplers.h"

namespace minidl::data {

// Options of a data loader; each setter returns the options, so they chain.
struct DataLoaderOptions {
  DataLoaderOptions() = default;
  /* implicit */ DataLoaderOptions(size_t batch_size)  // NOLINT: implicit, as libtorch's
      : batch_size_(batch_size) {}

  // Examples per batch (1).
  DataLoaderOptions& batch_size(size_t value) {
    batch_size_ = value;
    return *this;
  }
  size_t batch_size() const noexcept { return batch_size_; }
  // Threads that load batches ahead (0: load on the calling thread).
  DataLoaderOptions& workers(size_t value) {
    workers_ = value;
    return *this;
  }
  size_t workers() const noexcept { return workers_; }
  // Batches requested ahead from the workers (default 2 * workers).
  DataLoaderOptions& max_jobs(std::optional<size_t> value) {
    max_jobs_ = value;
    return *this;
  }
  const std::optional<size_t>& max_jobs() const noexcept { return max_jobs_; }
  // How long to wait for a worker's batch before failing (no limit by default).
  DataLoaderOptions& timeout(std::optional<std::chrono::milliseconds> value) {
    timeout_ = value;
    return *this;
  }
  const std::optional<std::chrono::milliseconds>& timeout() const noexcept { return timeout_; }
  // Batches in sampler order (true; this loader keeps the order either way).
  DataLoaderOptions& enforce_ordering(bool value) {
    enforce_ordering_ = value;
    return *this;
  }
  bool enforce_ordering() const noexcept { return enforce_ordering_; }
  // Skip a last batch shorter than batch_size (false).
  DataLoaderOptions& drop_last(bool value) {
    drop_last_ = value;
    return *this;
  }
  bool drop_last() const noexcept { return drop_last_; }

 private:
  size_t batch_size_ = 1;
  size_t workers_ = 0;
  std::optional<size_t> max_jobs_;
  std::optional<std::chrono::milliseconds> timeout_;
  bool enforce_ordering_ = true;
  bool drop_last_ = false;
};

// DataLoaderOptions with every default filled in (what a loader's options() returns).
struct FullDataLoaderOptions {
  explicit FullDataLoaderOptions(const DataLoaderOptions& options)
      : batch_size(options.batch_size()),
        workers(options.workers()),
        max_jobs(options.max_jobs().value_or(2 * options.workers())),
        timeout(options.timeout()),
        enforce_ordering(options.enforce_ordering()),
        drop_last(options.drop_last()) {
    MINIDL_CHECK(batch_size > 0, "DataLoader", "batch_size must be positive, got 0");
  }

  size_t batch_size;
  size_t workers;
  size_t max_jobs;
  std::optional<std::chrono::milliseconds> timeout;
  bool enforce_ordering;
  bool drop_last;
};

// An input iterator over a loader's batches. A default-constructed iterator is the end
// (sentinel); an iterator equals it once its loader has no more batches.
template <typename Batch>
class Iterator {
 public:
  using difference_type = std::ptrdiff_t;
  using value_type = Batch;
  using pointer = Batch*;
  using reference = Batch&;
  using iterator_category = std::input_iterator_tag;

  Iterator() = default;
  // Iterates over what `next_batch` yields until it returns nullopt (fetches the first now).
  explicit Iterator(std::function<std::optional<Batch>()> next_batch)
      : state_(std::make_shared<State>()) {
    state_->next_batch = std::move(next_batch);
    state_->batch = state_->next_batch();
  }

  Batch& operator*() {
    MINIDL_CHECK(!at_end(), "DataLoader", "dereferencing an iterator that is at the end");
    return *state_->batch;
  }
  Batch* operator->() { return &**this; }
  Iterator& operator++() {
    MINIDL_CHECK(!at_end(), "DataLoader", "incrementing an iterator that is at the end");
    state_->batch = state_->next_batch();
    return *this;
  }
  // Two iterators are equal if both are at the end, or both are copies of one iteration.
  bool operator==(const Iterator& other) const {
    if (at_end() || other.at_end()) return at_end() == other.at_end();
    return state_ == other.state_;
  }
  bool operator!=(const Iterator& other) const { return !(*this == other); }

 private:
  struct State {
    std::function<std::optional<Batch>()> next_batch;
    std::optional<Batch> batch;
  };
  bool at_end() const { return !state_ || !state_->batch.has_value(); }
  std::shared_ptr<State> state_;
};

// A loader of Batch, fetched by BatchRequest: begin() resets and iterates; subclasses say where
// the requests come from.
template <typename Dataset, typename Batch, typename BatchRequest>
class DataLoaderBase {
 public:
  using BatchType = Batch;
  using BatchRequestType = BatchRequest;

  DataLoaderBase(const DataLoaderOptions& options, Dataset dataset)
      : options_(options), dataset_(std::move(dataset)) {
    if (options_.workers > 0)
      prefetcher_ = std::make_unique<Prefetcher>(dataset_, options_.workers, options_.timeout);
  }
  virtual ~DataLoaderBase() = default;
  DataLoaderBase(const DataLoaderBase&) = delete;
  DataLoaderBase& operator=(const DataLoaderBase&) = delete;

  // Starts an epoch. Iterators of an earlier epoch must not be used after this.
  Iterator<Batch> begin() {
    MINIDL_CHECK(!joined_, "DataLoader", "begin() after join(): the loader has finished");
    reset();
    if (!prefetcher_) {
      return Iterator<Batch>([this]() -> std::optional<Batch> {
        std::optional<BatchRequest> request = get_batch_request();
        if (!request) return std::nullopt;
        return dataset_.get_batch(std::move(*request));
      });
    }
    prefetcher_->discard_in_flight();
    requests_exhausted_ = false;
    request_ahead();
    return Iterator<Batch>([this]() -> std::optional<Batch> {
      MINIDL_CHECK(prefetcher_, "DataLoader", "iterating after join(): the loader has finished");
      if (prefetcher_->in_flight() == 0) return std::nullopt;
      Batch batch = prefetcher_->next();
      request_ahead();
      return batch;
    });
  }
  Iterator<Batch> end() { return Iterator<Batch>(); }

  // Stops and joins the worker threads; begin() is an error afterwards.
  void join() {
    prefetcher_.reset();
    joined_ = true;
  }

  const FullDataLoaderOptions& options() const noexcept { return options_; }

 protected:
  // The next batch's request, or nullopt at the end of the epoch.
  virtual std::optional<BatchRequest> get_batch_request() = 0;
  // Prepares a new epoch.
  virtual void reset() = 0;

  FullDataLoaderOptions options_;
  Dataset dataset_;
  bool joined_ = false;

 private:
  using Prefetcher = detail::Prefetcher<Dataset, Batch, BatchRequest>;

  // Keeps max_jobs (at least one) batches requested from the workers while the sampler has more.
  void request_ahead() {
    const size_t ahead = std::max<size_t>(options_.max_jobs, 1);
    while (!requests_exhausted_ && prefetcher_->in_flight() < ahead) {
      std::optional<BatchRequest> request = get_batch_request();
      if (!request) {
        requests_exhausted_ = true;
        return;
      }
      prefetcher_->submit(std::move(*request));
    }
  }

  bool requests_exhausted_ = false;
  std::unique_ptr<Prefetcher> prefetcher_;  // workers > 0 only; destroyed (joined) first
};

// A loader of a stateless dataset (one that knows its size and fetches batches by index): the
// sampler says which indices make each batch.
template <typename Dataset, typename Sampler>
class StatelessDataLoader : public DataLoaderBase<Dataset, typename Dataset::BatchType,
                                                  typename Sampler::BatchRequestType> {
  static_assert(!Dataset::is_stateful, "StatelessDataLoader: the dataset is stateful");

 public:
  using super =
      DataLoaderBase<Dataset, typename Dataset::BatchType, typename Sampler::BatchRequestType>;
  using typename super::BatchRequestType;

  StatelessDataLoader(Dataset dataset, Sampler sampler, DataLoaderOptions options)
      : super(options, std::move(dataset)), sampler_(std::move(sampler)) {}

 private:
  void reset() override { sampler_.reset(std::nullopt); }

  std::optional<BatchRequestType> get_batch_request() override {
    std::optional<BatchRequestType> indices = sampler_.next(this->options_.batch_size);
    if (indices && indices->size() < this->options_.batch_size && this->options_.drop_last)
      return std::nullopt;
    return indices;
  }

  Sampler sampler_;
};

// A loader of `dataset` with this sampler and these options.
template <typename Dataset, typename Sampler>
std::enable_if_t<!Dataset::is_stateful, std::unique_ptr<StatelessDataLoader<Dataset, Sampler>>>
make_data_loader(Dataset dataset, Sampler sampler, DataLoaderOptions options) {
  return std::make_unique<StatelessDataLoader<Dataset, Sampler>>(
      std::move(dataset), std::move(sampler), std::move(options));
}

// A loader of `dataset` with a Sampler (RandomSampler unless given) built from its size; the
// options may be just a batch size: make_data_loader(std::move(dataset), 64).
template <typename Sampler = samplers::RandomSampler, typename Dataset>
std::enable_if_t<!Dataset::is_stateful && std::is_constructible<Sampler, size_t>::value,
                 std::unique_ptr<StatelessDataLoader<Dataset, Sampler>>>
make_data_loader(Dataset dataset, DataLoaderOptions options = DataLoaderOptions()) {
  const std::optional<size_t> size = dataset.size();
  MINIDL_CHECK(size.has_value(), "make_data_loader",
               "the dataset's size() is unknown (nullopt), so no sampler can be built for it");
  return make_data_loader(std::move(dataset), Sampler(*size), std::move(options));
}

}  // namespace minidl::data
