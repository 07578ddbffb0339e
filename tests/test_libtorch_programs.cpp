// Programs written for libtorch's C++ frontend (tests/libtorch/) build unchanged against an
// installed minidl through `pkg-config minidl-torch`, train, and learn what they should.
#include <regex>

#include "tests/test_util.h"

namespace {

// Runs tests/libtorch_test.sh for these programs; returns its output, checks its exit status.
std::string run_programs(const std::string& programs) {
  const std::string command = "tests/libtorch_test.sh " + minidl::testing::build_dir() +
                              " /usr/share/datasets/fashion-mnist " + programs + " 2>&1";
  const auto [status, output] = minidl::testing::run_command(command);
  INFO(output);
  CHECK(status == 0);
  return output;
}

// The number after `label` in `text` (NaN if absent).
double number_after(const std::string& text, const std::string& label) {
  std::smatch match;
  if (!std::regex_search(text, match, std::regex(label + " ([-0-9.]+)"))) return NAN;
  return std::stod(match[1]);
}

}  // namespace

TEST_CASE("libtorch programs: polynomial regression, the autograd tutorial, LSTM and Transformer",
          "[install][libtorch]") {
  const std::string output = run_programs("regression autograd sequence");
  INFO(output);
  CHECK(number_after(output, "max weight error") < 0.05);
  CHECK_THAT(output, Catch::Contains("all autograd checks passed"));
  CHECK_THAT(output, !Catch::Contains("FAIL"));
  CHECK(number_after(output, "lstm accuracy") > 0.9);
  CHECK(number_after(output, "transformer accuracy") > 0.8);
}

TEST_CASE("libtorch programs: a CNN and a DCGAN on Fashion-MNIST", "[install][libtorch]") {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    WARN("dataset-fashion-mnist is not installed (tools/install_deps.sh installs it)");
    return;
  }
  const std::string output = run_programs("mnist dcgan");
  INFO(output);
  // 300 batches of 64 (a third of an epoch): well above chance (0.1).
  CHECK(number_after(output, "accuracy") > 0.65);
  CHECK_THAT(output, Catch::Contains("restored generator matches"));
  // The generator's images moved 40% of the way to the real images' mean brightness (the
  // program checks and fails otherwise; the figures are in its output).
  CHECK_THAT(output, Catch::Contains("fake image mean"));
}
