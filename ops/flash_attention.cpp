// Fused scaled dot-product attention: the FlashAttention algorithm (Dao et al. 2022, Alg. 1 and
// Alg. 4; the loop order of FlashAttention-2, Dao 2023) on the CPU.
//
//   out = softmax(q kᵀ * scale + mask) v        q [N, Tq, E]  k [N, Tk, E]  v [N, Tk, Ev]
//   (N = the broadcast leading dims, flattened)
//
// Forward, per (n, block of Br queries), in parallel:
//   for each block of Bc keys:  S = Q_blk K_blkᵀ * scale (GEMM), masked entries -> -inf,
//     m' = max(m, rowmax S);  P = exp(S - m');  l = l e^(m - m') + rowsum P;
//     O = O e^(m - m') + P V_blk (GEMM)
//   O /= l;  L = m + log l  (L = -inf and O = 0 for a row with every key excluded)
// Backward, per (n, block of Bc keys), in parallel (the block's dK, dV rows belong to it):
//   D = rowsum(dO * O);  for each block of Br queries:  P = exp(S - L),  dV += Pᵀ dO,
//   dP = dO Vᵀ,  dS = P (dP - D),  dQ += dS K * scale,  dK += dSᵀ Q * scale
//   dQ rows are shared by all key blocks: when there are enough (n) slices for every thread,
//   a work item is a whole slice; else the key blocks are dealt round-robin into G groups, a
//   work item is (n, group), and group g accumulates into its own dQ copy, the G copies summed
//   in group order -- the same sums whichever thread ran which item.
// Causal: key blocks after the query block (forward) and query blocks before the key block
// (backward) are skipped, halving the work; key blocks that are entirely padding are skipped.
// Extra memory: L and D ([N, Tq], in the inputs' dtype), contiguous copies of non-contiguous or
// broadcast inputs, per-thread tiles, and (when N is small) per-group dQ copies: O(T), never
// O(Tq Tk). Tiles are multiplied by detail::gemm: inside a parallel region, one single-threaded
// BLAS call on the thread that runs the item.
// Measured (2-core AVX2, OpenBLAS): 80-105 GFLOP per CPU-second, 75-85% of a large sgemm.
#include "ops/flash_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/strided.h"
#include "ops/linalg.h"
#include "ops/loops.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

constexpr const char* kOp = "flash_attention";

// Tile sizes (queries x keys), forward and backward: measured on AVX2 with OpenBLAS, E = 32 and 64
// (the S tile of 128 x 256 floats, 128 KiB, stays in L2; larger or smaller tiles were slower).
constexpr int64_t kFwdBr = 128, kFwdBc = 256;
constexpr int64_t kBwdBr = 128, kBwdBc = 128;

using detail::gemm;  // C = alpha op(A) op(B) + beta C (ops/linalg.h)

// Everything the kernels read: q, k, v and the masks are read in place through their strides.
template <typename T>
struct FlashArgs {
  // q, k, v slices: slice n's row r of q is at q + q_offset[n] + r * ldq (unit column stride).
  const T* q = nullptr;
  const T* k = nullptr;
  const T* v = nullptr;
  const int64_t* q_offset = nullptr;
  const int64_t* k_offset = nullptr;
  const int64_t* v_offset = nullptr;
  int64_t ldq = 0, ldk = 0, ldv = 0;
  int64_t N = 0, Tq = 0, Tk = 0, E = 0, Ev = 0;
  T scale = 1;
  bool causal = false;
  const bool* padding =
      nullptr;  // [B, Tk]: key j of slice n is padded if padding[(n / per_batch) * Tk + j]
  int64_t per_batch = 1;
  const bool* bool_mask =
      nullptr;  // attn_mask broadcast to [N, Tq, Tk] through mask_offset/strides
  const T* float_mask = nullptr;
  const int64_t* mask_offset = nullptr;  // [N]
  int64_t mask_si = 0, mask_sj = 0;
};

