// The classification losses (cross_entropy fused with its log-softmax, nll_loss) as kernels over
// [outer, C, inner] positions. Each backward sits below its forward, as a direct formula rather
// than a chain of ops. (The elementwise losses of ops/loss.h are in ops/elementwise_loss.cpp;
// what both share is in ops/loss_common.h.)
#include "ops/loss.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "core/strided.h"
#include "ops/class_loss_grad.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/loss_common.h"

namespace minidl {

using detail::check_floating_input;
using detail::dense;
using detail::reduce_losses;

namespace {

// The gradient reaching position p in a backward: grad[p] for Reduction::None, else the scalar
// gradient times 1 (Sum) or 1 / denominator (Mean).
template <typename T>
class Upstream {
 public:
  Upstream(const Tensor& grad, Reduction reduction, double denominator) {
    if (reduction == Reduction::None) {
      dense_ = dense(grad);
      per_position_ = dense_.data_ptr<T>();
    } else {
      double factor = reduction == Reduction::Mean ? 1.0 / denominator : 1.0;
      scalar_ = static_cast<T>(grad.item<double>() * factor);
    }
  }
  T at(int64_t p) const { return per_position_ ? per_position_[p] : scalar_; }

 private:
  Tensor dense_;
  const T* per_position_ = nullptr;
  T scalar_ = 0;
};

// ---------------------------------------------------------------- classification geometry

// input [N, C, d1, ...] seen as [outer = N, C, inner = d1 * ...] (unbatched [C]: outer = 1); a
// "position" is one (n, d1, ...) and has one target. Position p's class c is at
// (p / inner) * C * inner + p % inner + c * inner of the contiguous input.
struct ClassGeometry {
  int64_t outer = 1, classes = 1, inner = 1;
  Shape position_shape;  // the class-index target's shape: [N, d1, ...], or [] when unbatched
  int64_t positions() const { return outer * inner; }
  int64_t row_offset(int64_t p) const { return (p / inner) * classes * inner + p % inner; }
};

ClassGeometry class_geometry(const Tensor& input, const char* op) {
  MINIDL_CHECK(input.dim() >= 1, op,
               "input must be [C], [N, C] or [N, C, d1, ...], got a 0-d tensor");
  ClassGeometry g;
  const Shape& s = input.shape();
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  g.classes = s[class_dim];
  MINIDL_CHECK(g.classes > 0, op, "input of shape " << shape_str(s) << " has no classes");
  if (class_dim == 1) g.outer = s[0];
  for (int64_t d = 0; d < input.dim(); ++d) {
    if (d == class_dim) continue;
    g.position_shape.push_back(s[d]);
    if (d > class_dim) g.inner *= s[d];
  }
  return g;
}

void check_class_weight(const Tensor& weight, const Tensor& input, int64_t classes,
                        const char* op) {
  if (!weight.defined()) return;
  MINIDL_CHECK(weight.dim() == 1 && weight.numel() == classes, op,
               "weight must have one entry per class (["
                   << classes << "]), got shape " << shape_str(weight.shape()) << " for input "
                   << shape_str(input.shape()));
  MINIDL_CHECK(weight.dtype() == input.dtype(), op,
               "weight is " << weight.dtype() << " but input is " << input.dtype());
}

// An int64 target of the positions' shape, each value in [0, C) or ignore_index.
void check_class_target(const Tensor& input, const Tensor& target, const ClassGeometry& g,
                        int64_t ignore_index, const char* op) {
  MINIDL_CHECK(target.defined(), op, "target is undefined");
  MINIDL_CHECK(target.dtype() == kInt64, op,
               "expected int64 class indices of shape "
                   << shape_str(g.position_shape) << " for input " << shape_str(input.shape())
                   << ", got a " << target.dtype() << " target of shape "
                   << shape_str(target.shape()));
  MINIDL_CHECK(target.shape() == g.position_shape, op,
               "target of shape " << shape_str(target.shape()) << " does not match input "
                                  << shape_str(input.shape()) << " (expected target shape "
                                  << shape_str(g.position_shape) << ")");
  Tensor t = dense(target);
  const int64_t* pt = t.data_ptr<int64_t>();
  for (int64_t p = 0; p < t.numel(); ++p) {
    MINIDL_CHECK(pt[p] == ignore_index || (pt[p] >= 0 && pt[p] < g.classes), op,
                 "target " << pt[p] << " at position " << index_str(target.shape(), p)
                           << " is out of range [0, " << g.classes << ") (ignore_index "
                           << ignore_index << ")");
  }
}

// ---------------------------------------------------------------- cross entropy, class indices

// Positions per chunk of a parallel loop over positions: enough that a chunk covers about
// kParallelGrain logits (C per position), below which a region costs more than it saves.
inline int64_t position_grain(int64_t C) {
  return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(C, 1));
}

// log sum_c exp(row[c * inner]) over C classes, with the max subtracted first (stable).
template <typename T>
T row_logsumexp(const T* row, int64_t C, int64_t inner) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t c = 0; c < C; ++c) m = std::max(m, row[c * inner]);
  T s = 0;
  for (int64_t c = 0; c < C; ++c) s += std::exp(row[c * inner] - m);
  return m + std::log(s);
}

