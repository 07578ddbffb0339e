// Fused recurrences (LSTM, GRU, Elman RNN): per step one GEMM h W_hh^T and one fused gate kernel;
// the backward through time sits right below the forward loop.
#include "ops/rnn.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <omp.h>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/strided.h"

namespace minidl {

namespace {

enum class Cell { Lstm, Gru, RnnTanh, RnnRelu };

int64_t gate_count(Cell kind) {
  return kind == Cell::Lstm ? 4 : kind == Cell::Gru ? 3 : 1;
}
// Activations saved per row for backward, in units of H:
//   LSTM: i, f, g, o, c_{t-1}, tanh(c_t)   GRU: r, z, n, gh_n   RNN: h_t
int64_t saved_width(Cell kind) {
  return kind == Cell::Lstm ? 6 : kind == Cell::Gru ? 4 : 1;
}
// Rows after the T outputs in the op's result: h_n, and c_n for LSTM.
int64_t state_rows(Cell kind) {
  return kind == Cell::Lstm ? 2 : 1;
}

// Gate math is ~10x the cost of an add per element, so threads pay off below kParallelGrain.
constexpr int64_t kGateGrain = kParallelGrain / 8;

// C = alpha op(A) op(B) + beta C, row-major; op(X) is X or X^T as the flag says.
void rnn_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
              int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}
void rnn_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a,
              int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
}

// exp for float32 that the compiler can vectorize (libm's expf/tanhf are scalar calls and took a
// quarter of an LSTM step): x = n ln2 + r with |r| <= ln2 / 2 (Cody-Waite), exp(r) by Cephes'
// degree-6 polynomial (relative error ~1e-7), 2^n assembled in the exponent bits.
inline float vector_exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  // round(x / ln2) by the 1.5 * 2^23 trick (floorf does not vectorize without -ffast-math)
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return y * __builtin_bit_cast(float, bits);
}

// float32: through vector_exp (tanh(x) = 2 sigmoid(2x) - 1: absolute error ~1e-7);
// float64: libm, full precision for gradient checks.
inline float sigmoid_of(float x) {
  return 1.0f / (1.0f + vector_exp(-x));
}
inline double sigmoid_of(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}
inline float tanh_of(float x) {
  return 2.0f / (1.0f + vector_exp(-2.0f * x)) - 1.0f;
}
inline double tanh_of(double x) {
  return std::tanh(x);
}

// t itself if contiguous, else a contiguous copy (no tape entry: the op records its own).
Tensor dense(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = empty(t.shape(), t.dtype());
  copy_data(out, t);
  return out;
}

struct Geometry {
  Cell kind;
  int64_t T, B, H;
  std::vector<int64_t> batch_sizes;  // valid rows at each step (all B when not packed)
  bool reverse;
  int64_t G() const { return gate_count(kind); }
  int64_t step(int64_t s) const { return reverse ? T - 1 - s : s; }
};

// The hidden units are split into one block per thread, and each thread runs the whole
// recurrence for its block inside ONE parallel region, with one barrier per step: a fork/join
// per step (and OpenBLAS's own) costs more than the step's elementwise work at this size. Inside
// the region each thread's GEMM is a single-threaded BLAS call on its slice.
struct Blocks {
  int64_t count = 1;
  int64_t begin(int64_t k, int64_t H) const { return H * k / count; }
};

Blocks thread_blocks(int64_t B, int64_t H, int64_t G) {
  Blocks blocks;
  if (B * G * H >= kGateGrain) {
    blocks.count = std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), H / 16));
  }
  return blocks;
}

