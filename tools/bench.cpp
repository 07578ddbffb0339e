// bench: minidl's side of the benchmarks in BENCHMARKS.md, measured next to PyTorch's.
//
//   bench                      every implemented workload, one table
//   bench W1 W2 --json         a subset, one JSON object per line
//   bench --worker gemm        (internal) run one workload in this process, print RESULT {json}
//
// Each workload runs in its own child process (this program re-executed with --worker), so its
// peak RSS is that of a process that ran only that workload. Right after it, PyTorch's
// torch_bench.py runs the same workload twice -- default OpenMP settings and
// OMP_WAIT_POLICY=PASSIVE -- and the faster of the two is the reference for the ratio.
// Timing follows torch_bench.py: 3 warm-ups, then at least 20 timed iterations and at least
// --min-time seconds; median / min / max.
//
// A workload is one function `Json run_xxx(const RunOptions&)` plus one line in the registry
// (workloads()): the function builds its inputs, times its step with run_timed(), and returns
// the timing with any extra figures (GFLOPS, us per op, ...).
#include <cblas.h>
#include <omp.h>
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
#include <functional>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "minidl.h"
#include "nn/rnn.h"

using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- measurement

struct RunOptions {
  double min_time = 2.0;  // seconds of timed iterations, at least
  int64_t seq = 0;        // sequence length, for workloads measured at several lengths
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Non-idle CPU seconds of the whole machine, from /proc/stat (user nice system idle iowait irq
// softirq steal), to tell how much other processes competed with the measurement.
double machine_busy_seconds() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double v[8] = {0};
  stat >> cpu;
  for (double& x : v) stat >> x;
  return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / sysconf(_SC_CLK_TCK);
}

// Waits (at most max_wait seconds) until other processes use less than `threshold` CPUs over a
// one-second window, like torch_bench.py's wait_quiet. Returns the last load seen.
double wait_quiet(double max_wait, double threshold = 0.1) {
  const double deadline = now_seconds() + max_wait;
  while (true) {
    const double b0 = machine_busy_seconds();
    usleep(1000000);
    const double load = machine_busy_seconds() - b0;
    if (load < threshold || now_seconds() > deadline) return load;
  }
}

double own_cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6 + r.ru_stime.tv_sec +
         r.ru_stime.tv_usec * 1e-6;
}

double peak_rss_mib() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

long own_minor_faults() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_minflt;
}

// torch_bench.py's run_timed, for several steps at once: `warmup` untimed calls of each, then
// rounds that call every step once (each timed alone) until at least `min_iters` rounds ran and
// `min_time` seconds passed (at most max_iters). Interleaving makes steps compared with each
// other (matmul against raw sgemm) see the same machine load. One result per step.
std::vector<Json> run_timed_interleaved(const std::vector<std::function<void()>>& steps,
                                        double min_time, int warmup = 3, int min_iters = 20,
                                        int max_iters = 2000) {
  for (const auto& step : steps)
    for (int i = 0; i < warmup; ++i) step();
  std::vector<std::vector<double>> ms(steps.size());
  const long faults0 = own_minor_faults();
  const double busy0 = machine_busy_seconds(), cpu0 = own_cpu_seconds(), wall0 = now_seconds();
  for (int round = 1;; ++round) {
    for (size_t s = 0; s < steps.size(); ++s) {
      const double t0 = now_seconds();
      steps[s]();
      ms[s].push_back((now_seconds() - t0) * 1e3);
    }
    const double elapsed = now_seconds() - wall0;
    if (round >= max_iters || (round >= min_iters && elapsed >= min_time)) break;
  }
  const double wall = now_seconds() - wall0, own = own_cpu_seconds() - cpu0;
  const double busy = machine_busy_seconds() - busy0;
  std::vector<Json> results;
  for (const std::vector<double>& times : ms) {
    results.push_back(
        Json{{"iters", times.size()},
             {"ms_median", median(times)},
             {"ms_min", *std::min_element(times.begin(), times.end())},
             {"ms_max", *std::max_element(times.begin(), times.end())},
             {"cpu_per_wall", own / wall},
             {"minflt_per_iter", static_cast<double>(own_minor_faults() - faults0) /
                                     static_cast<double>(times.size() * steps.size())},
             {"foreign_cpus", std::max(0.0, (busy - own) / wall)}});
  }
  return results;
}