// Fills log_norm[p] = log sum_c exp(x[p, c]) and the per-position loss
//   loss_p = (1 - ls) w[t] (log_norm - x[p, t]) + (ls / C) sum_c w[c] (log_norm - x[p, c])
// (0 for ignored positions); returns sum_p w[t_p] over non-ignored positions.
template <typename T>
double class_index_forward(const T* x, const int64_t* target, const T* weight,
                           const ClassGeometry& g, int64_t ignore_index, double label_smoothing,
                           T* log_norm, T* loss) {
  const int64_t C = g.classes, inner = g.inner, P = g.positions();
  const T on = static_cast<T>(1 - label_smoothing), off = static_cast<T>(label_smoothing / C);
  return parallel_sum<double>(0, P, position_grain(C), [&](int64_t p0, int64_t p1) {
    double weight_sum = 0;
    for (int64_t p = p0; p < p1; ++p) {
      const T* row = x + g.row_offset(p);  // class c at row[c * inner]
      const T lse = row_logsumexp(row, C, inner);
      log_norm[p] = lse;
      const int64_t t = target[p];
      if (t == ignore_index) {
        loss[p] = 0;
        continue;
      }
      const T wt = weight ? weight[t] : T(1);
      T value = wt * (lse - row[t * inner]);
      if (label_smoothing > 0) {
        T smooth = 0;
        for (int64_t c = 0; c < C; ++c)
          smooth += (weight ? weight[c] : T(1)) * (lse - row[c * inner]);
        value = on * value + off * smooth;
      }
      loss[p] = value;
      weight_sum += wt;
    }
    return weight_sum;
  });
}

// dx[p, c] = up_p (softmax[p, c] S_p - (ls / C) w[c] - (1 - ls) w[t] [c == t]),
// S_p = (1 - ls) w[t] + (ls / C) sum_c w[c]; ignored positions get 0.
template <typename T>
void class_index_backward(const T* x, const int64_t* target, const T* weight,
                          const ClassGeometry& g, int64_t ignore_index, double label_smoothing,
                          const T* log_norm, const Upstream<T>& up, T* dx) {
  const int64_t C = g.classes, inner = g.inner, P = g.positions();
  const T on = static_cast<T>(1 - label_smoothing), off = static_cast<T>(label_smoothing / C);
  T weight_total = static_cast<T>(C);
  if (weight) {
    weight_total = 0;
    for (int64_t c = 0; c < C; ++c) weight_total += weight[c];
  }
  parallel_for(0, P, position_grain(C), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* row = x + g.row_offset(p);
      T* grad_row = dx + g.row_offset(p);
      const int64_t t = target[p];
      if (t == ignore_index) {
        for (int64_t c = 0; c < C; ++c) grad_row[c * inner] = 0;
        continue;
      }
      const T scale = up.at(p), lse = log_norm[p];
      const T wt = weight ? weight[t] : T(1);
      const T total = on * wt + off * weight_total;  // S_p = Σ_c w[c] q_pc
      for (int64_t c = 0; c < C; ++c) {
        const T wc = weight ? weight[c] : T(1);
        // softmax_c S_p - (ls/C) w[c], softmax recomputed as exp(x - lse)
        grad_row[c * inner] = scale * (std::exp(row[c * inner] - lse) * total - off * wc);
      }
      grad_row[t * inner] -= scale * on * wt;  // - (1-ls) w[t] at the target class
    }
  });
}

// ---------------------------------------------------------------- cross entropy, probabilities

