// Normalization (ops/norm.cpp, nn/normalization.cpp): layer_norm and batch_norm against PyTorch
// (outputs, gradients, running statistics over several steps, eval mode), gradchecks on
// non-contiguous inputs, the parallel kernels against a composition of plain ops, the modules'
// names, buffers and printouts, and every error path.
#include "nn/normalization.h"
#include "ops/norm.h"
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

// Fixtures keep 10 significant digits.
bool close(const Tensor& a, const Tensor& b) {
  return allclose(a, b, 1e-8, 1e-10);
}

Tensor leaf_of(const Tensor& t) {
  return t.clone().requires_grad_();
}

// The same values as a non-contiguous leaf: stored with dims 0 and 1 swapped.
Tensor transposed_copy(const Tensor& t) {
  Tensor stored = t.transpose(0, 1).contiguous();
  return stored.detach().transpose(0, 1).requires_grad_();
}

// A float64 BatchNorm module whose weight and bias are the fixture's `name`_weight / _bias.
template <typename BatchNorm>
std::shared_ptr<BatchNorm> bn_module(const Fixtures& fx, const std::string& name, int64_t channels,
                                     std::optional<double> momentum = 0.1, double eps = 1e-5,
                                     bool affine = true) {
  auto m = std::make_shared<BatchNorm>(channels, eps, momentum, affine);
  m->to(kFloat64);
  if (affine)
    m->load_state_dict({{"weight", fx[name + "_weight"]}, {"bias", fx[name + "_bias"]}}, false);
  return m;
}

// The composition of plain ops that layer_norm / batch_norm fuse (biased variance over dims).
Tensor reference_norm(const Tensor& x, const std::vector<int64_t>& dims, double eps) {
  Tensor centered = x - x.mean(dims, true);
  return centered * (x.var(dims, 0, true) + eps).rsqrt();
}

}  // namespace

// ---------------------------------------------------------------- layer_norm

TEST_CASE("layer_norm over the last 1 and 2 dims matches PyTorch", "[norm]") {
  Fixtures fx("norm.txt");
  for (std::string tag : {"1", "2"}) {
    const Shape shape = tag == "1" ? Shape{4} : Shape{3, 4};
    for (bool contiguous : {true, false}) {
      INFO("last " << tag << " dims, contiguous " << contiguous);
      Tensor x = contiguous ? leaf_of(fx["ln_x"]) : transposed_copy(fx["ln_x"]);
      Tensor w = leaf_of(fx["ln" + tag + "_w"]), b = leaf_of(fx["ln" + tag + "_b"]);
      Tensor out = layer_norm(x, shape, w, b);
      CHECK(close(out, fx["ln" + tag + "_aff_out"]));
      out.backward(cos_upstream(out.shape()));
      CHECK(close(x.grad(), fx["ln" + tag + "_aff_dx"]));
      CHECK(close(w.grad(), fx["ln" + tag + "_aff_dw"]));
      CHECK(close(b.grad(), fx["ln" + tag + "_aff_db"]));

      Tensor y = contiguous ? leaf_of(fx["ln_x"]) : transposed_copy(fx["ln_x"]);
      Tensor plain = layer_norm(y, shape, Tensor(), Tensor(), 1e-3);
      CHECK(close(plain, fx["ln" + tag + "_out"]));
      plain.backward(cos_upstream(plain.shape()));
      CHECK(close(y.grad(), fx["ln" + tag + "_dx"]));
    }
  }
}

