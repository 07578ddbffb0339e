// Helpers shared by the model smoke tests (tests/test_*_seq2seq.cpp, test_seq2seq_models.cpp,
// test_langid_models.cpp, test_language_models.cpp): a few optimizer steps on the batches of the
// current epoch, and a checkpoint round trip between two tasks.
#pragma once

#include <filesystem>
#include <string>

#include "models/common/task.h"
#include "models/common/training.h"
#include "nn/checkpoint.h"
#include "nn/optim.h"

namespace minidl::testing {

struct FitResult {
  double first = 0, last = 0;  // the loss of the first and of the last step
  int64_t items = 0;           // the last batch's items
};

// `steps` optimizer steps on batches 0, 1, ..., batches - 1, 0, ... of the epoch the caller
// started with task.start_epoch.
inline FitResult fit_batches(models::Task& task, optim::Optimizer& optimizer, int steps,
                             int64_t batches = 1) {
  FitResult result;
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    Tensor loss = task.batch_loss(step % batches, &result.items);
    if (step == 0) result.first = loss.item<double>();
    result.last = loss.item<double>();
    loss.backward();
    optimizer.step();
  }
  return result;
}

// Saves task's model and optimizer to a temporary checkpoint and loads them into `restored` (a
// task of the same kind, set up the same way), through an optimizer of the same type.
inline void checkpoint_round_trip(models::Task& task, optim::Optimizer& optimizer,
                                  models::Task& restored, const std::string& name) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("minidl_checkpoint_test_" + name)).string();
  std::filesystem::create_directories(dir);
  nn::save_checkpoint(dir + "/", task.model(), optimizer, nullptr, 1);
  auto restored_optimizer =
      models::make_optimizer(optimizer.name(), restored.model().parameters(), 1e-2);
  nn::load_checkpoint(dir + "/", restored.model(), *restored_optimizer, nullptr);
  std::filesystem::remove_all(dir);
}

}  // namespace minidl::testing
