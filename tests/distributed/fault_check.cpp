// Run by tests/test_distributed_training.cpp as `mpirun -np N fault_check WHAT RANK STEP`:
// a DistributedDataParallel training loop in which rank RANK, at step STEP, does WHAT:
//   hang   sleeps forever (the others must name it and stop within the timeout)
//   die    kills itself with SIGKILL (mpirun must notice, end the others and name it)
//   throw  fails with an error and calls abort_all, as tools/train does (every rank stops)
// The loop runs 1000 steps otherwise and prints "fault_check: finished" (which the test must
// not see).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "minidl.h"

using namespace minidl;

int main(int argc, char** argv) {
  distributed::Guard mpi(argc, argv);
  if (argc != 4) {
    std::fprintf(stderr, "usage: fault_check hang|die|throw RANK STEP\n");
    return 2;
  }
  const std::string what = argv[1];
  const int bad_rank = std::atoi(argv[2]), bad_step = std::atoi(argv[3]);
  manual_seed(3);
  auto model = std::make_shared<nn::Linear>(16, 4);
  distributed::DistributedDataParallel ddp(*model);
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.01));
  for (int step = 0; step < 1000; ++step) {
    if (distributed::rank() == bad_rank && step == bad_step) {
      std::fprintf(stderr, "fault_check: rank %d does \"%s\" at step %d\n", bad_rank, what.c_str(),
                   step);
      std::fflush(stderr);
      if (what == "hang")
        while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
      if (what == "die") raise(SIGKILL);
      if (what == "throw") distributed::abort_all(3, "the step failed");
    }
    optimizer.zero_grad();
    Tensor x = randn({8, 16});
    model->forward(x).pow(2.0).mean().backward();
    ddp.finish();
    optimizer.step();
  }
  if (distributed::rank() == 0) std::printf("fault_check: finished\n");
  return 0;
}
