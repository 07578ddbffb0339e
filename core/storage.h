// Storage: one 64-byte aligned buffer, shared (through shared_ptr) by every view of it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minidl {

// A tensor's data buffer, with the version counter in-place writes bump.
struct Storage {
  // Allocates `nbytes` uninitialized bytes aligned to 64 (a cache line, and what AVX-512 loads
  // like; large blocks to a page); 0 bytes is allowed and gives a non-null, unusable pointer.
  // Small and large blocks are recycled (see storage.cpp).
  explicit Storage(size_t nbytes);
  // Wraps `nbytes` of memory the caller owns (from_blob): never freed here.
  Storage(void* external, size_t bytes) : data(external), nbytes(bytes), owned(false) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data = nullptr;
  size_t nbytes = 0;
  // Bumped by every in-place write through any view. The tape stores the value seen when it
  // saved a tensor for backward; a different value at backward time means the saved data is
  // gone and the gradient would be wrong, so backward raises instead.
  uint64_t version = 0;
  bool owned = true;  // false for memory wrapped by from_blob
};

// Freed storages of 64 KiB and more are kept for reuse (a training step allocates the same sizes
// every iteration); these return the kept memory to the system, and tell how much is kept.
void empty_cache();
size_t cached_bytes();

}  // namespace minidl
