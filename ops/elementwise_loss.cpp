// The elementwise losses of ops/loss.h -- mse_loss, l1_loss, binary_cross_entropy_with_logits --
// as one strided map each way (forward, and each input's gradient below it).
#include <array>
#include <cmath>

#include <functional>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/strided.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/loss_common.h"

namespace minidl {

using detail::check_broadcast_weight;
using detail::check_same_shape;
using detail::reduce_losses;
using detail::scaled_upstream;

namespace {

// out[i] = f({operands[0][i], ...}) with every operand broadcast to `shape` (out is fresh and
// contiguous). One strided walk for every elementwise loss and its gradients.
template <typename T, size_t N, typename F>
Tensor map_operands(const Shape& shape, const std::array<Tensor, N>& operands, F f) {
  Tensor out = empty(shape, dtype_of<T>::value);
  std::array<Shape, N + 1> strides;
  std::array<const Shape*, N + 1> stride_ptrs;
  std::array<const T*, N> data;
  strides[0] = out.strides();
  for (size_t k = 0; k < N; ++k) {
    strides[k + 1] = broadcast_strides(operands[k].shape(), operands[k].strides(), shape);
    data[k] = operands[k].template data_ptr<T>();
  }
  for (size_t k = 0; k <= N; ++k) stride_ptrs[k] = &strides[k];
  T* po = out.data_ptr<T>();
  StridedIter<N + 1> iter(shape, stride_ptrs);
  iter.run(
      [&](const std::array<int64_t, N + 1>& off, int64_t n, const std::array<int64_t, N + 1>& st) {
        for (int64_t e = 0; e < n; ++e) {
          std::array<T, N> v;
          for (size_t k = 0; k < N; ++k) v[k] = data[k][off[k + 1] + e * st[k + 1]];
          po[off[0] + e * st[0]] = f(v);
        }
      });
  return out;
}

// Shared by mse_loss and l1_loss: value(d) and slope(d) of a loss of d = input - target.
// recorded_slope, if given, is slope in recorded ops: the backward of a create_graph backward
// uses it, and the op is then twice differentiable.
template <typename Value, typename Slope>
Tensor difference_loss(const Tensor& input, const Tensor& target, Reduction reduction,
                       const char* op, const char* backward_name, Value value, Slope slope,
                       std::function<Tensor(const Tensor&)> recorded_slope = nullptr) {
  check_same_shape(input, target, op);
  const Shape shape = input.shape();
  Tensor losses;
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, {
    losses = map_operands<scalar_t, 2>(shape, {input, target}, [value](const auto& v) {
      return static_cast<scalar_t>(value(v[0] - v[1]));
    });
  });
  Tensor out = reduce_losses(losses, reduction, static_cast<double>(input.numel()));
  if (needs_grad({input, target})) {
    const bool gx = input.requires_grad(), gt = target.requires_grad();
    SavedTensor saved_x(input), saved_t(target);
    const int64_t numel = input.numel();
    Node* node = record(backward_name, out, {input, target}, [=](const Tensor& grad) {
      Tensor up = scaled_upstream(grad, reduction, numel), dx, dt;
      if (recorded_slope && GradMode::is_enabled()) {
        dx = recorded_slope(saved_x.get() - saved_t.get()) * up;
        return GradList{gx ? dx : Tensor(), gt ? -dx : Tensor()};
      }
      MINIDL_DISPATCH_FLOATING(grad.dtype(), backward_name, {
        dx = map_operands<scalar_t, 3>(
            shape, {saved_x.get(), saved_t.get(), up},
            [slope](const auto& v) { return static_cast<scalar_t>(slope(v[0] - v[1]) * v[2]); });
      });
      if (gt) dt = -dx;
      return GradList{gx ? dx : Tensor(), dt};
    });
    node->twice_differentiable = recorded_slope != nullptr;
  }
  return out;
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  // out = reduce((input - target)²) ;  dinput = 2 (input - target) up ,  dtarget = -dinput
  //   (up = dout for none / sum, dout / numel for mean)
  return difference_loss(
      input, target, reduction, "mse_loss", "MseLossBackward0", [](auto d) { return d * d; },
      [](auto d) { return 2 * d; }, [](const Tensor& d) { return d * 2.0; });
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  // out = reduce(|input - target|) ;  dinput = sign(input - target) up ,  dtarget = -dinput
  //   (sign(0) = 0, as PyTorch; up = dout for none / sum, dout / numel for mean)
  return difference_loss(
      input, target, reduction, "l1_loss", "L1LossBackward0", [](auto d) { return d < 0 ? -d : d; },
      [](auto d) { return static_cast<decltype(d)>((d > 0) - (d < 0)); },
      [](const Tensor& d) {  // sign(d), a constant
        return gt(d, 0.0).to(d.dtype()) - lt(d, 0.0).to(d.dtype());
      });
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, const Tensor& pos_weight,
                                        Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  check_same_shape(input, target, op);
  const Shape shape = input.shape();
  check_broadcast_weight(weight, "weight", input, op);
  check_broadcast_weight(pos_weight, "pos_weight", input, op);
  // Absent weights are a broadcast 1 (pos_weight 1 gives the plain formula).
  Tensor w = weight.defined() ? weight : ones({}, input.dtype());
  Tensor pw = pos_weight.defined() ? pos_weight : ones({}, input.dtype());

