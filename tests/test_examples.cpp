// The teaching programs of docs/examples/ (built by `make examples` into BUILD/examples/): each
// runs, exits 0 (each checks its own claims and exits 1 naming the first that fails) and prints
// the line that shows its idea.
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "tests/test_util.h"

namespace {

// Every example, with one line of its output that shows its idea.
const std::map<std::string, std::string> kExamples = {
    {"01_strides", "x.t()                      shape [3, 2]    strides [1, 3]"},
    {"02_broadcasting", "ok: b.grad has b's shape [3], not y's [4, 3]: the column sums of G"},
    {"03_tape", "backward visited: loss e d c"},
    {"04_handwritten_backward", "ok: every hand-written gradient matches the tape's to 1e-12"},
    {"05_sgd_loop", "ok: all four XOR cases are right"},
    {"06_attention_weights", "ok: every hidden key (j > i) has weight exactly 0"},
    {"07_custom_function", "ok: gradcheck rejects the broken backward"},
    {"08_higher_order", "ok: Hessian-vector product: 4 (x.x) v + 8 x (x.v)"},
    {"09_lstm_bptt",
     "ok: dloss/dW_hh (summed over the steps): the unrolled tape equals nn::LSTM's"},
};

std::filesystem::path examples_dir() {
  return std::filesystem::path(minidl::testing::build_dir()) / "examples";
}

}  // namespace

TEST_CASE("docs/examples: every program runs, passes its own checks and shows its idea",
          "[examples]") {
  const std::filesystem::path dir = examples_dir();
  INFO("examples directory " << dir.string() << " (build the programs with `make examples`)");
  REQUIRE(std::filesystem::is_directory(dir));

  // Every built program is known here (a new example needs its key line above) ...
  std::set<std::string> built;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    built.insert(name);
    INFO("program " << name);
    CHECK(kExamples.count(name) == 1);
  }
  // ... and every known program is built, runs and prints its line.
  for (const auto& [name, key_line] : kExamples) {
    INFO("program " << name);
    REQUIRE(built.count(name) == 1);
    const auto [status, output] =
        minidl::testing::run_command("OMP_NUM_THREADS=2 " + (dir / name).string() + " 2>&1");
    INFO(output);
    CHECK(status == 0);
    CHECK_THAT(output, Catch::Contains(name + ": all checks passed"));
    CHECK_THAT(output, Catch::Contains(key_line));
    CHECK_THAT(output, !Catch::Contains("FAILED"));
  }
}
