// Transforms for data::datasets::MapDataset (`dataset.map(transform)`), with libtorch's
// torch::data::transforms names and shapes.
//
//   auto train = data::datasets::MNIST(root)
//                    .map(data::transforms::Normalize<>(0.1307, 0.3081))  // each image
//                    .map(data::transforms::Stack<>());  // vector<Example<>> -> Example<>
//
// A BatchTransform<In, Out> maps a whole batch (apply_batch). A Transform<In, Out> maps each
// example of a std::vector batch (apply). A TensorTransform<Target> maps the data tensor of each
// Example<Tensor, Target>, leaving the target. Lambda, BatchLambda and TensorLambda wrap a
// function; Collation<Batch> (Stack, Collate) turns a vector of examples into one batch.
// Transforms record nothing on the tape unless their input requires grad.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "core/array_ref.h"
#include "core/tensor.h"
#include "nn/data/example.h"

namespace minidl::data::transforms {

// Maps one batch to another.
template <typename InputBatch, typename OutputBatch>
class BatchTransform {
 public:
  using InputBatchType = InputBatch;
  using OutputBatchType = OutputBatch;

  virtual ~BatchTransform() = default;
  // The transformed batch.
  virtual OutputBatch apply_batch(InputBatch input_batch) = 0;
};

// Maps each example of a batch (a std::vector) on its own.
template <typename Input, typename Output>
class Transform : public BatchTransform<std::vector<Input>, std::vector<Output>> {
 public:
  using InputType = Input;
  using OutputType = Output;

  // The transformed example (apply_batch maps it over the batch, in order).
  virtual OutputType apply(InputType input) = 0;

  std::vector<Output> apply_batch(std::vector<Input> input_batch) override {
    std::vector<Output> output_batch;
    output_batch.reserve(input_batch.size());
    for (auto& input : input_batch) output_batch.push_back(apply(std::move(input)));
    return output_batch;
  }
};

// A BatchTransform made of a function of the whole batch.
template <typename Input, typename Output = Input>
class BatchLambda : public BatchTransform<Input, Output> {
 public:
  using typename BatchTransform<Input, Output>::InputBatchType;
  using typename BatchTransform<Input, Output>::OutputBatchType;
  using FunctionType = std::function<OutputBatchType(InputBatchType)>;

  explicit BatchLambda(FunctionType function) : function_(std::move(function)) {}
  OutputBatchType apply_batch(InputBatchType input_batch) override {
    return function_(std::move(input_batch));
  }

 private:
  FunctionType function_;
};

// A Transform made of a function of one example.
template <typename Input, typename Output = Input>
class Lambda : public Transform<Input, Output> {
 public:
  using typename Transform<Input, Output>::InputType;
  using typename Transform<Input, Output>::OutputType;
  using FunctionType = std::function<Output(Input)>;

  explicit Lambda(FunctionType function) : function_(std::move(function)) {}
  OutputType apply(InputType input) override { return function_(std::move(input)); }

 private:
  FunctionType function_;
};

// Maps the data tensor of each example; the target passes through.
template <typename Target = Tensor>
class TensorTransform : public Transform<Example<Tensor, Target>, Example<Tensor, Target>> {
 public:
  using E = Example<Tensor, Target>;
  using typename Transform<E, E>::InputType;
  using typename Transform<E, E>::OutputType;

  virtual Tensor operator()(Tensor input) = 0;

  OutputType apply(InputType input) override {
    input.data = (*this)(std::move(input.data));
    return input;
  }
};

// A TensorTransform made of a function of the data tensor.
template <typename Target = Tensor>
class TensorLambda : public TensorTransform<Target> {
 public:
  using FunctionType = std::function<Tensor(Tensor)>;

  explicit TensorLambda(FunctionType function) : function_(std::move(function)) {}
  Tensor operator()(Tensor input) override { return function_(std::move(input)); }

 private:
  FunctionType function_;
};

namespace detail {
// mean or stddev as a float32 tensor of shape [C, 1, 1] (C values, one per channel, or one for
// all); errors name Normalize and `name` (values must be finite, and nonzero if asked).
Tensor normalize_parameter(ArrayRef<double> values, const char* name, bool nonzero);
// (input - mean) / stddev, broadcasting [C, 1, 1] over input [..., C, H, W].
Tensor normalize(const Tensor& input, const Tensor& mean, const Tensor& stddev);
}  // namespace detail

// out = (input - mean) / stddev per channel (dim -3 of the input), with one value for every
// channel -- Normalize<>(0.1307, 0.3081) -- or one per channel: Normalize<>({0.5, 0.5, 0.5},
// {0.25, 0.25, 0.25}). mean and stddev are float32 tensors of shape [C, 1, 1] that broadcast
// over an image [C, H, W] or a batch [N, C, H, W]; the result's dtype follows type promotion.
// Errors: no values, C of mean and stddev that differ (neither 1), a zero stddev, an input
// whose dim -3 is not C (when C > 1).
template <typename Target = Tensor>
class Normalize : public TensorTransform<Target> {
 public:
  Normalize(ArrayRef<double> mean, ArrayRef<double> stddev)
      : mean(detail::normalize_parameter(mean, "mean", false)),
        stddev(detail::normalize_parameter(stddev, "stddev", true)) {
    MINIDL_CHECK(this->mean.size(0) == this->stddev.size(0) || this->mean.size(0) == 1 ||
                     this->stddev.size(0) == 1,
                 "Normalize",
                 "mean has " << this->mean.size(0) << " channels, stddev " << this->stddev.size(0));
  }

  Tensor operator()(Tensor input) override { return detail::normalize(input, mean, stddev); }

  Tensor mean, stddev;
};

// Turns a batch of examples (a std::vector) into one batch of type BatchType.
template <typename BatchType, typename T = std::vector<BatchType>>
using Collation = BatchTransform<T, BatchType>;

// A Collation made of a function.
template <typename Target = Example<>, typename T = std::vector<Target>>
using Collate = BatchLambda<T, Target>;

// Stacks a vector of examples into one: data [N, ...] (and target [N, ...]) from N examples of
// equal shapes, like torch.stack along a new dim 0. Errors name the example at fault.
template <typename ExampleType = Example<>>
struct Stack;

// Example<> batch: data [B, ...] and target [B, ...] stacked from the examples'.
template <>
struct Stack<Example<>> : public Collation<Example<>> {
  Example<> apply_batch(std::vector<Example<>> examples) override;
};

// TensorExample batch: data [B, ...] stacked from the examples'.
template <>
struct Stack<TensorExample> : public Collation<TensorExample> {
  TensorExample apply_batch(std::vector<TensorExample> examples) override;
};

}  // namespace minidl::data::transforms
