// Gradient clipping (nn/clip_grad.cpp) against torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
#include "nn/clip_grad.h"

#include <cmath>
#include <limits>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::Fixtures;

namespace {

const Fixtures& fixtures() {
  static const Fixtures fx("optim.txt");
  return fx;
}

// Parameters holding the fixture's gradients g1 [3, 4] and g2 [5]; transposed: g1 stored
// column-major (a non-contiguous gradient).
std::vector<Tensor> params_with_grads(bool transposed = false, DType dtype = kFloat64) {
  Tensor p1 = zeros({3, 4}, dtype).requires_grad_();
  Tensor p2 = zeros({5}, dtype).requires_grad_();
  const Tensor& g1 = fixtures()["clip_g1"];
  p1.set_grad(transposed ? g1.t().contiguous().to(dtype).t() : g1.clone().to(dtype));
  p2.set_grad(fixtures()["clip_g2"].clone().to(dtype));
  return {p1, p2};
}

}  // namespace

TEST_CASE("clip_grad_norm_ matches PyTorch for several norm types", "[optim]") {
  const Fixtures& fx = fixtures();
  struct Case {
    const char* tag;
    double max_norm, norm_type;
  };
  const double inf = std::numeric_limits<double>::infinity();
  for (const Case& c : {Case{"l2", 1.0, 2.0}, Case{"l1", 2.0, 1.0}, Case{"inf", 0.5, inf},
                        Case{"p3", 1.5, 3.0}, Case{"big", 100.0, 2.0}}) {
    for (bool transposed : {false, true}) {
      INFO(c.tag << (transposed ? " (non-contiguous grad)" : ""));
      std::vector<Tensor> params = params_with_grads(transposed);
      Tensor total = nn::utils::clip_grad_norm_(params, c.max_norm, c.norm_type);
      CHECK(total.dim() == 0);
      CHECK(total.dtype() == kFloat64);
      CHECK(allclose(total, fx[std::string("clip_") + c.tag + "_total"], 1e-12, 1e-12));
      CHECK(allclose(params[0].grad(), fx[std::string("clip_") + c.tag + "_g1"], 1e-12, 1e-12));
      CHECK(allclose(params[1].grad(), fx[std::string("clip_") + c.tag + "_g2"], 1e-12, 1e-12));
    }
  }
  // "big": nothing to clip, the gradients are unchanged
  CHECK(allclose(fx["clip_big_g1"], fx["clip_g1"], 0, 0));
}

TEST_CASE("clip_grad_norm_ on float32 gradients, one tensor, and without gradients", "[optim]") {
  const Fixtures& fx = fixtures();
  std::vector<Tensor> params = params_with_grads(false, kFloat32);
  Tensor total = nn::utils::clip_grad_norm_(params, 1.0);
  CHECK(total.dtype() == kFloat32);
  CHECK(allclose(total, fx["clip_l2_total"].to(kFloat32), 1e-6, 1e-6));
  CHECK(allclose(params[0].grad(), fx["clip_l2_g1"], 1e-6, 1e-6));

  // a single tensor: its own norm; the clipped gradient has norm max_norm (up to the 1e-6)
  Tensor p = zeros({4}, kFloat64).requires_grad_();
  p.set_grad(from_vector(std::vector<double>{3, 0, -4, 0}, {4}, kFloat64));
  CHECK(nn::utils::clip_grad_norm_(p, 2.5).item() == 5.0);
  CHECK(allclose(p.grad(), from_vector(std::vector<double>{1.5, 0, -2, 0}, {4}, kFloat64), 1e-6,
                 1e-9));
  // p=0 counts non-zeros (torch.norm's convention), -inf takes the smallest |g|
  CHECK(nn::utils::clip_grad_norm_(p, 100.0, 0.0).item() == 1.0);  // norm of the norm list [2]
  CHECK(nn::utils::clip_grad_norm_(p, 100.0, -std::numeric_limits<double>::infinity()).item() ==
        0.0);

  // parameters without .grad are skipped; none at all: a float32 zero
  Tensor no_grad = zeros({3}).requires_grad_();
  Tensor none = nn::utils::clip_grad_norm_(std::vector<Tensor>{no_grad}, 1.0);
  CHECK(none.dtype() == kFloat32);
  CHECK(none.item() == 0.0);
  CHECK_FALSE(no_grad.grad().defined());
  params = params_with_grads();
  params.push_back(no_grad);
  CHECK(allclose(nn::utils::clip_grad_norm_(params, 1.0), fx["clip_l2_total"], 1e-12, 1e-12));
}

TEST_CASE("clip_grad_norm_ with a non-finite norm", "[optim]") {
  Tensor p = zeros({3}, kFloat64).requires_grad_();
  p.set_grad(from_vector(std::vector<double>{1, std::numeric_limits<double>::infinity(), 2}, {3},
                         kFloat64));
  CHECK_THROWS_WITH(nn::utils::clip_grad_norm_(p, 1.0, 2.0, /*error_if_nonfinite=*/true),
                    Catch::Contains("clip_grad_norm_") && Catch::Contains("order 2") &&
                        Catch::Contains("cannot be clipped"));
  CHECK(p.grad().to_vector<double>()[0] == 1.0);  // untouched by the failed call
  // without the check, PyTorch scales by max_norm / inf = 0 anyway
  const uint64_t version = p.grad()._version();
  Tensor total = nn::utils::clip_grad_norm_(p, 1.0);
  CHECK(std::isinf(total.item()));
  CHECK(p.grad().to_vector<double>()[0] == 0.0);
  CHECK(p.grad()._version() > version);  // an in-place write
  CHECK_THROWS_WITH(nn::utils::clip_grad_norm_(p, 1.0, std::nan("")),
                    Catch::Contains("clip_grad_norm_") && Catch::Contains("NaN"));
  CHECK_THROWS_WITH(nn::utils::clip_grad_norm_(std::vector<Tensor>{Tensor()}, 1.0),
                    Catch::Contains("clip_grad_norm_") && Catch::Contains("undefined"));
}

TEST_CASE("clip_grad_value_ matches PyTorch", "[optim]") {
  for (bool transposed : {false, true}) {
    std::vector<Tensor> params = params_with_grads(transposed);
    nn::utils::clip_grad_value_(params, 0.5);
    CHECK(allclose(params[0].grad(), fixtures()["clip_value_g1"], 0, 0));
    CHECK(params[1].grad().abs().max().item() <= 0.5);
  }
  Tensor p = zeros({3}).requires_grad_();
  p.set_grad(from_vector(std::vector<float>{-2.f, 0.25f, 3.f}, {3}));
  nn::utils::clip_grad_value_(p, 1.0);
  CHECK(p.grad().to_vector<float>() == std::vector<float>{-1.f, 0.25f, 1.f});
  CHECK_THROWS_WITH(nn::utils::clip_grad_value_(p, -1.0),
                    Catch::Contains("clip_grad_value_") && Catch::Contains("got -1"));
}
