// sort, argsort, topk: one kernel orders each line along the dim; the backward scatters the
// values' gradient back to the positions the indices name.
#include "ops/sort.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "ops/index_ops.h"

namespace minidl {

namespace {

// Line (o, i) of x along dim d, for o over the dims before d and i over the dims after it,
// starts at x_offset(o, i) and steps by x.stride(d). The outputs are contiguous.
struct Lines {
  int64_t outer = 1, inner = 1, n = 1;
  Shape outer_shape, outer_strides, inner_shape, inner_strides;
  int64_t stride = 1;

  Lines(const Shape& shape, const Shape& strides, int64_t d) : n(shape[d]), stride(strides[d]) {
    for (int64_t k = 0; k < d; ++k) {
      outer *= shape[k];
      outer_shape.push_back(shape[k]);
      outer_strides.push_back(strides[k]);
    }
    for (size_t k = d + 1; k < shape.size(); ++k) {
      inner *= shape[k];
      inner_shape.push_back(shape[k]);
      inner_strides.push_back(strides[k]);
    }
  }
  static int64_t offset(int64_t flat, const Shape& sizes, const Shape& strides) {
    int64_t off = 0;
    for (size_t k = sizes.size(); k-- > 0;) {
      off += (flat % sizes[k]) * strides[k];
      flat /= sizes[k];
    }
    return off;
  }
  int64_t x_offset(int64_t o, int64_t i) const {
    return offset(o, outer_shape, outer_strides) + offset(i, inner_shape, inner_strides);
  }
};

// a goes before b: a total order (ties broken by position, so the result is what a stable sort
// gives), NaN above every number as in PyTorch.
template <typename T>
struct Before {
  bool descending;
  static bool is_nan(T v) {
    if constexpr (std::is_floating_point<T>::value) {
      return std::isnan(v);
    } else {
      (void)v;
      return false;
    }
  }
  bool operator()(const std::pair<T, int64_t>& a, const std::pair<T, int64_t>& b) const {
    const bool a_nan = is_nan(a.first), b_nan = is_nan(b.first);
    if (a_nan || b_nan) {
      if (a_nan && b_nan) return a.second < b.second;
      return descending ? a_nan : b_nan;
    }
    if (a.first != b.first) return descending ? a.first > b.first : a.first < b.first;
    return a.second < b.second;
  }
};

// The first k entries of every line in order, written to contiguous values / indices whose dim
// d has size k.
template <typename T>
void order_lines(const Tensor& x, int64_t d, int64_t k, bool descending, const Tensor& values,
                 const Tensor& indices) {
  const Lines lines(x.shape(), x.strides(), d);
  const T* in = x.data_ptr<T>();
  T* out = values.data_ptr<T>();
  int64_t* out_idx = indices.data_ptr<int64_t>();
  const int64_t n = lines.n, inner = lines.inner;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1) / 8);
  parallel_for(0, lines.outer * inner, grain, [&](int64_t line0, int64_t line1) {
    std::vector<std::pair<T, int64_t>> buffer(n);
    for (int64_t line = line0; line < line1; ++line) {
      const int64_t o = line / inner, i = line % inner;
      const T* src = in + lines.x_offset(o, i);
      for (int64_t j = 0; j < n; ++j) buffer[j] = {src[j * lines.stride], j};
      const Before<T> before{descending};
      if (k == n) {
        std::sort(buffer.begin(), buffer.end(), before);
      } else {
        std::partial_sort(buffer.begin(), buffer.begin() + k, buffer.end(), before);
      }
      const int64_t base = o * k * inner + i;
      for (int64_t j = 0; j < k; ++j) {
        out[base + j * inner] = buffer[j].first;
        out_idx[base + j * inner] = buffer[j].second;
      }
    }
  });
}

