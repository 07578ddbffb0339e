// Linear attention with phi(x) = elu(x) + 1 (Katharopoulos et al. 2020): a GEMM composition for
// the non-causal form and a fused running-state kernel for the causal one. See
// ops/linear_attention.h.
//
// Causal math, per sequence, with a_i = phi(q_i), b_j = phi(k_j) (0 for padded keys):
//   S_i = sum_{j<=i} b_j v_jᵀ [E, Ev],  z_i = sum_{j<=i} b_j [E]
//   num_i = S_iᵀ a_i,  den_i = a_i . z_i + eps,  out_i = num_i / den_i
// Backward, with g_i = dL/dout_i:
//   dnum_i = g_i / den_i ,  dden_i = -(g_i . out_i) / den_i
//   da_i = S_i dnum_i + z_i dden_i                                  (forward-time recurrence)
//   db_j = sum_{i>=j} a_i (dnum_i . v_j + dden_i) = R_j v_j + r_j
//   dv_j = sum_{i>=j} (a_i . b_j) dnum_i = R_jᵀ b_j
//     with R_j = sum_{i>=j} a_i dnum_iᵀ [E, Ev], r_j = sum_{i>=j} a_i dden_i [E]  (reverse time)
//   through phi: phi'(x) = 1 for x > 0, exp(x) = phi(x) for x <= 0, i.e. min(phi(x), 1):
//   dq = da * min(a, 1) ,  dk = db * min(phi(k), 1) * (1 - padded)
#include "ops/linear_attention.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "core/strided.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

const char* kOp = "linear_attention";

using detail::dense;  // ops/linalg.h

// phi(x) = elu(x) + 1 > 0
Tensor feature_map(const Tensor& x) {
  return elu(x) + 1.0;
}

// The mask bool [B, S] (or [S] for 2-d keys) as a 0/1 "keep" factor broadcastable against
// phi(k) [..., S, E]: [B, 1, ..., 1, S, 1].
Tensor keep_factor(const Tensor& mask, const Tensor& key) {
  Shape shape(static_cast<size_t>(key.dim()), 1);
  shape[shape.size() - 2] = key.size(-2);
  if (key.dim() >= 3) shape[0] = key.size(0);
  return (1.0 - mask.to(key.dtype())).reshape(shape);
}

void check_inputs(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                  const Tensor& mask, const char* op) {
  MINIDL_CHECK(q.defined() && k.defined() && v.defined(), op,
               "query, key and value must be defined");
  MINIDL_CHECK(q.is_floating_point() && q.dtype() == k.dtype() && q.dtype() == v.dtype(), op,
               "query, key and value must share one floating dtype, got "
                   << q.dtype() << ", " << k.dtype() << " and " << v.dtype());
  MINIDL_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2, op,
               "expected query [..., T, E], key [..., S, E] and value [..., S, Ev], got "
                   << shape_str(q.shape()) << ", " << shape_str(k.shape()) << " and "
                   << shape_str(v.shape()));
  MINIDL_CHECK(q.size(-1) == k.size(-1) && k.size(-2) == v.size(-2), op,
               "query " << shape_str(q.shape()) << " and key " << shape_str(k.shape())
                        << " must agree on E, key and value " << shape_str(v.shape()) << " on S");
  if (causal) {
    Shape lead_q(q.shape().begin(), q.shape().end() - 2),
        lead_k(k.shape().begin(), k.shape().end() - 2),
        lead_v(v.shape().begin(), v.shape().end() - 2);
    MINIDL_CHECK(lead_q == lead_k && lead_q == lead_v && q.size(-2) == k.size(-2), op,
                 "causal mode needs query "
                     << shape_str(q.shape()) << ", key " << shape_str(k.shape()) << " and value "
                     << shape_str(v.shape()) << " with equal leading dims and T == S");
  }
  if (!mask.defined()) return;
  Shape expected = k.dim() == 2 ? Shape{k.size(-2)} : Shape{k.size(0), k.size(-2)};
  MINIDL_CHECK(mask.dtype() == kBool, op,
               "key_padding_mask must be bool (true = padded), got " << mask.dtype() << " of shape "
                                                                     << shape_str(mask.shape()));
  MINIDL_CHECK(mask.shape() == expected, op,
               "key_padding_mask has shape " << shape_str(mask.shape()) << ", expected "
                                             << shape_str(expected) << " for key "
                                             << shape_str(k.shape()));
}

