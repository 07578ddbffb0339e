// Datasets for the data loader, with libtorch's torch::data::datasets names and shapes.
//
//   struct Squares : data::datasets::Dataset<Squares> {        // yields Example<> one by one
//     data::Example<> get(size_t i) override { return {scalar_tensor(i), scalar_tensor(i * i)}; }
//     std::optional<size_t> size() const override { return 10; }
//   };
//   auto batches = Squares().map(data::transforms::Stack<>());  // get_batch -> one Example<>
//
// BatchDataset<Self, Batch, BatchRequest> is the base: get_batch(request) returns a whole batch
// (the loader passes the sampler's indices as an ArrayRef<size_t>). Dataset<Self, Example>
// derives get_batch from a per-example get(index). `.map(transform)` wraps a dataset in a
// MapDataset that applies the transform's apply_batch to every batch; maps chain. A dataset is
// held by value (map moves or copies it), as in libtorch.
//
// Stateful datasets (a Batch that is a std::optional, libtorch's StatefulDataset) are not
// supported: is_stateful is there so the loader can say so at compile time.
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/array_ref.h"
#include "nn/data/example.h"

namespace minidl::data::datasets {

template <typename SourceDataset, typename AppliedTransform>
class MapDataset;
// Wraps a dataset so every batch it returns goes through transform.apply_batch (defined below).
template <typename DatasetType, typename TransformType>
MapDataset<DatasetType, TransformType> map(DatasetType dataset, TransformType transform);

namespace detail {
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

// A dataset that yields whole batches.
template <typename Self, typename Batch = std::vector<Example<>>,
          typename BatchRequest = ArrayRef<size_t>>
class BatchDataset {
 public:
  using SelfType = Self;
  using BatchType = Batch;
  using BatchRequestType = BatchRequest;
  constexpr static bool is_stateful = detail::is_optional<BatchType>::value;

  virtual ~BatchDataset() = default;

  // The batch for `request` (the examples at those indices, for an index-based dataset).
  virtual Batch get_batch(BatchRequest request) = 0;
  // The number of examples, if known (a loader needs it to build its sampler).
  virtual std::optional<size_t> size() const = 0;

  // This dataset (copied) with `transform` applied to each of its batches.
  template <typename TransformType>
  MapDataset<Self, TransformType> map(TransformType transform) & {
    return datasets::map(static_cast<Self&>(*this), std::move(transform));
  }
  // This dataset (moved) with `transform` applied to each of its batches.
  template <typename TransformType>
  MapDataset<Self, TransformType> map(TransformType transform) && {
    return datasets::map(std::move(static_cast<Self&>(*this)), std::move(transform));
  }
};

// A dataset of single examples: get(index) returns one, and a batch is the vector of the
// examples at the requested indices, in order.
template <typename Self, typename SingleExample = Example<>>
class Dataset : public BatchDataset<Self, std::vector<SingleExample>> {
 public:
  using ExampleType = SingleExample;

  // The example at 0 <= index < size().
  virtual ExampleType get(size_t index) = 0;

  std::vector<ExampleType> get_batch(ArrayRef<size_t> indices) override {
    std::vector<ExampleType> batch;
    batch.reserve(indices.size());
    for (const size_t index : indices) batch.push_back(get(index));
    return batch;
  }
};

// `dataset` with `transform.apply_batch` applied to every batch it yields.
template <typename SourceDataset, typename AppliedTransform>
class MapDataset : public BatchDataset<MapDataset<SourceDataset, AppliedTransform>,
                                       typename AppliedTransform::OutputBatchType,
                                       typename SourceDataset::BatchRequestType> {
  static_assert(!SourceDataset::is_stateful, "MapDataset: stateful datasets are not supported");

 public:
  using DatasetType = SourceDataset;
  using TransformType = AppliedTransform;
  using BatchRequestType = typename SourceDataset::BatchRequestType;
  using OutputBatchType = typename AppliedTransform::OutputBatchType;

  MapDataset(DatasetType dataset, TransformType transform)
      : dataset_(std::move(dataset)), transform_(std::move(transform)) {}

  OutputBatchType get_batch(BatchRequestType indices) override {
    return transform_.apply_batch(dataset_.get_batch(std::move(indices)));
  }
  std::optional<size_t> size() const noexcept override { return dataset_.size(); }

  const SourceDataset& dataset() noexcept { return dataset_; }
  const AppliedTransform& transform() noexcept { return transform_; }

 private:
  SourceDataset dataset_;
  AppliedTransform transform_;
};

// dataset.map(transform) as a free function; the transform's InputBatchType must be the
// dataset's BatchType (a compile-time error otherwise).
template <typename DatasetType, typename TransformType>
MapDataset<DatasetType, TransformType> map(DatasetType dataset, TransformType transform) {
  static_assert(
      std::is_same<typename DatasetType::BatchType, typename TransformType::InputBatchType>::value,
      "map: the dataset's BatchType is not the transform's InputBatchType");
  return {std::move(dataset), std::move(transform)};
}

}  // namespace minidl::data::datasets