// S [br, bc] (row stride ld) for queries i0.., keys j0.. of slice n: excluded entries -> -inf, the
// float mask added.
template <typename T>
void mask_tile(const FlashArgs<T>& a, int64_t n, int64_t i0, int64_t br, int64_t j0, int64_t bc,
               T* S, int64_t ld) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  if (a.float_mask) {
    const T* m = a.float_mask + a.mask_offset[n] + i0 * a.mask_si + j0 * a.mask_sj;
    for (int64_t r = 0; r < br; ++r)
      for (int64_t c = 0; c < bc; ++c) S[r * ld + c] += m[r * a.mask_si + c * a.mask_sj];
  }
  if (a.bool_mask) {
    const bool* m = a.bool_mask + a.mask_offset[n] + i0 * a.mask_si + j0 * a.mask_sj;
    for (int64_t r = 0; r < br; ++r)
      for (int64_t c = 0; c < bc; ++c)
        if (!m[r * a.mask_si + c * a.mask_sj]) S[r * ld + c] = kNegInf;
  }
  if (a.padding) {
    const bool* p = a.padding + (n / a.per_batch) * a.Tk + j0;
    for (int64_t c = 0; c < bc; ++c)
      if (p[c])
        for (int64_t r = 0; r < br; ++r) S[r * ld + c] = kNegInf;
  }
  if (a.causal && j0 + bc - 1 > i0) {  // the tile reaches above the diagonal
    for (int64_t r = 0; r < br; ++r)
      for (int64_t c = std::max<int64_t>(0, i0 + r + 1 - j0); c < bc; ++c) S[r * ld + c] = kNegInf;
  }
}

// Whether every key j0 .. j0 + bc - 1 of slice n is padded (the tile contributes nothing).
template <typename T>
bool all_padded(const FlashArgs<T>& a, int64_t n, int64_t j0, int64_t bc) {
  if (!a.padding) return false;
  const bool* p = a.padding + (n / a.per_batch) * a.Tk + j0;
  for (int64_t c = 0; c < bc; ++c)
    if (!p[c]) return false;
  return true;
}

// Whether `items` independent work items of about `work` multiply-adds each go to the thread
// pool: below ~2M multiply-adds (tens of microseconds) a region costs more than it saves.
bool worth_parallel(int64_t items, int64_t work) {
  return get_num_threads() > 1 && !in_parallel_region() && items >= 2 &&
         items * work >= (int64_t{1} << 21);
}

// body(item, slot) for every item: one chunk per item on the pool, or all on this thread.
template <typename Body>
void for_each_item(bool parallel, int64_t items, Body&& body) {
  if (parallel) {
    parallel_chunks(items, body);
  } else {
    for (int64_t item = 0; item < items; ++item) body(item, 0);
  }
}

