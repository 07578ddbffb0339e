// In-place ops: values against PyTorch, version counters, writes through non-contiguous views,
// broadcasting the operand, dtype rules, errors, and differentiable in-place on non-leaves.
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

const Fixtures& fx() {
  static const Fixtures fixtures("elementwise.txt");
  return fixtures;
}

using InPlace = std::function<void(Tensor&)>;

// Every in-place op, applied to a float tensor of shape [3, 4].
std::vector<std::pair<const char*, InPlace>> all_inplace_ops() {
  return {
      {"add_ tensor", [](Tensor& t) { t.add_(ones({4}), 2.0); }},
      {"sub_ tensor",
       [](Tensor& t) {
         t.sub_(ones({3, 1}));
       }},
      {"mul_ tensor",
       [](Tensor& t) {
         t.mul_(full({3, 4}, 2.0));
       }},
      {"div_ tensor", [](Tensor& t) { t.div_(full({4}, 2.0)); }},
      {"add_ scalar", [](Tensor& t) { t.add_(1.5); }},
      {"sub_ scalar", [](Tensor& t) { t.sub_(1.5); }},
      {"mul_ scalar", [](Tensor& t) { t.mul_(3.0); }},
      {"div_ scalar", [](Tensor& t) { t.div_(4.0); }},
      {"zero_", [](Tensor& t) { t.zero_(); }},
      {"fill_", [](Tensor& t) { t.fill_(2.5); }},
      {"copy_", [](Tensor& t) { t.copy_(full({4}, 7.0)); }},
      {"clamp_", [](Tensor& t) { t.clamp_(-0.5, 0.5); }},
      {"masked_fill_",
       [](Tensor& t) {
         t.masked_fill_(tensor({true, false, true, false}), 9.0);
       }},
      {"uniform_", [](Tensor& t) { t.uniform_(-1.0, 1.0); }},
      {"normal_", [](Tensor& t) { t.normal_(0.0, 2.0); }},
  };
}

}  // namespace

TEST_CASE("in-place ops: values match PyTorch", "[elementwise]") {
  const Fixtures& f = fx();
  Tensor r = f["ip_t"].clone();
  Tensor o34 = f["ip_o34"], o4 = f["ip_o4"];
  r.add_(o34, 2.0);
  r.mul_(o4);
  r.sub_(0.5);
  r.div_(3.0);
  r.sub_(o4, 0.25);
  r.mul_(1.5);
  r.add_(0.125);
  r.div_(o34.abs() + 1.0);
  CHECK(r.dtype() == kFloat32);
  CHECK(allclose(r, f["ip_chain"]));
  Tensor c = r.clone();
  c.clamp_(-0.3, 0.4);
  CHECK(allclose(c, f["ip_clamp"]));
  Tensor m = r.clone();
  m.masked_fill_(f["ip_mask"], 7.0);
  CHECK(allclose(m, f["ip_masked_fill"]));
  // copy_ converts dtypes (float to int64 truncates toward zero) and broadcasts
  Tensor ci = zeros({2, 3}, kInt64);
  ci.copy_(tensor({1.7f, -1.7f, 2.5f}));
  CHECK(ci.to_vector<int64_t>() == f["ip_copy_int"].to_vector<int64_t>());
  Tensor cd = zeros({2, 3}, kFloat64);
  cd.copy_(tensor({{1}, {2}}));
  CHECK(cd.dtype() == kFloat64);
  CHECK(allclose(cd, f["ip_copy_bcast"]));
}

TEST_CASE("in-place ops return self and bump the version counter once", "[elementwise]") {
  manual_seed(31);
  for (auto& [name, op] : all_inplace_ops()) {
    INFO(name);
    Tensor t = randn({3, 4});
    Tensor view = t.slice(1, 1, 3);
    uint64_t before = t._version();
    op(t);
    CHECK(t._version() == before + 1);
    CHECK(view._version() == t._version());  // views share the counter
  }
  // the method returns a reference to the same handle
  Tensor t = zeros({2});
  CHECK(&t.add_(1.0) == &t);
  CHECK(&t.mul_(ones({2})) == &t);
  // the differentiable path bumps it too
  Tensor x = ones({2}, kFloat64).requires_grad_();
  Tensor h = x * 2.0;
  uint64_t before = h._version();
  h.add_(x);
  h.mul_(3.0);
  CHECK(h._version() == before + 2);
}

