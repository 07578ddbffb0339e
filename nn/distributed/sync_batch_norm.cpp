// Synchronized batch normalization (nn/distributed/sync_batch_norm.h): the differentiable sum over
// the ranks, and batch_norm's training-mode math written with it in recorded ops.
#include "nn/distributed/sync_batch_norm.h"

#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "nn/distributed/distributed.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"
#include "ops/shape_ops.h"

namespace minidl::distributed {

Tensor sum_over_ranks(const Tensor& x) {
  MINIDL_CHECK(x.defined() && (x.dtype() == kFloat32 || x.dtype() == kFloat64), "sum_over_ranks",
               "expected a float32 or float64 tensor, got "
                   << (x.defined() ? dtype_name(x.dtype()) : std::string("an undefined one")));
  Tensor out = x.detach().contiguous().clone();
  all_reduce_sum(out);
  if (needs_grad({x})) {
    // out = sum_r x_r (on every rank) ;  dx = sum_s dout_s
    // derivation: d out / d x_r = I, and every rank's loss reaches x_r through its own copy of
    //   out, so the gradient reaching x_r is the sum over the ranks of their dout: the same
    //   collective, on the gradient. create_graph: recorded again, as sum_over_ranks(grad).
    record("SumOverRanksBackward0", out, {x}, [](const Tensor& grad) {
      if (GradMode::is_enabled()) return GradList{sum_over_ranks(grad)};
      Tensor summed = grad.contiguous().clone();
      all_reduce_sum(summed);
      return GradList{summed};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor sync_batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias, double momentum, double eps) {
  const char* op = "sync_batch_norm";
  MINIDL_CHECK(input.defined() && input.dim() >= 2, op,
               "expected input [N, C, *] with at least 2 dims, got "
                   << (input.defined() ? shape_str(input.shape()) : std::string("undefined")));
  MINIDL_CHECK(input.dtype() == kFloat32 || input.dtype() == kFloat64, op,
               "expected float32 or float64 input, got " << dtype_name(input.dtype()));
  const int64_t C = input.size(1);
  for (const Tensor* t : {&running_mean, &running_var, &weight, &bias})
    MINIDL_CHECK(!t->defined() || t->shape() == Shape{C}, op,
                 "input " << shape_str(input.shape()) << " has " << C
                          << " channels, but a statistic or affine tensor has shape "
                          << shape_str(t->shape()));
  // The per-channel sums of x and x^2 over this rank's part (dims 0, 2, 3, ...), in double so
  // that var = E[x^2] - mean^2 keeps its digits, with this part's count appended: one message.
  std::vector<int64_t> dims = {0};
  for (int64_t d = 2; d < input.dim(); ++d) dims.push_back(d);
  const Tensor x = input.to(kFloat64);
  const double local_count = static_cast<double>(input.numel() / C);
  const Tensor sums =
      sum_over_ranks(cat({x.sum(dims), (x * x).sum(dims), full({1}, local_count, kFloat64)}));
  const double count = sums.index({2 * C}).item<double>();
  MINIDL_CHECK(count > 1, op,
               "expected more than 1 value per channel when training, got input "
                   << shape_str(input.shape()) << " (" << count << " values over all ranks)");
  const Tensor mean = sums.narrow(0, 0, C) / count;               // [C]
  const Tensor var = sums.narrow(0, C, C) / count - mean * mean;  // [C], biased
  const Tensor invstd = (var + eps).rsqrt();                      // [C]
  if (running_mean.defined() || running_var.defined()) {
    // As batch_norm: running = (1 - momentum) running + momentum batch, unbiased variance.
    // (Handles share storage: updating a copy of running_mean updates the caller's.)
    NoGradGuard no_grad;
    if (Tensor rm = running_mean; rm.defined())
      rm.mul_(1 - momentum).add_(mean.detach().to(rm.dtype()) * momentum);
    if (Tensor rv = running_var; rv.defined())
      rv.mul_(1 - momentum).add_(var.detach().to(rv.dtype()) * (momentum * count / (count - 1)));
  }
  // [C] viewed as [1, C, 1, ...] against the input.
  Shape channel_shape(static_cast<size_t>(input.dim()), 1);
  channel_shape[1] = C;
  auto per_channel = [&](const Tensor& t) { return t.to(input.dtype()).reshape(channel_shape); };
  Tensor out = (input - per_channel(mean)) * per_channel(invstd);
  if (weight.defined()) out = out * per_channel(weight);
  if (bias.defined()) out = out + per_channel(bias);
  return out;
}

SyncBatchNorm::SyncBatchNorm(int64_t num_features, double eps, std::optional<double> momentum,
                             bool affine, bool track_running_stats)
    : BatchNormBase("SyncBatchNorm", num_features, eps, momentum, affine, track_running_stats) {
  synchronize_statistics = true;
}

void SyncBatchNorm::check_input_dim(const Tensor& input) const {
  MINIDL_CHECK(input.dim() >= 2, type_name(),
               "expected at least 2D input (got " << input.dim() << "D input of shape "
                                                  << shape_str(input.shape()) << ")");
}

int64_t convert_sync_batchnorm(nn::Module& module) {
  int64_t converted = 0;
  module.apply([&](nn::Module& m) {
    if (auto* norm = dynamic_cast<nn::BatchNormBase*>(&m)) {
      norm->synchronize_statistics = true;
      ++converted;
    }
  });
  return converted;
}

}  // namespace minidl::distributed