// One row of a step for hidden units [0, n) of a block: gate q of unit j is at xr[q*H + j]
// (x_proj), gr[q*ng + j] (h W_hh^T, the block's slice) and bias[q*H + j]; activations go to
// sr[q*H + j]. Separate functions with restrict pointers so the loops vectorize.
template <typename scalar_t>
void lstm_row_forward(int64_t n, int64_t H, int64_t ng, const scalar_t* __restrict xr,
                      const scalar_t* __restrict gr, const scalar_t* __restrict bias,
                      scalar_t* __restrict sr, scalar_t* __restrict cr, scalar_t* __restrict hr,
                      scalar_t* __restrict orow) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t i = sigmoid_of(xr[j] + gr[j] + bias[j]);
    const scalar_t f = sigmoid_of(xr[H + j] + gr[ng + j] + bias[H + j]);
    const scalar_t g = tanh_of(xr[2 * H + j] + gr[2 * ng + j] + bias[2 * H + j]);
    const scalar_t o = sigmoid_of(xr[3 * H + j] + gr[3 * ng + j] + bias[3 * H + j]);
    const scalar_t c_prev = cr[j];
    const scalar_t c_new = f * c_prev + i * g;
    const scalar_t tanh_c = tanh_of(c_new);
    sr[j] = i;
    sr[H + j] = f;
    sr[2 * H + j] = g;
    sr[3 * H + j] = o;
    sr[4 * H + j] = c_prev;
    sr[5 * H + j] = tanh_c;
    cr[j] = c_new;
    const scalar_t h_new = o * tanh_c;
    hr[j] = h_new;
    orow[j] = h_new;
  }
}

template <typename scalar_t>
void gru_row_forward(int64_t n, int64_t H, int64_t ng, const scalar_t* __restrict xr,
                     const scalar_t* __restrict gr, const scalar_t* __restrict bias,
                     scalar_t* __restrict sr, scalar_t* __restrict hr, scalar_t* __restrict orow) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t r = sigmoid_of(xr[j] + gr[j] + bias[j]);
    const scalar_t z = sigmoid_of(xr[H + j] + gr[ng + j] + bias[H + j]);
    const scalar_t gh_n = gr[2 * ng + j] + bias[2 * H + j];
    const scalar_t n_gate = tanh_of(xr[2 * H + j] + r * gh_n);
    sr[j] = r;
    sr[H + j] = z;
    sr[2 * H + j] = n_gate;
    sr[3 * H + j] = gh_n;
    const scalar_t h_new = (scalar_t(1) - z) * n_gate + z * hr[j];
    hr[j] = h_new;
    orow[j] = h_new;
  }
}

template <typename scalar_t>
void rnn_row_forward(int64_t n, bool is_tanh, const scalar_t* __restrict xr,
                     const scalar_t* __restrict gr, const scalar_t* __restrict bias,
                     scalar_t* __restrict sr, scalar_t* __restrict hr, scalar_t* __restrict orow) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t pre = xr[j] + gr[j] + bias[j];
    const scalar_t h_new = is_tanh ? tanh_of(pre) : (pre > scalar_t(0) ? pre : scalar_t(0));
    sr[j] = h_new;
    hr[j] = h_new;
    orow[j] = h_new;
  }
}

