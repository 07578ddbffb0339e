// cat, stack, split, chunk, pad, repeat, tril, triu: element rearrangements. Each op's backward
// sits right below its forward.
#include "ops/shape_ops.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "core/strided.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

// PyTorch skips 1-d tensors of size 0 in cat whatever the other tensors' shapes.
bool is_legacy_empty(const Tensor& t) {
  return t.dim() == 1 && t.numel() == 0;
}

// A view of t at [starts, starts + lengths) in each dim, with no tape entry (kernel plumbing).
Tensor region(const Tensor& t, const Shape& starts, const Shape& lengths) {
  int64_t offset = t.storage_offset();
  for (size_t d = 0; d < starts.size(); ++d) offset += starts[d] * t.strides()[d];
  return make_view(t, lengths, t.strides(), offset);
}

}  // namespace

// ---------------------------------------------------------------- cat, stack

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  MINIDL_CHECK(!tensors.empty(), "cat", "expects a non-empty list of tensors");
  int64_t ref = -1;  // the first tensor that takes part in shape checks
  DType dt = DType::Bool;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    MINIDL_CHECK(t.defined(), "cat", "tensor " << i << " is undefined");
    MINIDL_CHECK(t.dim() > 0, "cat",
                 "zero-dimensional tensor (at index "
                     << i << ") cannot be concatenated; unsqueeze it or use stack");
    dt = i == 0 ? t.dtype() : promote_types(dt, t.dtype());
    if (ref < 0 && !is_legacy_empty(t)) ref = static_cast<int64_t>(i);
  }
  if (ref < 0) ref = 0;  // every tensor is a legacy empty one
  const Tensor& reference = tensors[ref];
  const int64_t d = wrap_dim(dim, reference.dim(), "cat");
  Shape out_shape = reference.shape();
  out_shape[d] = 0;
  std::vector<int64_t> offsets(tensors.size(), 0);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (is_legacy_empty(t) && static_cast<int64_t>(i) != ref) continue;
    bool match = t.dim() == reference.dim();
    for (int64_t k = 0; match && k < t.dim(); ++k)
      match = k == d || t.shape()[k] == reference.shape()[k];
    MINIDL_CHECK(match, "cat",
                 "sizes of tensors must match except in dimension "
                     << d << ": tensor " << ref << " has shape " << shape_str(reference.shape())
                     << " but tensor " << i << " has shape " << shape_str(t.shape()));
    offsets[i] = out_shape[d];
    out_shape[d] = checked_add(out_shape[d], t.shape()[d], "cat", "output sizes");
  }
  // out[.., offsets[i] : offsets[i] + size_i, ..] = tensors[i]   (converted to dt)
  Tensor out = empty(out_shape, dt);
  std::vector<bool> skipped(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    skipped[i] = is_legacy_empty(t) && static_cast<int64_t>(i) != ref;
    if (skipped[i] || t.numel() == 0) continue;
    Shape starts(out_shape.size(), 0);
    starts[d] = offsets[i];
    copy_data(region(out, starts, t.shape()), t);
  }
  // out = [x_0, x_1, ...] along d ;  dx_i = dout[.., offsets[i] : offsets[i] + size_i, ..]
  if (needs_grad(tensors)) {
    std::vector<bool> wants(tensors.size());
    std::vector<Shape> shapes(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      wants[i] = tensors[i].requires_grad();
      shapes[i] = tensors[i].shape();
    }
    record("CatBackward0", out, tensors, [=](const Tensor& g) {
      GradList grads(wants.size());
      for (size_t i = 0; i < wants.size(); ++i) {
        if (!wants[i]) continue;
        grads[i] = skipped[i] ? zeros(shapes[i], g.dtype()) : g.narrow(d, offsets[i], shapes[i][d]);
      }
      return grads;
    })->twice_differentiable = true;
  }
  return out;
}

// Composed: unsqueeze every tensor at dim, then cat (the tape records both).
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  MINIDL_CHECK(!tensors.empty(), "stack", "expects a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i) {
    MINIDL_CHECK(tensors[i].defined(), "stack", "tensor " << i << " is undefined");
    MINIDL_CHECK(tensors[i].shape() == tensors[0].shape(), "stack",
                 "expects tensors of equal shape, but tensor 0 has shape "
                     << shape_str(tensors[0].shape()) << " and tensor " << i << " has shape "
                     << shape_str(tensors[i].shape()));
  }
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> unsqueezed;
  unsqueezed.reserve(tensors.size());
  for (const Tensor& t : tensors) unsqueezed.push_back(t.unsqueeze(d));
  return cat(unsqueezed, d);
}