TEST_CASE("in-place ops write through non-contiguous views into the base", "[elementwise]") {
  manual_seed(32);
  for (auto& [name, op] : all_inplace_ops()) {
    INFO(name);
    // A [3, 4] view of every other column of a [3, 8] base, and a transposed [4, 3] base.
    Tensor base = randn({3, 8});
    Tensor original = base.clone();
    Tensor view = base.slice(1, 0, std::nullopt, 2);
    REQUIRE_FALSE(view.is_contiguous());
    Tensor expected = view.clone();
    {
      manual_seed(99);  // the random fills draw the same numbers for both
      op(expected);
      manual_seed(99);
      op(view);
    }
    CHECK(allclose(base.slice(1, 0, std::nullopt, 2), expected));
    CHECK(allclose(base.slice(1, 1, std::nullopt, 2), original.slice(1, 1, std::nullopt, 2)));
    Tensor tbase = randn({4, 3});
    Tensor tview = tbase.t();
    Tensor texpected = tview.clone();
    manual_seed(98);
    op(texpected);
    manual_seed(98);
    op(tview);
    CHECK(allclose(tbase, texpected.t()));
  }
}

TEST_CASE("in-place ops broadcast the operand into self", "[elementwise]") {
  Tensor t = zeros({2, 3});
  t.add_(tensor({1.0, 2.0, 3.0}));
  t.mul_(tensor({{2.0}, {3.0}}));
  CHECK(allclose(t, tensor({{2.0, 4.0, 6.0}, {3.0, 6.0, 9.0}})));
  t.sub_(scalar_tensor(1.0), 2.0);
  t.div_(tensor({1.0, 2.0, 4.0}));
  CHECK(allclose(t, tensor({{0.0, 1.0, 1.0}, {1.0, 2.0, 1.75}})));
  t.copy_(tensor({5.0, 6.0, 7.0}));
  CHECK(allclose(t, tensor({{5.0, 6.0, 7.0}, {5.0, 6.0, 7.0}})));
  t.masked_fill_(tensor({true, false}).reshape({2, 1}), -1.0);
  CHECK(allclose(t, tensor({{-1.0, -1.0, -1.0}, {5.0, 6.0, 7.0}})));
  // an operand that overlaps self in another layout is read before it is overwritten
  Tensor sq = tensor({{1.0, 2.0}, {3.0, 4.0}});
  sq.add_(sq.t());
  CHECK(allclose(sq, tensor({{2.0, 5.0}, {5.0, 8.0}})));
  Tensor sq2 = tensor({{1.0, 2.0}, {3.0, 4.0}});
  sq2.copy_(sq2.t());
  CHECK(allclose(sq2, tensor({{1.0, 3.0}, {2.0, 4.0}})));
  Tensor same = tensor({1.0, 2.0});
  same.mul_(same);
  CHECK(allclose(same, tensor({1.0, 4.0})));
}

TEST_CASE("in-place ops: dtype rules", "[elementwise]") {
  Tensor i = tensor({1, 2, 3});
  i.add_(tensor({1, 1, 1}), 2.0);
  i.mul_(2.0);
  i.sub_(1.0);
  i.add_(tensor({true, false, true}));
  CHECK(i.dtype() == kInt64);
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{6, 7, 10});
  // float64 into float32 is allowed and stays float32
  Tensor f = ones({2});
  f.add_(full({2}, 0.5, kFloat64));
  CHECK(f.dtype() == kFloat32);
  CHECK(allclose(f, full({2}, 1.5)));
  // copy_ of a float64 source requiring grad into a float32 non-leaf: gradient in float64
  Tensor src = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor dst = zeros({2, 2});
  dst.copy_(src);
  CHECK(dst.requires_grad());
  (dst * 3.0).sum().backward();
  CHECK(src.grad().dtype() == kFloat64);
  CHECK(allclose(src.grad(), full({2}, 6.0, kFloat64)));
}

// (macros: Catch's combined matchers hold references to their parts)
#define BROADCAST_MSG(op) Catch::Contains(op) && Catch::Contains("[3, 4]") && Catch::Contains("[4]")
#define DTYPE_MSG(op) Catch::Contains(op) && Catch::Contains("float32") && Catch::Contains("int64")
#define VIEW_MSG(op) Catch::Contains(op) && Catch::Contains("view")

