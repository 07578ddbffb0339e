// The worker threads behind a data loader with DataLoaderOptions::workers > 0 (libtorch's
// DataShuttle and worker loop): each worker owns a copy of the dataset, takes batch requests
// from a queue and fetches their batches; next() hands the batches back in the order the
// requests were submitted, whichever worker finishes first, so a loader with workers yields
// exactly the batches, in exactly the order, of one without.
//
// An exception in a worker's get_batch is rethrown by the next() that reaches its batch. With a
// timeout, next() fails if its batch has not arrived in time. Workers draw randomness (if a
// transform does) from the process-wide default generator: a GeneratorGuard of the loading
// thread does not reach them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"

namespace minidl::data::detail {

template <typename Dataset, typename Batch, typename Request>
class Prefetcher {
 public:
  Prefetcher(const Dataset& dataset, size_t workers,
             std::optional<std::chrono::milliseconds> timeout)
      : timeout_(timeout) {
    threads_.reserve(workers);
    for (size_t w = 0; w < workers; ++w)
      threads_.emplace_back([this, copy = dataset]() mutable { work(copy); });
  }
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    jobs_ready_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Queues the fetch of one batch.
  void submit(Request request) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.emplace_back(next_submit_++, std::move(request));
    }
    jobs_ready_.notify_one();
  }

  // Batches submitted and not yet returned by next().
  size_t in_flight() const { return static_cast<size_t>(next_submit_ - next_deliver_); }

  // The batch of the oldest request not yet returned (waits for it).
  Batch next() {
    MINIDL_CHECK(in_flight() > 0, "DataLoader", "no batch was requested");
    std::unique_lock<std::mutex> lock(mutex_);
    auto arrived = [this] { return results_.count(next_deliver_) != 0; };
    if (timeout_) {
      MINIDL_CHECK(
          results_ready_.wait_for(lock, *timeout_, arrived), "DataLoader",
          "no batch arrived from the workers within the timeout of " << timeout_->count() << " ms");
    } else {
      results_ready_.wait(lock, arrived);
    }
    auto node = results_.extract(next_deliver_++);
    lock.unlock();
    if (node.mapped().error) std::rethrow_exception(node.mapped().error);
    return std::move(*node.mapped().batch);
  }

  // Waits for every submitted batch and drops them (a new epoch starts).
  void discard_in_flight() {
    std::unique_lock<std::mutex> lock(mutex_);
    results_ready_.wait(lock, [this] { return results_.size() == in_flight(); });
    results_.clear();
    next_deliver_ = next_submit_;
  }

 private:
  struct Result {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  void work(Dataset& dataset) {
    while (true) {
      std::pair<uint64_t, Request> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        jobs_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      Result result;
      try {
        result.batch.emplace(dataset.get_batch(std::move(job.second)));
      } catch (...) {
        result.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        results_.emplace(job.first, std::move(result));
      }
      results_ready_.notify_all();
    }
  }

  std::optional<std::chrono::milliseconds> timeout_;
  std::mutex mutex_;
  std::condition_variable jobs_ready_, results_ready_;
  std::deque<std::pair<uint64_t, Request>> jobs_;
  std::map<uint64_t, Result> results_;  // by submission number
  uint64_t next_submit_ = 0, next_deliver_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace minidl::data::detail