// ---------------------------------------------------------------- the causal kernels

// N sequences of length T; the Ev value columns are split in `blocks` groups of `cols` so that
// a few long sequences still keep every thread busy (columns of S are independent). A task is
// one (sequence, column block): it runs every time step of its sequence (no barrier per step),
// about T * E * cols multiply-adds, and `task_grain` tasks make a chunk of about kParallelGrain.
struct CausalGeometry {
  int64_t N = 0, T = 0, E = 0, Ev = 0;
  int64_t blocks = 1, cols = 0;
  int64_t task_grain = 1;
  double eps = 1e-6;

  int64_t tasks() const { return N * blocks; }

  // body(n, block, c0, w) for every task -- sequence n, value columns [c0, c0 + w) -- in
  // parallel chunks of task_grain tasks.
  template <typename Body>
  void for_each_task(Body&& body) const {
    parallel_for(0, tasks(), task_grain, [&](int64_t task0, int64_t task1) {
      for (int64_t task = task0; task < task1; ++task) {
        const int64_t n = task / blocks, block = task % blocks, c0 = block * cols;
        body(n, block, c0, std::max<int64_t>(0, std::min(Ev, c0 + cols) - c0));
      }
    });
  }
};

CausalGeometry causal_geometry(int64_t N, int64_t T, int64_t E, int64_t Ev, double eps) {
  CausalGeometry g;
  g.N = N, g.T = T, g.E = E, g.Ev = Ev, g.eps = eps;
  const int64_t threads = get_num_threads();
  const bool parallel =
      threads > 1 && !in_parallel_region() && N * T * E * std::max<int64_t>(Ev, 1) > kParallelGrain;
  if (parallel && N < threads)
    g.blocks = std::max<int64_t>(1, std::min((threads + N - 1) / N, Ev / 16));
  g.cols = g.blocks > 0 ? (Ev + g.blocks - 1) / g.blocks : Ev;
  g.task_grain = std::max<int64_t>(
      1, kParallelGrain / std::max<int64_t>(1, T * E * std::max<int64_t>(g.cols, 1)));
  return g;
}

// Forward: a [N, T, E], b [N, T, E], v [N, T, Ev] -> out [N, T, Ev], den [N, T].
template <typename T>
void causal_forward(const T* a, const T* b, const T* v, T* out, T* den, const CausalGeometry& g) {
  const int64_t E = g.E, Ev = g.Ev;
  g.for_each_task([&](int64_t n, int64_t block, int64_t c0, int64_t w) {
    std::vector<T> state(static_cast<size_t>(E * w), T(0)), z(static_cast<size_t>(E), T(0)),
        num(static_cast<size_t>(w));
    for (int64_t i = 0; i < g.T; ++i) {
      const T* ai = a + (n * g.T + i) * E;
      const T* bi = b + (n * g.T + i) * E;
      const T* vi = v + (n * g.T + i) * Ev + c0;
      T d = 0;
      for (int64_t e = 0; e < E; ++e) {
        z[e] += bi[e];      // z_i = z_{i-1} + b_i
        d += ai[e] * z[e];  // den_i = a_i . z_i (+ eps below)
      }
      d += static_cast<T>(g.eps);
      std::fill(num.begin(), num.end(), T(0));
      for (int64_t e = 0; e < E; ++e) {
        T* se = state.data() + e * w;
        T* nm = num.data();
        const T be = bi[e], ae = ai[e];
#pragma omp simd
        for (int64_t c = 0; c < w; ++c) {
          se[c] += be * vi[c];  // S_i = S_{i-1} + b_i v_iᵀ (row e, this task's columns)
          nm[c] += ae * se[c];  // num_i = S_iᵀ a_i
        }
      }
      T* o = out + (n * g.T + i) * Ev + c0;
      const T inv = T(1) / d;
      for (int64_t c = 0; c < w; ++c) o[c] = num[c] * inv;  // out_i = num_i / den_i
      if (block == 0) den[n * g.T + i] = d;
    }
  });
}

