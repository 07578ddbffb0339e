// Fashion-MNIST (Zalando): 28x28 grey images of 10 kinds of clothing, 60,000 to train and 10,000
// to test, from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, IDX files
// read by nn::read_idx; `tools/install_deps.sh --data` installs it).
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace minidl::models {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Images and their labels.
struct ImageSplit {
  Tensor images;  // [N, 1, 28, 28] float32 in [0, 1]
  Tensor labels;  // [N] int64, 0 .. 9
};

// Both splits and the ten class names.
struct FashionMnist {
  ImageSplit train, test;
  std::vector<std::string> class_names;  // "T-shirt/top", "Trouser", ..., "Ankle boot"
};

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte, gzip'd (.gz) or not, from `dir` ("" = the
// Debian path). A missing file is an error that says which package installs it.
FashionMnist load_fashion_mnist(const std::string& dir = "");

// An example named as predict() inputs name them: "SPLIT:INDEX" ("test:17", "valid:3") or a bare
// index (of the test split). `what` names the example in the message ("an image", "a mosaic");
// the caller checks the index against its split's size.
struct SplitIndex {
  std::string split;
  int64_t index = 0;
};
// text ("test:17" or "17") -> {split, index}; an index that is not a number is an error naming
// `op` (the split name is the caller's to check).
SplitIndex parse_split_index(const std::string& text, const std::string& op, const char* what);

}  // namespace minidl::models
