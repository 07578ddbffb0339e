// distributed::DistributedSampler (see distributed_sampler.h).
#include "nn/data/distributed_sampler.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/generator.h"

namespace minidl::distributed {

DistributedSampler::DistributedSampler(size_t size, size_t num_replicas, size_t rank, bool shuffle,
                                       uint64_t seed, bool drop_last)
    : size_(size),
      num_replicas_(num_replicas),
      rank_(rank),
      shuffle_(shuffle),
      seed_(seed),
      drop_last_(drop_last) {
  MINIDL_CHECK(num_replicas > 0, "DistributedSampler", "num_replicas must be positive");
  MINIDL_CHECK(rank < num_replicas, "DistributedSampler",
               "rank " << rank << " is out of range for " << num_replicas << " replicas");
  build();
}

void DistributedSampler::set_epoch(uint64_t epoch) {
  epoch_ = epoch;
  build();
}

void DistributedSampler::reset(std::optional<size_t> new_size) {
  if (new_size) size_ = *new_size;
  build();
}

// The list every rank agrees on, then this rank's stride through it.
void DistributedSampler::build() {
  std::vector<size_t> all(size_);
  std::iota(all.begin(), all.end(), size_t{0});
  if (shuffle_) {
    // Fisher-Yates with a private generator: the same order on every rank, whatever the global
    // generator has been used for.
    Generator generator(seed_ + epoch_);
    for (size_t i = size_; i > 1; --i)
      std::swap(all[i - 1],
                all[static_cast<size_t>(generator.randint(0, static_cast<int64_t>(i)))]);
  }
  if (drop_last_) {
    num_samples_ = size_ / num_replicas_;
  } else {
    num_samples_ = (size_ + num_replicas_ - 1) / num_replicas_;
  }
  const size_t total = num_samples_ * num_replicas_;
  if (all.size() > total) {
    all.resize(total);
  } else if (!all.empty()) {
    for (size_t i = size_; i < total; ++i)
      all.push_back(all[i - size_]);  // wraps as often as needed
  }
  indices_.clear();
  for (size_t i = rank_; i < all.size(); i += num_replicas_) indices_.push_back(all[i]);
  position_ = 0;
}

std::optional<std::vector<size_t>> DistributedSampler::next(size_t batch_size) {
  MINIDL_CHECK(batch_size > 0, "DistributedSampler", "batch_size must be positive");
  if (position_ >= indices_.size()) return std::nullopt;
  const size_t count = std::min(batch_size, indices_.size() - position_);
  std::vector<size_t> batch(indices_.begin() + static_cast<std::ptrdiff_t>(position_),
                            indices_.begin() + static_cast<std::ptrdiff_t>(position_ + count));
  position_ += count;
  return batch;
}

}  // namespace minidl::distributed
