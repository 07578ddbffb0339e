// Data-parallel training under mpirun (issue 15): models::train() on 2 ranks follows the
// 1-process curve for an MLP, the CNN and a Transformer, and for every other task family that
// shards its batches and evaluation (seq2seq, word classification, character LM, and the
// BatchNorm models with synchronized statistics); build/train under mpirun (rank 0's
// output, checkpoints, --resume under another number of processes, SIGINT on rank 0); and the
// faults (a rank that hangs, dies or fails stops every rank in bounded time, named). Every case
// needs a `make MPI=1` build and Open MPI's mpirun, and says so when skipped.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/mpi_util.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::mpi_program;
using minidl::testing::mpi_skip_message;
using minidl::testing::mpirun;
using minidl::testing::run_command;

namespace {

// The "loss STEP VALUE" lines of train_check's output, in order; and its "valid NAME VALUE".
std::vector<double> losses(const std::string& output) {
  std::istringstream in(output);
  std::string word, line;
  std::vector<double> out;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    size_t step = 0;
    double value = 0;
    if (fields >> word && word == "loss" && fields >> step >> value) out.push_back(value);
  }
  return out;
}

std::map<std::string, double> valid_metrics(const std::string& output) {
  std::istringstream in(output);
  std::string line, word, name;
  std::map<std::string, double> out;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    double value = 0;
    if (fields >> word && word == "valid" && fields >> name >> value) out[name] = value;
  }
  return out;
}

