// bench_distributed: what data-parallel training costs and gains on this machine, and what it
// would on a cluster (issue 15; docs/distributed.md shows and explains the numbers).
//
//   bench_distributed                       all-reduce sizes, the models, the scaling model,
//                                           the evaluation
//   bench_distributed --only allreduce      the all-reduce sizes and the alpha/beta fit
//   bench_distributed --only models --json  one JSON object per line instead of the tables
//   bench_distributed --only evaluation     sharded evaluation, 1 x 2 threads and 2 ranks x 1
//                     [--eval-models cnn-fashion-mnist,translation-deu-eng] [--eval-smoke]
//   bench_distributed --worker allreduce    (internal, under mpirun) one measurement
//
// This file is the runner and main(); the measurements themselves are in
// tools/bench_distributed_workers.cpp, the alpha/beta fit and the scaling model in
// tools/bench_distributed_scaling.cpp (tools/bench_distributed.h: what they share).
//
// The runner (started WITHOUT mpirun) re-executes itself for every measurement as
//   mpirun -np K --oversubscribe --allow-run-as-root --bind-to none
//          --mca btl_vader_single_copy_mechanism none -x OMP_NUM_THREADS
//          bench_distributed --worker allreduce|model|evaluation ...
// and reads the "RESULT {json}" lines rank 0 prints. A build without MPI (no `make MPI=1`)
// says so and exits with code 2. It also runs PyTorch's all-reduce (gloo) for the same sizes
// (tools/torch_bench_distributed.py) and prints the tables.
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "minidl.h"
#include "models/registry.h"
#include "tools/bench_distributed.h"
#include "tools/bench_process.h"

namespace fs = std::filesystem;
using namespace minidl;
using bench::machine_busy_seconds;
using bench::wait_quiet;

