// Reads the PyTorch reference tensors written by tools/fixtures/*.py (format described in
// tools/fixtures/fixture_io.py).
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

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
