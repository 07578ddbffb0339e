// Synchronized BatchNorm (nn/distributed/sync_batch_norm.h) in one process, where the sum over
// the ranks is the identity: sum_over_ranks copies and passes gradients through; sync_batch_norm
// (the statistics written in recorded ops around that sum) equals the fused batch_norm -- output,
// gradients (gradcheck on non-contiguous inputs), running statistics -- which the PyTorch
// fixtures of tests/test_norm.cpp pin; the module and convert_sync_batchnorm; the errors. On 2
// ranks, tests/test_distributed_training.cpp trains the BatchNorm models (VQA, captioning) and
// checks that they follow the 1-process loss curve.
#include "nn/distributed/sync_batch_norm.h"

#include "nn/container.h"
#include "nn/linear.h"
#include "ops/norm.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

TEST_CASE("sum_over_ranks on one process: a copy whose gradient passes through", "[distributed]") {
  Tensor x = (randn({3, 4}, kFloat64)).requires_grad_();
  Tensor y = distributed::sum_over_ranks(x.t());
  CHECK(allclose(y, x.t()));
  CHECK(y.is_contiguous());
  CHECK(y.data_ptr<double>() != x.data_ptr<double>());
  check_gradients([](const std::vector<Tensor>& in) { return distributed::sum_over_ranks(in[0]); },
                  {transposed_leaf({4, 3})});
  // Twice differentiable: its backward is itself recorded.
  Tensor z = (distributed::sum_over_ranks(x) * distributed::sum_over_ranks(x)).sum();
  Tensor g = autograd::grad({z}, {x}, {}, true, true)[0];
  CHECK(allclose(g, 2.0 * x));
  Tensor gg = autograd::grad({g.sum()}, {x})[0];
  CHECK(allclose(gg, full({3, 4}, 2.0, kFloat64)));
  CHECK_THROWS_WITH(distributed::sum_over_ranks(zeros({2}, kInt64)),
                    Catch::Contains("sum_over_ranks") && Catch::Contains("float32 or float64"));
}

TEST_CASE("sync_batch_norm on one process equals batch_norm: output, gradients, running stats",
          "[distributed][norm]") {
  manual_seed(11);
  for (Shape shape : {Shape{6, 3}, Shape{4, 3, 5}, Shape{2, 3, 4, 4}}) {
    INFO(shape_str(shape));
    Tensor x = (randn(shape, kFloat64) * 3.0 + 2.0).requires_grad_();
    Tensor w = (randn({3}, kFloat64)).requires_grad_(), b = randn({3}, kFloat64).requires_grad_();
    Tensor rm1 = zeros({3}, kFloat64), rv1 = ones({3}, kFloat64);
    Tensor rm2 = zeros({3}, kFloat64), rv2 = ones({3}, kFloat64);
    Tensor upstream = randn(shape, kFloat64);
    Tensor fused = batch_norm(x, rm1, rv1, w, b, true, 0.3, 1e-4);
    auto fused_grads = autograd::grad({(fused * upstream).sum()}, {x, w, b});
    Tensor sync = distributed::sync_batch_norm(x, rm2, rv2, w, b, 0.3, 1e-4);
    auto sync_grads = autograd::grad({(sync * upstream).sum()}, {x, w, b});
    CHECK(allclose(sync, fused, 1e-10, 1e-10));
    for (size_t k = 0; k < 3; ++k) CHECK(allclose(sync_grads[k], fused_grads[k], 1e-9, 1e-9));
    CHECK(allclose(rm2, rm1, 1e-12, 1e-12));
    CHECK(allclose(rv2, rv1, 1e-12, 1e-12));
    CHECK(rm2.abs().sum().item<double>() > 0.1);  // the statistics did move
  }
  // float32 in, float32 out, statistics in double.
  Tensor x32 = randn({8, 2, 3}) * 100.0 + 1000.0;
  CHECK(distributed::sync_batch_norm(x32, {}, {}, {}, {}, 0.1, 1e-5).dtype() == kFloat32);
  CHECK(allclose(distributed::sync_batch_norm(x32, {}, {}, {}, {}, 0.1, 1e-5),
                 batch_norm(x32, {}, {}, {}, {}, true), 1e-4, 1e-4));
}