// values, indices of the first k entries along dim in sort order; records `name` for values.
// topk (numeric_only) refuses bool tensors, as PyTorch's.
std::tuple<Tensor, Tensor> ordered(const Tensor& x, int64_t dim, int64_t k, bool descending,
                                   bool numeric_only, const char* op, const char* name) {
  MINIDL_CHECK(x.defined(), op, "the input tensor is undefined");
  if (x.dim() == 0) {
    wrap_dim(dim, 0, op);  // 0 or -1
    auto [values, indices] = ordered(x.reshape({1}), 0, k, descending, numeric_only, op, name);
    return {values.reshape({}), indices.reshape({})};
  }
  const int64_t d = wrap_dim(dim, x.dim(), op);
  Shape out_shape = x.shape();
  out_shape[d] = k;
  Tensor values = empty(out_shape, x.dtype());
  Tensor indices = empty(out_shape, kInt64);
  if (values.numel() > 0) {
    if (numeric_only) {
      MINIDL_DISPATCH_NUMERIC(x.dtype(), op,
                              order_lines<scalar_t>(x, d, k, descending, values, indices));
    } else {
      MINIDL_DISPATCH_ALL(x.dtype(), op,
                          order_lines<scalar_t>(x, d, k, descending, values, indices));
    }
  }
  // values[o, j, i] = x[o, idx[o, j, i], i] ;  dx = zeros, dx[o, idx[o, j, i], i] += dvalues[o, j,
  // i] (each position appears at most once in a line, so += is a plain write)
  if (needs_grad({x})) {
    Shape x_shape = x.shape();
    record(name, values, {x}, [x_shape, d, saved = SavedTensor(indices)](const Tensor& g) {
      return GradList{scatter_add(zeros(x_shape, g.dtype()), d, saved.get(), g)};
    });
  }
  return {values, indices};
}

}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending) {
  MINIDL_CHECK(x.defined(), "sort", "the input tensor is undefined");
  const int64_t n = x.dim() == 0 ? 1 : x.shape()[wrap_dim(dim, x.dim(), "sort")];
  // out = values, values[.., j, ..] = x[.., indices[j], ..] (x sorted along dim) ;
  //   dx = zeros, dx[.., indices[j], ..] += dvalues[.., j, ..]   (the tape entry is in ordered())
  // derivation: sorting permutes each line: a gather with the returned indices, whose adjoint
  //   scatters dvalues back to the original positions (the indices are saved, x is not)
  return ordered(x, dim, n, descending, false, "sort", "SortBackward0");
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  NoGradGuard no_grad;  // only the indices are returned
  return std::get<1>(sort(x, dim, descending));
}

std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest,
                                bool sorted) {
  MINIDL_CHECK(x.defined(), "topk", "the input tensor is undefined");
  const int64_t n = x.dim() == 0 ? 1 : x.shape()[wrap_dim(dim, x.dim(), "topk")];
  MINIDL_CHECK(k >= 0 && k <= n, "topk",
               "k = " << k << " is out of range for dimension " << dim << " of size " << n
                      << " (shape " << shape_str(x.shape()) << ")");
  (void)sorted;  // the k entries always come out sorted, which sorted = false allows too
  // out = values, values[.., j, ..] = x[.., indices[j], ..] for the k largest (smallest) ;
  //   dx = zeros, dx[.., indices[j], ..] += dvalues[.., j, ..]   (entries not selected get 0)
  return ordered(x, dim, k, largest, true, "topk", "TopkBackward0");
}

std::tuple<Tensor, Tensor> Tensor::sort(int64_t dim, bool descending) const {
  return minidl::sort(*this, dim, descending);
}
Tensor Tensor::argsort(int64_t dim, bool descending) const {
  return minidl::argsort(*this, dim, descending);
}
std::tuple<Tensor, Tensor> Tensor::topk(int64_t k, int64_t dim, bool largest, bool sorted) const {
  return minidl::topk(*this, k, dim, largest, sorted);
}

}  // namespace minidl
