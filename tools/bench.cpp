// bench: minidl's side of the benchmarks in BENCHMARKS.md, measured next to PyTorch's.
//
//   bench                      every implemented workload, one table
//   bench W1 W2 --json         a subset, one JSON object per line
//   bench --worker gemm        (internal) run one workload in this process, print RESULT {json}
//
// Each workload runs in its own child process (this program re-executed with --worker), so its
// peak RSS is that of a process that ran only that workload. Right after it, PyTorch's side
// (tools/torch_bench.py, this repository's own) runs the same workload twice -- default OpenMP
// settings and OMP_WAIT_POLICY=PASSIVE -- and the faster of the two is the reference for the
// ratio.
//
// With --contend N, every workload is measured twice more on both sides while N busy processes
// compete for the cores (bounded: each stops by itself after --contend-limit seconds, or when
// this program dies), and once more on minidl's side alone on one thread on the idle machine:
// the goal for a busy machine is at most PyTorch's contended time and at most 1.5x minidl's own
// idle single-thread time (one free core is the most anyone can have then).
// Timing follows torch_bench.py: 3 warm-ups, then at least 20 timed iterations and at least
// --min-time seconds; median / min / max.
//
// A workload is one function `Json run_xxx(const RunOptions&)` plus one line in the registry
// (workloads()): the function builds its inputs, times its step with run_timed(), and returns
// the timing with any extra figures (GFLOPS, us per op, ...).
#include <signal.h>
#include <sys/prctl.h>
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

#include "core/parallel.h"
#include "tools/bench_workloads.h"

namespace fs = std::filesystem;
using bench::find_workload;
using bench::Json;
using bench::peak_rss_mib;
using bench::RunOptions;
using bench::wait_quiet;
using bench::Workload;
using bench::workloads;

namespace {

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
    bench::exec_child(argv, extra_env);
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

// ---------------------------------------------------------------- contention

// N processes that each keep one core busy with arithmetic (no system calls, like a shell
// busy loop), for at most `limit` seconds: each checks the clock now and then and exits on its
// own, and the kernel kills it if this program dies first.
class BusyProcesses {
 public:
  BusyProcesses(int count, double limit) {
    const pid_t parent = getpid();
    for (int i = 0; i < count; ++i) {
      std::cout.flush();
      std::cerr.flush();
      const pid_t pid = fork();
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::duration<double>(limit);
        volatile uint64_t x = 1;
        while (std::chrono::steady_clock::now() < deadline)
          for (int k = 0; k < 1000000; ++k) x = x * 6364136223846793005ull + 1442695040888963407ull;
        _exit(0);
      }
      if (pid > 0) pids_.push_back(pid);
    }
  }
  ~BusyProcesses() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }
  BusyProcesses(const BusyProcesses&) = delete;
  BusyProcesses& operator=(const BusyProcesses&) = delete;

 private:
  std::vector<pid_t> pids_;
};

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
// With --contend, also: both sides under contention, and minidl on one thread, idle.
struct Row {
  const Workload* workload = nullptr;
  int64_t seq = 0;
  Json minidl, torch;
  std::string torch_config, torch_note;
  Json minidl_busy, torch_busy, minidl_single;
  std::string torch_busy_config;
};

