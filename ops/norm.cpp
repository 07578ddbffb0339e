// layer_norm and batch_norm: fused forward kernels (statistics + normalization) and fused
// backward kernels, each backward below its forward.
#include "ops/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/strided.h"
#include "ops/norm_grad.h"

namespace minidl {

namespace {

// t itself if contiguous, else a contiguous copy that records nothing on the tape (the op
// records its own entry against t).
Tensor dense(const Tensor& t) {
  if (!t.defined() || t.is_contiguous()) return t;
  Tensor out = empty(t.shape(), t.dtype());
  copy_data(out, t);
  return out;
}

// A contiguous [n] tensor of `value` when t is undefined (no weight: 1, no bias: 0), else t.
Tensor dense_or_fill(const Tensor& t, int64_t n, DType dtype, double value) {
  return t.defined() ? dense(t) : full({n}, value, dtype);
}

void check_affine(const Tensor& t, const char* what, const Tensor& input, const Shape& expected,
                  const char* op) {
  if (!t.defined()) return;
  MINIDL_CHECK(t.shape() == expected, op,
               "expected " << what << " of shape " << shape_str(expected) << ", got "
                           << shape_str(t.shape()) << " (input of shape "
                           << shape_str(input.shape()) << ")");
  MINIDL_CHECK(t.dtype() == input.dtype(), op,
               what << " has dtype " << t.dtype() << " but input has dtype " << input.dtype());
}

// The mean as an unevaluated sum hi + lo of two T values. x - hi is exact for x near the mean
// (Sterbenz), so (x - hi) - lo keeps float32 deviations accurate even when |mean| >> std.
template <typename T>
struct SplitMean {
  explicit SplitMean(double mean)
      : hi(static_cast<T>(mean)), lo(static_cast<T>(mean - static_cast<double>(hi))) {}
  T hi, lo;
};

// ---------------------------------------------------------------- layer_norm kernels

// x, y [M, N] contiguous; w, b [N]; mean, rstd [M] (double). Parallel over rows. The row is
// read twice (sum, then squared deviations from the mean): the second read hits the cache and
// the variance has no cancellation, unlike sum-of-squares minus squared sum.
template <typename T>
void layer_norm_forward_kernel(const T* x, const T* w, const T* b, T* y, double* mean, double* rstd,
                               int64_t M, int64_t N, double eps) {
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, N));
  parallel_for(0, M, grain, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const T* xr = x + m * N;
      T* yr = y + m * N;
      double sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < N; ++i) sum += static_cast<double>(xr[i]);
      const double mu = sum / static_cast<double>(N);
      double squares = 0;
#pragma omp simd reduction(+ : squares)
      for (int64_t i = 0; i < N; ++i) {
        const double d = static_cast<double>(xr[i]) - mu;
        squares += d * d;
      }
      const double r = 1.0 / std::sqrt(squares / static_cast<double>(N) + eps);
      mean[m] = mu;
      rstd[m] = r;
      const SplitMean<T> split(mu);
      const T hi = split.hi, lo = split.lo, r_t = static_cast<T>(r);
#pragma omp simd
      for (int64_t i = 0; i < N; ++i) yr[i] = ((xr[i] - hi) - lo) * r_t * w[i] + b[i];
    }
  });
}

