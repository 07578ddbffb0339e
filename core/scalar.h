// Scalar: one number of any minidl dtype, what libtorch's Tensor::item() returns
// (`loss.item().toFloat()`). It remembers whether it holds a floating, integral or bool value,
// so an int64 keeps all its digits.
//
// Unlike c10::Scalar it also converts implicitly to double: minidl code written before Scalar
// used `t.item()` as a double, and `t.item() < 0.5` keeps working.
#pragma once

#include <cstdint>
#include <ostream>
#include <type_traits>

#include "core/dtype.h"

namespace minidl {

// A float64, int64 or bool value (see above).
class Scalar {
 public:
  Scalar() = default;                                           // 0 (int64)
  Scalar(double v) : type_(DType::Float64), floating_(v) {}     // NOLINT: implicit
  Scalar(float v) : type_(DType::Float64), floating_(v) {}      // NOLINT
  Scalar(int64_t v) : type_(DType::Int64), integral_(v) {}      // NOLINT
  Scalar(int v) : type_(DType::Int64), integral_(v) {}          // NOLINT
  Scalar(bool v) : type_(DType::Bool), integral_(v ? 1 : 0) {}  // NOLINT

  // The value converted as a tensor element would be (convert_element: floats to integers
  // truncate toward zero, saturating).
  template <typename T>
  T to() const {
    if (type_ == DType::Float64) return convert_element<T>(floating_);
    if (type_ == DType::Bool) return convert_element<T>(integral_ != 0);
    return convert_element<T>(integral_);
  }
  double toDouble() const { return to<double>(); }
  float toFloat() const { return to<float>(); }
  int64_t toLong() const { return to<int64_t>(); }
  int toInt() const { return static_cast<int>(to<int64_t>()); }
  bool toBool() const { return to<bool>(); }

  bool isFloatingPoint() const { return type_ == DType::Float64; }
  // int64 (or bool too, with include_bool).
  bool isIntegral(bool include_bool) const {
    return type_ == DType::Int64 || (include_bool && type_ == DType::Bool);
  }
  bool isBoolean() const { return type_ == DType::Bool; }
  // Float64, Int64 or Bool: the widest dtype of the held kind.
  DType type() const { return type_; }

  operator double() const { return toDouble(); }  // NOLINT: implicit, see the header comment

 private:
  DType type_ = DType::Int64;
  double floating_ = 0.0;
  int64_t integral_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Scalar& s) {
  if (s.isBoolean()) return os << (s.toBool() ? "true" : "false");
  if (s.isIntegral(false)) return os << s.toLong();
  return os << s.toDouble();
}

}  // namespace minidl
