// Factories (core/factories.cpp): values vs PyTorch, dtypes, seeding, errors.
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::Fixtures;

TEST_CASE("arange, linspace and eye match PyTorch", "[factories]") {
  Fixtures fx("core.txt");
  Tensor a = arange(2, 11, 3);
  CHECK(a.dtype() == kInt64);
  CHECK(allclose(a, fx["arange_int"], 0, 0));
  Tensor b = arange(0.0, 1.0, 0.15);
  CHECK(b.dtype() == kFloat32);
  CHECK(allclose(b, fx["arange_float"], 0, 0));
  CHECK(allclose(arange(5, -3, -2), fx["arange_neg_step"], 0, 0));
  CHECK(allclose(linspace(-1.0, 2.0, 7, kFloat64), fx["linspace"], 0, 0));
  CHECK(allclose(linspace(3.0, 5.0, 1, kFloat64), fx["linspace_one"], 0, 0));
  CHECK(allclose(eye(3, 4), fx["eye_3_4"], 0, 0));
  CHECK(arange(4).shape() == Shape{4});
  CHECK(arange(3, kFloat64).dtype() == kFloat64);
}

TEST_CASE("zeros, ones, full and the _like forms", "[factories]") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == kFloat32);
  CHECK(z.sum().item() == 0.0);
  CHECK(ones({4}, kInt64).sum().item<int64_t>() == 4);
  CHECK(full({2, 2}, 2.5, kFloat64).to_vector<double>() == std::vector<double>{2.5, 2.5, 2.5, 2.5});
  Tensor like = full_like(z, 7.0);
  CHECK(like.shape() == z.shape());
  CHECK(like.to_vector<float>()[5] == 7.0f);
  CHECK(ones_like(z, kFloat64).dtype() == kFloat64);
  CHECK(zeros({0, 3}).numel() == 0);
  CHECK(zeros({}, TensorOptions().dtype(kFloat64).requires_grad(true)).requires_grad());
}

TEST_CASE("tensor literals pick PyTorch's default dtypes", "[factories]") {
  CHECK(tensor({1.0, 2.0}).dtype() == kFloat32);
  CHECK(tensor({1, 2, 3}).dtype() == kInt64);
  CHECK(tensor({true, false}).dtype() == kBool);
  CHECK(tensor({1.0, 2.0}, kFloat64).dtype() == kFloat64);
  Tensor m = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK(m.shape() == Shape{2, 3});
  CHECK(m.index({1, 2}).item() == 6.0);
  CHECK_THROWS_WITH(tensor({{1.0, 2.0}, {3.0}}),
                    Catch::Contains("tensor") && Catch::Contains("ragged"));
  CHECK(scalar_tensor(3.5).dim() == 0);
}

TEST_CASE("from_vector checks the element count", "[factories]") {
  Tensor t = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.dtype() == kFloat64);
  CHECK(t.index({1, 0}).item() == 4.0);
  CHECK_THROWS_WITH(from_vector(std::vector<float>{1, 2, 3}, {2, 2}),
                    Catch::Contains("from_vector") && Catch::Contains("[2, 2]"));
}

TEST_CASE("random factories are reproducible under manual_seed", "[factories]") {
  manual_seed(42);
  Tensor a = randn({100});
  Tensor u = rand({100});
  manual_seed(42);
  CHECK(allclose(randn({100}), a, 0, 0));
  CHECK(allclose(rand({100}), u, 0, 0));
  manual_seed(43);
  CHECK_FALSE(allclose(randn({100}), a, 0, 0));
}

TEST_CASE("random factories have the right distributions", "[factories]") {
  manual_seed(1);
  Tensor n = randn({20000}, kFloat64);
  CHECK(n.mean().item() == Approx(0.0).margin(0.03));
  CHECK((n * n).mean().item() == Approx(1.0).margin(0.05));
  Tensor u = rand({20000}, kFloat64);
  CHECK(u.mean().item() == Approx(0.5).margin(0.01));
  std::vector<double> uv = u.to_vector<double>();
  CHECK(*std::min_element(uv.begin(), uv.end()) >= 0.0);
  CHECK(*std::max_element(uv.begin(), uv.end()) < 1.0);
  Tensor r = randint(-3, 4, {5000});
  std::vector<int64_t> rv = r.to_vector<int64_t>();
  CHECK(*std::min_element(rv.begin(), rv.end()) == -3);
  CHECK(*std::max_element(rv.begin(), rv.end()) == 3);
  Tensor p = randperm(50);
  std::vector<int64_t> pv = p.to_vector<int64_t>();
  std::sort(pv.begin(), pv.end());
  for (int64_t i = 0; i < 50; ++i) CHECK(pv[i] == i);
}

TEST_CASE("a private Generator is independent of the default one", "[factories]") {
  Generator g(7);
  Tensor a = randn({10}, kFloat32, &g);
  std::string state = g.get_state();
  Tensor b = randn({10}, kFloat32, &g);
  g.set_state(state);
  CHECK(allclose(randn({10}, kFloat32, &g), b, 0, 0));
  Generator h(7);
  CHECK(allclose(randn({10}, kFloat32, &h), a, 0, 0));
  CHECK_THROWS_WITH(g.set_state("garbage"), Catch::Contains("set_state"));
}

TEST_CASE("factories reject bad arguments", "[factories]") {
  CHECK_THROWS_WITH(zeros({2, -1}),
                    Catch::Contains("negative dimension -1") && Catch::Contains("[2, -1]"));
  CHECK_THROWS_WITH(arange(0, 5, 0), Catch::Contains("arange") && Catch::Contains("nonzero"));
  CHECK_THROWS_WITH(arange(0, 5, -1), Catch::Contains("arange") && Catch::Contains("inconsistent"));
  CHECK_THROWS_WITH(linspace(0, 1, -2), Catch::Contains("linspace"));
  CHECK_THROWS_WITH(randint(3, 3, {2}), Catch::Contains("randint") && Catch::Contains("[3, 3)"));
  CHECK_THROWS_WITH(eye(-1), Catch::Contains("eye"));
  CHECK_THROWS_WITH(ones({2}, kInt64).requires_grad_(),
                    Catch::Contains("requires_grad_") && Catch::Contains("int64"));
}

TEST_CASE("factories: one integer size is a 1-d shape; braces keep their meaning", "[factories]") {
  CHECK(zeros(5).shape() == Shape{5});
  CHECK(ones(int64_t{3}, kFloat64).dtype() == kFloat64);
  CHECK(full(2, 7.0).to_vector<float>() == std::vector<float>{7.0f, 7.0f});
  CHECK(empty(4).numel() == 4);
  CHECK(rand(3).shape() == Shape{3});
  Tensor r = randn(3, requires_grad());
  CHECK(r.requires_grad());
  CHECK(zeros({}).dim() == 0);  // the 0-d shape, not zeros(0)
  CHECK(zeros({5}).shape() == Shape{5});
  CHECK(zeros({2, 3}).shape() == Shape{2, 3});
  CHECK_THROWS_WITH(zeros(-1), Catch::Contains("-1"));
}
