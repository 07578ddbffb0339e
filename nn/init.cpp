#include "nn/init.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "ops/elementwise.h"

namespace minidl::nn::init {

namespace {
void check_defined(const Tensor& tensor, const char* op) {
  MINIDL_CHECK(tensor.defined(), op, "the tensor to initialize is undefined");
  MINIDL_CHECK(tensor.is_floating_point(), op,
               "expected a floating-point tensor, got " << tensor.dtype() << " of shape "
                                                        << shape_str(tensor.shape()));
}

int64_t fan(const Tensor& tensor, const std::string& mode, const char* op) {
  MINIDL_CHECK(mode == "fan_in" || mode == "fan_out", op,
               "mode \"" << mode << "\" not supported, please use one of fan_in, fan_out");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  return mode == "fan_in" ? fan_in : fan_out;
}

double fan_std(int64_t fan, double gain, const char* op, const Tensor& tensor) {
  MINIDL_CHECK(
      fan > 0, op,
      "cannot initialize a tensor of shape " << shape_str(tensor.shape()) << " with a zero fan");
  return gain / std::sqrt(static_cast<double>(fan));
}

// Q [m, n] (m >= n) of the thin QR decomposition A = QR by Householder reflections, each column
// multiplied by the sign of R's diagonal entry (so that diag(R) > 0). Matrices are held as
// columns (column j of A is columns[j]), so every inner loop runs over contiguous memory.
std::vector<std::vector<double>> orthonormal_columns(std::vector<std::vector<double>> columns,
                                                     int64_t m) {
  const int64_t n = static_cast<int64_t>(columns.size());
  auto dot_from = [m](const std::vector<double>& v, const std::vector<double>& x, int64_t k) {
    double dot = 0.0;
    for (int64_t i = k; i < m; ++i) dot += v[i - k] * x[i];
    return dot;
  };
  std::vector<std::vector<double>> reflectors(n);  // unit v_k, acting on rows k..m-1
  std::vector<double> r_diag(n, 0.0);
  for (int64_t k = 0; k < n; ++k) {
    const std::vector<double>& x = columns[k];
    double norm2 = 0.0;
    for (int64_t i = k; i < m; ++i) norm2 += x[i] * x[i];
    const double norm = std::sqrt(norm2);
    if (norm == 0.0) continue;  // a zero column: no reflection, Q keeps e_k
    // H = I - 2 v v^T (|v| = 1) with v along x - alpha e_k maps x to alpha e_k; alpha has the
    // opposite sign to x_k, so that the subtraction does not cancel.
    const double alpha = x[k] > 0 ? -norm : norm;
    std::vector<double> v(x.begin() + k, x.end());
    v[0] -= alpha;
    double v_norm = 0.0;
    for (double e : v) v_norm += e * e;
    v_norm = std::sqrt(v_norm);
    for (double& e : v) e /= v_norm;
    for (int64_t j = k; j < n; ++j) {
      const double f = 2.0 * dot_from(v, columns[j], k);
      for (int64_t i = k; i < m; ++i) columns[j][i] -= f * v[i - k];
    }
    r_diag[k] = alpha;
    reflectors[k] = std::move(v);
  }
  // Q = H_0 H_1 ... H_{n-1} I[:, :n], applied right to left.
  std::vector<std::vector<double>> q(n, std::vector<double>(m, 0.0));
  for (int64_t j = 0; j < n; ++j) q[j][j] = 1.0;
  for (int64_t k = n - 1; k >= 0; --k) {
    const std::vector<double>& v = reflectors[k];
    if (v.empty()) continue;
    for (int64_t j = 0; j < n; ++j) {
      const double f = 2.0 * dot_from(v, q[j], k);
      for (int64_t i = k; i < m; ++i) q[j][i] -= f * v[i - k];
    }
  }
  for (int64_t j = 0; j < n; ++j)
    if (r_diag[j] < 0)
      for (double& e : q[j]) e = -e;
  return q;
}
}  // namespace

double calculate_gain(const std::string& nonlinearity, std::optional<double> param) {
  static const char* const kUnit[] = {"linear",           "conv1d",           "conv2d",
                                      "conv3d",           "conv_transpose1d", "conv_transpose2d",
                                      "conv_transpose3d", "sigmoid"};
  for (const char* name : kUnit)
    if (nonlinearity == name) return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4.0;
  MINIDL_FAIL("calculate_gain", "unsupported nonlinearity \""
                                    << nonlinearity
                                    << "\" (expected linear, conv1d/2d/3d, "
                                       "conv_transpose1d/2d/3d, sigmoid, tanh, relu, "
                                       "leaky_relu or selu)");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  MINIDL_CHECK(tensor.defined(), "calculate_fan_in_and_fan_out", "the tensor is undefined");
  MINIDL_CHECK(tensor.dim() >= 2, "calculate_fan_in_and_fan_out",
               "fan in and fan out can not be computed for a tensor with fewer than 2 "
               "dimensions, got shape "
                   << shape_str(tensor.shape()));
  int64_t receptive_field = 1;
  for (int64_t d = 2; d < tensor.dim(); ++d) receptive_field *= tensor.shape()[d];
  return {tensor.shape()[1] * receptive_field, tensor.shape()[0] * receptive_field};
}

Tensor uniform_(Tensor tensor, double a, double b) {
  check_defined(tensor, "uniform_");
  NoGradGuard no_grad;
  tensor.uniform_(a, b);
  return tensor;
}

Tensor normal_(Tensor tensor, double mean, double std) {
  check_defined(tensor, "normal_");
  NoGradGuard no_grad;
  tensor.normal_(mean, std);
  return tensor;
}

Tensor constant_(Tensor tensor, double val) {
  check_defined(tensor, "constant_");
  NoGradGuard no_grad;
  tensor.fill_(val);
  return tensor;
}

Tensor zeros_(Tensor tensor) {
  return constant_(std::move(tensor), 0.0);
}

Tensor ones_(Tensor tensor) {
  return constant_(std::move(tensor), 1.0);
}

Tensor xavier_uniform_(Tensor tensor, double gain) {
  check_defined(tensor, "xavier_uniform_");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  if (tensor.numel() == 0) return tensor;
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  const double a = std::sqrt(3.0) * std;
  return uniform_(tensor, -a, a);
}

Tensor xavier_normal_(Tensor tensor, double gain) {
  check_defined(tensor, "xavier_normal_");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  if (tensor.numel() == 0) return tensor;
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  return normal_(tensor, 0.0, std);
}

Tensor kaiming_uniform_(Tensor tensor, double a, const std::string& mode,
                        const std::string& nonlinearity) {
  check_defined(tensor, "kaiming_uniform_");
  const int64_t f = fan(tensor, mode, "kaiming_uniform_");
  const double gain = calculate_gain(nonlinearity, a);
  if (tensor.numel() == 0) return tensor;  // torch: a no-op on zero-element tensors
  const double bound = std::sqrt(3.0) * fan_std(f, gain, "kaiming_uniform_", tensor);
  return uniform_(tensor, -bound, bound);
}

Tensor kaiming_normal_(Tensor tensor, double a, const std::string& mode,
                       const std::string& nonlinearity) {
  check_defined(tensor, "kaiming_normal_");
  const int64_t f = fan(tensor, mode, "kaiming_normal_");
  const double gain = calculate_gain(nonlinearity, a);
  if (tensor.numel() == 0) return tensor;
  return normal_(tensor, 0.0, fan_std(f, gain, "kaiming_normal_", tensor));
}

Tensor orthogonal_(Tensor tensor, double gain) {
  check_defined(tensor, "orthogonal_");
  MINIDL_CHECK(tensor.dim() >= 2, "orthogonal_",
               "only tensors with 2 or more dimensions are supported, got shape "
                   << shape_str(tensor.shape()));
  if (tensor.numel() == 0) return tensor;
  NoGradGuard no_grad;
  const int64_t rows = tensor.shape()[0], cols = tensor.numel() / rows;
  // QR of the taller orientation: [m, n] with m >= n.
  const bool transpose = rows < cols;
  const int64_t m = std::max(rows, cols), n = std::min(rows, cols);
  Tensor flat = randn({rows, cols}, kFloat64);
  if (transpose) flat = flat.t();
  // Columns of the [m, n] matrix = rows of its transpose.
  std::vector<double> values = flat.t().contiguous().to_vector<double>();
  std::vector<std::vector<double>> columns(n);
  for (int64_t j = 0; j < n; ++j)
    columns[j].assign(values.begin() + j * m, values.begin() + (j + 1) * m);
  std::vector<std::vector<double>> q = orthonormal_columns(std::move(columns), m);
  std::vector<double> q_t;  // Q^T [n, m], row-major
  q_t.reserve(m * n);
  for (const auto& column : q) q_t.insert(q_t.end(), column.begin(), column.end());
  Tensor result = from_vector(q_t, {n, m}, kFloat64);  // Q^T
  if (!transpose) result = result.t();
  tensor.copy_((result * gain).reshape(tensor.shape()));
  return tensor;
}

}  // namespace minidl::nn::init
