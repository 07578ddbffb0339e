// What the tests that run programs under mpirun share (tests/test_distributed*.cpp).
#pragma once

#include <filesystem>
#include <string>

#include "minidl.h"
#include "tests/test_util.h"

namespace minidl::testing {

// The program build/distributed/NAME (built by `make MPI=1`), or "" when this build has no MPI,
// mpirun is not on PATH or the program was not built -- the caller then skips, saying why.
inline std::string mpi_program(const std::string& name) {
  const std::filesystem::path program = std::filesystem::path(build_dir()) / "distributed" / name;
  if (!distributed::built_with_mpi() || run_command("command -v mpirun").status != 0 ||
      !std::filesystem::exists(program))
    return "";
  return program.string();
}

// What the test says when mpi_program is "".
inline const char* mpi_skip_message() {
  return "skipped: needs minidl built with MPI and Open MPI's mpirun (tools/install_deps.sh "
         "--mpi, then `make MPI=1 test`)";
}

// `mpirun -np N` as this machine needs it: one OpenMP thread per rank (the ranks share the
// cores), more ranks than cores allowed, root allowed (containers), and vader's single-copy
// mechanism (CMA) off, as containers often refuse it. `options`: more of mpirun's, such as
// "-x MINIDL_DISTRIBUTED_TIMEOUT=3".
inline std::string mpirun(int processes, const std::string& options = "") {
  return "OMP_NUM_THREADS=1 mpirun -np " + std::to_string(processes) +
         " --oversubscribe --allow-run-as-root --mca btl_vader_single_copy_mechanism none "
         "-x OMP_NUM_THREADS " +
         options + " ";
}

}  // namespace minidl::testing