Json run_timed(const std::function<void()>& step, double min_time) {
  return run_timed_interleaved({step}, min_time)[0];
}

// ---------------------------------------------------------------- workloads

// W1: C = A @ B, 1024^3, float32, a fresh output each call; and raw cblas_sgemm on the same
// operands into a preallocated C (the practical limit), interleaved with it.
Json run_gemm(const RunOptions& options) {
  using namespace minidl;
  const int64_t n = 1024;
  manual_seed(0);
  Tensor a = randn({n, n}), b = randn({n, n});
  const double flop = 2.0 * n * n * n;
  Tensor c = empty({n, n});
  const int dim = static_cast<int>(n);
  auto raw_sgemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dim, dim, dim, 1.0f, a.data_ptr<float>(),
                dim, b.data_ptr<float>(), dim, 0.0f, c.data_ptr<float>(), dim);
  };
  std::vector<Json> timed =
      run_timed_interleaved({[&] { Tensor fresh = matmul(a, b); }, raw_sgemm}, options.min_time);
  Json res = timed[0];
  const double gflops = flop / (res["ms_median"].get<double>() * 1e-3) / 1e9;
  const double blas_gflops = flop / (timed[1]["ms_median"].get<double>() * 1e-3) / 1e9;
  res["gflops_median"] = gflops;
  res["gflops_best"] = flop / (res["ms_min"].get<double>() * 1e-3) / 1e9;
  res["blas_ms_median"] = timed[1]["ms_median"];
  res["blas_gflops_median"] = blas_gflops;
  res["blas_gflops_best"] = flop / (timed[1]["ms_min"].get<double>() * 1e-3) / 1e9;
  res["matmul_fraction_of_blas"] = gflops / blas_gflops;
  // The two must agree (same operands, same library).
  const double diff = (matmul(a, b) - c).abs().max().item<double>();
  if (!(diff <= 1e-3)) res["error"] = "matmul differs from cblas_sgemm by " + std::to_string(diff);
  return res;
}

// W2: x a 0-d float32 tensor requiring grad; 10,000 alternating ops y = y * 1.0001,
// y = y + 0.5, then y.backward(). Per op: forward + backward, and each alone.
Json run_op_overhead(const RunOptions& options) {
  using namespace minidl;
  const int n_ops = 10000;
  std::vector<double> fwd_s, bwd_s;
  Json res = run_timed(
      [&] {
        const double t0 = now_seconds();
        Tensor x = scalar_tensor(1.0, TensorOptions().requires_grad(true));
        Tensor y = x;
        for (int i = 0; i < n_ops / 2; ++i) {
          y = y * 1.0001;
          y = y + 0.5;
        }
        const double t1 = now_seconds();
        y.backward();
        const double t2 = now_seconds();
        fwd_s.push_back(t1 - t0);
        bwd_s.push_back(t2 - t1);
      },
      options.min_time);
  // Like torch_bench.py: drop the 3 warm-ups from the split medians.
  fwd_s.erase(fwd_s.begin(), fwd_s.begin() + 3);
  bwd_s.erase(bwd_s.begin(), bwd_s.begin() + 3);
  res["us_per_op_median"] = res["ms_median"].get<double>() * 1e3 / n_ops;
  res["fwd_us_per_op_median"] = median(fwd_s) * 1e6 / n_ops;
  res["bwd_us_per_op_median"] = median(bwd_s) * 1e6 / n_ops;

  // The same chain without autograd: the bare cost of an eager op.
  Json nograd = run_timed(
      [&] {
        NoGradGuard no_grad;
        Tensor y = scalar_tensor(1.0);
        for (int i = 0; i < n_ops / 2; ++i) {
          y = y * 1.0001;
          y = y + 0.5;
        }
      },
      std::min(1.0, options.min_time));
  res["nograd_us_per_op_median"] = nograd["ms_median"].get<double>() * 1e3 / n_ops;

  // dy/dx = 1.0001^5000: check that the timed chain computed what it should.
  Tensor x = scalar_tensor(1.0, TensorOptions().requires_grad(true)), y = x;
  for (int i = 0; i < n_ops / 2; ++i) y = y * 1.0001 + 0.5;
  y.backward();
  const double expected = std::pow(1.0001, n_ops / 2), got = x.grad().item<double>();
  if (!(std::fabs(got - expected) <= 1e-3 * expected))
    res["error"] = "x.grad = " + std::to_string(got) + ", expected " + std::to_string(expected);
  return res;
}

