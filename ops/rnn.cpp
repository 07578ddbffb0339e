// Fused recurrences (LSTM, GRU, Elman RNN): per step one GEMM h W_hh^T and one fused gate kernel;
// the backward through time sits right below the forward loop.
#include "ops/rnn.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "ops/linalg.h"

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

// exp for float32 that the compiler can vectorize (libm's expf/tanhf are scalar calls and took a
// quarter of an LSTM step): x = n ln2 + r with |r| <= ln2 / 2 (Cody-Waite), exp(r) by Cephes'
// degree-6 polynomial (relative error ~1e-7), 2^n assembled in the exponent bits.
inline float vector_exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  // round(x / ln2) by the 1.5 * 2^23 trick (floorf does not vectorize without -ffast-math)
  const float shifted = x * 1.44269504088896341f + 12582912.0f;
  const float n = shifted - 12582912.0f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  // n as an integer from the bits of `shifted` (its low mantissa bits hold it), shifted as
  // unsigned: converting a NaN float to int, or a signed shift of the garbage a NaN gives, would be
  // undefined behaviour; a NaN x still gives NaN through y.
  const int32_t n_int =
      __builtin_bit_cast(int32_t, shifted) - __builtin_bit_cast(int32_t, 12582912.0f);
  const int32_t bits = static_cast<int32_t>(static_cast<uint32_t>(n_int + 127) << 23);
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

using detail::dense;

struct Geometry {
  Cell kind;
  int64_t T, B, H;
  std::vector<int64_t> batch_sizes;  // valid rows at each step (all B when not packed)
  bool reverse;
  int64_t G() const { return gate_count(kind); }
  int64_t step(int64_t s) const { return reverse ? T - 1 - s : s; }
};

// Threads split the batch, never the time steps or the hidden units: a chunk of rows runs the
// whole recurrence for its rows -- per step one GEMM of its rows' h_{t-1} with W_hh and the
// fused gate kernel -- and no chunk ever waits for another (rows are independent), so there is
// no barrier per step (core/parallel.h, rule 3). The alternative, hidden units split across
// threads, needs every thread's part of h_{t-1} before any can take step t: a barrier per
// step, which cost a time slice per step whenever a thread was preempted (W4 2x, the demo 16x
// slower with one competing process). What batch chunks cost instead: each chunk's GEMM packs
// W_hh again (as much work as a GEMM of ~8 rows), so there is one chunk per thread, and chunks
// hold at least kMinRowsPerChunk rows.
constexpr int64_t kMinRowsPerChunk = 8;
// Multiply-adds of one chunk's whole recurrence below which more rows go into a chunk.
constexpr int64_t kRecurrenceGrain = int64_t{1} << 21;

int64_t row_grain(const Cell kind, int64_t T, int64_t B, int64_t H) {
  const int64_t per_row = T * gate_count(kind) * H * H;  // one row's h W_hh^T over all steps
  const int64_t threads = get_num_threads();
  return std::max({kMinRowsPerChunk, (B + threads - 1) / threads,
                   kRecurrenceGrain / std::max<int64_t>(1, per_row)});
}

