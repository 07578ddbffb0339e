// tools/bench_distributed: in a build with MPI (`make MPI=1`, Open MPI's mpirun on PATH) it
// measures a few all-reduce sizes, a tiny gpt-fortunes step and a smoke cnn-fashion-mnist
// evaluation on 1 and 2 ranks and reports them as JSON lines that hang together; a build without
// MPI says how to rebuild and exits with 2.
#include <sys/wait.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/test_util.h"

namespace {

using minidl::testing::CommandResult;
using Json = nlohmann::json;

CommandResult run_tool(const std::string& args) {
  return minidl::testing::run_command(minidl::testing::build_dir() + "/bench_distributed " + args +
                                      " 2>&1");
}

int exit_code(const CommandResult& r) {
  return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
}

// The JSON objects of --json output, by their "kind".
std::multimap<std::string, Json> json_lines(const std::string& output) {
  std::multimap<std::string, Json> out;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("kind")) out.emplace(j["kind"].get<std::string>(), j);
  }
  return out;
}

bool mpi_available() {
  return minidl::distributed::built_with_mpi() &&
         minidl::testing::run_command("command -v mpirun").status == 0;
}

}  // namespace

TEST_CASE("bench_distributed without MPI says to rebuild with make MPI=1", "[bench]") {
  if (minidl::distributed::built_with_mpi()) {
    WARN("skipped: this build has MPI (the check is for builds without it)");
    return;
  }
  const CommandResult run = run_tool("--only allreduce --min-time 0.01");
  INFO(run.output);
  CHECK(exit_code(run) == 2);
  CHECK(run.output.find("make MPI=1") != std::string::npos);
  CHECK(run.output.find("install_deps.sh --mpi") != std::string::npos);
}

TEST_CASE("bench_distributed measures all-reduce sizes and fits alpha and beta", "[bench][mpi]") {
  if (!mpi_available()) {
    WARN("skipped: needs minidl built with MPI and Open MPI's mpirun (make MPI=1)");
    return;
  }
  const CommandResult run =
      run_tool("--only allreduce --min-time 0.01 --min-size 1K --max-size 4K --json --no-torch");
  INFO(run.output);
  REQUIRE(exit_code(run) == 0);
  const auto lines = json_lines(run.output);
  std::vector<int64_t> sizes;
  for (auto [it, end] = lines.equal_range("allreduce"); it != end; ++it) {
    const Json& j = it->second;
    sizes.push_back(j["bytes"].get<int64_t>());
    CHECK(j["ranks"] == 2);
    CHECK(j["iters"].get<int64_t>() >= 5);
    CHECK(j["median_us"].get<double>() > 0);
    CHECK(j["min_us"].get<double>() <= j["median_us"].get<double>());
    // 2 ranks: the ring factor 2(N-1)/N is 1, so bus and algorithm bandwidth agree.
    CHECK(j["busbw_gbs"].get<double>() == Approx(j["algbw_gbs"].get<double>()));
    CHECK(j["busbw_gbs"].get<double>() ==
          Approx(j["bytes"].get<double>() / j["median_us"].get<double>() / 1e3));
  }
  CHECK(sizes == std::vector<int64_t>{1024, 2048, 4096});
  REQUIRE(lines.count("allreduce_fit") == 1);
  const Json& fit = lines.find("allreduce_fit")->second;
  CHECK(fit["latency_us"].get<double>() > 0);
  if (fit["ok"].get<bool>()) CHECK(fit["beta_ns_per_byte"].get<double>() > 0);
  CHECK(lines.count("model") == 0);  // --only allreduce
  REQUIRE(lines.count("torch_skipped") == 1);
  CHECK(lines.find("torch_skipped")->second["reason"] == "--no-torch");

  const CommandResult bad = run_tool("--only allreduce --max-size 3X");
  CHECK(exit_code(bad) == 2);
  CHECK(bad.output.find("'3X'") != std::string::npos);
}

TEST_CASE("bench_distributed trains a model step on 1 and 2 ranks and predicts scaling",
          "[bench][mpi]") {
  if (!mpi_available()) {
    WARN("skipped: needs minidl built with MPI and Open MPI's mpirun (make MPI=1)");
    return;
  }
  // gpt-fortunes needs no data set: its model is built alone and fed random ids.
  const CommandResult run =
      run_tool("--only models --models gpt-fortunes --windows 1 --min-time 0.01 --json");
  INFO(run.output);
  REQUIRE(exit_code(run) == 0);
  const auto lines = json_lines(run.output);
  std::map<std::pair<int, int>, Json> configs;  // (ranks, threads)
  for (auto [it, end] = lines.equal_range("model"); it != end; ++it)
    configs[{it->second["ranks"].get<int>(), it->second["threads"].get<int>()}] = it->second;
  REQUIRE(configs.size() == 3);
  for (const auto& [key, j] : configs) {
    INFO(j.dump());
    CHECK(j["model"] == "gpt-fortunes");
    CHECK(j["unit"] == "tokens");
    CHECK(j["per_rank_items"] == 128);
    CHECK(j["items_per_step"].get<double>() == 128.0 * key.first);
    CHECK(j["grad_bytes"].get<int64_t>() == 4 * j["parameters"].get<int64_t>());
    CHECK(j["items_per_s"].get<double>() > 0);
    CHECK(j["compute_ms"].get<double>() ==
          Approx(j["forward_ms"].get<double>() + j["backward_ms"].get<double>()));
    CHECK(j["step_ms"].get<double>() >= 0.9 * j["compute_ms"].get<double>());
  }
  // One rank does no communication; two start their one bucket from the gradient hooks.
  CHECK(configs.at({1, 1})["buckets_started_early"] == 0);
  CHECK(configs.at({2, 1})["buckets"] == 1);
  CHECK(configs.at({2, 1})["buckets_started_early"] == 1);
  CHECK(configs.at({2, 1})["finish_ms"].get<double>() > 0);

  REQUIRE(lines.count("local_scaling") == 1);
  const Json& local = lines.find("local_scaling")->second;
  CHECK(local["measured_efficiency"].get<double>() > 0);
  CHECK_FALSE(local.contains("predicted_efficiency"));  // no all-reduce fit with --only models

  // 2 links x 3 machine counts; more machines never predict a higher efficiency.
  std::map<std::string, std::map<int, double>> efficiency;
  for (auto [it, end] = lines.equal_range("prediction"); it != end; ++it) {
    const double e = it->second["efficiency"].get<double>();
    CHECK(e > 0);
    CHECK(e <= 1);
    CHECK(it->second["efficiency_overlapped"].get<double>() >= e);
    efficiency[it->second["link"].get<std::string>()][it->second["machines"].get<int>()] = e;
  }
  REQUIRE(efficiency.size() == 2);
  for (const auto& [link, by_n] : efficiency) {
    INFO(link);
    REQUIRE(by_n.size() == 3);
    CHECK(by_n.at(2) >= by_n.at(8));
    CHECK(by_n.at(8) >= by_n.at(64));
  }
  CHECK(efficiency.at("100 Gbit/s").at(64) >= efficiency.at("10 Gbit/s").at(64));
}