TEST_CASE("in-place ops: errors", "[elementwise]") {
  SECTION("self would need broadcasting") {
    Tensor t = ones({4});
    CHECK_THROWS_WITH(t.add_(ones({3, 4})), BROADCAST_MSG("add_"));
    CHECK_THROWS_WITH(t.sub_(ones({3, 4})), BROADCAST_MSG("sub_"));
    CHECK_THROWS_WITH(t.mul_(ones({3, 4})), BROADCAST_MSG("mul_"));
    CHECK_THROWS_WITH(t.div_(ones({3, 4})), BROADCAST_MSG("div_"));
    CHECK_THROWS_WITH(t.copy_(ones({3, 4})), BROADCAST_MSG("copy_"));
    CHECK_THROWS_WITH(t.masked_fill_(full({3, 4}, 1.0, kBool), 0.0), BROADCAST_MSG("masked_fill_"));
    CHECK_THROWS_WITH(t.add_(ones({3})), Catch::Contains("add_") && Catch::Contains("[3]"));
    CHECK(t._version() == 0);  // nothing was written
  }
  SECTION("a leaf requiring grad under grad mode") {
    for (auto& [name, op] : all_inplace_ops()) {
      INFO(name);
      Tensor w = ones({3, 4}).requires_grad_();
      CHECK_THROWS_WITH(op(w), Catch::Contains("leaf") && Catch::Contains("[3, 4]"));
      CHECK(w._version() == 0);
      NoGradGuard guard;  // the optimizer's way
      op(w);
      CHECK(w._version() == 1);
    }
  }
  SECTION("a float result into an int64 (or bool) tensor") {
    Tensor i = tensor({1, 2});
    CHECK_THROWS_WITH(i.add_(ones({2})), DTYPE_MSG("add_"));
    CHECK_THROWS_WITH(i.add_(0.5), DTYPE_MSG("add_"));
    CHECK_THROWS_WITH(i.sub_(0.5), DTYPE_MSG("sub_"));
    CHECK_THROWS_WITH(i.mul_(0.5), DTYPE_MSG("mul_"));
    CHECK_THROWS_WITH(i.mul_(ones({2})), DTYPE_MSG("mul_"));
    CHECK_THROWS_WITH(i.div_(2.0), DTYPE_MSG("div_"));
    CHECK_THROWS_WITH(i.div_(tensor({1, 1})), DTYPE_MSG("div_"));
    CHECK_THROWS_WITH(i.add_(tensor({1, 1}), 0.5), DTYPE_MSG("add_"));
    CHECK_THROWS_WITH(i.clamp_(0.5, 1.5), DTYPE_MSG("clamp_"));
    CHECK_THROWS_WITH(i.uniform_(), Catch::Contains("uniform_") && Catch::Contains("int64"));
    CHECK_THROWS_WITH(tensor({true}).add_(1.0), Catch::Contains("add_") &&
                                                    Catch::Contains("int64") &&
                                                    Catch::Contains("bool"));
    CHECK_THROWS_WITH(i.fill_(INFINITY), Catch::Contains("fill_") && Catch::Contains("inf"));
    CHECK_THROWS_WITH(i.masked_fill_(tensor({true, true}), std::nan("")),
                      Catch::Contains("masked_fill_") && Catch::Contains("nan"));
    CHECK_THROWS_WITH(i.add_(1e30), DTYPE_MSG("add_"));
    CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{1, 2});
    CHECK(i._version() == 0);
  }
  SECTION("in-place with grad on a view") {
    Tensor x = ones({2, 3}, kFloat64).requires_grad_();
    Tensor h = x * 2.0;
    Tensor row = h.select(0, 0);
    CHECK_THROWS_WITH(row.add_(1.0), VIEW_MSG("add_"));
    CHECK_THROWS_WITH(row.mul_(ones({3}, kFloat64)), VIEW_MSG("mul_"));
    CHECK_THROWS_WITH(row.clamp_(0.0, 1.0), VIEW_MSG("clamp_"));
    CHECK_THROWS_WITH(row.zero_(), VIEW_MSG("fill_"));
    Tensor buffer = zeros({2, 3}, kFloat64);
    CHECK_THROWS_WITH(buffer.select(0, 1).copy_(x.select(0, 0)), VIEW_MSG("copy_"));
    NoGradGuard guard;  // without grad, writing through a view is fine
    row.add_(1.0);
    CHECK(allclose(h, tensor({{3.0, 3.0, 3.0}, {2.0, 2.0, 2.0}}, kFloat64)));
  }
  SECTION("self with overlapping elements (an expanded view)") {
    Tensor e = zeros({3}).expand({2, 3});
    CHECK_THROWS_WITH(e.add_(1.0), Catch::Contains("add_") && Catch::Contains("single memory"));
    CHECK_THROWS_WITH(e.copy_(ones({2, 3})), Catch::Contains("copy_"));
    CHECK_THROWS_WITH(e.fill_(1.0), Catch::Contains("fill_"));
  }
  SECTION("bad arguments of the random fills") {
    Tensor t = zeros({3});
    CHECK_THROWS_WITH(t.uniform_(2.0, 1.0),
                      Catch::Contains("uniform_") && Catch::Contains("2") && Catch::Contains("1"));
    CHECK_THROWS_WITH(t.normal_(0.0, -1.0), Catch::Contains("normal_") && Catch::Contains("-1"));
    CHECK_THROWS_WITH(t.clamp_(std::nullopt, std::nullopt), Catch::Contains("clamp"));
    CHECK_THROWS_WITH(t.masked_fill_(ones({3}), 0.0),
                      Catch::Contains("masked_fill_") && Catch::Contains("bool"));
  }
}

