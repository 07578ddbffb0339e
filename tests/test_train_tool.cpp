// tools/train as a process: Ctrl-C saves and exits with a message, and kills at random points --
// mid-batch, mid-write of a checkpoint -- never lose the run: resuming always works and ends
// with the same weights, bit for bit, as a run that was never interrupted.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "models/common/training.h"
#include "nn/safetensors.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::read_text;
using minidl::testing::TempDir;

namespace {

std::string train_binary() {
  return minidl::testing::build_dir() + "/train";
}

// Starts build/train with these arguments, its output in `log`; returns the pid.
pid_t start_train(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // stdout and stderr share one open file (one offset), so neither overwrites the other
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(126);
    std::vector<char*> argv;
    const std::string binary = train_binary();
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for the process; its exit code, or 128 + the signal that killed it.
int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> run_args(const std::string& dir, bool resume) {
  // 400 smoke epochs of 4 batches (~1.5 s of training): long enough for kills at random points
  std::vector<std::string> args = {"--model", "bahdanau-dates",     "--smoke", "--epochs",
                                   "400",     "--checkpoint-dir",   dir,       "--examples",
                                   "0",       "--checkpoint-every", "0.01"};
  if (resume) args.push_back("--resume");
  return args;
}

std::vector<float> model_values(const std::string& checkpoint) {
  std::vector<float> values;
  for (auto& [name, tensor] : nn::load_safetensors(checkpoint))
    if (name.rfind("model.", 0) == 0)
      for (float v : tensor.to_vector<float>()) values.push_back(v);
  return values;
}

}  // namespace

TEST_CASE("train tool: kills at random points never lose the run", "[tools][interrupt]") {
  TempDir whole, killed;
  REQUIRE(wait_for(start_train(run_args(whole.path.string(), false), whole.file("out.txt"))) == 0);
  const std::vector<float> expected = model_values(whole.file("checkpoint.safetensors"));
  REQUIRE_FALSE(expected.empty());

  const std::string checkpoint = killed.file("checkpoint.safetensors");
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_ms(30, 250);
  int kills = 0, code = -1;
  for (int attempt = 0; attempt < 40 && code != 0; ++attempt) {
    const bool resume = std::filesystem::exists(checkpoint);
    const pid_t pid = start_train(run_args(killed.path.string(), resume), killed.file("out.txt"));
    bool reaped = false;
    if (attempt < 12) {  // the first attempts are killed; later ones may finish
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {  // it finished first
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        reaped = true;
      } else if (kill(pid, SIGKILL) == 0) {
        ++kills;
      }
    }
    if (!reaped) code = wait_for(pid);
    const std::string out = read_text(killed.file("out.txt"));
    INFO(out);
    // Killed after its last checkpoint but before it exited: the run is complete, and resuming
    // it says so.
    if (code == 1 && out.find("already finished its 400 epochs") != std::string::npos) code = 0;
    CHECK((code == 0 || code == 128 + SIGKILL));
  }
  REQUIRE(code == 0);
  CHECK(kills >= 8);
  CHECK(model_values(checkpoint) == expected);
  // No temporary file of a killed write is left behind once a run has started after it.
  for (const auto& entry : std::filesystem::directory_iterator(killed.path))
    CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("train tool: Ctrl-C saves the checkpoint and says how to continue",
          "[tools][interrupt]") {
  TempDir whole, stopped;
  REQUIRE(wait_for(start_train(run_args(whole.path.string(), false), whole.file("out.txt"))) == 0);
  std::vector<std::string> args = run_args(stopped.path.string(), false);
  const pid_t pid = start_train(args, stopped.file("out.txt"));
  // Interrupt once training has started (the first progress line is out).
  for (int i = 0;
       i < 2000 && read_text(stopped.file("out.txt")).find("epoch 1/400") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kill(pid, SIGINT);
  const int code = wait_for(pid);
  const std::string out = read_text(stopped.file("out.txt"));
  INFO(out);
  if (code == 0) return;  // the run was so fast it finished before the signal: nothing to check
  CHECK(code == 130);
  CHECK_THAT(out, Catch::Contains("stopping after this batch and saving the checkpoint") &&
                      Catch::Contains("continue with:") && Catch::Contains("--resume"));
  REQUIRE(std::filesystem::exists(stopped.file("checkpoint.safetensors")));
  REQUIRE(wait_for(start_train(run_args(stopped.path.string(), true), stopped.file("out.txt"))) ==
          0);
  CHECK(model_values(stopped.file("checkpoint.safetensors")) ==
        model_values(whole.file("checkpoint.safetensors")));
}

TEST_CASE("train tool: option values with no meaning are refused in the user's words", "[tools]") {
  TempDir dir;
  for (const char* option : {"--epochs", "--batch-size", "--lr", "--max-steps"}) {
    std::vector<std::string> args = {"--model", "bahdanau-dates",   "--smoke",        option,
                                     "0",       "--checkpoint-dir", dir.path.string()};
    const int code = wait_for(start_train(args, dir.file("out.txt")));
    const std::string out = read_text(dir.file("out.txt"));
    INFO(option << ": " << out);
    CHECK(code != 0);
    CHECK_THAT(out, Catch::Contains(std::string(option) + " must be a positive number") &&
                        Catch::Contains("leave it out to use the model's default"));
  }
}
