// normalize and cosine_similarity (ops/similarity.h): PyTorch values and gradients (several p
// and dims, a zero row, a large eps, broadcasting, vectors shorter than eps), gradchecks on
// non-contiguous and broadcast operands, float32, and the error paths.
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::fresh;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

TEST_CASE("normalize matches PyTorch for several p, dims and eps", "[similarity]") {
  Fixtures fx("functional.txt");
  struct Case {
    const char* name;
    double p;
    int64_t dim;
    double eps;
  };
  for (const Case& c :
       {Case{"normalize_p2_d1", 2.0, 1, 1e-12}, Case{"normalize_p1_d0", 1.0, 0, 1e-12},
        Case{"normalize_p3_dm1", 3.0, -1, 1e-12}, Case{"normalize_eps", 2.0, 1, 10.0}}) {
    // A non-contiguous copy of the same values.
    Tensor x = fx["norm_x"].t().contiguous().t().detach().requires_grad_();
    check_against(fx, c.name, normalize(x, c.p, c.dim, c.eps), {{"x", x}});
  }
  // A zero row maps to zero, with gradient upstream / eps.
  Tensor z = fresh(fx["norm_z"]);
  check_against(fx, "normalize_zero_row", normalize(z), {{"x", z}}, 1e-12, 1e-3);
}

TEST_CASE("cosine_similarity matches PyTorch: dims, broadcasting, tiny vectors", "[similarity]") {
  Fixtures fx("functional.txt");
  Tensor a = fresh(fx["cos_a"]), b = fresh(fx["cos_b"]);
  check_against(fx, "cos_d1", cosine_similarity(a, b), {{"a", a}, {"b", b}});
  Tensor a0 = fresh(fx["cos_a"]), b0 = fresh(fx["cos_b"]);
  check_against(fx, "cos_d0", cosine_similarity(a0, b0, 0), {{"a", a0}, {"b", b0}});
  Tensor a2 = fresh(fx["cos_a"]), b1 = fresh(fx["cos_b1"]);
  Tensor out = cosine_similarity(a2, b1, -1);
  CHECK(out.shape() == Shape{3});
  check_against(fx, "cos_broadcast", out, {{"a", a2}, {"b", b1}});
  // Each norm is clamped on its own: [1e-9, 0] against [1, 0] gives 1e-9 / 1e-8 = 0.1.
  CHECK(allclose(cosine_similarity(fx["cos_tiny"], fx["cos_big"]), fx["cos_tiny_out"], 1e-12, 0));
}

TEST_CASE("normalize and cosine_similarity in float32", "[similarity]") {
  Fixtures fx("functional.txt");
  Tensor y = normalize(fx["norm_x"].to(kFloat32));
  CHECK(y.dtype() == kFloat32);
  CHECK(allclose(y, fx["normalize_p2_d1_out"], 1e-5, 1e-6));
  Tensor c = cosine_similarity(fx["cos_a"].to(kFloat32), fx["cos_b"].to(kFloat32));
  CHECK(c.dtype() == kFloat32);
  CHECK(allclose(c, fx["cos_d1_out"], 1e-5, 1e-6));
}

TEST_CASE("gradcheck: normalize and cosine_similarity", "[similarity]") {
  manual_seed(8);
  for (double p : {2.0, 1.5, 3.0}) {
    INFO("p " << p);
    check_gradients([p](const std::vector<Tensor>& in) { return normalize(in[0], p, 1); },
                    {transposed_leaf({3, 4})});
    check_gradients([p](const std::vector<Tensor>& in) { return normalize(in[0], p, 0); },
                    {strided_leaf({3, 4})});
  }
  // An expanded (broadcast) input: one row read three times.
  Tensor row = leaf({1, 4});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return normalize(in[0].expand({3, 4}), 2.0, 1);
      },
      {row});
  check_gradients([](const std::vector<Tensor>& in) { return cosine_similarity(in[0], in[1]); },
                  {transposed_leaf({3, 4}), strided_leaf({3, 4})});
  check_gradients([](const std::vector<Tensor>& in) { return cosine_similarity(in[0], in[1], 0); },
                  {leaf({4, 1}), strided_leaf({4, 3})});
}

TEST_CASE("normalize and cosine_similarity errors name the op", "[similarity]") {
  CHECK_THROWS_WITH(normalize(zeros({2, 3}), 2.0, 2),
                    Catch::Contains("normalize") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(normalize(zeros({2}, kInt64)),
                    Catch::Contains("normalize") && Catch::Contains("floating-point"));
  CHECK_THROWS_WITH(normalize(zeros({2, 2}), 2.0, 1, -1.0), Catch::Contains("normalize"));
  CHECK_THROWS_WITH(cosine_similarity(zeros({2, 3}), zeros({2, 4})),
                    Catch::Contains("cosine_similarity") && Catch::Contains("[2, 4]"));
  CHECK_THROWS_WITH(cosine_similarity(zeros({2, 3}, kFloat64), zeros({2, 3})),
                    Catch::Contains("cosine_similarity") && Catch::Contains("float32"));
  CHECK_THROWS_WITH(cosine_similarity(zeros({3}), zeros({3}), 1),
                    Catch::Contains("cosine_similarity") && Catch::Contains("dim 1"));
}