TEST_CASE("float32 layer_norm and batch_norm do not cancel when |mean| >> std", "[norm]") {
  Fixtures fx("norm.txt");
  const Tensor& x = fx["ln32_x"];  // rows around 1000 with std ~0.5
  Tensor out = layer_norm(x, {6});
  CHECK(out.dtype() == kFloat32);
  CHECK(allclose(out, fx["ln32_out"], 1e-3, 1e-3));  // PyTorch's own float32 error is ~1e-4
  // the float64 result of the same float32 values
  CHECK(allclose(out, layer_norm(x.to(kFloat64), {6}), 1e-5, 1e-5));
  Tensor columns = x.t();  // [6, 3]: channels around 1000
  CHECK(allclose(batch_norm(columns, Tensor(), Tensor(), {}, {}, true),
                 batch_norm(columns.to(kFloat64), Tensor(), Tensor(), {}, {}, true), 1e-5, 1e-5));
  Tensor x_grad = x.clone().requires_grad_(), x64 = x.to(kFloat64).requires_grad_();
  Tensor up = cos_upstream({3, 6});
  layer_norm(x_grad, {6}).backward(up.to(kFloat32));
  layer_norm(x64, {6}).backward(up);
  CHECK(allclose(x_grad.grad(), x64.grad(), 1e-4, 1e-4));
}

TEST_CASE("layer_norm gradcheck on non-contiguous inputs", "[norm]") {
  manual_seed(3);
  Tensor x = transposed_leaf({3, 4, 5}), w = strided_leaf({5}), b = leaf({5});
  check_gradients(
      [](const std::vector<Tensor>& in) { return layer_norm(in[0], {5}, in[1], in[2]); },
      {x, w, b});
  Tensor w2 = transposed_leaf({4, 5}), b2 = leaf({4, 5});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return layer_norm(in[0], {4, 5}, in[1], in[2], 1e-3);
      },
      {x, w2, b2});
  // weight without bias, no parameters, broadcast-expanded input
  Tensor s = strided_leaf({2, 6});
  check_gradients([](const std::vector<Tensor>& in) { return layer_norm(in[0], {6}, in[1]); },
                  {s, leaf({6})});
  Tensor row = leaf({1, 6});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return layer_norm(in[0].expand({3, 6}), {6});
      },
      {row});
}

TEST_CASE("layer_norm's parallel kernels agree with the composition of plain ops", "[norm]") {
  manual_seed(4);
  Tensor x = (randn({64, 1024}, kFloat64) * 3.0 + 2.0).requires_grad_();  // above kParallelGrain
  Tensor w = leaf({1024}), b = leaf({1024});
  Tensor up = randn({64, 1024}, kFloat64);
  Tensor out = layer_norm(x, {1024}, w, b);
  out.backward(up);
  Tensor rx = x.detach().requires_grad_(), rw = w.detach().requires_grad_();
  Tensor rb = b.detach().requires_grad_();
  Tensor ref = reference_norm(rx, {1}, 1e-5) * rw + rb;
  ref.backward(up);
  CHECK(allclose(out, ref, 1e-10, 1e-10));
  CHECK(allclose(x.grad(), rx.grad(), 1e-8, 1e-9));
  CHECK(allclose(w.grad(), rw.grad(), 1e-8, 1e-9));
  CHECK(allclose(b.grad(), rb.grad(), 1e-8, 1e-9));
  // float32 follows the float64 result
  Tensor out32 =
      layer_norm(x.detach().to(kFloat32), {1024}, w.detach().to(kFloat32), b.detach().to(kFloat32));
  CHECK(allclose(out32, out, 1e-4, 1e-4));
}

TEST_CASE("layer_norm on empty inputs", "[norm]") {
  Tensor x = zeros({0, 4}, kFloat64).requires_grad_();
  Tensor w = ones({4}, kFloat64).requires_grad_();
  Tensor out = layer_norm(x, {4}, w);
  CHECK(out.shape() == Shape{0, 4});
  out.sum().backward();
  CHECK(allclose(w.grad(), zeros({4}, kFloat64)));
}

