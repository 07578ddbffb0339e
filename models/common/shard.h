// Data parallelism inside a task: which part of every batch (and of every evaluation) this
// process computes when N processes train one model (build/train under mpirun, with
// DistributedDataParallel averaging the gradients; docs/distributed.md).
//
// A batch of n items is cut into N contiguous parts in rank order, their sizes differing by at
// most one (earlier ranks get the extra items): with n = 10 and N = 4 the parts are [0, 3),
// [3, 6), [6, 8), [8, 10). Rank r computes the mean loss of its part times
//   weight_r = N * size_r / n,
// so that DistributedDataParallel's mean over the ranks of the gradients is
//   (1/N) sum_r weight_r * grad(mean over part r) = (1/n) sum over all n items of grad(loss_i),
// the gradient of the whole batch's mean loss -- the same step a single process takes with the
// whole batch, also when n does not divide evenly.
#pragma once

#include <cstdint>

namespace minidl::models {

// This process's place among the processes training one model: rank in [0, world).
struct Shard {
  int64_t rank = 0;
  int64_t world = 1;
};

// One process's part of n items (see the file comment): the range [begin, end) and its weight.
// A part that would be empty (n < world) is the last item with weight 0, so that rank still
// computes a loss -- times 0 -- and its backward reaches the same parameters as everyone's.
struct ShardPart {
  int64_t begin = 0, end = 0;
  double weight = 1;
  // The items this part really counts (0 for the weight-0 stand-in).
  int64_t items() const { return weight == 0 ? 0 : end - begin; }
};

// shard's part of n >= 1 items; an error names a rank outside [0, world) or n < 1.
ShardPart shard_part(const Shard& shard, int64_t n);

// shard's part of the n >= 0 examples of an evaluation: the same ranges as shard_part, except
// that a part that would be empty stays empty (begin == end == n, weight 0) -- an evaluation has
// no backward that every rank must take part in, so a rank without examples sums nothing.
ShardPart shard_evaluation_part(const Shard& shard, int64_t n);

}  // namespace minidl::models
