// Sliding-window attention: out_i = sum_{|band|} softmax(scale q_i . k_j) v_j over
// j in [i - window_left, i + window_right] (Longformer local attention), fused forward and
// backward kernels in O(T * W) time and memory. See ops/sliding_window_attention.h.
//
// Blocking: queries go in blocks [i0, i1) of Bq rows; their bands reach the keys
// [max(0, i0 - wl), min(T, i1 + wr)), L <= Bq + W - 1 of them. One GEMM gives the [Bq, L]
// scores of the block (the entries outside each row's band are computed and ignored: a waste of
// (Bq - 1) / (Bq + W - 1), repaid many times by GEMM speed over separate dot products).
// Parallelism: the thread pool (core/parallel.h) over (sequence = batch * heads, block) tasks,
// each thread with its own scratch; the GEMMs inside run single-threaded. Every task writes only
// its own rows of the outputs.
#include "ops/sliding_window_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "core/strided.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"

namespace minidl {

namespace {

const char* kOp = "sliding_window_attention";

using detail::dense;  // ops/linalg.h

using detail::gemm;  // C = alpha op(A) op(B) + beta C (ops/linalg.h)

// The problem: N = prod(leading dims) independent sequences of length T.
struct BandGeometry {
  int64_t N = 0, T = 0, E = 0, Ev = 0;
  int64_t wl = 0, wr = 0, W = 0;
  int64_t block = 32;              // queries (forward, dq) or keys (dk, dv) per task
  const bool* mask = nullptr;      // [B, T] contiguous, true = padded; null = none
  int64_t sequences_per_mask = 1;  // N / B: sequence n uses mask row n / sequences_per_mask
  double scale = 1.0;

  int64_t blocks() const { return (T + block - 1) / block; }
  // Keys a query block reaches, or queries reaching a key block (at most).
  int64_t span() const { return std::min(block + W - 1, T); }
  bool padded(int64_t n, int64_t j) const {
    return mask != nullptr && mask[(n / sequences_per_mask) * T + j];
  }
};

// Runs body(n, b, scratch) for every sequence n and block b, in parallel when the work is large;
// each thread owns a scratch buffer of `scratch_size` elements.
template <typename T, typename Body>
void for_each_block(const BandGeometry& g, int64_t scratch_size, Body&& body) {
  const int64_t blocks = g.blocks(), tasks = g.N * blocks;
  // Tasks per chunk so that a chunk does about kParallelGrain multiply-adds; a task's GEMMs do
  // about block * W * (E + Ev), usually more than that on their own (a grain of one task).
  const int64_t task_work =
      std::max<int64_t>(1, g.T * g.W * (g.E + g.Ev) / std::max<int64_t>(blocks, 1));
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / task_work);
  std::vector<T> scratch(static_cast<size_t>(get_num_threads() * scratch_size));
  parallel_for_slots(0, tasks, grain, [&](int64_t t0, int64_t t1, int slot) {
    T* mine = scratch.data() + slot * scratch_size;
    for (int64_t t = t0; t < t1; ++t) body(t / blocks, t % blocks, mine);
  });
}

// Forward over contiguous q [N, T, E], k [N, T, E], v [N, T, Ev] into out [N, T, Ev] and the band
// probabilities p [N, T, W]. Per query block: scores [Bq, L] = q_blk k_rangeᵀ (GEMM); masked
// softmax over each row's band, written to p and, densely with zeros off the band, back into the
// scores buffer; out_blk = probs [Bq, L] v_range (GEMM).
// With dropout, `drop` [N, T, W] holds 0 or 1 / (1 - dropout_p) per band entry and the output
// uses p * drop.
template <typename T>
void forward_kernel(const T* q, const T* k, const T* v, const T* drop, T* out, T* p,
                    const BandGeometry& g) {
  const int64_t E = g.E, Ev = g.Ev, W = g.W, L = g.span();
  const T scale = static_cast<T>(g.scale);
  for_each_block<T>(g, g.block * L, [&](int64_t n, int64_t b, T* scores) {
    const int64_t i0 = b * g.block, i1 = std::min(g.T, i0 + g.block), rows = i1 - i0;
    const int64_t j0 = std::max<int64_t>(0, i0 - g.wl), j1 = std::min(g.T, i1 + g.wr);
    const int64_t keys = j1 - j0;
    const T* qn = q + n * g.T * E;
    const T* kn = k + n * g.T * E;
    const T* vn = v + n * g.T * Ev;
    // scores [rows, keys] = q_blk k_rangeᵀ (scale applied per band entry below)
    gemm(false, true, rows, keys, E, T(1), qn + i0 * E, E, kn + j0 * E, E, T(0), scores, keys);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = i0 + r;
      T* row = scores + r * keys;
      T* band = p + (n * g.T + i) * W;
      const int64_t lo = std::max<int64_t>(0, i - g.wl), hi = std::min(g.T, i + g.wr + 1);
      // m = max over the row's unpadded band of scale q_i·k_j (stable softmax)
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t j = lo; j < hi; ++j)
        if (!g.padded(n, j)) m = std::max(m, row[j - j0] * scale);
      T sum = 0;
      for (int64_t c = 0; c < W; ++c) band[c] = 0;
      if (m != -std::numeric_limits<T>::infinity()) {
        for (int64_t j = lo; j < hi; ++j) {
          if (g.padded(n, j)) continue;
          const T e = std::exp(row[j - j0] * scale - m);
          band[j - i + g.wl] = e;
          sum += e;
        }
        const T inv = T(1) / sum;
        for (int64_t c = 0; c < W; ++c) band[c] *= inv;  // p_ij = exp(s_ij - m) / Σ_band exp
      }
      // Dense row of (dropped-out) probabilities for the output GEMM: zero off the band.
      const T* keep = drop ? drop + (n * g.T + i) * W : nullptr;
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t c = j - i + g.wl;
        row[j - j0] = (c >= 0 && c < W) ? (keep ? band[c] * keep[c] : band[c]) : T(0);
      }
    }
    // out_blk [rows, Ev] = (p * drop) [rows, keys] v_range
    gemm(false, false, rows, Ev, keys, T(1), scores, keys, vn + j0 * Ev, Ev, T(0),
         out + (n * g.T + i0) * Ev, Ev);
  });
}