// loss_p = sum_c w[c] q'[p, c] (log_norm_p - x[p, c]),  q' = (1 - ls) q + ls / C
template <typename T>
void probability_forward(const T* x, const T* target, const T* weight, const ClassGeometry& g,
                         double label_smoothing, T* log_norm, T* loss) {
  const int64_t C = g.classes, inner = g.inner, P = g.positions();
  const T on = static_cast<T>(1 - label_smoothing), off = static_cast<T>(label_smoothing / C);
  parallel_for(0, P, position_grain(C), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* row = x + g.row_offset(p);
      const T* q = target + g.row_offset(p);
      const T lse = row_logsumexp(row, C, inner);
      log_norm[p] = lse;
      T value = 0;
      for (int64_t c = 0; c < C; ++c)
        value += (weight ? weight[c] : T(1)) * (on * q[c * inner] + off) * (lse - row[c * inner]);
      loss[p] = value;
    }
  });
}

// dx[p, c] = up_p (softmax[p, c] sum_c' w[c'] q'[p, c'] - w[c] q'[p, c])
// dq[p, c] = up_p (1 - ls) w[c] (log_norm_p - x[p, c])
template <typename T>
void probability_backward(const T* x, const T* target, const T* weight, const ClassGeometry& g,
                          double label_smoothing, const T* log_norm, const Upstream<T>& up, T* dx,
                          T* dtarget) {
  const int64_t C = g.classes, inner = g.inner, P = g.positions();
  const T on = static_cast<T>(1 - label_smoothing), off = static_cast<T>(label_smoothing / C);
  parallel_for(0, P, position_grain(C), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t base = g.row_offset(p);
      const T* row = x + base;
      const T* q = target + base;
      const T scale = up.at(p), lse = log_norm[p];
      if (dx) {
        T total = 0;
        for (int64_t c = 0; c < C; ++c)
          total += (weight ? weight[c] : T(1)) * (on * q[c * inner] + off);
        for (int64_t c = 0; c < C; ++c) {
          const T wq = (weight ? weight[c] : T(1)) * (on * q[c * inner] + off);
          dx[base + c * inner] = scale * (std::exp(row[c * inner] - lse) * total - wq);
        }
      }
      if (dtarget) {
        for (int64_t c = 0; c < C; ++c)
          dtarget[base + c * inner] =
              scale * on * (weight ? weight[c] : T(1)) * (lse - row[c * inner]);
      }
    }
  });
}

Tensor cross_entropy_probabilities(const Tensor& input, const Tensor& target, const Tensor& weight,
                                   Reduction reduction, double label_smoothing,
                                   const ClassGeometry& g) {
  const char* op = "cross_entropy";
  MINIDL_CHECK(target.dtype() == input.dtype(), op,
               "probability target is " << target.dtype() << " but input is " << input.dtype());
  Tensor x = dense(input), q = dense(target), w = dense(weight);
  Tensor log_norm = empty(g.position_shape, input.dtype());
  Tensor losses = empty(g.position_shape, input.dtype());
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, {
    probability_forward<scalar_t>(x.data_ptr<scalar_t>(), q.data_ptr<scalar_t>(),
                                  w.defined() ? w.data_ptr<scalar_t>() : nullptr, g,
                                  label_smoothing, log_norm.data_ptr<scalar_t>(),
                                  losses.data_ptr<scalar_t>());
  });
  // Mean over positions (PyTorch divides by N * d1 * ..., not by the weights, here).
  const double denominator = static_cast<double>(g.positions());
  Tensor out = reduce_losses(losses, reduction, denominator);
  if (needs_grad({input, target})) {
    const bool gx = input.requires_grad(), gq = target.requires_grad();
    SavedTensor saved_x(x), saved_q(q), saved_w(w), saved_norm(log_norm), saved_input(input),
        saved_target(target);
    Shape shape = input.shape();
    // out = reduce(loss), loss_p = -Σ_c w[c] q'_pc log softmax(input_p)_c ;
    //   dinput = up_p (softmax(input_p) Σ_c w[c] q'_pc - w q'_p) ,
    //   dtarget = -up_p (1 - ls) w log softmax(input_p)   (q' = (1 - ls) target + ls / C)
    // derivation: log softmax_c = x_c - lse, d lse / d x_c = softmax_c; loss_p is linear in q'
    //   d loss_p / d x_c = softmax_c Σ_c' w[c'] q'_c' - w[c] q'_c  (= softmax - target when
    //   w = 1 and ls = 0: Σ target = 1) ;  d loss_p / d target_c = -(1 - ls) w[c] log softmax_c
    //   up_p = dout_p (none), dout (sum) or dout / (N d1 ...) (mean over positions, not weights)
    //   saved: input, target, weight and lse [positions]; softmax recomputed as exp(x - lse)
    record("CrossEntropyBackward0", out, {input, target}, [=](const Tensor& grad) {
      if (GradMode::is_enabled())  // create_graph: ops/class_loss_grad.h, recorded
        return detail::cross_entropy_probability_grad(grad, saved_input.get(), saved_target.get(),
                                                      saved_w.get(), reduction, label_smoothing,
                                                      denominator, gx, gq);
      Tensor dx = gx ? empty(shape, grad.dtype()) : Tensor();
      Tensor dq = gq ? empty(shape, grad.dtype()) : Tensor();
      const Tensor& wv = saved_w.get();
      MINIDL_DISPATCH_FLOATING(grad.dtype(), "CrossEntropyBackward0", {
        Upstream<scalar_t> up(grad, reduction, denominator);
        probability_backward<scalar_t>(
            saved_x.get().data_ptr<scalar_t>(), saved_q.get().data_ptr<scalar_t>(),
            wv.defined() ? wv.data_ptr<scalar_t>() : nullptr, g, label_smoothing,
            saved_norm.get().data_ptr<scalar_t>(), up, gx ? dx.data_ptr<scalar_t>() : nullptr,
            gq ? dq.data_ptr<scalar_t>() : nullptr);
      });
      return GradList{dx, dq};
    })->twice_differentiable = true;
  }
  return out;
}

