#include "nn/data/datasets/mnist.h"

#include <filesystem>

#include "core/shape.h"
#include "nn/idx.h"

namespace minidl::data::datasets {

namespace {

// root/name, or root/name.gz if only that exists; an error naming both otherwise.
std::string find_file(const std::string& root, const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path plain = fs::path(root) / name;
  const fs::path gzipped = fs::path(root) / (name + ".gz");
  std::error_code ignored;
  if (fs::is_regular_file(plain, ignored)) return plain.string();
  MINIDL_CHECK(fs::is_regular_file(gzipped, ignored), "MNIST",
               "cannot find " << name << " or " << name << ".gz in " << root);
  return gzipped.string();
}

}  // namespace

MNIST::MNIST(const std::string& root, Mode mode) : mode_(mode) {
  const std::string prefix = mode == Mode::kTrain ? "train" : "t10k";
  const std::string images_path = find_file(root, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_file(root, prefix + "-labels-idx1-ubyte");
  Tensor images = nn::read_idx(images_path);
  Tensor labels = nn::read_idx(labels_path);
  MINIDL_CHECK(images.dim() == 3, "MNIST",
               images_path << " holds " << shape_str(images.shape())
                           << ", expected images [N, height, width]");
  MINIDL_CHECK(labels.dim() == 1, "MNIST",
               labels_path << " holds " << shape_str(labels.shape()) << ", expected labels [N]");
  MINIDL_CHECK(images.size(0) == labels.size(0), "MNIST",
               images_path << " has " << images.size(0) << " images but " << labels_path << " has "
                           << labels.size(0) << " labels");
  // read_idx gives the raw bytes 0..255 as float32: scale to [0, 1] and add the channel dim.
  images_ = images.div_(255.0).unsqueeze(1);
  targets_ = labels;
}

Example<> MNIST::get(size_t index) {
  const size_t count = static_cast<size_t>(images_.size(0));
  MINIDL_CHECK(index < count, "MNIST",
               "index " << index << " is out of range for a dataset of " << count << " examples");
  const int64_t i = static_cast<int64_t>(index);
  return {images_.select(0, i), targets_.select(0, i)};
}

std::optional<size_t> MNIST::size() const {
  return static_cast<size_t>(images_.size(0));
}

}  // namespace minidl::data::datasets