// Backward: from g_out [N, T, Ev] (and the forward's out, den) to da_part, db_part
// [blocks, N, T, E] (partial sums over each column block, to be summed) and dv [N, T, Ev].
template <typename T>
void causal_backward(const T* a, const T* b, const T* v, const T* out, const T* den, const T* g_out,
                     T* da_part, T* db_part, T* dv, const CausalGeometry& g) {
  const int64_t E = g.E, Ev = g.Ev, NT = g.N * g.T;
  // dden_i = -(g_i . out_i) / den_i over all Ev columns.
  std::vector<T> dden(static_cast<size_t>(NT));
  // Rows per chunk so that a chunk reads about kParallelGrain elements of each operand.
  const int64_t row_grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(Ev, 1));
  parallel_for(0, NT, row_grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      T s = 0;
      for (int64_t c = 0; c < Ev; ++c) s += g_out[r * Ev + c] * out[r * Ev + c];
      dden[r] = -s / den[r];
    }
  });
  g.for_each_task([&](int64_t n, int64_t block, int64_t c0, int64_t w) {
    std::vector<T> state(static_cast<size_t>(E * w), T(0)), z(static_cast<size_t>(E), T(0)),
        dnum(static_cast<size_t>(w));
    T* da_b = da_part + block * NT * E;
    T* db_b = db_part + block * NT * E;
    // Forward in time: da_i = S_i dnum_i + z_i dden_i (z term once, in block 0).
    for (int64_t i = 0; i < g.T; ++i) {
      const int64_t r = n * g.T + i;
      const T* bi = b + r * E;
      const T* vi = v + r * Ev + c0;
      const T* gi = g_out + r * Ev + c0;
      const T inv = T(1) / den[r];
      for (int64_t c = 0; c < w; ++c) dnum[c] = gi[c] * inv;  // dnum_i = dout_i / den_i
      T* da = da_b + r * E;
      for (int64_t e = 0; e < E; ++e) {
        T* se = state.data() + e * w;
        const T* dn = dnum.data();
        const T be = bi[e];
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < w; ++c) {
          se[c] += be * vi[c];  // S_i rebuilt as in the forward
          s += se[c] * dn[c];   // (S_i dnum_i)[e]
        }
        if (block == 0) {
          z[e] += be;
          s += z[e] * dden[r];  // + z_i dden_i
        }
        da[e] = s;  // da_i = S_i dnum_i + z_i dden_i
      }
    }
    // Backward in time: R_j += a_j dnum_jᵀ, r_j += a_j dden_j;
    // db_j = R_j v_j + r_j,  dv_j = R_jᵀ b_j.
    std::fill(state.begin(), state.end(), T(0));
    std::fill(z.begin(), z.end(), T(0));
    std::vector<T> dvj(static_cast<size_t>(w));
    for (int64_t i = g.T - 1; i >= 0; --i) {
      const int64_t r = n * g.T + i;
      const T* ai = a + r * E;
      const T* bi = b + r * E;
      const T* vi = v + r * Ev + c0;
      const T* gi = g_out + r * Ev + c0;
      const T inv = T(1) / den[r];
      for (int64_t c = 0; c < w; ++c) dnum[c] = gi[c] * inv;
      std::fill(dvj.begin(), dvj.end(), T(0));
      T* db = db_b + r * E;
      for (int64_t e = 0; e < E; ++e) {
        T* re = state.data() + e * w;
        const T* dn = dnum.data();
        T* dvp = dvj.data();
        const T ae = ai[e], be = bi[e];
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < w; ++c) {
          re[c] += ae * dn[c];   // R_j = R_{j+1} + a_j dnum_jᵀ
          s += re[c] * vi[c];    // (R_j v_j)[e]
          dvp[c] += re[c] * be;  // dv_j = R_jᵀ b_j
        }
        if (block == 0) {
          z[e] += ae * dden[r];  // r_j = r_{j+1} + a_j dden_j
          s += z[e];
        }
        db[e] = s;  // db_j = R_j v_j + r_j
      }
      std::copy(dvj.begin(), dvj.end(), dv + r * Ev + c0);
    }
  });
}

// phi(x) = elu(x) + 1 and phi'(x) = min(phi(x), 1) over rows of E elements; rows of padded
// keys get 0 in both (row r is position r % L of sequence r / L, which uses mask row
// (r / L) / per_mask). dphi may be null.
template <typename T>
void feature_map_kernel(const T* x, T* phi, T* dphi, int64_t rows, int64_t L, int64_t E,
                        const bool* pad, int64_t per_mask) {
  // Rows per chunk so that a chunk maps about kParallelGrain elements.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(E, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const bool padded = pad && pad[((r / L) / per_mask) * L + r % L];
      for (int64_t e = 0; e < E; ++e) {
        const T v = x[r * E + e];
        const T f = padded ? T(0) : v > 0 ? v + 1 : std::exp(v);
        phi[r * E + e] = f;
        if (dphi) dphi[r * E + e] = std::min(f, T(1));
      }
    }
  });
}

