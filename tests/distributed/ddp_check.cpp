// Run by tests/test_distributed.cpp as `mpirun -np N build/distributed/ddp_check`: trains a tiny
// MLP with DistributedDataParallel (per-rank batch B, small buckets so there are several, and a
// registered layer that never gets a gradient) and, on every rank, the same MLP alone with batch
// N B on the same data order; the loss curves (the DDP loss is the mean of the ranks' losses)
// must agree to float-summation tolerance, and so must the final weights -- also after two
// steps of gradient accumulation over 3 micro-batches, the first two under ddp.no_sync(). Rank 0
// prints one loss per line ("loss STEP VALUE", %.9g, for the determinism check) and "ddp_check:
// ok".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "minidl.h"

using namespace minidl;

namespace {

struct Mlp : nn::Module {
  // `unused` first: buckets fill in reverse registration order, so it lands in the last bucket
  // and fc2's and fc1's buckets can start while backward runs (checked below).
  Mlp() : nn::Module("Mlp") {
    unused = register_module("unused", std::make_shared<nn::Linear>(3, 3));
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(8, 16));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(16, 2));
  }
  Tensor forward(const Tensor& x) { return fc2->forward(tanh(fc1->forward(x))); }
  std::shared_ptr<nn::Linear> fc1, fc2, unused;
};

Tensor rows(const Tensor& t, const std::vector<size_t>& indices) {
  std::vector<int64_t> idx(indices.begin(), indices.end());
  return t.index_select(0,
                        from_blob(idx.data(), {static_cast<int64_t>(idx.size())}, kInt64).clone());
}

}  // namespace

int main(int argc, char** argv) {
  distributed::Guard mpi(argc, argv);
  const int n = distributed::world_size(), r = distributed::rank();
  const size_t per_rank_batch = 4, examples = 64;
  const int epochs = 2;

  manual_seed(7);
  const Tensor x = randn({static_cast<int64_t>(examples), 8});
  const Tensor y = randn({static_cast<int64_t>(examples), 2});

  manual_seed(100 + static_cast<uint64_t>(r));  // different initial weights per rank: DDP
  auto model = std::make_shared<Mlp>();         // must broadcast rank 0's
  distributed::DistributedDataParallel ddp(*model, distributed::DDPOptions().bucket_cap_mb(0.0002));
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.1));

  manual_seed(100);  // the reference starts from rank 0's weights
  auto reference = std::make_shared<Mlp>();
  optim::SGD reference_optimizer(reference->parameters(), optim::SGDOptions(0.1));

  distributed::DistributedSampler sampler(examples, static_cast<size_t>(n), static_cast<size_t>(r),
                                          true, 3);
  distributed::DistributedSampler whole(examples, 1, 0, true, 3);
  double worst = 0;
  int step = 0;
  int64_t fewest_early = 1 << 30;  // buckets started during backward, fewest in any step
  for (int epoch = 0; epoch < epochs; ++epoch) {
    sampler.set_epoch(static_cast<uint64_t>(epoch));
    whole.set_epoch(static_cast<uint64_t>(epoch));
    while (auto batch = sampler.next(per_rank_batch)) {
      auto global = whole.next(per_rank_batch * static_cast<size_t>(n));
      if (!global) break;

      optimizer.zero_grad();
      Tensor loss = nn::functional::mse_loss(model->forward(rows(x, *batch)), rows(y, *batch));
      loss.backward();
      ddp.finish();
      fewest_early = std::min(fewest_early, ddp.buckets_started_early());
      optimizer.step();
      Tensor mean_loss = loss.detach().clone();
      distributed::all_reduce_mean(mean_loss);

      reference_optimizer.zero_grad();
      Tensor ref_loss =
          nn::functional::mse_loss(reference->forward(rows(x, *global)), rows(y, *global));
      ref_loss.backward();
      reference_optimizer.step();

      const double a = mean_loss.item<double>(), b = ref_loss.item<double>();
      worst = std::max(worst, std::abs(a - b) / std::max(1e-12, std::abs(b)));
      if (r == 0) std::printf("loss %d %.9g %.9g\n", step, a, b);
      ++step;
    }
  }
  // Gradient accumulation: 3 micro-batches per step, the first two under no_sync() (nothing
  // sent: no bucket may start), against the reference accumulating the 3 whole micro-batches.
  sampler.set_epoch(static_cast<uint64_t>(epochs));
  whole.set_epoch(static_cast<uint64_t>(epochs));
  bool quiet_ok = true;
  for (int accumulated_step = 0; accumulated_step < 2; ++accumulated_step) {
    optimizer.zero_grad();
    reference_optimizer.zero_grad();
    for (int micro = 0; micro < 3; ++micro) {
      const auto batch = sampler.next(per_rank_batch);
      const auto global = whole.next(per_rank_batch * static_cast<size_t>(n));
      auto backward = [&] {
        nn::functional::mse_loss(model->forward(rows(x, *batch)), rows(y, *batch)).backward();
      };
      if (micro < 2) {
        auto quiet = ddp.no_sync();
        backward();
      } else {
        backward();
      }
      nn::functional::mse_loss(reference->forward(rows(x, *global)), rows(y, *global)).backward();
    }
    ddp.finish();
    // All but the bucket held back by `unused` started during the last backward only.
    quiet_ok = quiet_ok && (n == 1 || ddp.buckets_started_early() ==
                                          static_cast<int64_t>(ddp.bucket_assignment().size()) - 1);
    optimizer.step();
    reference_optimizer.step();
  }
  double weight_diff = 0;
  const auto mine = model->parameters(), ref = reference->parameters();
  for (size_t i = 0; i < mine.size(); ++i)
    weight_diff = std::max(weight_diff, (mine[i] - ref[i]).abs().max().item<double>());
  const Tensor unused_grad = model->unused->weight.grad();
  // (a world of one installs no hooks: the unused layer's grad stays undefined, as without DDP)
  const bool unused_ok =
      n == 1 ? !unused_grad.defined()
             : unused_grad.defined() && unused_grad.abs().max().item<double>() == 0.0;
  // Overlap: every bucket but the last (held back by `unused`) starts before finish().
  const int64_t buckets = static_cast<int64_t>(ddp.bucket_assignment().size());
  const bool overlap_ok = n == 1 || fewest_early == buckets - 1;
  const bool ok =
      worst < 1e-5 && weight_diff < 1e-5 && unused_ok && overlap_ok && quiet_ok && step > 0;
  if (!ok || r == 0)
    std::printf(
        "rank %d of %d: %d steps, %zu buckets, worst relative loss difference %.3g, "
        "largest weight difference %.3g (after 2 steps of 3 accumulated micro-batches, %s), "
        "unused layer's grad %s, %lld buckets started during backward: %s\n",
        r, n, step, ddp.bucket_assignment().size(), worst, weight_diff,
        quiet_ok ? "no_sync quiet" : "no_sync SENT", unused_ok ? "as expected" : "WRONG",
        static_cast<long long>(fewest_early), ok ? "ok" : "MISMATCH");
  if (ok && r == 0) std::printf("ddp_check: ok\n");
  return ok ? 0 : 1;
}
