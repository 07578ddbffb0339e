// Loads the PyTorch references written by tools/fixtures/gen_mha.py (shared by
// tests/test_multihead.cpp and tests/test_transformer.cpp): per case <c>, the state_dict in
// mha_<c>.safetensors and the inputs, outputs and gradients in mha_<c>_ref.safetensors.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "nn/safetensors.h"
#include "tests/test_util.h"

#ifndef MINIDL_FIXTURE_DIR
#define MINIDL_FIXTURE_DIR "tests/fixtures"
#endif

namespace minidl::testing {

inline std::string mha_fixture_file(const std::string& name) {
  return std::string(MINIDL_FIXTURE_DIR) + "/" + name;
}

// The references of one case of tools/fixtures/gen_mha.py (float tensors as float64).
struct MhaReference {
  explicit MhaReference(const std::string& name) {
    for (const auto& [key, t] :
         nn::load_safetensors(mha_fixture_file("mha_" + name + "_ref.safetensors")))
      tensors[key] = t.is_floating_point() ? t.to(kFloat64) : t;
  }
  bool has(const std::string& key) const { return tensors.count(key) > 0; }
  const Tensor& operator[](const std::string& key) const {
    auto it = tensors.find(key);
    if (it == tensors.end()) throw Error("no reference tensor " + key);
    return it->second;
  }
  // A fresh leaf holding the input `key` (in.<key>).
  Tensor leaf(const std::string& key) const {
    return (*this)["in." + key].clone().requires_grad_();
  }
  Tensor mask(const std::string& key) const { return (*this)["in." + key]; }
  std::map<std::string, Tensor> tensors;
};

// float64, eval mode, the case's state_dict loaded from its safetensors file.
inline void load_mha_case(nn::Module& module, const std::string& name) {
  module.to(kFloat64);
  module.eval();
  nn::load_state_dict(module, mha_fixture_file("mha_" + name + ".safetensors"));
}

// Output (and weights) against PyTorch, then the gradients of the fixture's loss w.r.t. the
// named inputs and every parameter.
inline void check_mha_case(const nn::Module& module, const MhaReference& ref, const Tensor& out,
                           const Tensor& weights,
                           const std::vector<std::pair<std::string, Tensor>>& inputs) {
  const double tol = 1e-6;
  CHECK(allclose(out, ref["out"], tol, tol));
  Tensor loss = (out * ref["up"]).sum();
  if (ref.has("weights")) {
    REQUIRE(weights.defined());
    CHECK(allclose(weights, ref["weights"], tol, tol));
    loss = loss + (weights * ref["up_weights"]).sum();
  } else {
    CHECK_FALSE(weights.defined());
  }
  loss.backward();
  for (const auto& [name, t] : inputs) {
    INFO("input " << name);
    REQUIRE(t.grad().defined());
    CHECK(allclose(t.grad(), ref["grad_in." + name], tol, tol));
  }
  size_t checked = 0, expected = 0;
  for (const auto& [name, t] : ref.tensors) expected += name.rfind("grad.", 0) == 0;
  for (const auto& [name, p] : module.named_parameters()) {
    INFO("parameter " << name);
    REQUIRE(p.grad().defined());
    CHECK(allclose(p.grad(), ref["grad." + name], tol, tol));
    ++checked;
  }
  CHECK(checked == expected);
}

}  // namespace minidl::testing