// Forward through time. xp [T, B, G*H], h0, c0 [B, H], w [G*H, H], bias [G*H];
// out [T + state_rows, B, H] (outputs, then h_n, c_n: the carried state lives in those rows),
// saved [T, B, saved_width*H], hprev [T, B, H] (h_{t-1} as fed to step t), gh [B, G*H] scratch.
// Thread k owns hidden units [j0, j1): its GEMM computes the G gate columns of those units
// (rows of W_hh regrouped block by block into w_blocked) and its kernel updates them.
template <typename scalar_t>
void forward_loop(const Geometry& geo, const scalar_t* xp, const scalar_t* h0, const scalar_t* c0,
                  const scalar_t* w, const scalar_t* bias, scalar_t* out, scalar_t* saved,
                  scalar_t* hprev, scalar_t* gh) {
  const Cell kind = geo.kind;
  const int64_t T = geo.T, B = geo.B, H = geo.H, G = geo.G(), GH = G * H;
  const int64_t S = saved_width(kind) * H;
  const Blocks blocks = thread_blocks(B, H, G);
  std::vector<scalar_t> w_blocked;
  if (blocks.count > 1) {
    w_blocked.resize(GH * H);
    for (int64_t k = 0; k < blocks.count; ++k) {
      const int64_t j0 = blocks.begin(k, H), j1 = blocks.begin(k + 1, H);
      for (int64_t q = 0; q < G; ++q)
        std::memcpy(&w_blocked[(G * j0 + q * (j1 - j0)) * H], w + (q * H + j0) * H,
                    sizeof(scalar_t) * (j1 - j0) * H);
    }
    w = w_blocked.data();
  }
  scalar_t* h = out + T * B * H;
  scalar_t* c = kind == Cell::Lstm ? out + (T + 1) * B * H : nullptr;
  std::memcpy(h, h0, sizeof(scalar_t) * B * H);
  if (c) std::memcpy(c, c0, sizeof(scalar_t) * B * H);
  std::memcpy(hprev + geo.step(0) * B * H, h0, sizeof(scalar_t) * B * H);
  // Threads take blocks round-robin: inside an enclosing parallel region the team may be smaller.
#pragma omp parallel num_threads(blocks.count) if (blocks.count > 1)
  {
    const int64_t thread = omp_get_thread_num(), team = omp_get_num_threads();
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = geo.step(s), bs = geo.batch_sizes[t];
      for (int64_t k = thread; k < blocks.count; k += team) {
        const int64_t j0 = blocks.begin(k, H), n = blocks.begin(k + 1, H) - j0;
        const scalar_t* hp = hprev + t * B * H;
        scalar_t* gk = gh + G * j0;  // this block's gate columns, gate-major
        if (bs > 0)
          rnn_gemm(false, true, bs, G * n, H, hp, H, w + G * j0 * H, H, scalar_t(0), gk, GH);
        const scalar_t* xt = xp + t * B * GH + j0;
        scalar_t* ot = out + t * B * H + j0;
        scalar_t* st = saved + t * B * S + j0;
        for (int64_t b = 0; b < bs; ++b) {
          if (kind == Cell::Lstm) {
            lstm_row_forward(n, H, n, xt + b * GH, gk + b * GH, bias + j0, st + b * S,
                             c + b * H + j0, h + b * H + j0, ot + b * H);
          } else if (kind == Cell::Gru) {
            gru_row_forward(n, H, n, xt + b * GH, gk + b * GH, bias + j0, st + b * S,
                            h + b * H + j0, ot + b * H);
          } else {
            rnn_row_forward(n, kind == Cell::RnnTanh, xt + b * GH, gk + b * GH, bias + j0,
                            st + b * S, h + b * H + j0, ot + b * H);
          }
        }
        for (int64_t b = bs; b < B; ++b) std::memset(ot + b * H, 0, sizeof(scalar_t) * n);
        if (s + 1 < T) {  // the next step's input state: this block's columns of h
          scalar_t* next = hprev + geo.step(s + 1) * B * H + j0;
          for (int64_t b = 0; b < B; ++b)
            std::memcpy(next + b * H, h + b * H + j0, sizeof(scalar_t) * n);
        }
      }
#pragma omp barrier
    }
  }
}

// Backward of one row for hidden units [0, n) of a block (layouts as in the forward; dxr, dgr
// are d x_proj and d(h W_hh^T + b_hh) rows at gate stride H).
template <typename scalar_t>
void lstm_row_backward(int64_t n, int64_t H, const scalar_t* __restrict sr,
                       const scalar_t* __restrict g_out, scalar_t* __restrict dxr,
                       scalar_t* __restrict dhr, scalar_t* __restrict dcr) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t i = sr[j], f = sr[H + j], g = sr[2 * H + j], o = sr[3 * H + j];
    const scalar_t c_prev = sr[4 * H + j], tanh_c = sr[5 * H + j];
    const scalar_t dh_t = dhr[j] + g_out[j];
    const scalar_t dc_t = dcr[j] + dh_t * o * (scalar_t(1) - tanh_c * tanh_c);
    dxr[j] = dc_t * g * i * (scalar_t(1) - i);
    dxr[H + j] = dc_t * c_prev * f * (scalar_t(1) - f);
    dxr[2 * H + j] = dc_t * i * (scalar_t(1) - g * g);
    dxr[3 * H + j] = dh_t * tanh_c * o * (scalar_t(1) - o);
    dcr[j] = dc_t * f;
  }
}

