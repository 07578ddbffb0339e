// libtorch's Tensor surface in minidl's native API (issue 13): option builders, devices, Scalar
// items, accessors, sizes(), integer-dim reductions, t[i], method forms of ops, and the factory
// additions (from_blob, *_like with options, arange / randint call shapes).
#include <cstdint>
#include <iostream>
#include <sstream>
#include <vector>

#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::transposed_leaf;

TEST_CASE("option builders read like libtorch's", "[tensor_api]") {
  manual_seed(1);
  Tensor a = randn({2, 3}, requires_grad());
  CHECK(a.requires_grad());
  CHECK(a.dtype() == kFloat);
  Tensor b = zeros({2}, dtype(kFloat).requires_grad(true));
  CHECK(b.requires_grad());
  CHECK(b.is_leaf());
  Tensor c = ones({2}, TensorOptions().dtype(kFloat64));
  CHECK(c.dtype() == kDouble);
  CHECK_FALSE(c.requires_grad());
  Tensor d = full({2}, 3.0, device(kCPU).dtype(kLong).layout(kStrided));
  CHECK(d.dtype() == kInt64);
  CHECK(zeros({1}, Device("cpu")).device() == Device(kCPU));
  TensorOptions o = dtype(kFloat64).requires_grad(true);
  CHECK(o.dtype() == kFloat64);
  CHECK(o.requires_grad());
  CHECK(o.device() == Device(kCPU));
  CHECK(o.layout() == kStrided);
  CHECK(TensorOptions().dtype() == kFloat32);  // the default dtype
  CHECK_FALSE(TensorOptions().has_dtype());
}

TEST_CASE("CUDA, sparse and missing dtypes can be named but not used", "[tensor_api]") {
  CHECK_FALSE(cuda::is_available());
  CHECK(cuda::device_count() == 0);
  Device gpu(kCUDA);
  CHECK(gpu.is_cuda());
  CHECK(Device("cuda:1").index() == 1);
  CHECK(Device("cuda:1").str() == "cuda:1");
  CHECK(Device(cuda::is_available() ? kCUDA : kCPU).is_cpu());
  CHECK_THROWS_WITH(zeros({2}, gpu), Contains("empty") && Contains("CPU only"));
  CHECK_THROWS_WITH(randn({2}, device(kCUDA)), Contains("CPU only"));
  CHECK_THROWS_WITH(ones({2}).to(gpu), Contains("to") && Contains("CPU only"));
  CHECK_THROWS_WITH(ones({2}).to(kCUDA), Contains("CPU only"));
  CHECK_THROWS_WITH(tensor({1.0, 2.0}, gpu), Contains("from_vector") && Contains("CPU only"));
  CHECK_THROWS_WITH(zeros({2}, layout(kSparse)), Contains("strided"));
  CHECK_THROWS_WITH(zeros({2}, kInt32), Contains("int32") && Contains("not supported"));
  CHECK_THROWS_WITH(ones({2}).to(dtype(kByte)), Contains("uint8"));
  CHECK(ones({2}).dtype() != kInt32);
  CHECK_THROWS_WITH(Device("tpu"), Contains("Device") && Contains("tpu"));
  CHECK_THROWS_WITH(Device("cuda:x"), Contains("Device") && Contains("index"));
  CHECK_THROWS_WITH(Device(kCPU, 2), Contains("Device"));
}