// ---------------------------------------------------------------- split, chunk

// More views than this (2^32, each over 100 bytes) cannot fit in memory.
constexpr int64_t kMaxPieces = int64_t{1} << 32;

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  MINIDL_CHECK(x.dim() > 0, "split", "cannot split a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  const int64_t n = x.shape()[d];
  MINIDL_CHECK(split_size >= 0, "split", "split_size must be non-negative, got " << split_size);
  MINIDL_CHECK(split_size > 0 || n == 0, "split",
               "split_size can only be 0 if the dimension size is 0, but dimension "
                   << d << " of shape " << shape_str(x.shape()) << " has size " << n);
  // ceil(n / split_size) pieces, one (empty) if n is 0; written so that no sum can overflow.
  const int64_t count = n == 0 ? 1 : (n - 1) / split_size + 1;
  // A huge expanded dim split in small pieces: refused before asking for the memory.
  MINIDL_CHECK(count <= kMaxPieces, "split",
               "dimension " << d << " of shape " << shape_str(x.shape()) << " in pieces of "
                            << split_size << " would make " << count
                            << " tensors, more than any memory holds");
  std::vector<Tensor> pieces;
  pieces.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    int64_t start = i * split_size;
    pieces.push_back(x.narrow(d, start, std::min(split_size, n - start)));
  }
  return pieces;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& split_sizes, int64_t dim) {
  MINIDL_CHECK(x.dim() > 0, "split", "cannot split a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  const int64_t n = x.shape()[d];
  int64_t total = 0;
  for (int64_t s : split_sizes) {
    MINIDL_CHECK(s >= 0, "split",
                 "split sizes must be non-negative, got " << shape_str(split_sizes));
    total = checked_add(total, s, "split", "split sizes");
  }
  MINIDL_CHECK(total == n, "split",
               "split sizes " << shape_str(split_sizes) << " add up to " << total
                              << " but dimension " << d << " of shape " << shape_str(x.shape())
                              << " has size " << n);
  std::vector<Tensor> pieces;
  pieces.reserve(split_sizes.size());
  int64_t start = 0;
  for (int64_t s : split_sizes) {
    pieces.push_back(x.narrow(d, start, s));
    start += s;
  }
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  MINIDL_CHECK(chunks > 0, "chunk", "chunks must be positive, got " << chunks);
  MINIDL_CHECK(x.dim() > 0, "chunk", "cannot chunk a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "chunk");
  const int64_t n = x.shape()[d];
  // An empty dim still yields `chunks` empty pieces (split would give one).
  if (n == 0) {
    MINIDL_CHECK(chunks <= kMaxPieces, "chunk",
                 chunks << " empty pieces of shape " << shape_str(x.shape())
                        << " are more tensors than any memory holds");
    return split(x, std::vector<int64_t>(chunks, 0), d);
  }
  const int64_t split_size = (n - 1) / chunks + 1;  // ceil(n / chunks) without overflow
  return split(x, split_size, d);
}

// ---------------------------------------------------------------- pad

namespace {

// Where output position o of a padded dim reads from: i = o - left, mirrored at the edges
// (reflect: -1 -> 1, n -> n - 2) or clamped to them (replicate).
std::vector<int64_t> source_map(int64_t n, int64_t left, int64_t out_size, bool reflect) {
  std::vector<int64_t> map(out_size);
  for (int64_t o = 0; o < out_size; ++o) {
    int64_t i = o - left;
    if (reflect) {
      if (i < 0) i = -i;
      if (i >= n) i = 2 * (n - 1) - i;
    } else {
      i = std::min(std::max(i, int64_t{0}), n - 1);
    }
    map[o] = i;
  }
  return map;
}

// The inverse of a source map as lists: the outputs reading input i are
// outputs[starts[i] .. starts[i + 1]).
struct InverseMap {
  std::vector<int64_t> starts, outputs;
};
InverseMap invert(const std::vector<int64_t>& map, int64_t n) {
  InverseMap inv;
  inv.starts.assign(n + 1, 0);
  for (int64_t i : map) ++inv.starts[i + 1];
  for (int64_t i = 0; i < n; ++i) inv.starts[i + 1] += inv.starts[i];
  inv.outputs.resize(map.size());
  std::vector<int64_t> next(inv.starts.begin(), inv.starts.end() - 1);
  for (size_t o = 0; o < map.size(); ++o) inv.outputs[next[map[o]]++] = static_cast<int64_t>(o);
  return inv;
}

// The geometry of a reflect/replicate pad, with the padded dims lifted to exactly three:
// x is [batch, in[0], in[1], in[2]] and out [batch, out[0], out[1], out[2]], contiguous.
struct PadGeometry {
  int64_t batch = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  std::vector<int64_t> map[3];
};

// out[b, o0, o1, o2] = x[b, map0[o0], map1[o1], map2[o2]]
template <typename T>
void pad_map_forward(const PadGeometry& p, const T* x, T* out) {
  const int64_t rows = p.batch * p.out[0] * p.out[1], width = p.out[2];
  const int64_t* m2 = p.map[2].data();
  // Rows per chunk so that a chunk writes about kParallelGrain elements.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(width, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t o1 = r % p.out[1], o0 = (r / p.out[1]) % p.out[0], b = r / (p.out[1] * p.out[0]);
      const T* src = x + ((b * p.in[0] + p.map[0][o0]) * p.in[1] + p.map[1][o1]) * p.in[2];
      T* dst = out + r * width;
      for (int64_t o2 = 0; o2 < width; ++o2) dst[o2] = src[m2[o2]];
    }
  });
}

