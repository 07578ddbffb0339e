// Tensor factories, named and shaped like libtorch's (torch::zeros({2, 3}), torch::arange(5), ...).
// Floating factories default to float32; pass a dtype or TensorOptions to change it.
#pragma once

#include <initializer_list>
#include <type_traits>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"

namespace minidl {

// A tensor of `shape` filled with 0 / 1 / value; float32 unless options say otherwise.
Tensor zeros(const Shape& shape, TensorOptions options = {});
// (One integer size means a 1-d shape, as libtorch's IntArrayRef of one value -- zeros(5) is
// zeros({5}); see the templates below the declarations.)
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
// [0, end), [start, end) with step; int64 unless a floating dtype is asked for or any bound is
// fractional (as torch.arange).
Tensor arange(double end, TensorOptions options = {});
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});
Tensor arange(double start, double end, TensorOptions options);  // arange(0, 10, kFloat64)
// `steps` evenly spaced values from start to end inclusive.
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
// n x m identity (m = n by default).
Tensor eye(int64_t n, int64_t m = -1, TensorOptions options = {});
// Uniform [0, 1), standard normal, and uniform integers in [low, high), from `generator` (the
// default generator when null).
Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* generator = nullptr);
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* generator = nullptr);
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options = kInt64,
               Generator* generator = nullptr);
Tensor randint(int64_t high, const Shape& shape, TensorOptions options = kInt64,
               Generator* generator = nullptr);  // low = 0
// A random permutation of 0..n-1 (int64).
Tensor randperm(int64_t n, Generator* generator = nullptr);

// Tensors of t's shape; options without a dtype take t's (zeros_like(t, kInt64) or
// ones_like(t, dtype(kFloat64).requires_grad(true)), as libtorch's).
Tensor empty_like(const Tensor& t, TensorOptions options = {});
Tensor zeros_like(const Tensor& t, TensorOptions options = {});
Tensor ones_like(const Tensor& t, TensorOptions options = {});
Tensor full_like(const Tensor& t, double value, TensorOptions options = {});
Tensor rand_like(const Tensor& t, TensorOptions options = {});
Tensor randn_like(const Tensor& t, TensorOptions options = {});

// A tensor holding a copy of `values` with the given shape (numel must match). The dtype
// follows T (float -> float32, double -> float64, integers -> int64, bool -> bool) unless
// options say otherwise.
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options = {});

// Literals: tensor({1.0, 2.0}) is a 1-d float32 tensor (floating literals default to float32,
// as in PyTorch), tensor({1, 2}) an int64 one, tensor({{1., 2.}, {3., 4.}}) a 2x2 matrix.
template <typename T>
Tensor tensor(std::initializer_list<T> values, TensorOptions options = {});
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> rows, TensorOptions options = {});
// A 0-d tensor.
Tensor scalar_tensor(double value, TensorOptions options = {});

// A tensor viewing memory the caller owns, as libtorch's from_blob: nothing is copied and the
// memory is never freed by minidl, so it must outlive every tensor (and view) made from it --
// clone() for an owning copy. `data` holds elements of options' dtype (float32 by default) at
// the given strides (contiguous by default); it needs the alignment of that element type.
// Writes through the tensor change the caller's memory. With requires_grad the tensor is a leaf.
Tensor from_blob(void* data, const Shape& shape, TensorOptions options = {});
Tensor from_blob(void* data, const Shape& shape, const Shape& strides, TensorOptions options = {});

// A single integer size is a 1-d shape, as in libtorch (IntArrayRef converts from one value):
// zeros(5) == zeros({5}), randn(3, requires_grad()). Templates, so that a braced {} still means
// the 0-d shape and {5} the 1-d one, as before.
template <typename I>
using if_size_t = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, Tensor>;
// empty / zeros / ones / full / rand / randn of the 1-d shape [size].
template <typename I>
if_size_t<I> empty(I size, TensorOptions options = {}) {
  return empty(Shape{static_cast<int64_t>(size)}, options);
}
template <typename I>
if_size_t<I> zeros(I size, TensorOptions options = {}) {
  return zeros(Shape{static_cast<int64_t>(size)}, options);
}
template <typename I>
if_size_t<I> ones(I size, TensorOptions options = {}) {
  return ones(Shape{static_cast<int64_t>(size)}, options);
}
template <typename I>
if_size_t<I> full(I size, double value, TensorOptions options = {}) {
  return full(Shape{static_cast<int64_t>(size)}, value, options);
}
template <typename I>
if_size_t<I> rand(I size, TensorOptions options = {}, Generator* generator = nullptr) {
  return rand(Shape{static_cast<int64_t>(size)}, options, generator);
}
template <typename I>
if_size_t<I> randn(I size, TensorOptions options = {}, Generator* generator = nullptr) {
  return randn(Shape{static_cast<int64_t>(size)}, options, generator);
}

}  // namespace minidl
