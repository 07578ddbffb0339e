#include "nn/dropout.h"

#include "nn/activation.h"
#include "ops/dropout.h"

namespace minidl::nn {

Dropout::Dropout(double p) : Module("Dropout"), p(p) {
  MINIDL_CHECK(p >= 0.0 && p <= 1.0, "Dropout",
               "dropout probability has to be between 0 and 1, but got " << p);
}

Tensor Dropout::forward(const Tensor& input) {
  MINIDL_CHECK(input.defined(), "Dropout", "input is undefined");
  return dropout(input, p, is_training());
}

std::string Dropout::extra_repr() const {
  return "p=" + python_float(p) + ", inplace=False";
}

Dropout2d::Dropout2d(double p) : Module("Dropout2d"), p(p) {
  MINIDL_CHECK(p >= 0.0 && p <= 1.0, "Dropout2d",
               "dropout probability has to be between 0 and 1, but got " << p);
}

Tensor Dropout2d::forward(const Tensor& input) {
  MINIDL_CHECK(input.defined(), "Dropout2d", "input is undefined");
  return dropout2d(input, p, is_training());
}

std::string Dropout2d::extra_repr() const {
  return "p=" + python_float(p) + ", inplace=False";
}

}  // namespace minidl::nn
