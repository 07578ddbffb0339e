// Element types and the one place where a runtime dtype becomes a C++ type.
//
// float32 is for models, float64 for gradient checks, int64 for indices and labels, bool for
// masks and comparisons. Kernels are templates over the C++ type; MINIDL_DISPATCH_* below turn a
// DType into `scalar_t` and run the body once for the matching instantiation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <type_traits>

#include "core/error.h"

namespace minidl {

enum class DType : uint8_t { Float32, Float64, Int64, Bool };

// libtorch spellings, so `minidl::kFloat32` reads like `torch::kFloat32`.
constexpr DType kFloat32 = DType::Float32;
constexpr DType kFloat = DType::Float32;
constexpr DType kFloat64 = DType::Float64;
constexpr DType kDouble = DType::Float64;
constexpr DType kInt64 = DType::Int64;
constexpr DType kLong = DType::Int64;
constexpr DType kBool = DType::Bool;

// libtorch dtypes minidl does not have. The names exist so that a libtorch program compiles;
// a tensor of one cannot be made: factories and to() given one throw an Error naming it. They
// compare unequal to every DType.
struct UnsupportedDType {
  const char* name;
};
constexpr UnsupportedDType kInt32{"int32"};
constexpr UnsupportedDType kInt{"int32"};
constexpr UnsupportedDType kInt16{"int16"};
constexpr UnsupportedDType kShort{"int16"};
constexpr UnsupportedDType kInt8{"int8"};
constexpr UnsupportedDType kChar{"int8"};
constexpr UnsupportedDType kUInt8{"uint8"};
constexpr UnsupportedDType kByte{"uint8"};
constexpr UnsupportedDType kFloat16{"float16"};
constexpr UnsupportedDType kHalf{"float16"};
constexpr UnsupportedDType kBFloat16{"bfloat16"};
constexpr bool operator==(DType, UnsupportedDType) {
  return false;
}
constexpr bool operator!=(DType, UnsupportedDType) {
  return true;
}
constexpr bool operator==(UnsupportedDType, DType) {
  return false;
}
constexpr bool operator!=(UnsupportedDType, DType) {
  return true;
}

// Bytes per element: 4 float32, 8 float64 and int64, 1 bool.
inline size_t element_size(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return 4;
    case DType::Float64:
      return 8;
    case DType::Int64:
      return 8;
    case DType::Bool:
      return 1;
  }
  return 0;
}

// "float32", "float64", "int64" or "bool".
inline const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return "float32";
    case DType::Float64:
      return "float64";
    case DType::Int64:
      return "int64";
    case DType::Bool:
      return "bool";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, DType dtype) {
  return os << dtype_name(dtype);
}

// float32 or float64.
inline bool is_floating_point(DType dtype) {
  return dtype == DType::Float32 || dtype == DType::Float64;
}

// The dtype of a binary op's result: bool < int64 < float32 < float64 (PyTorch's promotion for
// the dtypes we have).
inline DType promote_types(DType a, DType b) {
  auto rank = [](DType d) {
    switch (d) {
      case DType::Bool:
        return 0;
      case DType::Int64:
        return 1;
      case DType::Float32:
        return 2;
      case DType::Float64:
        return 3;
    }
    return 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

// dtype_of<T>::value: the DType of C++ element type T (float, double, int64_t, bool).
template <typename T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::Float64;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::Int64;
};
template <>
struct dtype_of<bool> {
  static constexpr DType value = DType::Bool;
};

// Element conversion with defined results everywhere: a floating value converted to int64 is
// truncated toward zero, saturated at the int64 range, and NaN becomes 0 (a plain static_cast is
// undefined behaviour there); anything to bool is `value != 0`.
template <typename D, typename S>
inline D convert_element(S value) {
  if constexpr (std::is_same<D, bool>::value) {
    return value != S(0);
  } else if constexpr (std::is_integral<D>::value && std::is_floating_point<S>::value) {
    if (!(value == value)) return 0;
    constexpr double kLimit = 9223372036854775808.0;  // 2^63
    if (value >= S(kLimit)) return std::numeric_limits<D>::max();
    if (value <= S(-kLimit)) return std::numeric_limits<D>::min();
    return static_cast<D>(value);
  } else {
    return static_cast<D>(value);
  }
}

}  // namespace minidl

// MINIDL_DISPATCH_FLOATING(dtype, "op", { body using scalar_t; })
#define MINIDL_DISPATCH_CASE_(enum_value, type, ...) \
  case enum_value: {                                 \
    using scalar_t = type;                           \
    __VA_ARGS__;                                     \
    break;                                           \
  }

#define MINIDL_DISPATCH_FLOATING(dtype, op, ...)                                      \
  do {                                                                                \
    switch (dtype) {                                                                  \
      MINIDL_DISPATCH_CASE_(::minidl::DType::Float32, float, __VA_ARGS__)             \
      MINIDL_DISPATCH_CASE_(::minidl::DType::Float64, double, __VA_ARGS__)            \
      default:                                                                        \
        MINIDL_FAIL(op, "expected a floating-point tensor (float32 or float64), got " \
                            << ::minidl::dtype_name(dtype));                          \
    }                                                                                 \
  } while (0)

#define MINIDL_DISPATCH_NUMERIC(dtype, op, ...)                                       \
  do {                                                                                \
    switch (dtype) {                                                                  \
      MINIDL_DISPATCH_CASE_(::minidl::DType::Float32, float, __VA_ARGS__)             \
      MINIDL_DISPATCH_CASE_(::minidl::DType::Float64, double, __VA_ARGS__)            \
      MINIDL_DISPATCH_CASE_(::minidl::DType::Int64, int64_t, __VA_ARGS__)             \
      default:                                                                        \
        MINIDL_FAIL(op, "expected a numeric tensor (float32, float64 or int64), got " \
                            << ::minidl::dtype_name(dtype));                          \
    }                                                                                 \
  } while (0)

#define MINIDL_DISPATCH_ALL(dtype, op, ...)                                \
  do {                                                                     \
    switch (dtype) {                                                       \
      MINIDL_DISPATCH_CASE_(::minidl::DType::Float32, float, __VA_ARGS__)  \
      MINIDL_DISPATCH_CASE_(::minidl::DType::Float64, double, __VA_ARGS__) \
      MINIDL_DISPATCH_CASE_(::minidl::DType::Int64, int64_t, __VA_ARGS__)  \
      MINIDL_DISPATCH_CASE_(::minidl::DType::Bool, bool, __VA_ARGS__)      \
    }                                                                      \
  } while (0)
