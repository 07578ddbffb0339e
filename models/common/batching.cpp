// Length-bucketed batching (models/common/batching.h).
#include "models/common/batching.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.h"

namespace minidl::models {

std::vector<std::vector<int64_t>> length_bucketed_batches(const std::vector<int64_t>& lengths,
                                                          int64_t batch_size, uint64_t seed,
                                                          int64_t epoch) {
  MINIDL_CHECK(batch_size >= 1, "length_bucketed_batches",
               "batch_size must be positive, got " << batch_size);
  std::vector<int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  // Fisher-Yates from a generator seeded by (seed, epoch): the same order in every run.
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 1);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  const size_t size = static_cast<size_t>(batch_size), chunk = size * 32;
  std::vector<std::vector<int64_t>> batches;
  for (size_t first = 0; first < order.size(); first += chunk) {
    const size_t last = std::min(order.size(), first + chunk);
    std::stable_sort(order.begin() + first, order.begin() + last,
                     [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });
    for (size_t b = first; b < last; b += size)
      batches.emplace_back(order.begin() + b, order.begin() + std::min(last, b + size));
  }
  for (size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[rng() % i]);
  return batches;
}

}  // namespace minidl::models