TEST_CASE("in-place ops: gradcheck of chains of in-place ops on intermediates", "[elementwise]") {
  manual_seed(33);
  Tensor mask = randn({3, 4}) > 0.5;
  // Every differentiable in-place op on an intermediate, with operands that require grad.
  auto fn = [mask](const std::vector<Tensor>& v) {
    const Tensor &x = v[0], &w = v[1], &row = v[2];
    Tensor h = x * 2.0;
    h.add_(w);
    h.mul_(w);
    h.sub_(row, 0.5);
    h.div_(w.abs() + 1.0);
    h.add_(0.25);
    h.mul_(1.5);
    h.sub_(0.5);
    h.div_(2.0);
    h.masked_fill_(mask, 0.0);
    h.mul_(h);  // the operand is self: both factors are the value before the write
    Tensor out = zeros({3, 4}, kFloat64);
    out.copy_(row);  // broadcast [4] -> [3, 4]
    out.add_(h);
    return out;
  };
  check_gradients(fn, {leaf({3, 4}), leaf({3, 4}), leaf({4})});
  check_gradients(fn, {transposed_leaf({3, 4}), strided_leaf({3, 4}), strided_leaf({4})});
  // clamp_ reads its input's old value; fill_/zero_ cut the gradient
  check_gradients(
      [](const std::vector<Tensor>& v) {
        Tensor h = v[0] * 1.0;
        h.clamp_(-0.5, 0.5);
        Tensor z = v[0] * 3.0;
        z.zero_();
        Tensor u = v[0] * 1.0;
        u.uniform_();
        return h + z + u * 0.0;
      },
      {leaf({3, 4})});
  // the result is the same tensor, rebased onto the op's tape entry
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = x * 2.0;
  y.add_(x);    // y = 3x
  y.mul_(x);    // y = 3x^2
  y.div_(2.0);  // y = 1.5x^2
  y.sum().backward();
  CHECK(allclose(x.grad(), tensor({3.0, 6.0}, kFloat64)));
  CHECK(std::string(y.grad_fn()->name()) == "DivBackward1");
  // a leaf not requiring grad becomes part of the graph when the operand requires grad
  Tensor acc = zeros({2}, kFloat64);
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  acc.add_(w, 3.0);
  CHECK(acc.requires_grad());
  acc.sum().backward();
  CHECK(allclose(w.grad(), full({2}, 3.0, kFloat64)));
}

TEST_CASE("modifying a tensor saved for backward makes backward raise", "[elementwise]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor h = x * 2.0;
  Tensor w = tensor({3.0, 4.0}, kFloat64).requires_grad_();
  Tensor y = h * w;  // saves h
  h.add_(1.0);
  CHECK_THROWS_WITH(y.sum().backward(),
                    Catch::Contains("MulBackward0") && Catch::Contains("in-place"));
}

TEST_CASE("uniform_ and normal_ fill with the requested distribution", "[elementwise]") {
  manual_seed(34);
  Tensor u = empty({20000}, kFloat64);
  u.uniform_(-2.0, 3.0);
  std::vector<double> vu = u.to_vector<double>();
  double lo = 1e9, hi = -1e9, sum = 0;
  for (double v : vu) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  CHECK(lo >= -2.0);
  CHECK(hi < 3.0);
  CHECK(sum / vu.size() == Approx(0.5).margin(0.05));
  Tensor n = empty({20000});
  n.normal_(1.0, 2.0);
  CHECK(n.mean().item() == Approx(1.0).margin(0.06));
  CHECK(n.std().item() == Approx(2.0).margin(0.06));
  // reproducible from the seed
  manual_seed(7);
  Tensor a = empty({5}).normal_();
  manual_seed(7);
  Tensor b = empty({5}).normal_();
  CHECK(allclose(a, b, 0.0, 0.0));
}

TEST_CASE("in-place ops: large tensors (parallel paths) agree with the out-of-place ops",
          "[elementwise]") {
  manual_seed(35);
  Tensor a = randn({400, 300}), b = randn({300}), m = randn({400, 1}) > 0.0;
  Tensor t = a.clone();
  t.add_(b, 0.5);
  t.mul_(2.0);
  t.div_(a.abs() + 1.0);
  t.masked_fill_(m, 1.0);
  Tensor want = masked_fill((a + b * 0.5) * 2.0 / (a.abs() + 1.0), m, 1.0);
  CHECK(allclose(t, want));
  Tensor tt = a.t().clone().t();  // non-contiguous, large
  tt.sub_(1.0);
  tt.clamp_(-1.0, 1.0);
  CHECK(allclose(tt, clamp(a - 1.0, -1.0, 1.0)));
}
