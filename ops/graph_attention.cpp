// Graph attention edge kernels (see ops/graph_attention.h for the formulas): gat_edge_scores,
// segment_softmax, graph_aggregate, each with its backward below its forward.
//
// Layouts: per-edge tensors are contiguous [E, H] (edge k's H values at k * H), per-node tensors
// contiguous [N, H] or [N, H, C]. Inputs that are not contiguous are copied first (the copy is
// O(size) and the kernels read every element anyway).
#include "ops/graph_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/strided.h"

namespace minidl {

namespace {

// ---------------------------------------------------------------- checks

void check_int64_index(const Tensor& index, const char* op, const char* name) {
  MINIDL_CHECK(index.defined(), op, name << " is undefined");
  MINIDL_CHECK(
      index.dtype() == kInt64, op,
      name << " must be int64, got " << index.dtype() << " of shape " << shape_str(index.shape()));
}

// The [2, E] edge list, contiguous.
Tensor checked_edge_index(const Tensor& edge_index, const char* op) {
  check_int64_index(edge_index, op, "edge_index");
  MINIDL_CHECK(edge_index.dim() == 2 && edge_index.size(0) == 2, op,
               "edge_index must have shape [2, E] (row 0 = source, row 1 = target), got "
                   << shape_str(edge_index.shape()));
  return edge_index.contiguous();
}

void check_floating(const Tensor& t, const char* op, const char* name) {
  MINIDL_CHECK(t.defined(), op, name << " is undefined");
  MINIDL_CHECK(
      t.is_floating_point(), op,
      name << " must be floating, got " << t.dtype() << " of shape " << shape_str(t.shape()));
}

// Every idx[k] (k < n) lies in [0, size); the message names the first that does not.
void check_range(const int64_t* idx, int64_t n, int64_t size, const char* op, const char* what) {
  int64_t lo = 0, hi = -1;
#pragma omp simd reduction(min : lo) reduction(max : hi)
  for (int64_t k = 0; k < n; ++k) {
    lo = std::min(lo, idx[k]);
    hi = std::max(hi, idx[k]);
  }
  if (lo >= 0 && hi < size) return;
  for (int64_t k = 0; k < n; ++k)
    MINIDL_CHECK(idx[k] >= 0 && idx[k] < size, op,
                 what << " index " << idx[k] << " of edge " << k
                      << " is out of range: valid node indices are [0, " << size << ")");
}

// ---------------------------------------------------------------- grouping edges by node

// The edges of node i are order[starts[i] .. starts[i + 1]), in increasing edge number (a stable
// counting sort of idx [E] with values in [0, N)).
struct EdgeGroups {
  std::vector<int64_t> starts, order;
};

std::shared_ptr<EdgeGroups> group_edges(const int64_t* idx, int64_t E, int64_t N) {
  auto g = std::make_shared<EdgeGroups>();
  g->starts.assign(N + 1, 0);
  g->order.resize(E);
  for (int64_t k = 0; k < E; ++k) ++g->starts[idx[k] + 1];
  for (int64_t i = 0; i < N; ++i) g->starts[i + 1] += g->starts[i];
  std::vector<int64_t> next(g->starts.begin(), g->starts.end() - 1);
  for (int64_t k = 0; k < E; ++k) g->order[next[idx[k]]++] = k;
  return g;
}

// Runs body(i0, i1) on ranges of nodes covering [0, N), in parallel when `work` (the elements
// the N nodes touch in all) is large: nodes per chunk so that a chunk does about kParallelGrain
// of it. Degrees vary, and so do chunk costs: the pool's chunks are claimed dynamically.
template <typename Body>
void for_node_ranges(int64_t N, int64_t work, Body&& body) {
  const int64_t per_node = std::max<int64_t>(1, work / std::max<int64_t>(N, 1));
  parallel_for(0, N, std::max<int64_t>(1, kParallelGrain / per_node), body);
}

// Runs body(i) for every node, as for_node_ranges.
template <typename Body>
void for_each_node(int64_t N, int64_t work, Body&& body) {
  for_node_ranges(N, work, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) body(i);
  });
}

// Asks for the `count` elements at p (a row about to be read at a random place) to be brought
// into cache ahead of use: the aggregate kernels are bound by such row reads.
template <typename T>
inline void prefetch_row(const T* p, int64_t count) {
  constexpr int64_t kLine = 64 / sizeof(T);
  for (int64_t c = 0; c < count; c += kLine) __builtin_prefetch(p + c);
}

