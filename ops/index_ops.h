// Ops that read or write elements at positions given by an int64 index tensor.
//
// Every index is bounds-checked before any element is touched: an index outside its dim is an
// error naming the op, the bad value, its position in the index tensor and the valid range.
// As in PyTorch these ops take indices in [0, size) (no counting from the end), and index
// tensors must be int64 (a float or bool index is an error, not a silent conversion).
#pragma once

#include "core/tensor.h"

namespace minidl {

// The entries of x at positions `index` (0-d or 1-d) along dim; the result has x's shape with
// x.size(dim) replaced by index.numel(). Repeated indices receive the sum of their gradients.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);

// out[i][j][k] = x[i][index[i][j][k]][k]  (for dim = 1), as torch.gather: index has x's number
// of dims and may be smaller than x in every dim but `dim`; out has index's shape.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

// out = a copy of x with out[i][index[i][j][k]][k] += src[i][j][k]  (for dim = 1), as
// torch.scatter_add (out of place). index is no larger than src in any dim and no larger than
// x in any dim but `dim`; src has x's dtype. Differentiable in x and src.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);

// Rows of `weight` [num_embeddings, D] picked by `indices` (int64, any shape): the result has
// shape indices.shape + [D]. The row `padding_idx` is looked up as usual but receives no
// gradient. A negative padding_idx (the default -1) means "no padding row": unlike PyTorch,
// which counts a negative padding_idx from the end, pass num_embeddings - k for that.
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx = -1);

// int64 tensor of shape indices.shape + [num_classes] with a 1 at each index, 0 elsewhere
// (torch.nn.functional.one_hot). num_classes = -1 infers it as max(indices) + 1.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);

}  // namespace minidl