// Backward, pass 1 (per query block): dp [Bq, L] = dout_blk v_rangeᵀ (GEMM);
// ds = scale * p * (dp - sum_c p dp) on the band, stored band-wise in ds_band [N, T, W] and
// densely in the scratch; dq_blk = ds [Bq, L] k_range (GEMM, when dq is wanted).
// With dropout, dp is multiplied by `drop` first (the gradient w.r.t. the undropped p).
template <typename T>
void backward_scores_kernel(const T* dout, const T* k, const T* v, const T* p, const T* drop,
                            T* ds_band, T* dq, const BandGeometry& g) {
  const int64_t E = g.E, Ev = g.Ev, W = g.W, L = g.span();
  const T scale = static_cast<T>(g.scale);
  for_each_block<T>(g, g.block * L, [&](int64_t n, int64_t b, T* dp) {
    const int64_t i0 = b * g.block, i1 = std::min(g.T, i0 + g.block), rows = i1 - i0;
    const int64_t j0 = std::max<int64_t>(0, i0 - g.wl), j1 = std::min(g.T, i1 + g.wr);
    const int64_t keys = j1 - j0;
    // dp [rows, keys] = dout_blk v_rangeᵀ  (out = pd v)
    gemm(false, true, rows, keys, Ev, T(1), dout + (n * g.T + i0) * Ev, Ev, v + (n * g.T + j0) * Ev,
         Ev, T(0), dp, keys);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = i0 + r;
      T* row = dp + r * keys;
      const T* band = p + (n * g.T + i) * W;
      T* ds = ds_band + (n * g.T + i) * W;
      const int64_t lo = std::max<int64_t>(0, i - g.wl), hi = std::min(g.T, i + g.wr + 1);
      if (drop) {  // pd = p * drop:  dp = dpd * drop
        const T* keep = drop + (n * g.T + i) * W;
        for (int64_t j = lo; j < hi; ++j) row[j - j0] *= keep[j - i + g.wl];
      }
      // dot = Σ_band p dp, the softmax backward's row term (D of flash attention)
      T dot = 0;
      for (int64_t j = lo; j < hi; ++j) dot += band[j - i + g.wl] * row[j - j0];
      for (int64_t c = 0; c < W; ++c) ds[c] = 0;
      for (int64_t j = lo; j < hi; ++j) {
        const int64_t c = j - i + g.wl;
        ds[c] = scale * band[c] * (row[j - j0] - dot);  // ds = scale p (dp - Σ p dp)
      }
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t c = j - i + g.wl;
        row[j - j0] = (c >= 0 && c < W) ? ds[c] : T(0);
      }
    }
    if (dq)  // dq_blk [rows, E] = ds [rows, keys] k_range  (scale is inside ds)
      gemm(false, false, rows, E, keys, T(1), dp, keys, k + (n * g.T + j0) * E, E, T(0),
           dq + (n * g.T + i0) * E, E);
  });
}