template <typename scalar_t>
void gru_row_backward(int64_t n, int64_t H, const scalar_t* __restrict sr,
                      const scalar_t* __restrict hp, const scalar_t* __restrict g_out,
                      scalar_t* __restrict dxr, scalar_t* __restrict dgr,
                      scalar_t* __restrict dhr) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t r = sr[j], z = sr[H + j], n_gate = sr[2 * H + j], gh_n = sr[3 * H + j];
    const scalar_t dh_t = dhr[j] + g_out[j];
    const scalar_t dn_pre = dh_t * (scalar_t(1) - z) * (scalar_t(1) - n_gate * n_gate);
    const scalar_t dr_pre = dn_pre * gh_n * r * (scalar_t(1) - r);
    const scalar_t dz_pre = dh_t * (hp[j] - n_gate) * z * (scalar_t(1) - z);
    dxr[j] = dr_pre;
    dgr[j] = dr_pre;
    dxr[H + j] = dz_pre;
    dgr[H + j] = dz_pre;
    dxr[2 * H + j] = dn_pre;
    dgr[2 * H + j] = dn_pre * r;
    dhr[j] = dh_t * z;  // the direct path; the GEMM adds the path through the gates
  }
}

template <typename scalar_t>
void rnn_row_backward(int64_t n, bool is_tanh, const scalar_t* __restrict sr,
                      const scalar_t* __restrict g_out, scalar_t* __restrict dxr,
                      const scalar_t* __restrict dhr) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t h_new = sr[j];
    const scalar_t dh_t = dhr[j] + g_out[j];
    dxr[j] =
        is_tanh ? dh_t * (scalar_t(1) - h_new * h_new) : (h_new > scalar_t(0) ? dh_t : scalar_t(0));
  }
}

// Backward through time, steps in the reverse of the forward order. grad [T + state_rows, B, H];
// dh, dc [B, H] enter holding dL/dh_n, dL/dc_n and leave holding dL/dh0, dL/dc0. Writes
// dxp [T, B, G*H] (d x_proj) and dgh [T, B, G*H] (d of the h W_hh^T + b_hh part; the same buffer
// as dxp except for GRU, where the n gate sees r * gh_n). Thread k owns hidden units [j0, j1):
// its gate derivatives, then (after the barrier: the GEMM needs every gate) its columns of
// dh_{t-1} = dgates_t W_hh.
template <typename scalar_t>
void backward_loop(const Geometry& geo, const scalar_t* grad, const scalar_t* w,
                   const scalar_t* saved, const scalar_t* hprev, scalar_t* dxp, scalar_t* dgh,
                   scalar_t* dh, scalar_t* dc) {
  const Cell kind = geo.kind;
  const int64_t T = geo.T, B = geo.B, H = geo.H, G = geo.G(), GH = G * H;
  const int64_t S = saved_width(kind) * H;
  const Blocks blocks = thread_blocks(B, H, G);
#pragma omp parallel num_threads(blocks.count) if (blocks.count > 1)
  {
    const int64_t thread = omp_get_thread_num(), team = omp_get_num_threads();
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = geo.step(s), bs = geo.batch_sizes[t];
      scalar_t* dxt = dxp + t * B * GH;
      scalar_t* dgt = dgh + t * B * GH;
      for (int64_t k = thread; k < blocks.count; k += team) {
        const int64_t j0 = blocks.begin(k, H), n = blocks.begin(k + 1, H) - j0;
        const scalar_t* gt = grad + t * B * H + j0;
        const scalar_t* st = saved + t * B * S + j0;
        for (int64_t b = 0; b < bs; ++b) {
          if (kind == Cell::Lstm) {
            lstm_row_backward(n, H, st + b * S, gt + b * H, dxt + b * GH + j0, dh + b * H + j0,
                              dc + b * H + j0);
          } else if (kind == Cell::Gru) {
            gru_row_backward(n, H, st + b * S, hprev + (t * B + b) * H + j0, gt + b * H,
                             dxt + b * GH + j0, dgt + b * GH + j0, dh + b * H + j0);
          } else {
            rnn_row_backward(n, kind == Cell::RnnTanh, st + b * S, gt + b * H, dxt + b * GH + j0,
                             dh + b * H + j0);
          }
        }
        for (int64_t b = bs; b < B; ++b) {  // padded rows: no gradient into the gates
          for (int64_t q = 0; q < G; ++q) {
            std::memset(dxt + b * GH + q * H + j0, 0, sizeof(scalar_t) * n);
            if (dgt != dxt) std::memset(dgt + b * GH + q * H + j0, 0, sizeof(scalar_t) * n);
          }
        }
      }
#pragma omp barrier
      // dh_{t-1} = dgates_t W_hh (+ the direct path for GRU); padded rows carry dh unchanged.
      for (int64_t k = thread; k < blocks.count && bs > 0; k += team) {
        const int64_t j0 = blocks.begin(k, H), n = blocks.begin(k + 1, H) - j0;
        rnn_gemm(false, false, bs, n, GH, dgt, GH, w + j0, H, scalar_t(kind == Cell::Gru ? 1 : 0),
                 dh + j0, H);
      }
    }
  }
}

