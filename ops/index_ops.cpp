// index_select, gather, scatter_add, embedding, one_hot: reads and writes at int64 indices.
// Each op's backward sits right below its forward.
//
// The kernels see every operand as [outer, K, inner] around the indexed dim: outer = the dims
// before it, K = the indexed dim (of the index / the output), inner = the dims after it. A
// SplitGeometry turns (o, k, i) into a storage offset for any strides, so no input is copied
// to make it contiguous.
#include "ops/index_ops.h"

#include <algorithm>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "core/strided.h"
#include "ops/elementwise.h"
#include "ops/shape_ops.h"

namespace minidl {

namespace {

// ---------------------------------------------------------------- checks

void check_index_dtype(const Tensor& index, const char* op) {
  MINIDL_CHECK(index.defined(), op, "the index tensor is undefined");
  MINIDL_CHECK(index.dtype() == kInt64, op,
               "expects an int64 index tensor, got " << index.dtype() << " of shape "
                                                     << shape_str(index.shape()));
}

// Every element of the contiguous int64 tensor idx must lie in [0, size); the message names the
// first one that does not, where it sits in idx, and `what` the range is (e.g. "dimension 1").
void check_range(const Tensor& idx, int64_t size, const char* op, const std::string& what) {
  const int64_t* p = idx.data_ptr<int64_t>();
  const int64_t n = idx.numel();
  int64_t lo = 0, hi = 0;
#pragma omp simd reduction(min : lo) reduction(max : hi)
  for (int64_t j = 0; j < n; ++j) {
    lo = std::min(lo, p[j]);
    hi = std::max(hi, p[j]);
  }
  if (lo >= 0 && (n == 0 || hi < size)) return;
  for (int64_t j = 0; j < n; ++j)
    MINIDL_CHECK(p[j] >= 0 && p[j] < size, op,
                 "index " << p[j] << " at position " << index_str(idx.shape(), j)
                          << " is out of range for " << what << ": valid indices are [0, " << size
                          << ")");
}

// ---------------------------------------------------------------- geometry and kernels

// Element (o, k, i) of an [outer, K, inner] walk over `space` (split around dim) lives at
// outer_off[o] + k * dim_stride + inner_off[i] for a tensor with `strides` (whose sizes are at
// least space's in every dim but dim).
struct SplitGeometry {
  int64_t outer = 1, inner = 1;
  std::vector<int64_t> outer_off, inner_off;
  int64_t dim_stride = 0;
  bool inner_unit = true;  // inner_off[i] == i: the inner loop is a contiguous run
};

// Offsets of every position of shape[begin, end) in row-major order.
std::vector<int64_t> position_offsets(const Shape& shape, const Shape& strides, int64_t begin,
                                      int64_t end) {
  std::vector<int64_t> offsets{0};
  for (int64_t d = begin; d < end; ++d) {
    std::vector<int64_t> next;
    next.reserve(offsets.size() * shape[d]);
    for (int64_t base : offsets)
      for (int64_t j = 0; j < shape[d]; ++j) next.push_back(base + j * strides[d]);
    offsets.swap(next);
  }
  return offsets;
}

SplitGeometry split_geometry(const Shape& space, int64_t dim, const Shape& strides) {
  SplitGeometry g;
  const int64_t nd = static_cast<int64_t>(space.size());
  g.outer_off = position_offsets(space, strides, 0, dim);
  g.inner_off = position_offsets(space, strides, dim + 1, nd);
  g.outer = static_cast<int64_t>(g.outer_off.size());
  g.inner = static_cast<int64_t>(g.inner_off.size());
  g.dim_stride = strides[dim];
  for (int64_t i = 0; i < g.inner && g.inner_unit; ++i) g.inner_unit = g.inner_off[i] == i;
  return g;
}

// out[o, k, i] = src[s.outer_off[o] + idx(o, k, i) * s.dim_stride + s.inner_off[i]] with out a
// fresh contiguous [outer, K, inner] and idx(o, k, i) = idx[o * is[0] + k * is[1] + i * is[2]]
// (is[2] == 0 when one index serves a whole inner row, as in index_select).
template <typename T>
void gather_kernel(T* out, const T* src, const SplitGeometry& s, const int64_t* idx,
                   std::array<int64_t, 3> is, int64_t K) {
  const int64_t outer = s.outer, inner = s.inner;
  const int64_t* inner_off = s.inner_off.data();
  // One task per output row (o, k); rows per chunk so that a chunk copies about
  // kParallelGrain elements.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1));
  parallel_for(0, outer * K, grain, [&](int64_t task0, int64_t task1) {
    for (int64_t task = task0; task < task1; ++task) {
      const int64_t o = task / K, k = task % K;
      T* row = out + task * inner;
      const int64_t* idx_row = idx + o * is[0] + k * is[1];
      const T* base = src + s.outer_off[o];
      if (is[2] == 0) {
        const T* src_row = base + idx_row[0] * s.dim_stride;
        if (s.inner_unit) {
#pragma omp simd
          for (int64_t i = 0; i < inner; ++i) row[i] = src_row[i];
        } else {
          for (int64_t i = 0; i < inner; ++i) row[i] = src_row[inner_off[i]];
        }
      } else {
        for (int64_t i = 0; i < inner; ++i)
          row[i] = base[idx_row[i * is[2]] * s.dim_stride + inner_off[i]];
      }
    }
  });
}

// dst[d.outer_off[o] + idx[o, k, i] * d.dim_stride + d.inner_off[i]] += src(o, k, i), with src
// addressed through s and idx a contiguous [outer, K, inner]. Each task owns one o and a block
// of i and walks k serially: two tasks never touch the same dst element, so repeated indices
// accumulate without races (and in a fixed order).
template <typename T>
void scatter_add_kernel(T* dst, const SplitGeometry& d, const T* src, const SplitGeometry& s,
                        const int64_t* idx, int64_t K) {
  const int64_t outer = s.outer, inner = s.inner;
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  // Tasks (o, block) per chunk so that a chunk adds about kParallelGrain elements (K rows of
  // up to kBlock each per task).
  const int64_t task_work = std::max<int64_t>(1, K * std::min(inner, kBlock));
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / task_work);
  parallel_for(0, outer * blocks, grain, [&](int64_t task0, int64_t task1) {
    for (int64_t task = task0; task < task1; ++task) {
      const int64_t o = task / blocks, b = task % blocks;
      const int64_t i0 = b * kBlock, i1 = std::min(inner, i0 + kBlock);
      T* dst_base = dst + d.outer_off[o];
      const T* src_base = src + s.outer_off[o];
      for (int64_t k = 0; k < K; ++k) {
        const int64_t* idx_row = idx + (o * K + k) * inner;
        const T* src_row = src_base + k * s.dim_stride;
        for (int64_t i = i0; i < i1; ++i)
          dst_base[idx_row[i] * d.dim_stride + d.inner_off[i]] += src_row[s.inner_off[i]];
      }
    }
  });
}

// dst[o, r, :] = sum of src(o, k, :) over the k with idx[k] == r (r != skip), dst a contiguous
// [outer, N, inner] and src addressed through s. The k are bucketed by r first (a counting
// sort), so each (o, r) row is one task summing its own bucket: no races, parallel over rows
// even when inner is small.
template <typename T>
void index_add_rows(T* dst, int64_t N, const T* src, const SplitGeometry& s, const int64_t* idx,
                    int64_t K, int64_t skip) {
  std::vector<int64_t> starts(N + 1, 0), order(K);
  for (int64_t k = 0; k < K; ++k)
    if (idx[k] != skip) ++starts[idx[k] + 1];
  for (int64_t r = 0; r < N; ++r) starts[r + 1] += starts[r];
  std::vector<int64_t> next(starts.begin(), starts.end() - 1);
  for (int64_t k = 0; k < K; ++k)
    if (idx[k] != skip) order[next[idx[k]]++] = k;
  const int64_t outer = s.outer, inner = s.inner;
  const int64_t* inner_off = s.inner_off.data();
  // One task per (o, r) row: N rows zeroed and K source rows added per o, so a task averages
  // max(K, N) / N rows of inner elements; tasks per chunk so that a chunk does about
  // kParallelGrain elements of work. Buckets differ in size: chunks are claimed dynamically.
  const int64_t work_per_o = std::max<int64_t>(1, std::max(K, N) * inner);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain * N / work_per_o);
  parallel_for(0, outer * N, grain, [&](int64_t task0, int64_t task1) {
    for (int64_t task = task0; task < task1; ++task) {
      const int64_t o = task / N, r = task % N;
      T* row = dst + task * inner;
      for (int64_t i = 0; i < inner; ++i) row[i] = T(0);
      for (int64_t j = starts[r]; j < starts[r + 1]; ++j) {
        const T* src_row = src + s.outer_off[o] + order[j] * s.dim_stride;
        if (s.inner_unit) {
#pragma omp simd
          for (int64_t i = 0; i < inner; ++i) row[i] += src_row[i];
        } else {
          for (int64_t i = 0; i < inner; ++i) row[i] += src_row[inner_off[i]];
        }
      }
    }
  });
}

