// Matrix products on BLAS: matmul, mm, bmm, linear. One kernel (matmul_kernel) multiplies
// batches of strided matrices with cblas_?gemm; every op's forward and backward call it, the
// backward on transposed *views* of the saved operands, which BLAS reads through its transpose
// flags -- nothing is copied to transpose.
#include "ops/linalg.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <climits>

#include "core/autograd.h"
#include "core/strided.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

// OpenBLAS's OpenMP build threads a call with as many threads as the *calling thread's* OpenMP
// setting (omp_get_max_threads(), re-read on every call). minidl's threads are its own pool
// (core/parallel.h), so every call runs with that setting at 1, and the caller's is put back.
class BlasOnOneThread {
 public:
  BlasOnOneThread() : saved_(omp_get_max_threads()) {
    if (saved_ != 1) omp_set_num_threads(1);
  }
  ~BlasOnOneThread() {
    if (saved_ != 1) omp_set_num_threads(saved_);
  }
  BlasOnOneThread(const BlasOnOneThread&) = delete;
  BlasOnOneThread& operator=(const BlasOnOneThread&) = delete;

 private:
  int saved_;
};

void blas_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  BlasOnOneThread one_thread;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}
void blas_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
               const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
               int64_t ldc) {
  BlasOnOneThread one_thread;
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

// A product of fewer multiply-adds than this is one BLAS call: ~10-20 us on one core, where
// a region's start-up and a second thread's cold caches stop paying off.
constexpr int64_t kGemmParallelWork = int64_t{1} << 20;
// Blocks of C are multiples of this many rows or columns (one AVX-512 register of floats), so
// every block but the last runs BLAS's full-width micro-kernels.
constexpr int64_t kGemmAlign = 16;

// C [m, n] = alpha op(A) [m, k] op(B) [k, n] + beta C, cut along the longer of C's two sides
// into aligned blocks. A block of rows reads rows [i0, i1) of op(A) -- at a + i0 * lda, or
// a + i0 when A is stored transposed -- and all of op(B); a block of columns the reverse.
template <typename T>
void gemm_blocks(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const int64_t work = m * n * k;
  const bool by_rows = m >= n;
  const int64_t side = by_rows ? m : n, units = (side + kGemmAlign - 1) / kGemmAlign;
  if (work < kGemmParallelWork || units < 2 || in_parallel_region() || get_num_threads() < 2) {
    blas_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Units of kGemmAlign rows (or columns) per chunk: one chunk per thread (every chunk packs
  // the shared operand again), each at least half of kGemmParallelWork.
  const int64_t unit_work = std::max<int64_t>(1, work / units);
  const int64_t threads = get_num_threads();
  const int64_t grain = std::max((units + threads - 1) / threads,
                                 std::max<int64_t>(1, kGemmParallelWork / 2 / unit_work));
  parallel_for(0, units, grain, [&](int64_t u0, int64_t u1) {
    const int64_t from = u0 * kGemmAlign, to = std::min(side, u1 * kGemmAlign);
    if (by_rows) {
      blas_gemm(trans_a, trans_b, to - from, n, k, alpha, trans_a ? a + from : a + from * lda, lda,
                b, ldb, beta, c + from * ldc, ldc);
    } else {
      blas_gemm(trans_a, trans_b, m, to - from, k, alpha, a, lda,
                trans_b ? b + from * ldb : b + from, ldb, beta, c + from, ldc);
    }
  });
}

}  // namespace

void detail::gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc) {
  gemm_blocks(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void detail::gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                  const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                  double* c, int64_t ldc) {
  gemm_blocks(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

Tensor detail::dense(const Tensor& t) {
  if (!t.defined() || t.is_contiguous()) return t;
  Tensor copy = empty(t.shape(), t.dtype());
  copy_data(copy, t);
  return copy;
}

namespace {

using detail::dense;

// ---------------------------------------------------------------- BLAS plumbing

// How BLAS can read a rows x cols matrix stored with (row_stride, col_stride): row-major with
// leading dim `ld` (unit col_stride), or `transposed` -- as the transpose of a row-major
// cols x rows matrix (unit row_stride). The stride of a size-1 dim never matters.
struct BlasLayout {
  bool ok = false;
  bool transposed = false;
  int64_t ld = 0;
};

BlasLayout blas_layout(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  const int64_t min_ld_rows = std::max<int64_t>(1, cols), min_ld_cols = std::max<int64_t>(1, rows);
  if ((cols == 1 || col_stride == 1) && (rows == 1 || row_stride >= min_ld_rows))
    return {true, false, rows == 1 ? min_ld_rows : row_stride};
  if ((rows == 1 || row_stride == 1) && (cols == 1 || col_stride >= min_ld_cols))
    return {true, true, cols == 1 ? min_ld_cols : col_stride};
  return {};
}

BlasLayout blas_layout(const Tensor& t) {
  const int64_t nd = t.dim();
  return blas_layout(t.shape()[nd - 2], t.shape()[nd - 1], t.strides()[nd - 2],
                     t.strides()[nd - 1]);
}

void check_blas_int(int64_t value, const char* op, const char* what) {
  MINIDL_CHECK(value <= INT_MAX, op,
               what << " " << value << " exceeds the BLAS int limit " << INT_MAX);
}

// ---------------------------------------------------------------- raw views (no tape entries)

// t with its last two dims swapped.
Tensor transposed(const Tensor& t) {
  Shape shape = t.shape(), strides = t.strides();
  const size_t nd = shape.size();
  std::swap(shape[nd - 1], shape[nd - 2]);
  std::swap(strides[nd - 1], strides[nd - 2]);
  return make_view(t, shape, strides, t.storage_offset());
}

// t read as `shape`, which differs from t's shape only by inserted or removed size-1 dims.
Tensor with_unit_dims(const Tensor& t, const Shape& shape) {
  Shape strides(shape.size(), 1);
  size_t j = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    while (t.shape()[j] == 1) ++j;
    strides[d] = t.strides()[j++];
  }
  return make_view(t, shape, strides, t.storage_offset());
}

// t [..., r, c] as one [R, c] matrix, R the product of all leading sizes, when those dims step
// through memory uniformly (always true for a contiguous t); undefined otherwise.
Tensor try_merge_rows(const Tensor& t) {
  const int64_t nd = t.dim();
  const int64_t cols = t.shape()[nd - 1];
  // An empty tensor has no elements to step through: any valid strides describe it.
  if (t.numel() == 0) {
    int64_t rows = 1;
    for (int64_t d = 0; d < nd - 1; ++d) rows *= t.shape()[d];
    return make_view(t, {rows, cols}, {std::max<int64_t>(1, cols), 1}, t.storage_offset());
  }
  int64_t rows = 1, row_stride = -1, next_stride = 0;
  for (int64_t d = nd - 2; d >= 0; --d) {
    const int64_t size = t.shape()[d];
    rows *= size;
    if (size == 1) continue;
    if (row_stride < 0) {
      row_stride = t.strides()[d];
      next_stride = row_stride * size;
    } else {
      if (t.strides()[d] != next_stride) return Tensor();
      next_stride *= size;
    }
  }
  if (row_stride < 0) row_stride = std::max<int64_t>(1, cols);
  return make_view(t, {rows, cols}, {row_stride, t.strides()[nd - 1]}, t.storage_offset());
}

// t [..., c] (any dim >= 1) as an [R, c] matrix: a view when possible, else of a copy.
Tensor merge_rows(const Tensor& t) {
  if (t.dim() == 1) return with_unit_dims(t, {1, t.shape()[0]});
  if (t.dim() == 2) return t;
  Tensor rows = try_merge_rows(t);
  return rows.defined() ? rows : try_merge_rows(dense(t));
}

// ---------------------------------------------------------------- the kernel

// A batch of matrices is split across threads, whole GEMMs per chunk (each one BLAS call),
// rather than run one GEMM after another with each cut into blocks: measured faster for every
// batch of at least `threads` matrices, small or large (no synchronization inside each GEMM),
// except few large matrices that do not divide evenly among the threads. Matrices up to this
// many multiply-adds count as small.
constexpr int64_t kSmallGemmWork = int64_t{1} << 21;

// out[i] = a[i] @ b[i] (+ out[i] if accumulate) for every batch index i
//   a [...A, n, k], b [...B, k, m], out contiguous [...broadcast(A, B), n, m]
// Operands BLAS can read through a transpose flag are used in place; others are copied.
template <typename T>
void matmul_kernel(const Tensor& out, Tensor a, Tensor b, bool accumulate, const char* op) {
  const int64_t n = a.shape()[a.dim() - 2], k = a.shape()[a.dim() - 1];
  const int64_t m = b.shape()[b.dim() - 1];
  if (out.numel() == 0) return;
  if (k == 0) {
    if (!accumulate) fill_data(out, 0.0);
    return;
  }
  const T beta = accumulate ? T(1) : T(0);
  T* pc = out.data_ptr<T>();

  // [..., n, k] @ [k, m]: the batch folds into the rows of a single GEMM.
  if (a.dim() > 2 && b.dim() == 2) a = merge_rows(a);

  BlasLayout la = blas_layout(a), lb = blas_layout(b);
  if (!la.ok) la = blas_layout(a = dense(a));
  if (!lb.ok) lb = blas_layout(b = dense(b));
  const int64_t rows = a.shape()[a.dim() - 2];
  check_blas_int(rows, op, "matrix size");
  check_blas_int(k, op, "matrix size");
  check_blas_int(m, op, "matrix size");
  check_blas_int(la.ld, op, "leading dimension");
  check_blas_int(lb.ld, op, "leading dimension");
  const T* pa = a.data_ptr<T>();
  const T* pb = b.data_ptr<T>();
  auto product = [&](int64_t row_count, const T* a_at, const T* b_at, T* c_at) {
    detail::gemm(la.transposed, lb.transposed, row_count, m, k, T(1), a_at, la.ld, b_at, lb.ld,
                 beta, c_at, m);
  };
  if (a.dim() == 2 && b.dim() == 2) {
    product(rows, pa, pb, pc);
    return;
  }

  // Batch element i reads a and b at offsets from their broadcast batch strides.
  const Shape& out_shape = out.shape();
  const Shape batch(out_shape.begin(), out_shape.end() - 2);
  const Shape a_strides =
      broadcast_strides(Shape(a.shape().begin(), a.shape().end() - 2),
                        Shape(a.strides().begin(), a.strides().end() - 2), batch);
  const Shape b_strides =
      broadcast_strides(Shape(b.shape().begin(), b.shape().end() - 2),
                        Shape(b.strides().begin(), b.strides().end() - 2), batch);
  const int64_t count = shape_numel(batch);
  std::vector<int64_t> a_offset(count), b_offset(count);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, oa = 0, ob = 0;
    for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
      const int64_t index = rest % batch[d];
      rest /= batch[d];
      oa += index * a_strides[d];
      ob += index * b_strides[d];
    }
    a_offset[i] = oa;
    b_offset[i] = ob;
  }
  const int64_t work = n * m * k;
  const int threads = get_num_threads();
  const bool split_batch = threads > 1 && !in_parallel_region() && count >= threads &&
                           work * count >= 4 * kParallelGrain &&
                           (work <= kSmallGemmWork || count % threads == 0 || count >= 4 * threads);
  if (!split_batch) {  // each product is cut into blocks itself when large enough
    for (int64_t i = 0; i < count; ++i)
      product(n, pa + a_offset[i], pb + b_offset[i], pc + i * n * m);
    return;
  }
  // Matrices per chunk: at least kParallelGrain multiply-adds each.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, work));
  parallel_for(0, count, grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      product(n, pa + a_offset[i], pb + b_offset[i], pc + i * n * m);
  });
}

// ---------------------------------------------------------------- shared checks and helpers

void check_dtypes(const Tensor& a, const Tensor& b, const char* op) {
  MINIDL_CHECK(a.is_floating_point() && b.is_floating_point(), op,
               "expected float32 or float64 tensors, got "
                   << a.dtype() << " " << shape_str(a.shape()) << " and " << b.dtype() << " "
                   << shape_str(b.shape()));
  MINIDL_CHECK(a.dtype() == b.dtype(), op,
               "expected both tensors to have the same dtype, got "
                   << a.dtype() << " " << shape_str(a.shape()) << " and " << b.dtype() << " "
                   << shape_str(b.shape()) << "; convert one with to()");
}

// The shape of a2 @ b2 for a2 [..., n, k], b2 [..., k, m]: broadcast batch dims, then [n, m].
Shape product_shape(const Tensor& a2, const Tensor& b2, const Shape& a_shown, const Shape& b_shown,
                    const char* op) {
  const Shape& sa = a2.shape();
  const Shape& sb = b2.shape();
  const int64_t k_a = sa[sa.size() - 1], k_b = sb[sb.size() - 2];
  MINIDL_CHECK(k_a == k_b, op,
               "shapes " << shape_str(a_shown) << " and " << shape_str(b_shown)
                         << " cannot be multiplied (" << k_a << " != " << k_b << ")");
  const Shape batch_a(sa.begin(), sa.end() - 2), batch_b(sb.begin(), sb.end() - 2);
  Shape out(std::max(batch_a.size(), batch_b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    // Align at the right; a missing dim is 1.
    const int64_t da =
        i < out.size() - batch_a.size() ? 1 : batch_a[i - (out.size() - batch_a.size())];
    const int64_t db =
        i < out.size() - batch_b.size() ? 1 : batch_b[i - (out.size() - batch_b.size())];
    MINIDL_CHECK(da == db || da == 1 || db == 1, op,
                 "batch dimensions of shapes " << shape_str(a_shown) << " and "
                                               << shape_str(b_shown) << " cannot be broadcast ("
                                               << da << " != " << db << ")");
    out[i] = da == 1 ? db : da;
  }
  out.push_back(sa[sa.size() - 2]);
  out.push_back(sb[sb.size() - 1]);
  return out;
}

// a2 @ b2 (both >= 2-D, shapes already checked) into a fresh tensor of `shape`, which has the
// product's elements in order (the product shape itself, or it with size-1 dims dropped).
Tensor product(const Tensor& a2, const Tensor& b2, const Shape& full, const Shape& shape,
               const char* op) {
  Tensor out = empty(shape, a2.dtype());
  Tensor out_full = full == shape ? out : make_view(out, full, contiguous_strides(full), 0);
  MINIDL_DISPATCH_FLOATING(a2.dtype(), op, matmul_kernel<scalar_t>(out_full, a2, b2, false, op));
  return out;
}

Tensor product(const Tensor& a2, const Tensor& b2, const char* op) {
  Shape full = product_shape(a2, b2, a2.shape(), b2.shape(), op);
  return product(a2, b2, full, full, op);
}

// out2 = a2 @ b2 ;  da2 = dout2 @ b2^T ,  db2 = a2^T @ dout2, each summed back to its operand's
// shape over the batch dims it was broadcast along. All >= 2-D; the transposes are views. An
// operand is needed (and defined) only for the other one's gradient.
GradList product_backward(const Tensor& g2, const Tensor& a2, const Tensor& b2,
                          const Shape& a2_shape, const Shape& b2_shape, bool ga, bool gb,
                          const char* op) {
  Tensor da, db;
  if (GradMode::is_enabled()) {  // create_graph: the same products, recorded
    if (ga) da = sum_to(matmul(g2, b2.transpose(-1, -2)), a2_shape);
    if (gb) db = sum_to(matmul(a2.transpose(-1, -2), g2), b2_shape);
    return GradList{da, db};
  }
  if (ga) da = sum_to(product(g2, transposed(b2), op), a2_shape);
  if (gb) {
    if (b2_shape.size() == 2 && a2_shape.size() > 2) {
      // b was shared by the whole batch: db = sum_i a_i^T dout_i = A^T dOut over all rows.
      db = product(transposed(merge_rows(a2)), merge_rows(g2), op);
    } else {
      db = sum_to(product(transposed(a2), g2, op), b2_shape);
    }
  }
  return GradList{da, db};
}

}  // namespace

// ---------------------------------------------------------------- ops

Tensor mm(const Tensor& a, const Tensor& b) {
  MINIDL_CHECK(
      a.dim() == 2 && b.dim() == 2, "mm",
      "expected 2-D tensors, got " << shape_str(a.shape()) << " and " << shape_str(b.shape()));
  check_dtypes(a, b, "mm");
  Shape shape = product_shape(a, b, a.shape(), b.shape(), "mm");
  Tensor out = product(a, b, shape, shape, "mm");
  // out = a @ b ;  da = dout @ b^T ,  db = a^T @ dout
  if (needs_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    SavedTensor saved_a(gb ? a : Tensor()), saved_b(ga ? b : Tensor());
    const Shape a_shape = a.shape(), b_shape = b.shape();
    record("MmBackward0", out, {a, b}, [=](const Tensor& g) {
      return product_backward(g, saved_a.get(), saved_b.get(), a_shape, b_shape, ga, gb, "mm");
    })->twice_differentiable = true;
  }
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  MINIDL_CHECK(
      a.dim() == 3 && b.dim() == 3, "bmm",
      "expected 3-D tensors, got " << shape_str(a.shape()) << " and " << shape_str(b.shape()));
  check_dtypes(a, b, "bmm");
  MINIDL_CHECK(a.shape()[0] == b.shape()[0], "bmm",
               "batch sizes of shapes " << shape_str(a.shape()) << " and " << shape_str(b.shape())
                                        << " differ (" << a.shape()[0] << " != " << b.shape()[0]
                                        << ")");
  Shape shape = product_shape(a, b, a.shape(), b.shape(), "bmm");
  Tensor out = product(a, b, shape, shape, "bmm");
  // out_i = a_i @ b_i ;  da_i = dout_i @ b_i^T ,  db_i = a_i^T @ dout_i
  if (needs_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    SavedTensor saved_a(gb ? a : Tensor()), saved_b(ga ? b : Tensor());
    const Shape a_shape = a.shape(), b_shape = b.shape();
    record("BmmBackward0", out, {a, b}, [=](const Tensor& g) {
      return product_backward(g, saved_a.get(), saved_b.get(), a_shape, b_shape, ga, gb, "bmm");
    })->twice_differentiable = true;
  }
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  MINIDL_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul",
               "both arguments need at least 1 dimension, got "
                   << a.dim() << "-d " << shape_str(a.shape()) << " and " << b.dim() << "-d "
                   << shape_str(b.shape()));
  check_dtypes(a, b, "matmul");
  if (a.dim() == 2 && b.dim() == 2) {
    MINIDL_CHECK(a.shape()[1] == b.shape()[0], "matmul",
                 "shapes " << shape_str(a.shape()) << " and " << shape_str(b.shape())
                           << " cannot be multiplied (" << a.shape()[1] << " != " << b.shape()[0]
                           << ")");
    return mm(a, b);
  }
  // A 1-D a is a row [1, k], a 1-D b a column [k, 1]; that 1 is dropped from the result.
  const bool a_vector = a.dim() == 1, b_vector = b.dim() == 1;
  const Shape a2_shape = a_vector ? Shape{1, a.shape()[0]} : a.shape();
  const Shape b2_shape = b_vector ? Shape{b.shape()[0], 1} : b.shape();
  Tensor a2 = a_vector ? with_unit_dims(a, a2_shape) : a;
  Tensor b2 = b_vector ? with_unit_dims(b, b2_shape) : b;
  const Shape full = product_shape(a2, b2, a.shape(), b.shape(), "matmul");
  Shape shape = full;
  if (b_vector) shape.erase(shape.end() - 1);
  if (a_vector) shape.erase(shape.end() - (b_vector ? 1 : 2));
  Tensor out = product(a2, b2, full, shape, "matmul");
  // out = a @ b ;  da = dout @ b^T ,  db = a^T @ dout   (summed over broadcast batch dims; a
  //   1-D operand is the row/column matrix above)
  if (needs_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    const Shape a_shape = a.shape(), b_shape = b.shape();
    SavedTensor saved_a(gb ? a : Tensor()), saved_b(ga ? b : Tensor());
    record(a_vector && b_vector ? "DotBackward0" : "MatmulBackward0", out, {a, b},
           [=](const Tensor& g) {
             // (reshape in a create_graph backward: with_unit_dims is not recorded)
             auto unit_dims = [](const Tensor& t, const Shape& shape2) {
               return GradMode::is_enabled() ? t.reshape(shape2) : with_unit_dims(t, shape2);
             };
             auto as_matrix = [&](const Tensor& t, bool vector, const Shape& shape2) {
               return vector && t.defined() ? unit_dims(t, shape2) : t;
             };
             GradList grads =
                 product_backward(unit_dims(g, full), as_matrix(saved_a.get(), a_vector, a2_shape),
                                  as_matrix(saved_b.get(), b_vector, b2_shape), a2_shape, b2_shape,
                                  ga, gb, "matmul");
             if (ga && grads[0].shape() != a_shape) grads[0] = grads[0].reshape(a_shape);
             if (gb && grads[1].shape() != b_shape) grads[1] = grads[1].reshape(b_shape);
             return grads;
           })
        ->twice_differentiable = true;
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_dtypes(x, weight, "linear");
  MINIDL_CHECK(
      weight.dim() == 2, "linear",
      "expected a 2-D weight [out_features, in_features], got " << shape_str(weight.shape()));
  MINIDL_CHECK(x.dim() >= 1, "linear", "expected an input with at least 1 dimension, got 0-d");
  const int64_t in_features = weight.shape()[1], out_features = weight.shape()[0];
  MINIDL_CHECK(x.shape().back() == in_features, "linear",
               "input " << shape_str(x.shape()) << " and weight " << shape_str(weight.shape())
                        << " cannot be multiplied (" << x.shape().back() << " != " << in_features
                        << ")");
  if (bias.defined()) {
    check_dtypes(x, bias, "linear");
    MINIDL_CHECK(bias.dim() == 1 && bias.shape()[0] == out_features, "linear",
                 "expected a bias of shape [" << out_features << "] for weight "
                                              << shape_str(weight.shape()) << ", got "
                                              << shape_str(bias.shape()));
  }
  Shape shape = x.shape();
  shape.back() = out_features;
  Tensor out = empty(shape, x.dtype());
  // Over the flattened leading dims: out [R, out] = x [R, in] @ weight^T (+ bias in each row,
  // written first and accumulated onto by the GEMM).
  Tensor x_rows = merge_rows(x);
  const int64_t rows = x_rows.shape()[0];
  Tensor out_rows = make_view(out, {rows, out_features}, {out_features, 1}, 0);
  if (bias.defined())
    copy_data(out_rows,
              make_view(bias, {rows, out_features}, {0, bias.strides()[0]}, bias.storage_offset()));
  MINIDL_DISPATCH_FLOATING(
      x.dtype(), "linear",
      matmul_kernel<scalar_t>(out_rows, x_rows, transposed(weight), bias.defined(), "linear"));
  // out = x W^T + b ;  dx = dout W ,  dweight = dout^T x ,
  //   dbias = dout summed over the leading dims
  if (needs_grad({x, weight, bias})) {
    const bool gx = x.requires_grad(), gw = weight.requires_grad();
    const bool gbias = bias.defined() && bias.requires_grad();
    const Shape x_shape = x.shape();
    SavedTensor saved_x(gw ? x : Tensor()), saved_w(gx ? weight : Tensor());
    const char* name = x.dim() != 2     ? "LinearBackward0"
                       : bias.defined() ? "AddmmBackward0"
                                        : "MmBackward0";  // PyTorch's names for 2-D inputs
    record(name, out, {x, weight, bias}, [=](const Tensor& g) {
      Tensor dx, dw, db;
      if (GradMode::is_enabled()) {  // create_graph: the same products, recorded
        const int64_t in_features = x_shape.back(), out_features = g.shape().back();
        Tensor g_rows = g.reshape({-1, out_features});
        if (gx) dx = matmul(g, saved_w.get());
        if (gw) dw = matmul(g_rows.t(), saved_x.get().reshape({-1, in_features}));
        if (gbias) db = g_rows.sum({0});
        return GradList{dx, dw, db};
      }
      Tensor g_rows = merge_rows(g);
      if (gx) {
        const Tensor& w = saved_w.get();
        Shape rows_shape{g_rows.shape()[0], w.shape()[1]};
        dx = product(g_rows, w, rows_shape, x_shape, "linear");
      }
      if (gw) dw = product(transposed(g_rows), merge_rows(saved_x.get()), "linear");
      if (gbias) db = sum(g_rows, {0});
      return GradList{dx, dw, db};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor Tensor::matmul(const Tensor& other) const {
  return minidl::matmul(*this, other);
}
Tensor Tensor::mm(const Tensor& other) const {
  return minidl::mm(*this, other);
}
Tensor Tensor::bmm(const Tensor& other) const {
  return minidl::bmm(*this, other);
}

}  // namespace minidl