// One row of a step: gate q of unit j is at xr[q*H + j] (x_proj), gr[q*H + j] (h W_hh^T) and
// bias[q*H + j]; activations go to sr[q*H + j]. Separate functions with restrict pointers so
// the loops vectorize.
//   i = σ(.), f = σ(.), g = tanh(.), o = σ(.) ;  c_t = f c_{t-1} + i g ;  h_t = o tanh(c_t)
// where (.) is that gate's pre-activation a_q = x_proj_t[q] + (h_{t-1} W_hh^T)[q] + b_hh[q], all
// [B, H] per gate (PyTorch's gate order i, f, g, o in the 4H axis).
template <typename scalar_t>
void lstm_row_forward(int64_t H, const scalar_t* __restrict xr, const scalar_t* __restrict gr,
                      const scalar_t* __restrict bias, scalar_t* __restrict sr,
                      scalar_t* __restrict cr, scalar_t* __restrict hr, scalar_t* __restrict orow) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    // i = σ(a_i) (input gate), f = σ(a_f) (forget gate), g = tanh(a_g), o = σ(a_o) (output gate)
    const scalar_t i = sigmoid_of(xr[j] + gr[j] + bias[j]);
    const scalar_t f = sigmoid_of(xr[H + j] + gr[H + j] + bias[H + j]);
    const scalar_t g = tanh_of(xr[2 * H + j] + gr[2 * H + j] + bias[2 * H + j]);
    const scalar_t o = sigmoid_of(xr[3 * H + j] + gr[3 * H + j] + bias[3 * H + j]);
    const scalar_t c_prev = cr[j];
    const scalar_t c_new = f * c_prev + i * g;  // c_t = f c_{t-1} + i g
    const scalar_t tanh_c = tanh_of(c_new);     // tanh(c_t), saved: backward needs it twice
    sr[j] = i;
    sr[H + j] = f;
    sr[2 * H + j] = g;
    sr[3 * H + j] = o;
    sr[4 * H + j] = c_prev;
    sr[5 * H + j] = tanh_c;
    cr[j] = c_new;
    const scalar_t h_new = o * tanh_c;  // h_t = o tanh(c_t)
    hr[j] = h_new;
    orow[j] = h_new;
  }
}

//   r = σ(.), z = σ(.) ;  n = tanh(x_n + r (W_hn h + b_hn)) ;  h_t = (1 - z) n + z h_{t-1}
// (PyTorch's convention: r gates W_hn h_{t-1} + b_hn, the hidden part after its projection, so
// one GEMM h_{t-1} W_hh^T serves all three gates; gate order r, z, n in the 3H axis.)
template <typename scalar_t>
void gru_row_forward(int64_t H, const scalar_t* __restrict xr, const scalar_t* __restrict gr,
                     const scalar_t* __restrict bias, scalar_t* __restrict sr,
                     scalar_t* __restrict hr, scalar_t* __restrict orow) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t r = sigmoid_of(xr[j] + gr[j] + bias[j]);              // r = σ(x_r + gh_r)
    const scalar_t z = sigmoid_of(xr[H + j] + gr[H + j] + bias[H + j]);  // z = σ(x_z + gh_z)
    const scalar_t gh_n = gr[2 * H + j] + bias[2 * H + j];               // gh_n = W_hn h + b_hn
    const scalar_t n_gate = tanh_of(xr[2 * H + j] + r * gh_n);           // n = tanh(x_n + r gh_n)
    sr[j] = r;
    sr[H + j] = z;
    sr[2 * H + j] = n_gate;
    sr[3 * H + j] = gh_n;
    const scalar_t h_new = (scalar_t(1) - z) * n_gate + z * hr[j];  // h_t = (1-z) n + z h_{t-1}
    hr[j] = h_new;
    orow[j] = h_new;
  }
}

//   h_t = tanh(.) or relu(.)
template <typename scalar_t>
void rnn_row_forward(int64_t H, bool is_tanh, const scalar_t* __restrict xr,
                     const scalar_t* __restrict gr, const scalar_t* __restrict bias,
                     scalar_t* __restrict sr, scalar_t* __restrict hr, scalar_t* __restrict orow) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t pre = xr[j] + gr[j] + bias[j];  // a = x_proj_t + h_{t-1} W_hh^T + b_hh
    // h_t = tanh(a) or max(a, 0); only h_t is saved: tanh' = 1 - h_t², relu' = [h_t > 0]
    const scalar_t h_new = is_tanh ? tanh_of(pre) : (pre > scalar_t(0) ? pre : scalar_t(0));
    sr[j] = h_new;
    hr[j] = h_new;
    orow[j] = h_new;
  }
}

