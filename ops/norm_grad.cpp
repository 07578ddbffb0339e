// Composed (recorded, differentiable) backward of layer_norm and batch_norm; see ops/norm_grad.h.
#include "ops/norm_grad.h"

#include <vector>

#include "ops/elementwise.h"

namespace minidl::detail {

namespace {

// t summed over `dims` (none: t itself -- an empty dim list would sum everything).
Tensor sum_over(const Tensor& t, const std::vector<int64_t>& dims) {
  return dims.empty() ? t : t.sum(dims);
}

}  // namespace

// The backward formulas of NativeLayerNormBackward0 / NativeBatchNormBackward0 (ops/norm.cpp,
// with the derivations) written as recorded ops, used when the backward itself is recorded
// (create_graph): differentiating these ops gives the second derivatives. The statistics are
// recomputed here as ops of x (in training) so that their dependence on x is differentiated too.
//
// mean = mean(x), xhat = (x - mean) rstd, rstd = (var(x) + eps)^-1/2 over the normalized dims ;
// dx = rstd (dy w - mean(dy w) - xhat mean(dy w xhat)) ,  dw = sum_rows(dy xhat) ,  db =
// sum_rows(dy)
std::vector<Tensor> layer_norm_grad(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                    int64_t normalized_dims, double eps, bool need_dx, bool need_dw,
                                    bool need_db) {
  std::vector<int64_t> normalized, rows;
  for (int64_t d = 0; d < input.dim(); ++d)
    (d < input.dim() - normalized_dims ? rows : normalized).push_back(d);
  const Tensor centered = input - input.mean(normalized, true);
  const Tensor rstd = ((centered * centered).mean(normalized, true) + eps).rsqrt();
  const Tensor xhat = centered * rstd;
  Tensor dx, dw, db;
  if (need_dx) {
    const Tensor dyw = weight.defined() ? grad * weight : grad;  // g = dy w = dL/dxhat
    // dx = rstd (g - mean(g) - xhat mean(g xhat))
    dx = rstd * (dyw - dyw.mean(normalized, true) - xhat * (dyw * xhat).mean(normalized, true));
  }
  if (need_dw) dw = sum_over(grad * xhat, rows);  // dw = Σ_rows dy xhat
  if (need_db) db = sum_over(grad, rows);         // db = Σ_rows dy
  return {dx, dw, db};
}

// training: dx = w invstd (dy - mean_c(dy) - xhat mean_c(dy xhat)) ;  eval: dx = w invstd dy ;
// dw = sum_c(dy xhat) ,  db = sum_c(dy)
std::vector<Tensor> batch_norm_grad(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                    bool training, double eps, const Tensor& mean,
                                    const Tensor& invstd, bool need_dx, bool need_dw,
                                    bool need_db) {
  std::vector<int64_t> reduced = {0};
  Shape channel_shape(input.dim(), 1);  // [1, C, 1, ...]: a per-channel value broadcast
  channel_shape[1] = input.size(1);
  for (int64_t d = 2; d < input.dim(); ++d) reduced.push_back(d);
  Tensor centered, scale;
  if (training) {  // batch statistics, as ops of the input (they depend on it)
    centered = input - input.mean(reduced, true);
    scale = ((centered * centered).mean(reduced, true) + eps).rsqrt();
  } else {  // eval: the saved running statistics, constants
    centered = input - mean.to(input.dtype()).view(channel_shape);
    scale = invstd.to(input.dtype()).view(channel_shape);
  }
  const Tensor xhat = centered * scale;
  Tensor dx, dw, db;
  if (need_dx) {
    const Tensor w_scale = weight.defined() ? weight.view(channel_shape) * scale : scale;
    dx = training ? w_scale *
                        (grad - grad.mean(reduced, true) - xhat * (grad * xhat).mean(reduced, true))
                  : w_scale * grad;
  }
  if (need_dw) dw = (grad * xhat).sum(reduced);
  if (need_db) db = grad.sum(reduced);
  return {dx, dw, db};
}

}  // namespace minidl::detail
