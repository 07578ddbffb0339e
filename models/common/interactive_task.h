// A Task that learns by acting in an environment (reinforcement learning) rather than from a data
// set. There are no batches to shuffle: what the agent learns from is what it has just done, so
// the training loop (models/common/interactive_training.h) is built around environment steps:
//
//   task.setup(options);
//   for epoch (a fixed number of environment steps, steps_per_epoch()):
//     for each environment step:
//       InteractionStep s = task.interact();   // act, observe, store; maybe a learning loss
//       if (s.loss.defined()) { backward; clip; optimizer.step(); task.after_update(); }
//       if (s.episode_done) log the episode
//     metrics = task.evaluate("valid");          // e.g. greedy episodes with fixed seeds
//
// The loop owns the optimizer (as for every task: --lr, --optimizer, --clip-grad-norm apply), the
// task owns the environment, the exploration, the experience and whatever else it learns from
// (a replay buffer, a target network). Everything of that which a resumed run needs goes through
// save_state / load_state into the checkpoint, so a resumed run acts and learns exactly as an
// uninterrupted one.
//
// The batch interface of Task does not apply: start_epoch and batch_loss are errors that say so.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "models/common/task.h"
#include "nn/safetensors.h"

namespace minidl::models {

// What one environment step did.
struct InteractionStep {
  Tensor loss;                // a learning update's loss, recorded on the tape; undefined when
                              // this step does not learn (e.g. before the replay buffer fills)
  int64_t items = 0;          // transitions in that update's batch
  bool episode_done = false;  // the step ended an episode (terminated or truncated)
  double episode_return = 0;  // the finished episode's return and length (when episode_done)
  int64_t episode_length = 0;
};

// The interface of such a task: Task's setup / model / evaluate / predict, plus the hooks below.
class InteractiveTask : public Task {
 public:
  InteractiveTask* interactive() final { return this; }

  int64_t start_epoch(int64_t, int64_t) final {
    MINIDL_FAIL("start_epoch",
                "an interactive task has no epochs of batches; it is trained by "
                "models::train through interact() (models/common/interactive_task.h)");
  }
  Tensor batch_loss(int64_t, int64_t*) final {
    MINIDL_FAIL("batch_loss",
                "an interactive task has no batches; it is trained by models::train "
                "through interact() (models/common/interactive_task.h)");
  }

  // Environment steps per epoch (the unit of logging, validation and checkpoints).
  virtual int64_t steps_per_epoch() const = 0;
  // One environment step with the current model; `batch_size` is the size of a learning update's
  // batch (tools/train's --batch-size).
  virtual InteractionStep interact(int64_t batch_size) = 0;
  // Called after the optimizer stepped on interact()'s loss (e.g. to sync a target network).
  virtual void after_update() = 0;
  // The state of the interaction for progress lines and the log, e.g. {"epsilon", 0.05}.
  virtual Metrics status() const = 0;
  // The value of the headline metric of evaluate() at which the task counts as solved.
  virtual double solved_threshold() const = 0;

  // Everything besides the model's parameters and the optimizer that a resumed run needs (a
  // target network, the replay buffer, the environment's and the exploration's random state,
  // counters), as tensors and text; load_state restores it into a task set up the same way.
  virtual void save_state(nn::StateDict& tensors, nn::Metadata& metadata) const = 0;
  virtual void load_state(const nn::StateDict& tensors, const nn::Metadata& metadata) = 0;
};

}  // namespace minidl::models
