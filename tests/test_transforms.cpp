// nn/transforms: normalisation values, crops that are windows of the padded image at the drawn
// offsets, flips, seeding (same seed, same augmentation), single images, and errors.
#include "nn/transforms.h"

#include "core/factories.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::nn::transforms;
using minidl::testing::allclose;

namespace {

// [N, C, H, W] with distinct values: x[n, c, h, w] = 1000 n + 100 c + 10 h + w.
Tensor numbered(int64_t N, int64_t C, int64_t H, int64_t W) {
  Tensor x = empty({N, C, H, W}, kFloat64);
  double* p = x.data_ptr<double>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) *p++ = 1000.0 * n + 100.0 * c + 10.0 * h + w;
  return x;
}

double at(const Tensor& t, int64_t n, int64_t c, int64_t h, int64_t w) {
  return t.index({n, c, h, w}).item<double>();
}

}  // namespace

TEST_CASE("Normalize subtracts each channel's mean and divides by its std", "[transforms]") {
  Generator gen(0);
  Tensor x = numbered(2, 2, 3, 3);
  Tensor y = Normalize({100.0, 200.0}, {2.0, 4.0})(x, gen);
  REQUIRE(y.shape() == x.shape());
  CHECK(at(y, 1, 0, 2, 1) == Approx((1021.0 - 100.0) / 2.0));
  CHECK(at(y, 0, 1, 0, 2) == Approx((102.0 - 200.0) / 4.0));
  // One value for every channel; the input is left alone.
  Tensor z = Normalize({1.0}, {0.5})(x, gen);
  CHECK(at(z, 1, 1, 1, 1) == Approx((1111.0 - 1.0) * 2.0));
  CHECK(at(x, 1, 1, 1, 1) == 1111.0);
}

TEST_CASE("RandomCrop cuts a window of the padded image at the drawn offset", "[transforms]") {
  const int64_t pad = 2;
  Tensor x = numbered(5, 2, 6, 7);
  Generator gen(42), replay(42);
  Tensor y = RandomCrop(ImageSize(4, 5), pad, -1.0)(x, gen);
  REQUIRE(y.shape() == Shape({5, 2, 4, 5}));
  int64_t fills = 0;
  for (int64_t n = 0; n < 5; ++n) {
    // The same draws, in the documented order: top, then left.
    const int64_t top = replay.randint(0, 6 + 2 * pad - 4 + 1);
    const int64_t left = replay.randint(0, 7 + 2 * pad - 5 + 1);
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 5; ++j) {
          const int64_t h = top + i - pad, w = left + j - pad;
          const bool inside = h >= 0 && h < 6 && w >= 0 && w < 7;
          const double want = inside ? 1000.0 * n + 100.0 * c + 10.0 * h + w : -1.0;
          fills += !inside;
          INFO("n " << n << " c " << c << " i " << i << " j " << j);
          CHECK(at(y, n, c, i, j) == want);
        }
  }
  CHECK(fills > 0);  // some windows reached into the padding
  // No padding and the full size: the identity.
  CHECK(allclose(RandomCrop(ImageSize(6, 7))(x, gen), x, 0, 0));
}

TEST_CASE("RandomHorizontalFlip mirrors images with probability p", "[transforms]") {
  Tensor x = numbered(3, 2, 2, 4);
  Generator gen(1);
  Tensor all = RandomHorizontalFlip(1.0)(x, gen);
  CHECK(at(all, 2, 1, 1, 0) == at(x, 2, 1, 1, 3));
  CHECK(at(all, 0, 0, 0, 1) == at(x, 0, 0, 0, 2));
  CHECK(allclose(RandomHorizontalFlip(0.0)(x, gen), x, 0, 0));
  // p = 0.5 over many images: about half are flipped, each either flipped or not.
  Tensor many = numbered(400, 1, 1, 4);
  Tensor half = RandomHorizontalFlip(0.5)(many, gen);
  int64_t flipped = 0;
  for (int64_t n = 0; n < 400; ++n) {
    const bool was_flipped = at(half, n, 0, 0, 0) == at(many, n, 0, 0, 3);
    flipped += was_flipped;
    CHECK((was_flipped || at(half, n, 0, 0, 0) == at(many, n, 0, 0, 0)));
  }
  CHECK(flipped > 150);
  CHECK(flipped < 250);
}

TEST_CASE("a seeded Compose augments the same way twice; other seeds differ", "[transforms]") {
  Compose augment(
      {std::make_shared<RandomCrop>(28, 4), std::make_shared<RandomHorizontalFlip>(),
       std::make_shared<Normalize>(std::vector<double>{0.286}, std::vector<double>{0.353})});
  Tensor x = rand({16, 1, 28, 28});
  Generator a(batch_seed(7, 2, 31)), b(batch_seed(7, 2, 31)), c(batch_seed(7, 2, 32));
  Tensor ya = augment(x, a), yb = augment(x, b), yc = augment(x, c);
  CHECK(ya.shape() == x.shape());
  CHECK(ya.dtype() == kFloat32);
  CHECK(allclose(ya, yb, 0, 0));
  CHECK_FALSE(allclose(ya, yc, 1e-3, 1e-3));
  CHECK(batch_seed(7, 2, 31) != batch_seed(7, 3, 31));
  CHECK(batch_seed(7, 2, 31) != batch_seed(8, 2, 31));
  // One [C, H, W] image keeps its rank.
  Generator g(0);
  CHECK(RandomCrop(20, 2)(x.index({0}), g).shape() == Shape({1, 20, 20}));
}

TEST_CASE("transforms refuse bad images and parameters with a message", "[transforms]") {
  Generator gen(0);
  CHECK_THROWS_WITH(Normalize({0.5}, {0.0}),
                    Catch::Contains("Normalize") && Catch::Contains("must be positive, got 0"));
  CHECK_THROWS_WITH(Normalize({0.5, 0.5}, {1.0}),
                    Catch::Contains("as many means as standard deviations"));
  CHECK_THROWS_WITH(Normalize({0.1, 0.2}, {1.0, 1.0})(rand({2, 3, 4, 4}), gen),
                    Catch::Contains("2 means for images of 3 channels"));
  CHECK_THROWS_WITH(RandomCrop(9, 2)(rand({1, 1, 4, 4}), gen),
                    Catch::Contains("a 9 x 9 crop does not fit images of 4 x 4 padded by 2"));
  CHECK_THROWS_WITH(RandomCrop(0), Catch::Contains("crop size must be positive"));
  CHECK_THROWS_WITH(RandomCrop(3, -1), Catch::Contains("padding must be non-negative, got -1"));
  CHECK_THROWS_WITH(RandomHorizontalFlip(1.5), Catch::Contains("in [0, 1], got 1.5"));
  CHECK_THROWS_WITH(
      RandomHorizontalFlip()(rand({4, 4}), gen),
      Catch::Contains("one image [C, H, W] or a batch [N, C, H, W], got shape [4, 4]"));
  CHECK_THROWS_WITH(RandomHorizontalFlip()(zeros({1, 2, 2}, kInt64), gen),
                    Catch::Contains("expected float32 or float64 images, got int64"));
  CHECK_THROWS_WITH(Compose({nullptr}), Catch::Contains("transform 0 is null"));
}
