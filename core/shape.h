// Shapes, strides and the small index arithmetic everything else relies on.
//
// A tensor's element (i, j, k) lives at  offset + i*strides[0] + j*strides[1] + k*strides[2]
// (in elements, not bytes) inside its storage. Everything about views follows from that line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace minidl {

using Shape = std::vector<int64_t>;

// "[2, 3]"
std::string shape_str(const Shape& shape);

// The multi-index of row-major element `flat` of `shape`, as "[1, 2]" (for error messages).
std::string index_str(const Shape& shape, int64_t flat);

// Checked size arithmetic. Every element count, stride, offset and byte count is computed with
// these (or with shape_numel / contiguous_strides, built on them), so a size that does not fit in
// int64 is an error naming the op and the operands -- never a wrapped product that allocates too
// little and is then written past its end. `what` says what is being computed ("elements",
// "strides", "bytes", ...).
int64_t checked_mul(int64_t a, int64_t b, const char* op, const char* what);
int64_t checked_add(int64_t a, int64_t b, const char* op, const char* what);

// Product of the sizes (1 for a 0-d shape). Throws on a negative size and when the product does
// not fit in int64.
int64_t shape_numel(const Shape& shape, const char* op = "shape");

// Row-major strides of a contiguous tensor of this shape: [3, 1] for [2, 3]. Throws (naming `op`)
// when a stride does not fit in int64 -- possible even for 0 elements: [0, 2^62, 2^62].
Shape contiguous_strides(const Shape& shape, const char* op = "shape");
// The same, or nullopt when they overflow (for readers that name the file in their message).
std::optional<Shape> try_contiguous_strides(const Shape& shape);

// Wraps a possibly negative dim into [0, ndim) as PyTorch does (-1 is the last dim);
// `ndim` of a 0-d tensor is treated as 1 so that dim 0 / -1 of a scalar is accepted.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

// NumPy/PyTorch broadcasting: align shapes at the right; each pair of sizes must be equal or
// one of them 1. Throws naming `op` and both shapes otherwise.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read a tensor of (shape, strides) as if it had `target` shape (a broadcast
// view): size-1 and missing leading dims get stride 0.
Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target);

// A bitmask-free list of reduction dims, normalized, sorted, deduplicated; an empty `dims`
// means "all dims".
std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op);

}  // namespace minidl
