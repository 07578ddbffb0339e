// minidl's single exception type and the check macro every op uses.
//
// Every message names the op and the shapes/dtypes/values at fault, e.g.
//   matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace minidl {

// What every check throws: "op: message" (see MINIDL_CHECK below).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace minidl

// MINIDL_CHECK(cond, "op", "message " << value << ...): throws minidl::Error("op: message ...").
// The message is a stream expression, built only when the check fails.
#define MINIDL_CHECK(cond, op, msg)                      \
  do {                                                   \
    if (!(cond)) {                                       \
      std::ostringstream minidl_check_stream_;           \
      minidl_check_stream_ << (op) << ": " << msg;       \
      throw ::minidl::Error(minidl_check_stream_.str()); \
    }                                                    \
  } while (0)

#define MINIDL_FAIL(op, msg) MINIDL_CHECK(false, op, msg)
