#include "core/storage.h"

#include <cstdlib>
#include <new>

#include "core/error.h"

namespace minidl {

Storage::Storage(size_t bytes) : nbytes(bytes) {
  // aligned_alloc needs a size that is a multiple of the alignment.
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  data = std::aligned_alloc(64, rounded);
  MINIDL_CHECK(data != nullptr, "Storage", "cannot allocate " << bytes << " bytes");
}

Storage::~Storage() { std::free(data); }

}  // namespace minidl