// out [N, Tq, Ev], lse [N, Tq].
template <typename T>
void flash_forward(const FlashArgs<T>& a, T* out, T* lse) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  const int64_t Br = kFwdBr, Bc = kFwdBc, E = a.E, Ev = a.Ev, Tq = a.Tq, Tk = a.Tk;
  const int64_t nqb = (Tq + Br - 1) / Br, items = a.N * nqb;
  const bool parallel = worth_parallel(items, Br * Tk * (E + Ev));
  // One score tile and running max / sum per thread (slot).
  const int slots = parallel ? get_num_threads() : 1;
  std::unique_ptr<T[]> tiles(new T[slots * Br * Bc]), stats(new T[slots * 2 * Br]);
  for_each_item(parallel, items, [&](int64_t item, int slot) {
    T* const S = tiles.get() + slot * Br * Bc;
    T* const m = stats.get() + slot * 2 * Br;
    T* const l = m + Br;
    {
      // The last query blocks first: under a causal mask they carry the most work.
      const int64_t n = item / nqb, qb = nqb - 1 - item % nqb;
      const int64_t i0 = qb * Br, br = std::min(Br, Tq - i0);
      const T* Q = a.q + a.q_offset[n] + i0 * a.ldq;
      T* O = out + (n * Tq + i0) * Ev;
      std::fill(O, O + br * Ev, T(0));
      std::fill(m, m + br, kNegInf);
      std::fill(l, l + br, T(0));
      const int64_t jend = a.causal ? std::min(Tk, i0 + br) : Tk;
      for (int64_t j0 = 0; j0 < jend; j0 += Bc) {
        const int64_t bc = std::min(Bc, jend - j0);
        if (all_padded(a, n, j0, bc)) continue;
        T* s = S;
        // S_blk [br, bc] = Q_blk K_blkᵀ * scale (+ float mask, excluded entries -> -inf)
        gemm(false, true, br, bc, E, a.scale, Q, a.ldq, a.k + a.k_offset[n] + j0 * a.ldk, a.ldk,
             T(0), s, bc);
        mask_tile(a, n, i0, br, j0, bc, s, bc);
        for (int64_t r = 0; r < br; ++r) {
          T* row = s + r * bc;
          T mx = kNegInf;
#pragma omp simd reduction(max : mx)
          for (int64_t c = 0; c < bc; ++c) mx = row[c] > mx ? row[c] : mx;
          // m' = max(m, rowmax S_blk): the running max
          const T mnew = std::max(m[r], mx);
          if (mnew == kNegInf) {  // nothing included so far in this row
            std::fill(row, row + bc, T(0));
            continue;
          }
          T sum = 0;
#pragma omp simd reduction(+ : sum)
          for (int64_t c = 0; c < bc; ++c) {
            const T p = exp_vec<T>(row[c] - mnew);  // P~ = exp(S_blk - m') <= 1: no overflow
            row[c] = p;
            sum += p;
          }
          // Terms summed so far were exp(s - m); rescaled to the new max they are exp(s - m'),
          // a factor alpha = e^(m - m') for the running sum l and the unnormalized O row alike.
          const T alpha = exp_vec<T>(m[r] - mnew);  // 0 when m = -inf
          l[r] = l[r] * alpha + sum;                // running sum l = l e^(m - m') + rowsum P~
          m[r] = mnew;
          if (alpha != T(1)) {
            T* o = O + r * Ev;
            for (int64_t c = 0; c < Ev; ++c) o[c] *= alpha;
          }
        }
        // O = O e^(m - m') (above) + P~ V_blk  (unnormalized: divided by l once, at the end)
        gemm(false, false, br, Ev, bc, T(1), s, bc, a.v + a.v_offset[n] + j0 * a.ldv, a.ldv, T(1),
             O, Ev);
      }
      for (int64_t r = 0; r < br; ++r) {
        T& L = lse[n * Tq + i0 + r];
        if (l[r] > T(0)) {
          const T inv = T(1) / l[r];
          T* o = O + r * Ev;
          for (int64_t c = 0; c < Ev; ++c) o[c] *= inv;  // out = O / l = softmax(S) V
          // lse = m + log l = log Σ_j exp(S_ij): saved, backward gets P = exp(S - lse) at once
          L = m[r] + std::log(l[r]);
        } else {
          L = kNegInf;  // O stayed 0
        }
      }
    }
  });
}

