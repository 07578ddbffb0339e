// MNIST (and anything in its IDX layout: Fashion-MNIST, KMNIST) as a dataset of Example<>:
// libtorch's torch::data::datasets::MNIST.
//
//   auto train = data::datasets::MNIST("/usr/share/datasets/fashion-mnist",
//                                      data::datasets::MNIST::Mode::kTrain);
//   train.images();    // [N, 1, 28, 28] float32 in [0, 1]
//   train.targets();   // [N] int64
//   train.get(0);      // {images()[0] [1, 28, 28], targets()[0] (0-d)}
//
// `root` holds train-images-idx3-ubyte and train-labels-idx1-ubyte (kTrain) or
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (kTest), each plain or gzip'd (the same
// name + ".gz", as Debian's dataset-fashion-mnist installs them); the plain file wins if both
// exist. Errors name the files looked for, or the file at fault (see nn/idx.h).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "core/tensor.h"
#include "nn/data/dataset.h"

namespace minidl::data::datasets {

// The MNIST / IDX dataset: images [N, 1, 28, 28] float32 in [0, 1], targets [N] int64.
class MNIST : public Dataset<MNIST> {
 public:
  enum class Mode { kTrain, kTest };

  // Loads the whole split into memory.
  explicit MNIST(const std::string& root, Mode mode = Mode::kTrain);

  Example<> get(size_t index) override;
  std::optional<size_t> size() const override;

  bool is_train() const noexcept { return mode_ == Mode::kTrain; }
  const Tensor& images() const { return images_; }
  const Tensor& targets() const { return targets_; }

 private:
  Mode mode_;
  Tensor images_, targets_;
};

}  // namespace minidl::data::datasets