// a / b for two results' medians, or null when either is missing.
Json ms_ratio(const Json& a, const Json& b) {
  const double x = number(a, "ms_median"), y = number(b, "ms_median");
  return x > 0 && y > 0 ? Json(x / y) : Json();
}

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
  if (!row.minidl_busy.is_null()) {
    auto ms = [](const Json& r) {
      return r.is_object() && r.contains("ms_median") ? r["ms_median"] : Json();
    };
    j["contended_minidl_ms"] = ms(row.minidl_busy);
    j["contended_minidl_ms_min"] = row.minidl_busy.value("ms_min", Json());
    j["contended_minidl_ms_max"] = row.minidl_busy.value("ms_max", Json());
    j["contended_torch_ms"] = ms(row.torch_busy);
    j["contended_torch_config"] = row.torch_busy.is_null() ? Json() : Json(row.torch_busy_config);
    j["contended_ratio"] = ms_ratio(row.minidl_busy, row.torch_busy);
    j["minidl_single_thread_ms"] = ms(row.minidl_single);
    // The goal: <= 1.5 on a 2-core machine with one busy process.
    j["contended_vs_single_thread"] = ms_ratio(row.minidl_busy, row.minidl_single);
    j["contended_foreign_cpus"] = row.minidl_busy.value("foreign_cpus", Json());
    if (row.minidl_busy.contains("error")) j["contended_error"] = row.minidl_busy["error"];
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
    // An extra is a figure (2 decimals), a count or a string (W9's "form").
    auto extra = [](const Json& r, const std::string& key) {
      const Json& v = r[key];
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
      return fixed(number(r, key.c_str()), 2);
    };
    for (const auto& [key, out_key] : row.workload->extras) {
      if (!row.minidl.contains(key)) continue;
      std::cout << out_key << "=" << extra(row.minidl, key);
      if (have_torch && row.torch.contains(key))
        std::cout << " (torch " << extra(row.torch, key) << ")";
      std::cout << "  ";
    }
    if (have_torch) std::cout << "[torch " << row.torch_config << "]";
    // Other processes' CPU use during the idle timed loops: above ~0.05 the medians are suspect.
    const double foreign_mine = number(row.minidl, "foreign_cpus"),
                 foreign_theirs = have_torch ? number(row.torch, "foreign_cpus") : 0.0;
    if (foreign_mine > 0.05 || foreign_theirs > 0.05)
      std::cout << "  LOADED: other processes used " << fixed(foreign_mine, 2) << " CPUs (minidl)"
                << (have_torch ? ", " + fixed(foreign_theirs, 2) + " CPUs (torch)" : "");
    if (!row.minidl_busy.is_null()) {
      const Json busy_ratio = ms_ratio(row.minidl_busy, row.torch_busy);
      const Json vs_single = ms_ratio(row.minidl_busy, row.minidl_single);
      std::cout << "\n"
                << std::setw(18) << "  (busy)" << std::setw(26)
                << (row.minidl_busy.contains("ms_median") ? ms(row.minidl_busy) : "-")
                << std::setw(26) << (row.torch_busy.is_null() ? "-" : ms(row.torch_busy))
                << std::setw(8) << (busy_ratio.is_null() ? "-" : fixed(busy_ratio.get<double>(), 2))
                << "  minidl 1 thread idle "
                << (row.minidl_single.contains("ms_median")
                        ? fixed(number(row.minidl_single, "ms_median"), 3) + " ms"
                        : "-")
                << ", busy / 1-thread "
                << (vs_single.is_null() ? "-" : fixed(vs_single.get<double>(), 2));
      if (!row.torch_busy.is_null()) std::cout << "  [torch " << row.torch_busy_config << "]";
    }
    std::cout << "\n";
  }
  for (const Row& row : rows)
    if (row.torch.is_null() && !row.minidl.contains("error")) {
      std::cout << "PyTorch comparison skipped: " << row.torch_note << "\n";
      break;
    }
  std::cout << "(ratio = minidl / PyTorch median; PyTorch's faster of default and "
               "OMP_WAIT_POLICY=PASSIVE";
  if (!rows.empty() && !rows.front().minidl_busy.is_null())
    std::cout << "; (busy): the same with busy processes competing for the cores";
  std::cout << ")\n";
}

// ---------------------------------------------------------------- driver

