// bench_distributed's workers: the measurements that run inside an MPI world, started by the
// runner (tools/bench_distributed.cpp) as `mpirun -np K bench_distributed --worker KIND ...`.
// Rank 0 prints each result as a "RESULT {json}" line.
//
// All-reduce: float32 buffers of --min-size .. --max-size bytes (powers of 2) on 2 ranks; each
// timed call follows a barrier; an iteration's time is the mean of the ranks' times, the
// result the median over iterations. busbw = 2(N-1)/N * bytes / time (the bytes each rank
// sends and receives in a ring all-reduce, per second: comparable across N, as nccl-tests).
//
// Models: the registry's cnn-fashion-mnist and vit-fashion-mnist (built by setup_task; smoke
// data, since only the model is used -- the same model as a full setup) fed RANDOM images
// [B, 1, 28, 28] and labels in [0, 10), and gpt-fortunes' model (gpt_fortunes_config()'s
// make_model, non-smoke: the fortunes need not be installed) fed random character ids; one step
// = zero_grad, forward + cross_entropy, backward, ddp.finish(), Adam(1e-3) step. Configurations:
// 1 rank x 2 threads, 1 rank x 1 thread, 2 ranks x 1 thread; B is per rank, so 2 ranks train
// on 2B per step.
//
// Evaluation: models::evaluate_split(task, "valid") of registered models set up as for training
// (models::setup_task; full data unless --eval-smoke), as train() validates under mpirun: on 2
// ranks each evaluates its part of the split and one all-reduce adds the parts' sums (Task::
// set_shard, evaluates_by_sums), BatchNorm synchronized. Configurations: 1 rank x 2 threads and
// 2 ranks x 1 thread; the headline metric must come out the same on both.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "minidl.h"
#include "models/common/training.h"
#include "models/language/gpt_lm.h"
#include "models/registry.h"
#include "tools/bench_distributed.h"
#include "tools/bench_process.h"

using namespace minidl;
using bench::median;
using bench::peak_rss_mib;