// out[k] = sum_row m[row, k] for m [rows, cols] row-major.
template <typename scalar_t>
void column_sums(const scalar_t* m, int64_t rows, int64_t cols, scalar_t* out) {
  std::fill(out, out + cols, scalar_t(0));
  for (int64_t row = 0; row < rows; ++row) {
    const scalar_t* pr = m + row * cols;
#pragma omp simd
    for (int64_t k = 0; k < cols; ++k) out[k] += pr[k];
  }
}

const char* backward_name(Cell kind) {
  switch (kind) {
    case Cell::Lstm:
      return "LstmBackward";
    case Cell::Gru:
      return "GruBackward";
    default:
      return "RnnBackward";
  }
}

RecurrentResult run_recurrence(Cell kind, const char* op, const Tensor& x_proj, const Tensor& h0,
                               const Tensor& c0, const Tensor& w_hh, const Tensor& b_hh,
                               const std::vector<int64_t>& batch_sizes, bool reverse) {
  const bool lstm = kind == Cell::Lstm;
  MINIDL_CHECK(x_proj.defined() && h0.defined() && w_hh.defined() && (!lstm || c0.defined()), op,
               "x_proj, h0" << (lstm ? ", c0" : "") << " and w_hh must be defined");
  MINIDL_CHECK(
      w_hh.dim() == 2 && w_hh.size(1) > 0 && w_hh.size(0) == gate_count(kind) * w_hh.size(1), op,
      "w_hh must be [" << gate_count(kind) << "*H, H], got " << shape_str(w_hh.shape()));
  const int64_t H = w_hh.size(1), GH = w_hh.size(0);
  MINIDL_CHECK(
      x_proj.dim() == 3 && x_proj.size(2) == GH && x_proj.size(0) > 0 && x_proj.size(1) > 0, op,
      "x_proj must be a non-empty [T, B, " << GH << "] tensor (w_hh is " << shape_str(w_hh.shape())
                                           << "), got " << shape_str(x_proj.shape()));
  const int64_t T = x_proj.size(0), B = x_proj.size(1);
  const DType dt = x_proj.dtype();
  MINIDL_CHECK(dt == kFloat32 || dt == kFloat64, op,
               "expected a floating-point x_proj (float32 or float64), got " << dt);
  MINIDL_CHECK(h0.shape() == Shape({B, H}), op,
               "expected h0 of shape " << shape_str({B, H}) << ", got " << shape_str(h0.shape()));
  if (lstm)
    MINIDL_CHECK(c0.shape() == Shape({B, H}), op,
                 "expected c0 of shape " << shape_str({B, H}) << ", got " << shape_str(c0.shape()));
  MINIDL_CHECK(!b_hh.defined() || b_hh.shape() == Shape({GH}), op,
               "expected b_hh of shape " << shape_str({GH}) << ", got " << shape_str(b_hh.shape()));
  for (const Tensor& t : {h0, c0, w_hh, b_hh})
    MINIDL_CHECK(!t.defined() || t.dtype() == dt, op,
                 "all tensors must have x_proj's dtype " << dt << ", got " << t.dtype());
  Geometry geo{kind, T, B, H, batch_sizes, reverse};
  if (geo.batch_sizes.empty()) {
    geo.batch_sizes.assign(T, B);
  } else {
    MINIDL_CHECK(static_cast<int64_t>(batch_sizes.size()) == T, op,
                 "batch_sizes has " << batch_sizes.size() << " entries for " << T << " steps");
    for (int64_t t = 0; t < T; ++t)
      MINIDL_CHECK(batch_sizes[t] >= 0 && batch_sizes[t] <= B &&
                       (t == 0 || batch_sizes[t] <= batch_sizes[t - 1]),
                   op,
                   "batch_sizes must be non-increasing and within [0, "
                       << B << "], got " << batch_sizes[t] << " at step " << t);
  }

  Tensor xp = dense(x_proj), h = dense(h0), c = lstm ? dense(c0) : Tensor(), w = dense(w_hh);
  Tensor bias = b_hh.defined() ? dense(b_hh) : zeros({GH}, dt);
  Tensor out = empty({T + state_rows(kind), B, H}, dt);
  Tensor saved = empty({T, B, saved_width(kind) * H}, dt);
  Tensor hprev = empty({T, B, H}, dt);
  {
    Tensor gh = empty({B, GH}, dt);
    MINIDL_DISPATCH_FLOATING(
        dt, op,
        forward_loop<scalar_t>(geo, xp.data_ptr<scalar_t>(), h.data_ptr<scalar_t>(),
                               lstm ? c.data_ptr<scalar_t>() : nullptr, w.data_ptr<scalar_t>(),
                               bias.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                               saved.data_ptr<scalar_t>(), hprev.data_ptr<scalar_t>(),
                               gh.data_ptr<scalar_t>()));
  }

  // Per step (active rows):  gates = x_proj_t + h_{t-1} W_hh^T + b_hh  -> cell update (see rnn.h)
  //   dgates = fused gate derivatives ;  dh_{t-1} = dgates W_hh (+ z dh_t for GRU) ;
  //   dx_proj_t = dgates ;  dW_hh = sum_t dgates_t^T h_{t-1} ;  db_hh = sum_t,b dgates
  if (needs_grad({x_proj, h0, c0, w_hh, b_hh})) {
    const bool want_x = x_proj.requires_grad(), want_h = h0.requires_grad();
    const bool want_c = lstm && c0.requires_grad(), want_w = w_hh.requires_grad();
    const bool want_b = b_hh.defined() && b_hh.requires_grad();
    record(backward_name(kind), out, {x_proj, h0, c0, w_hh, b_hh},
           [=, saved_w = SavedTensor(w_hh), saved_acts = SavedTensor(saved),
            saved_hprev = SavedTensor(hprev)](const Tensor& grad) {
             Tensor g = dense(grad), wd = dense(saved_w.get());
             Tensor dxp = empty({T, B, GH}, dt);
             Tensor dgh = kind == Cell::Gru ? empty({T, B, GH}, dt) : dxp;
             Tensor dh = g.select(0, T).clone();
             Tensor dc = lstm ? g.select(0, T + 1).clone() : Tensor();
             Tensor dw = want_w ? empty({GH, H}, dt) : Tensor();
             Tensor db = want_b ? empty({GH}, dt) : Tensor();
             MINIDL_DISPATCH_FLOATING(dt, "rnn backward", {
               backward_loop<scalar_t>(
                   geo, g.data_ptr<scalar_t>(), wd.data_ptr<scalar_t>(),
                   saved_acts.get().data_ptr<scalar_t>(), saved_hprev.get().data_ptr<scalar_t>(),
                   dxp.data_ptr<scalar_t>(), dgh.data_ptr<scalar_t>(), dh.data_ptr<scalar_t>(),
                   lstm ? dc.data_ptr<scalar_t>() : nullptr);
               const scalar_t* pg = dgh.data_ptr<scalar_t>();
               if (want_w)
                 rnn_gemm(true, false, GH, H, T * B, pg, GH, saved_hprev.get().data_ptr<scalar_t>(),
                          H, scalar_t(0), dw.data_ptr<scalar_t>(), H);
               if (want_b) column_sums(pg, T * B, GH, db.data_ptr<scalar_t>());
             });
             return GradList{want_x ? dxp : Tensor(), want_h ? dh : Tensor(),
                             want_c ? dc : Tensor(), dw, db};
           });
  }
  RecurrentResult result;
  result.output = out.narrow(0, 0, T);
  result.h_n = out.select(0, T);
  if (lstm) result.c_n = out.select(0, T + 1);
  return result;
}