TEST_CASE("layer_norm errors name the op and the shapes", "[norm]") {
  Tensor x = randn({2, 3, 4});
  CHECK_THROWS_WITH(layer_norm(x, {3}), Catch::Contains("layer_norm") &&
                                            Catch::Contains("normalized_shape=[3]") &&
                                            Catch::Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(layer_norm(x, {4, 3}),
                    Catch::Contains("layer_norm") && Catch::Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(layer_norm(x, {1, 2, 3, 4}),
                    Catch::Contains("layer_norm") && Catch::Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(layer_norm(x, {}), Catch::Contains("layer_norm") && Catch::Contains("[]"));
  CHECK_THROWS_WITH(layer_norm(x, {4}, ones({3})),
                    Catch::Contains("layer_norm") && Catch::Contains("weight") &&
                        Catch::Contains("[3]") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(layer_norm(x, {4}, ones({4}), zeros({2, 2})), Catch::Contains("layer_norm") &&
                                                                      Catch::Contains("bias") &&
                                                                      Catch::Contains("[2, 2]"));
  CHECK_THROWS_WITH(layer_norm(x, {4}, ones({4}, kFloat64)),
                    Catch::Contains("layer_norm") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(layer_norm(zeros({2, 4}, kInt64), {4}),
                    Catch::Contains("layer_norm") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(layer_norm(x, {4}, Tensor(), Tensor(), -1.0),
                    Catch::Contains("layer_norm") && Catch::Contains("eps"));
}

// ---------------------------------------------------------------- LayerNorm

TEST_CASE("LayerNorm loads PyTorch's weight and bias and reproduces its output", "[norm]") {
  Fixtures fx("norm.txt");
  nn::LayerNorm norm({3, 4});
  CHECK(norm.weight.shape() == Shape{3, 4});
  CHECK(allclose(norm.weight, ones({3, 4})));
  CHECK(allclose(norm.bias, zeros({3, 4})));
  norm.to(kFloat64);
  norm.load_state_dict({{"weight", fx["ln2_w"]}, {"bias", fx["ln2_b"]}});
  Tensor x = leaf_of(fx["ln_x"]);
  Tensor out = norm(x);
  CHECK(close(out, fx["ln2_aff_out"]));
  out.backward(cos_upstream(out.shape()));
  CHECK(close(x.grad(), fx["ln2_aff_dx"]));
  CHECK(close(norm.weight.grad(), fx["ln2_aff_dw"]));
  CHECK(close(norm.bias.grad(), fx["ln2_aff_db"]));

  nn::LayerNorm plain(4, 1e-3, false);
  CHECK(plain.parameters().empty());
  CHECK(plain.state_dict().empty());
  CHECK(close(plain(fx["ln_x"]), fx["ln1_out"]));
}

TEST_CASE("LayerNorm prints like PyTorch and names itself in errors", "[norm]") {
  CHECK(nn::LayerNorm(10).to_string() == "LayerNorm((10,), eps=1e-05, elementwise_affine=True)");
  CHECK(nn::LayerNorm({2, 3}, 0.001, false).extra_repr() ==
        "(2, 3), eps=0.001, elementwise_affine=False");
  nn::LayerNorm norm({3, 4});
  CHECK_THROWS_WITH(norm(randn({2, 4, 3})), Catch::Contains("LayerNorm") &&
                                                Catch::Contains("[2, 4, 3]") &&
                                                Catch::Contains("[3, 4]"));
  CHECK_THROWS_WITH(norm(randn({4})), Catch::Contains("LayerNorm") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(nn::LayerNorm(Shape{}), Catch::Contains("LayerNorm"));
  CHECK_THROWS_WITH(nn::LayerNorm({2, -1}),
                    Catch::Contains("LayerNorm") && Catch::Contains("[2, -1]"));
}

// ---------------------------------------------------------------- BatchNorm, training

TEST_CASE("BatchNorm1d and BatchNorm2d in training match PyTorch", "[norm]") {
  Fixtures fx("norm.txt");
  struct Case {
    std::string name;
    int dims;
    int64_t channels;
    double momentum, eps;
    bool affine;
  };
  for (const Case& c :
       {Case{"bn1", 1, 3, 0.1, 1e-5, true}, Case{"bn1L", 1, 3, 0.3, 1e-3, true},
        Case{"bn2", 2, 3, 0.1, 1e-5, true}, Case{"bn2_noaffine", 2, 2, 0.1, 1e-5, false}}) {
    INFO(c.name);
    std::shared_ptr<nn::BatchNormBase> m;
    if (c.dims == 1)
      m = bn_module<nn::BatchNorm1d>(fx, c.name, c.channels, c.momentum, c.eps, c.affine);
    else
      m = bn_module<nn::BatchNorm2d>(fx, c.name, c.channels, c.momentum, c.eps, c.affine);
    CHECK(m->is_training());
    Tensor x = leaf_of(fx[c.name + "_x"]);
    Tensor out = (*m)(x);
    CHECK(close(out, fx[c.name + "_out"]));
    out.backward(cos_upstream(out.shape()));
    CHECK(close(x.grad(), fx[c.name + "_dx"]));
    if (c.affine) {
      CHECK(close(m->weight.grad(), fx[c.name + "_dweight"]));
      CHECK(close(m->bias.grad(), fx[c.name + "_dbias"]));
    }
    CHECK(close(m->running_mean, fx[c.name + "_running_mean"]));
    CHECK(close(m->running_var, fx[c.name + "_running_var"]));
    CHECK(m->num_batches_tracked.item<int64_t>() == 1);
  }
}

TEST_CASE("batch_norm on a non-contiguous input matches PyTorch", "[norm]") {
  Fixtures fx("norm.txt");
  Tensor x = transposed_copy(fx["bn2_x"]);  // [N, C, H, W] stored as [C, N, H, W]
  CHECK_FALSE(x.is_contiguous());
  Tensor w = leaf_of(fx["bn2_weight"]), b = leaf_of(fx["bn2_bias"]);
  Tensor running_mean = zeros({3}, kFloat64), running_var = ones({3}, kFloat64);
  Tensor out = batch_norm(x, running_mean, running_var, w, b, true);
  CHECK(close(out, fx["bn2_out"]));
  out.backward(cos_upstream(out.shape()));
  CHECK(close(x.grad(), fx["bn2_dx"]));
  CHECK(close(w.grad(), fx["bn2_dweight"]));
  CHECK(close(b.grad(), fx["bn2_dbias"]));
  CHECK(close(running_mean, fx["bn2_running_mean"]));
  CHECK(close(running_var, fx["bn2_running_var"]));
  CHECK(running_mean._version() == 2);  // updated in place: mul_ then add_
}

TEST_CASE("running statistics after 3 training steps match PyTorch, then eval mode", "[norm]") {
  Fixtures fx("norm.txt");
  for (std::string name : {"steps2d", "steps_cma"}) {
    INFO(name);
    std::shared_ptr<nn::BatchNormBase> m;
    if (name == "steps2d")
      m = bn_module<nn::BatchNorm2d>(fx, name, 3);
    else
      m = bn_module<nn::BatchNorm1d>(fx, name, 3, std::nullopt);  // cumulative average
    for (int step = 0; step < 3; ++step) (*m)(fx[name + "_x" + std::to_string(step)]);
    CHECK(close(m->running_mean, fx[name + "_running_mean"]));
    CHECK(close(m->running_var, fx[name + "_running_var"]));
    CHECK(m->num_batches_tracked.dtype() == kInt64);
    CHECK(m->num_batches_tracked.item<int64_t>() ==
          fx[name + "_num_batches_tracked"].item<int64_t>());

    m->eval();
    Tensor running_before = m->running_mean.clone();
    Tensor x = leaf_of(fx[name + "_eval_x"]);
    Tensor out = (*m)(x);
    CHECK(close(out, fx[name + "_eval_out"]));
    out.backward(cos_upstream(out.shape()));
    CHECK(close(x.grad(), fx[name + "_eval_dx"]));
    CHECK(close(m->weight.grad(), fx[name + "_eval_dweight"]));
    CHECK(close(m->bias.grad(), fx[name + "_eval_dbias"]));
    CHECK(allclose(m->running_mean, running_before, 0, 0));  // eval leaves the stats alone
    CHECK(m->num_batches_tracked.item<int64_t>() == 3);
  }
}

TEST_CASE("BatchNorm without running statistics normalizes with the batch's in eval", "[norm]") {
  Fixtures fx("norm.txt");
  nn::BatchNorm1d m(3, 1e-5, 0.1, true, false);
  CHECK(m.named_buffers().empty());
  m.to(kFloat64);
  m.load_state_dict({{"weight", fx["untracked_weight"]}, {"bias", fx["untracked_bias"]}});
  m.eval();
  Tensor x = leaf_of(fx["untracked_x"]);
  Tensor out = m(x);
  CHECK(close(out, fx["untracked_out"]));
  out.backward(cos_upstream(out.shape()));
  CHECK(close(x.grad(), fx["untracked_dx"]));
  CHECK(close(m.weight.grad(), fx["untracked_dweight"]));
  CHECK(close(m.bias.grad(), fx["untracked_dbias"]));
}

TEST_CASE("batch_norm gradcheck on non-contiguous inputs, training and eval", "[norm]") {
  manual_seed(5);
  Tensor w = strided_leaf({3}), b = leaf({3});
  auto training = [](const std::vector<Tensor>& in) {
    return batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true);
  };
  check_gradients(training, {transposed_leaf({4, 3}), w, b});                       // [N, C]
  check_gradients(training, {strided_leaf({2, 3, 4}), w, b});                       // [N, C, L]
  Tensor nchw = (randn({2, 4, 3, 3}, kFloat64) * 2.0 + 1.0).permute({0, 3, 1, 2});  // [2, 3, 4, 3]
  check_gradients(training, {nchw.detach().requires_grad_(), w, b});                // [N, C, H, W]
  // with running statistics to update, weight only, nothing affine
  Tensor running_mean = zeros({3}, kFloat64), running_var = ones({3}, kFloat64);
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        return batch_norm(in[0], running_mean, running_var, in[1], Tensor(), true, 0.2, 1e-3);
      },
      {strided_leaf({3, 3, 2}), w});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return batch_norm(in[0], Tensor(), Tensor(), {}, {}, true);
      },
      {transposed_leaf({5, 3})});
  // eval: the running statistics are constants
  Tensor mean = randn({3}, kFloat64), var = rand({3}, kFloat64) + 0.5;
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        return batch_norm(in[0], mean, var, in[1], in[2], false);
      },
      {strided_leaf({2, 3, 3}), w, b});
}

