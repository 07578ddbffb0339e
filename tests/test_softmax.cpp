// softmax / log_softmax: PyTorch values and gradients, any dim (negative, not last, 0-d), the
// row and tiled kernels in serial and parallel, -inf rows, gradchecks and errors.
#include <limits>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::cos_upstream;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// Reference softmax along the last dim of a 2-d tensor, row by row through exp and sum.
Tensor rowwise_reference(const Tensor& x) {
  Tensor e = (x - x.detach().to_vector<double>()[0]).exp();  // any shift works in float64
  return e / e.sum({1}, true);
}
}  // namespace

TEST_CASE("softmax and log_softmax match PyTorch along the last and a middle dim", "[loss]") {
  Fixtures fx("loss.txt");
  const Tensor& x0 = fx["softmax_x"];
  for (int64_t dim : {-1, 1}) {
    std::string tag = dim < 0 ? "m1" : "1";
    for (bool log : {false, true}) {
      std::string name = std::string(log ? "log_softmax_" : "softmax_") + tag;
      INFO(name);
      Tensor x = x0.clone().requires_grad_();
      Tensor y = log ? log_softmax(x, dim) : softmax(x, dim);
      CHECK(allclose(y, fx[name + "_out"], 1e-6, 1e-9));
      y.backward(cos_upstream(y.shape()));
      CHECK(allclose(x.grad(), fx[name + "_dx"], 1e-6, 1e-9));
    }
  }
  // float32, dim 0 (the tiled kernel), and the method forms.
  Tensor y32 = fx["softmax32_x"].softmax(0);
  CHECK(y32.dtype() == kFloat32);
  CHECK(allclose(y32, fx["softmax32_out"], 1e-5, 1e-7));
  CHECK(allclose(fx["softmax32_x"].log_softmax(0).exp(), fx["softmax32_out"], 1e-5, 1e-7));
}

TEST_CASE("softmax of a non-contiguous input equals softmax of its contiguous copy", "[loss]") {
  manual_seed(1);
  Tensor base = randn({4, 6, 5}, kFloat64);
  Tensor x = base.transpose(0, 2);  // [5, 6, 4], strides [1, 5, 30]
  REQUIRE_FALSE(x.is_contiguous());
  for (int64_t dim : {0, 1, 2, -1, -3}) {
    INFO("dim " << dim);
    CHECK(allclose(softmax(x, dim), softmax(x.contiguous(), dim), 1e-12, 0));
    CHECK(allclose(log_softmax(x, dim), log_softmax(x.contiguous(), dim), 1e-12, 0));
  }
  Tensor y = softmax(x, 1);
  CHECK(y.is_contiguous());
  CHECK(allclose(y.sum({1}), ones({5, 4}, kFloat64), 1e-12, 1e-12));
}

TEST_CASE("the tiled kernel (dim not last) agrees with the row kernel, serial and parallel",
          "[loss]") {
  manual_seed(2);
  // inner = 70 spans a full and a partial tile; inner = 300 with 60000 elements runs in parallel.
  for (Shape shape : {Shape{3, 5, 70}, Shape{4, 50, 300}}) {
    INFO(shape_str(shape));
    Tensor x = randn(shape, kFloat32) * 3.0;
    Tensor y = softmax(x, 1);
    // The same softmax computed along the last dim of a transposed view (row kernel).
    Tensor by_rows = softmax(x.transpose(1, 2), -1).transpose(1, 2);
    CHECK(allclose(y, by_rows, 1e-5, 1e-7));
    CHECK(
        allclose(log_softmax(x, 1), log_softmax(x.transpose(1, 2), 2).transpose(1, 2), 1e-5, 1e-5));
    // Backward through both kernels.
    Tensor dy = randn(shape, kFloat32);
    Tensor dx_tiles = softmax_backward_data(dy, y, 1);
    Tensor dx_rows =
        softmax_backward_data(dy.transpose(1, 2), by_rows.transpose(1, 2), -1).transpose(1, 2);
    CHECK(allclose(dx_tiles, dx_rows, 1e-4, 1e-6));
    Tensor ly = log_softmax(x, 1);
    CHECK(allclose(
        log_softmax_backward_data(dy, ly, 1),
        log_softmax_backward_data(dy.transpose(1, 2), ly.transpose(1, 2), 2).transpose(1, 2), 1e-4,
        1e-5));
  }
}

TEST_CASE("a parallel row softmax matches a composed reference", "[loss]") {
  manual_seed(3);
  Tensor x = randn({64, 1024}, kFloat64);  // 65536 elements: above kParallelGrain
  CHECK(allclose(softmax(x, 1), rowwise_reference(x), 1e-10, 1e-14));
  CHECK(allclose(log_softmax(x, -1), rowwise_reference(x).log(), 1e-10, 1e-12));
}