// Gradients of the forward above. dq, dk, dv [N, T*, E*] are zero on entry; null = not needed
// (dq and dk need the same dS, so both are computed if either is asked for).
template <typename T>
void flash_backward(const FlashArgs<T>& a, const T* out, const T* lse, const T* dout, T* dq, T* dk,
                    T* dv) {
  const int64_t Br = kBwdBr, Bc = kBwdBc, E = a.E, Ev = a.Ev, Tq = a.Tq, Tk = a.Tk, N = a.N;
  // D = rowsum(dO * O)  [N, Tq]. It is Σ_j P_ij dP_ij (= Σ_j P_ij dO_i·V_j = dO_i·O_i), the
  // term the softmax backward needs per row, computed here from the saved out without any P.
  std::unique_ptr<T[]> D(new T[N * Tq]);
  for (int64_t r = 0; r < N * Tq; ++r) {
    T s = 0;
    for (int64_t c = 0; c < Ev; ++c) s += dout[r * Ev + c] * out[r * Ev + c];
    D[r] = s;
  }
  const int64_t nkb = (Tk + Bc - 1) / Bc;
  const int max_threads = get_num_threads();
  // Whole slices per item when they balance; else (n, group of key blocks) items, a dQ copy
  // per group (see the header).
  const bool by_slice = N >= max_threads && (N % max_threads == 0 || N >= 4 * max_threads);
  const int64_t groups = by_slice ? 1 : std::min<int64_t>(max_threads, nkb);
  const int64_t items = N * groups;
  const bool parallel = worth_parallel(items, (Tk + groups - 1) / groups * Tq * (2 * E + 2 * Ev));
  const bool private_dq = dq && parallel && groups > 1;
  const int64_t dq_size = N * Tq * E;
  std::unique_ptr<T[]> dq_private(private_dq ? new T[(groups - 1) * dq_size] : nullptr);
  if (private_dq) std::fill(dq_private.get(), dq_private.get() + (groups - 1) * dq_size, T(0));
  const bool need_ds = dq || dk;

  // One key block of one slice against every query block that can see it.
  auto key_block = [&](int64_t n, int64_t kb, T* S, T* dP, T* dq_target) {
    const int64_t j0 = kb * Bc, bc = std::min(Bc, Tk - j0);
    if (all_padded(a, n, j0, bc)) return;
    const T* K = a.k + a.k_offset[n] + j0 * a.ldk;
    const T* V = a.v + a.v_offset[n] + j0 * a.ldv;
    T* dK = dk ? dk + (n * Tk + j0) * E : nullptr;
    T* dV = dv ? dv + (n * Tk + j0) * Ev : nullptr;
    const int64_t istart = a.causal ? (j0 / Br) * Br : 0;
    for (int64_t i0 = istart; i0 < Tq; i0 += Br) {
      const int64_t br = std::min(Br, Tq - i0);
      const T* Q = a.q + a.q_offset[n] + i0 * a.ldq;
      const T* dO = dout + (n * Tq + i0) * Ev;
      // S [br, bc] = Q_blk K_blkᵀ * scale + mask, recomputed (the forward kept no S, no P)
      gemm(false, true, br, bc, E, a.scale, Q, a.ldq, K, a.ldk, T(0), S, bc);
      mask_tile(a, n, i0, br, j0, bc, S, bc);
      // P = exp(S - L): exactly the forward's softmax, normalized already by the saved lse L
      for (int64_t r = 0; r < br; ++r) {
        T* row = S + r * bc;
        const T L = lse[n * Tq + i0 + r];
        if (L == -std::numeric_limits<T>::infinity()) {
          std::fill(row, row + bc, T(0));
          continue;
        }
#pragma omp simd
        for (int64_t c = 0; c < bc; ++c) row[c] = exp_vec<T>(row[c] - L);
      }
      // dV_blk [bc, Ev] += Pᵀ dO_blk  (out = P V)
      if (dV) gemm(true, false, bc, Ev, br, T(1), S, bc, dO, Ev, T(1), dV, Ev);
      if (!need_ds) continue;
      // dP [br, bc] = dO_blk V_blkᵀ
      gemm(false, true, br, bc, Ev, T(1), dO, Ev, V, a.ldv, T(0), dP, bc);
      // softmax backward: dS = P (dP - D), D_i = Σ_j P_ij dP_ij = rowsum(dO * O)_i, in dP
      for (int64_t r = 0; r < br; ++r) {
        const T d = D[n * Tq + i0 + r];
        const T* p = S + r * bc;
        T* ds = dP + r * bc;
#pragma omp simd
        for (int64_t c = 0; c < bc; ++c) ds[c] = p[c] * (ds[c] - d);
      }
      // dQ_blk [br, E] += dS K_blk * scale  (S = Q Kᵀ * scale; the mask is a constant)
      if (dq_target)
        gemm(false, false, br, E, bc, a.scale, dP, bc, K, a.ldk, T(1),
             dq_target + (n * Tq + i0) * E, E);
      // dK_blk [bc, E] += dSᵀ Q_blk * scale
      if (dK) gemm(true, false, bc, E, br, a.scale, dP, bc, Q, a.ldq, T(1), dK, E);
    }
  };

  // Item (n, g): key blocks g, g + groups, ... of slice n, into dQ copy g (0 = dq itself).
  const int slots = parallel ? get_num_threads() : 1;
  std::unique_ptr<T[]> tiles(new T[slots * 2 * Br * Bc]);  // S and dP per thread (slot)
  for_each_item(parallel, items, [&](int64_t item, int slot) {
    const int64_t n = item / groups, g = item % groups;
    T* const S = tiles.get() + slot * 2 * Br * Bc;
    T* const dP = S + Br * Bc;
    T* dq_target = dq;
    if (private_dq && g > 0) dq_target = dq_private.get() + (g - 1) * dq_size;
    for (int64_t kb = g; kb < nkb; kb += groups) key_block(n, kb, S, dP, dq_target);
  });
  if (private_dq) {
    for (int64_t g = 0; g < groups - 1; ++g) {
      const T* p = dq_private.get() + g * dq_size;
#pragma omp simd
      for (int64_t i = 0; i < dq_size; ++i) dq[i] += p[i];
    }
  }
}

