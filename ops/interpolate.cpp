// interpolate: per spatial dim a table of source taps (index and weight) computed once, then one
// gather per output element forward and the matching scatter backward, planes in parallel.
#include "ops/interpolate.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "core/parallel.h"
#include "ops/conv.h"
#include "ops/linalg.h"

namespace minidl {

namespace {

using detail::dense;

enum class Mode { Nearest, NearestExact, Linear };

// The two taps of each output index along one dim: x[i0] with weight l0 and x[i1] with weight l1
// (nearest: i1 == i0, l0 = 1, l1 = 0, and the kernels read only i0).
template <typename T>
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<T> l0, l1;
};

// `scale` is the user's scale_factor for this dim when it is to be used for the index mapping.
template <typename T>
Taps<T> make_taps(int64_t in, int64_t out, Mode mode, bool align_corners,
                  std::optional<double> scale) {
  Taps<T> taps;
  taps.i0.resize(out);
  taps.i1.resize(out);
  taps.l0.assign(out, T(1));
  taps.l1.assign(out, T(0));
  const bool scaled = scale.has_value() && *scale > 0.0;
  if (mode != Mode::Linear) {
    // PyTorch computes the nearest scale in float.
    const float s = scaled ? static_cast<float>(1.0 / *scale)
                           : static_cast<float>(in) / static_cast<float>(out);
    for (int64_t d = 0; d < out; ++d) {
      int64_t src;
      if (mode == Mode::Nearest) {
        src = out == in       ? d
              : out == 2 * in ? d >> 1
                              : std::min(static_cast<int64_t>(std::floor(d * s)), in - 1);
      } else {
        src = std::min(static_cast<int64_t>(std::floor(static_cast<float>((d + 0.5) * s))), in - 1);
      }
      taps.i0[d] = taps.i1[d] = src;
    }
    return taps;
  }
  const T s = align_corners ? (out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0))
              : scaled      ? static_cast<T>(1.0 / *scale)
                            : static_cast<T>(in) / static_cast<T>(out);
  for (int64_t d = 0; d < out; ++d) {
    T src = align_corners ? s * static_cast<T>(d) : s * (static_cast<T>(d) + T(0.5)) - T(0.5);
    if (src < T(0)) src = T(0);
    const int64_t i0 = static_cast<int64_t>(src);
    const T l1 = std::min(std::max(src - static_cast<T>(i0), T(0)), T(1));
    taps.i0[d] = i0;
    taps.i1[d] = i0 + (i0 < in - 1 ? 1 : 0);
    taps.l0[d] = T(1) - l1;
    taps.l1[d] = l1;
  }
  return taps;
}

// Planes per parallel chunk: about kParallelGrain output elements each.
int64_t plane_grain(int64_t plane) {
  return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, plane));
}

// y [P, OH, OW] from x [P, H, W]:
//   nearest  y[p, a, b] = x[p, h0(a), w0(b)]
//   linear   y[p, a, b] = lh0 (lw0 x[h0, w0] + lw1 x[h0, w1]) + lh1 (lw0 x[h1, w0] + lw1 x[h1, w1])
template <typename T>
void resample_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const Taps<T>& th,
                      const Taps<T>& tw, bool linear) {
  const int64_t OH = static_cast<int64_t>(th.i0.size()), OW = static_cast<int64_t>(tw.i0.size());
  parallel_for(0, planes, plane_grain(OH * OW), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * H * W;
      T* yp = y + p * OH * OW;
      for (int64_t a = 0; a < OH; ++a) {
        const T* r0 = xp + th.i0[a] * W;
        const T* r1 = xp + th.i1[a] * W;
        T* out = yp + a * OW;
        if (!linear) {
          for (int64_t b = 0; b < OW; ++b) out[b] = r0[tw.i0[b]];
          continue;
        }
        const T lh0 = th.l0[a], lh1 = th.l1[a];
        for (int64_t b = 0; b < OW; ++b) {
          const int64_t w0 = tw.i0[b], w1 = tw.i1[b];
          const T lw0 = tw.l0[b], lw1 = tw.l1[b];
          out[b] = lh0 * (lw0 * r0[w0] + lw1 * r0[w1]) + lh1 * (lw0 * r1[w0] + lw1 * r1[w1]);
        }
      }
    }
  });
}