// Backward, pass 2 (per key block [j0, j1)): the queries whose bands reach it are
// [max(0, j0 - wr), min(T, j1 + wl)); gather their band entries into dense [Lq, Bk] matrices
// (entry (i, j) = band[i][j - i + wl]) and
//   dk_blk = dsᵀ q_range ,  dv_blk = pᵀ dout_range     (GEMMs; each task owns its rows)
// (dv uses the dropped-out p * drop.)
template <typename T>
void backward_keys_kernel(const T* q, const T* dout, const T* p, const T* drop, const T* ds_band,
                          T* dk, T* dv, const BandGeometry& g) {
  const int64_t E = g.E, Ev = g.Ev, W = g.W, L = g.span();
  for_each_block<T>(g, g.block * L, [&](int64_t n, int64_t b, T* gathered) {
    const int64_t j0 = b * g.block, j1 = std::min(g.T, j0 + g.block), cols = j1 - j0;
    const int64_t q0 = std::max<int64_t>(0, j0 - g.wr), q1 = std::min(g.T, j1 + g.wl);
    const int64_t queries = q1 - q0;
    auto gather = [&](const T* band_tensor, const T* factor) {
      for (int64_t i = q0; i < q1; ++i) {
        const T* band = band_tensor + (n * g.T + i) * W;
        const T* keep = factor ? factor + (n * g.T + i) * W : nullptr;
        T* row = gathered + (i - q0) * cols;
        for (int64_t j = j0; j < j1; ++j) {
          const int64_t c = j - i + g.wl;
          row[j - j0] = (c >= 0 && c < W) ? (keep ? band[c] * keep[c] : band[c]) : T(0);
        }
      }
    };
    if (dk) {  // dk_blk [cols, E] = dsᵀ [cols, queries] q_range  (scale inside ds)
      gather(ds_band, nullptr);
      gemm(true, false, cols, E, queries, T(1), gathered, cols, q + (n * g.T + q0) * E, E, T(0),
           dk + (n * g.T + j0) * E, E);
    }
    if (dv) {  // dv_blk [cols, Ev] = (p * drop)ᵀ dout_range
      gather(p, drop);
      gemm(true, false, cols, Ev, queries, T(1), gathered, cols, dout + (n * g.T + q0) * Ev, Ev,
           T(0), dv + (n * g.T + j0) * Ev, Ev);
    }
  });
}

void check_inputs(const Tensor& q, const Tensor& k, const Tensor& v, int64_t wl, int64_t wr,
                  const Tensor& mask) {
  MINIDL_CHECK(q.defined() && k.defined() && v.defined(), kOp,
               "query, key and value must be defined");
  MINIDL_CHECK(q.is_floating_point() && q.dtype() == k.dtype() && q.dtype() == v.dtype(), kOp,
               "query, key and value must share one floating dtype, got "
                   << q.dtype() << ", " << k.dtype() << " and " << v.dtype());
  MINIDL_CHECK(
      q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(), kOp,
      "expected query [..., T, E], key [..., T, E] and value [..., T, Ev] of the same rank "
      ">= 2, got "
          << shape_str(q.shape()) << ", " << shape_str(k.shape()) << " and "
          << shape_str(v.shape()));
  Shape lead_q(q.shape().begin(), q.shape().end() - 1),
      lead_k(k.shape().begin(), k.shape().end() - 1),
      lead_v(v.shape().begin(), v.shape().end() - 1);
  MINIDL_CHECK(lead_q == lead_k && lead_q == lead_v && q.size(-1) == k.size(-1), kOp,
               "query " << shape_str(q.shape()) << ", key " << shape_str(k.shape()) << " and value "
                        << shape_str(v.shape())
                        << " must agree on the leading dims and T (self-attention), and query and "
                           "key on E");
  MINIDL_CHECK(q.size(-1) > 0 && v.size(-1) > 0, kOp,
               "head dims must be positive, got query " << shape_str(q.shape()) << " and value "
                                                        << shape_str(v.shape()));
  MINIDL_CHECK(wl >= 0 && wr >= 0 && wl < (int64_t(1) << 30) && wr < (int64_t(1) << 30), kOp,
               "window_left and window_right must be in [0, 2^30), got " << wl << " and " << wr);
  if (!mask.defined()) return;
  Shape expected = q.dim() == 2 ? Shape{q.size(-2)} : Shape{q.size(0), q.size(-2)};
  MINIDL_CHECK(mask.dtype() == kBool, kOp,
               "key_padding_mask must be bool (true = padded), got " << mask.dtype() << " of shape "
                                                                     << shape_str(mask.shape()));
  MINIDL_CHECK(mask.shape() == expected, kOp,
               "key_padding_mask has shape " << shape_str(mask.shape()) << ", expected "
                                             << shape_str(expected) << " for query "
                                             << shape_str(q.shape()));
}

}  // namespace