Shape with_last(Shape s, int64_t a, int64_t b) {
  s.push_back(a);
  s.push_back(b);
  return s;
}

// The flattened broadcast geometry and mask views, shared by forward and backward.
struct Prepared {
  Shape lead;
  int64_t N = 1, Tq = 0, Tk = 0, E = 0, Ev = 0;
  Tensor mask;     // attn_mask (bool, or floating in the inputs' dtype) expanded to [lead, Tq, Tk]
  Tensor padding;  // key_padding_mask, contiguous
  std::vector<int64_t> mask_offset, q_offset, k_offset, v_offset;
  int64_t ldq = 0, ldk = 0, ldv = 0;
};

// Where each of the N = numel(lead) slices of a [lead, rows, cols] view starts (in elements,
// from its data pointer).
std::vector<int64_t> slice_offsets(const Tensor& view, const Shape& lead) {
  std::vector<int64_t> offsets(shape_numel(lead), 0);
  const Shape& st = view.strides();
  for (size_t n = 0; n < offsets.size(); ++n) {
    int64_t rest = static_cast<int64_t>(n), off = 0;
    for (int64_t d = static_cast<int64_t>(lead.size()) - 1; d >= 0; --d) {
      off += (rest % lead[d]) * st[d];
      rest /= lead[d];
    }
    offsets[n] = off;
  }
  return offsets;
}

// q, k or v as a [lead, rows, cols] view that BLAS reads in place (unit column stride, row stride
// >= cols: e.g. heads split from [B, T, H * D]); other layouts are copied to contiguous memory.
// Returns the view and its row stride (the BLAS leading dimension).
std::pair<Tensor, int64_t> operand_view(const Tensor& t, const Shape& lead, int64_t rows,
                                        int64_t cols) {
  Tensor view = t.detach().expand(with_last(lead, rows, cols));
  const bool unit_cols = cols == 1 || view.stride(-1) == 1;
  const bool rows_apart = rows == 1 || view.stride(-2) >= cols;
  if (!unit_cols || !rows_apart) view = view.contiguous();
  return {view, rows == 1 ? cols : view.stride(-2)};
}

Prepared prepare(const Shape& lead, int64_t Tq, int64_t Tk, int64_t E, int64_t Ev,
                 const Tensor& attn_mask, const Tensor& key_padding_mask, DType dtype) {
  Prepared p;
  p.lead = lead;
  p.N = shape_numel(lead);
  p.Tq = Tq;
  p.Tk = Tk;
  p.E = E;
  p.Ev = Ev;
  if (attn_mask.defined()) {
    Tensor m = attn_mask.detach();
    if (m.dtype() != kBool && m.dtype() != dtype) m = m.to(dtype);
    p.mask = m.expand(with_last(lead, Tq, Tk));
    p.mask_offset = slice_offsets(p.mask, lead);
  }
  if (key_padding_mask.defined()) p.padding = key_padding_mask.detach().contiguous();
  return p;
}

