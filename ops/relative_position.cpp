// Relative-position gather and bucket (Shaw et al. 2018): reading a [..., Tq, 2k+1] tensor at the
// clipped relative distance r(i, j) = clip(j - i, -k, k) + k, and its adjoint, summing a
// [..., Tq, Tk] tensor into those 2k+1 buckets. See ops/relative_position.h for the math.
#include "ops/relative_position.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/strided.h"
#include "ops/linalg.h"

namespace minidl {

namespace {

// Row i of a [Tq, Tk] relative-distance matrix as three runs of keys:
//   j in [0, lo)   -> bucket 0           (j - i <= -k)
//   j in [lo, hi)  -> bucket j - i + k   (|j - i| < k: one key per bucket)
//   j in [hi, Tk)  -> bucket 2k          (j - i >= k)
// With k = 0 buckets 0 and 2k coincide and the middle run is empty.
struct RowRuns {
  int64_t lo, hi;
};
inline RowRuns row_runs(int64_t i, int64_t num_keys, int64_t k) {
  const int64_t lo = std::clamp<int64_t>(i - k + 1, 0, num_keys);
  const int64_t hi = std::clamp<int64_t>(i + k, lo, num_keys);
  return {lo, hi};
}

using detail::dense;  // ops/linalg.h

void check_max_relative_position(int64_t k, const char* op) {
  MINIDL_CHECK(k >= 0, op, "max_relative_position must be >= 0, got " << k);
}

void check_relative(const Tensor& relative, int64_t k, const char* op) {
  MINIDL_CHECK(relative.defined(), op, "relative is undefined");
  MINIDL_CHECK(relative.is_floating_point(), op,
               "expects a floating-point relative tensor, got " << relative.dtype() << " of shape "
                                                                << shape_str(relative.shape()));
  MINIDL_CHECK(relative.dim() >= 2 && relative.shape().back() == 2 * k + 1, op,
               "relative must be [..., Tq, 2k+1] = [..., Tq, "
                   << 2 * k + 1 << "] for max_relative_position " << k << ", got shape "
                   << shape_str(relative.shape()));
}

// out [rows = outer * Tq, Tk] = base (or 0) + relative [rows, 2k+1] read at r(i, j), i = row % Tq
// body(row, i, runs) for every row of [rows, num_keys] scores (i = row % num_queries, its
// query), in parallel, rows per chunk so that a chunk covers about kParallelGrain keys.
template <typename Body>
void for_each_score_row(int64_t rows, int64_t num_queries, int64_t num_keys, int64_t k,
                        Body&& body) {
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(num_keys, 1));
  parallel_for(0, rows, grain, [&](int64_t row0, int64_t row1) {
    for (int64_t row = row0; row < row1; ++row) {
      const int64_t i = row % num_queries;
      body(row, i, row_runs(i, num_keys, k));
    }
  });
}

template <typename T>
void gather_kernel(T* out, const T* base, const T* relative, int64_t rows, int64_t num_queries,
                   int64_t num_keys, int64_t k) {
  const int64_t width = 2 * k + 1;
  for_each_score_row(rows, num_queries, num_keys, k, [&](int64_t row, int64_t i, RowRuns runs) {
    const T* rel = relative + row * width;
    T* o = out + row * num_keys;
    const T* b = base ? base + row * num_keys : nullptr;
    const T first = rel[0], last = rel[2 * k];
    const int64_t shift = k - i;  // key j of the middle run reads rel[j + shift]
    if (b) {
#pragma omp simd
      for (int64_t j = 0; j < runs.lo; ++j) o[j] = b[j] + first;
#pragma omp simd
      for (int64_t j = runs.lo; j < runs.hi; ++j) o[j] = b[j] + rel[j + shift];
#pragma omp simd
      for (int64_t j = runs.hi; j < num_keys; ++j) o[j] = b[j] + last;
    } else {
#pragma omp simd
      for (int64_t j = 0; j < runs.lo; ++j) o[j] = first;
#pragma omp simd
      for (int64_t j = runs.lo; j < runs.hi; ++j) o[j] = rel[j + shift];
#pragma omp simd
      for (int64_t j = runs.hi; j < num_keys; ++j) o[j] = last;
    }
  });
}

// out [rows, 2k+1]: out[row, r] = Σ_{j : r(i, j) = r} weights[row, j], i = row % Tq
template <typename T>
void bucket_kernel(T* out, const T* weights, int64_t rows, int64_t num_queries, int64_t num_keys,
                   int64_t k) {
  const int64_t width = 2 * k + 1;
  for_each_score_row(rows, num_queries, num_keys, k, [&](int64_t row, int64_t i, RowRuns runs) {
    const T* w = weights + row * num_keys;
    T* o = out + row * width;
    std::fill(o, o + width, T(0));
    T first = 0, last = 0;
#pragma omp simd reduction(+ : first)
    for (int64_t j = 0; j < runs.lo; ++j) first += w[j];
#pragma omp simd reduction(+ : last)
    for (int64_t j = runs.hi; j < num_keys; ++j) last += w[j];
    for (int64_t j = runs.lo; j < runs.hi; ++j) o[j - i + k] = w[j];
    o[0] += first;
    o[2 * k] += last;
  });
}

}  // namespace

Tensor relative_position_index(int64_t num_queries, int64_t num_keys,
                               int64_t max_relative_position) {
  const char* op = "relative_position_index";
  check_max_relative_position(max_relative_position, op);
  MINIDL_CHECK(
      num_queries >= 0 && num_keys >= 0, op,
      "sizes must be non-negative, got " << num_queries << " queries and " << num_keys << " keys");
  Tensor index = empty({num_queries, num_keys}, kInt64);
  int64_t* p = index.data_ptr<int64_t>();
  const int64_t k = max_relative_position;
  for (int64_t i = 0; i < num_queries; ++i)
    for (int64_t j = 0; j < num_keys; ++j)
      p[i * num_keys + j] = std::clamp<int64_t>(j - i, -k, k) + k;
  return index;
}