// A training step as torch_bench.py's: optimizer.zero_grad(set_to_none), forward,
// cross_entropy, backward, optimizer.step(), timed with run_timed. Its check: every loss is
// finite and the last timed loss is below the first (Adam on one fixed batch must fit it).
Json run_classifier_step(const std::shared_ptr<minidl::nn::Module>& model, const minidl::Tensor& x,
                         const minidl::Tensor& y, const RunOptions& options) {
  using namespace minidl;
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-3));
  std::vector<double> losses;
  Json res = run_timed(
      [&] {
        optimizer.zero_grad(/*set_to_none=*/true);
        Tensor loss = cross_entropy((*model)(x), y);
        loss.backward();
        optimizer.step();
        losses.push_back(loss.item<double>());
      },
      options.min_time);
  const double first = losses.at(3), last = losses.back();  // after the 3 warm-ups
  res["loss_first"] = first;
  res["loss_last"] = last;
  for (double loss : losses)
    if (!std::isfinite(loss)) {
      res["error"] = "non-finite loss " + std::to_string(loss);
      return res;
    }
  if (!(last < first))
    res["error"] =
        "loss did not decrease: " + std::to_string(first) + " -> " + std::to_string(last);
  return res;
}

// W3: batch 64, MLP 784-256-256-10 with ReLU, cross-entropy, Adam(lr 1e-3).
Json run_mlp_step(const RunOptions& options) {
  using namespace minidl;
  manual_seed(0);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(784, 256), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(256, 256), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(256, 10));
  Tensor x = randn({64, 784});
  Tensor y = randint(0, 10, {64});
  return run_classifier_step(model, x, y, options);
}

// W4: LSTM(128 -> 256), 1 layer, seq 50, batch 32 (time-major); zero_grad(set_to_none),
// forward, backward of output.sum(); no optimizer. Checked against the same recurrence unrolled
// with elementary ops (linear, sigmoid, tanh), output and every parameter's gradient.
Json run_lstm_step(const RunOptions& options) {
  using namespace minidl;
  const int64_t T = 50, B = 32, I = 128, H = 256;
  manual_seed(0);
  auto lstm = std::make_shared<nn::LSTM>(I, H);
  Tensor x = randn({T, B, I});
  Tensor out;
  Json res = run_timed(
      [&] {
        lstm->zero_grad(/*set_to_none=*/true);
        out = (*lstm)(x);
        out.sum().backward();
      },
      options.min_time);

  // The reference, on copies of the parameters.
  std::vector<std::string> names = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
  std::vector<Tensor> mine, ref;
  for (const std::string& name : names) {
    for (const auto& [key, p] : lstm->named_parameters())
      if (key == name) mine.push_back(p);
    if (mine.size() != ref.size() + 1) {
      res["error"] = "LSTM has no parameter " + name;
      return res;
    }
    ref.push_back(mine.back().detach().clone().requires_grad_(true));
  }
  Tensor h = zeros({B, H}), c = zeros({B, H});
  std::vector<Tensor> hs;
  for (int64_t t = 0; t < T; ++t) {
    Tensor gates = linear(x.select(0, t), ref[0], ref[2]) + linear(h, ref[1], ref[3]);
    std::vector<Tensor> g = chunk(gates, 4, 1);  // i, f, g, o
    c = sigmoid(g[1]) * c + sigmoid(g[0]) * tanh(g[2]);
    h = sigmoid(g[3]) * tanh(c);
    hs.push_back(h);
  }
  Tensor expected = stack(hs, 0);
  expected.sum().backward();
  auto max_rel = [](const Tensor& got, const Tensor& want) {
    return (got - want).abs().max().item<double>() / (want.abs().max().item<double>() + 1e-12);
  };
  std::string bad;
  if (!(max_rel(out.detach(), expected.detach()) <= 1e-4)) bad += " output";
  for (size_t k = 0; k < names.size(); ++k)
    if (!mine[k].grad().defined() || !(max_rel(mine[k].grad(), ref[k].grad()) <= 1e-3))
      bad += " " + names[k] + ".grad";
  if (!bad.empty()) res["error"] = "differs from the unrolled reference in" + bad;
  return res;
}

