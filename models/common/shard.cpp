// The parts of a batch each process computes (models/common/shard.h).
#include "models/common/shard.h"

#include "core/error.h"

namespace minidl::models {

ShardPart shard_part(const Shard& shard, int64_t n) {
  MINIDL_CHECK(shard.world >= 1 && shard.rank >= 0 && shard.rank < shard.world, "shard_part",
               "rank " << shard.rank << " is not in a world of " << shard.world << " processes");
  MINIDL_CHECK(n >= 1, "shard_part", "a batch of " << n << " items cannot be shared out");
  // The first n % world ranks get one item more: part r starts at r * base + min(r, extra).
  const int64_t base = n / shard.world, extra = n % shard.world;
  auto start = [&](int64_t r) { return r * base + (r < extra ? r : extra); };
  ShardPart part;
  part.begin = start(shard.rank);
  part.end = start(shard.rank + 1);
  if (part.begin == part.end) return ShardPart{n - 1, n, 0.0};
  part.weight = static_cast<double>(shard.world * (part.end - part.begin)) / static_cast<double>(n);
  return part;
}

}  // namespace minidl::models
