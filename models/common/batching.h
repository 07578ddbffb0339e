// Length-bucketed batches for variable-length training examples: little padding, yet a
// different, seeded mix of batches every epoch.
#pragma once

#include <cstdint>
#include <vector>

namespace minidl::models {

// The example indices 0..lengths.size()-1 shuffled by a generator seeded from (seed, epoch),
// cut into chunks of 32 batches, each chunk sorted by length (stable) and cut into batches of
// batch_size (the last of a chunk may be smaller); the batches are then shuffled. The same
// arguments give the same batches.
std::vector<std::vector<int64_t>> length_bucketed_batches(const std::vector<int64_t>& lengths,
                                                          int64_t batch_size, uint64_t seed,
                                                          int64_t epoch);

}  // namespace minidl::models
