// Samplers: which dataset indices go into each batch, in libtorch's torch::data::samplers names.
//
//   data::samplers::SequentialSampler sampler(10);
//   while (auto indices = sampler.next(4)) ...   // {0,1,2,3}, {4,5,6,7}, {8,9}, then nullopt
//   sampler.reset();                             // a new epoch
//
// A loader calls reset() at the start of every epoch, then next(batch_size) until it returns
// nullopt; the last batch may be short. RandomSampler draws its permutation from minidl's
// default generator (a new one at construction and at every reset), so manual_seed(s) makes the
// order reproducible. The distributed samplers give replica `rank` of `num_replicas` its share.
// (libtorch's samplers also save/load their state through serialize archives; these do not.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"

namespace minidl::data::samplers {

// The sampler interface: reset(new_size) starts an epoch, next(n) returns up to n indices.
template <typename BatchRequest = std::vector<size_t>>
class Sampler {
 public:
  using BatchRequestType = BatchRequest;

  virtual ~Sampler() = default;
  // Starts over (a new epoch), with a new dataset size if given.
  virtual void reset(std::optional<size_t> new_size) = 0;
  // The next batch of at most batch_size indices, or nullopt when the epoch is done.
  virtual std::optional<BatchRequest> next(size_t batch_size) = 0;
};

// 0, 1, ..., size - 1 in order.
class SequentialSampler : public Sampler<> {
 public:
  explicit SequentialSampler(size_t size);
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  // How many indices this epoch has served so far.
  size_t index() const noexcept { return index_; }

 private:
  size_t size_;
  size_t index_ = 0;
};

// A random permutation of 0 .. size - 1 per epoch, from the default generator. index_dtype
// is the dtype libtorch stores the permutation in; minidl's only integer dtype is int64.
class RandomSampler : public Sampler<> {
 public:
  explicit RandomSampler(int64_t size, DType index_dtype = kInt64);
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  size_t index() const noexcept { return index_; }

 private:
  std::vector<size_t> indices_;
  size_t index_ = 0;
};

// The base of the distributed samplers: replica `rank` of `num_replicas` gets
// local_sample_count() indices per epoch -- ceil(size / num_replicas) with allow_duplicates
// (the indices wrap around to fill the last replica), floor(size / num_replicas) without.
template <typename BatchRequest = std::vector<size_t>>
class DistributedSampler : public Sampler<BatchRequest> {
 public:
  DistributedSampler(size_t size, size_t num_replicas = 1, size_t rank = 0,
                     bool allow_duplicates = true)
      : size_(size), num_replicas_(num_replicas), rank_(rank), allow_duplicates_(allow_duplicates) {
    MINIDL_CHECK(num_replicas > 0, "DistributedSampler", "num_replicas must be positive");
    MINIDL_CHECK(rank < num_replicas, "DistributedSampler",
                 "rank " << rank << " is out of range for " << num_replicas << " replicas");
  }

  // The epoch the next reset() prepares (it seeds DistributedRandomSampler's shuffle).
  void set_epoch(size_t epoch) { epoch_ = epoch; }
  size_t epoch() const { return epoch_; }

 protected:
  size_t local_sample_count() const {
    return allow_duplicates_ ? (size_ + num_replicas_ - 1) / num_replicas_ : size_ / num_replicas_;
  }

  size_t size_, num_replicas_, rank_;
  size_t epoch_ = 0;
  bool allow_duplicates_;
};

// This replica's share of a permutation of 0 .. size - 1 that all replicas agree on: it is
// seeded by the epoch alone, so set_epoch(e) before reset() gives every replica epoch e's order.
class DistributedRandomSampler : public DistributedSampler<> {
 public:
  explicit DistributedRandomSampler(size_t size, size_t num_replicas = 1, size_t rank = 0,
                                    bool allow_duplicates = true);
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  size_t index() const noexcept { return sample_index_ - begin_index_; }

 private:
  void populate_indices();
  std::vector<size_t> all_indices_;
  size_t begin_index_ = 0, end_index_ = 0, sample_index_ = 0;
};

// This replica's contiguous share of 0 .. size - 1, in order.
class DistributedSequentialSampler : public DistributedSampler<> {
 public:
  explicit DistributedSequentialSampler(size_t size, size_t num_replicas = 1, size_t rank = 0,
                                        bool allow_duplicates = true);
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  size_t index() const noexcept { return sample_index_ - begin_index_; }

 private:
  void populate_indices();
  size_t begin_index_ = 0, end_index_ = 0, sample_index_ = 0;
};

}  // namespace minidl::data::samplers
