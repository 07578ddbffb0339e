// tools/bench: --contend measures a workload idle, on one thread and with busy processes
// competing, reports the keys the README's table is built from, and leaves no busy process
// behind; bad options are refused with a message.
#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/test_util.h"

namespace {

using Run = minidl::testing::CommandResult;

Run run_bench(const std::string& args) {
  const std::string command = minidl::testing::build_dir() + "/bench " + args + " 2>&1";
  return minidl::testing::run_command(command);
}

// Processes whose command line contains `marker`.
int processes_with(const std::string& marker) {
  int count = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return -1;
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream file(std::string("/proc/") + entry->d_name + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(marker) != std::string::npos) ++count;
  }
  closedir(proc);
  return count;
}

}  // namespace

TEST_CASE("bench --contend reports idle, one-thread and contended times", "[bench]") {
  // A --contend-limit no other test uses marks this run's processes.
  const std::string limit = "--contend-limit 37.25";
  Run run = run_bench("W3 --no-torch --contend 1 " + limit + " --min-time 0.3 --json");
  INFO(run.output);
  REQUIRE(run.status == 0);
  std::istringstream lines(run.output);
  std::string line, json_line;
  while (std::getline(lines, line))
    if (!line.empty() && line[0] == '{') json_line = line;
  REQUIRE_FALSE(json_line.empty());
  const nlohmann::json row = nlohmann::json::parse(json_line);
  CHECK(row["workload"] == "mlp_step");
  for (const char* key : {"minidl_ms", "contended_minidl_ms", "minidl_single_thread_ms",
                          "contended_vs_single_thread"}) {
    INFO(key);
    REQUIRE(row.contains(key));
    REQUIRE(row[key].is_number());
    CHECK(row[key].get<double>() > 0);
  }
  // The busy process really competed: other processes used CPU during the contended loop.
  CHECK(row["contended_foreign_cpus"].get<double>() > 0.3);
  // Without PyTorch the comparison keys are there, empty.
  CHECK(row["contended_torch_ms"].is_null());
  CHECK(row["contended_ratio"].is_null());
  CHECK(row.contains("torch_skipped"));
  // Every busy process has stopped with the run.
  CHECK(processes_with(limit) == 0);
}

TEST_CASE("bench refuses bad --contend options with a message", "[bench]") {
  Run negative = run_bench("W3 --no-torch --contend -1");
  CHECK(negative.status != 0);
  CHECK_THAT(negative.output, Catch::Contains("--contend"));
  Run zero_limit = run_bench("W3 --no-torch --contend 1 --contend-limit 0");
  CHECK(zero_limit.status != 0);
  CHECK_THAT(zero_limit.output, Catch::Contains("--contend-limit"));
  Run unknown = run_bench("W42 --no-torch");
  CHECK(unknown.status != 0);
  CHECK_THAT(unknown.output, Catch::Contains("unknown workload 'W42'"));
}