TEST_CASE("device moves on the CPU return the tensor itself", "[tensor_api]") {
  Tensor t = arange(6, kFloat32).view({2, 3});
  CHECK(t.device().is_cpu());
  CHECK(t.is_cpu());
  CHECK_FALSE(t.is_cuda());
  CHECK(t.cpu().is_same(t));
  CHECK(t.to(Device(kCPU)).is_same(t));
  CHECK(t.to(kCPU, /*non_blocking=*/true).is_same(t));
  CHECK(t.to(t.options()).is_same(t));
  Tensor copied = t.to(Device("cpu"), kFloat32, false, /*copy=*/true);
  CHECK_FALSE(copied.shares_storage(t));
  CHECK(allclose(copied, t));
  Tensor d = t.to(Device(kCPU), kFloat64);
  CHECK(d.dtype() == kFloat64);
  CHECK(t.to(TensorOptions().dtype(kInt64)).dtype() == kInt64);
  CHECK(t.to(kFloat64, /*non_blocking=*/false).dtype() == kFloat64);
  CHECK_THROWS_WITH(t.to(requires_grad()), Contains("to") && Contains("requires_grad"));
  // to() is differentiable across dtypes.
  Tensor x = ones({2}, kFloat64).requires_grad_();
  x.to(Device(kCPU), kFloat32).sum().backward();
  CHECK(allclose(x.grad(), ones({2}, kFloat64)));
}

TEST_CASE("metadata spelled as libtorch", "[tensor_api]") {
  Tensor t = zeros({2, 3, 4}, kFloat64);
  CHECK(t.sizes().vec() == std::vector<int64_t>{2, 3, 4});
  CHECK(t.sizes() == Shape{2, 3, 4});
  CHECK(t.sizes()[1] == 3);
  CHECK(t.sizes().size() == 3);
  CHECK(zeros(t.sizes()).shape() == t.shape());
  Shape copy = t.sizes();
  CHECK(copy == Shape{2, 3, 4});
  std::ostringstream os;
  os << t.sizes();
  CHECK(os.str() == "[2, 3, 4]");
  CHECK(t.size(-1) == 4);
  CHECK(t.ndimension() == 3);
  CHECK(t.scalar_type() == kDouble);
  CHECK(t.options().dtype() == kFloat64);
  CHECK_FALSE(t.options().requires_grad());
  CHECK(t.layout() == kStrided);
  Tensor y = t.requires_grad_() * 2.0;
  CHECK_FALSE(y.data().requires_grad());
  CHECK(y.data().shares_storage(y));
  std::ostringstream err;
  std::streambuf* old = std::cerr.rdbuf(err.rdbuf());
  t.print();
  ones({2}, kInt64).print();
  std::cerr.rdbuf(old);
  CHECK(err.str() == "[CPUDoubleType [2, 3, 4]]\n[CPULongType [2]]\n");
}

TEST_CASE("item() returns a Scalar, item<T>() a T", "[tensor_api]") {
  Tensor f = scalar_tensor(2.75, kFloat32);
  CHECK(f.item().toFloat() == 2.75f);
  CHECK(f.item().toDouble() == 2.75);
  CHECK(f.item().toLong() == 2);
  CHECK(f.item().isFloatingPoint());
  CHECK(f.item<float>() == 2.75f);
  const double as_double = f.item();  // the implicit conversion old minidl code relies on
  CHECK(as_double == 2.75);
  Tensor big = from_vector(std::vector<int64_t>{(int64_t(1) << 53) + 1}, {});
  CHECK(big.item().isIntegral(false));
  CHECK(big.item().toLong() == (int64_t(1) << 53) + 1);  // no detour through double
  CHECK(tensor({true}).item().toBool());
  CHECK(tensor({true}).item().isBoolean());
  std::ostringstream os;
  os << tensor({7}).item() << ' ' << tensor({false}).item();
  CHECK(os.str() == "7 false");
  CHECK_THROWS_WITH(zeros({2}).item(), Contains("item"));
}

TEST_CASE("accessor reads and writes through the strides", "[tensor_api]") {
  Tensor t = arange(6, kFloat32).view({2, 3});
  Tensor tt = t.t();  // [3, 2], non-contiguous
  auto a = tt.accessor<float, 2>();
  CHECK(a.size(0) == 3);
  CHECK(a.stride(0) == 1);
  CHECK(a[2][1] == 5.0f);
  a[0][1] = 42.0f;  // writes t[1][0]
  CHECK(t.index({1, 0}).item<float>() == 42.0f);
  auto row = t.accessor<float, 2>()[1];
  CHECK(row[2] == 5.0f);
  Tensor counts = ones({3}, kInt64);
  CHECK(counts.accessor<int64_t, 1>()[2] == 1);
  CHECK_THROWS_WITH((t.accessor<float, 3>()), Contains("accessor") && Contains("[2, 3]"));
  CHECK_THROWS_WITH((t.accessor<double, 2>()), Contains("data_ptr") && Contains("float32"));
}

