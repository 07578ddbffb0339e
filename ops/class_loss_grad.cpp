// Composed (recorded, differentiable) backward of cross_entropy and nll_loss; see
// ops/class_loss_grad.h for the formulas.
#include "ops/class_loss_grad.h"

#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/softmax.h"

namespace minidl::detail {

namespace {

int64_t class_dim(const Shape& input_shape) {
  return input_shape.size() == 1 ? 0 : 1;
}

// The upstream gradient broadcastable against the input: per-position values with a unit class
// dim (None), or the scalar divided by the Mean's denominator (Mean) or as it is (Sum).
Tensor upstream(const Tensor& grad, const Shape& input_shape, Reduction reduction,
                double denominator) {
  if (reduction == Reduction::None) return grad.unsqueeze(class_dim(input_shape));
  return reduction == Reduction::Mean ? grad * (1.0 / denominator) : grad;
}

// A[p, c] = on_target w[t_p] [c == t_p] + spread w[c] at every position p whose target is not
// ignore_index (0 elsewhere): a constant of the input's shape, built without recording.
Tensor target_weights(const Shape& input_shape, DType dtype, const Tensor& target,
                      const Tensor& weight, int64_t ignore_index, double on_target, double spread) {
  NoGradGuard no_grad;
  const int64_t cd = class_dim(input_shape);
  const int64_t classes = input_shape[cd];
  int64_t inner = 1;
  for (size_t d = cd + 1; d < input_shape.size(); ++d) inner *= input_shape[d];
  const Tensor t = dense(target);
  const Tensor w = weight.defined() ? dense(weight.to(kFloat64)) : Tensor();
  const int64_t* pt = t.data_ptr<int64_t>();
  const double* pw = w.defined() ? w.data_ptr<double>() : nullptr;
  std::vector<double> a(static_cast<size_t>(t.numel() * classes), 0.0);
  for (int64_t p = 0; p < t.numel(); ++p) {
    if (pt[p] == ignore_index) continue;
    const int64_t row = (p / inner) * classes * inner + p % inner;  // class c at row + c * inner
    if (spread != 0.0)
      for (int64_t c = 0; c < classes; ++c) a[row + c * inner] = spread * (pw ? pw[c] : 1.0);
    a[row + pt[p] * inner] += on_target * (pw ? pw[pt[p]] : 1.0);
  }
  return from_vector(a, input_shape, kFloat64).to(dtype);
}

}  // namespace

Tensor cross_entropy_index_grad(const Tensor& grad, const Tensor& input, const Tensor& target,
                                const Tensor& weight, int64_t ignore_index, Reduction reduction,
                                double label_smoothing, double denominator) {
  const Shape& shape = input.shape();
  const int64_t cd = class_dim(shape);
  const Tensor a =
      target_weights(shape, input.dtype(), target, weight, ignore_index, 1.0 - label_smoothing,
                     label_smoothing / static_cast<double>(shape[cd]));
  // dx = up (softmax(x) S - a), S = Σ_c a = Σ_c w[c] q_c: CrossEntropyBackward0's formula
  // (ops/loss.cpp) as recorded ops, so that it can be differentiated again
  return upstream(grad, shape, reduction, denominator) *
         (softmax(input, cd) * a.sum({cd}, true) - a);
}

std::vector<Tensor> cross_entropy_probability_grad(const Tensor& grad, const Tensor& input,
                                                   const Tensor& target, const Tensor& weight,
                                                   Reduction reduction, double label_smoothing,
                                                   double denominator, bool need_dx, bool need_dq) {
  const Shape& shape = input.shape();
  const int64_t cd = class_dim(shape);
  // w broadcast along the class dim: [C, 1, ...] for the trailing dims
  Shape w_shape(shape.size() - cd, 1);
  w_shape[0] = shape[cd];
  const Tensor w = weight.defined() ? weight.reshape(w_shape) : Tensor();
  const Tensor up = upstream(grad, shape, reduction, denominator);
  Tensor dx, dq;
  if (need_dx) {
    Tensor smoothed =
        target * (1.0 - label_smoothing) + label_smoothing / static_cast<double>(shape[cd]);
    Tensor b = w.defined() ? smoothed * w : smoothed;  // b = w q'
    // dx = up (softmax(x) Σ_c b - b)
    dx = up * (softmax(input, cd) * b.sum({cd}, true) - b);
  }
  if (need_dq) {
    Tensor log_p = log_softmax(input, cd);
    // dq = -up (1 - ls) w log softmax(x)  (q' = (1 - ls) q + ls / C is linear in q)
    dq = up * (w.defined() ? log_p * w : log_p) * (label_smoothing - 1.0);
  }
  return {dx, dq};
}

Tensor nll_loss_grad(const Tensor& grad, const Shape& input_shape, const Tensor& target,
                     const Tensor& weight, int64_t ignore_index, Reduction reduction,
                     double denominator) {
  const Tensor a =
      target_weights(input_shape, grad.dtype(), target, weight, ignore_index, 1.0, 0.0);
  return -(upstream(grad, input_shape, reduction, denominator) * a);  // dx = -up w[t] onehot(t)
}

}  // namespace minidl::detail