// The adjoint: dx [P, H, W] = each dy[p, a, b] scattered to its taps with the same weights.
template <typename T>
void resample_backward(const T* dy, T* dx, int64_t planes, int64_t H, int64_t W, const Taps<T>& th,
                       const Taps<T>& tw, bool linear) {
  const int64_t OH = static_cast<int64_t>(th.i0.size()), OW = static_cast<int64_t>(tw.i0.size());
  parallel_for(0, planes, plane_grain(OH * OW), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* dxp = dx + p * H * W;
      std::fill(dxp, dxp + H * W, T(0));
      const T* dyp = dy + p * OH * OW;
      for (int64_t a = 0; a < OH; ++a) {
        T* r0 = dxp + th.i0[a] * W;
        T* r1 = dxp + th.i1[a] * W;
        const T* g = dyp + a * OW;
        if (!linear) {
          for (int64_t b = 0; b < OW; ++b) r0[tw.i0[b]] += g[b];
          continue;
        }
        const T lh0 = th.l0[a], lh1 = th.l1[a];
        for (int64_t b = 0; b < OW; ++b) {
          const int64_t w0 = tw.i0[b], w1 = tw.i1[b];
          const T lw0 = tw.l0[b], lw1 = tw.l1[b];
          r0[w0] += lh0 * lw0 * g[b];
          r0[w1] += lh0 * lw1 * g[b];
          r1[w0] += lh1 * lw0 * g[b];
          r1[w1] += lh1 * lw1 * g[b];
        }
      }
    }
  });
}

std::string doubles_str(const std::vector<double>& values) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < values.size(); ++i) os << (i ? ", " : "") << values[i];
  os << (values.size() == 1 ? ",)" : ")");
  return os.str();
}

}  // namespace