TEST_CASE("batch_norm's parallel kernels agree with the composition of plain ops", "[norm]") {
  manual_seed(6);
  // [16, 8, 24, 24] = 73728 elements (above kParallelGrain), and [4096, 16] for the [N, C] layout
  for (Shape shape : {Shape{16, 8, 24, 24}, Shape{4096, 16}}) {
    INFO(shape_str(shape));
    const int64_t C = shape[1];
    std::vector<int64_t> dims{0};
    for (int64_t d = 2; d < static_cast<int64_t>(shape.size()); ++d) dims.push_back(d);
    Shape channel_shape(shape.size(), 1);
    channel_shape[1] = C;
    Tensor x = (randn(shape, kFloat64) * 2.0 + 5.0).requires_grad_();
    Tensor w = leaf({C}), b = leaf({C}), up = randn(shape, kFloat64);
    Tensor out = batch_norm(x, Tensor(), Tensor(), w, b, true);
    out.backward(up);
    Tensor rx = x.detach().requires_grad_(), rw = w.detach().requires_grad_();
    Tensor rb = b.detach().requires_grad_();
    Tensor ref = reference_norm(rx, dims, 1e-5) * rw.view(channel_shape) + rb.view(channel_shape);
    ref.backward(up);
    CHECK(allclose(out, ref, 1e-9, 1e-9));
    CHECK(allclose(x.grad(), rx.grad(), 1e-7, 1e-9));
    CHECK(allclose(w.grad(), rw.grad(), 1e-7, 1e-8));
    CHECK(allclose(b.grad(), rb.grad(), 1e-7, 1e-8));
    Tensor out32 = batch_norm(x.detach().to(kFloat32), Tensor(), Tensor(), w.detach().to(kFloat32),
                              b.detach().to(kFloat32), true);
    CHECK(allclose(out32, out, 1e-4, 1e-4));
  }
}

