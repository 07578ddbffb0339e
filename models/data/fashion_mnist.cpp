#include "models/data/fashion_mnist.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/error.h"
#include "nn/idx.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"
#include "ops/shape_ops.h"

namespace minidl::models {

namespace {

// dir/name.gz, else dir/name.
std::string find_file(const std::string& dir, const std::string& name) {
  for (const std::string& candidate : {dir + "/" + name + ".gz", dir + "/" + name})
    if (std::filesystem::exists(candidate)) return candidate;
  MINIDL_FAIL("fashion-mnist", "no " << name << "(.gz) in " << dir
                                     << ": install Debian's dataset-fashion-mnist "
                                        "(tools/install_deps.sh --data) or pass --data DIR");
  return {};
}

ImageSplit read_split(const std::string& dir, const std::string& prefix) {
  Tensor images = nn::read_idx(find_file(dir, prefix + "-images-idx3-ubyte"));
  Tensor labels = nn::read_idx(find_file(dir, prefix + "-labels-idx1-ubyte"));
  MINIDL_CHECK(images.dim() == 3 && images.size(1) == 28 && images.size(2) == 28, "fashion-mnist",
               prefix << " images must be [N, 28, 28], got " << shape_str(images.shape()));
  MINIDL_CHECK(labels.dim() == 1 && labels.size(0) == images.size(0), "fashion-mnist",
               prefix << ": " << labels.numel() << " labels for " << images.size(0) << " images");
  MINIDL_CHECK(labels.numel() == 0 || labels.max().item<int64_t>() < 10, "fashion-mnist",
               prefix << " labels must be 0..9, got " << labels.max().item<int64_t>());
  return {(images / 255.0).unsqueeze(1).contiguous(), labels};
}

}  // namespace

FashionMnist load_fashion_mnist(const std::string& dir) {
  const std::string path = dir.empty() ? kFashionMnistDir : dir;
  FashionMnist data;
  data.train = read_split(path, "train");
  data.test = read_split(path, "t10k");
  data.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return data;
}

SplitIndex parse_split_index(const std::string& text, const std::string& op, const char* what) {
  SplitIndex out{"test", 0};
  std::string number = text;
  if (const size_t colon = text.find(':'); colon != std::string::npos) {
    out.split = text.substr(0, colon);
    number = text.substr(colon + 1);
  }
  const bool digits = !number.empty() && number.size() < 10 &&
                      std::all_of(number.begin(), number.end(),
                                  [](unsigned char c) { return std::isdigit(c) != 0; });
  MINIDL_CHECK(digits, op,
               "expected " << what << " as SPLIT:INDEX, e.g. test:17, got '" << text << "'");
  out.index = std::stoll(number);
  return out;
}

}  // namespace minidl::models