  // loss = w ((1 - t) x + (1 + (pw - 1) t) softplus(-x)),  softplus(-x) = log1p(e^-|x|) + max(-x,
  // 0)
  Tensor losses;
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, {
    losses = map_operands<scalar_t, 4>(shape, {input, target, w, pw}, [](const auto& v) {
      const scalar_t x = v[0], t = v[1];
      const scalar_t softplus_neg = std::log1p(std::exp(-std::abs(x))) + std::max(-x, scalar_t(0));
      return v[2] * ((1 - t) * x + (1 + (v[3] - 1) * t) * softplus_neg);
    });
  });
  Tensor out = reduce_losses(losses, reduction, static_cast<double>(input.numel()));
  // out = reduce(w ((1 - target) input + (1 + (pw - 1) target) softplus(-input))) ;
  //   dinput = up w ((1 + (pw - 1) target) sigmoid(input) - pw target) ,
  //   dtarget = up w ((pw - 1) softplus(-input) - input)   (pw = pos_weight)
  // derivation: -log sigmoid(x) = softplus(-x), -log(1 - sigmoid(x)) = x + softplus(-x), so
  //   w (-pw t log σ(x) - (1 - t) log(1 - σ(x))) = the loss above; d softplus(-x)/dx = σ(x) - 1
  //   dx = w ((1 - t) + (1 + (pw - 1) t)(σ - 1)) = w ((1 + (pw - 1) t) σ - pw t)
  //   no log of a probability is taken: stable for any logit (the fused form's point)
  if (needs_grad({input, target})) {
    const bool gx = input.requires_grad(), gt = target.requires_grad();
    SavedTensor saved_x(input), saved_t(target), saved_w(w), saved_pw(pw);
    const int64_t numel = input.numel();
    record("BinaryCrossEntropyWithLogitsBackward0", out, {input, target}, [=](const Tensor& grad) {
      Tensor up = scaled_upstream(grad, reduction, numel), dx, dt;
      if (GradMode::is_enabled()) {  // create_graph: the same formulas in recorded ops
        const Tensor x = saved_x.get(), t = saved_t.get(), pw_t = saved_pw.get();
        const Tensor up_w = up * saved_w.get();
        if (gx) dx = up_w * ((pw_t - 1.0) * t + 1.0) * sigmoid(x) - up_w * pw_t * t;
        if (gt) dt = up_w * ((pw_t - 1.0) * softplus(-x) - x);
        return GradList{dx, dt};
      }
      std::array<Tensor, 5> operands{saved_x.get(), saved_t.get(), saved_w.get(), saved_pw.get(),
                                     up};
      MINIDL_DISPATCH_FLOATING(grad.dtype(), "BinaryCrossEntropyWithLogitsBackward0", {
        if (gx) {
          dx = map_operands<scalar_t, 5>(shape, operands, [](const auto& v) {
            const scalar_t x = v[0], t = v[1];
            const scalar_t sig = x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
            return v[4] * v[2] * ((1 + (v[3] - 1) * t) * sig - v[3] * t);
          });
        }
        if (gt) {
          dt = map_operands<scalar_t, 5>(shape, operands, [](const auto& v) {
            const scalar_t x = v[0];
            const scalar_t softplus_neg =
                std::log1p(std::exp(-std::abs(x))) + std::max(-x, scalar_t(0));
            return v[4] * v[2] * ((v[3] - 1) * softplus_neg - x);
          });
        }
      });
      return GradList{dx, dt};
    })->twice_differentiable = true;
  }
  return out;
}

}  // namespace minidl