// gather/scatter_add: index and the tensors it addresses have one number of dims.
void check_same_dims(const char* op, const char* name, const Tensor& t, const Tensor& index) {
  MINIDL_CHECK(t.dim() == index.dim(), op,
               "index of shape " << shape_str(index.shape()) << " must have as many dims as "
                                 << name << " of shape " << shape_str(t.shape()));
}

// index must be no larger than t in every dim (but `except`, if >= 0).
void check_fits(const char* op, const char* name, const Tensor& t, const Tensor& index,
                int64_t except) {
  for (int64_t k = 0; k < t.dim(); ++k)
    MINIDL_CHECK(k == except || index.shape()[k] <= t.shape()[k], op,
                 "index of shape " << shape_str(index.shape()) << " is larger than " << name
                                   << " of shape " << shape_str(t.shape()) << " in dimension "
                                   << k);
}

}  // namespace

// ---------------------------------------------------------------- index_select

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_index_dtype(index, "index_select");
  MINIDL_CHECK(index.dim() <= 1, "index_select",
               "expects a 0-d or 1-d index, got shape " << shape_str(index.shape()));
  MINIDL_CHECK(x.dim() > 0, "index_select", "cannot index a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "index_select");
  const int64_t n = x.shape()[d];
  Tensor idx = index.contiguous();
  const int64_t K = idx.numel();
  check_range(idx, n, "index_select",
              "dimension " + std::to_string(d) + " of size " + std::to_string(n) +
                  " (input shape " + shape_str(x.shape()) + ")");
  Shape out_shape = x.shape();
  out_shape[d] = K;
  Tensor out = empty(out_shape, x.dtype());
  SplitGeometry gx = split_geometry(out_shape, d, x.strides());
  MINIDL_DISPATCH_ALL(x.dtype(), "index_select",
                      gather_kernel<scalar_t>(out.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), gx,
                                              idx.data_ptr<int64_t>(), {0, 1, 0}, K));
  // out[.., k, ..] = x[.., index[k], ..] ;  dx = zeros, dx[.., index[k], ..] += dout[.., k, ..]
  //   (dx[.., r, ..] = Σ_{k: index[k] = r} dout[.., k, ..]: repeated indices add)
  // derivation: out is a selection, a linear map with 0/1 entries; its adjoint scatters back
  if (needs_grad({x})) {
    Shape in_shape = x.shape();
    SavedTensor saved_idx(idx);
    record("IndexSelectBackward0", out, {x}, [=](const Tensor& g) {
      const Tensor& ix = saved_idx.get();
      if (GradMode::is_enabled()) {  // create_graph: dx = scatter_add of dout along the index
        Shape along(g.dim(), 1);
        along[d] = K;
        Tensor spread = ix.reshape(along).expand(g.shape()).contiguous();
        return GradList{scatter_add(zeros(in_shape, g.dtype()), d, spread, g)};
      }
      Tensor dx = empty(in_shape, g.dtype());
      SplitGeometry gg = split_geometry(g.shape(), d, g.strides());
      MINIDL_DISPATCH_FLOATING(
          g.dtype(), "index_select backward",
          index_add_rows<scalar_t>(dx.data_ptr<scalar_t>(), n, g.data_ptr<scalar_t>(), gg,
                                   ix.data_ptr<int64_t>(), K, -1));
      return GradList{dx};
    })->twice_differentiable = true;
  }
  return out;
}

