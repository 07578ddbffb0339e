// Tensor handles (core/tensor.cpp): metadata, data access, conversions, printing, errors.
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::leaf;

TEST_CASE("metadata of a fresh tensor", "[tensor]") {
  Tensor t = zeros({2, 3, 4});
  CHECK(t.dim() == 3);
  CHECK(t.numel() == 24);
  CHECK(t.strides() == Shape{12, 4, 1});
  CHECK(t.size(-1) == 4);
  CHECK(t.stride(0) == 12);
  CHECK(t.is_contiguous());
  CHECK(t.storage_offset() == 0);
  CHECK(t.element_size() == 4);
  CHECK(reinterpret_cast<uintptr_t>(t.raw_data()) % 64 == 0);  // 64-byte aligned storage
  CHECK_FALSE(t.requires_grad());
  CHECK(t.is_leaf());
  CHECK_FALSE(Tensor().defined());
}

TEST_CASE("data access is dtype-checked", "[tensor]") {
  Tensor t = arange(6, kFloat32).reshape({2, 3});
  CHECK(t.data_ptr<float>()[4] == 4.0f);
  CHECK_THROWS_WITH(t.data_ptr<double>(),
                    Catch::Contains("data_ptr") && Catch::Contains("float32"));
  CHECK(t.index({1, 1}).item<float>() == 4.0f);
  CHECK_THROWS_WITH(t.item(), Catch::Contains("item") && Catch::Contains("[2, 3]"));
  CHECK(t.t().to_vector<int64_t>() == std::vector<int64_t>{0, 3, 1, 4, 2, 5});
  CHECK_THROWS_WITH(Tensor().dim(), Catch::Contains("undefined"));
}

TEST_CASE("contiguous, clone and to copy exactly when needed", "[tensor]") {
  Tensor a = arange(6, kFloat64).reshape({2, 3});
  CHECK(a.contiguous().is_same(a));
  Tensor t = a.t().contiguous();
  CHECK(t.is_contiguous());
  CHECK_FALSE(t.shares_storage(a));
  CHECK(t.to_vector<double>() == std::vector<double>{0, 3, 1, 4, 2, 5});
  // Empty tensors are contiguous whatever their strides (as in PyTorch), even with a dim near
  // 2^62 whose stride product would overflow (found by fuzz_shapes).
  CHECK(zeros({0, 3}).t().is_contiguous());
  CHECK(zeros({0, 1}).expand({0, int64_t(1) << 62}).t().is_contiguous());
  Tensor c = a.clone();
  CHECK_FALSE(c.shares_storage(a));
  CHECK(a.to(kFloat64).is_same(a));
  Tensor i = tensor({1.7, -2.2}).to(kInt64);
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{1, -2});  // truncation, as PyTorch
  CHECK(tensor({0.0, 3.0}).to(kBool).to_vector<bool>() == std::vector<bool>{false, true});
}

TEST_CASE("clone, contiguous and to are differentiable", "[tensor]") {
  manual_seed(5);
  check_gradients(
      [](const std::vector<Tensor>& in) { return in[0].t().contiguous() * in[0].t().clone(); },
      {leaf({3, 4})});
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = x.to(kFloat32) * 3.0;
  y.sum().backward();
  CHECK(x.grad().dtype() == kFloat64);
  CHECK(allclose(x.grad(), full({2}, 3.0, kFloat64)));
}

TEST_CASE("detach shares data but not history", "[tensor]") {
  Tensor x = ones({2}).requires_grad_();
  Tensor y = x * 2.0;
  Tensor d = y.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.shares_storage(y));
  CHECK(d.grad_fn() == nullptr);
  y.detach_();
  CHECK(y.is_leaf());
  CHECK_THROWS_WITH((x * 2.0).requires_grad_(false), Catch::Contains("non-leaf"));
}

