// Ops that rearrange elements without arithmetic: concatenation, splitting, padding, tiling and
// triangular masks. Names, argument order and defaults follow PyTorch; every op is
// differentiable in its tensor inputs.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace minidl {

// Joins tensors along an existing dim (torch.cat). Every tensor has the same number of dims and
// equal sizes except along `dim`; the result dtype is the promotion of all inputs' dtypes. As in
// PyTorch, a 1-d tensor of size 0 is skipped whatever its shape (the legacy "empty" tensor).
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Joins equally shaped tensors along a new dim inserted at `dim` (torch.stack).
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);

// Pieces of `split_size` along dim, the last one smaller if the size does not divide
// (torch.split). The pieces are views of x (narrow), so gradients flow through them.
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
// Pieces of the given sizes, which must add up to x.size(dim) (torch.split_with_sizes).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& split_sizes,
                          int64_t dim = 0);
// `chunks` pieces of ceil(size / chunks) (fewer if the size runs out first), as torch.chunk.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);

// Pads x as torch.nn.functional.pad: `pad` holds (before, after) pairs starting from the LAST
// dim: {left, right} pads the last dim, {left, right, top, bottom} the last two, and so on.
//   "constant":  fills with `value`; any number of dims.
//   "reflect":   mirrors without repeating the edge (each pad must be < the dim's size);
//   "replicate": repeats the edge element;
// the last two pad the last 1-3 dims (pad.size() 2, 4 or 6), every leading dim being a batch
// dim. In every mode a negative pad crops.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pad, const std::string& mode = "constant",
           double value = 0.0);

// Tiles x `repeats[d]` times along each dim (Tensor.repeat in PyTorch). repeats may have more
// entries than x has dims: x is then viewed with leading size-1 dims first. dx sums the tiles.
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);

// Lower / upper triangle of the last two dims (any leading batch dims): elements with
// col - row <= diagonal (tril) or >= diagonal (triu) are kept, the rest are zero.
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);

}  // namespace minidl