// Forward through time. xp [T, B, G*H], h0, c0 [B, H], w [G*H, H], bias [G*H];
// out [T + state_rows, B, H] (outputs, then h_n, c_n: the carried state lives in those rows),
// saved [T, B, saved_width*H], hprev [T, B, H] (h_{t-1} as fed to step t), gh [B, G*H] scratch.
// A chunk owns rows [b0, b1) of all of these; at step t its active rows are those below
// batch_sizes[t] (a packed batch is sorted longest first).
template <typename scalar_t>
void forward_loop(const Geometry& geo, const scalar_t* xp, const scalar_t* h0, const scalar_t* c0,
                  const scalar_t* w, const scalar_t* bias, scalar_t* out, scalar_t* saved,
                  scalar_t* hprev, scalar_t* gh) {
  const Cell kind = geo.kind;
  const int64_t T = geo.T, B = geo.B, H = geo.H, GH = geo.G() * H;
  const int64_t S = saved_width(kind) * H;
  scalar_t* h = out + T * B * H;
  scalar_t* c = kind == Cell::Lstm ? out + (T + 1) * B * H : nullptr;
  std::memcpy(h, h0, sizeof(scalar_t) * B * H);
  if (c) std::memcpy(c, c0, sizeof(scalar_t) * B * H);
  std::memcpy(hprev + geo.step(0) * B * H, h0, sizeof(scalar_t) * B * H);
  parallel_for(0, B, row_grain(kind, T, B, H), [&](int64_t b0, int64_t b1) {
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = geo.step(s), end = std::min(b1, geo.batch_sizes[t]);
      // gates_hh = h_{t-1} W_hh^T for the active rows of the chunk
      if (end > b0)
        detail::gemm(false, true, end - b0, GH, H, scalar_t(1), hprev + (t * B + b0) * H, H, w, H,
                     scalar_t(0), gh + b0 * GH, GH);
      const scalar_t* xt = xp + t * B * GH;
      scalar_t* ot = out + t * B * H;
      scalar_t* st = saved + t * B * S;
      for (int64_t b = b0; b < end; ++b) {
        if (kind == Cell::Lstm) {
          lstm_row_forward(H, xt + b * GH, gh + b * GH, bias, st + b * S, c + b * H, h + b * H,
                           ot + b * H);
        } else if (kind == Cell::Gru) {
          gru_row_forward(H, xt + b * GH, gh + b * GH, bias, st + b * S, h + b * H, ot + b * H);
        } else {
          rnn_row_forward(H, kind == Cell::RnnTanh, xt + b * GH, gh + b * GH, bias, st + b * S,
                          h + b * H, ot + b * H);
        }
      }
      for (int64_t b = std::max(b0, end); b < b1; ++b)  // finished rows output zeros
        std::memset(ot + b * H, 0, sizeof(scalar_t) * H);
      if (s + 1 < T)  // the next step's input state
        std::memcpy(hprev + (geo.step(s + 1) * B + b0) * H, h + b0 * H,
                    sizeof(scalar_t) * (b1 - b0) * H);
    }
  });
}

// Backward of one row (layouts as in the forward; dxr, dgr are d x_proj and
// d(h W_hh^T + b_hh) rows at gate stride H):
//   dh = dh_{t+1 path} + dout ;  dc = dc_next + dh o (1 - tanh²c)
//   di = dc g i(1-i) ;  df = dc c_{t-1} f(1-f) ;  dg = dc i (1-g²) ;  do = dh tanh(c) o(1-o)
//   dc_{t-1} = dc f   (dh_{t-1} = dgates W_hh follows as a GEMM)
// On entry dhr, dcr hold the gradient carried from step t+1 (dL/dh_t, dL/dc_t through the later
// steps); on exit dcr holds dL/dc_{t-1} and dhr is overwritten by the caller's GEMM. The four
// pre-activation derivatives are d x_proj_t and d gates_hh alike (both enter a_q additively).
template <typename scalar_t>
void lstm_row_backward(int64_t H, const scalar_t* __restrict sr, const scalar_t* __restrict g_out,
                       scalar_t* __restrict dxr, scalar_t* __restrict dhr,
                       scalar_t* __restrict dcr) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t i = sr[j], f = sr[H + j], g = sr[2 * H + j], o = sr[3 * H + j];
    const scalar_t c_prev = sr[4 * H + j], tanh_c = sr[5 * H + j];
    // dh = dh carried from step t+1 + dout_t (h_t is both an output and the next step's input)
    const scalar_t dh_t = dhr[j] + g_out[j];
    // h_t = o tanh(c_t):  dc += dh o (1 - tanh²c_t)  (c_t also feeds c_{t+1}: the carried dc)
    const scalar_t dc_t = dcr[j] + dh_t * o * (scalar_t(1) - tanh_c * tanh_c);
    // c_t = f c_{t-1} + i g:  di = dc g, then through σ' = i(1-i):  da_i = dc g i(1-i)
    dxr[j] = dc_t * g * i * (scalar_t(1) - i);
    // df = dc c_{t-1}, σ' = f(1-f):  da_f = dc c_{t-1} f(1-f)
    dxr[H + j] = dc_t * c_prev * f * (scalar_t(1) - f);
    // dg = dc i, tanh' = 1 - g²:  da_g = dc i (1-g²)
    dxr[2 * H + j] = dc_t * i * (scalar_t(1) - g * g);
    // do = dh tanh(c_t), σ' = o(1-o):  da_o = dh tanh(c_t) o(1-o)
    dxr[3 * H + j] = dh_t * tanh_c * o * (scalar_t(1) - o);
    dcr[j] = dc_t * f;  // dc_{t-1} = dc f, carried to step t-1
  }
}