// ---------------------------------------------------------------- nll loss

// loss_p = -w[t] x[p, t] (0 if ignored); returns sum_p w[t_p] over non-ignored positions.
template <typename T>
double nll_forward(const T* x, const int64_t* target, const T* weight, const ClassGeometry& g,
                   int64_t ignore_index, T* loss) {
  double weight_sum = 0;
  for (int64_t p = 0; p < g.positions(); ++p) {
    const int64_t t = target[p];
    if (t == ignore_index) {
      loss[p] = 0;
      continue;
    }
    const T wt = weight ? weight[t] : T(1);
    loss[p] = -wt * x[g.row_offset(p) + t * g.inner];
    weight_sum += wt;
  }
  return weight_sum;
}

}  // namespace

// ---------------------------------------------------------------- public classification losses

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     int64_t ignore_index, Reduction reduction, double label_smoothing) {
  const char* op = "cross_entropy";
  check_floating_input(input, op);
  MINIDL_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, op,
               "label_smoothing must be between 0.0 and 1.0, got " << label_smoothing);
  ClassGeometry g = class_geometry(input, op);
  check_class_weight(weight, input, g.classes, op);
  MINIDL_CHECK(target.defined(), op, "target is undefined");
  if (target.is_floating_point()) {
    MINIDL_CHECK(target.shape() == input.shape(), op,
                 "a " << target.dtype() << " target must hold class probabilities of the input's "
                      << "shape " << shape_str(input.shape()) << ", got shape "
                      << shape_str(target.shape()) << "; class indices must be int64 of shape "
                      << shape_str(g.position_shape));
    MINIDL_CHECK(ignore_index < 0, op,
                 "ignore_index (" << ignore_index
                                  << ") is not supported for probability (floating) targets");
    return cross_entropy_probabilities(input, target, weight, reduction, label_smoothing, g);
  }
  check_class_target(input, target, g, ignore_index, op);

  Tensor x = dense(input), t = dense(target), w = dense(weight);
  Tensor log_norm = empty(g.position_shape, input.dtype());
  Tensor losses = empty(g.position_shape, input.dtype());
  double weight_sum = 0;
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, {
    weight_sum = class_index_forward<scalar_t>(
        x.data_ptr<scalar_t>(), t.data_ptr<int64_t>(),
        w.defined() ? w.data_ptr<scalar_t>() : nullptr, g, ignore_index, label_smoothing,
        log_norm.data_ptr<scalar_t>(), losses.data_ptr<scalar_t>());
  });
  Tensor out = reduce_losses(losses, reduction, weight_sum);
  if (needs_grad({input})) {
    SavedTensor saved_x(x), saved_t(t), saved_w(w), saved_norm(log_norm), saved_input(input);
    Shape shape = input.shape();
    // out = reduce(loss), loss_p = Σ_c w[c] q_pc (lse_p - input_pc), q = (1-ls) onehot(t) + ls/C ;
    //   dinput = up_p (softmax(input_p) S_p - w q_p)   (target holds class indices: no gradient)
    // derivation: lse_p = log Σ_c exp(x_pc), d lse_p / d x_pc = softmax_pc
    //   d loss_p / d x_pc = softmax_pc Σ_c' w[c'] q_pc' - w[c] q_pc = softmax S_p - w[c] q_pc
    //   S_p = (1-ls) w[t_p] + (ls/C) Σ_c w[c]; with w = 1: dlogits = softmax - target_dist
    //   up_p = dout_p (none), dout (sum), dout / Σ_p w[t_p] over non-ignored p (mean: PyTorch's
    //   weighted mean); positions with t_p = ignore_index have loss 0 and gradient 0
    //   saved: input, target, weight and lse [positions]; softmax recomputed as exp(x - lse)
    //   create_graph: detail::cross_entropy_index_grad (ops/class_loss_grad.cpp)
    record("CrossEntropyBackward0", out, {input, target}, [=](const Tensor& grad) {
      if (GradMode::is_enabled())  // create_graph: ops/class_loss_grad.h, recorded
        return GradList{
            detail::cross_entropy_index_grad(grad, saved_input.get(), saved_t.get(), saved_w.get(),
                                             ignore_index, reduction, label_smoothing, weight_sum),
            Tensor()};
      Tensor dx = empty(shape, grad.dtype());
      const Tensor& wv = saved_w.get();
      MINIDL_DISPATCH_FLOATING(grad.dtype(), "CrossEntropyBackward0", {
        Upstream<scalar_t> up(grad, reduction, weight_sum);
        class_index_backward<scalar_t>(
            saved_x.get().data_ptr<scalar_t>(), saved_t.get().data_ptr<int64_t>(),
            wv.defined() ? wv.data_ptr<scalar_t>() : nullptr, g, ignore_index, label_smoothing,
            saved_norm.get().data_ptr<scalar_t>(), up, dx.data_ptr<scalar_t>());
      });
      return GradList{dx, Tensor()};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                int64_t ignore_index, Reduction reduction) {
  const char* op = "nll_loss";
  check_floating_input(input, op);
  ClassGeometry g = class_geometry(input, op);
  check_class_weight(weight, input, g.classes, op);
  check_class_target(input, target, g, ignore_index, op);
  Tensor x = dense(input), t = dense(target), w = dense(weight);
  Tensor losses = empty(g.position_shape, input.dtype());
  double weight_sum = 0;
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, {
    weight_sum = nll_forward<scalar_t>(x.data_ptr<scalar_t>(), t.data_ptr<int64_t>(),
                                       w.defined() ? w.data_ptr<scalar_t>() : nullptr, g,
                                       ignore_index, losses.data_ptr<scalar_t>());
  });
  Tensor out = reduce_losses(losses, reduction, weight_sum);
  // out = reduce(loss), loss_p = -w[t_p] input[p, t_p] (0 where t_p = ignore_index) ;
  //   dinput = -up_p w[t_p] onehot(t_p)   (target holds class indices: no gradient)
  // derivation: loss_p reads one entry of input: its gradient is that entry's coefficient; up_p
  //   as for cross entropy (mean: dout / Σ_p w[t_p] over non-ignored positions)
  if (needs_grad({input})) {
    SavedTensor saved_t(t), saved_w(w);
    Shape shape = input.shape();
    record("NllLossBackward0", out, {input, target}, [=](const Tensor& grad) {
      if (GradMode::is_enabled())  // create_graph: ops/class_loss_grad.h, recorded
        return GradList{detail::nll_loss_grad(grad, shape, saved_t.get(), saved_w.get(),
                                              ignore_index, reduction, weight_sum),
                        Tensor()};
      Tensor dx = zeros(shape, grad.dtype());
      const Tensor& wv = saved_w.get();
      const int64_t* pt = saved_t.get().data_ptr<int64_t>();
      MINIDL_DISPATCH_FLOATING(grad.dtype(), "NllLossBackward0", {
        Upstream<scalar_t> up(grad, reduction, weight_sum);
        const scalar_t* pw = wv.defined() ? wv.data_ptr<scalar_t>() : nullptr;
        scalar_t* pd = dx.data_ptr<scalar_t>();
        for (int64_t p = 0; p < g.positions(); ++p) {
          if (pt[p] == ignore_index) continue;
          pd[g.row_offset(p) + pt[p] * g.inner] = -up.at(p) * (pw ? pw[pt[p]] : scalar_t(1));
        }
      });
      return GradList{dx, Tensor()};
    })->twice_differentiable = true;
  }
  return out;
}

}  // namespace minidl