TEST_CASE("set_grad checks the shape", "[tensor]") {
  Tensor x = ones({2, 2}).requires_grad_();
  x.set_grad(full({2, 2}, 3.0));
  CHECK(x.grad().sum().item() == 12.0);
  CHECK_THROWS_WITH(x.set_grad(ones({3})), Catch::Contains("set_grad") && Catch::Contains("[3]"));
  x.zero_grad(/*set_to_none=*/false);
  CHECK(x.grad().sum().item() == 0.0);
}

TEST_CASE("printing shows values, shape, dtype and grad_fn", "[tensor]") {
  Tensor a = tensor({{1.0, 2.5}, {-3.0, 4.0}});
  std::string s = a.to_string();
  CHECK_THAT(s, Catch::StartsWith("tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]]"));
  CHECK_THAT(s, Catch::Contains("shape=[2, 2]") && Catch::Contains("dtype=float32"));
  Tensor g = (a.detach().requires_grad_() * 2.0);
  CHECK_THAT(g.to_string(), Catch::Contains("grad_fn=<MulBackward1>"));
  CHECK_THAT(tensor({1, 2}).to_string(), Catch::StartsWith("tensor([1, 2]"));
  CHECK_THAT(tensor({true, false}).to_string(), Catch::Contains("True, False"));
  CHECK_THAT(zeros({2000}).to_string(), Catch::Contains("..."));
  CHECK_THAT(tensor({1e-6, 1.0}).to_string(), Catch::Contains("e-06"));
  std::ostringstream os;
  os << scalar_tensor(2.0);
  CHECK(os.str() == "tensor(2.0000, shape=[], dtype=float32)");
}

TEST_CASE("conversions to int64 and bool are defined for every value", "[tensor]") {
  Tensor f = tensor({1e30, -1e30, std::nan(""), -2.7, 0.0}, kFloat64);
  std::vector<int64_t> i = f.to(kInt64).to_vector<int64_t>();
  CHECK(i[0] == std::numeric_limits<int64_t>::max());
  CHECK(i[1] == std::numeric_limits<int64_t>::min());
  CHECK(i[2] == 0);
  CHECK(i[3] == -2);
  CHECK(f.to(kBool).to_vector<bool>() == std::vector<bool>{true, true, true, true, false});
  CHECK(tensor({{true}, {false}}).shape() == Shape{2, 1});
  CHECK(scalar_tensor(INFINITY).item<int64_t>() == std::numeric_limits<int64_t>::max());
}

namespace {
// Destroyed after main returns, after the thread's small-block cache: must not touch it.
minidl::Tensor static_scalar = minidl::scalar_tensor(1.0);
}  // namespace

TEST_CASE("small storages are recycled and stay aligned", "[tensor]") {
  void* first = nullptr;
  {
    Tensor a = scalar_tensor(1.0);
    first = a.raw_data();
  }
  Tensor b = scalar_tensor(2.0);  // reuses the block a freed
  CHECK(b.raw_data() == first);
  CHECK(reinterpret_cast<uintptr_t>(b.raw_data()) % 64 == 0);
  CHECK(b.item() == 2.0);
  CHECK(static_scalar.item() == 1.0);
}

TEST_CASE("large storages are cached for reuse and empty_cache releases them", "[tensor]") {
  empty_cache();
  CHECK(cached_bytes() == 0);
  void* first = nullptr;
  {
    Tensor a = empty({256, 1024});  // 1 MiB
    first = a.raw_data();
  }
  CHECK(cached_bytes() == 1024 * 1024);
  Tensor b = zeros({1024, 256});  // the same size: the cached block comes back
  CHECK(b.raw_data() == first);
  CHECK(cached_bytes() == 0);
  CHECK(b.sum().item() == 0.0);
  CHECK(reinterpret_cast<uintptr_t>(b.raw_data()) % 4096 == 0);
  { Tensor c = empty({300, 1000}); }
  CHECK(cached_bytes() > 0);
  empty_cache();
  CHECK(cached_bytes() == 0);
}