// phi(x) and (when derivative) phi'(x) of x [..., L, E] as contiguous tensors, padded key rows
// (mask bool [B, L] or [L], shared by N / B consecutive sequences) zeroed.
std::pair<Tensor, Tensor> feature_map_fused(const Tensor& x, const Tensor& mask, bool derivative) {
  Tensor in = dense(x);
  Tensor phi = empty(x.shape(), x.dtype());
  Tensor dphi = derivative ? empty(x.shape(), x.dtype()) : Tensor();
  const int64_t L = x.size(-2), E = x.size(-1);
  const int64_t rows = L * E == 0 ? 0 : x.numel() / E;
  const int64_t N = L == 0 ? 0 : rows / L;
  Tensor m = mask.defined() ? dense(mask) : Tensor();
  const bool* pad = m.defined() ? m.data_ptr<bool>() : nullptr;
  const int64_t per_mask = m.defined() && m.dim() == 2 && m.size(0) > 0 ? N / m.size(0) : 1;
  MINIDL_DISPATCH_FLOATING(
      x.dtype(), kOp,
      feature_map_kernel<scalar_t>(in.data_ptr<scalar_t>(), phi.data_ptr<scalar_t>(),
                                   derivative ? dphi.data_ptr<scalar_t>() : nullptr, rows, L, E,
                                   pad, per_mask));
  return {phi, dphi};
}

Tensor causal_linear_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                               const Tensor& mask, double eps) {
  const Shape& shape = query.shape();
  const int64_t T = query.size(-2), E = query.size(-1), Ev = value.size(-1);
  int64_t N = 1;
  for (size_t d = 0; d + 2 < shape.size(); ++d) N *= shape[d];
  auto [a, dphi_q] = feature_map_fused(query, Tensor(), query.requires_grad());
  auto [b, dphi_k] = feature_map_fused(key, mask, key.requires_grad());
  Tensor v = dense(value);
  Shape out_shape = shape;
  out_shape.back() = Ev;
  Shape den_shape(shape.begin(), shape.end() - 1);
  Tensor out = empty(out_shape, query.dtype());
  Tensor den = empty(den_shape, query.dtype());
  const CausalGeometry g = causal_geometry(N, T, E, Ev, eps);
  if (N * T > 0) {
    MINIDL_DISPATCH_FLOATING(
        query.dtype(), kOp,
        causal_forward<scalar_t>(a.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(),
                                 v.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                 den.data_ptr<scalar_t>(), g));
  }
  if (needs_grad({query, key, value})) {
    const bool want_q = query.requires_grad(), want_k = key.requires_grad(),
               want_v = value.requires_grad();
    // out[i] = S_iᵀ a_i / (a_i . z_i + eps) ;  dquery = da * min(a, 1) ,
    //   dkey = db * min(b, 1) * (1 - padded) ,  dvalue = R_jᵀ b_j  (per row j)
    // derivation: a = phi(query), b = phi(key) [T, E] (phi = elu + 1), v [T, Ev] per sequence
    //   S_i = Σ_{j<=i} b_j v_jᵀ [E, Ev], z_i = Σ_{j<=i} b_j [E]: running states, never [T, T]
    //   num_i = S_iᵀ a_i, den_i = a_i·z_i + eps ;  out = num / den (den saved, [T])
    //   dnum_i = dout_i / den_i ;  dden_i = -(dout_i·out_i) / den_i  (d(n/d)/dd = -out/d)
    //   da_i = S_i dnum_i + z_i dden_i: forward-time pass rebuilding S_i, z_i
    //   R_j = Σ_{i>=j} a_i dnum_iᵀ [E, Ev], r_j = Σ_{i>=j} a_i dden_i [E]: reverse-time pass
    //   db_j = R_j v_j + r_j ;  dv_j = R_jᵀ b_j
    //   phi'(x) = 1 (x > 0), e^x = phi(x) (x <= 0): min(phi(x), 1), saved with a, b, out, den
    //   states are recomputed, not saved: saving S_i would cost T E Ev, the pass costs one more
    //   sweep; memory O(T (E + Ev))
    record("CausalLinearAttentionBackward0", out, {query, key, value},
           [a = SavedTensor(a), b = SavedTensor(b), v = SavedTensor(v), o = SavedTensor(out),
            d = SavedTensor(den), dphi_q = SavedTensor(dphi_q), dphi_k = SavedTensor(dphi_k), g,
            want_q, want_k, want_v](const Tensor& grad) {
             Tensor g_out = dense(grad);
             Shape part_shape = a.get().shape();
             part_shape.insert(part_shape.begin(), g.blocks);
             Tensor da_part = empty(part_shape, grad.dtype());
             Tensor db_part = empty(part_shape, grad.dtype());
             Tensor dv = empty(v.get().shape(), grad.dtype());
             if (g.N * g.T > 0) {
               MINIDL_DISPATCH_FLOATING(
                   grad.dtype(), kOp,
                   causal_backward<scalar_t>(
                       a.get().data_ptr<scalar_t>(), b.get().data_ptr<scalar_t>(),
                       v.get().data_ptr<scalar_t>(), o.get().data_ptr<scalar_t>(),
                       d.get().data_ptr<scalar_t>(), g_out.data_ptr<scalar_t>(),
                       da_part.data_ptr<scalar_t>(), db_part.data_ptr<scalar_t>(),
                       dv.data_ptr<scalar_t>(), g));
             } else {
               fill_data(da_part, 0.0);
               fill_data(db_part, 0.0);
               fill_data(dv, 0.0);
             }
             Tensor da = g.blocks == 1 ? da_part.select(0, 0) : da_part.sum({0});
             Tensor db = g.blocks == 1 ? db_part.select(0, 0) : db_part.sum({0});
             // through phi: dq = da phi'(q), dk = db phi'(k) (phi' = 0 on padded rows)
             Tensor dq = want_q ? da * dphi_q.get() : Tensor();
             Tensor dk = want_k ? db * dphi_k.get() : Tensor();
             return GradList{dq, dk, want_v ? dv : Tensor()};
           });
  }
  return out;
}

}  // namespace

