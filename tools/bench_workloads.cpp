// Workloads W1-W5 (BENCHMARKS.md), each one function plus one registry line, the registry of all
// workloads (the attention ones are in tools/bench_attention.cpp, the whole models W7 and W9 in
// tools/bench_models.cpp), and the timing loop they share (same protocol as torch_bench.py).
#include "tools/bench_workloads.h"

#include <cblas.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "minidl.h"

namespace bench {

// ---------------------------------------------------------------- measurement

double own_cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6 + r.ru_stime.tv_sec +
         r.ru_stime.tv_usec * 1e-6;
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
// With a `budget` (seconds, > 0) a slow step gets fewer iterations, as torch_bench.py's
// long_attention: warm-up stops early when it alone would exceed the budget, and timing stops
// (after at least 3 rounds) when one more round would.
std::vector<Json> run_timed_interleaved(const std::vector<std::function<void()>>& steps,
                                        double min_time, int warmup = 3, int min_iters = 20,
                                        int max_iters = 2000, double budget = 0) {
  for (int i = 0; i < warmup; ++i) {
    const double t0 = now_seconds();
    for (const auto& step : steps) step();
    if (budget > 0 && (now_seconds() - t0) * (warmup + min_iters) > budget) break;
  }
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
    if (budget > 0 && round >= 3 && elapsed * (round + 1) / round > budget) break;
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

Json run_timed(const std::function<void()>& step, double min_time, double budget) {
  return run_timed_interleaved({step}, min_time, 3, 20, 2000, budget)[0];
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
  // The reference is OpenBLAS threading the product itself (minidl keeps OpenBLAS on one thread
  // and cuts products into blocks on its own pool: core/parallel.h), with as many threads.
  auto raw_sgemm = [&] {
    openblas_set_num_threads(get_num_threads());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dim, dim, dim, 1.0f, a.data_ptr<float>(),
                dim, b.data_ptr<float>(), dim, 0.0f, c.data_ptr<float>(), dim);
    openblas_set_num_threads(1);
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

// A training step as torch_bench.py's: optimizer.zero_grad(set_to_none), loss = compute_loss()
// (forward and loss), backward, optimizer.step(), timed with run_timed. Its check: every loss is
// finite and the last timed loss is below the first (Adam on one fixed batch must fit it).
Json run_training_step(minidl::optim::Optimizer& optimizer,
                       const std::function<minidl::Tensor()>& compute_loss,
                       const RunOptions& options) {
  using namespace minidl;
  std::vector<double> losses;
  Json res = run_timed(
      [&] {
        optimizer.zero_grad(/*set_to_none=*/true);
        Tensor loss = compute_loss();
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

Json run_classifier_step(const std::shared_ptr<minidl::nn::Module>& model, const minidl::Tensor& x,
                         const minidl::Tensor& y, const RunOptions& options) {
  using namespace minidl;
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-3));
  return run_training_step(
      optimizer, [&] { return cross_entropy((*model)(x), y); }, options);
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
        out = std::get<0>(lstm->forward(x));
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
      {"W6", "mha_step", run_mha_step, {}, {}},
      {"W6L",
       "long_attention",
       run_long_attention,
       {{"matmul_gflops_median", "gflops"}},
       {2048, 4096, 8192, 16384}},
      {"W7",
       "vit_step",
       run_vit_step,
       {{"loss_first", "loss_first"}, {"loss_last", "loss_last"}},
       {}},
      {"W8",
       "nmt_step",
       run_nmt_step,
       {{"loss_first", "loss_first"}, {"loss_last", "loss_last"}},
       {}},
      {"W9",
       "gat_step",
       run_gat_step,
       {{"loss_first", "loss_first"},
        {"loss_last", "loss_last"},
        {"edges_directed_incl_self_loops", "edges"},
        {"form", "form"}},
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

}  // namespace bench