// tools/torch_bench.py of the repository build/bench was built from (the repository root is
// two levels above build/bench), else under the working directory.
std::string default_torch_bench() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path candidate = exe.parent_path().parent_path() / "tools/torch_bench.py";
    if (fs::exists(candidate, ec)) return candidate.lexically_normal().string();
  }
  return (fs::current_path(ec) / "tools/torch_bench.py").lexically_normal().string();
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
  // A workload that checks its result afterwards records the peak before the check.
  if (!res.contains("peak_rss_mib")) res["peak_rss_mib"] = peak_rss_mib();
  res["threads"] = minidl::get_num_threads();
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
  int contend = 0;
  double contend_limit = 900;
  app.add_option("--contend", contend,
                 "also measure both sides with this many busy processes competing for the cores")
      ->check(CLI::Range(0, 64));
  app.add_option("--contend-limit", contend_limit,
                 "seconds after which each busy process stops by itself")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--worker", worker, "(internal) run one workload here")->group("");
  app.add_option("--seq", options.seq, "(internal) sequence length of a point")->group("");
  bool list = false;
  app.add_flag("--list", list, "list the workloads");
  CLI11_PARSE(app, argc, argv);

  if (const char* env = std::getenv("OMP_NUM_THREADS"); env && *env) threads = std::atoi(env);
  threads = std::max(1, threads);
  minidl::set_num_threads(threads);
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

  // One side's measurement of a workload point in a child process: minidl (this program with
  // --worker) or PyTorch (the faster of its two configurations; `config` says which).
  auto run_minidl = [&](const Workload* w, const std::vector<std::string>& seq_args, int n_threads,
                        const char* label) {
    if (!json)
      std::cerr << "running " << w->id << " " << w->name << " (minidl" << label << ")..."
                << std::endl;
    std::vector<std::string> args = {
        self, "--worker", w->name, "--min-time", min_time, "--threads", std::to_string(n_threads)};
    args.insert(args.end(), seq_args.begin(), seq_args.end());
    // The child's thread count is --threads, not an inherited OMP_NUM_THREADS. minidl's kernels
    // use no OpenMP team; W1's raw-OpenBLAS reference does: passive there, so its idle team
    // does not spin against minidl's pool between the interleaved calls.
    std::vector<std::string> env = {"OMP_NUM_THREADS=" + std::to_string(n_threads)};
    if (w->name == "gemm") env.push_back("OMP_WAIT_POLICY=PASSIVE");
    ChildOutput mine = run_child(args, env);
    Json result = parse_result(mine);
    if (!result.is_object())
      result = Json{
          {"error", "worker exit " + std::to_string(mine.exit_code) + ": " + last_line(mine.err)}};
    return result;
  };
  auto run_torch = [&](const Workload* w, const std::vector<std::string>& seq_args, bool idle,
                       const char* label, std::string& config, std::string& note) {
    std::vector<std::string> targs = {"/usr/bin/python3",     torch_bench, w->name,
                                      "--min-time",           min_time,    "--threads",
                                      std::to_string(threads)};
    targs.insert(targs.end(), seq_args.begin(), seq_args.end());
    Json best;
    std::string failure;
    for (const char* cfg : {"default", "passive"}) {
      if (!json)
        std::cerr << "running " << w->id << " " << w->name << " (PyTorch, " << cfg << label
                  << ")..." << std::endl;
      std::vector<std::string> env;
      if (std::string(cfg) == "passive") env.push_back("OMP_WAIT_POLICY=PASSIVE");
      if (idle && quiet > 0) wait_quiet(quiet);
      ChildOutput theirs = run_child(targs, env);
      Json r = parse_result(theirs);
      if (!r.is_object() || r.contains("error")) {
        failure = r.is_object() ? r["error"].get<std::string>() : last_line(theirs.err);
        continue;
      }
      if (best.is_null() || number(r, "ms_median") < number(best, "ms_median")) {
        best = r;
        config = cfg;
      }
    }
    if (best.is_null()) note = "torch_bench.py failed: " + failure;
    return best;
  };

  std::vector<Row> rows;
  for (const Workload* w : chosen) {
    std::vector<int64_t> points = w->seqs.empty() ? std::vector<int64_t>{0} : w->seqs;
    for (int64_t seq : points) {
      Row row;
      row.workload = w;
      row.seq = seq;
      row.torch_note = torch_note;
      std::vector<std::string> seq_args;
      if (seq) seq_args = {"--seq", std::to_string(seq)};
      if (quiet > 0) wait_quiet(quiet);
      row.minidl = run_minidl(w, seq_args, threads, "");
      if (torch_note.empty())
        row.torch = run_torch(w, seq_args, true, "", row.torch_config, row.torch_note);
      if (contend > 0) {
        if (quiet > 0) wait_quiet(quiet);
        row.minidl_single = run_minidl(w, seq_args, 1, ", 1 thread");
        BusyProcesses busy(contend, contend_limit);
        row.minidl_busy = run_minidl(w, seq_args, threads, ", busy");
        std::string note;
        if (torch_note.empty())
          row.torch_busy = run_torch(w, seq_args, false, ", busy", row.torch_busy_config, note);
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
