// A dataset over the rows of one tensor, yielding TensorExample (data, no target): libtorch's
// torch::data::datasets::TensorDataset.
//
//   data::datasets::TensorDataset rows(torch_like_tensor);          // [N, ...]
//   data::datasets::TensorDataset stacked({a, b, c});               // stacks them: [3, ...]
//   rows.get(i).data;                                               // tensor[i], a view
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"
#include "nn/data/dataset.h"
#include "ops/shape_ops.h"

namespace minidl::data::datasets {

// Example i is tensor[i] (a view) for a tensor [N, ...]; size() is N.
struct TensorDataset : public Dataset<TensorDataset, TensorExample> {
  // The tensors stacked along a new dim 0 (equal shapes).
  explicit TensorDataset(const std::vector<Tensor>& tensors) : TensorDataset(stack(tensors)) {}
  explicit TensorDataset(Tensor tensor) : tensor(std::move(tensor)) {
    MINIDL_CHECK(this->tensor.defined() && this->tensor.dim() >= 1, "TensorDataset",
                 "needs a tensor with at least one dim (the examples)"
                     << (this->tensor.defined() ? ", got shape " + shape_str(this->tensor.shape())
                                                : ", got an undefined tensor"));
  }

  // Row `index` of the tensor (a view).
  TensorExample get(size_t index) override {
    const size_t count = static_cast<size_t>(tensor.size(0));
    MINIDL_CHECK(index < count, "TensorDataset",
                 "index " << index << " is out of range for a dataset of " << count << " examples");
    return tensor.select(0, static_cast<int64_t>(index));
  }
  std::optional<size_t> size() const override { return static_cast<size_t>(tensor.size(0)); }

  Tensor tensor;
};

}  // namespace minidl::data::datasets
