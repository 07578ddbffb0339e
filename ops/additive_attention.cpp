// Fused additive attention score Σ_u v[u] tanh(qp[b,i,u] + kp[b,j,u]) and its recomputing
// backward (formulas in additive_attention.h).
#include "ops/additive_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/autograd.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "core/strided.h"
#include "ops/loops.h"

namespace minidl {

namespace {

// One query row: out[j] = Σ_u v[u] tanh(qr[u] + kb[j, u]) for j < keys.
template <typename T>
void score_row(const T* qr, const T* kb, const T* v, T* out, int64_t keys, int64_t units) {
  for (int64_t j = 0; j < keys; ++j) {
    const T* kr = kb + j * units;
    T acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t u = 0; u < units; ++u) acc += v[u] * tanh_vec(qr[u] + kr[u]);
    out[j] = acc;
  }
}

// scores[b, i, j] = Σ_u v[u] tanh(q[b, i, u] + k[b, j, u]); q [B, Tq, U], k [B, Tk, U], v [U],
// all contiguous. Parallel over the B·Tq rows.
template <typename T>
void scores_forward(const T* q, const T* k, const T* v, T* out, int64_t batch, int64_t queries,
                    int64_t keys, int64_t units) {
  // Rows per chunk so that a chunk does about kParallelGrain tanh terms (keys * units a row).
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(keys * units, 1));
  parallel_for(0, batch * queries, grain, [&](int64_t row0, int64_t row1) {
    for (int64_t row = row0; row < row1; ++row)
      score_row(q + row * units, k + (row / queries) * keys * units, v, out + row * keys, keys,
                units);
  });
}

// The gradient contributions of one query row qr [U] with its gradient row gr [Tk]: into
// dqr [U], the keys' dkb [Tk, U] and dv [U].
template <typename T>
void grad_row(const T* qr, const T* kb, const T* v, const T* gr, T* dqr, T* dkb, T* dv,
              int64_t keys, int64_t units) {
  for (int64_t j = 0; j < keys; ++j) {
    const T gij = gr[j];
    if (gij == T(0)) continue;  // an excluded key
    const T* kr = kb + j * units;
    T* dkr = dkb + j * units;
#pragma omp simd
    for (int64_t u = 0; u < units; ++u) {
      const T t = tanh_vec(qr[u] + kr[u]);      // t recomputed (not saved)
      const T d = gij * v[u] * (T(1) - t * t);  // d(qp + kp) = dout v (1 - t²)
      dv[u] += gij * t;                         // dv += dout t
      dqr[u] += d;                              // dqp[i] += d, summed over keys j
      dkr[u] += d;                              // dkp[j] += d, summed over queries i
    }
  }
}

// The gradients for g [B, Tq, Tk]: dq, dk (zero-initialized, [B, T, U]) and dv [U]. Parallel
// over the batch (each b owns dq[b], dk[b]); dv is summed per chunk of batches, then the chunks'
// sums are added in chunk order (the same dv however the chunks ran).
template <typename T>
void scores_backward(const T* q, const T* k, const T* v, const T* g, T* dq, T* dk, T* dv,
                     int64_t batch, int64_t queries, int64_t keys, int64_t units) {
  // Batches per chunk so that a chunk does about kParallelGrain tanh terms.
  const int64_t grain =
      std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(queries * keys * units, 1));
  const int64_t chunks = detail::chunk_count(batch, grain);
  std::vector<T> dv_partial(static_cast<size_t>(chunks * units), T(0));
  parallel_chunks(chunks, [&](int64_t chunk, int) {
    T* dv_chunk = dv_partial.data() + chunk * units;
    for (int64_t b = batch * chunk / chunks; b < batch * (chunk + 1) / chunks; ++b) {
      for (int64_t i = 0; i < queries; ++i) {
        const int64_t row = b * queries + i;
        grad_row(q + row * units, k + b * keys * units, v, g + row * keys, dq + row * units,
                 dk + b * keys * units, dv_chunk, keys, units);
      }
    }
  });
  for (int64_t c = 0; c < chunks; ++c)
    for (int64_t u = 0; u < units; ++u) dv[u] += dv_partial[c * units + u];
}

}  // namespace