// out[i, :] = Σ_{k in group i} values[k, :]  -- values [E, H], out [N, H]
template <typename T>
void segment_sum_kernel(const T* values, T* out, const EdgeGroups& g, int64_t N, int64_t H) {
  const int64_t E = static_cast<int64_t>(g.order.size());
  for_each_node(N, (E + N) * H, [&](int64_t i) {
    T* o = out + i * H;
    for (int64_t h = 0; h < H; ++h) o[h] = T(0);
    for (int64_t p = g.starts[i]; p < g.starts[i + 1]; ++p) {
      const T* v = values + g.order[p] * H;
      for (int64_t h = 0; h < H; ++h) o[h] += v[h];
    }
  });
}

// ---------------------------------------------------------------- segment_softmax kernels

// x, y [E, H]: y = softmax of x over each group, per column; empty (all -inf) groups give 0.
template <typename T>
void segment_softmax_forward_kernel(const T* x, T* y, const EdgeGroups& g, int64_t N, int64_t H) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  const int64_t E = static_cast<int64_t>(g.order.size());
  for_node_ranges(N, E * H, [&](int64_t i0, int64_t i1) {
    std::vector<T> max_buf(H), sum_buf(H);  // the chunk's scratch
    T* m = max_buf.data();
    T* s = sum_buf.data();
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t begin = g.starts[i], end = g.starts[i + 1];
      if (begin == end) continue;
      for (int64_t h = 0; h < H; ++h) m[h] = kNegInf, s[h] = T(0);
      for (int64_t p = begin; p < end; ++p) {
        const T* in = x + g.order[p] * H;
        for (int64_t h = 0; h < H; ++h) m[h] = std::max(m[h], in[h]);
      }
      for (int64_t h = 0; h < H; ++h)
        if (m[h] == kNegInf) m[h] = T(0);  // every entry -inf: exp gives 0 everywhere
      for (int64_t p = begin; p < end; ++p) {
        const int64_t k = g.order[p];
        for (int64_t h = 0; h < H; ++h) {
          y[k * H + h] = std::exp(x[k * H + h] - m[h]);
          s[h] += y[k * H + h];
        }
      }
      for (int64_t h = 0; h < H; ++h) s[h] = s[h] == T(0) ? T(0) : T(1) / s[h];
      for (int64_t p = begin; p < end; ++p) {
        T* out = y + g.order[p] * H;
        for (int64_t h = 0; h < H; ++h) out[h] *= s[h];
      }
    }
  });
}

// dx = y * (dy - Σ_group dy * y), per column.
template <typename T>
void segment_softmax_backward_kernel(const T* dy, const T* y, T* dx, const EdgeGroups& g, int64_t N,
                                     int64_t H) {
  const int64_t E = static_cast<int64_t>(g.order.size());
  for_node_ranges(N, E * H, [&](int64_t i0, int64_t i1) {
    std::vector<T> dot_buf(H);  // the chunk's scratch
    T* dot = dot_buf.data();
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t begin = g.starts[i], end = g.starts[i + 1];
      for (int64_t h = 0; h < H; ++h) dot[h] = T(0);
      for (int64_t p = begin; p < end; ++p) {
        const int64_t k = g.order[p];
        for (int64_t h = 0; h < H; ++h) dot[h] += dy[k * H + h] * y[k * H + h];
      }
      for (int64_t p = begin; p < end; ++p) {
        const int64_t k = g.order[p];
        for (int64_t h = 0; h < H; ++h)  // dx = y (dy - Σ_group dy y)
          dx[k * H + h] = y[k * H + h] * (dy[k * H + h] - dot[h]);
      }
    }
  });
}

// ---------------------------------------------------------------- gat_edge_scores kernels

// e[k, h] = leaky(s_src[src[k], h] + s_dst[dst[k], h]), or with Backward, the gradient of the
// pre-activation: dp[k, h] = de[k, h] * (p > 0 ? 1 : slope).
template <typename T, bool Backward>
void edge_scores_kernel(const T* s_src, const T* s_dst, const int64_t* src, const int64_t* dst,
                        const T* de, T* out, int64_t E, int64_t H, T slope) {
  // Edges per chunk so that a chunk writes about kParallelGrain elements.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(H, 1));
  parallel_for(0, E, grain, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const T* a = s_src + src[k] * H;
      const T* b = s_dst + dst[k] * H;
      T* o = out + k * H;
      for (int64_t h = 0; h < H; ++h) {
        const T p = a[h] + b[h];  // p = s_src[j] + s_dst[i], recomputed in backward
        if (Backward)             // dp = dout leaky'(p)
          o[h] = p > T(0) ? de[k * H + h] : slope * de[k * H + h];
        else
          o[h] = p > T(0) ? p : slope * p;
      }
    }
  });
}

