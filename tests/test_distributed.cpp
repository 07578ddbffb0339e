// minidl::distributed: the world-of-one behaviour every build has, and (built with `make MPI=1`,
// Open MPI's mpirun on PATH) a 2-process data-parallel run checked against one process.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "minidl.h"
#include "tests/mpi_util.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::run_command;

TEST_CASE("distributed: outside an MPI world every collective is the identity", "[distributed]") {
  CHECK(distributed::world_size() == 1);
  CHECK(distributed::rank() == 0);
  distributed::barrier();
  Tensor t = tensor<float>({1.5f, -2.0f, 3.0f});
  distributed::all_reduce_sum(t);
  distributed::all_reduce_mean(t);
  distributed::broadcast(t, 0);
  distributed::all_reduce_sum_async(t).wait();
  CHECK(t.to_vector<float>() == std::vector<float>{1.5f, -2.0f, 3.0f});
  Tensor d = arange(6.0, kFloat64).view({2, 3});
  distributed::all_reduce_sum(d);
  CHECK(d.to_vector<double>() == std::vector<double>{0, 1, 2, 3, 4, 5});
  Tensor counts = tensor<int64_t>({4, 5}, kInt64);
  distributed::broadcast(counts);  // int64 broadcasts (buffers); it does not all-reduce
  CHECK_THROWS_WITH(distributed::all_reduce_sum(counts), Catch::Contains("float32 or float64") &&
                                                             Catch::Contains("int64") &&
                                                             Catch::Contains("[2]"));
  CHECK_THROWS_WITH(distributed::all_reduce_mean(d.t()),
                    Catch::Contains("contiguous") && Catch::Contains("[3, 2]"));
  CHECK_THROWS_WITH(distributed::broadcast(t, 1), Catch::Contains("root 1"));
}

TEST_CASE("distributed: DDP buckets parameters in reverse order under the cap", "[distributed]") {
  auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(100, 50),  // 20000 B
                                                std::make_shared<nn::Linear>(50, 10));  // 2000 B
  // parameters: 0 = weight [50, 100], 1 = bias [50], 2 = weight [10, 50], 3 = bias [10]
  distributed::DistributedDataParallel small(*model,
                                             distributed::DDPOptions().bucket_cap_mb(0.002));
  CHECK(small.bucket_assignment() == std::vector<std::vector<size_t>>{{3, 2}, {1}, {0}});
  distributed::DistributedDataParallel whole(*model);  // 25 MB: one bucket
  CHECK(whole.bucket_assignment() == std::vector<std::vector<size_t>>{{3, 2, 1, 0}});
  CHECK_THROWS_WITH(
      distributed::DistributedDataParallel(*model, distributed::DDPOptions().bucket_cap_mb(0)),
      Catch::Contains("bucket_cap_mb"));

  // A world of one: backward + finish leave exactly the single-process gradients.
  Tensor x = randn({4, 100});
  model->forward(x).sum().backward();
  const Tensor g = model->parameters()[0].grad().clone();
  whole.finish();
  CHECK(model->parameters()[0].grad().equal(g));
}

TEST_CASE("distributed: DDP no_sync guards gradient accumulation; finish() inside is an error",
          "[distributed]") {
  auto model = std::make_shared<nn::Linear>(3, 2);
  distributed::DistributedDataParallel ddp(*model);
  CHECK(ddp.syncing());
  const Tensor x = randn({4, 3});
  {
    auto outer = ddp.no_sync();
    {
      auto inner = ddp.no_sync();  // guards nest
      CHECK_FALSE(ddp.syncing());
    }
    CHECK_FALSE(ddp.syncing());
    model->forward(x).sum().backward();
    CHECK_THROWS_WITH(ddp.finish(), Catch::Contains("finish() inside no_sync()") &&
                                        Catch::Contains("end the no_sync() scope"));
  }
  CHECK(ddp.syncing());
  model->forward(x).sum().backward();
  ddp.finish();
  // Two backwards of the same loss: twice the gradient (a world of one averages nothing).
  CHECK(testing::allclose(model->bias.grad(), full({2}, 8.0)));
}

TEST_CASE("distributed: a multi-process launch of an MPI-less build says how to rebuild",
          "[distributed]") {
  if (distributed::built_with_mpi()) {
    WARN("skipped: this build has MPI (the check is for builds without it)");
    return;
  }
  setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  CHECK_THROWS_WITH(distributed::init(), Catch::Contains("make MPI=1") &&
                                             Catch::Contains("2 processes") &&
                                             Catch::Contains("install_deps.sh --mpi"));
  unsetenv("OMPI_COMM_WORLD_SIZE");
  CHECK(!distributed::is_initialized());
}

TEST_CASE("distributed: 2 ranks with batch B train as 1 process with batch 2B (mpirun)",
          "[distributed][mpi]") {
  const std::string program = testing::mpi_program("ddp_check");
  if (program.empty()) {
    WARN(testing::mpi_skip_message());
    return;
  }
  const std::string command = testing::mpirun(2) + program + " 2>&1";
  const auto first = run_command(command);
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK(first.output.find("ddp_check: ok") != std::string::npos);
  // Determinism: a second run prints bitwise the same losses.
  const auto second = run_command(command);
  auto losses = [](const std::string& out) {
    std::istringstream in(out);
    std::string line, kept;
    while (std::getline(in, line))
      if (line.rfind("loss ", 0) == 0) kept += line + "\n";
    return kept;
  };
  CHECK(!losses(first.output).empty());
  CHECK(losses(second.output) == losses(first.output));
}
