// Softmax and log-softmax along one dim: fused, numerically stable kernels (the row maximum is
// subtracted before exponentiating), with their backward kernels beside them.
//
// Any dim works, negative dims included. A softmax over a dim that is not the last is not
// transposed: the tensor is walked as [outer, D, inner] (D the softmax dim) and the kernel
// vectorizes along `inner`, keeping one running max/sum per inner column.
//
// -inf entries: a row with some -inf gives probability 0 (log-probability -inf) there. A row that
// is entirely -inf has no distribution: every entry of it is NaN, as in PyTorch. A +inf or NaN
// entry likewise makes its row NaN.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/strided.h"
#include "core/tensor.h"

namespace minidl {

// y = exp(x - max) / sum(exp(x - max)) along dim ;  dx = y * (dy - sum(dy * y, dim))
Tensor softmax(const Tensor& x, int64_t dim);
// Softmax for attention: entries where the bool `mask` (broadcastable to x; may be undefined) is
// true are excluded (probability 0, gradient 0), as are -inf scores. A row with every entry
// excluded is defined as all zeros, with zero gradient -- never NaN (plain softmax gives NaN).
//   y = exp(x - max) / sum(exp(x - max)) over the included entries ;  dx = y * (dy - sum(dy * y))
Tensor masked_softmax(const Tensor& x, const Tensor& mask, int64_t dim);
// y = x - max - log(sum(exp(x - max))) along dim ;  dx = dy - exp(y) * sum(dy, dim)
Tensor log_softmax(const Tensor& x, int64_t dim);

// The backward kernels alone (not differentiable themselves), for fused ops that reuse them.
// `output` is the forward's result, `grad_output` the gradient of the same shape and dtype.
Tensor softmax_backward_data(const Tensor& grad_output, const Tensor& output, int64_t dim);
Tensor log_softmax_backward_data(const Tensor& grad_output, const Tensor& output, int64_t dim);

// ---- for kernels of other softmax-like ops

// A contiguous tensor seen as [outer, size, inner] around one dim: element (o, d, i) is at
// (o * size + d) * inner + i.
struct RowGeometry {
  int64_t outer = 1, size = 1, inner = 1;
  int64_t numel() const { return outer * size * inner; }
};
// shape seen around dim wrapped_dim (already wrapped): outer = prod(dims before), size, inner.
RowGeometry row_geometry(const Shape& shape, int64_t wrapped_dim);

// Inner columns processed together when the dim is not last (one running value per column).
constexpr int64_t kRowTile = 64;

// Visits a [outer, size, inner] tensor slice by slice, in parallel above kParallelGrain elements:
//   inner == 1: row(offset)            -- the `size` elements at offset .. offset + size - 1
//   inner  > 1: tile(offset, width)    -- `width` <= kRowTile adjacent columns; element d of
//                                         column j is at offset + d * inner + j
// (A chunk holds enough rows or tiles for about kParallelGrain elements.)
template <typename RowFn, typename TileFn>
void for_each_row(const RowGeometry& g, RowFn&& row, TileFn&& tile) {
  if (g.inner == 1) {
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, g.size));
    parallel_for(0, g.outer, grain, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) row(o * g.size);
    });
    return;
  }
  const int64_t tiles_per_outer = (g.inner + kRowTile - 1) / kRowTile;
  const int64_t tiles = g.outer * tiles_per_outer;
  const int64_t grain =
      std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, g.size * kRowTile));
  parallel_for(0, tiles, grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / tiles_per_outer, i0 = (t % tiles_per_outer) * kRowTile;
      tile(o * g.size * g.inner + i0, std::min(kRowTile, g.inner - i0));
    }
  });
}

}  // namespace minidl