// ---------------------------------------------------------------- BatchNorm modules

TEST_CASE("BatchNorm has PyTorch's parameters, buffers and printout", "[norm]") {
  nn::BatchNorm2d m(4);
  std::vector<std::string> names;
  for (const auto& [name, t] : m.state_dict()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                          "num_batches_tracked"});
  CHECK(m.num_parameters() == 8);
  CHECK(allclose(m.weight, ones({4})));
  CHECK(allclose(m.bias, zeros({4})));
  CHECK(allclose(m.running_mean, zeros({4})));
  CHECK(allclose(m.running_var, ones({4})));
  CHECK(m.num_batches_tracked.dim() == 0);
  CHECK(m.num_batches_tracked.dtype() == kInt64);
  CHECK_FALSE(m.running_mean.requires_grad());
  CHECK(m.to_string() ==
        "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  CHECK(nn::BatchNorm1d(3, 0.001, std::nullopt, false, false).extra_repr() ==
        "3, eps=0.001, momentum=None, affine=False, track_running_stats=False");
  nn::BatchNorm1d bare(3, 1e-5, 0.1, false);
  CHECK(bare.parameters().empty());
  CHECK(bare.state_dict().size() == 3);

  // to(kFloat64) converts the floating tensors, keeps the step counter int64
  m.to(kFloat64);
  CHECK(m.running_var.dtype() == kFloat64);
  CHECK(m.num_batches_tracked.dtype() == kInt64);
  m(randn({2, 4, 3, 3}, kFloat64));
  m(randn({2, 4, 3, 3}, kFloat64));
  CHECK(m.num_batches_tracked.item<int64_t>() == 2);
  m.reset_running_stats();
  CHECK(m.num_batches_tracked.item<int64_t>() == 0);
  CHECK(allclose(m.running_var, ones({4}, kFloat64)));
}