// ---------------------------------------------------------------- gather, scatter_add

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_index_dtype(index, "gather");
  check_same_dims("gather", "input", x, index);
  const int64_t d = wrap_dim(dim, x.dim(), "gather");
  if (x.dim() == 0) return gather(x.reshape({1}), 0, index.reshape({1})).reshape({});
  check_fits("gather", "input", x, index, d);
  Tensor idx = index.contiguous();
  check_range(idx, x.shape()[d], "gather",
              "dimension " + std::to_string(d) + " of size " + std::to_string(x.shape()[d]) +
                  " (input shape " + shape_str(x.shape()) + ")");
  Tensor out = empty(idx.shape(), x.dtype());
  SplitGeometry gx = split_geometry(idx.shape(), d, x.strides());
  const int64_t K = idx.shape()[d];
  MINIDL_DISPATCH_ALL(
      x.dtype(), "gather",
      gather_kernel<scalar_t>(out.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), gx,
                              idx.data_ptr<int64_t>(), {K * gx.inner, gx.inner, 1}, K));
  // out[o, k, i] = x[o, index[o, k, i], i] ;  dx = zeros, dx[o, index[o, k, i], i] += dout[o, k, i]
  // derivation: gather's adjoint is scatter_add with the same index (saved; x is not needed)
  if (needs_grad({x})) {
    Shape in_shape = x.shape();
    SavedTensor saved_idx(idx);
    record("GatherBackward0", out, {x}, [=](const Tensor& g) {
      const Tensor& ix = saved_idx.get();
      if (GradMode::is_enabled())  // create_graph: the same scatter, recorded
        return GradList{scatter_add(zeros(in_shape, g.dtype()), d, ix, g)};
      Tensor dx = zeros(in_shape, g.dtype());
      SplitGeometry gd = split_geometry(ix.shape(), d, dx.strides());
      SplitGeometry gg = split_geometry(ix.shape(), d, g.strides());
      MINIDL_DISPATCH_FLOATING(
          g.dtype(), "gather backward",
          scatter_add_kernel<scalar_t>(dx.data_ptr<scalar_t>(), gd, g.data_ptr<scalar_t>(), gg,
                                       ix.data_ptr<int64_t>(), K));
      return GradList{dx};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  check_index_dtype(index, "scatter_add");
  check_same_dims("scatter_add", "input", x, index);
  check_same_dims("scatter_add", "src", src, index);
  MINIDL_CHECK(src.dtype() == x.dtype(), "scatter_add",
               "src (" << src.dtype() << ") must have the input's dtype (" << x.dtype() << ")");
  const int64_t d = wrap_dim(dim, x.dim(), "scatter_add");
  if (x.dim() == 0)
    return scatter_add(x.reshape({1}), 0, index.reshape({1}), src.reshape({1})).reshape({});
  check_fits("scatter_add", "input", x, index, d);
  check_fits("scatter_add", "src", src, index, -1);
  Tensor idx = index.contiguous();
  check_range(idx, x.shape()[d], "scatter_add",
              "dimension " + std::to_string(d) + " of size " + std::to_string(x.shape()[d]) +
                  " (input shape " + shape_str(x.shape()) + ")");
  Tensor out = empty(x.shape(), x.dtype());
  copy_data(out, x);
  SplitGeometry go = split_geometry(idx.shape(), d, out.strides());
  SplitGeometry gs = split_geometry(idx.shape(), d, src.strides());
  const int64_t K = idx.shape()[d];
  MINIDL_DISPATCH_NUMERIC(
      x.dtype(), "scatter_add",
      scatter_add_kernel<scalar_t>(out.data_ptr<scalar_t>(), go, src.data_ptr<scalar_t>(), gs,
                                   idx.data_ptr<int64_t>(), K));
  // out = x, out[o, index[o, k, i], i] += src[o, k, i] ;  dx = dout ,
  //   dsrc = gather(dout, dim, index) inside index's extent, 0 beyond it
  // derivation: out is x plus a linear scatter of src; scatter_add's adjoint is gather
  if (needs_grad({x, src})) {
    const bool want_src = src.requires_grad();
    Shape src_shape = src.shape();
    SavedTensor saved_idx(want_src ? idx : Tensor());
    record("ScatterAddBackward0", out, {x, src}, [=](const Tensor& g) {
      Tensor dsrc;
      if (GradMode::is_enabled()) {  // create_graph: the same gather, recorded, padded with 0
        if (want_src) {
          const Tensor& ix = saved_idx.get();
          dsrc = gather(g, d, ix);
          std::vector<int64_t> pads;  // (before, after) per dim, last dim first
          for (int64_t i = ix.dim() - 1; i >= 0; --i) {
            pads.push_back(0);
            pads.push_back(src_shape[i] - ix.shape()[i]);
          }
          if (ix.shape() != src_shape) dsrc = pad(dsrc, pads);
        }
        return GradList{g, dsrc};
      }
      if (want_src) {
        const Tensor& ix = saved_idx.get();
        Tensor gathered = empty(ix.shape(), g.dtype());
        SplitGeometry gg = split_geometry(ix.shape(), d, g.strides());
        MINIDL_DISPATCH_FLOATING(
            g.dtype(), "scatter_add backward",
            gather_kernel<scalar_t>(gathered.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), gg,
                                    ix.data_ptr<int64_t>(), {K * gg.inner, gg.inner, 1}, K));
        if (ix.shape() == src_shape) {
          dsrc = gathered;
        } else {
          dsrc = zeros(src_shape, g.dtype());
          if (gathered.numel() > 0)
            copy_data(make_view(dsrc, ix.shape(), dsrc.strides(), 0), gathered);
        }
      }
      return GradList{g, dsrc};
    })->twice_differentiable = true;
  }
  return out;
}

// ---------------------------------------------------------------- embedding

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  MINIDL_CHECK(weight.dim() == 2, "embedding",
               "weight must be 2-d [num_embeddings, embedding_dim], got shape "
                   << shape_str(weight.shape()));
  check_index_dtype(indices, "embedding");
  const int64_t num_embeddings = weight.shape()[0], D = weight.shape()[1];
  MINIDL_CHECK(padding_idx < num_embeddings, "embedding",
               "padding_idx " << padding_idx << " is out of range for weight of shape "
                              << shape_str(weight.shape()) << " (valid: [0, " << num_embeddings
                              << "), or negative for none)");
  Tensor idx = indices.contiguous();
  const int64_t M = idx.numel();
  check_range(idx, num_embeddings, "embedding",
              "num_embeddings " + std::to_string(num_embeddings) + " (weight shape " +
                  shape_str(weight.shape()) + ")");
  Shape out_shape = indices.shape();
  out_shape.push_back(D);
  Tensor out = empty(out_shape, weight.dtype());
  SplitGeometry gw = split_geometry({M, D}, 0, weight.strides());
  MINIDL_DISPATCH_ALL(weight.dtype(), "embedding",
                      gather_kernel<scalar_t>(out.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(),
                                              gw, idx.data_ptr<int64_t>(), {0, 1, 0}, M));
  // out[m, :] = weight[indices[m], :] ;  dweight = zeros, dweight[indices[m], :] += dout[m, :]
  //   except for m with indices[m] = padding_idx (that row gets no gradient)
  // derivation: a row gather, whose adjoint adds each output row's gradient back into its row
  if (needs_grad({weight})) {
    SavedTensor saved_idx(idx);
    const int64_t skip = padding_idx < 0 ? -1 : padding_idx;
    record("EmbeddingBackward0", out, {weight}, [=](const Tensor& g) {
      const Tensor& ix = saved_idx.get();
      if (GradMode::is_enabled()) {  // create_graph: a scatter_add of the rows, recorded
        Tensor rows = g.reshape({M, D});
        if (skip >= 0) {
          std::vector<double> keep(static_cast<size_t>(M));
          for (int64_t m = 0; m < M; ++m) keep[m] = ix.data_ptr<int64_t>()[m] == skip ? 0.0 : 1.0;
          rows = rows * from_vector(keep, {M, 1}, g.dtype());
        }
        Tensor spread = ix.reshape({M, 1}).expand({M, D}).contiguous();
        return GradList{scatter_add(zeros({num_embeddings, D}, g.dtype()), 0, spread, rows)};
      }
      Tensor g2 = g.reshape({M, D});
      Tensor dweight = empty({num_embeddings, D}, g.dtype());
      SplitGeometry gg = split_geometry({M, D}, 0, g2.strides());
      MINIDL_DISPATCH_FLOATING(
          g.dtype(), "embedding backward",
          index_add_rows<scalar_t>(dweight.data_ptr<scalar_t>(), num_embeddings,
                                   g2.data_ptr<scalar_t>(), gg, ix.data_ptr<int64_t>(), M, skip));
      return GradList{dweight};
    })->twice_differentiable = true;
  }
  return out;
}