TEST_CASE("softmax is stable for large logits", "[loss]") {
  Tensor x = tensor({1000.0, 1001.0, 999.0});
  Tensor y = softmax(x, 0);
  Tensor expected = softmax(tensor({1.0, 2.0, 0.0}), 0);
  CHECK(allclose(y, expected, 1e-6, 1e-7));
  CHECK(allclose(log_softmax(tensor({-1000.0, 0.0}), 0), tensor({-1000.0, 0.0}), 1e-6, 1e-6));
}

TEST_CASE("-inf entries get probability 0; an all -inf row is NaN", "[loss]") {
  Tensor x = tensor({{0.5, -kInf, 1.0, -2.0}, {-kInf, -kInf, -kInf, -kInf}}, kFloat64);
  // The row without its -inf entry.
  std::vector<double> f = softmax(tensor({0.5, 1.0, -2.0}, kFloat64), 0).to_vector<double>();
  for (int64_t dim : {1, 0}) {
    INFO("softmax dim is " << (dim == 1 ? "last" : "first (tiled kernel)"));
    Tensor in = dim == 1 ? x : x.t().contiguous();
    std::vector<double> y = softmax(in, dim).to_vector<double>();
    std::vector<double> ly = log_softmax(in, dim).to_vector<double>();
    auto at = [&](const std::vector<double>& v, int64_t row, int64_t col) {
      return dim == 1 ? v[row * 4 + col] : v[col * 2 + row];
    };
    CHECK(at(y, 0, 0) == Approx(f[0]));
    CHECK(at(y, 0, 1) == 0.0);
    CHECK(at(y, 0, 2) == Approx(f[1]));
    CHECK(at(y, 0, 3) == Approx(f[2]));
    CHECK(at(ly, 0, 1) == -kInf);
    CHECK(at(ly, 0, 2) == Approx(std::log(f[1])));
    for (int64_t c = 0; c < 4; ++c) {
      CHECK(std::isnan(at(y, 1, c)));
      CHECK(std::isnan(at(ly, 1, c)));
    }
  }
  // The gradient through the -inf entry is 0 (its probability is 0).
  Tensor xr = tensor({0.5, -kInf, 1.0}, kFloat64).requires_grad_();
  softmax(xr, 0).backward(tensor({1.0, 2.0, 3.0}, kFloat64));
  std::vector<double> g = xr.grad().to_vector<double>();
  CHECK(g[1] == 0.0);
  CHECK(std::isfinite(g[0]));
}

TEST_CASE("softmax of 0-d and empty tensors", "[loss]") {
  CHECK(softmax(scalar_tensor(3.0), 0).item() == 1.0);
  CHECK(log_softmax(scalar_tensor(3.0), -1).item() == 0.0);
  CHECK(softmax(zeros({0, 3}), 1).shape() == Shape{0, 3});
  CHECK(log_softmax(zeros({2, 0}), 1).shape() == Shape{2, 0});
}

TEST_CASE("softmax records its backward entry", "[loss]") {
  Tensor x = leaf({2, 3});
  CHECK(std::string(softmax(x, 1).grad_fn()->name()) == "SoftmaxBackward0");
  CHECK(std::string(log_softmax(x, 1).grad_fn()->name()) == "LogSoftmaxBackward0");
  NoGradGuard guard;
  CHECK_FALSE(softmax(x, 1).requires_grad());
}

TEST_CASE("gradcheck: softmax and log_softmax over every dim and layout", "[loss]") {
  manual_seed(4);
  struct Case {
    Tensor x;
    int64_t dim;
  };
  std::vector<Case> cases = {
      {leaf({3, 5}), -1},
      {leaf({3, 5}), 0},
      {leaf({2, 3, 4}), 1},
      {leaf({2, 3, 4}), -3},
      {transposed_leaf({4, 3}), 1},
      {transposed_leaf({2, 4, 3}), -2},
      {strided_leaf({3, 4}), -1},
      {strided_leaf({2, 3, 4}), 0},
      {leaf({2, 3, 67}), 1},  // a full and a partial tile
      {leaf({}), 0},
  };
  for (const Case& c : cases) {
    INFO("shape " << shape_str(c.x.shape()) << " dim " << c.dim);
    const int64_t dim = c.dim;
    check_gradients([dim](const std::vector<Tensor>& in) { return softmax(in[0], dim); }, {c.x});
    check_gradients([dim](const std::vector<Tensor>& in) { return log_softmax(in[0], dim); },
                    {c.x});
  }
}