TEST_CASE("bench_distributed times the sharded evaluation on 1 and 2 ranks", "[bench][mpi]") {
  if (!mpi_available()) {
    WARN("skipped: needs minidl built with MPI and Open MPI's mpirun (make MPI=1)");
    return;
  }
  // The smoke setup (a tiny model on a few examples) keeps both runs around a second.
  const CommandResult run = run_tool(
      "--only evaluation --eval-models cnn-fashion-mnist --eval-smoke --min-time 0.01 --json");
  INFO(run.output);
  REQUIRE(exit_code(run) == 0);
  const auto lines = json_lines(run.output);
  std::map<std::pair<int, int>, Json> configs;  // (ranks, threads)
  for (auto [it, end] = lines.equal_range("evaluation"); it != end; ++it)
    configs[{it->second["ranks"].get<int>(), it->second["threads"].get<int>()}] = it->second;
  REQUIRE(configs.size() == 2);
  REQUIRE(configs.count({1, 2}) == 1);
  REQUIRE(configs.count({2, 1}) == 1);
  for (const auto& [key, j] : configs) {
    INFO(j.dump());
    CHECK_FALSE(j.contains("setup_error"));
    CHECK(j["model"] == "cnn-fashion-mnist");
    CHECK(j["smoke"] == true);
    CHECK(j["by_sums"] == true);
    CHECK(j["evaluations"].get<int64_t>() >= 3);
    CHECK(j["seconds"].get<double>() > 0);
    CHECK(j["min_seconds"].get<double>() <= j["seconds"].get<double>());
    CHECK(j["seconds"].get<double>() <= j["max_seconds"].get<double>());
    CHECK(j["metric"] == "accuracy");
    CHECK(j["value"].get<double>() >= 0);
    CHECK(j["value"].get<double>() <= 1);
    CHECK(j["metrics"]["accuracy"] == j["value"]);
  }
  // The ranks' sums add up to the whole split's: the same accuracy, exactly, as one process.
  CHECK(configs.at({1, 2})["value"].get<double>() == configs.at({2, 1})["value"].get<double>());
  REQUIRE(lines.count("evaluation_comparison") == 1);
  const Json& comparison = lines.find("evaluation_comparison")->second;
  CHECK(comparison["equal"] == true);
  CHECK(comparison["difference"].get<double>() == 0);
  CHECK(comparison["speedup"].get<double>() == Approx(configs.at({1, 2})["seconds"].get<double>() /
                                                      configs.at({2, 1})["seconds"].get<double>()));
  CHECK(lines.count("model") == 0);  // --only evaluation
  CHECK(lines.count("allreduce") == 0);

  // A setup that fails is reported for that model and the others still run: here the package
  // graph, which the task reads relative to the working directory, from an empty directory.
  const minidl::testing::TempDir empty;
  const CommandResult partial = minidl::testing::run_command(
      "cd '" + empty.path.string() + "' && '" +
      std::filesystem::absolute(minidl::testing::build_dir()).string() +
      "/bench_distributed' --only evaluation --eval-models gat-debian-packages,cnn-fashion-mnist "
      "--eval-smoke --min-time 0.01 --json 2>&1");
  INFO(partial.output);
  REQUIRE(exit_code(partial) == 0);
  std::multimap<std::string, Json> by_model;
  for (const auto& [kind, j] : json_lines(partial.output))
    if (kind == "evaluation") by_model.emplace(j["model"].get<std::string>(), j);
  REQUIRE(by_model.count("gat-debian-packages") == 1);  // the 2-rank run is not attempted
  const Json& failed = by_model.find("gat-debian-packages")->second;
  CHECK(failed["setup_error"].get<std::string>().find("debian_packages_graph") !=
        std::string::npos);
  CHECK_FALSE(failed.contains("seconds"));
  REQUIRE(by_model.count("cnn-fashion-mnist") == 2);
  for (auto [it, end] = by_model.equal_range("cnn-fashion-mnist"); it != end; ++it)
    CHECK(it->second["seconds"].get<double>() > 0);

  // A model trained by acting has no split to share out: refused before anything runs.
  const CommandResult bad = run_tool("--only evaluation --eval-models attention-dqn-cartpole");
  CHECK(exit_code(bad) == 2);
  CHECK(bad.output.find("attention-dqn-cartpole learns by acting") != std::string::npos);
}