Cell rnn_kind(const std::string& nonlinearity, const char* op) {
  MINIDL_CHECK(nonlinearity == "tanh" || nonlinearity == "relu", op,
               "unknown nonlinearity '" << nonlinearity << "' (expected \"tanh\" or \"relu\")");
  return nonlinearity == "tanh" ? Cell::RnnTanh : Cell::RnnRelu;
}

// A cell's x_proj [B, G*H] as a one-step sequence [1, B, G*H].
Tensor one_step(const Tensor& x_proj, const char* op) {
  MINIDL_CHECK(x_proj.defined() && x_proj.dim() == 2, op,
               "expected x_proj of shape [B, G*H], got "
                   << (x_proj.defined() ? shape_str(x_proj.shape()) : "undefined"));
  return x_proj.unsqueeze(0);
}

}  // namespace

RecurrentResult lstm_sequence(const Tensor& x_proj, const Tensor& h0, const Tensor& c0,
                              const Tensor& w_hh, const Tensor& b_hh,
                              const std::vector<int64_t>& batch_sizes, bool reverse) {
  return run_recurrence(Cell::Lstm, "lstm_sequence", x_proj, h0, c0, w_hh, b_hh, batch_sizes,
                        reverse);
}

RecurrentResult gru_sequence(const Tensor& x_proj, const Tensor& h0, const Tensor& w_hh,
                             const Tensor& b_hh, const std::vector<int64_t>& batch_sizes,
                             bool reverse) {
  return run_recurrence(Cell::Gru, "gru_sequence", x_proj, h0, Tensor(), w_hh, b_hh, batch_sizes,
                        reverse);
}