//   dn_pre = dh (1-z)(1-n²) ;  dr_pre = dn_pre gh_n r(1-r) ;  dz_pre = dh (h_{t-1} - n) z(1-z)
//   d x_proj = [dr_pre, dz_pre, dn_pre] ;  d gates_hh = [dr_pre, dz_pre, dn_pre r] ;
//   dh_{t-1} = dh z + d gates_hh W_hh
template <typename scalar_t>
void gru_row_backward(int64_t H, const scalar_t* __restrict sr, const scalar_t* __restrict hp,
                      const scalar_t* __restrict g_out, scalar_t* __restrict dxr,
                      scalar_t* __restrict dgr, scalar_t* __restrict dhr) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t r = sr[j], z = sr[H + j], n_gate = sr[2 * H + j], gh_n = sr[3 * H + j];
    const scalar_t dh_t = dhr[j] + g_out[j];  // dh = dh carried from step t+1 + dout_t
    // h_t = (1-z) n + z h_{t-1}:  dn = dh (1-z), tanh' = 1 - n²:  da_n = dh (1-z)(1-n²)
    const scalar_t dn_pre = dh_t * (scalar_t(1) - z) * (scalar_t(1) - n_gate * n_gate);
    // a_n = x_n + r gh_n:  dr = da_n gh_n, σ' = r(1-r):  da_r = da_n gh_n r(1-r)
    const scalar_t dr_pre = dn_pre * gh_n * r * (scalar_t(1) - r);
    // dz = dh (h_{t-1} - n), σ' = z(1-z):  da_z = dh (h_{t-1} - n) z(1-z)
    const scalar_t dz_pre = dh_t * (hp[j] - n_gate) * z * (scalar_t(1) - z);
    dxr[j] = dr_pre;  // d x_r = da_r  and  d gh_r = da_r  (both added in a_r)
    dgr[j] = dr_pre;
    dxr[H + j] = dz_pre;  // d x_z = d gh_z = da_z
    dgr[H + j] = dz_pre;
    dxr[2 * H + j] = dn_pre;      // d x_n = da_n  (x_n enters a_n directly)
    dgr[2 * H + j] = dn_pre * r;  // d gh_n = da_n r  (gh_n enters a_n scaled by r)
    dhr[j] = dh_t * z;            // the direct path; the GEMM adds the path through the gates
  }
}

//   d pre = dh (1 - h²) (tanh) or dh [pre > 0] (relu)
template <typename scalar_t>
void rnn_row_backward(int64_t H, bool is_tanh, const scalar_t* __restrict sr,
                      const scalar_t* __restrict g_out, scalar_t* __restrict dxr,
                      const scalar_t* __restrict dhr) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t h_new = sr[j];
    const scalar_t dh_t = dhr[j] + g_out[j];  // dh = dh carried from step t+1 + dout_t
    // da = dh (1 - h_t²) for tanh, dh [h_t > 0] for relu; d x_proj_t = d gates_hh = da
    dxr[j] =
        is_tanh ? dh_t * (scalar_t(1) - h_new * h_new) : (h_new > scalar_t(0) ? dh_t : scalar_t(0));
  }
}