Tensor relative_position_gather(const Tensor& relative, int64_t num_keys,
                                int64_t max_relative_position) {
  const char* op = "relative_position_gather";
  const int64_t k = max_relative_position;
  check_max_relative_position(k, op);
  check_relative(relative, k, op);
  MINIDL_CHECK(num_keys >= 0, op, "num_keys must be non-negative, got " << num_keys);
  Shape shape = relative.shape();
  shape.back() = num_keys;
  const int64_t num_queries = shape[shape.size() - 2];
  const int64_t rows = relative.numel() / (2 * k + 1);
  Tensor out = empty(shape, relative.dtype());
  Tensor rel = dense(relative);
  MINIDL_DISPATCH_FLOATING(
      relative.dtype(), op,
      gather_kernel<scalar_t>(out.data_ptr<scalar_t>(), nullptr, rel.data_ptr<scalar_t>(), rows,
                              num_queries, num_keys, k));
  // out[i, j] = relative[i, r(i, j)] ;  drelative = bucket(dout)
  // derivation: r(i, j) = clamp(j - i, -k, k) + k; out reads each relative[i, r] at every j with
  //   r(i, j) = r, so drelative[i, r] = Σ_{j: r(i, j) = r} dout[i, j]: the bucket op, the adjoint
  //   of this gather (the two ops are each other's backward)
  if (needs_grad({relative}))
    record("RelativePositionGatherBackward0", out, {relative},
           [k](const Tensor& g) { return GradList{relative_position_bucket(g, k)}; });
  return out;
}

Tensor relative_position_gather_add(const Tensor& scores, const Tensor& relative,
                                    int64_t max_relative_position) {
  const char* op = "relative_position_gather_add";
  const int64_t k = max_relative_position;
  check_max_relative_position(k, op);
  check_relative(relative, k, op);
  MINIDL_CHECK(scores.defined() && scores.dim() >= 2, op,
               "scores must be [..., Tq, Tk], got "
                   << (scores.defined() ? shape_str(scores.shape()) : "undefined"));
  MINIDL_CHECK(scores.dtype() == relative.dtype(), op,
               "scores and relative must have one dtype, got " << scores.dtype() << " and "
                                                               << relative.dtype());
  MINIDL_CHECK(Shape(scores.shape().begin(), scores.shape().end() - 1) ==
                   Shape(relative.shape().begin(), relative.shape().end() - 1),
               op,
               "scores " << shape_str(scores.shape()) << " and relative "
                         << shape_str(relative.shape())
                         << " must agree in every dim but the last ([..., Tq, Tk] and [..., Tq, "
                         << 2 * k + 1 << "])");
  const Shape& shape = scores.shape();
  const int64_t num_queries = shape[shape.size() - 2], num_keys = shape.back();
  const int64_t rows = relative.numel() / (2 * k + 1);
  Tensor out = empty(shape, scores.dtype());
  Tensor base = dense(scores), rel = dense(relative);
  MINIDL_DISPATCH_FLOATING(
      scores.dtype(), op,
      gather_kernel<scalar_t>(out.data_ptr<scalar_t>(), base.data_ptr<scalar_t>(),
                              rel.data_ptr<scalar_t>(), rows, num_queries, num_keys, k));
  // out[i, j] = scores[i, j] + relative[i, r(i, j)] ;  dscores = dout ,  drelative = bucket(dout)
  if (needs_grad({scores, relative})) {
    const bool scores_grad = scores.requires_grad(), relative_grad = relative.requires_grad();
    record("RelativePositionGatherAddBackward0", out, {scores, relative},
           [k, scores_grad, relative_grad](const Tensor& g) {
             return GradList{scores_grad ? g : Tensor(),
                             relative_grad ? relative_position_bucket(g, k) : Tensor()};
           });
  }
  return out;
}

Tensor relative_position_bucket(const Tensor& weights, int64_t max_relative_position) {
  const char* op = "relative_position_bucket";
  const int64_t k = max_relative_position;
  check_max_relative_position(k, op);
  MINIDL_CHECK(weights.defined() && weights.dim() >= 2, op,
               "weights must be [..., Tq, Tk], got "
                   << (weights.defined() ? shape_str(weights.shape()) : "undefined"));
  MINIDL_CHECK(weights.is_floating_point(), op,
               "expects floating-point weights, got " << weights.dtype() << " of shape "
                                                      << shape_str(weights.shape()));
  Shape shape = weights.shape();
  const int64_t num_queries = shape[shape.size() - 2], num_keys = shape.back();
  shape.back() = 2 * k + 1;
  Tensor out = empty(shape, weights.dtype());
  const int64_t rows = shape_numel(shape) / (2 * k + 1);
  Tensor w = dense(weights);
  MINIDL_DISPATCH_FLOATING(weights.dtype(), op,
                           bucket_kernel<scalar_t>(out.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(),
                                                   rows, num_queries, num_keys, k));
  // out[i, r] = Σ_{j: r(i, j) = r} weights[i, j] ;  dweights = gather(dout)
  //   (dweights[i, j] = dout[i, r(i, j)]: the adjoint of the bucket sum is the gather)
  if (needs_grad({weights}))
    record("RelativePositionBucketBackward0", out, {weights}, [k, num_keys](const Tensor& g) {
      return GradList{relative_position_gather(g, num_keys, k)};
    });
  return out;
}

}  // namespace minidl