Tensor interpolate(const Tensor& input, const std::vector<int64_t>& size,
                   const std::vector<double>& scale_factor, const std::string& mode_name,
                   std::optional<bool> align_corners, bool recompute_scale_factor) {
  const char* op = "interpolate";
  MINIDL_CHECK(input.defined(), op, "input is undefined");
  MINIDL_CHECK(
      input.dim() == 3 || input.dim() == 4, op,
      "expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got shape " << shape_str(input.shape()));
  MINIDL_CHECK(input.is_floating_point(), op,
               "expects a floating-point tensor, got " << input.dtype() << " of shape "
                                                       << shape_str(input.shape()));
  const size_t spatial = static_cast<size_t>(input.dim()) - 2;
  Mode mode;
  if (mode_name == "nearest") {
    mode = Mode::Nearest;
  } else if (mode_name == "nearest-exact") {
    mode = Mode::NearestExact;
  } else if (mode_name == "linear" || mode_name == "bilinear") {
    mode = Mode::Linear;
    const size_t needs = mode_name == "linear" ? 1 : 2;
    MINIDL_CHECK(spatial == needs, op,
                 "got " << input.dim() << "-D input " << shape_str(input.shape()) << ", but "
                        << mode_name << " mode needs " << needs + 2 << "-D input");
  } else {
    MINIDL_FAIL(op, "mode '" << mode_name
                             << "' is not supported (nearest, nearest-exact, linear, bilinear)");
  }
  MINIDL_CHECK(mode == Mode::Linear || !align_corners.has_value(), op,
               "align_corners option can only be set with the interpolating modes: linear | "
               "bilinear (mode is '"
                   << mode_name << "')");
  MINIDL_CHECK(!size.empty() || !scale_factor.empty(), op,
               "either size or scale_factor should be defined");
  MINIDL_CHECK(size.empty() || scale_factor.empty(), op,
               "only one of size or scale_factor should be defined");
  const size_t given = size.empty() ? scale_factor.size() : size.size();
  MINIDL_CHECK(given == 1 || given == spatial, op,
               "input and output must have the same number of spatial dimensions, but got input "
                   << shape_str(input.shape()) << " and "
                   << (size.empty() ? "scale_factor " + doubles_str(scale_factor)
                                    : "size " + tuple_str(size)));
  std::vector<int64_t> in_sizes(spatial), out_sizes(spatial);
  std::vector<std::optional<double>> scales(spatial);
  for (size_t d = 0; d < spatial; ++d) {
    in_sizes[d] = input.size(2 + static_cast<int64_t>(d));
    if (size.empty()) {
      const double sf = scale_factor[given == 1 ? 0 : d];
      MINIDL_CHECK(std::isfinite(sf) && sf > 0.0, op,
                   "scale_factor must be positive and finite, got " << doubles_str(scale_factor));
      out_sizes[d] = static_cast<int64_t>(std::floor(static_cast<double>(in_sizes[d]) * sf));
      if (!recompute_scale_factor) scales[d] = sf;
    } else {
      out_sizes[d] = size[given == 1 ? 0 : d];
    }
  }
  for (size_t d = 0; d < spatial; ++d)
    MINIDL_CHECK(in_sizes[d] > 0 && out_sizes[d] > 0, op,
                 "input and output sizes should be greater than 0, but got input "
                     << shape_str(input.shape()) << " and output size " << tuple_str(out_sizes));

  // A 3-D input is a 4-D one with H = OH = 1.
  const int64_t H = spatial == 2 ? in_sizes[0] : 1, W = in_sizes.back();
  const int64_t OH = spatial == 2 ? out_sizes[0] : 1, OW = out_sizes.back();
  const std::optional<double> scale_h = spatial == 2 ? scales[0] : std::nullopt;
  const std::optional<double> scale_w = scales.back();
  const bool linear = mode == Mode::Linear, corners = align_corners.value_or(false);
  const int64_t planes = input.size(0) * input.size(1);
  Shape out_shape = {input.size(0), input.size(1)};
  if (spatial == 2) out_shape.push_back(OH);
  out_shape.push_back(OW);
  Tensor out = empty(out_shape, input.dtype());
  const Tensor x = dense(input);
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, {
    resample_forward<scalar_t>(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), planes, H, W,
                               make_taps<scalar_t>(H, OH, mode, corners, scale_h),
                               make_taps<scalar_t>(W, OW, mode, corners, scale_w), linear);
  });
  // out[p, o] = Σ_k w_k(o) input[p, src_k(o)] ;  dinput = zeros,
  //   dinput[p, src_k(o)] += w_k(o) dout[p, o] over every output o and tap k
  // derivation: per dim the resampling is a fixed sparse matrix R (nearest: one tap of weight
  //   1; linear: two taps, weights 1 - λ and λ), separable: out = R_h x R_wᵀ per plane
  //   so dx = R_hᵀ dout R_w: the same taps, read backwards, accumulated (several outputs can
  //   share a source); nothing is saved but the geometry
  if (needs_grad({input})) {
    const char* name =
        linear ? (spatial == 2 ? "UpsampleBilinear2DBackward1" : "UpsampleLinear1DBackward1")
        : mode == Mode::Nearest
            ? (spatial == 2 ? "UpsampleNearest2DBackward1" : "UpsampleNearest1DBackward1")
            : (spatial == 2 ? "UpsampleNearestExact2DBackward1"
                            : "UpsampleNearestExact1DBackward1");
    const Shape input_shape = input.shape();
    record(name, out, {input}, [=](const Tensor& grad_out) {
      const Tensor dy = dense(grad_out);
      Tensor dx = empty(input_shape, dy.dtype());
      MINIDL_DISPATCH_FLOATING(dy.dtype(), name, {
        resample_backward<scalar_t>(dy.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(), planes, H, W,
                                    make_taps<scalar_t>(H, OH, mode, corners, scale_h),
                                    make_taps<scalar_t>(W, OW, mode, corners, scale_w), linear);
      });
      return GradList{dx};
    });
  }
  return out;
}

}  // namespace minidl
