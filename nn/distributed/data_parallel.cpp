// DistributedDataParallel: bucketed, hook-driven gradient averaging (see data_parallel.h).
#include "nn/distributed/data_parallel.h"

#include <utility>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/shape.h"
#include "nn/module.h"

namespace minidl::distributed {

// One flat buffer holding some parameters' gradients, reduced as one message.
struct DistributedDataParallel::Bucket {
  std::vector<size_t> params;    // indices into params_
  std::vector<int64_t> offsets;  // where each one starts in `flat` (elements)
  DType dtype = kFloat32;
  int64_t numel = 0;
  Tensor flat;              // [numel], allocated once
  std::vector<char> ready;  // per slot: its gradient is in `flat` this step
  size_t pending = 0;       // slots not ready yet
  bool started = false;
  Work work;

  // The slot of params[i] inside flat, shaped like the parameter.
  Tensor slot(size_t i, const Tensor& param) const {
    return flat.narrow(0, offsets[i], param.numel()).view(param.shape());
  }
  void reset() {
    std::fill(ready.begin(), ready.end(), 0);
    pending = params.size();
    started = false;
  }
};

DistributedDataParallel::DistributedDataParallel(nn::Module& module, DDPOptions options) {
  MINIDL_CHECK(options.bucket_cap_mb_ > 0, "DistributedDataParallel",
               "bucket_cap_mb must be positive, got " << options.bucket_cap_mb_);
  for (const Tensor& p : module.parameters())
    if (p.requires_grad()) {
      MINIDL_CHECK(p.dtype() == kFloat32 || p.dtype() == kFloat64, "DistributedDataParallel",
                   "parameter " << params_.size() << " of shape " << shape_str(p.shape()) << " is "
                                << p.dtype() << "; gradients are averaged in float32/float64");
      params_.push_back(p);
    }
  if (options.broadcast_parameters_) broadcast_parameters(module, 0);

  // Reverse registration order: the last layer's gradients come first in backward.
  const double cap_bytes = options.bucket_cap_mb_ * 1024.0 * 1024.0;
  bucket_of_.assign(params_.size(), 0);
  slot_of_.assign(params_.size(), 0);
  double bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const Tensor& p = params_[k];
    const double size =
        static_cast<double>(p.numel() * static_cast<int64_t>(element_size(p.dtype())));
    if (buckets_.empty() || buckets_.back()->dtype != p.dtype() ||
        (!buckets_.back()->params.empty() && bytes + size > cap_bytes)) {
      buckets_.push_back(std::make_unique<Bucket>());
      buckets_.back()->dtype = p.dtype();
      bytes = 0;
    }
    Bucket& b = *buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    slot_of_[k] = b.params.size();
    b.params.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
    bytes += size;
  }
  for (auto& b : buckets_) {
    b->ready.assign(b->params.size(), 0);
    b->reset();
  }
  if (world_size() == 1) return;  // nothing to average: no hooks, no buffers
  for (auto& b : buckets_) b->flat = zeros({b->numel}, b->dtype);
  for (size_t k = 0; k < params_.size(); ++k)
    hook_handles_.push_back(
        params_[k].register_hook([this, k](const Tensor& grad) { on_gradient(k, grad); }));
}

DistributedDataParallel::~DistributedDataParallel() {
  for (size_t k = 0; k < hook_handles_.size(); ++k) {
    try {
      params_[k].remove_hook(hook_handles_[k]);
    } catch (...) {  // a destructor cannot throw
    }
  }
  // The buckets' Work destructors wait for any reduction still running.
}

std::vector<std::vector<size_t>> DistributedDataParallel::bucket_assignment() const {
  std::vector<std::vector<size_t>> out;
  for (const auto& b : buckets_) out.push_back(b->params);
  return out;
}

// A parameter's gradient for this step (the hook): into its bucket's slot, with the .grad it
// already holds (the engine accumulates `grad` into .grad after the hooks).
void DistributedDataParallel::on_gradient(size_t k, const Tensor& grad) {
  if (no_sync_depth_ > 0) return;  // accumulating: the engine adds grad into .grad as usual
  Bucket& b = *buckets_[bucket_of_[k]];
  const size_t s = slot_of_[k];
  MINIDL_CHECK(!b.started, "DistributedDataParallel",
               "parameter " << k << " (shape " << shape_str(params_[k].shape())
                            << ") got a gradient after its bucket was sent; call finish() "
                               "after each backward");
  NoGradGuard no_grad;
  Tensor slot = b.slot(s, params_[k]);
  slot.copy_(grad);
  const Tensor existing = params_[k].grad();
  if (existing.defined()) slot.add_(existing);
  if (!b.ready[s]) {
    b.ready[s] = 1;
    --b.pending;
  }
  if (b.pending == 0) start_ready_buckets(false);
  for (size_t i = 0; i < next_bucket_; ++i) buckets_[i]->work.test();  // lets MPI progress
}

// Starts, in bucket order, every bucket whose gradients are all in (all of them if `force`).
void DistributedDataParallel::start_ready_buckets(bool force) {
  while (next_bucket_ < buckets_.size() && (force || buckets_[next_bucket_]->pending == 0)) {
    Bucket& b = *buckets_[next_bucket_++];
    b.work = all_reduce_sum_async(b.flat);
    b.started = true;
  }
}

void DistributedDataParallel::finish() {
  MINIDL_CHECK(no_sync_depth_ == 0, "DistributedDataParallel",
               "finish() inside no_sync(): the gradients accumulated there have not been averaged "
               "over the ranks; end the no_sync() scope before the last micro-batch's backward, "
               "then call finish()");
  const int n = world_size();
  if (n == 1) return;
  NoGradGuard no_grad;
  started_early_ = static_cast<int64_t>(next_bucket_);
  // Parameters whose hook did not run (unused on this rank): their .grad, or zeros.
  for (size_t i = next_bucket_; i < buckets_.size(); ++i) {
    Bucket& b = *buckets_[i];
    for (size_t s = 0; s < b.params.size(); ++s) {
      if (b.ready[s]) continue;
      const Tensor& p = params_[b.params[s]];
      Tensor slot = b.slot(s, p);
      const Tensor existing = p.grad();
      if (existing.defined())
        slot.copy_(existing);
      else
        slot.zero_();
    }
  }
  start_ready_buckets(true);
  for (auto& bucket : buckets_) {
    Bucket& b = *bucket;
    b.work.wait();
    b.flat.div_(static_cast<double>(n));
    for (size_t s = 0; s < b.params.size(); ++s) {
      const Tensor& p = params_[b.params[s]];
      const Tensor slot = b.slot(s, p);
      const Tensor existing = p.grad();
      if (existing.defined())
        existing.detach().copy_(slot);
      else
        p.set_grad(slot.clone());
    }
    b.reset();
  }
  next_bucket_ = 0;
}

}  // namespace minidl::distributed