// W5: input 64x1x28x28: conv(1->32, 3x3, pad 1)-ReLU-maxpool 2-conv(32->64, 3x3, pad 1)-ReLU-
// maxpool 2-flatten-Linear(3136->128)-ReLU-Linear(128->10), cross-entropy, Adam(lr 1e-3).
Json run_cnn_step(const RunOptions& options) {
  using namespace minidl;
  manual_seed(0);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(1, 32, 3, 1, 1), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Conv2d>(32, 64, 3, 1, 1),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(64 * 7 * 7, 128),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(128, 10));
  Tensor x = randn({64, 1, 28, 28});
  Tensor y = randint(0, 10, {64});
  return run_classifier_step(model, x, y, options);
}

// The registry. `extras` maps a key of the RESULT json (both sides use the same keys) to the
// key it gets in bench's --json output; each appears in the table's last column.
struct Workload {
  std::string id;    // "W1"
  std::string name;  // "gemm": also the workload's name in torch_bench.py
  std::function<Json(const RunOptions&)> run;
  std::vector<std::pair<std::string, std::string>> extras;
  std::vector<int64_t> seqs;  // several points (one child each) at these lengths; empty: one
};

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> list = {
      {"W1",
       "gemm",
       run_gemm,
       {{"gflops_median", "gflops"},
        {"blas_gflops_median", "blas_gflops"},
        {"matmul_fraction_of_blas", "fraction_of_blas"}},
       {}},
      {"W2",
       "op_overhead",
       run_op_overhead,
       {{"us_per_op_median", "us_per_op"},
        {"fwd_us_per_op_median", "fwd_us_per_op"},
        {"bwd_us_per_op_median", "bwd_us_per_op"},
        {"nograd_us_per_op_median", "nograd_us_per_op"}},
       {}},
      {"W3",
       "mlp_step",
       run_mlp_step,
       {{"loss_first", "loss_first"}, {"loss_last", "loss_last"}},
       {}},
      {"W4", "lstm_step", run_lstm_step, {}, {}},
      {"W5",
       "cnn_step",
       run_cnn_step,
       {{"loss_first", "loss_first"}, {"loss_last", "loss_last"}},
       {}},
  };
  return list;
}

const Workload* find_workload(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(), ::tolower);
  for (const Workload& w : workloads()) {
    std::string id = w.id;
    std::transform(id.begin(), id.end(), id.begin(), ::tolower);
    if (key == id || key == w.name) return &w;
  }
  return nullptr;
}

// ---------------------------------------------------------------- child processes

struct ChildOutput {
  int exit_code = -1;
  std::string out, err;
};