// dy, x, dx [M, N] contiguous; w [N]; mean, rstd [M]; dw, db [N] (either may be null: not
// needed). dx may be null too. Chunks of rows run in parallel; dw and db are column sums,
// accumulated per chunk in double and added up in chunk order (the same sums however the
// chunks were scheduled).
template <typename T>
void layer_norm_backward_kernel(const T* dy, const T* x, const T* w, const double* mean,
                                const double* rstd, T* dx, T* dw, T* db, int64_t M, int64_t N) {
  const int64_t chunks =
      detail::chunk_count(M, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, N)));
  const bool columns = dw || db;
  std::vector<double> partial_dw(columns ? chunks * N : 0, 0.0);
  std::vector<double> partial_db(columns ? chunks * N : 0, 0.0);
  parallel_chunks(chunks, [&](int64_t chunk, int) {
    double* my_dw = columns ? partial_dw.data() + chunk * N : nullptr;
    double* my_db = columns ? partial_db.data() + chunk * N : nullptr;
    for (int64_t m = M * chunk / chunks; m < M * (chunk + 1) / chunks; ++m) {
      const T* gy = dy + m * N;
      const T* xr = x + m * N;
      const SplitMean<T> split(mean[m]);
      const T hi = split.hi, lo = split.lo, r = static_cast<T>(rstd[m]);
      if (dx) {
        // g = dy w = dL/dxhat ;  Σ g and Σ g xhat over the row, in double
        double sum_g = 0, sum_g_xhat = 0;  // sum(dy*w), sum(dy*w*xhat)
#pragma omp simd reduction(+ : sum_g, sum_g_xhat)
        for (int64_t i = 0; i < N; ++i) {
          const T g = gy[i] * w[i];
          sum_g += static_cast<double>(g);
          sum_g_xhat += static_cast<double>(g * (((xr[i] - hi) - lo) * r));  // xhat = (x - mu) rstd
        }
        const T mean_g = static_cast<T>(sum_g / static_cast<double>(N));
        const T mean_g_xhat = static_cast<T>(sum_g_xhat / static_cast<double>(N));
        T* gx = dx + m * N;
#pragma omp simd
        for (int64_t i = 0; i < N; ++i)  // dx = rstd (g - mean(g) - xhat mean(g xhat))
          gx[i] = r * (gy[i] * w[i] - mean_g - ((xr[i] - hi) - lo) * r * mean_g_xhat);
      }
      if (columns) {
#pragma omp simd
        for (int64_t i = 0; i < N; ++i) {
          my_dw[i] += static_cast<double>(gy[i] * (((xr[i] - hi) - lo) * r));  // dw += dy xhat
          my_db[i] += static_cast<double>(gy[i]);                              // db += dy
        }
      }
    }
  });
  if (!columns) return;
  for (int64_t i = 0; i < N; ++i) {
    double sw = 0, sb = 0;
    for (int64_t t = 0; t < chunks; ++t) sw += partial_dw[t * N + i], sb += partial_db[t * N + i];
    if (dw) dw[i] = static_cast<T>(sw);
    if (db) db[i] = static_cast<T>(sb);
  }
}

}  // namespace

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  MINIDL_CHECK(input.is_floating_point(), op,
               "expects a floating-point input, got " << input.dtype() << " of shape "
                                                      << shape_str(input.shape()));
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  MINIDL_CHECK(k >= 1, op,
               "expected normalized_shape to have at least one dim, got [] (input of shape "
                   << shape_str(input.shape()) << ")");
  bool trailing = input.dim() >= k;
  for (int64_t d = 0; trailing && d < k; ++d)
    trailing = input.size(input.dim() - k + d) == normalized_shape[d];
  MINIDL_CHECK(
      trailing, op,
      "given normalized_shape=" << shape_str(normalized_shape) << ", expected input with shape [*, "
                                << shape_str(normalized_shape).substr(1)
                                << ", but got input of shape " << shape_str(input.shape()));
  MINIDL_CHECK(eps >= 0, op, "eps must be non-negative, got " << eps);
  check_affine(weight, "weight", input, normalized_shape, op);
  check_affine(bias, "bias", input, normalized_shape, op);

  const int64_t N = shape_numel(normalized_shape, op);
  const int64_t M = N == 0 ? 0 : input.numel() / N;
  Tensor x = dense(input);
  Tensor w = dense_or_fill(weight, N, input.dtype(), 1.0);
  Tensor b = dense_or_fill(bias, N, input.dtype(), 0.0);
  Tensor out = empty(input.shape(), input.dtype());
  Tensor mean = empty({M}, kFloat64), rstd = empty({M}, kFloat64);
  if (M > 0) {
    MINIDL_DISPATCH_FLOATING(
        input.dtype(), op,
        layer_norm_forward_kernel<scalar_t>(
            x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(),
            out.data_ptr<scalar_t>(), mean.data_ptr<double>(), rstd.data_ptr<double>(), M, N, eps));
  }
  if (needs_grad({input, weight, bias})) {
    const bool gx = input.requires_grad();
    const bool gw = weight.defined() && weight.requires_grad();
    const bool gb = bias.defined() && bias.requires_grad();
    const Shape in_shape = input.shape();
    SavedTensor saved_x(input), saved_w(w), saved_mean(mean), saved_rstd(rstd),
        saved_weight(weight);
    // out = (input - mean) * rstd * weight + bias ;
    //   dinput = rstd (g - mean(g) - xhat mean(g xhat)) ,  dweight = Σ_rows dout xhat ,
    //   dbias = Σ_rows dout   (g = dout weight, xhat = (input - mean) rstd)
    // derivation: per row x [N] (N = numel(normalized_shape), M rows):
    //   mu = mean(x), var = mean((x - mu)²) (biased), rstd = 1 / sqrt(var + eps)
    //   xhat = (x - mu) rstd ;  out = xhat w + b ;  so dL/dxhat = dout w = g
    //   dmu/dx_i = 1/N ;  dvar/dx_i = 2 (x_i - mu) / N ;  drstd/dvar = -rstd³ / 2
    //   dxhat_j/dx_i = rstd ([i = j] - 1/N) - (x_j - mu) rstd³ (x_i - mu) / N
    //                = rstd ([i = j] - 1/N - xhat_i xhat_j / N)
    //   dx_i = Σ_j g_j dxhat_j/dx_i = rstd (g_i - mean(g) - xhat_i mean(g xhat))
    //   dw = Σ over rows of dout xhat ;  db = Σ over rows of dout  ([N] each)
    //   saved: input, weight, mean and rstd [M] in double; xhat is recomputed from them
    //   create_graph: detail::layer_norm_grad (ops/norm_grad.cpp), the same formula as ops
    record("NativeLayerNormBackward0", out, {input, weight, bias}, [=](const Tensor& grad) {
      if (GradMode::is_enabled())  // create_graph: the same formula in recorded ops
        return detail::layer_norm_grad(grad, saved_x.get(), saved_weight.get(), k, eps, gx, gw, gb);
      Tensor dy = dense(grad), xv = dense(saved_x.get());
      Tensor dx = gx ? empty(in_shape, xv.dtype()) : Tensor();
      Tensor dw = gw ? empty({N}, xv.dtype()) : Tensor();
      Tensor db = gb ? empty({N}, xv.dtype()) : Tensor();
      if (M == 0) {  // nothing normalized: the parameters get zero gradients
        if (gw) fill_data(dw, 0.0);
        if (gb) fill_data(db, 0.0);
      } else {
        MINIDL_DISPATCH_FLOATING(xv.dtype(), "layer_norm backward", {
          auto ptr = [](const Tensor& t) { return t.defined() ? t.data_ptr<scalar_t>() : nullptr; };
          layer_norm_backward_kernel<scalar_t>(
              dy.data_ptr<scalar_t>(), xv.data_ptr<scalar_t>(), saved_w.get().data_ptr<scalar_t>(),
              saved_mean.get().data_ptr<double>(), saved_rstd.get().data_ptr<double>(), ptr(dx),
              ptr(dw), ptr(db), M, N);
        });
      }
      if (gw) dw = dw.view(normalized_shape);
      if (gb) db = db.view(normalized_shape);
      return GradList{dx, dw, db};
    })->twice_differentiable = true;
  }
  return out;
}

