// bench_distributed: what data-parallel training costs and gains on this machine, and what it
// would on a cluster (issue 15; docs/distributed.md shows and explains the numbers).
//
//   bench_distributed                       all-reduce sizes, the models, the scaling model
//   bench_distributed --only allreduce      the all-reduce sizes and the alpha/beta fit
//   bench_distributed --only models --json  one JSON object per line instead of the tables
//   bench_distributed --worker allreduce    (internal, under mpirun) one measurement
//
// The runner (started WITHOUT mpirun) re-executes itself for every measurement as
//   mpirun -np K --oversubscribe --allow-run-as-root --bind-to none
//          --mca btl_vader_single_copy_mechanism none -x OMP_NUM_THREADS
//          bench_distributed --worker allreduce|model ...
// and reads the "RESULT {json}" lines rank 0 prints. A build without MPI (no `make MPI=1`)
// says so and exits with code 2.
//
// All-reduce: float32 buffers of --min-size .. --max-size bytes (powers of 2) on 2 ranks; each
// timed call follows a barrier; an iteration's time is the mean of the ranks' times, the
// result the median over iterations. busbw = 2(N-1)/N * bytes / time (the bytes each rank
// sends and receives in a ring all-reduce, per second: comparable across N, as nccl-tests).
// The fit: t = alpha + 2(N-1)/N * bytes * beta by least squares on the RELATIVE error (weights
// 1/t^2), so the microsecond sizes fix alpha as much as the 64 MiB ones fix beta.
//
// Models: the registry's cnn-fashion-mnist and vit-fashion-mnist (built by setup_task; smoke
// data, since only the model is used -- the same model as a full setup) fed RANDOM images
// [B, 1, 28, 28] and labels in [0, 10), and gpt-fortunes' model (gpt_fortunes_config()'s
// make_model, non-smoke: the fortunes need not be installed) fed random character ids; one step
// = zero_grad, forward + cross_entropy, backward, ddp.finish(), Adam(1e-3) step. Configurations:
// 1 rank x 2 threads, 1 rank x 1 thread, 2 ranks x 1 thread; B is per rank, so 2 ranks train
// on 2B per step.
//
// Scaling model: see predict() and docs/distributed.md.
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "minidl.h"
#include "models/common/training.h"
#include "models/language/gpt_lm.h"
#include "models/registry.h"
#include "tools/bench_process.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace minidl;
using bench::machine_busy_seconds;
using bench::median;
using bench::peak_rss_mib;
using bench::wait_quiet;