// Runs argv[0] with args, the environment plus `extra_env` ("KEY=VALUE"), capturing stdout
// and stderr (stderr through a temporary file, so neither pipe can fill up and block).
ChildOutput run_child(const std::vector<std::string>& argv,
                      const std::vector<std::string>& extra_env = {}) {
  ChildOutput result;
  int out_pipe[2];
  if (pipe(out_pipe) != 0) return result;
  char err_path[] = "/tmp/minidl-bench-XXXXXX";
  int err_fd = mkstemp(err_path);
  if (err_fd < 0) return result;
  unlink(err_path);
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    close(out_pipe[0]);
    close(out_pipe[1]);
    close(err_fd);
    for (const std::string& kv : extra_env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "cannot execute %s\n", args[0]);
    _exit(127);
  }
  close(out_pipe[1]);
  char buffer[4096];
  ssize_t got;
  while ((got = read(out_pipe[0], buffer, sizeof buffer)) > 0) result.out.append(buffer, got);
  close(out_pipe[0]);
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  result.exit_code = pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  lseek(err_fd, 0, SEEK_SET);
  while ((got = read(err_fd, buffer, sizeof buffer)) > 0) result.err.append(buffer, got);
  close(err_fd);
  return result;
}

// The object after "RESULT " in a child's output; null if there is none.
Json parse_result(const ChildOutput& child) {
  std::istringstream lines(child.out);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind("RESULT ", 0) == 0) return Json::parse(line.substr(7), nullptr, false);
  return Json();
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  const size_t cut = t.rfind('\n');
  return cut == std::string::npos ? t : t.substr(cut + 1);
}

// ---------------------------------------------------------------- reporting

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

double number(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

// One workload point: minidl's result, PyTorch's (null if skipped), which configuration won.
struct Row {
  const Workload* workload;
  int64_t seq = 0;
  Json minidl, torch;
  std::string torch_config, torch_note;
};

Json row_json(const Row& row) {
  Json j;
  j["workload"] = row.workload->name;
  j["id"] = row.workload->id;
  if (row.seq) j["seq"] = row.seq;
  if (row.minidl.contains("error")) {
    j["error"] = row.minidl["error"];
    return j;
  }
  j["minidl_ms"] = row.minidl["ms_median"];
  j["minidl_ms_min"] = row.minidl["ms_min"];
  j["minidl_ms_max"] = row.minidl["ms_max"];
  j["minidl_iters"] = row.minidl["iters"];
  j["minidl_peak_mib"] = row.minidl["peak_rss_mib"];
  j["minidl_foreign_cpus"] = row.minidl["foreign_cpus"];
  const bool have_torch = !row.torch.is_null();
  j["torch_ms"] = have_torch ? row.torch["ms_median"] : Json();
  j["torch_ms_min"] = have_torch ? row.torch["ms_min"] : Json();
  j["torch_ms_max"] = have_torch ? row.torch["ms_max"] : Json();
  j["torch_peak_mib"] = have_torch ? row.torch["peak_rss_mib"] : Json();
  j["torch_config"] = have_torch ? Json(row.torch_config) : Json();
  j["ratio"] =
      have_torch ? Json(number(row.minidl, "ms_median") / number(row.torch, "ms_median")) : Json();
  if (!have_torch) j["torch_skipped"] = row.torch_note;
  for (const auto& [key, out_key] : row.workload->extras) {
    if (row.minidl.contains(key)) j[out_key] = row.minidl[key];
    if (have_torch && row.torch.contains(key)) j["torch_" + out_key] = row.torch[key];
  }
  return j;
}

void print_table(const std::vector<Row>& rows) {
  std::cout << std::left << std::setw(18) << "workload" << std::right << std::setw(26)
            << "minidl ms (min-max)" << std::setw(26) << "pytorch ms (min-max)" << std::setw(8)
            << "ratio" << std::setw(11) << "minidl MiB" << std::setw(11) << "torch MiB"
            << "  details\n";
  for (const Row& row : rows) {
    std::string name = row.workload->id + " " + row.workload->name;
    if (row.seq) name += "[" + std::to_string(row.seq) + "]";
    std::cout << std::left << std::setw(18) << name << std::right;
    if (row.minidl.contains("error")) {
      std::cout << "  ERROR " << row.minidl["error"].get<std::string>() << "\n";
      continue;
    }
    auto ms = [](const Json& r) {
      return fixed(number(r, "ms_median"), 3) + " (" + fixed(number(r, "ms_min"), 2) + "-" +
             fixed(number(r, "ms_max"), 2) + ")";
    };
    const bool have_torch = !row.torch.is_null();
    std::cout << std::setw(26) << ms(row.minidl) << std::setw(26)
              << (have_torch ? ms(row.torch) : "-") << std::setw(8)
              << (have_torch
                      ? fixed(number(row.minidl, "ms_median") / number(row.torch, "ms_median"), 2)
                      : "-")
              << std::setw(11) << fixed(number(row.minidl, "peak_rss_mib"), 1) << std::setw(11)
              << (have_torch ? fixed(number(row.torch, "peak_rss_mib"), 1) : "-") << "  ";
    for (const auto& [key, out_key] : row.workload->extras) {
      if (!row.minidl.contains(key)) continue;
      std::cout << out_key << "=" << fixed(number(row.minidl, key.c_str()), 2);
      if (have_torch && row.torch.contains(key))
        std::cout << " (torch " << fixed(number(row.torch, key.c_str()), 2) << ")";
      std::cout << "  ";
    }
    if (have_torch) std::cout << "[torch " << row.torch_config << "]";
    // Other processes' CPU use during the timed loops: above ~0.05 the medians are suspect.
    const double foreign_mine = number(row.minidl, "foreign_cpus"),
                 foreign_theirs = have_torch ? number(row.torch, "foreign_cpus") : 0.0;
    if (foreign_mine > 0.05 || foreign_theirs > 0.05)
      std::cout << "  LOADED: other processes used " << fixed(foreign_mine, 2) << " CPUs (minidl)"
                << (have_torch ? ", " + fixed(foreign_theirs, 2) + " CPUs (torch)" : "");
    std::cout << "\n";
  }
  for (const Row& row : rows)
    if (row.torch.is_null() && !row.minidl.contains("error")) {
      std::cout << "PyTorch comparison skipped: " << row.torch_note << "\n";
      break;
    }
  std::cout << "(ratio = minidl / PyTorch median; PyTorch's faster of default and "
               "OMP_WAIT_POLICY=PASSIVE)\n";
}

// ---------------------------------------------------------------- driver

// The repository root is two levels above build/bench; torch_bench.py lives beside it in
// ../shared/bench. Falls back to the same path relative to the working directory.
std::string default_torch_bench() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path candidate =
        exe.parent_path().parent_path().parent_path() / "shared/bench/torch_bench.py";
    if (fs::exists(candidate, ec)) return candidate.lexically_normal().string();
  }
  return (fs::current_path(ec) / "../shared/bench/torch_bench.py").lexically_normal().string();
}