SlidingWindowResult sliding_window_attention(const Tensor& query, const Tensor& key,
                                             const Tensor& value, int64_t window_left,
                                             int64_t window_right, const Tensor& key_padding_mask,
                                             std::optional<double> scale, bool need_weights,
                                             double dropout_p, Generator* generator) {
  check_inputs(query, key, value, window_left, window_right, key_padding_mask);
  MINIDL_CHECK(dropout_p >= 0 && dropout_p <= 1, kOp,
               "dropout_p must be in [0, 1], got " << dropout_p);
  const Shape& shape = query.shape();
  BandGeometry g;
  g.T = shape[shape.size() - 2];
  g.E = shape.back();
  g.Ev = value.size(-1);
  g.N = 1;
  for (size_t d = 0; d + 2 < shape.size(); ++d) g.N *= shape[d];
  // The weights keep the requested band width even when the sequence is shorter than it.
  const int64_t W = window_left + window_right + 1;
  g.W = W;
  g.wl = window_left;
  g.wr = window_right;
  g.block = std::clamp<int64_t>(W, 16, 64);
  g.scale = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(g.E));

  Shape out_shape = shape, band_shape = shape;
  out_shape.back() = g.Ev;
  band_shape.back() = W;
  Tensor out = empty(out_shape, query.dtype());
  Tensor probs = empty(band_shape, query.dtype());
  Tensor q = dense(query), k = dense(key), v = dense(value);
  Tensor mask = key_padding_mask.defined() ? dense(key_padding_mask) : Tensor();
  if (mask.defined()) {
    g.mask = mask.data_ptr<bool>();
    g.sequences_per_mask = query.dim() == 2 || shape[0] == 0 ? 1 : g.N / shape[0];
  }
  // Dropout on the weights: a band of factors 0 or 1 / (1 - dropout_p).
  Tensor drop;
  if (dropout_p > 0) {
    NoGradGuard no_grad;
    drop = dropout(ones(band_shape, query.dtype()), dropout_p, true, generator);
  }
  if (g.N * g.T > 0) {
    MINIDL_DISPATCH_FLOATING(
        query.dtype(), kOp,
        forward_kernel<scalar_t>(q.data_ptr<scalar_t>(), k.data_ptr<scalar_t>(),
                                 v.data_ptr<scalar_t>(),
                                 drop.defined() ? drop.data_ptr<scalar_t>() : nullptr,
                                 out.data_ptr<scalar_t>(), probs.data_ptr<scalar_t>(), g));
  }

  if (needs_grad({query, key, value})) {
    const bool want_q = query.requires_grad(), want_k = key.requires_grad(),
               want_v = value.requires_grad();
    // out = (p * drop) value, p = band softmax(scale query keyᵀ) ;  dquery = scale ds key ,
    //   dkey = scale dsᵀ query ,  dvalue = (p * drop)ᵀ dout
    // derivation: per sequence q k [T, E], v [T, Ev]; band of row i = keys [i - wl, i + wr],
    //   W = wl + wr + 1 entries (padded keys and keys outside [0, T) excluded: p = 0 there)
    //   forward per row: m = max over the band of scale q_i·k_j, p_ij = exp(scale q_i·k_j - m) / l
    //   saved: p [N, T, W] (and drop [N, T, W] with dropout) -- O(T W) memory, no [T, T] matrix;
    //   unlike flash attention p is kept, not recomputed: it is only W wide
    //   dpd = dout vᵀ on the band ;  dp = dpd * drop (the undropped p's gradient)
    //   softmax per row: ds_ij = p_ij (dp_ij - Σ_band p_ik dp_ik), band-wise [N, T, W]
    //   dq = scale ds k  (per query block, GEMM [Bq, L] x [L, E], off-band entries 0)
    //   dk = scale dsᵀ q ,  dv = (p * drop)ᵀ dout  (per key block, gathering the queries whose
    //   bands reach it: [Bk, Lq] x [Lq, E or Ev]); the kernel folds scale into ds
    record("SlidingWindowAttentionBackward0", out, {query, key, value},
           [q = SavedTensor(q), k = SavedTensor(k), v = SavedTensor(v), p = SavedTensor(probs),
            m = SavedTensor(mask), dr = SavedTensor(drop), g, want_q, want_k, want_v,
            shape_q = query.shape(), shape_k = key.shape(),
            shape_v = value.shape()](const Tensor& grad) {
             BandGeometry geo = g;
             const Tensor& mask_t = m.get();
             geo.mask = mask_t.defined() ? mask_t.data_ptr<bool>() : nullptr;
             Tensor dout = dense(grad);
             Tensor dq = want_q ? empty(shape_q, grad.dtype()) : Tensor();
             Tensor dk = want_k ? empty(shape_k, grad.dtype()) : Tensor();
             Tensor dv = want_v ? empty(shape_v, grad.dtype()) : Tensor();
             if (geo.N * geo.T == 0) {
               for (Tensor* t : {&dq, &dk, &dv})
                 if (t->defined()) fill_data(*t, 0.0);
               return GradList{dq, dk, dv};
             }
             MINIDL_DISPATCH_FLOATING(grad.dtype(), kOp, {
               const scalar_t* pp = p.get().data_ptr<scalar_t>();
               const scalar_t* dp = dr.defined() ? dr.get().data_ptr<scalar_t>() : nullptr;
               Tensor ds = (want_q || want_k) ? empty(p.get().shape(), grad.dtype()) : Tensor();
               scalar_t* dsp = ds.defined() ? ds.data_ptr<scalar_t>() : nullptr;
               if (dsp)
                 backward_scores_kernel<scalar_t>(dout.data_ptr<scalar_t>(),
                                                  k.get().data_ptr<scalar_t>(),
                                                  v.get().data_ptr<scalar_t>(), pp, dp, dsp,
                                                  want_q ? dq.data_ptr<scalar_t>() : nullptr, geo);
               if (want_k || want_v)
                 backward_keys_kernel<scalar_t>(q.get().data_ptr<scalar_t>(),
                                                dout.data_ptr<scalar_t>(), pp, dp, dsp,
                                                want_k ? dk.data_ptr<scalar_t>() : nullptr,
                                                want_v ? dv.data_ptr<scalar_t>() : nullptr, geo);
             });
             return GradList{dq, dk, dv};
           });
  }
  SlidingWindowResult result;
  result.output = out;
  if (need_weights) {
    NoGradGuard no_grad;
    result.weights = drop.defined() ? probs * drop : probs;
  }
  return result;
}