namespace {

// ---------------------------------------------------------------- options

struct Options {
  double min_time = 1.0;  // seconds of timed iterations per measurement, at least
  bool json = false;
  std::string json_file;  // also write the JSON lines here (appended)
  std::string only;       // "", "allreduce" or "models"
  std::string min_size = "1K", max_size = "64M";
  std::vector<std::string> models = {"cnn-fashion-mnist", "vit-fashion-mnist", "gpt-fortunes"};
  int64_t batch = 64;     // images per rank per step
  int64_t windows = 16;   // gpt-fortunes: windows of kContext characters per rank per step
  double bucket_mb = 25;  // DDPOptions::bucket_cap_mb of the model runs
  int ranks = 2;
  std::string mpirun;                    // "" = the first on PATH
  std::vector<std::string> mpirun_args;  // more arguments for mpirun ("--mca", "KEY", "VALUE")
  bool no_torch = false;
  std::string torch_bench;  // "" = tools/torch_bench_distributed.py of this build's repository
  double timeout = 900;     // seconds one mpirun may take before it is stopped
  double wait_quiet = 0;    // seconds to wait for an idle machine before each measurement
  // The network of the scaling model.
  double hop_latency_us = 25;
  double efficiency_10g = 0.9, efficiency_100g = 0.6;
  // Worker side.
  std::string worker, model;
  int threads = 1;
};

// gpt-fortunes' window (gpt_fortunes_config().context) and the character vocabulary assumed for
// its model: 110 gives the 838k parameters docs/RESULTS.md reports (257 V + 809,728); it sizes
// only the embedding and the head (3% of the parameters).
constexpr int64_t kContext = 128, kGptVocab = 110;

// "64M" -> 67108864; K, M, G are powers of 1024; a plain number is bytes.
int64_t parse_size(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  if (unit == "K" || unit == "KiB") scale = 1024.0;
  if (unit == "M" || unit == "MiB") scale = 1024.0 * 1024;
  if (unit == "G" || unit == "GiB") scale = 1024.0 * 1024 * 1024;
  const double bytes = value * scale;
  MINIDL_CHECK(used > 0 && scale > 0 && bytes >= 4 && bytes <= 4.0 * (1LL << 30),
               "bench_distributed",
               "a message size is a number of bytes with K, M or G (powers of 1024), 4 B to 4G; "
               "got '"
                   << text << "'");
  return static_cast<int64_t>(bytes) / 4 * 4;  // whole float32 elements
}

// 1024 -> "1 KiB", 67108864 -> "64 MiB".
std::string size_label(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (bytes >= 1024 && u < 3) {
    bytes /= 1024;
    ++u;
  }
  std::ostringstream s;
  s << std::setprecision(bytes < 10 ? 2 : 3) << bytes << " " << units[u];
  return s.str();
}

// v with `digits` decimals.
std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

// Seconds from `start` to now.
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The 1-minute load average (/proc/loadavg), or -1.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

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

// ---------------------------------------------------------------- workers (under mpirun)

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

// --worker: one measurement inside an MPI world (mpirun started this process).
int worker_main(int argc, char** argv, const Options& o) {
  set_num_threads(o.threads);
  distributed::Guard mpi(argc, argv);
  try {
    if (o.worker == "allreduce")
      allreduce_worker(o);
    else if (o.worker == "model")
      model_worker(o);
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

// ---------------------------------------------------------------- the runner

// The first executable NAME in PATH, or "".
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

struct ChildResult {
  int exit_code = -1;
  bool timed_out = false;
  std::string output;        // stdout and stderr together
  double foreign_cpus = -1;  // CPUs other processes kept busy meanwhile, on average
};

// CPU seconds of this process's finished children (and the descendants they waited for).
double children_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Runs argv with `env` ("KEY=VALUE") added to the environment, capturing its output; stops it
// (SIGTERM, which mpirun passes on to the ranks, then SIGKILL) after `timeout` seconds.
// Declared here, defined below: measure() calls it.
ChildResult run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                      double timeout);

// Other processes' load above which a measurement is repeated (with --wait-quiet).
constexpr double kLoaded = 0.1;

// run_child for a measurement. With --wait-quiet S: first waits up to S seconds for an idle
// machine, and a run during which other processes kept more than kLoaded CPUs busy is repeated
// (after waiting again), 3 runs at most; the least disturbed one is returned.
ChildResult measure(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const Options& o) {
  ChildResult best;
  const int attempts = o.wait_quiet > 0 ? 3 : 1;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (o.wait_quiet > 0) wait_quiet(o.wait_quiet, kLoaded);
    ChildResult child = run_child(argv, env, o.timeout);
    const bool better = attempt == 0 || (child.exit_code == 0 && child.foreign_cpus >= 0 &&
                                         child.foreign_cpus < best.foreign_cpus);
    if (better) best = std::move(child);
    if (best.exit_code != 0 || best.foreign_cpus <= kLoaded) break;
    if (!o.json && attempt + 1 < attempts)
      std::cerr << "  (other processes used " << fixed(best.foreign_cpus, 2)
                << " CPUs meanwhile: measuring again)" << std::endl;
  }
  return best;
}
ChildResult run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                      double timeout) {
  ChildResult result;
  int fds[2];
  if (pipe(fds) != 0) return result;
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    bench::exec_child(argv, env);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return result;
  }
  const auto start = std::chrono::steady_clock::now();
  const double busy_before = machine_busy_seconds(), children_before = children_cpu_seconds();
  int signals_sent = 0;
  char buffer[4096];
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, 1000);
    if (ready > 0) {
      const ssize_t got = read(fds[0], buffer, sizeof buffer);
      if (got <= 0) break;
      result.output.append(buffer, static_cast<size_t>(got));
    }
    const double elapsed = seconds_since(start);
    if (elapsed > timeout && signals_sent == 0) {
      result.timed_out = true;
      kill(pid, SIGTERM);
      signals_sent = 1;
    } else if (elapsed > timeout + 10 && signals_sent == 1) {
      kill(pid, SIGKILL);
      signals_sent = 2;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  const double wall = seconds_since(start);
  if (busy_before >= 0 && wall > 0)
    result.foreign_cpus = std::max(
        0.0,
        (machine_busy_seconds() - busy_before - (children_cpu_seconds() - children_before)) / wall);
  return result;
}

