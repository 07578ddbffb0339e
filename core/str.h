// str(a, b, ...): the arguments streamed into one string (libtorch's c10::str / torch::str).
//   str("sample-", 3, ".pt") == "sample-3.pt"
#pragma once

#include <sstream>
#include <string>

namespace minidl {

// The arguments, each written with operator<<, concatenated.
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream out;
  if constexpr (sizeof...(args) > 0) (out << ... << args);
  return out.str();
}

}  // namespace minidl