TEST_CASE("softmax errors name the op and the shape", "[loss]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH(softmax(x, 2), Catch::Contains("softmax") && Catch::Contains("[2, 3]") &&
                                       Catch::Contains("dim 2"));
  CHECK_THROWS_WITH(log_softmax(x, -3),
                    Catch::Contains("log_softmax") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(softmax(zeros({2, 3}, kInt64), 1), Catch::Contains("softmax") &&
                                                           Catch::Contains("int64") &&
                                                           Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(log_softmax(zeros({4}, kBool), 0),
                    Catch::Contains("log_softmax") && Catch::Contains("bool"));
  CHECK_THROWS_WITH(softmax_backward_data(zeros({3, 2}), x, 1),
                    Catch::Contains("softmax_backward") && Catch::Contains("[3, 2]") &&
                        Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(log_softmax_backward_data(zeros({2, 3}, kFloat64), x, 1),
                    Catch::Contains("log_softmax_backward") && Catch::Contains("float64"));
}

TEST_CASE("masked_softmax excludes masked entries and zeroes fully masked rows", "[loss]") {
  Tensor x =
      tensor({{0.5, 3.0, 1.0, -2.0}, {1.0, 2.0, 3.0, 4.0}, {-kInf, 0.0, -kInf, 1.0}}, kFloat64);
  Tensor mask =
      tensor({{false, true, false, false}, {true, true, true, true}, {false, false, false, false}})
          .to(kBool);
  std::vector<double> kept = softmax(tensor({0.5, 1.0, -2.0}, kFloat64), 0).to_vector<double>();
  std::vector<double> last = softmax(tensor({0.0, 1.0}, kFloat64), 0).to_vector<double>();
  for (int64_t dim : {1, 0}) {
    INFO("softmax dim is " << (dim == 1 ? "last" : "first (tiled kernel)"));
    Tensor in = dim == 1 ? x : x.t().contiguous();
    Tensor m = dim == 1 ? mask : mask.t().contiguous();
    std::vector<double> y = masked_softmax(in, m, dim).to_vector<double>();
    auto at = [&](int64_t row, int64_t col) {
      return dim == 1 ? y[row * 4 + col] : y[col * 3 + row];
    };
    CHECK(at(0, 0) == Approx(kept[0]));
    CHECK(at(0, 1) == 0.0);
    CHECK(at(0, 2) == Approx(kept[1]));
    CHECK(at(0, 3) == Approx(kept[2]));
    for (int64_t c = 0; c < 4; ++c) CHECK(at(1, c) == 0.0);  // every entry masked
    CHECK(at(2, 0) == 0.0);                                  // -inf scores count as masked
    CHECK(at(2, 1) == Approx(last[0]));
    CHECK(at(2, 3) == Approx(last[1]));
  }
  // An undefined mask: only -inf entries are excluded, and an all -inf row is 0, not NaN.
  Tensor all_inf = full({2, 3}, -kInf, kFloat64);
  for (double v : masked_softmax(all_inf, Tensor(), 1).to_vector<double>()) CHECK(v == 0.0);
  // Gradients are finite everywhere and exactly 0 on masked entries and empty rows.
  Tensor xr = x.clone().requires_grad_();
  masked_softmax(xr, mask, 1).backward(arange(12.0, kFloat64).reshape({3, 4}).cos());
  std::vector<double> g = xr.grad().to_vector<double>();
  for (double v : g) CHECK(std::isfinite(v));
  CHECK(g[1] == 0.0);
  for (int64_t c = 4; c < 8; ++c) CHECK(g[c] == 0.0);
  CHECK(std::string(masked_softmax(xr, mask, 1).grad_fn()->name()) == "MaskedSoftmaxBackward0");
}

TEST_CASE("masked_softmax with a broadcast mask equals softmax of the -inf-filled scores",
          "[loss]") {
  manual_seed(11);
  Tensor x = randn({2, 3, 5}, kFloat64);
  Tensor mask = tensor({false, true, false, false, true}).to(kBool);  // broadcast over [2, 3]
  Tensor expected = softmax(x.masked_fill(mask, -kInf), -1);
  CHECK(allclose(masked_softmax(x, mask, -1), expected, 1e-12, 1e-14));
}

TEST_CASE("gradcheck: masked_softmax on contiguous, transposed and strided scores", "[loss]") {
  manual_seed(12);
  Tensor mask =
      tensor({{false, true, false, false}, {true, true, true, true}, {false, false, true, false}})
          .to(kBool);
  for (Tensor x : {leaf({3, 4}), transposed_leaf({3, 4}), strided_leaf({3, 4})}) {
    check_gradients([&](const std::vector<Tensor>& in) { return masked_softmax(in[0], mask, 1); },
                    {x});
    check_gradients(
        [&](const std::vector<Tensor>& in) { return masked_softmax(in[0], mask.t(), 0); }, {x.t()});
  }
}

TEST_CASE("masked_softmax errors name the op, the mask and the scores", "[loss]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH(masked_softmax(x, zeros({2, 3}), 1), Catch::Contains("masked_softmax") &&
                                                             Catch::Contains("bool") &&
                                                             Catch::Contains("float32"));
  CHECK_THROWS_WITH(masked_softmax(x, zeros({4}, kBool), 1), Catch::Contains("masked_softmax") &&
                                                                 Catch::Contains("[4]") &&
                                                                 Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(masked_softmax(x, zeros({2, 1, 3}, kBool), 1),
                    Catch::Contains("masked_softmax") && Catch::Contains("[2, 1, 3]"));
  CHECK_THROWS_WITH(masked_softmax(zeros({2, 3}, kInt64), Tensor(), 1),
                    Catch::Contains("masked_softmax") && Catch::Contains("int64"));
}
