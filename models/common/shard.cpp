// The parts of a batch each process computes (models/common/shard.h).
#include "models/common/shard.h"

#include "core/error.h"

namespace minidl::models {

namespace {

// Part shard.rank of n >= 0 items, possibly empty; `op` names the caller in errors.
ShardPart contiguous_part(const Shard& shard, int64_t n, const char* op) {
  MINIDL_CHECK(shard.world >= 1 && shard.rank >= 0 && shard.rank < shard.world, op,
               "rank " << shard.rank << " is not in a world of " << shard.world << " processes");
  // The first n % world ranks get one item more: part r starts at r * base + min(r, extra).
  const int64_t base = n / shard.world, extra = n % shard.world;
  auto start = [&](int64_t r) { return r * base + (r < extra ? r : extra); };
  ShardPart part;
  part.begin = start(shard.rank);
  part.end = start(shard.rank + 1);
  part.weight =
      n == 0 ? 0.0
             : static_cast<double>(shard.world * (part.end - part.begin)) / static_cast<double>(n);
  return part;
}

}  // namespace

ShardPart shard_part(const Shard& shard, int64_t n) {
  MINIDL_CHECK(n >= 1, "shard_part", "a batch of " << n << " items cannot be shared out");
  const ShardPart part = contiguous_part(shard, n, "shard_part");
  if (part.begin == part.end) return ShardPart{n - 1, n, 0.0};
  return part;
}

ShardPart shard_evaluation_part(const Shard& shard, int64_t n) {
  MINIDL_CHECK(n >= 0, "shard_evaluation_part", "an evaluation of " << n << " examples");
  return contiguous_part(shard, n, "shard_evaluation_part");
}

}  // namespace minidl::models