// ---------------------------------------------------------------- graph_aggregate kernels

// out[i, h, :] = Σ_{k in group i} alpha[k, h] * values[src[k], h, :]  -- out [N, H, C]
template <typename T>
void aggregate_forward_kernel(const T* alpha, const T* values, const int64_t* src,
                              const EdgeGroups& by_dst, T* out, int64_t N, int64_t H, int64_t C) {
  const int64_t E = static_cast<int64_t>(by_dst.order.size());
  for_each_node(N, (E + N) * H * C, [&](int64_t i) {
    T* o = out + i * H * C;
    for (int64_t c = 0; c < H * C; ++c) o[c] = T(0);
    const int64_t end = by_dst.starts[i + 1];
    for (int64_t p = by_dst.starts[i]; p < end; ++p) {
      const int64_t k = by_dst.order[p];
      if (p + 1 < end) prefetch_row(values + src[by_dst.order[p + 1]] * H * C, H * C);
      const T* v = values + src[k] * H * C;
      for (int64_t h = 0; h < H; ++h) {
        const T w = alpha[k * H + h];
        T* oh = o + h * C;
        const T* vh = v + h * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) oh[c] += w * vh[c];
      }
    }
  });
}

// Both gradients in one pass over the edges grouped by source node j, so each edge reads one
// random row (dout[dst[k]]) for both:
//   dalpha[k, h] = <dout[dst[k], h, :], values[j, h, :]>                 (when dalpha != nullptr)
//   dvalues[j, h, :] = Σ_{k in group j} alpha[k, h] * dout[dst[k], h, :]  (when dvalues != nullptr)
template <typename T>
void aggregate_backward_kernel(const T* dout, const T* alpha, const T* values, const int64_t* dst,
                               const EdgeGroups& by_src, T* dalpha, T* dvalues, int64_t Ns,
                               int64_t H, int64_t C) {
  const int64_t E = static_cast<int64_t>(by_src.order.size());
  for_each_node(Ns, (E + Ns) * H * C, [&](int64_t j) {
    const T* v = values + j * H * C;
    T* o = dvalues ? dvalues + j * H * C : nullptr;
    if (o)
      for (int64_t c = 0; c < H * C; ++c) o[c] = T(0);
    const int64_t end = by_src.starts[j + 1];
    for (int64_t p = by_src.starts[j]; p < end; ++p) {
      const int64_t k = by_src.order[p];
      if (p + 1 < end) prefetch_row(dout + dst[by_src.order[p + 1]] * H * C, H * C);
      const T* g = dout + dst[k] * H * C;
      for (int64_t h = 0; h < H; ++h) {
        const T* gh = g + h * C;
        if (dalpha) {
          const T* vh = v + h * C;
          T acc = 0;
#pragma omp simd reduction(+ : acc)
          for (int64_t c = 0; c < C; ++c) acc += gh[c] * vh[c];
          dalpha[k * H + h] = acc;
        }
        if (o) {
          const T w = alpha[k * H + h];
          T* oh = o + h * C;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) oh[c] += w * gh[c];
        }
      }
    }
  });
}

}  // namespace

// ---------------------------------------------------------------- segment_softmax

Tensor segment_softmax(const Tensor& scores, const Tensor& index, int64_t num_nodes) {
  const char* op = "segment_softmax";
  check_floating(scores, op, "scores");
  check_int64_index(index, op, "index");
  MINIDL_CHECK(scores.dim() >= 1, op, "scores must have at least 1 dim [E, ...], got a 0-d tensor");
  MINIDL_CHECK(index.dim() == 1 && index.size(0) == scores.size(0), op,
               "index must have shape [E] = [" << scores.size(0) << "] for scores of shape "
                                               << shape_str(scores.shape()) << ", got "
                                               << shape_str(index.shape()));
  MINIDL_CHECK(num_nodes >= 0, op, "num_nodes must be >= 0, got " << num_nodes);
  Tensor idx = index.contiguous();
  const int64_t E = scores.size(0), H = E == 0 ? 0 : scores.numel() / E;
  check_range(idx.data_ptr<int64_t>(), E, num_nodes, op, "index");
  Tensor x = scores.contiguous();
  Tensor out = empty(scores.shape(), scores.dtype());
  std::shared_ptr<EdgeGroups> groups = group_edges(idx.data_ptr<int64_t>(), E, num_nodes);
  MINIDL_DISPATCH_FLOATING(
      scores.dtype(), op,
      segment_softmax_forward_kernel<scalar_t>(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                               *groups, num_nodes, H));
  // out = exp(scores - max_seg) / Σ_seg exp(scores - max_seg) ;
  //   dscores = out * (dout - Σ_seg dout * out)
  //   (seg = the edges k with the same index[k], per column h; scores, out [E, H])
  // derivation: softmax over each group: out_k = e^{x_k} / Σ_{k' in seg} e^{x_k'}
  //   d out_k / d x_m = out_k ([k = m] - out_m) for k, m in the same group, 0 across groups
  //   dx_m = Σ_k dout_k out_k ([k = m] - out_m) = out_m (dout_m - Σ_k dout_k out_k)
  //   saved: out only (the group max and sum are not needed once out is known)
  if (needs_grad({scores})) {
    SavedTensor saved_out(out);
    record("SegmentSoftmaxBackward0", out, {scores},
           [saved_out, groups, num_nodes, H](const Tensor& grad) {
             const Tensor& y = saved_out.get();
             Tensor dy = grad.contiguous();
             Tensor dx = empty(y.shape(), y.dtype());
             MINIDL_DISPATCH_FLOATING(y.dtype(), "segment_softmax backward",
                                      segment_softmax_backward_kernel<scalar_t>(
                                          dy.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
                                          dx.data_ptr<scalar_t>(), *groups, num_nodes, H));
             return GradList{dx};
           });
  }
  return out;
}