Tensor linear_attention(const Tensor& query, const Tensor& key, const Tensor& value, bool causal,
                        const Tensor& key_padding_mask, double eps) {
  check_inputs(query, key, value, causal, key_padding_mask, kOp);
  MINIDL_CHECK(eps >= 0, kOp, "eps must be >= 0, got " << eps);
  if (causal) return causal_linear_attention(query, key, value, key_padding_mask, eps);
  // out = phi(q) (phi(k)ᵀ v) / (phi(q) . sum_j phi(k_j) + eps): GEMMs recorded by the tape.
  Tensor phi_q = feature_map(query);
  Tensor phi_k = feature_map(key);
  if (key_padding_mask.defined()) phi_k = phi_k * keep_factor(key_padding_mask, key);
  Tensor kv = matmul(phi_k.transpose(-2, -1), value);  // [..., E, Ev]
  Tensor z = phi_k.sum({-2}, true).transpose(-2, -1);  // [..., E, 1]
  Tensor num = matmul(phi_q, kv);                      // [..., T, Ev]
  Tensor den = matmul(phi_q, z) + eps;                 // [..., T, 1]
  return num / den;
}

Tensor linear_attention_weights(const Tensor& query, const Tensor& key, bool causal,
                                const Tensor& key_padding_mask, double eps) {
  const char* op = "linear_attention_weights";
  // value is only checked for shape; pass key in its place.
  check_inputs(query, key, key, causal, key_padding_mask, op);
  Tensor phi_k = feature_map(key);
  if (key_padding_mask.defined()) phi_k = phi_k * keep_factor(key_padding_mask, key);
  Tensor scores = matmul(feature_map(query), phi_k.transpose(-2, -1));  // [..., T, S]
  if (causal) {
    const int64_t T = query.size(-2), S = key.size(-2);
    Tensor future = ones({T, S}, kBool);
    {
      bool* f = future.data_ptr<bool>();
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < S; ++j) f[i * S + j] = j > i;
    }
    scores = scores.masked_fill(future, 0.0);
  }
  return scores / (scores.sum({-1}, true) + eps);
}

}  // namespace minidl
