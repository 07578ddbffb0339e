#include "nn/data/samplers.h"

#include <algorithm>
#include <numeric>

#include "core/factories.h"
#include "core/generator.h"

namespace minidl::data::samplers {

namespace {

void check_batch_size(size_t batch_size, const char* sampler) {
  MINIDL_CHECK(batch_size > 0, sampler, "next: batch_size must be positive, got 0");
}

// A random permutation of 0 .. size - 1 from the default generator.
std::vector<size_t> random_permutation(size_t size) {
  const std::vector<int64_t> permutation =
      randperm(static_cast<int64_t>(size)).to_vector<int64_t>();
  return std::vector<size_t>(permutation.begin(), permutation.end());
}

// Indices [begin, begin + min(batch_size, end - begin)) of `indices`, or nullopt at the end.
std::optional<std::vector<size_t>> take(const std::vector<size_t>& indices, size_t& position,
                                        size_t end, size_t batch_size) {
  if (position >= end) return std::nullopt;
  const size_t count = std::min(batch_size, end - position);
  std::vector<size_t> batch(indices.begin() + static_cast<std::ptrdiff_t>(position),
                            indices.begin() + static_cast<std::ptrdiff_t>(position + count));
  position += count;
  return batch;
}

}  // namespace

// ---------------------------------------------------------------- SequentialSampler

SequentialSampler::SequentialSampler(size_t size) : size_(size) {}

void SequentialSampler::reset(std::optional<size_t> new_size) {
  if (new_size) size_ = *new_size;
  index_ = 0;
}

std::optional<std::vector<size_t>> SequentialSampler::next(size_t batch_size) {
  check_batch_size(batch_size, "SequentialSampler");
  if (index_ >= size_) return std::nullopt;
  std::vector<size_t> batch(std::min(batch_size, size_ - index_));
  std::iota(batch.begin(), batch.end(), index_);
  index_ += batch.size();
  return batch;
}

// ---------------------------------------------------------------- RandomSampler

RandomSampler::RandomSampler(int64_t size, DType index_dtype) {
  MINIDL_CHECK(size >= 0, "RandomSampler", "size must be non-negative, got " << size);
  MINIDL_CHECK(index_dtype == kInt64, "RandomSampler",
               "index_dtype must be int64 (minidl's integer dtype), got " << index_dtype);
  indices_ = random_permutation(static_cast<size_t>(size));
}

void RandomSampler::reset(std::optional<size_t> new_size) {
  indices_ = random_permutation(new_size.value_or(indices_.size()));
  index_ = 0;
}

std::optional<std::vector<size_t>> RandomSampler::next(size_t batch_size) {
  check_batch_size(batch_size, "RandomSampler");
  return take(indices_, index_, indices_.size(), batch_size);
}

// ---------------------------------------------------------------- DistributedRandomSampler

DistributedRandomSampler::DistributedRandomSampler(size_t size, size_t num_replicas, size_t rank,
                                                   bool allow_duplicates)
    : DistributedSampler(size, num_replicas, rank, allow_duplicates) {
  populate_indices();
  reset(std::nullopt);
}

// All replicas hold the same list: 0 .. size - 1, then (with duplicates) the first indices
// again until it divides evenly; replica r serves positions [r * local, (r + 1) * local).
void DistributedRandomSampler::populate_indices() {
  const size_t local = local_sample_count();
  const size_t total = std::max(size_, local * num_replicas_);
  all_indices_.assign(total, 0);  // filled by reset()
  begin_index_ = rank_ * local;
  end_index_ = begin_index_ + local;
  sample_index_ = begin_index_;
}

void DistributedRandomSampler::reset(std::optional<size_t> new_size) {
  if (new_size && *new_size != size_) {
    size_ = *new_size;
    populate_indices();
  }
  // Fisher-Yates with a generator seeded by the epoch: the same order on every replica.
  std::iota(all_indices_.begin(), all_indices_.begin() + static_cast<std::ptrdiff_t>(size_),
            size_t{0});
  Generator generator(epoch_);
  for (size_t i = size_; i > 1; --i)
    std::swap(all_indices_[i - 1],
              all_indices_[static_cast<size_t>(generator.randint(0, static_cast<int64_t>(i)))]);
  for (size_t i = size_; i < all_indices_.size(); ++i) all_indices_[i] = all_indices_[i - size_];
  sample_index_ = begin_index_;
}

std::optional<std::vector<size_t>> DistributedRandomSampler::next(size_t batch_size) {
  check_batch_size(batch_size, "DistributedRandomSampler");
  return take(all_indices_, sample_index_, end_index_, batch_size);
}

// ---------------------------------------------------------------- DistributedSequentialSampler

DistributedSequentialSampler::DistributedSequentialSampler(size_t size, size_t num_replicas,
                                                           size_t rank, bool allow_duplicates)
    : DistributedSampler(size, num_replicas, rank, allow_duplicates) {
  populate_indices();
}

void DistributedSequentialSampler::populate_indices() {
  begin_index_ = rank_ * local_sample_count();
  end_index_ = begin_index_ + local_sample_count();
  sample_index_ = begin_index_;
}

void DistributedSequentialSampler::reset(std::optional<size_t> new_size) {
  if (new_size && *new_size != size_) {
    size_ = *new_size;
    populate_indices();
  }
  sample_index_ = begin_index_;
}

std::optional<std::vector<size_t>> DistributedSequentialSampler::next(size_t batch_size) {
  check_batch_size(batch_size, "DistributedSequentialSampler");
  if (sample_index_ >= end_index_) return std::nullopt;
  std::vector<size_t> batch(std::min(batch_size, end_index_ - sample_index_));
  for (size_t i = 0; i < batch.size(); ++i) batch[i] = (sample_index_ + i) % size_;
  sample_index_ += batch.size();
  return batch;
}

}  // namespace minidl::data::samplers
