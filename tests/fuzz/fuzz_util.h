// Shared by the libFuzzer harnesses (`make fuzz`): the readers take paths, so each input is
// written to a scratch file first. A harness passes when the code under test either succeeds or
// throws minidl::Error; anything else -- a crash, a sanitizer report, another exception type, a
// hang, an allocation far beyond the input -- is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "core/error.h"

namespace minidl::fuzz {

// A file of this process holding exactly `data` (rewritten for every input).
inline const std::string& write_input(const uint8_t* data, size_t size, const char* suffix) {
  static const std::string path = [suffix] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/minidl-fuzz-" + std::to_string(getpid()) +
           suffix;
  }();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Runs `body`, accepting minidl::Error (the documented way to refuse bad input).
template <typename F>
void expect_success_or_error(F&& body) {
  try {
    body();
  } catch (const minidl::Error&) {
  }
}

}  // namespace minidl::fuzz
