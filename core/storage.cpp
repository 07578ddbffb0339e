#include "core/storage.h"

#include <cstdlib>
#include <vector>

#include "core/error.h"

namespace minidl {

namespace {

// Tiny storages (scalars, small vectors: up to one cache line) are recycled through a per-thread
// free list. aligned_alloc goes through glibc's memalign path, which costs more than the rest of
// a scalar op put together; a recycled block costs two vector operations.
constexpr size_t kSmallBlock = 64;
constexpr size_t kMaxCachedBlocks = 4096;

// Trivially destructible, so it can still be read while the thread (or the program) is tearing
// down its thread_local and static objects -- a static Tensor may outlive the cache.
thread_local bool small_blocks_gone = false;

struct SmallBlockCache {
  std::vector<void*> blocks;
  ~SmallBlockCache() {
    small_blocks_gone = true;
    for (void* p : blocks) std::free(p);
  }
};
thread_local SmallBlockCache small_blocks;

}  // namespace

Storage::Storage(size_t bytes) : nbytes(bytes) {
  // aligned_alloc needs a size that is a multiple of the alignment.
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  if (rounded == kSmallBlock && !small_blocks_gone && !small_blocks.blocks.empty()) {
    data = small_blocks.blocks.back();
    small_blocks.blocks.pop_back();
    return;
  }
  data = std::aligned_alloc(64, rounded);
  MINIDL_CHECK(data != nullptr, "Storage", "cannot allocate " << bytes << " bytes");
}

Storage::~Storage() {
  if (nbytes <= kSmallBlock && !small_blocks_gone &&
      small_blocks.blocks.size() < kMaxCachedBlocks) {
    small_blocks.blocks.push_back(data);  // any thread may reuse a block another one freed
    return;
  }
  std::free(data);
}

}  // namespace minidl
