// Method forms of free ops that libtorch programs call on tensors (x.index_select(0, i),
// x.sum(1, true, kFloat64), x[2], ...): each forwards to the op, whose file has the math.
#include "core/autograd.h"
#include "ops/index_ops.h"
#include "ops/reduction.h"
#include "ops/shape_ops.h"

namespace minidl {

Tensor Tensor::operator[](int64_t index) const {
  return select(0, index);
}

Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim,
                   std::optional<DType> dtype) const {
  return minidl::sum(dtype ? to(*dtype) : *this, dims, keepdim);
}

Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim,
                    std::optional<DType> dtype) const {
  return minidl::mean(dtype ? to(*dtype) : *this, dims, keepdim);
}

Tensor Tensor::all() const {
  return minidl::all(*this);
}
Tensor Tensor::all(int64_t dim, bool keepdim) const {
  return minidl::all(*this, {dim}, keepdim);
}
Tensor Tensor::any() const {
  return minidl::any(*this);
}
Tensor Tensor::any(int64_t dim, bool keepdim) const {
  return minidl::any(*this, {dim}, keepdim);
}

Tensor Tensor::index_select(int64_t dim, const Tensor& index) const {
  return minidl::index_select(*this, dim, index);
}

Tensor Tensor::gather(int64_t dim, const Tensor& index) const {
  return minidl::gather(*this, dim, index);
}

Tensor Tensor::repeat(const std::vector<int64_t>& repeats) const {
  return minidl::repeat(*this, repeats);
}

std::vector<Tensor> Tensor::chunk(int64_t chunks, int64_t dim) const {
  return minidl::chunk(*this, chunks, dim);
}

std::vector<Tensor> Tensor::split(int64_t split_size, int64_t dim) const {
  return minidl::split(*this, split_size, dim);
}

std::vector<Tensor> Tensor::split(const std::vector<int64_t>& split_sizes, int64_t dim) const {
  return minidl::split(*this, split_sizes, dim);
}

}  // namespace minidl