// Backward through time, steps in the reverse of the forward order. grad [T + state_rows, B, H];
// dh, dc [B, H] enter holding dL/dh_n, dL/dc_n and leave holding dL/dh0, dL/dc0. Writes
// dxp [T, B, G*H] (d x_proj) and dgh [T, B, G*H] (d of the h W_hh^T + b_hh part; the same buffer
// as dxp except for GRU, where the n gate sees r * gh_n). Chunks of rows as in the forward: a
// chunk's gate derivatives, then its rows of dh_{t-1} = dgates_t W_hh, step after step.
template <typename scalar_t>
void backward_loop(const Geometry& geo, const scalar_t* grad, const scalar_t* w,
                   const scalar_t* saved, const scalar_t* hprev, scalar_t* dxp, scalar_t* dgh,
                   scalar_t* dh, scalar_t* dc) {
  const Cell kind = geo.kind;
  const int64_t T = geo.T, B = geo.B, H = geo.H, G = geo.G(), GH = G * H;
  const int64_t S = saved_width(kind) * H;
  parallel_for(0, B, row_grain(kind, T, B, H), [&](int64_t b0, int64_t b1) {
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = geo.step(s), end = std::min(b1, geo.batch_sizes[t]);
      scalar_t* dxt = dxp + t * B * GH;
      scalar_t* dgt = dgh + t * B * GH;
      const scalar_t* gt = grad + t * B * H;
      const scalar_t* st = saved + t * B * S;
      for (int64_t b = b0; b < end; ++b) {
        if (kind == Cell::Lstm) {
          lstm_row_backward(H, st + b * S, gt + b * H, dxt + b * GH, dh + b * H, dc + b * H);
        } else if (kind == Cell::Gru) {
          gru_row_backward(H, st + b * S, hprev + (t * B + b) * H, gt + b * H, dxt + b * GH,
                           dgt + b * GH, dh + b * H);
        } else {
          rnn_row_backward(H, kind == Cell::RnnTanh, st + b * S, gt + b * H, dxt + b * GH,
                           dh + b * H);
        }
      }
      for (int64_t b = std::max(b0, end); b < b1; ++b) {  // finished rows: no gradient into gates
        std::memset(dxt + b * GH, 0, sizeof(scalar_t) * GH);
        if (dgt != dxt) std::memset(dgt + b * GH, 0, sizeof(scalar_t) * GH);
      }
      // dh_{t-1} = dgates_t W_hh (+ the direct path for GRU); finished rows carry dh unchanged.
      // [rows, G*H] x [G*H, H]: the GEMM's beta is 1 for GRU (dhr already holds dh z) and 0
      // otherwise (LSTM / RNN have no direct h_{t-1} -> h_t path besides the gates).
      if (end > b0)
        detail::gemm(false, false, end - b0, H, GH, scalar_t(1), dgt + b0 * GH, GH, w, H,
                     scalar_t(kind == Cell::Gru ? 1 : 0), dh + b0 * H, H);
    }
  });
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