TEST_CASE("t[i] selects along dim 0", "[tensor_api]") {
  Tensor t = arange(12, kFloat64).view({3, 4});
  CHECK(t[1].to_vector<double>() == std::vector<double>{4, 5, 6, 7});
  CHECK(t[-1][0].item<double>() == 8);
  CHECK(t[1].shares_storage(t));
  CHECK_THROWS_WITH(t[3], Contains("select") && Contains("3"));
  Tensor x = ones({3, 2}, kFloat64).requires_grad_();
  (x[2] * 3.0).sum().backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{0, 0, 0, 0, 3, 3});
}

TEST_CASE("reductions over one integer dim, keepdim and dtype", "[tensor_api]") {
  Tensor t = arange(6, kFloat64).view({2, 3});
  CHECK(t.sum(1).to_vector<double>() == std::vector<double>{3, 12});
  CHECK(t.sum(-1, true).shape() == Shape{2, 1});
  CHECK(t.mean(0).to_vector<double>() == std::vector<double>{1.5, 2.5, 3.5});
  CHECK(t.mean(1, true).shape() == Shape{2, 1});
  // Braced lists keep their meaning: {} is every dim, {1} the list {1}.
  CHECK(t.sum({}).item<double>() == 15);
  CHECK(t.sum({1}).to_vector<double>() == std::vector<double>{3, 12});
  CHECK(t.mean({}, true).shape() == Shape{1, 1});
  Tensor i = arange(6).view({2, 3});
  CHECK(i.sum(1, false, kFloat64).dtype() == kFloat64);
  CHECK(i.mean({0}, false, kFloat32).to_vector<float>() == std::vector<float>{1.5f, 2.5f, 3.5f});
  CHECK(sum(t, 1).to_vector<double>() == std::vector<double>{3, 12});
  CHECK(mean(t, 0, true).shape() == Shape{1, 3});
  CHECK(allclose(t.logsumexp(1), t.logsumexp({1})));
  CHECK_THROWS_WITH(t.sum(2), Contains("sum"));
}

TEST_CASE("comparison, closeness and equality methods", "[tensor_api]") {
  Tensor t = tensor({1.0, 2.0, 3.0});
  CHECK(t.eq(2).to_vector<bool>() == std::vector<bool>{false, true, false});
  CHECK(t.gt(1.5).to_vector<bool>() == std::vector<bool>{false, true, true});
  CHECK(t.le(1).to_vector<bool>() == std::vector<bool>{true, false, false});
  CHECK(t.eq(t).sum().item<int64_t>() == 3);
  CHECK(t.allclose(t + 1e-9));
  CHECK_FALSE(t.allclose(t + 1e-3));
  CHECK(t.allclose(t + 1e-3, 0.0, 1e-2));
  CHECK(t.allclose(tensor({1.0, 2.0, 3.0}).view({1, 3})));  // broadcasts
  Tensor nan = tensor({double(NAN), 1.0});
  CHECK_FALSE(nan.allclose(nan));
  CHECK(nan.allclose(nan, 1e-5, 1e-8, /*equal_nan=*/true));
  CHECK(tensor({INFINITY}).allclose(tensor({INFINITY})));
  CHECK(t.equal(tensor({1.0, 2.0, 3.0})));
  CHECK_FALSE(t.equal(t.view({3, 1})));
  CHECK_FALSE(t.equal(tensor({1.0, 2.0, 4.0})));
  CHECK_THROWS_WITH(t.allclose(zeros({2})), Contains("allclose"));
}

