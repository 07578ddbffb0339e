// Image transforms: each works on a contiguous copy of a [N, C, H, W] batch (a [C, H, W] image
// is a batch of one), image by image, outside the tape.
#include "nn/transforms.h"

#include <algorithm>
#include <cstring>

#include "core/autograd.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/factories.h"

namespace minidl::nn::transforms {

namespace {

// The images as a contiguous, tape-free [N, C, H, W] tensor: a copy when the transform writes
// into it (`writable`), else the input's own storage when it is already contiguous.
Tensor as_batch(const Tensor& images, const char* op, bool writable) {
  MINIDL_CHECK(images.defined(), op, "expected an image tensor, got an undefined one");
  MINIDL_CHECK(images.dim() == 3 || images.dim() == 4, op,
               "expected one image [C, H, W] or a batch [N, C, H, W], got shape "
                   << shape_str(images.shape()));
  MINIDL_CHECK(images.is_floating_point(), op,
               "expected float32 or float64 images, got " << images.dtype()
                                                          << " (convert with to(kFloat32))");
  NoGradGuard no_grad;
  Tensor batch = writable ? images.detach().clone() : images.detach().contiguous();
  return images.dim() == 3 ? batch.unsqueeze(0) : batch;
}

// The result back in the input's rank.
Tensor like_input(const Tensor& batch, const Tensor& images) {
  return images.dim() == 3 ? batch.squeeze(0) : batch;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

// ---------------------------------------------------------------- Normalize

Normalize::Normalize(std::vector<double> mean, std::vector<double> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
  MINIDL_CHECK(!mean_.empty() && mean_.size() == std_.size(), "Normalize",
               "expected as many means as standard deviations (at least one), got "
                   << mean_.size() << " and " << std_.size());
  for (double s : std_)
    MINIDL_CHECK(s > 0, "Normalize", "standard deviations must be positive, got " << s);
}

Tensor Normalize::operator()(const Tensor& images, Generator&) const {
  Tensor batch = as_batch(images, "Normalize", true);
  const int64_t N = batch.size(0), C = batch.size(1), plane = batch.size(2) * batch.size(3);
  MINIDL_CHECK(mean_.size() == 1 || static_cast<int64_t>(mean_.size()) == C, "Normalize",
               "got " << mean_.size() << " means for images of " << C << " channels");
  MINIDL_DISPATCH_FLOATING(batch.dtype(), "Normalize", {
    scalar_t* p = batch.data_ptr<scalar_t>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const size_t k = mean_.size() == 1 ? 0 : static_cast<size_t>(c);
        const scalar_t mean = static_cast<scalar_t>(mean_[k]);
        const scalar_t inv_std = static_cast<scalar_t>(1.0 / std_[k]);
        scalar_t* x = p + (n * C + c) * plane;
        for (int64_t i = 0; i < plane; ++i) x[i] = (x[i] - mean) * inv_std;
      }
  });
  return like_input(batch, images);
}

// ---------------------------------------------------------------- RandomCrop

RandomCrop::RandomCrop(ImageSize size, int64_t padding, double fill)
    : height_(size.height), width_(size.width), padding_(padding), fill_(fill) {
  MINIDL_CHECK(height_ > 0 && width_ > 0, "RandomCrop",
               "the crop size must be positive, got " << height_ << " x " << width_);
  MINIDL_CHECK(padding >= 0, "RandomCrop", "padding must be non-negative, got " << padding);
}

// out[n, c, i, j] = padded(x)[n, c, top + i, left + j], where padded(x) has `padding` rows and
// columns of `fill` around x and (top, left) is drawn per image: top first, then left.
Tensor RandomCrop::operator()(const Tensor& images, Generator& generator) const {
  Tensor batch = as_batch(images, "RandomCrop", false);
  const int64_t N = batch.size(0), C = batch.size(1), H = batch.size(2), W = batch.size(3);
  const int64_t PH = H + 2 * padding_, PW = W + 2 * padding_;
  MINIDL_CHECK(height_ <= PH && width_ <= PW, "RandomCrop",
               "a " << height_ << " x " << width_ << " crop does not fit images of " << H << " x "
                    << W << " padded by " << padding_);
  Tensor out = empty({N, C, height_, width_}, batch.dtype());
  MINIDL_DISPATCH_FLOATING(batch.dtype(), "RandomCrop", {
    const scalar_t* x = batch.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    const scalar_t fill = static_cast<scalar_t>(fill_);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t top = generator.randint(0, PH - height_ + 1);
      const int64_t left = generator.randint(0, PW - width_ + 1);
      for (int64_t c = 0; c < C; ++c) {
        const scalar_t* src = x + (n * C + c) * H * W;
        scalar_t* dst = o + (n * C + c) * height_ * width_;
        for (int64_t i = 0; i < height_; ++i) {
          const int64_t h = top + i - padding_;  // row of x, or outside it (fill)
          for (int64_t j = 0; j < width_; ++j) {
            const int64_t w = left + j - padding_;
            dst[i * width_ + j] = h >= 0 && h < H && w >= 0 && w < W ? src[h * W + w] : fill;
          }
        }
      }
    }
  });
  return like_input(out, images);
}

// ---------------------------------------------------------------- RandomHorizontalFlip

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  MINIDL_CHECK(p >= 0 && p <= 1, "RandomHorizontalFlip",
               "the probability must be in [0, 1], got " << p);
}

// out[n, c, i, j] = x[n, c, i, W - 1 - j] for the images whose draw u < p, else x.
Tensor RandomHorizontalFlip::operator()(const Tensor& images, Generator& generator) const {
  Tensor batch = as_batch(images, "RandomHorizontalFlip", true);
  const int64_t N = batch.size(0), C = batch.size(1), H = batch.size(2), W = batch.size(3);
  MINIDL_DISPATCH_FLOATING(batch.dtype(), "RandomHorizontalFlip", {
    scalar_t* x = batch.data_ptr<scalar_t>();
    for (int64_t n = 0; n < N; ++n) {
      if (!(generator.uniform() < p_)) continue;
      for (int64_t row = 0; row < C * H; ++row) {
        scalar_t* r = x + (n * C * H + row) * W;
        std::reverse(r, r + W);
      }
    }
  });
  return like_input(batch, images);
}

// ---------------------------------------------------------------- Compose

Compose::Compose(std::vector<std::shared_ptr<Transform>> transforms)
    : transforms_(std::move(transforms)) {
  for (size_t i = 0; i < transforms_.size(); ++i)
    MINIDL_CHECK(transforms_[i] != nullptr, "Compose", "transform " << i << " is null");
}

Tensor Compose::operator()(const Tensor& images, Generator& generator) const {
  Tensor x = images;
  for (const auto& transform : transforms_) x = (*transform)(x, generator);
  return transforms_.empty() ? like_input(as_batch(images, "Compose", true), images) : x;
}

uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch) {
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(epoch)) ^
                    static_cast<uint64_t>(batch));
}

}  // namespace minidl::nn::transforms
