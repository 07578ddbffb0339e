// `make install` gives a working library: a program built with pkg-config runs and is right.
#include "nn/distributed/distributed.h"
#include "tests/test_util.h"

// (also in the MPI stage, [mpi]: a `make MPI=1` library needs Open MPI at link time, which
// minidl.pc then requires)
TEST_CASE("a program builds and runs against an installed copy", "[install][mpi]") {
  std::string command = "tests/install_test.sh " + minidl::testing::build_dir() + " 2>&1";
  const auto [status, output] = minidl::testing::run_command(command);
  INFO(output);
  CHECK(status == 0);
  CHECK_THAT(output, Catch::Contains("learned w = [3.0, -2.0], b = 1.0"));
  // PNG (libpng) and IDX (zlib) link through pkg-config alone: the static library's dependencies
  // are in minidl.pc's Libs, not Libs.private (which only `pkg-config --static` reads).
  CHECK_THAT(output, Catch::Contains("png "));
  CHECK_THAT(output, Catch::Contains("idx error: read_idx: ") && Catch::Contains("missing-images"));
  CHECK_THAT(output, Catch::Contains(minidl::distributed::built_with_mpi()
                                         ? "installed with MPI=1: Requires: openblas ompi-c"
                                         : "installed with MPI=0: Requires: openblas\n"));
}