int worker_main(const std::string& name, const RunOptions& options) {
  const Workload* w = find_workload(name);
  if (!w) {
    std::cerr << "bench: unknown workload " << name << "\n";
    return 2;
  }
  Json res;
  try {
    res = w->run(options);
  } catch (const std::exception& e) {
    res = Json{{"error", e.what()}};
  }
  res["workload"] = w->name;
  if (options.seq) res["seq"] = options.seq;
  res["peak_rss_mib"] = peak_rss_mib();
  res["threads"] = omp_get_max_threads();
  std::cout << "RESULT " << res.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"minidl benchmarks (BENCHMARKS.md), side by side with PyTorch"};
  std::vector<std::string> selected;
  RunOptions options;
  bool json = false, no_torch = false;
  double quiet = 0.0;
  int threads = 2;
  std::string torch_bench = default_torch_bench(), worker;
  app.add_option("workloads", selected, "workloads to run, by id or name (default: all)");
  app.add_option("--min-time", options.min_time, "minimum seconds of timed iterations")
      ->capture_default_str();
  app.add_option("--threads", threads, "threads (OMP_NUM_THREADS overrides)")
      ->capture_default_str();
  app.add_flag("--json", json, "print one JSON object per workload instead of the table");
  app.add_option("--torch-bench", torch_bench, "path of torch_bench.py")->capture_default_str();
  app.add_flag("--no-torch", no_torch, "run minidl's side only");
  app.add_option("--wait-quiet", quiet,
                 "before each measurement wait up to this many seconds for other load < 0.1 CPU")
      ->capture_default_str();
  app.add_option("--worker", worker, "(internal) run one workload here")->group("");
  app.add_option("--seq", options.seq, "(internal) sequence length of a point")->group("");
  bool list = false;
  app.add_flag("--list", list, "list the workloads");
  CLI11_PARSE(app, argc, argv);

  if (const char* env = std::getenv("OMP_NUM_THREADS"); env && *env) threads = std::atoi(env);
  omp_set_num_threads(std::max(1, threads));
  if (!worker.empty()) return worker_main(worker, options);

  if (list) {
    for (const Workload& w : workloads()) std::cout << w.id << " " << w.name << "\n";
    return 0;
  }
  std::vector<const Workload*> chosen;
  for (const std::string& key : selected) {
    const Workload* w = find_workload(key);
    if (!w) {
      std::cerr << "bench: unknown workload '" << key << "' (implemented:";
      for (const Workload& known : workloads()) std::cerr << " " << known.id << "/" << known.name;
      std::cerr << ")\n";
      return 2;
    }
    chosen.push_back(w);
  }
  if (chosen.empty())
    for (const Workload& w : workloads()) chosen.push_back(&w);

  std::string torch_note;
  if (no_torch) {
    torch_note = "--no-torch";
  } else if (!fs::exists(torch_bench)) {
    torch_note = torch_bench + " not found (use --torch-bench PATH)";
  } else if (access("/usr/bin/python3", X_OK) != 0) {
    torch_note = "/usr/bin/python3 not found";
  }
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string min_time = std::to_string(options.min_time);

  std::vector<Row> rows;
  for (const Workload* w : chosen) {
    std::vector<int64_t> points = w->seqs.empty() ? std::vector<int64_t>{0} : w->seqs;
    for (int64_t seq : points) {
      Row row{w, seq, Json(), Json(), "", torch_note};
      std::vector<std::string> seq_args;
      if (seq) seq_args = {"--seq", std::to_string(seq)};
      if (!json) std::cerr << "running " << w->id << " " << w->name << " (minidl)..." << std::endl;
      std::vector<std::string> args = {
          self, "--worker", w->name, "--min-time", min_time, "--threads", std::to_string(threads)};
      args.insert(args.end(), seq_args.begin(), seq_args.end());
      if (quiet > 0) wait_quiet(quiet);
      ChildOutput mine = run_child(args);
      row.minidl = parse_result(mine);
      if (!row.minidl.is_object())
        row.minidl = Json{{"error", "worker exit " + std::to_string(mine.exit_code) + ": " +
                                        last_line(mine.err)}};
      if (torch_note.empty()) {
        std::vector<std::string> targs = {"/usr/bin/python3",     torch_bench, w->name,
                                          "--min-time",           min_time,    "--threads",
                                          std::to_string(threads)};
        targs.insert(targs.end(), seq_args.begin(), seq_args.end());
        std::string failure;
        for (const char* config : {"default", "passive"}) {
          if (!json)
            std::cerr << "running " << w->id << " " << w->name << " (PyTorch, " << config << ")..."
                      << std::endl;
          std::vector<std::string> env;
          if (std::string(config) == "passive") env.push_back("OMP_WAIT_POLICY=PASSIVE");
          if (quiet > 0) wait_quiet(quiet);
          ChildOutput theirs = run_child(targs, env);
          Json r = parse_result(theirs);
          if (!r.is_object() || r.contains("error")) {
            failure = r.is_object() ? r["error"].get<std::string>() : last_line(theirs.err);
            continue;
          }
          if (row.torch.is_null() || number(r, "ms_median") < number(row.torch, "ms_median")) {
            row.torch = r;
            row.torch_config = config;
          }
        }
        if (row.torch.is_null()) row.torch_note = "torch_bench.py failed: " + failure;
      }
      if (json) {
        std::cout << row_json(row).dump() << std::endl;
      }
      rows.push_back(row);
    }
  }
  if (!json) print_table(rows);
  return 0;
}