namespace bench_distributed {

namespace {

// gpt-fortunes' window (gpt_fortunes_config().context) and the character vocabulary assumed for
// its model: 110 gives the 838k parameters docs/RESULTS.md reports (257 V + 809,728); it sizes
// only the embedding and the head (3% of the parameters).
constexpr int64_t kContext = 128, kGptVocab = 110;

// The number of iterations every rank runs: rank 0's estimate from its warm-up time per
// iteration (broadcast, so that all ranks call the same collectives), min_time / per_iteration
// clamped to [at_least, at_most].
int64_t agreed_iterations(double per_iteration, double min_time, int64_t at_least,
                          int64_t at_most) {
  Tensor t = from_vector(std::vector<double>{per_iteration}, {1}, kFloat64);
  distributed::broadcast(t, 0);
  const double estimate = t.to_vector<double>()[0];
  const double wanted = estimate > 0 ? std::ceil(min_time / estimate) : double(at_most);
  return std::clamp(static_cast<int64_t>(std::min(wanted, 1e12)), at_least, at_most);
}

// Each value replaced by its mean over the ranks.
std::vector<double> mean_over_ranks(const std::vector<double>& values) {
  Tensor t = from_vector(values, {static_cast<int64_t>(values.size())}, kFloat64);
  distributed::all_reduce_mean(t);
  return t.to_vector<double>();
}

// A result line for the runner, from rank 0 only.
void emit(const Json& j) {
  if (distributed::rank() == 0) std::cout << "RESULT " << j.dump() << std::endl;
}

// All-reduce of float32 buffers of every power-of-2 size in [min_size, max_size].
void allreduce_worker(const Options& o) {
  const int n = distributed::world_size();
  const double ring = 2.0 * (n - 1) / n;
  for (int64_t bytes = parse_size(o.min_size); bytes <= parse_size(o.max_size); bytes *= 2) {
    Tensor buffer = zeros({bytes / 4});  // zeros stay zeros however often they are summed
    auto timed_call = [&] {
      distributed::barrier();
      const auto start = std::chrono::steady_clock::now();
      distributed::all_reduce_sum(buffer);
      return seconds_since(start);
    };
    double warm = 0;
    for (int i = 0; i < 3; ++i) warm = timed_call();
    const int64_t iters = agreed_iterations(warm, o.min_time, 5, 20000);
    std::vector<double> times(iters);
    for (int64_t i = 0; i < iters; ++i) times[i] = timed_call();
    times = mean_over_ranks(times);
    const double med = median(times);
    Json j = {{"kind", "allreduce"},
              {"ranks", n},
              {"bytes", bytes},
              {"iters", iters},
              {"median_us", med * 1e6},
              {"min_us", *std::min_element(times.begin(), times.end()) * 1e6},
              {"max_us", *std::max_element(times.begin(), times.end()) * 1e6},
              {"algbw_gbs", bytes / med / 1e9},
              {"busbw_gbs", ring * bytes / med / 1e9},
              {"load", load_average()}};
    emit(j);
  }
}

// One model with its random batch: what a step computes, and how many items it trains on.
struct ModelUnderTest {
  std::unique_ptr<models::Task> task;  // cnn / vit: the registry's task owns the model
  std::shared_ptr<nn::Module> owned;   // gpt: the model alone
  nn::Module* model = nullptr;
  std::function<Tensor()> loss;  // forward + cross_entropy, recorded on the tape
  int64_t items = 0;             // per rank per step
  std::string unit, source;
};

// The model `name` with this rank's random batch (seeded by the rank).
ModelUnderTest build_model(const std::string& name, const Options& o) {
  ModelUnderTest m;
  manual_seed(1000 + static_cast<uint64_t>(distributed::rank()));  // each rank its own data
  if (name == "cnn-fashion-mnist" || name == "vit-fashion-mnist") {
    MINIDL_CHECK(o.batch > 0, "bench_distributed", "--batch must be positive, got " << o.batch);
    m.task = models::make_task(name);
    models::TaskOptions options;
    options.smoke = true;  // keeps 256 of the images it loads; the model is the full one
    models::setup_task(*m.task, options);
    m.model = &m.task->model();
    const Tensor x = randn({o.batch, 1, 28, 28});
    const Tensor y = randint(0, 10, {o.batch});
    nn::Module* model = m.model;
    m.loss = [model, x, y] { return cross_entropy(model->forward(x), y); };
    m.items = o.batch;
    m.unit = "images";
    m.source = "make_task(\"" + name + "\") + setup_task (smoke data; random inputs)";
  } else if (name == "gpt-fortunes") {
    MINIDL_CHECK(o.windows > 0, "bench_distributed",
                 "--windows must be positive, got " << o.windows);
    const models::CharLMConfig config = models::gpt_fortunes_config();
    MINIDL_CHECK(
        config.context == kContext, "bench_distributed",
        "gpt-fortunes' context is " << config.context << ", this tool assumes " << kContext);
    auto gpt = config.make_model(kGptVocab, kContext, false);
    m.owned = gpt;
    m.model = gpt.get();
    const Tensor ids = randint(0, kGptVocab, {o.windows, kContext});
    const Tensor next = randint(0, kGptVocab, {o.windows, kContext});
    m.loss = [gpt, ids, next] {
      const Tensor logits = gpt->logits(ids);  // [W, T, V]
      return cross_entropy(logits.reshape({ids.numel(), kGptVocab}), next.reshape({-1}));
    };
    m.items = o.windows * kContext;
    m.unit = "tokens";
    m.source = "gpt_fortunes_config().make_model(vocab " + std::to_string(kGptVocab) +
               ", context 128) (random ids)";
  } else {
    MINIDL_FAIL("bench_distributed", "unknown model '"
                                         << name
                                         << "': use cnn-fashion-mnist, vit-fashion-mnist or "
                                            "gpt-fortunes");
  }
  return m;
}

// Times training steps of o.model on this rank (DDP over the ranks) and emits the medians.
void model_worker(const Options& o) {
  const int n = distributed::world_size();
  ModelUnderTest m = build_model(o.model, o);
  nn::Module& model = *m.model;
  distributed::DistributedDataParallel ddp(model,
                                           distributed::DDPOptions().bucket_cap_mb(o.bucket_mb));
  optim::Adam optimizer(model.parameters(), optim::AdamOptions(1e-3));
  int64_t numel = 0;
  for (const Tensor& p : ddp.parameters()) numel += p.numel();

  // Per step: forward (+ loss), backward, finish, optimizer, whole step (seconds).
  std::vector<double> forward, backward, finish, update, whole;
  double first_loss = 0, last_loss = 0;
  auto step = [&](bool record) {
    const auto t0 = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    const Tensor loss = m.loss();
    const double t_forward = seconds_since(t0);
    loss.backward();
    const double t_backward = seconds_since(t0);
    ddp.finish();
    const double t_finish = seconds_since(t0);
    optimizer.step();
    const double t_step = seconds_since(t0);
    const double value = loss.item<double>();
    MINIDL_CHECK(std::isfinite(value), "bench_distributed",
                 o.model << ": the loss is not finite (" << value << ")");
    if (record) {
      forward.push_back(t_forward);
      backward.push_back(t_backward - t_forward);
      finish.push_back(t_finish - t_backward);
      update.push_back(t_step - t_finish);
      whole.push_back(t_step);
      if (whole.size() == 1) first_loss = value;
      last_loss = value;
    }
    return t_step;
  };
  double warm = 0;
  for (int i = 0; i < 2; ++i) warm = step(false);
  const int64_t steps = agreed_iterations(warm, o.min_time, 3, 100000);
  distributed::barrier();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step(true);
  const double wall = seconds_since(start);
  const std::vector<double> mean = mean_over_ranks(
      {median(forward), median(backward), median(finish), median(update), median(whole), wall});
  const double items = static_cast<double>(m.items) * n;
  Json j = {{"kind", "model"},
            {"model", o.model},
            {"source", m.source},
            {"ranks", n},
            {"threads", get_num_threads()},
            {"unit", m.unit},
            {"per_rank_items", m.items},
            {"items_per_step", items},
            {"steps", steps},
            {"items_per_s", items * steps / mean[5]},
            {"forward_ms", mean[0] * 1e3},
            {"backward_ms", mean[1] * 1e3},
            {"compute_ms", (mean[0] + mean[1]) * 1e3},
            {"finish_ms", mean[2] * 1e3},
            {"optimizer_ms", mean[3] * 1e3},
            {"step_ms", mean[4] * 1e3},
            {"parameters", numel},
            {"grad_bytes", numel * 4},
            {"buckets", ddp.bucket_assignment().size()},
            {"buckets_started_early", ddp.buckets_started_early()},
            {"loss_first", first_loss},
            {"loss_last", last_loss},
            {"peak_rss_mib", peak_rss_mib()},
            {"load", load_average()}};
  emit(j);
}

// Times models::evaluate_split(task, "valid") of o.model as train() validates: on N > 1 ranks the
// task evaluates its part of the split (Task::set_shard; by sums when evaluates_by_sums(), else
// the whole split on every rank) with its BatchNorm layers synchronized. One warm-up, then at
// least 3 evaluations, each after a barrier; emits the median and the headline metric. A setup
// that fails (a Debian data set not installed) is reported as "setup_error", not as an error.
void evaluation_worker(const Options& o) {
  const int n = distributed::world_size(), rank = distributed::rank();
  std::unique_ptr<models::Task> task;
  std::string setup_error;
  const auto setup_start = std::chrono::steady_clock::now();
  try {
    task = models::make_task(o.model);
    models::setup_task(*task, models::TaskOptions{"", 0, o.eval_smoke});
  } catch (const std::exception& e) {
    setup_error = e.what();
  }
  const double setup_seconds = seconds_since(setup_start);
  // Every rank learns whether any failed, so that none waits in a collective for the others;
  // each that failed says why (rank 0 may not be one of them).
  Tensor failures =
      from_vector(std::vector<double>{setup_error.empty() ? 0.0 : 1.0}, {1}, kFloat64);
  distributed::all_reduce_sum(failures);
  if (failures.item<double>() > 0) {
    if (!setup_error.empty())
      std::cout << "RESULT "
                << Json{{"kind", "evaluation"}, {"model", o.model},
                        {"ranks", n},           {"threads", get_num_threads()},
                        {"rank", rank},         {"setup_error", setup_error}}
                       .dump()
                << std::endl;
    return;
  }
  if (n > 1) {
    task->set_shard(models::Shard{rank, n});
    distributed::convert_sync_batchnorm(task->model());
  }
  models::Metrics metrics;
  auto timed_evaluation = [&] {
    distributed::barrier();
    const auto start = std::chrono::steady_clock::now();
    metrics = models::evaluate_split(*task, "valid");
    return seconds_since(start);
  };
  const double warm = timed_evaluation();
  const int64_t count = agreed_iterations(warm, o.min_time, 3, 1000);
  std::vector<double> times(count);
  for (int64_t i = 0; i < count; ++i) times[i] = timed_evaluation();
  times = mean_over_ranks(times);
  MINIDL_CHECK(!metrics.empty(), "bench_distributed",
               o.model << ": evaluate_split(task, \"valid\") returned no metrics");
  Json all = Json::object();
  for (const auto& [name, value] : metrics) all[name] = value;
  Json j = {{"kind", "evaluation"},
            {"model", o.model},
            {"smoke", o.eval_smoke},
            {"ranks", n},
            {"threads", get_num_threads()},
            {"by_sums", task->evaluates_by_sums()},
            {"evaluations", count},
            {"seconds", median(times)},
            {"min_seconds", *std::min_element(times.begin(), times.end())},
            {"max_seconds", *std::max_element(times.begin(), times.end())},
            {"metric", metrics.front().first},
            {"value", metrics.front().second},
            {"metrics", all},
            {"setup_seconds", setup_seconds},
            {"peak_rss_mib", peak_rss_mib()},
            {"load", load_average()}};
  emit(j);
}

}  // namespace

// --worker: one measurement inside an MPI world (mpirun started this process).
int worker_main(int argc, char** argv, const Options& o) {
  set_num_threads(o.threads);
  distributed::Guard mpi(argc, argv);
  try {
    if (o.worker == "allreduce")
      allreduce_worker(o);
    else if (o.worker == "model")
      model_worker(o);
    else if (o.worker == "evaluation")
      evaluation_worker(o);
    else
      MINIDL_FAIL("bench_distributed", "unknown --worker '" << o.worker << "'");
  } catch (const std::exception& e) {
    // Printed by whichever rank failed; exiting without finalize makes mpirun stop the others,
    // which may be waiting in a collective this rank will never join.
    std::cout << "RESULT " << Json{{"error", e.what()}, {"rank", distributed::rank()}}.dump()
              << std::endl;
    std::_Exit(1);
  }
  return 0;
}

}  // namespace bench_distributed