RecurrentResult rnn_sequence(const Tensor& x_proj, const Tensor& h0, const Tensor& w_hh,
                             const Tensor& b_hh, const std::string& nonlinearity,
                             const std::vector<int64_t>& batch_sizes, bool reverse) {
  return run_recurrence(rnn_kind(nonlinearity, "rnn_sequence"), "rnn_sequence", x_proj, h0,
                        Tensor(), w_hh, b_hh, batch_sizes, reverse);
}

std::pair<Tensor, Tensor> lstm_cell(const Tensor& x_proj, const Tensor& h, const Tensor& c,
                                    const Tensor& w_hh, const Tensor& b_hh) {
  RecurrentResult r = run_recurrence(Cell::Lstm, "lstm_cell", one_step(x_proj, "lstm_cell"), h, c,
                                     w_hh, b_hh, {}, false);
  return {r.h_n, r.c_n};
}

Tensor gru_cell(const Tensor& x_proj, const Tensor& h, const Tensor& w_hh, const Tensor& b_hh) {
  return run_recurrence(Cell::Gru, "gru_cell", one_step(x_proj, "gru_cell"), h, Tensor(), w_hh,
                        b_hh, {}, false)
      .h_n;
}

Tensor rnn_cell(const Tensor& x_proj, const Tensor& h, const Tensor& w_hh, const Tensor& b_hh,
                const std::string& nonlinearity) {
  return run_recurrence(rnn_kind(nonlinearity, "rnn_cell"), "rnn_cell",
                        one_step(x_proj, "rnn_cell"), h, Tensor(), w_hh, b_hh, {}, false)
      .h_n;
}

}  // namespace minidl