// The tape names of the three recurrences (recorded in run_recurrence below; the per-line math
// is at the kernels lstm_row_backward / gru_row_backward / rnn_row_backward and backward_loop).
// Shapes: x_proj [T, B, G*H], h0 (c0) [B, H], w_hh [G*H, H], b_hh [G*H], out [T + 1 (+1), B, H].
const char* backward_name(Cell kind) {
  switch (kind) {
    case Cell::Lstm:
      // out = [h_1..h_T, h_n, c_n], c_t = f c_{t-1} + i g, h_t = o tanh(c_t) ;  dx_proj = dgates ,
      //   dh0 = dgates_1 w_hh ,  dc0 = dc_1 f_1 ,  dw_hh = Σ_t dgates_t^T h_{t-1} ,
      //   db_hh = Σ dgates
      // derivation: a = x_proj_t + h_{t-1} w_hh^T + b_hh [B, 4H]; i f o = σ(a), g = tanh(a)
      //   reverse loop t = T..1, dh dc [B, H] carried (start: dout of h_n, c_n):
      //   dh = dh_carried + dout_t ;  do = dh tanh(c_t) ;  dc = dc_carried + dh o (1 - tanh² c_t)
      //   di = dc g ;  dg = dc i ;  df = dc c_{t-1} ;  dc_{t-1} = dc f  (carried)
      //   da_i = di i(1-i) ;  da_f = df f(1-f) ;  da_g = dg (1-g²) ;  da_o = do o(1-o)
      //   dgates_t = [da_i, da_f, da_g, da_o] [B, 4H] = dx_proj_t  (x_proj_t enters a additively)
      //   dh_{t-1} = dgates_t w_hh  ([B, 4H] x [4H, H], one GEMM per step, carried)
      //   then one GEMM: dw_hh = dgates^T hprev ([4H, T*B] x [T*B, H]) ;  db_hh = column sums
      //   dW_ih = dx_proj^T x, dx = dx_proj W_ih: linear's backward (x_proj = linear(x, W_ih))
      //   saved, not recomputed: i f g o c_{t-1} tanh(c_t) [T, B, 6H], h_{t-1} [T, B, H]
      //   (recomputing them would rerun the sequential recurrence: T dependent GEMMs)
      return "LstmBackward0";
    case Cell::Gru:
      // out = [h_1..h_T, h_n], n = tanh(x_n + r gh_n), h_t = (1-z) n + z h_{t-1} ;  dx_proj = dxg ,
      //   dh0 = dh_1 z_1 + dgh_1 w_hh ,  dw_hh = Σ_t dgh_t^T h_{t-1} ,  db_hh = Σ dgh
      // derivation: gh = h_{t-1} w_hh^T + b_hh, r = σ(x_r + gh_r), z = σ(x_z + gh_z) (PyTorch's
      //   convention: r scales W_hn h + b_hn, so one GEMM serves r, z, n); dh [B, H] carried:
      //   dh = dh_carried + dout_t ;  dn = dh (1-z) ;  dz = dh (h_{t-1} - n)
      //   da_n = dn (1-n²) ;  da_z = dz z(1-z) ;  dr = da_n gh_n ;  da_r = dr r(1-r)
      //   dxg_t = [da_r, da_z, da_n] [B, 3H] = dx_proj_t ;  dgh_t = [da_r, da_z, r da_n] [B, 3H]
      //   dh_{t-1} = dh z (direct path) + dgh_t w_hh  ([B, 3H] x [3H, H] GEMM, beta = 1)
      //   dw_hh = dgh^T hprev ([3H, T*B] x [T*B, H]) ;  db_hh = column sums of dgh
      //   dW_ih, dx: linear's backward of x_proj = linear(x, W_ih, b_ih)
      //   saved: r z n gh_n [T, B, 4H] (gh_n feeds dr and is not recoverable from r, z, n) and
      //   h_{t-1} [T, B, H] (for dz and dw_hh)
      return "GruBackward0";
    default:
      // out = [h_1..h_T, h_n], h_t = act(x_proj_t + h_{t-1} w_hh^T + b_hh) ;  dx_proj = da ,
      //   dh0 = dh carried past step 1 ,  dw_hh = Σ_t da_t^T h_{t-1} ,  db_hh = Σ da
      // derivation: act = tanh or relu; reverse loop, dh [B, H] carried
      //   dh = dh_carried + dout_t
      //   da_t = dh (1 - h_t²) (tanh) or dh [h_t > 0] (relu) ;  only h_t [T, B, H] is saved
      //   dh_{t-1} = da_t w_hh  ([B, H] x [H, H] GEMM per step)
      //   dw_hh = da^T hprev ([H, T*B] x [T*B, H]) ;  db_hh = column sums of da
      //   dW_ih, dx: linear's backward of x_proj = linear(x, W_ih, b_ih)
      return "RnnBackward0";
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
  // The formula and derivation of each cell are at backward_name() above. The incoming grad is
  // [T + state_rows, B, H]: rows < T are dout_t, row T is dL/dh_n (starts the carried dh), row
  // T + 1 is dL/dc_n (starts the carried dc). Padded steps of a packed batch get dgates = 0.
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
                 detail::gemm(true, false, GH, H, T * B, scalar_t(1), pg, GH,
                              saved_hprev.get().data_ptr<scalar_t>(), H, scalar_t(0),
                              dw.data_ptr<scalar_t>(), H);
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