// ---------------------------------------------------------------- batch_norm kernels

namespace {

// The input of batch_norm seen as contiguous [batch, channels, inner]: row r = n * channels + c
// holds the `inner` elements of sample n in channel c, at r * inner.
struct ChannelGeometry {
  int64_t batch = 1, channels = 1, inner = 1;
  int64_t numel() const { return batch * channels * inner; }
  int64_t per_channel() const { return batch * inner; }
};

// How many chunks `units` units of work (samples, or (sample, channel) rows) of `unit_size`
// elements each are cut into: one below kParallelGrain elements in all.
int64_t channel_chunks(int64_t units, int64_t unit_size) {
  return detail::chunk_count(
      units, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, unit_size)));
}

// Per-channel coefficients in the element type, one entry per channel.
template <typename T>
struct ChannelArrays {
  explicit ChannelArrays(int64_t C) : hi(C), lo(C), scale(C), offset(C) {}
  // hi + lo = mean (see SplitMean)
  void set_mean(int64_t c, double mean) {
    const SplitMean<T> split(mean);
    hi[c] = split.hi;
    lo[c] = split.lo;
  }
  std::vector<T> hi, lo, scale, offset;
};

// Sums over each channel c of first(i, c) and second(i, c) (doubles) for its elements i (flat
// indices into [B, C, L]). Vectorized along L, or along the channels when L == 1 ([N, C]
// inputs). Chunks take contiguous ranges with their own per-channel accumulators, added up in
// chunk order at the end.
// (Each chunk works on its own copies of f1 and f2: with the closures shared, GCC reloads
// their pointers on every element and turns the loads into gathers, ~15x slower.)
template <typename F1, typename F2>
void channel_sums(const ChannelGeometry& g, double* first, double* second, F1 shared_f1,
                  F2 shared_f2) {
  const int64_t B = g.batch, C = g.channels, L = g.inner;
  // L == 1: split the batch, each sample one row of C channels; else split the rows (n, c),
  // each a run of L elements of one channel.
  const int64_t units = L == 1 ? B : B * C;
  const int64_t chunks = channel_chunks(units, L == 1 ? C : L);
  std::vector<double> partial(static_cast<size_t>(chunks) * 2 * C, 0.0);
  parallel_chunks(chunks, [&](int64_t chunk, int) {
    const F1 f1 = shared_f1;
    const F2 f2 = shared_f2;
    double* mine1 = partial.data() + chunk * 2 * C;
    double* mine2 = mine1 + C;
    const int64_t begin = units * chunk / chunks, end = units * (chunk + 1) / chunks;
    if (L == 1) {
      for (int64_t n = begin; n < end; ++n) {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) {
          mine1[c] += f1(n * C + c, c);
          mine2[c] += f2(n * C + c, c);
        }
      }
    } else {
      int64_t c = C > 0 ? begin % C : 0;
      for (int64_t r = begin; r < end; ++r) {
        const int64_t base = r * L;
        double s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
        for (int64_t l = 0; l < L; ++l) {
          s1 += f1(base + l, c);
          s2 += f2(base + l, c);
        }
        mine1[c] += s1;
        mine2[c] += s2;
        if (++c == C) c = 0;
      }
    }
  });
  for (int64_t c = 0; c < C; ++c) {
    double a = 0, b = 0;
    for (int64_t t = 0; t < chunks; ++t)
      a += partial[t * 2 * C + c], b += partial[t * 2 * C + C + c];
    first[c] = a;
    second[c] = b;
  }
}