template <typename T>
FlashArgs<T> make_args(const Prepared& p, const Tensor& q, const Tensor& k, const Tensor& v,
                       bool causal, double scale) {
  FlashArgs<T> a;
  a.q = q.data_ptr<T>();
  a.k = k.data_ptr<T>();
  a.v = v.data_ptr<T>();
  a.q_offset = p.q_offset.data();
  a.k_offset = p.k_offset.data();
  a.v_offset = p.v_offset.data();
  a.ldq = p.ldq;
  a.ldk = p.ldk;
  a.ldv = p.ldv;
  a.N = p.N;
  a.Tq = p.Tq;
  a.Tk = p.Tk;
  a.E = p.E;
  a.Ev = p.Ev;
  a.scale = static_cast<T>(scale);
  a.causal = causal;
  if (p.padding.defined()) {
    a.padding = p.padding.data_ptr<bool>();
    a.per_batch = p.lead.empty() ? 1 : p.N / p.lead[0];
  }
  if (p.mask.defined()) {
    if (p.mask.dtype() == kBool)
      a.bool_mask = p.mask.data_ptr<bool>();
    else
      a.float_mask = p.mask.data_ptr<T>();
    a.mask_offset = p.mask_offset.data();
    a.mask_si = p.mask.stride(-2);
    a.mask_sj = p.mask.stride(-1);
  }
  return a;
}

}  // namespace

bool flash_attention_supported(const Tensor& query, const Tensor& key, const Tensor& value,
                               const SdpaOptions& options) {
  if (query.dtype() != kFloat32 && query.dtype() != kFloat64) return false;
  if (options.dropout_p > 0.0) return false;  // dropout runs on the math path
  // The gradient of an additive mask is the full [Tq, Tk] dS: the math path computes it.
  if (options.attn_mask.defined() && options.attn_mask.is_floating_point() &&
      needs_grad({options.attn_mask}))
    return false;
  if (query.numel() == 0 || key.numel() == 0 || value.numel() == 0) return false;
  return true;
}

