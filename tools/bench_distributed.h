// What the files of build/bench_distributed share: its options, a few helpers, the worker entry
// point, and the alpha/beta fit and scaling model the runner prints.
//   tools/bench_distributed.cpp          the runner (child processes, PyTorch, tables) and main()
//   tools/bench_distributed_workers.cpp  the measurements inside an MPI world (--worker)
//   tools/bench_distributed_scaling.cpp  the alpha/beta fit and the scaling model
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bench_distributed {

// Results travel as JSON objects: RESULT lines from the workers, --json lines from the runner.
using Json = nlohmann::json;

// The command line of both sides: the runner's choices, and the worker's (--worker, --model,
// --threads and the sizes, batch and evaluation settings the runner passes on).
struct Options {
  double min_time = 1.0;  // seconds of timed iterations per measurement, at least
  bool json = false;
  std::string json_file;  // also write the JSON lines here (appended)
  std::string only;       // "", "allreduce", "models" or "evaluation"
  std::string min_size = "1K", max_size = "64M";
  std::vector<std::string> models = {"cnn-fashion-mnist", "vit-fashion-mnist", "gpt-fortunes"};
  int64_t batch = 64;     // images per rank per step
  int64_t windows = 16;   // gpt-fortunes: windows of kContext characters per rank per step
  double bucket_mb = 25;  // DDPOptions::bucket_cap_mb of the model runs
  // The evaluation runs: registered models, set up in full (their data must be installed) or
  // as smoke setups (a tiny model on a few examples: fast, for the tests).
  std::vector<std::string> eval_models = {"cnn-fashion-mnist"};
  bool eval_smoke = false;
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

// "64M" -> 67108864; K, M, G are powers of 1024; a plain number is bytes. An error names the
// text when it is not a size from 4 B to 4G.
int64_t parse_size(const std::string& text);
// v with `digits` decimals.
std::string fixed(double v, int digits);
// Seconds from `start` to now.
double seconds_since(std::chrono::steady_clock::time_point start);
// The 1-minute load average (/proc/loadavg), or -1.
double load_average();

// --worker: one measurement inside an MPI world (mpirun started this process); returns the exit
// code (a failing rank prints an error RESULT and exits at once).
int worker_main(int argc, char** argv, const Options& o);

// The alpha/beta fit of the all-reduce times: t = alpha + 2(N-1)/N * bytes * beta.
struct Fit {
  bool ok = false;
  double alpha = 0, beta = 0;  // seconds, seconds per byte
  double worst_relative = 0;   // the largest |model - measured| / measured
};

// The fit over the all-reduce sizes (objects of kind "allreduce": ranks, bytes, median_us), by
// least squares on the relative error; ok is false with fewer than 2 sizes or beta <= 0.
Fit fit_alpha_beta(const std::vector<Json>& sizes);

// One point of the scaling model: a model on `machines` machines joined by `link`.
struct Prediction {
  std::string model, link;
  int machines = 0;
  double t_compute_ms = 0, t_allreduce_ms = 0, efficiency = 0, efficiency_overlapped = 0;
};

// The scaling model for every model measured on 1 rank x 2 threads (two_threads: model name ->
// its "model" RESULT), N = 2, 8, 64, at 10 and 100 Gbit/s; three consecutive entries per model
// and link.
std::vector<Prediction> predict(const std::map<std::string, Json>& two_threads, const Fit& fit,
                                const Options& o);
// Per model, this machine's data parallelism against its threads (objects of kind
// "local_scaling"), from the "model" rows of every configuration.
std::vector<Json> local_scaling(const std::vector<Json>& rows, const Fit& fit);
// The scaling model's assumptions and its efficiency table, on stdout.
void print_predictions(const std::vector<Prediction>& predictions, const Fit& fit,
                       const Options& o);
// One prediction as a JSON line (kind "prediction").
Json prediction_json(const Prediction& p);

}  // namespace bench_distributed