// f(i, c) for every element i of [B, C, L] (in channel c), vectorized along L, or along the
// channels when L == 1. (Per-chunk copies of f, as in channel_sums.)
template <typename F>
void channel_for_each(const ChannelGeometry& g, F shared_f) {
  const int64_t B = g.batch, C = g.channels, L = g.inner;
  const int64_t units = L == 1 ? B : B * C;
  const int64_t chunks = channel_chunks(units, L == 1 ? C : L);
  parallel_chunks(chunks, [&](int64_t chunk, int) {
    const F f = shared_f;
    const int64_t begin = units * chunk / chunks, end = units * (chunk + 1) / chunks;
    if (L == 1) {
      for (int64_t n = begin; n < end; ++n) {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) f(n * C + c, c);
      }
    } else {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t base = r * L, c = r % C;
#pragma omp simd
        for (int64_t l = 0; l < L; ++l) f(base + l, c);
      }
    }
  });
}

// Training statistics of x [B, C, L]: mean[c] and the sum of squared deviations var_sum[c],
// in one pass. Sums are taken of x - K with K the channel's first element, so that
// sum((x-K)^2) - sum(x-K)^2 / n does not cancel catastrophically when |mean| >> std.
template <typename T>
void batch_stats_kernel(const T* x, const ChannelGeometry& g, double* mean, double* var_sum) {
  const int64_t C = g.channels, L = g.inner;
  std::vector<double> shift(C), s1(C), s2(C);
  for (int64_t c = 0; c < C; ++c) shift[c] = static_cast<double>(x[c * L]);
  const double* k = shift.data();
  channel_sums(
      g, s1.data(), s2.data(),
      [=](int64_t i, int64_t c) { return static_cast<double>(x[i]) - k[c]; },
      [=](int64_t i, int64_t c) {
        const double d = static_cast<double>(x[i]) - k[c];
        return d * d;
      });
  const double n = static_cast<double>(g.per_channel());
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = shift[c] + s1[c] / n;
    var_sum[c] = std::max(0.0, s2[c] - s1[c] * s1[c] / n);
  }
}