// Every "RESULT {json}" object of a worker's output, and (as an error object) the reason when
// there is none or one reports an error.
std::vector<Json> run_worker(const Options& o, int ranks, int threads,
                             const std::vector<std::string>& worker_args) {
  static const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> argv = {o.mpirun,
                                   "-np",
                                   std::to_string(ranks),
                                   "--oversubscribe",
                                   "--allow-run-as-root",
                                   "--bind-to",
                                   "none",
                                   "--mca",
                                   "btl_vader_single_copy_mechanism",
                                   "none",
                                   "-x",
                                   "OMP_NUM_THREADS"};
  argv.insert(argv.end(), o.mpirun_args.begin(), o.mpirun_args.end());
  argv.insert(argv.end(), {self, "--threads", std::to_string(threads), "--min-time",
                           std::to_string(o.min_time)});
  argv.insert(argv.end(), worker_args.begin(), worker_args.end());
  const ChildResult child = measure(argv, {"OMP_NUM_THREADS=" + std::to_string(threads)}, o);
  std::vector<Json> results;
  std::istringstream lines(child.output);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind("RESULT ", 0) == 0) {
      Json j = Json::parse(line.substr(7), nullptr, false);
      if (j.is_object()) results.push_back(j);
    }
  const bool failed = std::any_of(results.begin(), results.end(),
                                  [](const Json& j) { return j.contains("error"); });
  if (child.exit_code != 0 || results.empty() || failed) {
    std::string why = child.timed_out ? "stopped after " + fixed(o.timeout, 0) + " s (--timeout)"
                                      : "mpirun exit " + std::to_string(child.exit_code);
    for (const Json& j : results)
      if (j.contains("error")) why = j["error"].get<std::string>();
    std::string tail =
        child.output.substr(child.output.size() > 600 ? child.output.size() - 600 : 0);
    results = {Json{{"error", why}, {"output_tail", tail}}};
  }
  for (Json& j : results) j["foreign_cpus"] = child.foreign_cpus;
  return results;
}

// ---------------------------------------------------------------- the alpha-beta fit

struct Fit {
  bool ok = false;
  double alpha = 0, beta = 0;  // seconds, seconds per byte
  double worst_relative = 0;   // the largest |model - measured| / measured
};

// t = alpha + c * bytes * beta, c = 2(N-1)/N, by least squares on (t_model - t) / t:
// minimise sum_i w_i (alpha + x_i beta - t_i)^2 with x_i = c bytes_i, w_i = 1 / t_i^2, the
// 2x2 normal equations [sum w, sum w x; sum w x, sum w x^2] [alpha; beta] = [sum w t; sum w x t].
Fit fit_alpha_beta(const std::vector<Json>& sizes) {
  Fit f;
  double sw = 0, swx = 0, swxx = 0, swt = 0, swxt = 0;
  for (const Json& j : sizes) {
    const int n = j["ranks"].get<int>();
    const double x = 2.0 * (n - 1) / n * j["bytes"].get<double>();
    const double t = j["median_us"].get<double>() * 1e-6;
    const double w = 1.0 / (t * t);
    sw += w;
    swx += w * x;
    swxx += w * x * x;
    swt += w * t;
    swxt += w * x * t;
  }
  const double det = sw * swxx - swx * swx;
  if (sizes.size() < 2 || !(det > 0)) return f;
  f.alpha = (swxx * swt - swx * swxt) / det;
  f.beta = (sw * swxt - swx * swt) / det;
  f.ok = f.beta > 0;
  for (const Json& j : sizes) {
    const int n = j["ranks"].get<int>();
    const double x = 2.0 * (n - 1) / n * j["bytes"].get<double>();
    const double t = j["median_us"].get<double>() * 1e-6;
    f.worst_relative = std::max(f.worst_relative, std::fabs(f.alpha + x * f.beta - t) / t);
  }
  return f;
}

// ---------------------------------------------------------------- the scaling model

// Per model, from this machine's measurements (see docs/distributed.md for the reasoning):
//   T_step(N) = T_compute + max(0, T_allreduce(N) - overlap)
//   T_allreduce(N) = 2(N-1)/N * G / bw + 2(N-1) * alpha_hop * buckets
// G = gradient bytes; a ring all-reduce is N-1 reduce-scatter steps and N-1 all-gather steps,
// each sending G/N bytes to the next machine and paying one hop's latency, per bucket.
// T_compute: the 1 rank x 2 threads step time (a machine like this one runs one rank on its
// cores). bw = link rate * efficiency, capped at the bus bandwidth this CPU reached over shared
// memory (1/beta of the fit): the reduction and the copies run on the same cores.
// overlap = 0: the measured models are one bucket at the default 25 MiB, which starts when
// backward ends; the "overlapped" figure is the bound when the all-reduce hides under all of
// backward, which several buckets started from the gradient hooks approach (data_parallel.h).
struct Prediction {
  std::string model, link;
  int machines = 0;
  double t_compute_ms = 0, t_allreduce_ms = 0, efficiency = 0, efficiency_overlapped = 0;
};

