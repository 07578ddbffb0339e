#include "nn/activation.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "ops/activation_extra.h"
#include "ops/elementwise.h"
#include "ops/mish.h"
#include "ops/softmax.h"

namespace minidl::nn {

std::string python_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  std::string s = buffer;
  // %g writes exponents with at least two digits (1e-05), as Python does; it drops the ".0" of
  // a whole number, which Python keeps.
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

namespace {
void check_input(const Tensor& input, const char* module) {
  MINIDL_CHECK(input.defined(), module, "input is undefined");
  MINIDL_CHECK(input.is_floating_point(), module,
               "expected a floating-point input, got " << input.dtype() << " of shape "
                                                       << shape_str(input.shape()));
}

// minidl's activations compute out of place: an inplace(true) option cannot be honoured.
void check_not_inplace(bool inplace, const char* module) {
  MINIDL_CHECK(!inplace, module,
               "inplace=true is not supported (minidl's activations compute out of place); "
               "build it with inplace(false) and use the returned tensor");
}
}  // namespace

ReLU::ReLU(const ReLUOptions& options) : Module("ReLU"), options(options) {
  check_not_inplace(options.inplace(), "ReLU");
}

Tensor ReLU::forward(const Tensor& input) {
  check_input(input, "ReLU");
  return relu(input);
}

LeakyReLU::LeakyReLU(const LeakyReLUOptions& options)
    : Module("LeakyReLU"), options(options), negative_slope(options.negative_slope()) {
  check_not_inplace(options.inplace(), "LeakyReLU");
}

Tensor LeakyReLU::forward(const Tensor& input) {
  check_input(input, "LeakyReLU");
  return leaky_relu(input, negative_slope);
}
std::string LeakyReLU::extra_repr() const {
  return "negative_slope=" + python_float(negative_slope);
}

ELU::ELU(const ELUOptions& options) : Module("ELU"), options(options), alpha(options.alpha()) {
  check_not_inplace(options.inplace(), "ELU");
}

Tensor ELU::forward(const Tensor& input) {
  check_input(input, "ELU");
  return elu(input, alpha);
}
std::string ELU::extra_repr() const {
  return "alpha=" + python_float(alpha);
}

GELU::GELU(const GELUOptions& options)
    : Module("GELU"), options(options), approximate(options.approximate()) {
  MINIDL_CHECK(this->approximate == "none" || this->approximate == "tanh", "GELU",
               "approximate must be 'none' or 'tanh', got '" << this->approximate << "'");
}
Tensor GELU::forward(const Tensor& input) {
  check_input(input, "GELU");
  return gelu(input, approximate);
}
std::string GELU::extra_repr() const {
  return "approximate='" + approximate + "'";
}

Tensor Tanh::forward(const Tensor& input) {
  check_input(input, "Tanh");
  return tanh(input);
}

Tensor Sigmoid::forward(const Tensor& input) {
  check_input(input, "Sigmoid");
  return sigmoid(input);
}

Tensor Softmax::forward(const Tensor& input) {
  check_input(input, "Softmax");
  return softmax(input, dim);
}
std::string Softmax::extra_repr() const {
  return "dim=" + std::to_string(dim);
}

Tensor LogSoftmax::forward(const Tensor& input) {
  check_input(input, "LogSoftmax");
  return log_softmax(input, dim);
}
std::string LogSoftmax::extra_repr() const {
  return "dim=" + std::to_string(dim);
}

Tensor SiLU::forward(const Tensor& input) {
  check_input(input, "SiLU");
  return silu(input);
}

Tensor Softplus::forward(const Tensor& input) {
  check_input(input, "Softplus");
  return softplus(input, beta, threshold);
}
std::string Softplus::extra_repr() const {
  // PyTorch's defaults are Python ints (beta=1, threshold=20): whole values print without ".0".
  auto number = [](double v) {
    return v == std::floor(v) && std::fabs(v) < 1e15 ? std::to_string(static_cast<int64_t>(v))
                                                     : python_float(v);
  };
  return "beta=" + number(beta) + ", threshold=" + number(threshold);
}

Hardtanh::Hardtanh(double min_val, double max_val)
    : Module("Hardtanh"), min_val(min_val), max_val(max_val) {
  MINIDL_CHECK(min_val <= max_val, "Hardtanh",
               "min_val (" << min_val << ") must be <= max_val (" << max_val << ")");
}
Tensor Hardtanh::forward(const Tensor& input) {
  check_input(input, "Hardtanh");
  return hardtanh(input, min_val, max_val);
}
std::string Hardtanh::extra_repr() const {
  return "min_val=" + python_float(min_val) + ", max_val=" + python_float(max_val);
}

Tensor Mish::forward(const Tensor& input) {
  check_input(input, "Mish");
  return mish(input);
}

Tensor ReLU6::forward(const Tensor& input) {
  check_input(input, "ReLU6");
  return relu6(input);
}

}  // namespace minidl::nn
