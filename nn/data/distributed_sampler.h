// distributed::DistributedSampler: each rank's share of a dataset, as PyTorch's
// torch.utils.data.distributed.DistributedSampler (the libtorch-style DistributedRandomSampler
// of nn/data/samplers.h shuffles by the epoch alone and gives each rank a contiguous block).
//
//   distributed::DistributedSampler sampler(dataset.size().value(), distributed::world_size(),
//                                           distributed::rank(), /*shuffle=*/true, /*seed=*/0);
//   auto loader = data::make_data_loader(std::move(dataset), std::move(sampler), batch_size);
//   for (size_t epoch = 0; ...) { sampler.set_epoch(epoch); ... }   // (on the loader's copy)
//
// Every rank computes the same list: 0 .. size - 1, permuted by a Generator seeded with
// seed + epoch when shuffling; then either cut to a multiple of num_replicas (drop_last) or
// padded by repeating its own first indices (again and again if it is shorter than the padding).
// Rank r takes positions r, r + num_replicas, r + 2 num_replicas, ... So every rank gets the same
// count, num_samples(), and runs the same number of steps; and with batch B per rank, step s of
// all ranks together covers positions [s N B, (s + 1) N B) of the list -- the batch a single
// process with batch N B and the same list would see at step s.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "nn/data/samplers.h"

namespace minidl::distributed {

// Rank `rank`'s share of 0 .. size - 1 per epoch (a data::samplers::Sampler for the loaders).
class DistributedSampler : public data::samplers::Sampler<> {
 public:
  DistributedSampler(size_t size, size_t num_replicas, size_t rank, bool shuffle = true,
                     uint64_t seed = 0, bool drop_last = false);

  // The epoch the next reset() prepares: the shuffle is seeded with seed + epoch, so call it
  // with the same epoch on every rank before each epoch (otherwise every epoch has one order).
  void set_epoch(uint64_t epoch);
  uint64_t epoch() const { return epoch_; }
  // How many indices each rank gets per epoch.
  size_t num_samples() const { return num_samples_; }
  // This rank's indices for the current epoch, in order.
  const std::vector<size_t>& indices() const { return indices_; }

  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;

 private:
  void build();

  size_t size_, num_replicas_, rank_;
  bool shuffle_;
  uint64_t seed_, epoch_ = 0;
  bool drop_last_;
  size_t num_samples_ = 0, position_ = 0;
  std::vector<size_t> indices_;
};

}  // namespace minidl::distributed