// y = (x - mean[c]) * (invstd[c] * w[c]) + b[c] over x, y [B, C, L].
template <typename T>
void batch_norm_apply_kernel(const T* x, const T* w, const T* b, const double* mean,
                             const double* invstd, T* y, const ChannelGeometry& g) {
  ChannelArrays<T> arrays(g.channels);
  for (int64_t c = 0; c < g.channels; ++c) {
    arrays.set_mean(c, mean[c]);
    arrays.scale[c] = static_cast<T>(invstd[c] * static_cast<double>(w[c]));
    arrays.offset[c] = b[c];
  }
  const T *hi = arrays.hi.data(), *lo = arrays.lo.data();
  const T *scale = arrays.scale.data(), *offset = arrays.offset.data();
  channel_for_each(
      g, [=](int64_t i, int64_t c) { y[i] = ((x[i] - hi[c]) - lo[c]) * scale[c] + offset[c]; });
}

// Backward over dy, x [B, C, L] with the statistics that normalized (batch or running):
//   sum_dy[c] = sum(dy),  sum_dy_xmu[c] = sum(dy * (x - mean))
//   dw = invstd * sum_dy_xmu ,  db = sum_dy
//   training: dx = w invstd (dy - sum_dy / n - (x - mean) invstd^2 sum_dy_xmu / n)
//   eval:     dx = w invstd dy
// dx, dw, db may each be null (not needed).
template <typename T>
void batch_norm_backward_kernel(const T* dy, const T* x, const T* w, const double* mean,
                                const double* invstd, bool training, T* dx, T* dw, T* db,
                                const ChannelGeometry& g) {
  const int64_t C = g.channels;
  ChannelArrays<T> arrays(C);
  for (int64_t c = 0; c < C; ++c) arrays.set_mean(c, mean[c]);
  const T *hi = arrays.hi.data(), *lo = arrays.lo.data();
  std::vector<double> sum_dy(C, 0.0), sum_dy_xmu(C, 0.0);
  if ((dx && training) || dw || db) {
    channel_sums(
        g, sum_dy.data(), sum_dy_xmu.data(),
        [=](int64_t i, int64_t) { return static_cast<double>(dy[i]); },
        [=](int64_t i, int64_t c) {
          return static_cast<double>(dy[i] * ((x[i] - hi[c]) - lo[c]));
        });
  }
  for (int64_t c = 0; c < C; ++c) {
    if (dw) dw[c] = static_cast<T>(invstd[c] * sum_dy_xmu[c]);  // dw = Σ dy xhat
    if (db) db[c] = static_cast<T>(sum_dy[c]);                  // db = Σ dy
  }
  if (!dx) return;
  const double n = static_cast<double>(g.per_channel());
  std::vector<T> mean_dy(C), k(C);  // sum_dy / n, invstd^2 sum_dy_xmu / n
  for (int64_t c = 0; c < C; ++c) {
    arrays.scale[c] = static_cast<T>(invstd[c] * static_cast<double>(w[c]));
    mean_dy[c] = static_cast<T>(sum_dy[c] / n);
    k[c] = static_cast<T>(invstd[c] * invstd[c] * sum_dy_xmu[c] / n);
  }
  const T* scale = arrays.scale.data();
  if (training) {
    const T *m = mean_dy.data(), *kc = k.data();
    // dx = w invstd (dy - mean_c(dy) - (x - mean) invstd² mean_c(dy (x - mean))): the batch
    // statistics depend on x, hence the two correction terms
    channel_for_each(g, [=](int64_t i, int64_t c) {
      dx[i] = scale[c] * (dy[i] - m[c] - ((x[i] - hi[c]) - lo[c]) * kc[c]);
    });
  } else {
    // eval: mean and invstd are constants, the op is affine in x: dx = w invstd dy
    channel_for_each(g, [=](int64_t i, int64_t c) { dx[i] = scale[c] * dy[i]; });
  }
}