TEST_CASE("sync_batch_norm gradcheck on non-contiguous inputs", "[distributed][norm]") {
  manual_seed(12);
  Tensor w = strided_leaf({3}), b = minidl::testing::leaf({3});
  Tensor running_mean = zeros({3}, kFloat64), running_var = ones({3}, kFloat64);
  auto sync = [&](const std::vector<Tensor>& in) {
    return distributed::sync_batch_norm(in[0], running_mean, running_var, in[1], in[2], 0.1, 1e-3);
  };
  check_gradients(sync, {transposed_leaf({4, 3}), w, b});  // [N, C]
  check_gradients(sync, {strided_leaf({2, 3, 4}), w, b});  // [N, C, L]
  Tensor nchw = (randn({2, 4, 3, 3}, kFloat64) * 2.0 + 1.0).permute({0, 3, 1, 2});
  check_gradients(sync, {nchw.detach().requires_grad_(), w, b});  // [N, C, H, W]
  // broadcast: one row expanded over the batch plus noise keeps the variance positive
  Tensor row = randn({1, 3}, kFloat64).requires_grad_();
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return distributed::sync_batch_norm(in[0].expand({5, 3}) + in[1], {}, {}, {}, {}, 0.1,
                                            1e-5);
      },
      {row, randn({5, 3}, kFloat64).requires_grad_()});
}

TEST_CASE("SyncBatchNorm and convert_sync_batchnorm", "[distributed][norm]") {
  manual_seed(13);
  distributed::SyncBatchNorm sync(3);
  CHECK(sync.synchronize_statistics);
  CHECK(sync.type_name() == "SyncBatchNorm");
  CHECK(sync.named_buffers().size() == 3);
  // Any [N, C, *]: 5D included; on one process the same as BatchNorm's numbers.
  Tensor x = randn({2, 3, 2, 2, 2}) * 2.0;
  nn::BatchNorm2d plain(3);
  Tensor y = sync.forward(x);
  Tensor want = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  CHECK(allclose(y, want, 1e-5, 1e-5));
  CHECK(sync.num_batches_tracked.item<int64_t>() == 1);
  CHECK_THROWS_WITH(sync.forward(randn({3})),
                    Catch::Contains("SyncBatchNorm") && Catch::Contains("expected at least 2D"));

  nn::Sequential model(std::make_shared<nn::Linear>(4, 3), std::make_shared<nn::BatchNorm1d>(3),
                       std::make_shared<nn::Linear>(3, 3), std::make_shared<nn::BatchNorm1d>(3));
  CHECK(distributed::convert_sync_batchnorm(model) == 2);
  int64_t synchronized = 0;
  model.apply([&](nn::Module& m) {
    if (auto* norm = dynamic_cast<nn::BatchNormBase*>(&m))
      synchronized += norm->synchronize_statistics;
  });
  CHECK(synchronized == 2);
  CHECK(distributed::convert_sync_batchnorm(plain) == 1);
  CHECK(plain.synchronize_statistics);
}

TEST_CASE("sync_batch_norm errors name the op and the shapes", "[distributed][norm]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(distributed::sync_batch_norm(randn({4}), {}, {}, {}, {}, 0.1, 1e-5),
                    Contains("sync_batch_norm") && Contains("at least 2 dims") && Contains("[4]"));
  CHECK_THROWS_WITH(distributed::sync_batch_norm(randn({4, 3}), {}, {}, ones({2}), {}, 0.1, 1e-5),
                    Contains("3 channels") && Contains("[2]"));
  CHECK_THROWS_WITH(distributed::sync_batch_norm(randn({1, 3}), {}, {}, {}, {}, 0.1, 1e-5),
                    Contains("more than 1 value per channel"));
  CHECK_THROWS_WITH(distributed::sync_batch_norm(zeros({4, 3}, kInt64), {}, {}, {}, {}, 0.1, 1e-5),
                    Contains("float32 or float64"));
}
