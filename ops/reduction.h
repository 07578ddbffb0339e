// Reductions over any set of dims (an empty list means all dims), with keepdim as in PyTorch.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/strided.h"
#include "core/tensor.h"

namespace minidl {

using Dims = std::vector<int64_t>;

// Sum / mean over `dims` (wrapped; empty = all): x's shape without them (size 1 with keepdim).
// sum of bool / int64 gives int64; mean needs a floating x. A dim out of range or repeated is an
// error.
Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// With one integer dim, as libtorch's sum(x, 1) / mean(x, -1, true) (a braced {} or {1} still
// means the list overloads above).
template <typename I,
          typename = std::enable_if_t<std::is_integral<I>::value && !std::is_same<I, bool>::value>>
Tensor sum(const Tensor& x, I dim, bool keepdim = false) {
  return sum(x, Dims{static_cast<int64_t>(dim)}, keepdim);
}
template <typename I,
          typename = std::enable_if_t<std::is_integral<I>::value && !std::is_same<I, bool>::value>>
Tensor mean(const Tensor& x, I dim, bool keepdim = false) {
  return mean(x, Dims{static_cast<int64_t>(dim)}, keepdim);
}
// Variance / standard deviation with Bessel-style `correction` (1 = unbiased, 0 = population).
Tensor var(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
// Largest / smallest element (a 0-d tensor), and over one dim the values with their int64 indices.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
// Index of the largest / smallest element (over the flattened tensor when dim is absent).
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
// log(sum(exp(x))) computed stably (max subtracted first).
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
// p-norm: (sum |x|^p)^(1/p); p = inf gives max |x|, p = 0 counts nonzeros (no gradient).
Tensor norm(const Tensor& x, double p = 2.0, const Dims& dims = {}, bool keepdim = false);

// Whether every / some element is non-zero (true for bool), over `dims` (empty: all dims).
// Bool result; not differentiable (a comparison). all of an empty tensor is true, any false.
Tensor all(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor any(const Tensor& x, const Dims& dims = {}, bool keepdim = false);

// Sums a gradient of a broadcast result back to an input's shape: over the leading dims that
// broadcasting added and over dims where the input had size 1. The one helper every
// broadcasting op's backward uses.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// ---- for kernels of other reduction-like ops

// The reduction dims of x, wrapped (-1 is the last dim), sorted; empty means all dims. Errors
// name `op`, the offending dim and x's shape (out of range, or listed twice).
Dims reduction_dims(const Tensor& x, const Dims& dims, const char* op);

// How a reduction walks its input: the output shape, and the input's geometry split into the
// dims that survive (kept_*) and the dims reduced away (reduced_*).
struct ReduceGeometry {
  Shape out_shape;  // keepdim applied
  Shape kept_shape, kept_strides;
  Shape reduced_shape, reduced_strides;
  int64_t out_numel = 1;
  int64_t reduce_numel = 1;
};
// Splits x's dims into kept and reduced (normalized_dims from reduction_dims) for a kernel.
ReduceGeometry reduce_geometry(const Tensor& x, const Dims& normalized_dims, bool keepdim);

// One row of a reduction: the n elements that reduce into one output element, in row-major
// order of the reduced dims (so element r is at position r along a single reduced dim, or at
// flat index r when every dim is reduced). They sit at p[r * stride], or, when iter is set,
// where iter walks from p.
template <typename T>
struct ReduceRow {
  const T* p;
  int64_t n;
  int64_t stride;
  const StridedIter<1>* iter = nullptr;
  bool split = false;  // one huge unit-stride row: split it across threads

  // f(value, r) for each element, r = 0 .. n-1 in order.
  template <typename F>
  void for_each(F&& f) const {
    if (!iter) {
      for (int64_t r = 0; r < n; ++r) f(p[r * stride], r);
      return;
    }
    int64_t r = 0;
    iter->for_range(
        0, n,
        [&](const std::array<int64_t, 1>& off, int64_t len, const std::array<int64_t, 1>& st) {
          for (int64_t e = 0; e < len; ++e) f(p[off[0] + e * st[0]], r++);
        });
  }

  // The sum of f(value) over the row, accumulated in Acc; vectorized on unit-stride rows.
  template <typename Acc = double, typename F>
  Acc sum(F f) const {
    // (One accumulator per branch: sharing one with the parallel region would make it
    // addressable and keep the simd loop from holding it in registers.)
    const T* data = p;
    const int64_t count = n;
    if (!iter && stride == 1 && split) {
      // Per-chunk partial sums added in chunk order: the same result however chunks ran.
      return parallel_sum<Acc>(0, count, kParallelGrain, [&](int64_t begin, int64_t end) {
        Acc acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t r = begin; r < end; ++r) acc += f(data[r]);
        return acc;
      });
    }
    if (!iter && stride == 1) {
      Acc acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t r = 0; r < count; ++r) acc += f(data[r]);
      return acc;
    }
    Acc acc = 0;
    for_each([&](T v, int64_t) { acc += f(v); });
    return acc;
  }

  // The max (or min) and the position of its first occurrence; a NaN beats every number (the
  // first NaN wins), as in PyTorch. The row must not be empty.
  std::pair<T, int64_t> extremum(bool is_max) const {
    T best{};
    int64_t where = -1;
    auto visit = [&](T v, int64_t r) {
      if (where < 0 || beats(v, best, is_max)) {
        best = v;
        where = r;
      }
    };
    if (!split) {
      for_each(visit);
      return {best, where};
    }
    // Each chunk finds its own winner; the winners are then compared in chunk order, so the
    // first occurrence still wins.
    const int64_t chunks = detail::chunk_count(n, kParallelGrain);
    std::vector<std::pair<T, int64_t>> chunk_best(chunks, {T{}, -1});  // not vector<bool>
    parallel_chunks(chunks, [&](int64_t chunk, int) {
      const int64_t begin = n * chunk / chunks, end = n * (chunk + 1) / chunks;
      std::pair<T, int64_t> mine{T{}, -1};
      for (int64_t r = begin; r < end; ++r) {
        if (mine.second < 0 || beats(p[r], mine.first, is_max)) mine = {p[r], r};
      }
      chunk_best[chunk] = mine;
    });
    for (const auto& [value, r] : chunk_best)
      if (r >= 0) visit(value, r);
    return {best, where};
  }

  // Whether v is NaN (false for integral T); beats: v wins over best, NaN first.
  static bool is_nan(T v) {
    if constexpr (std::is_floating_point<T>::value) {
      return std::isnan(v);
    } else {
      (void)v;
      return false;
    }
  }
  static bool beats(T v, T best, bool is_max) {
    if (is_nan(v)) return !is_nan(best);
    return is_max ? v > best : v < best;
  }
};

// The rows of x for a reduction with geometry g, one per output element m < g.out_numel, and
// the loop over them (parallel over outputs above kParallelGrain). Layouts, fastest first:
//   x contiguous, reduced over its trailing dims:   row m is the run x[m*R, (m+1)*R)
//   the reduced dims nest like one dim of stride s: row m is x[base(m) + r * s]; when s != 1,
//       tiles of rows are first gathered into a buffer by a blocked transpose (reading along
//       the kept dims, which a transposed input stores adjacently), so each row is a unit run
//   anything else:                                  StridedIter walks the reduced dims
// A single huge unit-stride row (a reduction over everything) is split across threads instead.
template <typename T>
class ReduceRows {
 public:
  ReduceRows(const Tensor& x, const ReduceGeometry& g)
      : data_(x.data_ptr<T>()),
        geometry_(g),
        M_(g.out_numel),
        R_(g.reduce_numel),
        inner_(g.reduced_shape, {&g.reduced_strides}) {
    // (Size-1 dims are skipped throughout: their strides are arbitrary and never used.)
    trailing_ = x.is_contiguous();
    for (size_t i = 0; trailing_ && i < g.kept_shape.size(); ++i)
      trailing_ = g.kept_shape[i] == 1 || g.kept_strides[i] >= R_;
    int64_t next_stride = -1;  // the stride the next outer reduced dim needs to nest
    // (An empty x reads nothing, and its other dims may be huge: stride * size could overflow.)
    for (size_t d = M_ > 0 && R_ > 0 ? g.reduced_shape.size() : 0; d-- > 0;) {
      if (g.reduced_shape[d] == 1) continue;
      if (next_stride == -1) {
        stride_ = g.reduced_strides[d];
      } else if (g.reduced_strides[d] != next_stride) {
        single_stride_ = false;
        break;
      }
      next_stride = g.reduced_strides[d] * g.reduced_shape[d];
    }
    if (trailing_) stride_ = 1;
    // Tiles of up to 64 rows, about 64K elements in all: the gather reads many consecutive
    // elements per step while the tile stays in cache.
    tile_rows_ = std::min<int64_t>(64, std::min(M_, kTileElements / std::max<int64_t>(R_, 1)));
    // One output from a long contiguous run: split the run itself across threads.
    split_ = M_ == 1 && stride_ == 1 && single_stride_ && R_ > kParallelGrain &&
             get_num_threads() > 1 && !in_parallel_region();
  }