void check_running(const Tensor& t, const char* what, const Tensor& input, int64_t C,
                   const char* op) {
  if (!t.defined()) return;
  MINIDL_CHECK(t.dim() == 1 && t.size(0) == C, op,
               what << " should have shape [" << C << "] (the channels of input of shape "
                    << shape_str(input.shape()) << "), got " << shape_str(t.shape()));
  MINIDL_CHECK(t.dtype() == input.dtype(), op,
               what << " has dtype " << t.dtype() << " but input has dtype " << input.dtype());
}

// values [C] (double) converted to a tensor of dtype.
Tensor channel_tensor(const std::vector<double>& values, DType dtype) {
  return from_vector(values, {static_cast<int64_t>(values.size())}, dtype);
}

}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  const char* op = "batch_norm";
  MINIDL_CHECK(input.is_floating_point(), op,
               "expects a floating-point input, got " << input.dtype() << " of shape "
                                                      << shape_str(input.shape()));
  MINIDL_CHECK(
      input.dim() >= 2, op,
      "expected input of shape [N, C, *] (at least 2 dims), got " << shape_str(input.shape()));
  ChannelGeometry g;
  g.batch = input.size(0);
  g.channels = input.size(1);
  for (int64_t d = 2; d < input.dim(); ++d) g.inner *= input.size(d);
  const int64_t C = g.channels;
  check_running(running_mean, "running_mean", input, C, op);
  check_running(running_var, "running_var", input, C, op);
  check_affine(weight, "weight", input, {C}, op);
  check_affine(bias, "bias", input, {C}, op);
  MINIDL_CHECK(running_mean.defined() == running_var.defined(), op,
               "running_mean and running_var must both be given or both be absent");
  MINIDL_CHECK(training || running_mean.defined(), op,
               "running_mean and running_var are required when not training (input of shape "
                   << shape_str(input.shape()) << ")");
  MINIDL_CHECK(!training || g.per_channel() > 1, op,
               "Expected more than 1 value per channel when training, got input size "
                   << shape_str(input.shape()));
  MINIDL_CHECK(eps >= 0, op, "eps must be non-negative, got " << eps);

  Tensor x = dense(input);
  Tensor w = dense_or_fill(weight, C, input.dtype(), 1.0);
  Tensor b = dense_or_fill(bias, C, input.dtype(), 0.0);
  Tensor out = empty(input.shape(), input.dtype());
  std::vector<double> mean(C), invstd(C);
  if (training) {
    std::vector<double> var_sum(C);
    const double n = static_cast<double>(g.per_channel());
    MINIDL_DISPATCH_FLOATING(
        input.dtype(), op,
        batch_stats_kernel<scalar_t>(x.data_ptr<scalar_t>(), g, mean.data(), var_sum.data()));
    std::vector<double> unbiased(C);
    for (int64_t c = 0; c < C; ++c) {
      invstd[c] = 1.0 / std::sqrt(var_sum[c] / n + eps);
      unbiased[c] = var_sum[c] / (n - 1);
    }
    if (running_mean.defined()) {
      // running = (1 - momentum) * running + momentum * batch  (not differentiated)
      NoGradGuard no_grad;
      Tensor rm = running_mean, rv = running_var;
      rm.mul_(1.0 - momentum).add_(channel_tensor(mean, input.dtype()), momentum);
      rv.mul_(1.0 - momentum).add_(channel_tensor(unbiased, input.dtype()), momentum);
    }
  } else {
    std::vector<double> rm = running_mean.to_vector<double>(), rv = running_var.to_vector<double>();
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = rm[c];
      invstd[c] = 1.0 / std::sqrt(rv[c] + eps);
    }
  }
  if (out.numel() > 0) {
    MINIDL_DISPATCH_FLOATING(
        input.dtype(), op,
        batch_norm_apply_kernel<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(),
                                          b.data_ptr<scalar_t>(), mean.data(), invstd.data(),
                                          out.data_ptr<scalar_t>(), g));
  }
  if (needs_grad({input, weight, bias})) {
    const bool gx = input.requires_grad();
    const bool gw = weight.defined() && weight.requires_grad();
    const bool gb = bias.defined() && bias.requires_grad();
    const Shape in_shape = input.shape();
    SavedTensor saved_x(input), saved_w(w), saved_weight(weight);
    SavedTensor saved_mean(from_vector(mean, {C}, kFloat64));
    SavedTensor saved_invstd(from_vector(invstd, {C}, kFloat64));
    // out = (input - mean_c) * invstd_c * weight_c + bias_c ;
    //   dinput = weight invstd (dout - mean_c(dout) - xhat mean_c(dout xhat)) in training, and
    //   weight invstd dout in eval ,  dweight = Σ_c dout xhat ,  dbias = Σ_c dout
    // derivation: input viewed [N, C, L]; channel c has n = N L elements, xhat = (x - mean) invstd
    //   training: mean_c, var_c (biased) of this batch, invstd = 1 / sqrt(var_c + eps): the layer
    //   norm derivation over the channel's n elements instead of a row, with g = dout w_c:
    //   dx = invstd (g - mean_c(g) - xhat mean_c(g xhat)); w_c is constant over the channel, so
    //   kernel: w invstd (dout - Σ dout / n - (x - mean) invstd² Σ dout (x - mean) / n)
    //   eval: mean_c, var_c are running_mean, running_var, constants: dx = w invstd dout
    //   running stats are updated under no_grad (unbiased var, momentum): no gradient path
    //   dw = invstd Σ dout (x - mean) = Σ_c dout xhat ;  db = Σ_c dout  (both modes) [C]
    //   saved: input, weight, mean and invstd [C] in double (batch stats or running ones)
    //   create_graph: detail::batch_norm_grad (ops/norm_grad.cpp)
    record("NativeBatchNormBackward0", out, {input, weight, bias}, [=](const Tensor& grad) {
      if (GradMode::is_enabled())  // create_graph: the same formula in recorded ops
        return detail::batch_norm_grad(grad, saved_x.get(), saved_weight.get(), training, eps,
                                       saved_mean.get(), saved_invstd.get(), gx, gw, gb);
      Tensor dy = dense(grad), xv = dense(saved_x.get());
      Tensor dx = gx ? empty(in_shape, xv.dtype()) : Tensor();
      Tensor dw = gw ? empty({C}, xv.dtype()) : Tensor();
      Tensor db = gb ? empty({C}, xv.dtype()) : Tensor();
      MINIDL_DISPATCH_FLOATING(xv.dtype(), "batch_norm backward", {
        auto ptr = [](const Tensor& t) { return t.defined() ? t.data_ptr<scalar_t>() : nullptr; };
        batch_norm_backward_kernel<scalar_t>(
            dy.data_ptr<scalar_t>(), xv.data_ptr<scalar_t>(), saved_w.get().data_ptr<scalar_t>(),
            saved_mean.get().data_ptr<double>(), saved_invstd.get().data_ptr<double>(), training,
            ptr(dx), ptr(dw), ptr(db), g);
      });
      return GradList{dx, dw, db};
    })->twice_differentiable = true;
  }
  return out;
}

}  // namespace minidl