// ---------------------------------------------------------------- one_hot

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  check_index_dtype(indices, "one_hot");
  MINIDL_CHECK(num_classes >= -1, "one_hot",
               "num_classes must be -1 (infer) or non-negative, got " << num_classes);
  Tensor idx = indices.contiguous();
  const int64_t* p = idx.data_ptr<int64_t>();
  const int64_t n = idx.numel();
  if (num_classes == -1) {
    MINIDL_CHECK(n > 0, "one_hot",
                 "cannot infer num_classes from an empty tensor of shape "
                     << shape_str(indices.shape()) << "; pass num_classes");
    int64_t hi = p[0];
    for (int64_t j = 1; j < n; ++j) hi = std::max(hi, p[j]);
    // A negative maximum still leaves one class, so the range check names a negative index.
    num_classes = std::max<int64_t>(hi, 0) + 1;
  }
  check_range(idx, num_classes, "one_hot", "num_classes " + std::to_string(num_classes));
  Shape out_shape = indices.shape();
  out_shape.push_back(num_classes);
  Tensor out = zeros(out_shape, kInt64);
  int64_t* po = out.data_ptr<int64_t>();
  const int64_t C = num_classes;
  // out[j, c] = (c == indices[j]): one store per index (out is zeroed already), so the grain is
  // kParallelGrain indices.
  parallel_for(0, n, kParallelGrain, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) po[j * C + p[j]] = 1;
  });
  return out;
}

}  // namespace minidl