TEST_CASE("LayerNorm and BatchNorm modules pass gradcheck in input and parameters", "[norm]") {
  manual_seed(7);
  nn::LayerNorm ln({2, 3});
  ln.to(kFloat64);
  ln.load_state_dict({{"weight", randn({2, 3}, kFloat64)}, {"bias", randn({2, 3}, kFloat64)}});
  check_gradients([&](const std::vector<Tensor>& in) { return ln(in[0]); },
                  {transposed_leaf({4, 2, 3}), ln.weight, ln.bias});

  nn::BatchNorm2d bn2(2);
  bn2.to(kFloat64);
  bn2.load_state_dict({{"weight", randn({2}, kFloat64)}, {"bias", randn({2}, kFloat64)}}, false);
  Tensor nhwc = randn({3, 2, 2, 2}, kFloat64).permute({0, 3, 1, 2});  // [3, 2, 2, 2] as NCHW
  check_gradients([&](const std::vector<Tensor>& in) { return bn2(in[0]); },
                  {nhwc.detach().requires_grad_(), bn2.weight, bn2.bias});

  nn::BatchNorm1d bn1(3, 1e-5, std::nullopt);
  bn1.to(kFloat64);
  bn1(randn({6, 3, 2}, kFloat64) * 3.0 + 1.0);  // running statistics away from 0 / 1
  bn1.eval();
  check_gradients([&](const std::vector<Tensor>& in) { return bn1(in[0]); },
                  {strided_leaf({2, 3, 2}), bn1.weight, bn1.bias});
}

