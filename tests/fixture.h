// Reads the PyTorch reference tensors written by tools/fixtures/*.py (format described in
// tools/fixtures/fixture_io.py).
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "minidl.h"
#include "tests/test_util.h"

#ifndef MINIDL_FIXTURE_DIR
#define MINIDL_FIXTURE_DIR "tests/fixtures"
#endif

namespace minidl::testing {

class Fixtures {
 public:
  // `file` is relative to tests/fixtures, e.g. "elementwise.txt".
  explicit Fixtures(const std::string& file) {
    std::string path = std::string(MINIDL_FIXTURE_DIR) + "/" + file;
    std::ifstream in(path);
    if (!in) throw Error("fixtures: cannot open " + path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream header(line);
      std::string word, name, dtype;
      int64_t ndim;
      header >> word >> name >> dtype >> ndim;
      if (word != "tensor") throw Error("fixtures: bad header line in " + path + ": " + line);
      Shape shape(ndim);
      for (auto& s : shape) header >> s;
      std::string values_line;
      std::getline(in, values_line);
      std::istringstream values(values_line);
      std::vector<double> v;
      std::string word_value;  // strtod, unlike >>, reads "inf", "-inf" and "nan"
      while (values >> word_value) v.push_back(std::strtod(word_value.c_str(), nullptr));
      DType dt = dtype == "float32"   ? kFloat32
                 : dtype == "float64" ? kFloat64
                 : dtype == "int64"   ? kInt64
                                      : kBool;
      tensors_[name] = from_vector(v, shape, dt);
    }
  }
  const Tensor& operator[](const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw Error("fixtures: no tensor named " + name);
    return it->second;
  }

 private:
  std::map<std::string, Tensor> tensors_;
};

// The upstream gradient the fixture scripts use: cos(0, 1, 2, ...) in `shape`.
inline Tensor cos_upstream(const Shape& shape, DType dtype = kFloat64) {
  return arange(static_cast<double>(shape_numel(shape)), dtype).cos().reshape(shape);
}

// Checks `out` against fx[name + "_out"], backpropagates cos_upstream (in out's dtype) and checks
// each input's .grad against fx[name + "_d" + input name], all with allclose(rtol, atol).
inline void check_against(const Fixtures& fx, const std::string& name, const Tensor& out,
                          const std::vector<std::pair<std::string, Tensor>>& inputs,
                          double rtol = 1e-12, double atol = 1e-12) {
  INFO(name);
  CHECK(allclose(out, fx[name + "_out"], rtol, atol));
  out.backward(cos_upstream(out.shape(), out.dtype()));
  for (const auto& [input_name, t] : inputs) {
    INFO("d" << input_name);
    REQUIRE(t.grad().defined());
    CHECK(allclose(t.grad(), fx[name + "_d" + input_name], rtol, atol));
  }
}

// check_against (rtol = atol = tolerance) for an op whose output keeps the dtype of its first
// input, which is checked too.
inline void check_against_same_dtype(const Fixtures& fx, const std::string& name, const Tensor& out,
                                     const std::vector<std::pair<std::string, Tensor>>& inputs,
                                     double tolerance = 1e-12) {
  INFO(name);
  if (inputs.empty()) FAIL("check_against_same_dtype: no inputs");
  CHECK(out.dtype() == inputs.front().second.dtype());
  check_against(fx, name, out, inputs, tolerance, tolerance);
}

// Checks `out` against fx[name], then backpropagates (out * fx[name + "_up"]).sum() and checks
// each input's .grad against fx[name + "_d" + input name].
inline void check_fixture(const Fixtures& fx, const std::string& name, const Tensor& out,
                          const std::vector<std::pair<std::string, Tensor>>& inputs,
                          double tolerance = 1e-12) {
  CHECK(allclose(out, fx[name], tolerance, tolerance));
  (out * fx[name + "_up"]).sum().backward();
  for (const auto& [input_name, t] : inputs) {
    INFO(name << " d" << input_name);
    REQUIRE(t.grad().defined());
    CHECK(allclose(t.grad(), fx[name + "_d" + input_name], tolerance, tolerance));
  }
}

// A fresh leaf holding a copy of fx[name].
inline Tensor fixture_leaf(const Fixtures& fx, const std::string& name) {
  return fx[name].clone().requires_grad_();
}

}  // namespace minidl::testing
