// Example<Data, Target>: one sample of a dataset, or a batch of them -- libtorch's
// torch::data::Example. `.data` is the input, `.target` what a model should predict.
//
//   data::Example<> example{image, label};            // Example<Tensor, Tensor>
//   data::TensorExample unlabeled = image;            // Example<Tensor, NoTarget>: data only
#pragma once

#include "core/tensor.h"

namespace minidl::data {

namespace example {
// The Target of an example that has no target.
using NoTarget = void;
}  // namespace example

// An (input, target) pair; Target = NoTarget gives a data-only example (specialized below).
template <typename Data = Tensor, typename Target = Tensor>
struct Example {
  using DataType = Data;
  using TargetType = Target;

  Example() = default;
  Example(Data data, Target target) : data(std::move(data)), target(std::move(target)) {}

  Data data;
  Target target;
};

// An example with data only.
template <typename Data>
struct Example<Data, example::NoTarget> {
  using DataType = Data;
  using TargetType = example::NoTarget;

  Example() = default;
  /* implicit */ Example(Data data) : data(std::move(data)) {}  // NOLINT: implicit, as libtorch's

  // The data, so an Example<Tensor, NoTarget> can stand where its tensor is expected.
  operator Data&() { return data; }              // NOLINT: implicit, as libtorch's
  operator const Data&() const { return data; }  // NOLINT: implicit, as libtorch's

  Data data;
};

using TensorExample = Example<Tensor, example::NoTarget>;

}  // namespace minidl::data