// build/train, when this build runs things under mpirun (else "").
std::string train_tool() {
  if (mpi_program("train_check").empty()) return "";
  return (std::filesystem::path(testing::build_dir()) / "train").string();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// For each (model, steps, batch): runs train_check MODEL STEPS BATCH as one process and on 2
// ranks, and checks that the loss curves agree to float-summation tolerance and the last
// validation metrics to 1e-4. Skipped, saying why, without MPI.
void check_two_ranks_follow_one(const std::vector<std::tuple<std::string, int, int>>& runs) {
  const std::string program = mpi_program("train_check");
  if (program.empty()) {
    WARN(mpi_skip_message());
    return;
  }
  for (const auto& [model, steps, batch] : runs) {
    const std::string args =
        " " + model + " " + std::to_string(steps) + " " + std::to_string(batch) + " 2>&1";
    const auto one = run_command("OMP_NUM_THREADS=1 " + program + args);
    const auto two = run_command(mpirun(2) + program + args);
    INFO(model << "\n1 process:\n" << one.output << "\n2 processes:\n" << two.output);
    REQUIRE(one.status == 0);
    REQUIRE(two.status == 0);
    const std::vector<double> a = losses(one.output), b = losses(two.output);
    REQUIRE(a.size() == static_cast<size_t>(steps));
    REQUIRE(b.size() == a.size());
    double worst = 0;
    for (size_t k = 0; k < a.size(); ++k)
      worst = std::max(worst, std::abs(a[k] - b[k]) / std::max(1e-12, std::abs(a[k])));
    INFO("worst relative loss difference " << worst);
    CHECK(worst < 2e-5);
    const auto va = valid_metrics(one.output), vb = valid_metrics(two.output);
    REQUIRE(!va.empty());
    REQUIRE(va.size() == vb.size());
    for (const auto& [name, value] : va) {
      INFO(name << ": " << value << " vs " << vb.at(name));
      CHECK(std::abs(value - vb.at(name)) <= 1e-4 * std::max(1.0, std::abs(value)));
    }
    CHECK(two.output.find("on 2 processes") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("distributed training: 2 ranks follow the 1-process loss curve (MLP, CNN, ViT)",
          "[distributed][mpi]") {
  // (model, steps, batch): odd batches cut unevenly (8 + 7), which the parts' weights make exact.
  check_two_ranks_follow_one(
      {{"mlp-debian-packages", 6, 1}, {"cnn-fashion-mnist", 6, 15}, {"vit-fashion-mnist", 5, 16}});
}

TEST_CASE("distributed training: every task family's batches and evaluation shard exactly",
          "[distributed][mpi]") {
  // seq2seq (token-weighted parts; BLEU from summed n-gram counts), word classification
  // (per-language counts), character LM, and the BatchNorm models -- VQA and captioning -- whose
  // statistics train() synchronizes over the ranks (nn/distributed/sync_batch_norm.h).
  check_two_ranks_follow_one({{"translation-deu-eng", 3, 9},
                              {"bilstm-g2p", 3, 9},
                              {"bilstm-attention-langid", 3, 9},
                              {"char-rnn-fortunes", 3, 9},
                              {"multimodal-fashion-vqa", 3, 9},
                              {"caption-lstm-attention", 3, 9}});
}

TEST_CASE("distributed training: two runs with the same seed give the same bits",
          "[distributed][mpi]") {
  const std::string program = mpi_program("train_check");
  if (program.empty()) {
    WARN(mpi_skip_message());
    return;
  }
  const std::string command = mpirun(2) + program + " cnn-fashion-mnist 4 16 2>&1";
  const auto first = run_command(command), second = run_command(command);
  INFO(first.output);
  REQUIRE(first.status == 0);
  REQUIRE(second.status == 0);
  CHECK(losses(first.output).size() == 4);
  CHECK(losses(first.output) == losses(second.output));  // %.17g: every bit
}

TEST_CASE("distributed training: build/train under mpirun, rank 0 reports, resumes on 1 rank",
          "[distributed][mpi][train]") {
  const std::string train = train_tool();
  if (train.empty()) {
    WARN(mpi_skip_message());
    return;
  }
  testing::TempDir dir;
  const std::string common =
      " --model cnn-fashion-mnist --smoke --batch-size 16 --examples 1 "
      "--checkpoint-dir " +
      dir.file("run");
  // 2 ranks for 4 steps, then 1 process from that checkpoint to 8; and 1 process straight to 8.
  const auto two = run_command(mpirun(2) + train + common + " --max-steps 4 2>&1");
  INFO(two.output);
  REQUIRE(two.status == 0);
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count(two.output, "minidl train:") == 1);  // rank 0 alone prints
  CHECK(count(two.output, "test: ") == 1);
  CHECK(two.output.find("2 processes") != std::string::npos);
  CHECK(two.output.find("data-parallel over 2 processes") != std::string::npos);
  CHECK(std::filesystem::exists(dir.path / "run" / "checkpoint.safetensors"));
  CHECK(std::filesystem::exists(dir.path / "run" / "log.csv"));

  const auto resumed = run_command(train + common + " --resume --max-steps 8 2>&1");
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK(resumed.output.find("resumed from") != std::string::npos);
  CHECK(resumed.output.find("step 4") != std::string::npos);

  testing::TempDir straight_dir;
  const auto straight = run_command(train +
                                    " --model cnn-fashion-mnist --smoke --batch-size 16 "
                                    "--examples 1 --max-steps 8 --checkpoint-dir " +
                                    straight_dir.file("run") + " 2>&1");
  REQUIRE(straight.status == 0);
  // The same 8 steps, 4 of them on 2 ranks: the same test metrics (printed to 4 decimals).
  auto test_line = [](const std::string& text) {
    const size_t at = text.find("test: ");
    return at == std::string::npos ? std::string() : text.substr(at, text.find('\n', at) - at);
  };
  CHECK(!test_line(straight.output).empty());
  CHECK(test_line(resumed.output) == test_line(straight.output));

  // And back: 2 ranks resume a 1-process checkpoint.
  const auto again = run_command(mpirun(2) + train +
                                 " --model cnn-fashion-mnist --resume "
                                 "--max-steps 10 --examples 1 --checkpoint-dir " +
                                 straight_dir.file("run") + " 2>&1");
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK(again.output.find("step 8") != std::string::npos);
}

TEST_CASE("distributed training: SIGINT to rank 0 stops every rank with a checkpoint",
          "[distributed][mpi][train]") {
  const std::string train = train_tool();
  if (train.empty()) {
    WARN(mpi_skip_message());
    return;
  }
  testing::TempDir dir;
  const std::string run_dir = dir.file("run"), out = dir.file("out.txt");
  // Start a long run in the background, wait for its first progress line, find rank 0 (its
  // environment says OMPI_COMM_WORLD_RANK=0) and interrupt it; then wait for mpirun.
  const std::string script =
      mpirun(2) + train + " --model cnn-fashion-mnist --smoke --epochs 1000 --checkpoint-dir " +
      run_dir + " > " + out + " 2>&1 & launcher=$!\n" +
      "for i in $(seq 600); do grep -q 'epoch 1/' " + out + " && break; sleep 0.1; done\n" +
      "for p in $(pgrep -f 'checkpoint-dir " + run_dir + "'); do\n" +
      "  tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=0 && "
      "kill -INT $p\ndone\n" +
      "for i in $(seq 600); do kill -0 $launcher 2>/dev/null || break; sleep 0.1; done\n" +
      "kill -0 $launcher 2>/dev/null && { kill -9 $launcher; echo STILL_RUNNING; }\n" +
      "wait $launcher; echo \"exit $?\"; cat " + out + "\n";
  std::ofstream(dir.file("run.sh")) << script;
  const auto start = std::chrono::steady_clock::now();
  const auto result = run_command("bash " + dir.file("run.sh") + " 2>&1");
  INFO(result.output);
  CHECK(seconds_since(start) < 90);
  CHECK(result.output.find("STILL_RUNNING") == std::string::npos);
  CHECK(result.output.find("interrupted after") != std::string::npos);
  CHECK(result.output.find("exit 130") != std::string::npos);
  CHECK(std::filesystem::exists(std::filesystem::path(run_dir) / "checkpoint.safetensors"));
}

TEST_CASE("distributed training: a rank that hangs, dies or fails stops every rank, named",
          "[distributed][mpi]") {
  const std::string program = mpi_program("fault_check");
  if (program.empty()) {
    WARN(mpi_skip_message());
    return;
  }
  struct Fault {
    std::string what, expect;
  };
  for (const Fault& fault : {Fault{"hang", "rank 1 never arrived"}, Fault{"die", "rank 1"},
                             Fault{"throw", "rank 1 of 2: the step failed"}}) {
    const auto start = std::chrono::steady_clock::now();
    const auto result =
        run_command("timeout 120 env " + mpirun(2, "-x MINIDL_DISTRIBUTED_TIMEOUT=3") + program +
                    " " + fault.what + " 1 5 2>&1");
    const double seconds = seconds_since(start);
    INFO(fault.what << " (" << seconds << " s):\n" << result.output);
    CHECK(result.status != 0);
    CHECK(WEXITSTATUS(result.status) != 124);  // not ended by `timeout`
    CHECK(seconds < 60);
    CHECK(result.output.find(fault.expect) != std::string::npos);
    CHECK(result.output.find("fault_check: finished") == std::string::npos);
  }
}