TEST_CASE("method forms of selection and shape ops", "[tensor_api]") {
  Tensor t = arange(12, kFloat64).view({3, 4});
  Tensor idx = tensor({2, 0});
  CHECK(t.index_select(0, idx).to_vector<double>() ==
        std::vector<double>{8, 9, 10, 11, 0, 1, 2, 3});
  CHECK(t.gather(1, tensor({{3}, {0}, {1}})).to_vector<double>() == std::vector<double>{3, 4, 9});
  CHECK(t.repeat({1, 2}).shape() == Shape{3, 8});
  CHECK(t.chunk(2, 1).size() == 2);
  CHECK(t.split(2).size() == 2);
  CHECK(t.split(std::vector<int64_t>{1, 3}, 1)[1].shape() == Shape{3, 3});
  CHECK(t.masked_select(t.gt(9)).to_vector<double>() == std::vector<double>{10, 11});
  manual_seed(2);
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return in[0].index_select(1, tensor({1, 1})) * in[0].gather(0, tensor({{2, 0}}));
      },
      {transposed_leaf({3, 2})});
}

TEST_CASE("factories take libtorch's call shapes", "[tensor_api]") {
  Tensor t = arange(4, kFloat32);
  Tensor z = zeros_like(t, dtype(kFloat64).requires_grad(true));
  CHECK(z.dtype() == kFloat64);
  CHECK(z.requires_grad());
  CHECK(ones_like(t).dtype() == kFloat32);
  CHECK(ones_like(t, kInt64).dtype() == kInt64);
  CHECK(empty_like(t, requires_grad()).requires_grad());
  CHECK(full_like(t, 2.0, kFloat64).sum().item<double>() == 8.0);
  CHECK(randn_like(t, kFloat64).dtype() == kFloat64);
  CHECK(rand_like(t).dtype() == kFloat32);
  Tensor r = arange(0, 5, kFloat64);
  CHECK(r.dtype() == kFloat64);
  CHECK(r.to_vector<double>() == std::vector<double>{0, 1, 2, 3, 4});
  CHECK(arange(0, 10, 4).to_vector<int64_t>() == std::vector<int64_t>{0, 4, 8});
  manual_seed(4);
  Tensor ri = randint(3, {50});
  CHECK(ri.dtype() == kInt64);
  CHECK(ri.min().item<int64_t>() >= 0);
  CHECK(ri.max().item<int64_t>() <= 2);
  CHECK(randint(5, {2, 3}, kFloat64).dtype() == kFloat64);
}

TEST_CASE("from_blob views the caller's memory without owning it", "[tensor_api]") {
  std::vector<float> data{1, 2, 3, 4, 5, 6};
  {
    Tensor t = from_blob(data.data(), {2, 3});
    CHECK(t.dtype() == kFloat32);
    CHECK(t.index({1, 2}).item<float>() == 6.0f);
    t.mul_(2.0);                                                     // writes through
    Tensor col = from_blob(data.data(), {2}, {3}, TensorOptions());  // a strided view: column 0
    CHECK(col.to_vector<float>() == std::vector<float>{2, 8});
  }
  CHECK(data[5] == 12.0f);  // still ours, still alive
  std::vector<double> d{1.0, 2.0};
  Tensor leaf = from_blob(d.data(), {2}, dtype(kFloat64).requires_grad(true));
  CHECK(leaf.requires_grad());
  (leaf * leaf).sum().backward();
  CHECK(leaf.grad().to_vector<double>() == std::vector<double>{2.0, 4.0});
  CHECK_THROWS_WITH(from_blob(nullptr, {2}), Contains("from_blob") && Contains("null"));
  CHECK_THROWS_WITH(from_blob(d.data(), {2}, {1, 1}), Contains("from_blob") && Contains("strides"));
  CHECK_THROWS_WITH(from_blob(d.data(), {2}, {-1}), Contains("from_blob") && Contains("negative"));
  CHECK_THROWS_WITH(from_blob(d.data(), {2}, kCUDA), Contains("from_blob") && Contains("CPU only"));
  char bytes[16] = {};
  CHECK_THROWS_WITH(from_blob(bytes + 1, {1}, kFloat64), Contains("aligned"));
}
