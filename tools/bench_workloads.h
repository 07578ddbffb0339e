// The workloads of BENCHMARKS.md on minidl's side, and how they are timed (tools/bench.cpp runs
// them in child processes and sets them beside PyTorch's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tools/bench_process.h"

namespace minidl {
class Tensor;
namespace nn {
class Module;
}
namespace optim {
class Optimizer;
}
}  // namespace minidl

namespace bench {

using Json = nlohmann::json;

struct RunOptions {
  double min_time = 2.0;  // seconds of timed iterations, at least
  int64_t seq = 0;        // sequence length, for workloads measured at several lengths
};

// The registry. `extras` maps a key of the RESULT json (both sides use the same keys) to the
// key it gets in bench's --json output; each appears in the table's last column.
struct Workload {
  std::string id;    // "W1"
  std::string name;  // "gemm": also the workload's name in torch_bench.py
  std::function<Json(const RunOptions&)> run;
  std::vector<std::pair<std::string, std::string>> extras;
  std::vector<int64_t> seqs;  // several points (one child each) at these lengths; empty: one
};

const std::vector<Workload>& workloads();
// By id ("W1") or name ("gemm"), case-insensitive; null if unknown.
const Workload* find_workload(std::string key);

// torch_bench.py's run_timed: 3 warm-up calls, then timed calls until at least 20 ran and
// min_time seconds passed; with budget > 0, fewer for a slow step (at least 3), to stay within
// about `budget` seconds. Median/min/max ms and noise figures.
Json run_timed(const std::function<void()>& step, double min_time, double budget = 0);

// A training step as torch_bench.py's, timed with run_timed: optimizer.zero_grad(set_to_none),
// loss = compute_loss() (forward and loss), backward, optimizer.step(). Adds loss_first and
// loss_last (the first and last timed losses); an error if any loss is not finite or the last is
// not below the first.
Json run_training_step(minidl::optim::Optimizer& optimizer,
                       const std::function<minidl::Tensor()>& compute_loss,
                       const RunOptions& options);
// The same for a classifier: Adam(lr 1e-3), loss = cross_entropy(model(x), y).
Json run_classifier_step(const std::shared_ptr<minidl::nn::Module>& model, const minidl::Tensor& x,
                         const minidl::Tensor& y, const RunOptions& options);

// The attention workloads (tools/bench_attention.cpp).
Json run_mha_step(const RunOptions& options);
Json run_long_attention(const RunOptions& options);
Json run_nmt_step(const RunOptions& options);
// The whole-model workloads (tools/bench_models.cpp).
Json run_vit_step(const RunOptions& options);
Json run_gat_step(const RunOptions& options);

}  // namespace bench
