#include "core/storage.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "core/sanitizer.h"

namespace minidl {

namespace {

// ---------------------------------------------------------------- tiny blocks

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

// ---------------------------------------------------------------- large blocks

// Large storages are cached by size. A training step frees and re-allocates the same sizes
// every iteration; handing them back to the system (glibc trims and unmaps freed memory) makes
// the next step page-fault every 4 KiB it touches again -- measured at 20-40% of an MLP or CNN
// step. Blocks from 64 KiB up are rounded to whole pages and kept, up to kLargeCacheLimit bytes
// in all; empty_cache() returns them.
constexpr size_t kLargeBlock = 64 * 1024;
constexpr size_t kPage = 4096;
constexpr size_t kLargeCacheLimit = size_t{1} << 30;

struct LargeBlockCache {
  std::mutex mutex;
  std::multimap<size_t, void*> blocks;  // rounded size -> block
  size_t cached_bytes = 0;
  ~LargeBlockCache() { release(); }
  void release() {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto& [size, p] : blocks) std::free(p);
    blocks.clear();
    cached_bytes = 0;
  }
};

// Leaked on purpose: Storages destroyed during static destruction may still return blocks.
LargeBlockCache& large_blocks() {
  static LargeBlockCache* cache = new LargeBlockCache();
  return *cache;
}

size_t rounded_size(size_t bytes) {
  if (bytes >= kLargeBlock) return (bytes + kPage - 1) / kPage * kPage;
  size_t rounded = (bytes + 63) / 64 * 64;  // aligned_alloc needs a multiple of the alignment
  return rounded == 0 ? 64 : rounded;
}

}  // namespace

Storage::Storage(size_t bytes) : nbytes(bytes) {
  // Far beyond any memory, and rounding it up to whole pages could wrap around.
  MINIDL_CHECK(bytes <= (size_t{1} << 62), "Storage",
               "cannot allocate " << bytes << " bytes (more than any machine's memory)");
  const size_t rounded = rounded_size(bytes);
  if (rounded == kSmallBlock && !small_blocks_gone && !small_blocks.blocks.empty()) {
    data = small_blocks.blocks.back();
    small_blocks.blocks.pop_back();
    sanitizer::unpoison(data, kSmallBlock);
    return;
  }
  if (rounded >= kLargeBlock) {
    LargeBlockCache& cache = large_blocks();
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.blocks.find(rounded);
    if (it != cache.blocks.end()) {
      data = it->second;
      cache.cached_bytes -= rounded;
      cache.blocks.erase(it);
      sanitizer::unpoison(data, rounded);
      return;
    }
  }
  data = std::aligned_alloc(rounded >= kLargeBlock ? kPage : 64, rounded);
  MINIDL_CHECK(data != nullptr, "Storage", "cannot allocate " << bytes << " bytes");
}

Storage::~Storage() {
  if (!owned) return;  // the caller's memory (from_blob)
  const size_t rounded = rounded_size(nbytes);
  if (rounded == kSmallBlock && !small_blocks_gone &&
      small_blocks.blocks.size() < kMaxCachedBlocks) {
    small_blocks.blocks.push_back(data);  // any thread may reuse a block another one freed
    sanitizer::poison(data, kSmallBlock);
    return;
  }
  if (rounded >= kLargeBlock) {
    LargeBlockCache& cache = large_blocks();
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (cache.cached_bytes + rounded <= kLargeCacheLimit) {
      cache.blocks.emplace(rounded, data);
      cache.cached_bytes += rounded;
      sanitizer::poison(data, rounded);
      return;
    }
  }
  std::free(data);
}

void empty_cache() {
  large_blocks().release();
}

size_t cached_bytes() {
  LargeBlockCache& cache = large_blocks();
  std::lock_guard<std::mutex> lock(cache.mutex);
  return cache.cached_bytes;
}

}  // namespace minidl
