// ArrayRef<T>: a non-owning view of contiguous elements (c10::ArrayRef's name and shape), so an
// API can take a std::vector, a braced list or a single value without copying:
//
//   void f(ArrayRef<double> values);
//   f(0.5);  f({0.5, 0.25});  f(std::vector<double>{...});
//
// The viewed elements must outlive the ArrayRef: keep one as a parameter, not as a member (a
// braced list or a single temporary lives only until the end of the full expression).
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <ostream>
#include <vector>

#include "core/error.h"

namespace minidl {

// A non-owning (pointer, length) view, see above.
template <typename T>
class ArrayRef {
 public:
  using value_type = T;
  using iterator = const T*;
  using const_iterator = const T*;
  using size_type = size_t;

  constexpr ArrayRef() = default;
  // One element.
  constexpr ArrayRef(const T& one) : data_(&one), length_(1) {}  // NOLINT: implicit, as c10's
  constexpr ArrayRef(const T* data, size_t length) : data_(data), length_(length) {}
  constexpr ArrayRef(const T* begin, const T* end)
      : data_(begin), length_(static_cast<size_t>(end - begin)) {}
  template <typename Allocator>
  ArrayRef(const std::vector<T, Allocator>& values)  // NOLINT: implicit, as c10's
      : data_(values.data()), length_(values.size()) {}
  template <size_t N>
  constexpr ArrayRef(const std::array<T, N>& values)  // NOLINT: implicit, as c10's
      : data_(values.data()), length_(N) {}
  // The list's elements live until the end of the full expression that holds the braces.
  constexpr ArrayRef(const std::initializer_list<T>& values)  // NOLINT: implicit, as c10's
      : data_(std::data(values)), length_(values.size()) {}

  constexpr const T* begin() const { return data_; }
  constexpr const T* end() const { return data_ + length_; }
  constexpr const T* data() const { return data_; }
  constexpr size_t size() const { return length_; }
  constexpr bool empty() const { return length_ == 0; }
  constexpr const T& operator[](size_t index) const { return data_[index]; }
  // Bounds-checked access.
  const T& at(size_t index) const {
    MINIDL_CHECK(index < length_, "ArrayRef::at",
                 "index " << index << " is out of range for " << length_ << " elements");
    return data_[index];
  }
  const T& front() const { return at(0); }
  const T& back() const {
    MINIDL_CHECK(length_ > 0, "ArrayRef::back", "the ArrayRef is empty");
    return data_[length_ - 1];
  }
  bool equals(ArrayRef other) const {
    if (length_ != other.length_) return false;
    for (size_t i = 0; i < length_; ++i)
      if (!(data_[i] == other.data_[i])) return false;
    return true;
  }
  // A copy of the elements.
  std::vector<T> vec() const { return std::vector<T>(begin(), end()); }
  // So `zeros(t.sizes())` and `Shape s = t.sizes()` work (c10's ArrayRef converts too).
  operator std::vector<T>() const { return vec(); }  // NOLINT: implicit

 private:
  const T* data_ = nullptr;
  size_t length_ = 0;
};

// Elementwise equality, also against a vector (t.sizes() == other.sizes(), == Shape{2, 3}).
template <typename T>
bool operator==(ArrayRef<T> a, ArrayRef<T> b) {
  return a.equals(b);
}
template <typename T>
bool operator!=(ArrayRef<T> a, ArrayRef<T> b) {
  return !a.equals(b);
}
template <typename T>
bool operator==(ArrayRef<T> a, const std::vector<T>& b) {
  return a.equals(b);
}
template <typename T>
bool operator!=(ArrayRef<T> a, const std::vector<T>& b) {
  return !a.equals(b);
}
template <typename T>
bool operator==(const std::vector<T>& a, ArrayRef<T> b) {
  return b.equals(a);
}
template <typename T>
bool operator!=(const std::vector<T>& a, ArrayRef<T> b) {
  return !b.equals(a);
}

// "[2, 3]", as libtorch prints sizes.
template <typename T>
std::ostream& operator<<(std::ostream& os, ArrayRef<T> values) {
  os << '[';
  for (size_t i = 0; i < values.size(); ++i) os << (i ? ", " : "") << values[i];
  return os << ']';
}

// libtorch's name for the sizes / strides of a tensor.
using IntArrayRef = ArrayRef<int64_t>;

}  // namespace minidl