// dx[b, i0, i1, i2] = sum of dout[b, o0, o1, o2] over the outputs that read (i0, i1, i2):
// every input element gathers its own sum, so threads never write to the same place.
template <typename T>
void pad_map_backward(const PadGeometry& p, const T* g, T* dx) {
  InverseMap inv[3];
  for (int k = 0; k < 3; ++k) inv[k] = invert(p.map[k], p.in[k]);
  const int64_t rows = p.batch * p.in[0] * p.in[1], width = p.in[2];
  // Rows per chunk so that a chunk writes about kParallelGrain elements.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(width, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t i1 = r % p.in[1], i0 = (r / p.in[1]) % p.in[0], b = r / (p.in[1] * p.in[0]);
      T* dst = dx + r * width;
      for (int64_t i2 = 0; i2 < width; ++i2) {
        T acc = 0;
        for (int64_t a = inv[0].starts[i0]; a < inv[0].starts[i0 + 1]; ++a) {
          for (int64_t c = inv[1].starts[i1]; c < inv[1].starts[i1 + 1]; ++c) {
            const T* row =
                g + ((b * p.out[0] + inv[0].outputs[a]) * p.out[1] + inv[1].outputs[c]) * p.out[2];
            for (int64_t e = inv[2].starts[i2]; e < inv[2].starts[i2 + 1]; ++e)
              acc += row[inv[2].outputs[e]];
          }
        }
        dst[i2] = acc;
      }
    }
  });
}