// out = softmax(q kᵀ * scale + mask) v ;  dq = dS k * scale,  dk = dSᵀ q * scale,  dv = Pᵀ dout
// with P = exp(S - L) and dS = P (dout vᵀ - rowsum(dout * out)) recomputed tile by tile.
Tensor flash_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                       const Tensor& attn_mask, const Tensor& key_padding_mask, bool is_causal,
                       double scale) {
  MINIDL_CHECK(query.dim() >= 2 && key.dim() >= 2 && value.dim() >= 2, kOp,
               "query, key and value need at least 2 dims, got " << shape_str(query.shape()) << ", "
                                                                 << shape_str(key.shape()) << ", "
                                                                 << shape_str(value.shape()));
  auto leading = [](const Shape& s) { return Shape(s.begin(), s.end() - 2); };
  const Shape lead =
      broadcast_shapes(broadcast_shapes(leading(query.shape()), leading(key.shape()), kOp),
                       leading(value.shape()), kOp);
  const int64_t Tq = query.size(-2), Tk = key.size(-2), E = query.size(-1), Ev = value.size(-1);
  MINIDL_CHECK(key.size(-1) == E && value.size(-2) == Tk, kOp,
               "shapes do not match: query " << shape_str(query.shape()) << ", key "
                                             << shape_str(key.shape()) << ", value "
                                             << shape_str(value.shape()));
  const DType dtype = query.dtype();
  MINIDL_CHECK(
      (dtype == kFloat32 || dtype == kFloat64) && key.dtype() == dtype && value.dtype() == dtype,
      kOp, "expected float32 or float64 query, key and value of one dtype");
  Prepared p = prepare(lead, Tq, Tk, E, Ev, attn_mask, key_padding_mask, dtype);
  // [lead, T, E] operands read in place where BLAS can (broadcast leading dims included).
  auto [qc, ldq] = operand_view(query, lead, Tq, E);
  auto [kc, ldk] = operand_view(key, lead, Tk, E);
  auto [vc, ldv] = operand_view(value, lead, Tk, Ev);
  p.q_offset = slice_offsets(qc, lead);
  p.k_offset = slice_offsets(kc, lead);
  p.v_offset = slice_offsets(vc, lead);
  p.ldq = ldq;
  p.ldk = ldk;
  p.ldv = ldv;
  Tensor out = empty(with_last(lead, Tq, Ev), dtype);
  Shape lse_shape = lead;
  lse_shape.push_back(Tq);
  Tensor lse = empty(lse_shape, dtype);
  MINIDL_DISPATCH_FLOATING(dtype, kOp,
                           flash_forward(make_args<scalar_t>(p, qc, kc, vc, is_causal, scale),
                                         out.data_ptr<scalar_t>(), lse.data_ptr<scalar_t>()));
  if (needs_grad({query, key, value})) {
    const bool rq = query.requires_grad(), rk = key.requires_grad(), rv = value.requires_grad();
    // out = softmax(S) value, S = query keyᵀ * scale + mask ;  dquery = dS key * scale ,
    //   dkey = dSᵀ query * scale ,  dvalue = Pᵀ dout   (P = softmax(S), dS below)
    // derivation: per slice q [Tq, E], k [Tk, E], v [Tk, Ev], out dout [Tq, Ev]; S P dS [Tq, Tk]
    //   forward, online softmax per query block: running row max m and row sum l [Br]; per key
    //   block: m' = max(m, rowmax S_blk), l = l e^(m - m') + rowsum exp(S_blk - m'),
    //   O = O e^(m - m') + exp(S_blk - m') V_blk ;  finally out = O / l, lse = m + log l
    //   saved: out [Tq, Ev] and lse [Tq] (with q, k, v); P [Tq, Tk] is never stored
    //   backward recomputes P = exp(S - lse) tile by tile (one extra GEMM q kᵀ per tile)
    //   dV = Pᵀ dO ;  dP = dO Vᵀ ;  softmax rows: dS_ij = P_ij (dP_ij - Σ_k P_ik dP_ik)
    //   Σ_k P_ik dP_ik = Σ_k P_ik dO_i·V_k = dO_i·O_i:  D = rowsum(dO * O) [Tq], from saved out
    //   dS = P * (dP - D) ;  dQ = dS K * scale ;  dK = dSᵀ Q * scale (masked S: P = 0, dS = 0)
    //   broadcast leading dims: sum_to each gradient back to its input's shape
    //   memory O(T): tiles [Br, Bc] per thread and m, l, lse, D [Tq]; no [Tq, Tk] buffer
    record("FlashAttentionBackward0", out, {query, key, value},
           [sq = SavedTensor(qc), sk = SavedTensor(kc), sv = SavedTensor(vc), so = SavedTensor(out),
            sl = SavedTensor(lse), p, is_causal, scale, rq, rk, rv, qs = query.shape(),
            ks = key.shape(), vs = value.shape(), dtype](const Tensor& grad) -> GradList {
             const Tensor& q = sq.get();
             const Tensor& k = sk.get();
             const Tensor& v = sv.get();
             Tensor dout = grad.contiguous();
             Tensor dq = (rq || rk) ? zeros(q.shape(), dtype) : Tensor();
             Tensor dk = (rq || rk) ? zeros(k.shape(), dtype) : Tensor();
             Tensor dv = rv ? zeros(v.shape(), dtype) : Tensor();
             MINIDL_DISPATCH_FLOATING(
                 dtype, kOp,
                 flash_backward(make_args<scalar_t>(p, q, k, v, is_causal, scale),
                                so.get().data_ptr<scalar_t>(), sl.get().data_ptr<scalar_t>(),
                                dout.data_ptr<scalar_t>(),
                                dq.defined() ? dq.data_ptr<scalar_t>() : nullptr,
                                dk.defined() ? dk.data_ptr<scalar_t>() : nullptr,
                                dv.defined() ? dv.data_ptr<scalar_t>() : nullptr));
             return {rq ? sum_to(dq, qs) : Tensor(), rk ? sum_to(dk, ks) : Tensor(),
                     rv ? sum_to(dv, vs) : Tensor()};
           });
  }
  return out;
}

}  // namespace minidl
