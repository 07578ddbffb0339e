// Batch normalization over the whole batch of a data-parallel step (torch.nn.SyncBatchNorm).
//
// Under DistributedDataParallel each rank runs the model on its part of the batch, so a plain
// BatchNorm normalizes by its part's statistics: the ranks' replicas then compute something
// else than one process on the whole batch (other normalized values, other gradients), and
// their running statistics drift apart. A synchronized BatchNorm adds the ranks' per-channel
// sums in one all-reduce, so every rank normalizes by the whole batch's mean and variance,
// updates the same running statistics, and back-propagates the whole batch's gradient: N ranks
// compute exactly what one process computes on the batch.
//
//   distributed::convert_sync_batchnorm(*model);  // every BatchNorm1d / 2d in the model
//   distributed::DistributedDataParallel ddp(*model);
//
// models::train() converts the task's model itself when it runs on more than one process. On one
// process (or in eval mode, where the running statistics normalize) a synchronized BatchNorm is
// the plain one.
//
// Order of the collectives: the backward of a synchronized BatchNorm all-reduces during backward,
// between DistributedDataParallel's bucket all-reduces, and MPI matches collectives by their
// order on each rank. So every rank's backward must start its buckets at the same points, which
// it does when the ranks' models use the same parameters in a step (as the tutorial models do).
// A parameter that only some ranks use in a step (control flow that depends on the data) holds
// its bucket back on the others and the collectives no longer line up: MPI may then fail, wait
// until the distributed timeout (distributed.h), or pair messages that do not belong together.
// Such a model should keep plain BatchNorm, or use every parameter on every rank.
#pragma once

#include <cstdint>
#include <optional>

#include "core/tensor.h"
#include "nn/normalization.h"

namespace minidl::distributed {

// The elementwise sum over the ranks of x, as a new tensor recorded on the tape
// (torch.distributed.nn.functional.all_reduce). x: contiguous or not, float32 or float64, the same
// shape and dtype on every rank; every rank must call it (a collective). On one process: a copy.
//   out = sum_r x_r on every rank ;  dx_r = sum_s dout_s
// The backward is itself a sum over the ranks: every rank's loss depends on x_r through its own
// out, so the gradient reaching x_r is the sum of every rank's gradient of out. (It runs during
// backward, so every rank's backward must reach it -- as it does when the ranks run one model.)
Tensor sum_over_ranks(const Tensor& x);

// batch_norm in training mode (ops/norm.h) with the statistics of the whole batch, every rank's
// part of it: input [N_r, C, *] on rank r, running_mean / running_var ([C], optional) updated in
// place with the whole batch's mean and unbiased variance, weight / bias ([C], optional).
// momentum is the averaging factor (as batch_norm's). Every rank must call it (a collective).
//   mean_c = sum_r sum_{n,*} x / M ,  var_c = sum_r sum_{n,*} x^2 / M - mean_c^2  (M: all ranks)
//   y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c
// The gradient flows through sum_over_ranks, so every rank's dx holds the whole batch's terms.
Tensor sync_batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias, double momentum, double eps);

// A BatchNorm over any [N, C, *] input whose statistics are synchronized across the ranks while
// training (torch.nn.SyncBatchNorm): BatchNormBase with synchronize_statistics on.
class SyncBatchNorm : public nn::BatchNormBase {
 public:
  explicit SyncBatchNorm(int64_t num_features, double eps = 1e-5,
                         std::optional<double> momentum = 0.1, bool affine = true,
                         bool track_running_stats = true);

 protected:
  void check_input_dim(const Tensor& input) const override;
};

// Turns on synchronize_statistics in every BatchNorm (BatchNormBase) of module, itself included
// (torch.nn.SyncBatchNorm.convert_sync_batchnorm, in place: the layers keep their parameters and
// buffers); returns how many it converted.
int64_t convert_sync_batchnorm(nn::Module& module);

}  // namespace minidl::distributed