  // Storage offset (relative to x's first element) where row m starts.
  int64_t base(int64_t m) const {
    if (trailing_) return m * R_;
    int64_t offset = 0;
    for (size_t d = geometry_.kept_shape.size(); d-- > 0;) {
      offset += (m % geometry_.kept_shape[d]) * geometry_.kept_strides[d];
      m /= geometry_.kept_shape[d];
    }
    return offset;
  }

  // body(m, row) for every output element m, parallel over outputs when the reduction is large.
  template <typename Body>
  void for_each_output(Body&& body) const {
    // Outputs per chunk so that a chunk reduces at least kParallelGrain elements.
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(R_, 1));
    if (!single_stride_ || stride_ == 1 || tile_rows_ < 4 || R_ < 2) {
      parallel_for(0, M_, grain, [&](int64_t m0, int64_t m1) {
        for (int64_t m = m0; m < m1; ++m) body(m, row(m));
      });
      return;
    }
    const int64_t tile = tile_rows_, tiles = (M_ + tile - 1) / tile;
    const int slots = get_num_threads();
    std::unique_ptr<T[]> buffers(new T[slots * tile * R_]);  // one tile buffer per thread
    std::vector<int64_t> bases(slots * tile);
    const int64_t tile_grain = std::max<int64_t>(1, grain / tile);
    parallel_for_slots(0, tiles, tile_grain, [&](int64_t t0, int64_t t1, int slot) {
      for (int64_t t = t0; t < t1; ++t) {
        T* buffer = buffers.get() + slot * tile * R_;
        int64_t* tile_bases = bases.data() + slot * tile;
        const int64_t m0 = t * tile, rows_here = std::min(tile, M_ - m0);
        for (int64_t b = 0; b < rows_here; ++b) tile_bases[b] = base(m0 + b);
        // A blocked transpose: each block of 16 row elements x the tile's rows is read and
        // written within a few cache lines.
        for (int64_t r0 = 0; r0 < R_; r0 += 16) {
          const int64_t r1 = std::min(R_, r0 + 16);
          for (int64_t b = 0; b < rows_here; ++b) {
            const T* src = data_ + tile_bases[b];
            T* dst = buffer + b * R_;
            for (int64_t r = r0; r < r1; ++r) dst[r] = src[r * stride_];
          }
        }
        for (int64_t b = 0; b < rows_here; ++b) body(m0 + b, ReduceRow<T>{buffer + b * R_, R_, 1});
      }
    });
  }

 private:
  static constexpr int64_t kTileElements = 65536;

  ReduceRow<T> row(int64_t m) const {
    if (single_stride_) return ReduceRow<T>{data_ + base(m), R_, stride_, nullptr, split_};
    return ReduceRow<T>{data_ + base(m), R_, 0, &inner_, false};
  }

  const T* data_;
  const ReduceGeometry& geometry_;
  int64_t M_, R_;
  StridedIter<1> inner_;
  bool trailing_ = false;
  bool single_stride_ = true;
  int64_t stride_ = 0;
  int64_t tile_rows_ = 1;
  bool split_ = false;
};

}  // namespace minidl