Tensor constant_pad(const Tensor& x, const std::vector<int64_t>& pads, const Shape& out_shape,
                    double value) {
  Tensor out = full(out_shape, value, x.dtype());
  // The part of x that survives cropping, and where it lands in out.
  Shape src_start(x.dim(), 0), dst_start(x.dim(), 0), length = x.shape();
  bool any = x.numel() > 0;
  for (size_t j = 0; j < pads.size() / 2; ++j) {
    const int64_t d = x.dim() - 1 - static_cast<int64_t>(j);
    const int64_t left = pads[2 * j], right = pads[2 * j + 1];
    src_start[d] = std::max<int64_t>(-left, 0);
    dst_start[d] = std::max<int64_t>(left, 0);
    length[d] = x.shape()[d] - src_start[d] - std::max<int64_t>(-right, 0);
    any = any && length[d] > 0;
  }
  if (any) copy_data(region(out, dst_start, length), region(x, src_start, length));
  // out = x framed by `value` (cropped where pads < 0) ;  dx = dout with the pads negated
  if (needs_grad({x})) {
    std::vector<int64_t> negated(pads.size());
    for (size_t k = 0; k < pads.size(); ++k) negated[k] = -pads[k];
    record("ConstantPadNdBackward0", out, {x}, [negated](const Tensor& g) {
      return GradList{pad(g, negated, "constant", 0.0)};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor map_pad(const Tensor& x, const std::vector<int64_t>& pads, const Shape& out_shape,
               const std::string& mode) {
  const int64_t k = static_cast<int64_t>(pads.size() / 2);
  MINIDL_CHECK(k >= 1 && k <= 3, "pad",
               mode << " mode pads the last 1 to 3 dims (2, 4 or 6 pad values), got " << pads.size()
                    << " values " << shape_str(pads));
  const bool reflect = mode == "reflect";
  PadGeometry p;
  const int64_t lead = x.dim() - k;
  for (int64_t d = 0; d < lead; ++d) p.batch *= x.shape()[d];
  for (int64_t j = 0; j < k; ++j) {
    const int64_t d = x.dim() - 1 - j, slot = 2 - j;
    const int64_t n = x.shape()[d], left = pads[2 * j], right = pads[2 * j + 1];
    MINIDL_CHECK(n > 0, "pad",
                 mode << " mode cannot pad dimension " << d << " of size 0 (input shape "
                      << shape_str(x.shape()) << ")");
    MINIDL_CHECK(!reflect || (left < n && right < n), "pad",
                 "reflect padding (" << left << ", " << right << ") must be smaller than the size "
                                     << n << " of dimension " << d << " (input shape "
                                     << shape_str(x.shape()) << ")");
    p.in[slot] = n;
    p.out[slot] = out_shape[d];
    p.map[slot] = source_map(n, left, out_shape[d], reflect);
  }
  for (int64_t slot = 0; slot < 3 - k; ++slot) p.map[slot] = {0};
  Tensor xc = x.detach().contiguous();  // a kernel input: no tape entry
  Tensor out = empty(out_shape, x.dtype());
  MINIDL_DISPATCH_ALL(
      x.dtype(), "pad",
      pad_map_forward<scalar_t>(p, xc.data_ptr<scalar_t>(), out.data_ptr<scalar_t>()));
  // out[o] = x[map(o)] per padded dim ;  dx[i] = sum of dout[o] over the o with map(o) = i
  if (needs_grad({x})) {
    Shape in_shape = x.shape();
    const char* name = reflect ? "ReflectionPadBackward0" : "ReplicationPadBackward0";
    record(name, out, {x}, [p, in_shape](const Tensor& g) {
      Tensor gc = g.contiguous();
      Tensor dx = empty(in_shape, g.dtype());
      MINIDL_DISPATCH_FLOATING(
          g.dtype(), "pad backward",
          pad_map_backward<scalar_t>(p, gc.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>()));
      return GradList{dx};
    });
  }
  return out;
}

}  // namespace

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode,
           double value) {
  MINIDL_CHECK(pads.size() % 2 == 0, "pad",
               "padding length must be even (pairs of before/after), got "
                   << pads.size() << " values " << shape_str(pads));
  const int64_t k = static_cast<int64_t>(pads.size() / 2);
  MINIDL_CHECK(k <= x.dim(), "pad",
               "padding " << shape_str(pads) << " covers " << k << " dims but the input of shape "
                          << shape_str(x.shape()) << " has " << x.dim());
  MINIDL_CHECK(mode == "constant" || mode == "reflect" || mode == "replicate", "pad",
               "unknown mode '" << mode << "' (supported: constant, reflect, replicate)");
  Shape out_shape = x.shape();
  for (int64_t j = 0; j < k; ++j) {
    const int64_t d = x.dim() - 1 - j;
    out_shape[d] += pads[2 * j] + pads[2 * j + 1];
    MINIDL_CHECK(out_shape[d] >= 0, "pad",
                 "padding (" << pads[2 * j] << ", " << pads[2 * j + 1] << ") of dimension " << d
                             << " of size " << x.shape()[d]
                             << " gives a negative size (input shape " << shape_str(x.shape())
                             << ")");
  }
  if (mode == "constant") return constant_pad(x, pads, out_shape, value);
  return map_pad(x, pads, out_shape, mode);
}

// ---------------------------------------------------------------- repeat

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  const int64_t m = static_cast<int64_t>(repeats.size());
  MINIDL_CHECK(m >= x.dim(), "repeat",
               "number of repeats " << shape_str(repeats)
                                    << " cannot be smaller than the number of dims of shape "
                                    << shape_str(x.shape()));
  const int64_t lead = m - x.dim();
  // x viewed as [r0, s0, r1, s1, ...]: the tile dims r_d read with stride 0.
  Shape tiled(2 * m), tiled_strides(2 * m), out_shape(m), sum_dims(m);
  for (int64_t d = 0; d < m; ++d) {
    MINIDL_CHECK(repeats[d] >= 0, "repeat",
                 "repeats must be non-negative, got " << shape_str(repeats));
    const int64_t size = d < lead ? 1 : x.shape()[d - lead];
    tiled[2 * d] = repeats[d];
    tiled[2 * d + 1] = size;
    tiled_strides[2 * d] = 0;
    tiled_strides[2 * d + 1] = d < lead ? 0 : x.strides()[d - lead];
    out_shape[d] = checked_mul(repeats[d], size, "repeat", "output sizes");
    sum_dims[d] = 2 * d;
  }
  Tensor out = empty(out_shape, x.dtype());
  if (out.numel() > 0)
    copy_data(make_view(out, tiled, contiguous_strides(tiled), 0),
              make_view(x, tiled, tiled_strides, x.storage_offset()));
  // out[t0 s0 + i0, t1 s1 + i1, ...] = x[i0, i1, ...] ;  dx = dout viewed as [r0, s0, ...] and
  //   summed over the tile dims r_d
  if (needs_grad({x}) && m > 0) {
    Shape in_shape = x.shape();
    record("RepeatBackward0", out, {x}, [=](const Tensor& g) {
      return GradList{sum(g.reshape(tiled), sum_dims).reshape(in_shape)};
    })->twice_differentiable = true;
  } else if (needs_grad({x})) {  // 0-d x, no repeats: a copy
    record("RepeatBackward0", out, {x}, [](const Tensor& g) {
      return GradList{g};
    })->twice_differentiable = true;
  }
  return out;
}

// ---------------------------------------------------------------- tril, triu

namespace {

// [batch, rows, cols] contiguous: keeps columns [0, i + diagonal] of row i (lower) or
// [i + diagonal, cols) (upper), zeroes the rest.
template <typename T>
void triangle_kernel(const T* x, T* out, int64_t batch, int64_t rows, int64_t cols,
                     int64_t diagonal, bool lower) {
  const int64_t total_rows = batch * rows;
  // Rows per chunk so that a chunk copies about kParallelGrain elements.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1));
  parallel_for(0, total_rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t i = r % rows;
      // Columns [lo, hi) are kept.
      const int64_t edge = std::min(std::max(i + diagonal + (lower ? 1 : 0), int64_t{0}), cols);
      const int64_t lo = lower ? 0 : edge, hi = lower ? edge : cols;
      const T* src = x + r * cols;
      T* dst = out + r * cols;
      for (int64_t j = 0; j < lo; ++j) dst[j] = T(0);
      for (int64_t j = lo; j < hi; ++j) dst[j] = src[j];
      for (int64_t j = hi; j < cols; ++j) dst[j] = T(0);
    }
  });
}

Tensor triangle(const Tensor& x, int64_t diagonal, bool lower) {
  const char* op = lower ? "tril" : "triu";
  MINIDL_CHECK(x.dim() >= 2, op,
               "expects a tensor with at least 2 dims, got shape " << shape_str(x.shape()));
  const int64_t rows = x.shape()[x.dim() - 2], cols = x.shape()[x.dim() - 1];
  const int64_t batch = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
  Tensor xc = x.detach().contiguous();  // a kernel input: no tape entry
  Tensor out = empty(x.shape(), x.dtype());
  MINIDL_DISPATCH_ALL(x.dtype(), op,
                      triangle_kernel<scalar_t>(xc.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                                batch, rows, cols, diagonal, lower));
  // out = x masked to the triangle ;  dx = dout masked the same way
  if (needs_grad({x})) {
    record(lower ? "TrilBackward0" : "TriuBackward0", out, {x}, [=](const Tensor& g) {
      return GradList{lower ? tril(g, diagonal) : triu(g, diagonal)};
    })->twice_differentiable = true;
  }
  return out;
}

}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal) {
  return triangle(x, diagonal, true);
}
Tensor triu(const Tensor& x, int64_t diagonal) {
  return triangle(x, diagonal, false);
}

}  // namespace minidl
