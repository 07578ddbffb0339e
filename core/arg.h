// MINIDL_ARG: one named option of a builder-style options struct, as libtorch's TORCH_ARG.
//
//   struct Conv2dOptions {
//     Conv2dOptions(int64_t in, int64_t out, ExpandingArray k) : in_channels_(in), ... {}
//     MINIDL_ARG(int64_t, in_channels);
//     MINIDL_ARG(ExpandingArray, stride) = 1;   // the default follows the macro
//   };
//   auto o = Conv2dOptions(1, 10, 5).stride(2);   // setters return *this, so calls chain
//   o.stride();                                    // the getter, by const reference
//   o.stride() = 3;                                // or by reference, to change it in place
//
// The value lives in a member named `name_` (public, as in libtorch, so aggregate-style code and
// the struct's own constructors can set it directly).
#pragma once

#include <utility>

#define MINIDL_ARG(T, name)                        \
 public:                                           \
  auto name(const T& new_value)->decltype(*this) { \
    this->name##_ = new_value;                     \
    return *this;                                  \
  }                                                \
  auto name(T&& new_value)->decltype(*this) {      \
    this->name##_ = std::move(new_value);          \
    return *this;                                  \
  }                                                \
  const T& name() const noexcept {                 \
    return this->name##_;                          \
  }                                                \
  T& name() noexcept {                             \
    return this->name##_;                          \
  }                                                \
  T name##_