// ---------------------------------------------------------------- gat_edge_scores

Tensor gat_edge_scores(const Tensor& score_src, const Tensor& score_dst, const Tensor& edge_index,
                       double negative_slope) {
  const char* op = "gat_edge_scores";
  check_floating(score_src, op, "score_src");
  check_floating(score_dst, op, "score_dst");
  Tensor edges = checked_edge_index(edge_index, op);
  MINIDL_CHECK(
      score_src.dim() == 2 && score_dst.dim() == 2 && score_src.size(1) == score_dst.size(1), op,
      "score_src and score_dst must be [num_nodes, heads] with the same heads, got "
          << shape_str(score_src.shape()) << " and " << shape_str(score_dst.shape()));
  MINIDL_CHECK(score_src.dtype() == score_dst.dtype(), op,
               "score_src (" << score_src.dtype() << ") and score_dst (" << score_dst.dtype()
                             << ") must have one dtype");
  const int64_t E = edges.size(1), H = score_src.size(1);
  const int64_t Ns = score_src.size(0), Nt = score_dst.size(0);
  const int64_t* src = edges.data_ptr<int64_t>();
  const int64_t* dst = src + E;
  check_range(src, E, Ns, op, "source");
  check_range(dst, E, Nt, op, "target");
  Tensor a = score_src.contiguous(), b = score_dst.contiguous();
  Tensor out = empty({E, H}, score_src.dtype());
  MINIDL_DISPATCH_FLOATING(score_src.dtype(), op,
                           edge_scores_kernel<scalar_t, false>(
                               a.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), src, dst, nullptr,
                               out.data_ptr<scalar_t>(), E, H, scalar_t(negative_slope)));
  // out[k] = leaky_relu(score_src[j(k)] + score_dst[i(k)]) (edge k: j(k) -> i(k)) ;
  //   dscore_src = Σ_{k: j(k) = j} dp[k] ,  dscore_dst = Σ_{k: i(k) = i} dp[k]
  //   with p[k] = score_src[j(k)] + score_dst[i(k)], dp = dout * (p > 0 ? 1 : slope)   [E, H]
  // derivation: p is recomputed from the saved score_src, score_dst (two gathers) rather than
  //   saved; each edge's dp goes back to the node row it gathered from: a segment sum over the
  //   edges grouped by source node (dscore_src [Ns, H]) and by target node (dscore_dst [Nt, H])
  if (needs_grad({score_src, score_dst})) {
    const bool want_src = score_src.requires_grad(), want_dst = score_dst.requires_grad();
    SavedTensor saved_a(a), saved_b(b), saved_edges(edges);
    record("GatEdgeScoresBackward0", out, {score_src, score_dst}, [=](const Tensor& grad) {
      const Tensor& sa = saved_a.get();
      const Tensor& sb = saved_b.get();
      const int64_t* s = saved_edges.get().data_ptr<int64_t>();
      const int64_t* d = s + E;
      Tensor de = grad.contiguous();
      Tensor dp = empty({E, H}, de.dtype());
      Tensor d_src, d_dst;
      MINIDL_DISPATCH_FLOATING(de.dtype(), "gat_edge_scores backward", {
        edge_scores_kernel<scalar_t, true>(sa.data_ptr<scalar_t>(), sb.data_ptr<scalar_t>(), s, d,
                                           de.data_ptr<scalar_t>(), dp.data_ptr<scalar_t>(), E, H,
                                           scalar_t(negative_slope));
        if (want_src) {
          d_src = empty({Ns, H}, de.dtype());
          segment_sum_kernel<scalar_t>(dp.data_ptr<scalar_t>(), d_src.data_ptr<scalar_t>(),
                                       *group_edges(s, E, Ns), Ns, H);
        }
        if (want_dst) {
          d_dst = empty({Nt, H}, de.dtype());
          segment_sum_kernel<scalar_t>(dp.data_ptr<scalar_t>(), d_dst.data_ptr<scalar_t>(),
                                       *group_edges(d, E, Nt), Nt, H);
        }
      });
      return GradList{d_src, d_dst};
    });
  }
  return out;
}

