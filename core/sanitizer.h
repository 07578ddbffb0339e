// Cooperation with AddressSanitizer (`make test-sanitize`, `make fuzz`).
//
// minidl recycles freed storages (core/storage.cpp). To ASan a recycled block is still
// allocated, so a read through a dangling pointer into it would go unseen. The storage caches
// therefore poison a block while it waits in a cache and unpoison it when it is handed out again:
// a use after free is reported as in an uncached build. In ordinary builds the macros are empty.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define MINIDL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MINIDL_ASAN 1
#endif
#endif

#ifdef MINIDL_ASAN
#include <sanitizer/asan_interface.h>
// From the sanitizer allocator's interface (GCC ships no header for it; libasan exports it).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace minidl::sanitizer {

// Marks [p, p + bytes) unreadable (poison) or readable again (unpoison).
inline void poison(const void* p, size_t bytes) {
#ifdef MINIDL_ASAN
  ASAN_POISON_MEMORY_REGION(p, bytes);
#else
  (void)p, (void)bytes;
#endif
}
inline void unpoison(const void* p, size_t bytes) {
#ifdef MINIDL_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, bytes);
#else
  (void)p, (void)bytes;
#endif
}

// True in an ASan build, where freed memory sits in a quarantine and the resident set size says
// nothing about leaks; `heap_bytes_in_use` then counts live heap allocations instead.
constexpr bool address_sanitizer() {
#ifdef MINIDL_ASAN
  return true;
#else
  return false;
#endif
}
inline size_t heap_bytes_in_use() {
#ifdef MINIDL_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  return 0;
#endif
}

}  // namespace minidl::sanitizer