TEST_CASE("batch_norm and BatchNorm errors", "[norm]") {
  nn::BatchNorm1d bn1(3);
  CHECK_THROWS_WITH(bn1(randn({1, 3})),
                    Catch::Contains("Expected more than 1 value per channel when training") &&
                        Catch::Contains("[1, 3]"));
  CHECK(bn1.num_batches_tracked.item<int64_t>() == 0);  // the failed batch is not counted
  CHECK(allclose(bn1.running_mean, zeros({3})));
  CHECK_THROWS_WITH(bn1(randn({1, 3, 1})),
                    Catch::Contains("Expected more than 1 value per channel when training"));
  CHECK_NOTHROW(bn1(randn({1, 3, 2})));  // two values per channel
  bn1.eval();
  CHECK(bn1(randn({1, 3})).shape() == Shape{1, 3});  // eval needs no batch
  bn1.train();

  CHECK_THROWS_WITH(bn1(randn({2, 4})), Catch::Contains("BatchNorm1d") &&
                                            Catch::Contains("3 channels") &&
                                            Catch::Contains("[2, 4]"));
  CHECK_THROWS_WITH(bn1(randn({2, 3, 4, 5})), Catch::Contains("BatchNorm1d") &&
                                                  Catch::Contains("4D") &&
                                                  Catch::Contains("[2, 3, 4, 5]"));
  CHECK_THROWS_WITH(bn1(randn({3})), Catch::Contains("BatchNorm1d") && Catch::Contains("1D"));
  nn::BatchNorm2d bn2(3);
  CHECK_THROWS_WITH(bn2(randn({2, 3, 4})), Catch::Contains("BatchNorm2d") &&
                                               Catch::Contains("3D") &&
                                               Catch::Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(bn2(randn({2, 5, 4, 4})),
                    Catch::Contains("BatchNorm2d") && Catch::Contains("[2, 5, 4, 4]"));
  CHECK_THROWS_WITH(nn::BatchNorm2d(0), Catch::Contains("BatchNorm2d"));

  Tensor x = randn({4, 3, 2});
  Tensor rm = zeros({3}), rv = ones({3});
  CHECK_THROWS_WITH(batch_norm(x, zeros({4}), ones({4}), {}, {}, true),
                    Catch::Contains("batch_norm") && Catch::Contains("running_mean") &&
                        Catch::Contains("[4]") && Catch::Contains("[4, 3, 2]"));
  CHECK_THROWS_WITH(batch_norm(x, rm, rv, ones({2}), {}, true), Catch::Contains("batch_norm") &&
                                                                    Catch::Contains("weight") &&
                                                                    Catch::Contains("[2]"));
  CHECK_THROWS_WITH(batch_norm(x, rm, rv, {}, zeros({3, 1}), true),
                    Catch::Contains("batch_norm") && Catch::Contains("bias"));
  CHECK_THROWS_WITH(batch_norm(x, rm, rv.to(kFloat64), {}, {}, true),
                    Catch::Contains("batch_norm") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), {}, {}, false),
                    Catch::Contains("batch_norm") && Catch::Contains("not training"));
  CHECK_THROWS_WITH(batch_norm(x, rm, Tensor(), {}, {}, true),
                    Catch::Contains("batch_norm") && Catch::Contains("running_var"));
  CHECK_THROWS_WITH(batch_norm(randn({5}), Tensor(), Tensor(), {}, {}, true),
                    Catch::Contains("batch_norm") && Catch::Contains("[5]"));
  CHECK_THROWS_WITH(batch_norm(zeros({4, 3}, kInt64), Tensor(), Tensor(), {}, {}, true),
                    Catch::Contains("batch_norm") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), {}, {}, true, 0.1, -1.0),
                    Catch::Contains("batch_norm") && Catch::Contains("eps"));
}

TEST_CASE("batch_norm refuses a backward after its input changed in place", "[norm]") {
  Tensor x = randn({4, 3}, kFloat64).requires_grad_();
  Tensor h = x * 2.0;
  Tensor out = batch_norm(h, Tensor(), Tensor(), {}, {}, true);
  h.add_(1.0);
  CHECK_THROWS(out.sum().backward());
}
