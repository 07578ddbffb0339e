// TensorAccessor<T, N>: libtorch's fast element access for CPU loops,
//
//   auto a = t.accessor<float, 2>();      // t: a 2-d float32 tensor
//   for (int64_t i = 0; i < a.size(0); ++i)
//     for (int64_t j = 0; j < a.size(1); ++j) a[i][j] *= 2;
//
// a[i] is an accessor of one dim fewer, and the last [] gives a T&. Element (i, j) is
// data[i * stride(0) + j * stride(1)], so transposed and sliced tensors work. As in libtorch
// the indices are NOT bounds-checked (this is the unchecked fast path; t.index({i, j}) checks),
// and the accessor points into the tensor: it must not outlive it. Writes through it are not
// seen by autograd and do not bump the version counter.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minidl {

// The N-d accessor: a[i] drops the first dim.
template <typename T, size_t N>
class TensorAccessor {
 public:
  static_assert(N > 0, "TensorAccessor: use item() for a 0-d tensor");
  TensorAccessor(T* data, const int64_t* sizes, const int64_t* strides)
      : data_(data), sizes_(sizes), strides_(strides) {}

  TensorAccessor<T, N - 1> operator[](int64_t i) const {
    return TensorAccessor<T, N - 1>(data_ + i * strides_[0], sizes_ + 1, strides_ + 1);
  }
  // Size / stride of dim (0 = this accessor's first dim; not checked), and element [0, ...].
  int64_t size(int64_t dim) const { return sizes_[dim]; }
  int64_t stride(int64_t dim) const { return strides_[dim]; }
  T* data() const { return data_; }

 private:
  T* data_;
  const int64_t* sizes_;
  const int64_t* strides_;
};

// The 1-d accessor: a[i] is the element itself.
template <typename T>
class TensorAccessor<T, 1> {
 public:
  TensorAccessor(T* data, const int64_t* sizes, const int64_t* strides)
      : data_(data), sizes_(sizes), strides_(strides) {}

  T& operator[](int64_t i) const { return data_[i * strides_[0]]; }
  // Size / stride of dim (0 = this accessor's first dim; not checked), and element [0, ...].
  int64_t size(int64_t dim) const { return sizes_[dim]; }
  int64_t stride(int64_t dim) const { return strides_[dim]; }
  T* data() const { return data_; }

 private:
  T* data_;
  const int64_t* sizes_;
  const int64_t* strides_;
};

}  // namespace minidl
