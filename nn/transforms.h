// Image transforms for a vision data pipeline (torchvision.transforms' names): normalisation and
// seeded augmentation, usable by any image task.
//
//   nn::transforms::Compose augment({std::make_shared<nn::transforms::RandomCrop>(28, 4),
//                                    std::make_shared<nn::transforms::RandomHorizontalFlip>(),
//                                    std::make_shared<nn::transforms::Normalize>(
//                                        std::vector<double>{0.286}, std::vector<double>{0.353})});
//   Generator gen(nn::transforms::batch_seed(seed, epoch, batch_index));
//   Tensor x = augment(batch.data, gen);   // [N, C, H, W] -> [N, C, 28, 28]
//
// A transform takes one image [C, H, W] or a batch [N, C, H, W] (floating point) and returns a
// new tensor; it records nothing on the tape (data preparation, not a differentiable op). Random
// transforms draw from the generator they are given, image by image in order, so a seed fixes
// the augmentation; batch_seed() derives a generator's seed from (seed, epoch, batch), so a
// resumed run augments its remaining batches exactly as an uninterrupted one.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"

namespace minidl::nn::transforms {

// An image transform: images [C, H, W] or [N, C, H, W] (floating) and a generator -> a new tensor.
class Transform {
 public:
  virtual ~Transform() = default;
  virtual Tensor operator()(const Tensor& images, Generator& generator) const = 0;
};

// out[c] = (x[c] - mean[c]) / std[c], with one value for every channel or one per channel.
class Normalize : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  Tensor operator()(const Tensor& images, Generator& generator) const override;

 private:
  std::vector<double> mean_, std_;
};

// An image size: `28` is 28 x 28, `ImageSize(28, 32)` is 28 high and 32 wide.
struct ImageSize {
  ImageSize(int64_t size) : height(size), width(size) {}  // NOLINT: implicit, as torchvision's int
  ImageSize(int64_t h, int64_t w) : height(h), width(w) {}
  int64_t height, width;
};

// Pads each image by `padding` pixels of `fill` on every side, then crops a size.height x
// size.width window at a uniformly drawn position (torchvision's RandomCrop(size, padding)).
class RandomCrop : public Transform {
 public:
  explicit RandomCrop(ImageSize size, int64_t padding = 0, double fill = 0.0);
  Tensor operator()(const Tensor& images, Generator& generator) const override;

 private:
  int64_t height_, width_, padding_;
  double fill_;
};

// Mirrors each image left-right with probability p.
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  Tensor operator()(const Tensor& images, Generator& generator) const override;

 private:
  double p_;
};

// The transforms one after the other.
class Compose : public Transform {
 public:
  explicit Compose(std::vector<std::shared_ptr<Transform>> transforms);
  Tensor operator()(const Tensor& images, Generator& generator) const override;

 private:
  std::vector<std::shared_ptr<Transform>> transforms_;
};

// A seed for the generator of one batch of one epoch: distinct (seed, epoch, batch) triples
// give unrelated streams (splitmix64 of each in turn).
uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch);

}  // namespace minidl::nn::transforms
