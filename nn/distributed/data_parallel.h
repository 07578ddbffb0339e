// DistributedDataParallel: every rank trains a replica of the same model on its own share of
// each batch; after backward the gradients are averaged over the ranks, so every replica takes
// the same optimizer step (torch.nn.parallel.DistributedDataParallel, MPI backend).
//
//   distributed::Guard mpi(argc, argv);
//   auto model = make_model();
//   distributed::DistributedDataParallel ddp(*model);   // broadcasts rank 0's weights first
//   for (...) {
//     optimizer.zero_grad();
//     loss_fn(model->forward(x_of_this_rank), y_of_this_rank).backward();
//     ddp.finish();          // .grad := mean over ranks of each rank's .grad
//     optimizer.step();
//   }
//
// Buckets: the parameters (those requiring grad) are packed, in REVERSE registration order --
// roughly the order backward produces their gradients -- into buckets of at most bucket_cap_mb
// megabytes (a parameter larger than that gets a bucket of its own; a bucket holds one dtype).
// Each bucket travels as one flat all-reduce, so many small gradients cost one message latency.
//
// Overlap: a gradient hook on each parameter copies its gradient into the bucket (plus the .grad
// it already holds, so gradient accumulation averages what PyTorch's DDP averages); when a
// bucket is full it starts a non-blocking all-reduce (MPI_Iallreduce), in bucket order on every
// rank (MPI needs every rank to start collectives in the same order), and each hook polls the
// running ones so Open MPI moves them along. finish() starts what is left, waits, and writes
// sum / world_size into every parameter's .grad. The autograd engine runs a leaf's hooks as
// soon as the last tape entry with an edge into it has run (core/autograd.cpp), so a bucket
// whose parameters are all done -- the last layers' first -- is on the wire while backward
// computes the earlier layers' gradients.
//
// Unused parameters: a parameter whose hook did not run in this step (its output did not reach
// the loss, on this rank) contributes its current .grad, or zeros, at finish(); no rank waits
// for a gradient that will never come. So every parameter leaves finish() with a defined .grad,
// the same on every rank (zeros for one no rank used) -- unlike PyTorch, which leaves a globally
// unused parameter's grad None at the cost of an extra all-reduce of a usage bitmap each step.
// With optimizers that move a parameter on a zero gradient (momentum, weight decay) this
// differs; the replicas stay identical either way.
//
// On a world of one (no MPI, or mpirun -np 1) no hook is installed and finish() does nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "nn/distributed/distributed.h"

namespace minidl::nn {
class Module;
}

namespace minidl::distributed {

// DistributedDataParallel's settings, builder-style: DDPOptions().bucket_cap_mb(4).
struct DDPOptions {
  // The most megabytes (2^20 bytes) of gradients one bucket holds (PyTorch's default: 25).
  DDPOptions& bucket_cap_mb(double mb) {
    bucket_cap_mb_ = mb;
    return *this;
  }
  // Whether the constructor copies rank 0's parameters and buffers into every replica.
  DDPOptions& broadcast_parameters(bool on) {
    broadcast_parameters_ = on;
    return *this;
  }
  double bucket_cap_mb_ = 25.0;
  bool broadcast_parameters_ = true;
};

// Averages a module's gradients over the ranks in buckets, overlapped with backward.
class DistributedDataParallel {
 public:
  // Installs the hooks on module's parameters (the module must outlive this object and keep its
  // parameters: build it after the model is complete). A collective: every rank constructs it.
  explicit DistributedDataParallel(nn::Module& module, DDPOptions options = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  // After backward, before the optimizer step: starts the buckets not yet started (unused
  // parameters contribute their .grad or zeros), waits for all, and sets each parameter's
  // .grad to the mean over ranks. A bucket holding a parameter that got no gradient in this
  // backward starts only here, and, as buckets start in order, so do the ones after it.
  void finish();

  // Gradient accumulation without communication (torch's DistributedDataParallel.no_sync()):
  //
  //   {
  //     auto quiet = ddp.no_sync();
  //     loss_fn(model->forward(micro_batch_1), ...).backward();  // .grad: this rank's sum
  //     loss_fn(model->forward(micro_batch_2), ...).backward();
  //   }
  //   loss_fn(model->forward(micro_batch_3), ...).backward();    // buckets: all three
  //   ddp.finish();                                               // averaged over the ranks
  //   optimizer.step();
  //
  // While the returned guard lives, backward leaves the gradients in .grad, summed on each rank
  // as without DDP, and nothing is sent. The first backward after it copies each gradient plus
  // the .grad accumulated so far into the buckets, so finish() averages the whole accumulation:
  // one all-reduce per optimizer step instead of one per micro-batch. finish() while a guard
  // lives is an error (the gradients have not been averaged). Guards may nest.
  class NoSync {
   public:
    explicit NoSync(DistributedDataParallel& ddp) : ddp_(&ddp) { ++ddp_->no_sync_depth_; }
    ~NoSync() {
      if (ddp_) --ddp_->no_sync_depth_;
    }
    NoSync(NoSync&& other) noexcept : ddp_(other.ddp_) { other.ddp_ = nullptr; }
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;
    NoSync& operator=(NoSync&&) = delete;

   private:
    DistributedDataParallel* ddp_;
  };
  // A guard under which backward accumulates without communicating (see NoSync above).
  NoSync no_sync() { return NoSync(*this); }
  // Whether a no_sync() guard is alive.
  bool syncing() const { return no_sync_depth_ == 0; }

  // The buckets, each a list of indices into parameters() (for tests and tuning).
  std::vector<std::vector<size_t>> bucket_assignment() const;
  // The parameters this object averages, in registration order.
  const std::vector<Tensor>& parameters() const { return params_; }
  // How many buckets were started before finish() in the last step (overlap diagnostics).
  int64_t buckets_started_early() const { return started_early_; }

 private:
  struct Bucket;
  void on_gradient(size_t param, const Tensor& grad);
  void start_ready_buckets(bool force);

  std::vector<Tensor> params_;
  std::vector<uint64_t> hook_handles_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
  std::vector<size_t> bucket_of_, slot_of_;  // per parameter: its bucket and place in it
  size_t next_bucket_ = 0;                   // buckets start in this order on every rank
  int64_t started_early_ = 0;
  int no_sync_depth_ = 0;  // live NoSync guards
};

}  // namespace minidl::distributed