// ---------------------------------------------------------------- graph_aggregate

Tensor graph_aggregate(const Tensor& alpha, const Tensor& values, const Tensor& edge_index,
                       int64_t num_nodes) {
  const char* op = "graph_aggregate";
  check_floating(alpha, op, "alpha");
  check_floating(values, op, "values");
  Tensor edges = checked_edge_index(edge_index, op);
  const int64_t E = edges.size(1);
  MINIDL_CHECK(
      values.dim() == 3, op,
      "values must be [num_source_nodes, heads, channels], got " << shape_str(values.shape()));
  const int64_t Ns = values.size(0), H = values.size(1), C = values.size(2);
  MINIDL_CHECK(alpha.shape() == Shape({E, H}), op,
               "alpha must be [E, heads] = [" << E << ", " << H << "] for edge_index "
                                              << shape_str(edge_index.shape()) << " and values "
                                              << shape_str(values.shape()) << ", got "
                                              << shape_str(alpha.shape()));
  MINIDL_CHECK(
      alpha.dtype() == values.dtype(), op,
      "alpha (" << alpha.dtype() << ") and values (" << values.dtype() << ") must have one dtype");
  MINIDL_CHECK(num_nodes >= 0, op, "num_nodes must be >= 0, got " << num_nodes);
  const int64_t* src = edges.data_ptr<int64_t>();
  const int64_t* dst = src + E;
  check_range(src, E, Ns, op, "source");
  check_range(dst, E, num_nodes, op, "target");
  Tensor a = alpha.contiguous(), v = values.contiguous();
  Tensor out = empty({num_nodes, H, C}, values.dtype());
  MINIDL_DISPATCH_FLOATING(
      values.dtype(), op,
      aggregate_forward_kernel<scalar_t>(a.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(), src,
                                         *group_edges(dst, E, num_nodes), out.data_ptr<scalar_t>(),
                                         num_nodes, H, C));
  // out[i, h] = Σ_{k: i(k) = i} alpha[k, h] values[j(k), h] ;
  //   dalpha = <dout[i(k), h], values[j(k), h]> ,
  //   dvalues = Σ_{k: j(k) = j} alpha[k, h] dout[i(k), h]   (edge k: j(k) -> i(k); rows [C])
  // derivation: out is linear in each of alpha and values: d out[i(k), h] / d alpha[k, h] =
  //   values[j(k), h] (a dot product with dout over C), and values[j] feeds every edge leaving j,
  //   weighted by alpha: a sum over the edges grouped by source node, one pass for both
  if (needs_grad({alpha, values})) {
    const bool want_alpha = alpha.requires_grad(), want_values = values.requires_grad();
    SavedTensor saved_a(a), saved_v(v), saved_edges(edges);
    record("GraphAggregateBackward0", out, {alpha, values}, [=](const Tensor& grad) {
      const int64_t* s = saved_edges.get().data_ptr<int64_t>();
      const int64_t* d = s + E;
      Tensor g = grad.contiguous();
      Tensor d_alpha, d_values;
      if (want_alpha) d_alpha = empty({E, H}, g.dtype());
      if (want_values) d_values = empty({Ns, H, C}, g.dtype());
      MINIDL_DISPATCH_FLOATING(
          g.dtype(), "graph_aggregate backward",
          aggregate_backward_kernel<scalar_t>(
              g.data_ptr<scalar_t>(), saved_a.get().data_ptr<scalar_t>(),
              saved_v.get().data_ptr<scalar_t>(), d, *group_edges(s, E, Ns),
              want_alpha ? d_alpha.data_ptr<scalar_t>() : nullptr,
              want_values ? d_values.data_ptr<scalar_t>() : nullptr, Ns, H, C));
      return GradList{d_alpha, d_values};
    });
  }
  return out;
}

}  // namespace minidl
