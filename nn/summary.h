// A Keras-style summary of a model: one row per submodule that a forward of an example input
// invokes, with its dotted name, type, output shape and parameter count, totals at the bottom.
//
//   Model: Net
//   Layer (type)          Output Shape    Param #
//   ==============================================
//   fc1 (Linear)          [2, 16]         80
//   act (ReLU)            [2, 16]         0
//   fc2 (Linear)          [2, 3]          51
//   ==============================================
//   Total params: 131
//   Trainable params: 131
//   Non-trainable params: 0
//
// "Param #" counts the module's own parameters (not its children's), so the rows add up to the
// total when every module runs once. The forward runs under NoGradGuard in the model's current
// train/eval mode.
//
// How calls are seen: a ForwardTrace around a submodule's forward records the call while a
// summary() is running on this thread (otherwise it costs one thread-local pointer test).
// Module::operator() opens one around every forward, so every call is visible.
// A trace opened for the module already being traced (Sequential's trace, then the module's own
// operator()) is inert, so a call is never recorded twice.
#pragma once

#include <string>

#include "nn/module.h"

namespace minidl::nn {

// The table above for one forward of example_input (any shape model accepts); model runs in
// its current mode, without recording gradients.
std::string summary(Module& model, const Tensor& example_input);

namespace detail {

class ForwardTrace {
 public:
  explicit ForwardTrace(Module& module);
  ~ForwardTrace();
  ForwardTrace(const ForwardTrace&) = delete;
  ForwardTrace& operator=(const ForwardTrace&) = delete;
  void set_output(const Tensor& output);

 private:
  int64_t row_ = -1;  // the row this call fills, -1 when not recording
};

}  // namespace detail
}  // namespace minidl::nn
