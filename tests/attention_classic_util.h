// Helpers shared by the tests of the classic attention modules (tests/test_luong.cpp,
// test_bahdanau.cpp, test_dot_product.cpp, test_local_attention.cpp): a naive float64 oracle
// written with plain loops, and checks against PyTorch fixtures and gradcheck.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "nn/attention/common.h"
#include "nn/attention/luong.h"
#include "nn/module.h"
#include "ops/shape_ops.h"
#include "tests/fixture.h"

namespace minidl::testing::classic {

// A tensor's values read into a flat double array, indexed as (i, j[, k]).
struct Values {
  explicit Values(const Tensor& t) : data(t.contiguous().to_vector<double>()), shape(t.shape()) {}
  double operator()(int64_t i) const { return data[i]; }
  double operator()(int64_t i, int64_t j) const { return data[i * shape[1] + j]; }
  double operator()(int64_t i, int64_t j, int64_t k) const {
    return data[(i * shape[1] + j) * shape[2] + k];
  }
  std::vector<double> data;
  Shape shape;
};

using Score = std::function<double(int64_t b, int64_t i, int64_t j)>;
using Exclude = std::function<bool(int64_t b, int64_t i, int64_t j)>;

// weights[b, i, :] = softmax of score over the keys not excluded (all 0 when none is), times
// factor(b, i, j) when given; output = weights @ values. Returns {output [B, Tq, Dv], weights}.
inline nn::AttentionOutput naive_attention(int64_t batch, int64_t queries, int64_t keys,
                                           const Score& score, const Exclude& exclude,
                                           const Tensor& values_tensor,
                                           const Score& factor = nullptr) {
  Values values(values_tensor);
  const int64_t dv = values.shape[2];
  std::vector<double> weights(batch * queries * keys, 0.0), output(batch * queries * dv, 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < queries; ++i) {
      double* w = &weights[(b * queries + i) * keys];
      double max = -INFINITY, sum = 0.0;
      for (int64_t j = 0; j < keys; ++j)
        if (!exclude(b, i, j)) max = std::max(max, score(b, i, j));
      for (int64_t j = 0; j < keys; ++j)
        if (!exclude(b, i, j)) sum += (w[j] = std::exp(score(b, i, j) - max));
      for (int64_t j = 0; j < keys; ++j) {
        if (sum > 0) w[j] /= sum;
        if (factor) w[j] *= factor(b, i, j);
        for (int64_t d = 0; d < dv; ++d)
          output[(b * queries + i) * dv + d] += w[j] * values(b, j, d);
      }
    }
  return {from_vector(output, {batch, queries, dv}, kFloat64),
          from_vector(weights, {batch, queries, keys}, kFloat64)};
}

// Compares a module's result with the oracle's ([B, Tq, ...]; squeezed when single_query).
inline void check_naive(const nn::AttentionOutput& got, const nn::AttentionOutput& want,
                        bool single_query) {
  CHECK(allclose(got.output, single_query ? want.output.squeeze(1) : want.output, 1e-10, 1e-12));
  CHECK(allclose(got.weights, single_query ? want.weights.squeeze(1) : want.weights, 1e-10, 1e-12));
}

// A key padding mask [B, Tk] from rows of 0/1.
inline Tensor padding_mask(const std::vector<std::vector<int>>& rows) {
  std::vector<bool> flat;
  for (const auto& row : rows)
    for (int x : row) flat.push_back(x != 0);
  return from_vector(
      flat, {static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, kBool);
}

// Luong's score(h_t, h̄_s) with plain loops, for query [B, Tq, H] and keys [B, Tk, H], using the
// module's parameters (attn.weight, attn.bias, v).
inline Score naive_luong_score(const nn::LuongAttention& m, const Tensor& query,
                               const Tensor& keys) {
  Values q(query), k(keys);
  const int64_t h = m.hidden_size;
  Values w(m.attn ? m.attn->weight : zeros({1, 1}, kFloat64));
  const bool has_bias = m.attn && m.attn->bias.defined();
  Values bias(has_bias ? m.attn->bias : zeros({h}, kFloat64));
  Values v(m.v.defined() ? m.v : zeros({h}, kFloat64));
  const std::string method = m.method;
  return [=](int64_t b, int64_t i, int64_t j) {
    double s = 0.0;
    for (int64_t u = 0; u < h; ++u) {
      if (method == "dot") {
        s += q(b, i, u) * k(b, j, u);
      } else if (method == "general") {
        double wk = bias(u);
        for (int64_t g = 0; g < h; ++g) wk += w(u, g) * k(b, j, g);
        s += q(b, i, u) * wk;
      } else {
        double e = bias(u);
        for (int64_t g = 0; g < h; ++g) e += w(u, g) * q(b, i, g) + w(u, h + g) * k(b, j, g);
        s += v(u) * std::tanh(e);
      }
    }
    return s;
  };
}

using Call = std::function<nn::AttentionOutput(const std::vector<Tensor>&)>;

// Gradcheck of output and weights together, with respect to `inputs` and every parameter of
// `module` (which must be float64).
inline void check_module_gradients(nn::Module& module, const std::vector<Tensor>& inputs,
                                   const Call& call) {
  std::vector<Tensor> all = inputs;
  for (const Tensor& p : module.parameters()) all.push_back(p);
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        nn::AttentionOutput r = call(in);
        return cat({r.output.flatten(), r.weights.flatten()}, 0);
      },
      all);
}

// Loads fx[name_p_<key>] into the module (float64), runs `call` on fx[name_<input>], and compares
// output, weights and the gradients of (out * up_out).sum() + (w * up_w).sum() with PyTorch's.
inline void check_module_fixture(const Fixtures& fx, const std::string& name, nn::Module& module,
                                 const std::vector<std::string>& input_names, const Call& call,
                                 double tolerance = 1e-10) {
  INFO(name);
  module.to(kFloat64);
  nn::StateDict state;
  for (const auto& entry : module.state_dict())
    state.emplace_back(entry.first, fx[name + "_p_" + entry.first]);
  module.load_state_dict(state);
  module.zero_grad();
  std::vector<Tensor> inputs;
  for (const std::string& input : input_names) {
    Tensor t = fx[name + "_" + input].clone();
    if (t.is_floating_point()) t.requires_grad_();
    inputs.push_back(t);
  }
  nn::AttentionOutput r = call(inputs);
  CHECK(allclose(r.output, fx[name + "_out"], tolerance, tolerance));
  CHECK(allclose(r.weights, fx[name + "_w"], tolerance, tolerance));
  ((r.output * fx[name + "_up_out"]).sum() + (r.weights * fx[name + "_up_w"]).sum()).backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].is_floating_point()) continue;
    INFO("d" << input_names[i]);
    REQUIRE(inputs[i].grad().defined());
    CHECK(allclose(inputs[i].grad(), fx[name + "_d" + input_names[i]], tolerance, tolerance));
  }
  for (const auto& [key, p] : module.named_parameters()) {
    INFO("parameter " << key);
    REQUIRE(p.grad().defined());
    CHECK(allclose(p.grad(), fx[name + "_dp_" + key], tolerance, tolerance));
  }
}

// True when no element of t (or its gradient, when it has one) is NaN.
inline bool no_nan(const Tensor& t) {
  auto finite = [](const Tensor& x) {
    for (double v : x.to_vector<double>())
      if (std::isnan(v)) return false;
    return true;
  };
  return finite(t) && (!t.grad().defined() || finite(t.grad()));
}

}  // namespace minidl::testing::classic