Tensor additive_attention_scores(const Tensor& query_proj, const Tensor& key_proj,
                                 const Tensor& v) {
  const char* op = "additive_attention_scores";
  MINIDL_CHECK(query_proj.defined() && key_proj.defined() && v.defined(), op,
               "query_proj, key_proj and v must be defined");
  MINIDL_CHECK(query_proj.dim() == 3 && key_proj.dim() == 3 && v.dim() == 1 &&
                   query_proj.size(0) == key_proj.size(0) &&
                   query_proj.size(2) == key_proj.size(2) && v.size(0) == query_proj.size(2),
               op,
               "expected query_proj [B, Tq, U], key_proj [B, Tk, U] and v [U], got "
                   << shape_str(query_proj.shape()) << ", " << shape_str(key_proj.shape())
                   << " and " << shape_str(v.shape()));
  MINIDL_CHECK(query_proj.is_floating_point() && key_proj.dtype() == query_proj.dtype() &&
                   v.dtype() == query_proj.dtype(),
               op,
               "query_proj, key_proj and v must share one floating dtype, got "
                   << query_proj.dtype() << ", " << key_proj.dtype() << " and " << v.dtype());
  const int64_t batch = query_proj.size(0), queries = query_proj.size(1), keys = key_proj.size(1),
                units = v.size(0);
  const Tensor q = query_proj.contiguous(), k = key_proj.contiguous(), vc = v.contiguous();
  Tensor out = empty({batch, queries, keys}, query_proj.dtype());
  MINIDL_DISPATCH_FLOATING(out.dtype(), op, {
    scores_forward(q.data_ptr<scalar_t>(), k.data_ptr<scalar_t>(), vc.data_ptr<scalar_t>(),
                   out.data_ptr<scalar_t>(), batch, queries, keys, units);
  });
  // out[b, i, j] = Σ_u v[u] t[b, i, j, u], t = tanh(qp[b, i, u] + kp[b, j, u]) ;
  //   dquery_proj = Σ_j dout[b, i, j] v[u] (1 - t²) ,
  //   dkey_proj = Σ_i dout[b, i, j] v[u] (1 - t²) ,  dv = Σ_{b,i,j} dout[b, i, j] t
  //   (qp = query_proj, kp = key_proj)
  // derivation: qp [B, Tq, U], kp [B, Tk, U], v [U], out dout [B, Tq, Tk]
  //   d out / d t = v[u] ;  tanh' = 1 - t² ;  qp and kp enter the tanh argument with weight 1,
  //   so both get dout v (1 - t²), summed over the index they do not carry (j for qp, i for kp)
  //   saved: qp, kp, v only; t is recomputed in backward: storing it would be [B, Tq, Tk, U],
  //   the memory the fused op exists to avoid (the unfused form materializes qp + kp that size)
  if (needs_grad({query_proj, key_proj, v}))
    record("AdditiveAttentionScoresBackward0", out, {query_proj, key_proj, v},
           [q = SavedTensor(q), k = SavedTensor(k), vs = SavedTensor(vc),
            wants = std::vector<bool>{query_proj.requires_grad(), key_proj.requires_grad(),
                                      v.requires_grad()}](const Tensor& grad) {
             const Tensor& qt = q.get();
             const Tensor& kt = k.get();
             const Tensor& vt = vs.get();
             const Tensor g = grad.contiguous();
             Tensor dq = zeros(qt.shape(), qt.dtype()), dk = zeros(kt.shape(), kt.dtype()),
                    dv = zeros(vt.shape(), vt.dtype());
             MINIDL_DISPATCH_FLOATING(g.dtype(), "additive_attention_scores", {
               scores_backward(
                   qt.data_ptr<scalar_t>(), kt.data_ptr<scalar_t>(), vt.data_ptr<scalar_t>(),
                   g.data_ptr<scalar_t>(), dq.data_ptr<scalar_t>(), dk.data_ptr<scalar_t>(),
                   dv.data_ptr<scalar_t>(), qt.size(0), qt.size(1), kt.size(1), vt.size(0));
             });
             return GradList{wants[0] ? dq : Tensor(), wants[1] ? dk : Tensor(),
                             wants[2] ? dv : Tensor()};
           });
  return out;
}

}  // namespace minidl
