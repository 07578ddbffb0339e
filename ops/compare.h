// Comparisons and logical ops (not differentiable; they return bool tensors), and the two
// differentiable selections `where` and `masked_fill`.
#pragma once

#include "core/tensor.h"

namespace minidl {

// a == b, !=, <, <=, >, >= elementwise: a and b broadcast, compare in the promoted dtype, and the
// result is a bool tensor of the broadcast shape (shapes that do not broadcast are an error).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// The same against a scalar: bool, a's shape.
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);

// As in libtorch, comparison operators on tensors are elementwise and return bool tensors
// (use Tensor::is_same for handle identity).
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, double b);
Tensor operator!=(const Tensor& a, double b);
Tensor operator<(const Tensor& a, double b);
Tensor operator<=(const Tensor& a, double b);
Tensor operator>(const Tensor& a, double b);
Tensor operator>=(const Tensor& a, double b);

// Inputs of any dtype; nonzero is true.
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& a);
Tensor operator&&(const Tensor& a, const Tensor& b) = delete;  // use logical_and
Tensor operator!(const Tensor& a);                             // logical_not

// Bitwise ops on bool and int64 tensors (floating inputs are an error, as in PyTorch); on bool
// they are the logical ops. a and b broadcast and promote (bool & int64 is int64).
Tensor bitwise_not(const Tensor& a);
Tensor bitwise_and(const Tensor& a, const Tensor& b);
Tensor bitwise_or(const Tensor& a, const Tensor& b);
Tensor bitwise_xor(const Tensor& a, const Tensor& b);
Tensor operator~(const Tensor& a);
Tensor operator&(const Tensor& a, const Tensor& b);
Tensor operator|(const Tensor& a, const Tensor& b);
Tensor operator^(const Tensor& a, const Tensor& b);

// torch.allclose / torch.equal as free functions: Tensor::allclose and Tensor::equal.

// condition ? a : b elementwise, all three broadcast together; condition must be bool.
// dout flows to a where condition holds and to b elsewhere.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
// A scalar branch takes the tensor's dtype (float32 if the tensor is integral and the scalar
// is not a whole number).
Tensor where(const Tensor& condition, const Tensor& a, double b);
Tensor where(const Tensor& condition, double a, const Tensor& b);
// x with `value` where mask (bool, broadcastable to x's shape) is true; dx = dout where mask is
// false, 0 where true. The result keeps x's dtype (value must fit an int64 x).
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace minidl
