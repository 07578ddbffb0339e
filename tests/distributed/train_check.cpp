// Run by tests/test_distributed_training.cpp, as one process and as `mpirun -np N`:
//
//   train_check MODEL STEPS BATCH
//
// trains the registry's MODEL (smoke size, seed 1) with models::train() for STEPS optimizer steps
// of batches of BATCH examples -- the whole batch, which N ranks share -- then prints, on rank 0,
// every step's loss ("loss STEP VALUE", %.17g) and the validation metrics of the last epoch
// ("valid NAME VALUE"). One process with BATCH and N processes with BATCH must print the same
// curve to float-summation tolerance; two runs of N processes, the same bits.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "minidl.h"
#include "models/common/training.h"
#include "models/registry.h"

using namespace minidl;

int main(int argc, char** argv) {
  distributed::Guard mpi(argc, argv);
  if (argc != 4) {
    std::fprintf(stderr, "usage: train_check MODEL STEPS BATCH\n");
    return 2;
  }
  try {
    auto task = models::find_task(argv[1]).make();
    models::TrainOptions options;
    options.model = argv[1];
    options.seed = 1;
    options.smoke = true;
    options.max_steps = std::atoll(argv[2]);
    options.batch_size = std::atoll(argv[3]);
    options.epochs = 1000;  // max_steps ends it
    options.checkpoint_every = 0;
    const models::TrainResult result = models::train(*task, options);
    if (distributed::rank() == 0) {
      for (size_t k = 0; k < result.losses.size(); ++k)
        std::printf("loss %zu %.17g\n", k, result.losses[k]);
      if (!result.records.empty())
        for (const auto& [name, value] : result.records.back().valid)
          std::printf("valid %s %.17g\n", name.c_str(), value);
      std::printf("train_check: %lld steps on %d processes\n", static_cast<long long>(result.steps),
                  distributed::world_size());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_check: rank %d: %s\n", distributed::rank(), e.what());
    distributed::abort_all(1, "stopped by the error above");
  }
  return 0;
}