Tensor band_to_dense(const Tensor& band_weights, int64_t window_left, int64_t window_right) {
  const char* op = "band_to_dense";
  MINIDL_CHECK(
      band_weights.defined() && band_weights.is_floating_point() && band_weights.dim() >= 2, op,
      "expected floating band weights [..., T, W], got "
          << (band_weights.defined() ? shape_str(band_weights.shape()) : "undefined"));
  MINIDL_CHECK(window_left >= 0 && window_right >= 0 &&
                   band_weights.size(-1) == window_left + window_right + 1,
               op,
               "band weights " << shape_str(band_weights.shape()) << " do not have W = "
                               << "window_left + window_right + 1 = "
                               << window_left + window_right + 1 << " columns");
  const int64_t T = band_weights.size(-2), W = band_weights.size(-1);
  Shape shape = band_weights.shape();
  shape.back() = T;
  Tensor out = zeros(shape, band_weights.dtype());
  Tensor band = dense(band_weights.detach());
  const int64_t N = T == 0 ? 0 : band.numel() / (T * W);
  MINIDL_DISPATCH_FLOATING(band.dtype(), op, {
    const scalar_t* src = band.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < T; ++i)
        for (int64_t c = 0; c < W; ++c) {
          const int64_t j = i - window_left + c;
          if (j >= 0 && j < T) dst[(n * T + i) * T + j] = src[(n * T + i) * W + c];
        }
  });
  return out;
}

}  // namespace minidl