// The scaling model above for every model measured on 1 rank x 2 threads, N = 2, 8, 64, at 10
// and 100 Gbit/s.
std::vector<Prediction> predict(const std::map<std::string, Json>& two_threads, const Fit& fit,
                                const Options& o) {
  std::vector<Prediction> out;
  const double cap = fit.ok ? 1.0 / fit.beta : 0.0;  // bytes per second
  for (const auto& [model, r] : two_threads) {
    for (const auto& [link, gbit, eff] :
         {std::tuple<std::string, double, double>{"10 Gbit/s", 10, o.efficiency_10g},
          std::tuple<std::string, double, double>{"100 Gbit/s", 100, o.efficiency_100g}}) {
      double bw = gbit * 1e9 / 8 * eff;
      if (cap > 0) bw = std::min(bw, cap);
      for (int n : {2, 8, 64}) {
        Prediction p;
        p.model = model;
        p.link = link;
        p.machines = n;
        const double t_compute = r["step_ms"].get<double>() * 1e-3;
        const double backward = r["backward_ms"].get<double>() * 1e-3;
        const double bytes = r["grad_bytes"].get<double>();
        const double buckets = r["buckets"].get<double>();
        const double t_ar =
            2.0 * (n - 1) / n * bytes / bw + 2.0 * (n - 1) * o.hop_latency_us * 1e-6 * buckets;
        p.t_compute_ms = t_compute * 1e3;
        p.t_allreduce_ms = t_ar * 1e3;
        p.efficiency = t_compute / (t_compute + t_ar);
        p.efficiency_overlapped = t_compute / (t_compute + std::max(0.0, t_ar - backward));
        out.push_back(p);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- output

// "2 ranks x 1 thread".
std::string configuration(int ranks, int threads) {
  return std::to_string(ranks) + (ranks == 1 ? " rank x " : " ranks x ") + std::to_string(threads) +
         (threads == 1 ? " thread" : " threads");
}

// The all-reduce table, the fit and PyTorch's column (or why it is missing).
void print_allreduce(const std::vector<Json>& sizes, const Fit& fit,
                     const std::string& torch_note) {
  const int n = sizes.front()["ranks"].get<int>();
  const bool torch = sizes.front().contains("gloo_median_us");
  std::cout << "\nall-reduce (MPI_Allreduce sum of float32, " << n
            << " ranks on this machine; median of barrier-separated calls)\n"
            << std::setw(10) << "size" << std::setw(13) << "median us" << std::setw(11) << "min us"
            << std::setw(13) << "algbw GB/s" << std::setw(13) << "busbw GB/s" << std::setw(13)
            << "fit us" << std::setw(8) << "iters";
  if (torch) std::cout << std::setw(11) << "gloo us" << std::setw(11) << "gloo/mpi";
  std::cout << "\n";
  for (const Json& j : sizes) {
    const double bytes = j["bytes"].get<double>();
    const double fitted = (fit.alpha + 2.0 * (n - 1) / n * bytes * fit.beta) * 1e6;
    std::cout << std::setw(10) << size_label(bytes) << std::setw(13)
              << fixed(j["median_us"].get<double>(), 1) << std::setw(11)
              << fixed(j["min_us"].get<double>(), 1) << std::setw(13)
              << fixed(j["algbw_gbs"].get<double>(), 3) << std::setw(13)
              << fixed(j["busbw_gbs"].get<double>(), 3) << std::setw(13)
              << (fit.ok ? fixed(fitted, 1) : "-") << std::setw(8) << j["iters"].get<int64_t>();
    if (torch && j.contains("gloo_median_us"))
      std::cout << std::setw(11) << fixed(j["gloo_median_us"].get<double>(), 1) << std::setw(11)
                << fixed(j["gloo_over_mpi"].get<double>(), 2);
    std::cout << "\n";
  }
  if (torch)
    std::cout << "(gloo: PyTorch's torch.distributed all_reduce, gloo over TCP on 127.0.0.1, the "
                 "same protocol; tools/torch_bench_distributed.py)\n";
  else
    std::cout << "(PyTorch comparison skipped: " << torch_note << ")\n";
  std::cout << "other processes kept " << fixed(sizes.front()["foreign_cpus"].get<double>(), 2)
            << " CPUs busy on average during the MPI run";
  if (sizes.front().contains("gloo_foreign_cpus"))
    std::cout << ", " << fixed(sizes.front()["gloo_foreign_cpus"].get<double>(), 2)
              << " during PyTorch's";
  std::cout << "\n";
  std::cout << "latency (median of the smallest message, "
            << size_label(sizes.front()["bytes"].get<double>())
            << "): " << fixed(sizes.front()["median_us"].get<double>(), 1) << " us\n";
  if (fit.ok)
    std::cout << "fit t = alpha + 2(N-1)/N * bytes * beta (least squares on relative error): "
              << "alpha = " << fixed(fit.alpha * 1e6, 2)
              << " us, beta = " << fixed(fit.beta * 1e9, 4)
              << " ns/byte (1/beta = " << fixed(1e-9 / fit.beta, 2) << " GB/s); worst point off by "
              << fixed(100 * fit.worst_relative, 0) << "%\n";
  else
    std::cout << "fit: not enough sizes (or a non-positive beta)\n";
}

// Per model, this machine's data parallelism against its threads (kind "local_scaling"):
// measured efficiency = items/s of N ranks / (N x items/s of 1 rank of 1 thread); predicted from
// the fit: T / (T + alpha + 2(N-1)/N * G * beta), T the 1-rank-1-thread step time (overlap 0);
// ranks_vs_threads = items/s of N ranks / items/s of 1 rank of 2 threads.
std::vector<Json> local_scaling(const std::vector<Json>& rows, const Fit& fit) {
  std::map<std::string, std::map<std::pair<int, int>, Json>> by_model;  // (ranks, threads)
  for (const Json& r : rows)
    if (!r.contains("error"))
      by_model[r["model"].get<std::string>()][{r["ranks"].get<int>(), r["threads"].get<int>()}] = r;
  std::vector<Json> out;
  for (const auto& [model, configs] : by_model) {
    const auto one = configs.find({1, 1}), threads = configs.find({1, 2});
    const auto many = std::find_if(configs.begin(), configs.end(),
                                   [](const auto& c) { return c.first.first > 1; });
    if (one == configs.end() || many == configs.end()) continue;
    const int n = many->first.first;
    const double ips1 = one->second["items_per_s"].get<double>();
    const double ipsn = many->second["items_per_s"].get<double>();
    Json j = {{"kind", "local_scaling"},
              {"model", model},
              {"ranks", n},
              {"measured_efficiency", ipsn / (n * ips1)},
              {"finish_ms", many->second["finish_ms"]}};
    if (fit.ok) {
      const double t = one->second["step_ms"].get<double>() * 1e-3;
      const double t_ar =
          fit.alpha + 2.0 * (n - 1) / n * one->second["grad_bytes"].get<double>() * fit.beta;
      j["predicted_efficiency"] = t / (t + t_ar);
      j["predicted_allreduce_ms"] = t_ar * 1e3;
    }
    if (threads != configs.end())
      j["ranks_vs_threads"] = ipsn / threads->second["items_per_s"].get<double>();
    out.push_back(j);
  }
  return out;
}

// The models table and, per model, the on-machine scaling summary.
void print_models(const std::vector<Json>& rows, const std::vector<Json>& summaries) {
  std::cout << "\nmodels (per rank per step: forward + cross_entropy, backward, ddp.finish(), "
               "Adam step; medians in ms)\n"
            << std::left << std::setw(19) << "model" << std::setw(20) << "configuration"
            << std::right << std::setw(13) << "items/s" << std::setw(9) << "step" << std::setw(9)
            << "fwd" << std::setw(9) << "bwd" << std::setw(9) << "finish" << std::setw(8) << "adam"
            << std::setw(11) << "grad MiB" << std::setw(9) << "buckets" << std::setw(7) << "early"
            << std::setw(7) << "other"
            << "\n";
  for (const Json& r : rows) {
    std::cout << std::left << std::setw(19) << r.value("model", std::string("?"));
    const int ranks = r["ranks"].get<int>(), threads = r["threads"].get<int>();
    if (r.contains("error")) {
      std::cout << std::setw(20) << configuration(ranks, threads) << "ERROR "
                << r["error"].get<std::string>() << "\n";
      continue;
    }
    std::cout << std::setw(20) << configuration(ranks, threads) << std::right << std::setw(13)
              << (fixed(r["items_per_s"].get<double>(), 0) +
                  (r["unit"].get<std::string>() == "tokens" ? " tok" : " img"))
              << std::setw(9) << fixed(r["step_ms"].get<double>(), 1) << std::setw(9)
              << fixed(r["forward_ms"].get<double>(), 1) << std::setw(9)
              << fixed(r["backward_ms"].get<double>(), 1) << std::setw(9)
              << fixed(r["finish_ms"].get<double>(), 2) << std::setw(8)
              << fixed(r["optimizer_ms"].get<double>(), 2) << std::setw(11)
              << fixed(r["grad_bytes"].get<double>() / 1048576.0, 2) << std::setw(9)
              << r["buckets"].get<int64_t>() << std::setw(7)
              << r["buckets_started_early"].get<int64_t>() << std::setw(7)
              << fixed(r["foreign_cpus"].get<double>(), 2) << "\n";
  }
  std::cout << "(items: images, or tok = tokens of 128-character windows; 2 ranks train on twice "
               "the per-rank batch per step; early = buckets started before finish(); other = CPUs "
               "other processes kept busy meanwhile)\n";
  for (const Json& j : summaries) {
    std::cout << j["model"].get<std::string>() << ": " << j["ranks"].get<int>() << " ranks / ("
              << j["ranks"].get<int>() << " x 1 rank of 1 thread) = measured efficiency "
              << fixed(j["measured_efficiency"].get<double>(), 2);
    if (j.contains("predicted_efficiency"))
      std::cout << ", predicted from alpha/beta "
                << fixed(j["predicted_efficiency"].get<double>(), 2) << " (all-reduce "
                << fixed(j["predicted_allreduce_ms"].get<double>(), 2) << " ms; finish() took "
                << fixed(j["finish_ms"].get<double>(), 2) << " ms)";
    if (j.contains("ranks_vs_threads"))
      std::cout << "; " << j["ranks"].get<int>() << " ranks / 1 rank x 2 threads = "
                << fixed(j["ranks_vs_threads"].get<double>(), 2);
    std::cout << "\n";
  }
}

// The scaling model's assumptions and its efficiency table.
void print_predictions(const std::vector<Prediction>& predictions, const Fit& fit,
                       const Options& o) {
  if (predictions.empty()) return;
  std::cout << "\nscaling model: efficiency T_compute / T_step at N machines (one rank of 2 "
               "threads each, as measured here)\n"
            << "  T_allreduce(N) = 2(N-1)/N * G / bw + 2(N-1) * " << fixed(o.hop_latency_us, 0)
            << " us per hop per bucket; bw = 10 Gbit/s x " << fixed(o.efficiency_10g, 2)
            << " or 100 Gbit/s x " << fixed(o.efficiency_100g, 2);
  if (fit.ok) std::cout << ", at most " << fixed(1e-9 / fit.beta, 2) << " GB/s (1/beta here)";
  std::cout << "; no overlap [overlap with all of backward]\n"
            << std::left << std::setw(19) << "model" << std::setw(12) << "link" << std::right
            << std::setw(12) << "compute ms";
  for (int n : {2, 8, 64})
    std::cout << std::setw(9) << ("AR" + std::to_string(n)) << std::setw(15)
              << ("N=" + std::to_string(n));
  std::cout << "\n";
  for (size_t i = 0; i + 2 < predictions.size(); i += 3) {
    std::cout << std::left << std::setw(19) << predictions[i].model << std::setw(12)
              << predictions[i].link << std::right << std::setw(12)
              << fixed(predictions[i].t_compute_ms, 1);
    for (size_t k = i; k < i + 3; ++k)
      std::cout << std::setw(9) << fixed(predictions[k].t_allreduce_ms, 2) << std::setw(15)
                << (fixed(predictions[k].efficiency, 2) + " [" +
                    fixed(predictions[k].efficiency_overlapped, 2) + "]");
    std::cout << "\n";
  }
  std::cout << "(ARn: predicted all-reduce ms per step at n machines)\n";
}

// One prediction as a JSON line (kind "prediction").
Json prediction_json(const Prediction& p) {
  return {{"kind", "prediction"},
          {"model", p.model},
          {"link", p.link},
          {"machines", p.machines},
          {"compute_ms", p.t_compute_ms},
          {"allreduce_ms", p.t_allreduce_ms},
          {"efficiency", p.efficiency},
          {"efficiency_overlapped", p.efficiency_overlapped}};
}

// tools/torch_bench_distributed.py of the repository this program was built in (two levels
// above build/bench_distributed), else under the working directory.
std::string default_torch_bench() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path candidate =
        exe.parent_path().parent_path() / "tools" / "torch_bench_distributed.py";
    if (fs::exists(candidate, ec)) return candidate.lexically_normal().string();
  }
  return (fs::current_path(ec) / "tools" / "torch_bench_distributed.py").string();
}

// PyTorch's (gloo) median for the same sizes merged into `sizes` (gloo_median_us,
// gloo_busbw_gbs, gloo_over_mpi); returns why not, or "" when it ran.
std::string add_torch_sizes(std::vector<Json>& sizes, const Options& o) {
  if (o.no_torch) return "--no-torch";
  const std::string script = o.torch_bench.empty() ? default_torch_bench() : o.torch_bench;
  if (!fs::exists(script)) return script + " not found (--torch-bench PATH)";
  if (access("/usr/bin/python3", X_OK) != 0) return "/usr/bin/python3 not found";
  const ChildResult child =
      measure({"/usr/bin/python3", script, "--ranks", std::to_string(o.ranks), "--min-time",
               std::to_string(o.min_time), "--min-size", std::to_string(parse_size(o.min_size)),
               "--max-size", std::to_string(parse_size(o.max_size))},
              {"OMP_NUM_THREADS=1"}, o);
  std::map<int64_t, Json> by_size;
  std::istringstream lines(child.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("RESULT ", 0) != 0) continue;
    const Json j = Json::parse(line.substr(7), nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("error")) return j["error"].get<std::string>();
    by_size[j["bytes"].get<int64_t>()] = j;
  }
  if (child.exit_code != 0 || by_size.empty())
    return "torch_bench_distributed.py exit " + std::to_string(child.exit_code) +
           (child.timed_out ? " (stopped by --timeout)" : "");
  for (Json& j : sizes) {
    const auto it = by_size.find(j["bytes"].get<int64_t>());
    if (it == by_size.end()) continue;
    j["gloo_median_us"] = it->second["median_us"];
    j["gloo_busbw_gbs"] = it->second["busbw_gbs"];
    j["gloo_over_mpi"] = it->second["median_us"].get<double>() / j["median_us"].get<double>();
    j["gloo_foreign_cpus"] = child.foreign_cpus;
  }
  return "";
}

// Without --worker: checks for MPI and mpirun, runs every measurement under mpirun, prints.
int runner_main(Options& o) {
  if (!distributed::built_with_mpi()) {
    std::cerr << "bench_distributed: this build has no MPI, so there is nothing to measure; "
                 "rebuild with `make MPI=1` (Open MPI: tools/install_deps.sh --mpi)\n";
    return 2;
  }
  if (o.mpirun.empty()) o.mpirun = find_on_path("mpirun");
  if (o.mpirun.empty() || access(o.mpirun.c_str(), X_OK) != 0) {
    std::cerr << "bench_distributed: no mpirun "
              << (o.mpirun.empty() ? "on PATH" : "at " + o.mpirun)
              << "; install Open MPI (tools/install_deps.sh --mpi) or pass --mpirun PATH\n";
    return 2;
  }
  parse_size(o.min_size);  // bad sizes are refused before anything runs
  if (parse_size(o.min_size) > parse_size(o.max_size)) {
    std::cerr << "bench_distributed: --min-size " << o.min_size << " is above --max-size "
              << o.max_size << "\n";
    return 2;
  }
  auto progress = [&](const std::string& what) {
    if (!o.json) std::cerr << "running " << what << "..." << std::endl;
  };
  std::ofstream json_file;
  if (!o.json_file.empty()) {
    json_file.open(o.json_file, std::ios::app);
    if (!json_file) {
      std::cerr << "bench_distributed: cannot append to --json-file " << o.json_file << "\n";
      return 2;
    }
  }
  auto print_json = [&](const Json& j) {
    if (o.json) std::cout << j.dump() << std::endl;
    if (json_file.is_open()) json_file << j.dump() << std::endl;
  };
  bool failed = false;
  print_json({{"kind", "run"},
              {"mpirun", o.mpirun},
              {"cpus", std::thread::hardware_concurrency()},
              {"min_time", o.min_time},
              {"load_start", load_average()}});
  if (!o.json)
    std::cout << "bench_distributed: " << o.mpirun << ", load average " << fixed(load_average(), 2)
              << " at the start\n";

  std::vector<Json> sizes;
  Fit fit;
  if (o.only != "models") {
    progress("all-reduce, " + std::to_string(o.ranks) + " ranks, " + o.min_size + " .. " +
             o.max_size);
    sizes =
        run_worker(o, o.ranks, 1,
                   {"--worker", "allreduce", "--min-size", o.min_size, "--max-size", o.max_size});
    std::string torch_note;
    if (!sizes.front().contains("error")) {
      progress("PyTorch's all-reduce (gloo), " + std::to_string(o.ranks) + " ranks");
      torch_note = add_torch_sizes(sizes, o);
    }
    for (const Json& j : sizes) print_json(j);
    if (!torch_note.empty()) print_json({{"kind", "torch_skipped"}, {"reason", torch_note}});
    if (sizes.front().contains("error")) {
      failed = true;
      if (!o.json)
        std::cout << "all-reduce: ERROR " << sizes.front()["error"].get<std::string>() << "\n"
                  << sizes.front()["output_tail"].get<std::string>() << "\n";
      sizes.clear();
    } else {
      fit = fit_alpha_beta(sizes);
      print_json({{"kind", "allreduce_fit"},
                  {"ok", fit.ok},
                  {"alpha_us", fit.alpha * 1e6},
                  {"beta_ns_per_byte", fit.beta * 1e9},
                  {"worst_relative_error", fit.worst_relative},
                  {"latency_us", sizes.front()["median_us"]}});
      if (!o.json) print_allreduce(sizes, fit, torch_note);
    }
  }

  std::vector<Json> rows;
  std::map<std::string, Json> two_threads;
  if (o.only != "allreduce") {
    for (const std::string& model : o.models) {
      for (const auto& [ranks, threads] : {std::pair<int, int>{1, 2}, std::pair<int, int>{1, 1},
                                           std::pair<int, int>{o.ranks, 1}}) {
        progress(model + ", " + std::to_string(ranks) + " rank(s) x " + std::to_string(threads) +
                 " thread(s)");
        std::vector<Json> got = run_worker(
            o, ranks, threads,
            {"--worker", "model", "--model", model, "--batch", std::to_string(o.batch), "--windows",
             std::to_string(o.windows), "--bucket-mb", std::to_string(o.bucket_mb)});
        Json r = got.front();
        if (r.contains("error")) {
          failed = true;
          r["model"] = model;
          r["ranks"] = ranks;
          r["threads"] = threads;
        } else if (ranks == 1 && threads == 2) {
          two_threads[model] = r;
        }
        print_json(r);
        rows.push_back(r);
      }
    }
    const std::vector<Json> summaries = local_scaling(rows, fit);
    for (const Json& j : summaries) print_json(j);
    if (!o.json) print_models(rows, summaries);
    const std::vector<Prediction> predictions = predict(two_threads, fit, o);
    for (const Prediction& p : predictions) print_json(prediction_json(p));
    if (!o.json) print_predictions(predictions, fit, o);
  }
  print_json({{"kind", "run_end"}, {"load_end", load_average()}});
  if (!o.json)
    std::cout << "load average " << fixed(load_average(), 2) << " at the end ("
              << std::thread::hardware_concurrency() << " CPUs)\n";
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "minidl data-parallel benchmark: MPI all-reduce cost, models on 1 and 2 ranks, and a "
      "scaling model (needs `make MPI=1`)"};
  Options o;
  app.add_option("--min-time", o.min_time, "seconds of timed iterations per measurement")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--json", o.json, "one JSON object per result line instead of the tables");
  app.add_option("--json-file", o.json_file, "also append the JSON lines to this file");
  app.add_option("--only", o.only, "measure only this part")
      ->check(CLI::IsMember({"allreduce", "models"}));
  app.add_option("--min-size", o.min_size, "smallest all-reduce message (e.g. 1K)")
      ->capture_default_str();
  app.add_option("--max-size", o.max_size, "largest all-reduce message (e.g. 64M)")
      ->capture_default_str();
  app.add_option("--models", o.models, "models to train (registry names)")
      ->delimiter(',')
      ->check(CLI::IsMember({"cnn-fashion-mnist", "vit-fashion-mnist", "gpt-fortunes"}))
      ->capture_default_str();
  app.add_option("--batch", o.batch, "images per rank per step (CNN, ViT)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--windows", o.windows, "gpt-fortunes: 128-character windows per rank per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--bucket-mb", o.bucket_mb,
                 "DDP bucket size in MiB (small buckets start during backward: overlap)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--ranks", o.ranks, "ranks of the multi-process runs")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  app.add_option("--mpirun", o.mpirun, "mpirun to use (default: the first on PATH)");
  app.add_option("--mpirun-arg", o.mpirun_args,
                 "one more argument for mpirun, repeatable: --mpirun-arg=--mca "
                 "--mpirun-arg=coll_tuned_use_dynamic_rules --mpirun-arg=1")
      ->allow_extra_args(false);
  app.add_flag("--no-torch", o.no_torch, "skip PyTorch's (gloo) all-reduce");
  app.add_option("--torch-bench", o.torch_bench,
                 "path of torch_bench_distributed.py (default: this repository's)");
  app.add_option("--wait-quiet", o.wait_quiet,
                 "before each measurement wait up to this many seconds for other load < 0.1 CPU")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--timeout", o.timeout, "seconds one mpirun may run before it is stopped")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--hop-latency-us", o.hop_latency_us,
                 "scaling model: latency of one ring step between machines")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--efficiency-10g", o.efficiency_10g,
                 "scaling model: fraction of 10 Gbit/s an all-reduce reaches")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  app.add_option("--efficiency-100g", o.efficiency_100g,
                 "scaling model: fraction of 100 Gbit/s an all-reduce reaches")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  app.add_option("--worker", o.worker, "(internal) measure this under mpirun")
      ->check(CLI::IsMember({"allreduce", "model"}))
      ->group("");
  app.add_option("--model", o.model, "(internal) the worker's model")->group("");
  app.add_option("--threads", o.threads, "(internal) the worker's threads")
      ->check(CLI::Range(1, 1024))
      ->group("");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!o.worker.empty()) return worker_main(argc, argv, o);
    return runner_main(o);
  } catch (const std::exception& e) {
    std::cerr << "bench_distributed: " << e.what() << "\n";
    return 2;
  }
}
