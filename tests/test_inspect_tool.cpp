// build/inspect (tools/inspect.cpp) as a process: built-in nets and registered models drawn as
// DOT, SVG when Graphviz is there, a .dot and directions when it is not, errors that list the
// valid names, MINIDL_TRACE=1 through the environment.
#include <sys/wait.h>

#include <fstream>
#include <iterator>

#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::read_text;
using minidl::testing::run_command;
using minidl::testing::TempDir;

namespace {

// The tool (built by `make test`; a build directory of its own, such as the sanitizers', must
// build BUILD/inspect too).
std::string inspect_binary() {
  const std::string path = minidl::testing::build_dir() + "/inspect";
  INFO("the tool is missing: make " << path);
  REQUIRE(std::filesystem::exists(path));
  return path;
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool has_dot() {
  return run_command("command -v dot >/dev/null 2>&1").status == 0;
}

}  // namespace

TEST_CASE("inspect tool: a built-in net as DOT, with parameter names and a summary",
          "[inspect][tools]") {
  TempDir dir;
  const std::string path = dir.file("mlp.dot");
  const auto r =
      run_command(inspect_binary() + " --net mlp --activation tanh --out " + path + " 2>&1");
  INFO(r.output);
  REQUIRE(exit_code(r.status) == 0);
  CHECK(r.output.find("tape: 4 entries, 7 edges, 4 leaves requiring grad (4 of them parameters)") !=
        std::string::npos);
  CHECK(r.output.find("wrote " + path) != std::string::npos);
  const std::string dot = read_text(path);
  INFO(dot);
  CHECK(dot.rfind("digraph tape {", 0) == 0);
  for (const char* name : {"AddmmBackward0", "TanhBackward0", "CrossEntropyBackward0", "fc1.weight",
                           "fc1.bias", "fc2.weight", "fc2.bias", "saved: "})
    CHECK(dot.find(name) != std::string::npos);
  CHECK(dot.find("grad [8, 4], norm") != std::string::npos);  // drawn after backward
}

TEST_CASE("inspect tool: every built-in net and activation runs", "[inspect][tools]") {
  TempDir dir;
  for (const char* net : {"attention", "lstm", "conv"}) {
    const auto r = run_command(inspect_binary() + " --net " + net + " --out " +
                               dir.file(std::string(net) + ".dot") + " 2>&1");
    INFO(net << ": " << r.output);
    CHECK(exit_code(r.status) == 0);
  }
  for (const auto& [activation, node] :
       std::vector<std::pair<std::string, std::string>>{{"relu", "ReluBackward0"},
                                                        {"gelu", "GeluBackward0"},
                                                        {"sigmoid", "SigmoidBackward0"},
                                                        {"elu", "EluBackward0"},
                                                        {"softplus", "SoftplusBackward0"},
                                                        {"mish", "MishBackward0"}}) {
    const std::string path = dir.file(activation + ".dot");
    const auto r = run_command(inspect_binary() + " --net mlp --activation " + activation +
                               " --out " + path + " 2>&1");
    INFO(activation << ": " << r.output);
    CHECK(exit_code(r.status) == 0);
    CHECK(read_text(path).find(node) != std::string::npos);
  }
}

TEST_CASE("inspect tool: a registered model, named as in its state dict", "[inspect][tools]") {
  TempDir dir;
  const std::string path = dir.file("dates.dot");
  const auto r = run_command(inspect_binary() + " --model bahdanau-dates --out " + path + " 2>&1");
  INFO(r.output);
  REQUIRE(exit_code(r.status) == 0);
  CHECK(r.output.find("inspect bahdanau-dates: loss ") != std::string::npos);
  const std::string dot = read_text(path);
  for (const char* name : {"encoder.weight_ih_l0", "decoder.weight_hh_l0",
                           "source_embedding.weight", "EmbeddingBackward0", "LstmBackward0"})
    CHECK(dot.find(name) != std::string::npos);
  CHECK(dot.find("lightyellow") == std::string::npos);  // every leaf is a named parameter
}

TEST_CASE("inspect tool: svg through Graphviz, or a .dot and directions without it",
          "[inspect][tools]") {
  TempDir dir;
  if (has_dot()) {
    const std::string svg = dir.file("mlp.svg");
    const auto r = run_command(inspect_binary() + " --net mlp --out " + svg + " 2>&1");
    INFO(r.output);
    REQUIRE(exit_code(r.status) == 0);
    CHECK(read_text(svg).find("<svg") != std::string::npos);
    CHECK(read_text(svg).find("AddmmBackward0") != std::string::npos);
    CHECK(std::filesystem::exists(dir.file("mlp.dot")));
  }
  // No dot on PATH: the .dot is written and the message says how to render it.
  const std::string png = dir.file("nodot.png");
  const auto r = run_command("PATH=/nonexistent " + inspect_binary() +
                             " --net conv --format png --out " + png + " 2>&1");
  INFO(r.output);
  REQUIRE(exit_code(r.status) == 0);
  CHECK(r.output.find("apt-get install graphviz") != std::string::npos);
  CHECK(r.output.find("dot -Tpng") != std::string::npos);
  CHECK(std::filesystem::exists(dir.file("nodot.dot")));
  CHECK_FALSE(std::filesystem::exists(png));
}

TEST_CASE("inspect tool: unknown names list the valid ones (exit 2); --list", "[inspect][tools]") {
  auto r = run_command(inspect_binary() + " --net mystery 2>&1");
  CHECK(exit_code(r.status) == 2);
  CHECK(r.output.find("unknown net \"mystery\"; the nets are: mlp, attention, lstm, conv") !=
        std::string::npos);
  r = run_command(inspect_binary() + " --model mystery 2>&1");
  CHECK(exit_code(r.status) == 2);
  CHECK(r.output.find("bahdanau-dates") != std::string::npos);
  r = run_command(inspect_binary() + " --net mlp --activation mystery 2>&1");
  CHECK(exit_code(r.status) == 2);
  CHECK(r.output.find("the activations are: relu, gelu") != std::string::npos);
  r = run_command(inspect_binary() + " --net mlp --format jpeg 2>&1");
  CHECK(exit_code(r.status) == 2);
  r = run_command(inspect_binary() + " 2>&1");
  CHECK(exit_code(r.status) == 2);
  r = run_command(inspect_binary() + " --list 2>&1");
  CHECK(exit_code(r.status) == 0);
  CHECK(r.output.find("bahdanau-dates") != std::string::npos);
  CHECK(r.output.find("silu") != std::string::npos);
}

TEST_CASE("inspect tool: MINIDL_TRACE=1 prints the tape as it is recorded and replayed",
          "[inspect][tools]") {
  TempDir dir;
  const auto r = run_command("MINIDL_TRACE=1 " + inspect_binary() + " --net mlp --out " +
                             dir.file("t.dot") + " 2>&1");
  INFO(r.output);
  REQUIRE(exit_code(r.status) == 0);
  CHECK(r.output.find("[trace] record #0 AddmmBackward0 out [2, 8] float32 inputs: [2, 4] const, "
                      "[8, 4] leaf, [8] leaf; saved 1") != std::string::npos);
  CHECK(r.output.find("[trace] backward #3 CrossEntropyBackward0 grad [] -> [2, 3] to #2 (") !=
        std::string::npos);
  // Off without the variable (or with 0).
  const auto quiet = run_command("MINIDL_TRACE=0 " + inspect_binary() + " --net mlp --out " +
                                 dir.file("q.dot") + " 2>&1");
  CHECK(quiet.output.find("[trace]") == std::string::npos);
}
