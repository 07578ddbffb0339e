#include "nn/dropout.h"

#include "nn/activation.h"
#include "ops/dropout.h"

namespace minidl::nn {

Dropout::Dropout(const DropoutOptions& options)
    : Module("Dropout"), options(options), p(options.p()) {
  MINIDL_CHECK(p >= 0.0 && p <= 1.0, "Dropout",
               "dropout probability has to be between 0 and 1, but got " << p);
  MINIDL_CHECK(!options.inplace(), "Dropout",
               "inplace=true is not supported (minidl's dropout computes out of place); build it "
               "with inplace(false) and use the returned tensor");
}

Tensor Dropout::forward(const Tensor& input) {
  MINIDL_CHECK(input.defined(), "Dropout", "input is undefined");
  return dropout(input, p, is_training());
}

std::string Dropout::extra_repr() const {
  return "p=" + python_float(p) + ", inplace=False";
}

Dropout2d::Dropout2d(const Dropout2dOptions& options)
    : Module("Dropout2d"), options(options), p(options.p()) {
  MINIDL_CHECK(p >= 0.0 && p <= 1.0, "Dropout2d",
               "dropout probability has to be between 0 and 1, but got " << p);
  MINIDL_CHECK(!options.inplace(), "Dropout2d",
               "inplace=true is not supported (minidl's dropout computes out of place); build it "
               "with inplace(false) and use the returned tensor");
}

Tensor Dropout2d::forward(const Tensor& input) {
  MINIDL_CHECK(input.defined(), "Dropout2d", "input is undefined");
  return dropout2d(input, p, is_training());
}

std::string Dropout2d::extra_repr() const {
  return "p=" + python_float(p) + ", inplace=False";
}

}  // namespace minidl::nn