namespace bench_distributed {

// ---------------------------------------------------------------- helpers (shared)

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

namespace {

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

// Per model evaluated on 1 rank x 2 threads and on N ranks x 1 thread (kind
// "evaluation_comparison"): speedup = the seconds of 1 rank / the seconds of N ranks, and the
// headline metric of both, equal or not (difference = N ranks' value - 1 rank's).
std::vector<Json> compare_evaluations(const std::vector<Json>& rows) {
  std::map<std::string, std::map<int, Json>> by_model;  // model -> ranks -> row
  for (const Json& r : rows)
    if (!r.contains("error") && !r.contains("setup_error"))
      by_model[r["model"].get<std::string>()][r["ranks"].get<int>()] = r;
  std::vector<Json> out;
  for (const auto& [model, configs] : by_model) {
    const auto one = configs.find(1);
    const auto many =
        std::find_if(configs.begin(), configs.end(), [](const auto& c) { return c.first > 1; });
    if (one == configs.end() || many == configs.end()) continue;
    const double value_one = one->second["value"].get<double>();
    const double value_many = many->second["value"].get<double>();
    out.push_back(
        {{"kind", "evaluation_comparison"},
         {"model", model},
         {"ranks", many->first},
         {"speedup", one->second["seconds"].get<double>() / many->second["seconds"].get<double>()},
         {"metric", one->second["metric"]},
         {"one_rank_value", value_one},
         {"ranks_value", value_many},
         {"equal", value_one == value_many},
         {"difference", value_many - value_one}});
  }
  return out;
}

// v with 6 significant digits.
std::string significant(double v) {
  std::ostringstream s;
  s << std::setprecision(6) << v;
  return s.str();
}

// The evaluation table: per model the median seconds on 1 rank x 2 threads and on N ranks x 1
// thread, the speedup, and the headline metric of both with "equal" or their difference.
void print_evaluations(const std::vector<Json>& rows, const std::vector<Json>& comparisons,
                       const Options& o) {
  const std::string many = std::to_string(o.ranks) + " ranks x 1";
  std::cout << "\nevaluation (models::evaluate_split(task, \"valid\") as train() validates, "
            << (o.eval_smoke ? "smoke setups" : "full data")
            << "; median seconds of evaluations after a barrier)\n"
            << std::left << std::setw(26) << "model" << std::right << std::setw(15)
            << "1 x 2 threads" << std::setw(14) << many << std::setw(9) << "speedup"
            << "  headline metric\n";
  double foreign = -1;
  bool whole_split = false;
  auto seconds = [](const Json* r) {
    if (!r) return std::string("-");
    const double t = (*r)["seconds"].get<double>();
    return t >= 0.1 ? fixed(t, 3) + " s" : fixed(t * 1e3, 2) + " ms";
  };
  for (const std::string& model : o.eval_models) {
    const Json* one = nullptr;     // 1 rank x 2 threads
    const Json* ranks = nullptr;   // N ranks x 1 thread
    const Json* broken = nullptr;  // the first run that failed, if one did
    for (const Json& r : rows) {
      if (r.value("model", std::string()) != model) continue;
      if (r["ranks"].get<int>() == 1)
        one = &r;
      else
        ranks = &r;
      if (!broken && (r.contains("error") || r.contains("setup_error"))) broken = &r;
    }
    std::cout << std::left << std::setw(26) << model << std::right;
    if (broken) {
      std::string why = broken->contains("setup_error")
                            ? "setup error: " + (*broken)["setup_error"].get<std::string>()
                            : "ERROR " + (*broken)["error"].get<std::string>();
      std::replace(why.begin(), why.end(), '\n', ' ');
      std::cout << why << " ("
                << configuration((*broken)["ranks"].get<int>(), (*broken)["threads"].get<int>())
                << ")\n";
      continue;
    }
    for (const Json* r : {one, ranks})
      if (r) foreign = std::max(foreign, (*r)["foreign_cpus"].get<double>());
    std::string speedup = "-", metric;
    const auto c = std::find_if(comparisons.begin(), comparisons.end(),
                                [&](const Json& j) { return j["model"] == model; });
    if (c != comparisons.end()) {
      speedup = fixed((*c)["speedup"].get<double>(), 2);
      metric = (*c)["metric"].get<std::string>() + " " +
               significant((*c)["one_rank_value"].get<double>()) + " and " +
               significant((*c)["ranks_value"].get<double>()) + ": " +
               ((*c)["equal"].get<bool>()
                    ? std::string("equal")
                    : "differ by " + significant((*c)["difference"].get<double>()));
      if (!(*ranks)["by_sums"].get<bool>()) {
        metric += " (*)";
        whole_split = true;
      }
    }
    std::cout << std::setw(15) << seconds(one) << std::setw(14) << seconds(ranks) << std::setw(9)
              << speedup << "  " << metric << "\n";
  }
  std::cout << "(" << many << ": each rank evaluates its part of the split and one all-reduce "
            << "adds the parts' sums; speedup = 1 x 2 threads / " << many << ")\n";
  if (whole_split)
    std::cout << "(*) the task does not evaluate by sums: every rank evaluates the whole split\n";
  if (foreign >= 0)
    std::cout << "other processes kept up to " << fixed(foreign, 2)
              << " CPUs busy on average during these runs\n";
}

// The evaluation models exist and train from batches (an interactive task, trained by acting,
// has no split to share out); an error names the first that does not.
void check_eval_models(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const models::TaskInfo& info = models::find_task(name);
    MINIDL_CHECK(info.make()->interactive() == nullptr, "--eval-models",
                 name << " learns by acting in an environment and has no validation "
                         "split to share out; choose a model that trains on data");
  }
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
  check_eval_models(o.eval_models);  // so are unknown and interactive models
  parse_size(o.min_size);            // bad sizes are refused before anything runs
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
  if (o.only.empty() || o.only == "allreduce") {
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
  if (o.only.empty() || o.only == "models") {
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

  if (o.only.empty() || o.only == "evaluation") {
    std::vector<Json> evaluations;
    for (const std::string& model : o.eval_models) {
      for (const auto& [ranks, threads] :
           {std::pair<int, int>{1, 2}, std::pair<int, int>{o.ranks, 1}}) {
        progress("evaluation, " + model + ", " + std::to_string(ranks) + " rank(s) x " +
                 std::to_string(threads) + " thread(s)");
        std::vector<std::string> args = {"--worker", "evaluation", "--model", model};
        if (o.eval_smoke) args.push_back("--eval-smoke");
        Json r = run_worker(o, ranks, threads, args).front();
        if (r.contains("error")) {
          failed = true;
          r["model"] = model;
          r["ranks"] = ranks;
          r["threads"] = threads;
        }
        print_json(r);
        evaluations.push_back(r);
        // Its data is missing (or the like): the other configuration would fail the same way.
        if (r.contains("setup_error")) break;
      }
    }
    const std::vector<Json> comparisons = compare_evaluations(evaluations);
    for (const Json& j : comparisons) print_json(j);
    if (!o.json) print_evaluations(evaluations, comparisons, o);
  }
  print_json({{"kind", "run_end"}, {"load_end", load_average()}});
  if (!o.json)
    std::cout << "load average " << fixed(load_average(), 2) << " at the end ("
              << std::thread::hardware_concurrency() << " CPUs)\n";
  return failed ? 1 : 0;
}

}  // namespace

}  // namespace bench_distributed

int main(int argc, char** argv) {
  CLI::App app{
      "minidl data-parallel benchmark: MPI all-reduce cost, models on 1 and 2 ranks, and a "
      "scaling model (needs `make MPI=1`)"};
  bench_distributed::Options o;
  app.add_option("--min-time", o.min_time, "seconds of timed iterations per measurement")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--json", o.json, "one JSON object per result line instead of the tables");
  app.add_option("--json-file", o.json_file, "also append the JSON lines to this file");
  app.add_option("--only", o.only, "measure only this part")
      ->check(CLI::IsMember({"allreduce", "models", "evaluation"}));
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
  app.add_option("--eval-models", o.eval_models,
                 "models whose validation evaluation to time (registry names; their data must be "
                 "installed, else the setup error is reported)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_flag("--eval-smoke", o.eval_smoke,
               "evaluate smoke setups (a tiny model on a few examples: fast, for tests)");
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
      ->check(CLI::IsMember({"allreduce", "model", "evaluation"}))
      ->group("");
  app.add_option("--model", o.model, "(internal) the worker's model")->group("");
  app.add_option("--threads", o.threads, "(internal) the worker's threads")
      ->check(CLI::Range(1, 1024))
      ->group("");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!o.worker.empty()) return bench_distributed::worker_main(argc, argv, o);
    return bench_distributed::runner_main(o);
  } catch (const std::exception& e) {
    std::cerr << "bench_distributed: " << e.what() << "\n";
    return 2;
  }
}
