// bernoulli, bernoulli_ and random_ (ops/random.cpp): the samples' range and frequencies, and
// the error paths.
#include "tests/test_util.h"

using namespace minidl;
using Catch::Contains;

TEST_CASE("bernoulli_ fills with 0 / 1 at rate p", "[random]") {
  manual_seed(11);
  Tensor t = empty({4000}, kFloat32);
  t.bernoulli_(0.25);
  CHECK((t.eq(0.0) | t.eq(1.0)).sum().item<int64_t>() == t.numel());
  CHECK(t.mean().item<double>() == Approx(0.25).margin(0.03));
  CHECK(zeros({10}).bernoulli_(1.0).sum().item<double>() == 10);
  CHECK(ones({10}, kInt64).bernoulli_(0.0).sum().item<int64_t>() == 0);
  uint64_t version = t._version();
  t.bernoulli_();
  CHECK(t._version() > version);
  CHECK_THROWS_WITH(t.bernoulli_(1.5), Contains("bernoulli_") && Contains("1.5"));
}

TEST_CASE("bernoulli samples per-element probabilities", "[random]") {
  manual_seed(12);
  Tensor p = tensor({0.0, 1.0, 0.5}, kFloat64).expand({2000, 3});
  Tensor s = bernoulli(p);
  CHECK(s.dtype() == kFloat64);
  CHECK(s.shape() == Shape{2000, 3});
  std::vector<double> rate = s.mean({0}).to_vector<double>();
  CHECK(rate[0] == 0.0);
  CHECK(rate[1] == 1.0);
  CHECK(rate[2] == Approx(0.5).margin(0.04));
  Tensor q = bernoulli(zeros({3, 2}, kFloat32), 1.0);
  CHECK(q.dtype() == kFloat32);
  CHECK(q.sum().item<double>() == 6);
  CHECK_THROWS_WITH(bernoulli(tensor({0.5, -0.1})), Contains("bernoulli") && Contains("-0.1"));
  CHECK_THROWS_WITH(bernoulli(tensor({1, 0})), Contains("bernoulli") && Contains("floating"));
}

TEST_CASE("random_ draws integers in [from, to)", "[random]") {
  manual_seed(13);
  Tensor t = empty({500}, kFloat64);
  t.random_(-2, 3);
  CHECK(t.min().item<double>() == -2);
  CHECK(t.max().item<double>() == 2);
  CHECK(t.to(kInt64).to(kFloat64).equal(t));  // whole numbers
  Tensor i = empty({100}, kInt64);
  i.random_(4);
  CHECK(i.min().item<int64_t>() >= 0);
  CHECK(i.max().item<int64_t>() <= 3);
  CHECK_THROWS_WITH(i.random_(3, 3), Contains("random_") && Contains("[3, 3)"));
  CHECK_THROWS_WITH(empty({2}, kBool).random_(0, 5), Contains("random_") && Contains("bool"));
}
