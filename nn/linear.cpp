#include "nn/linear.h"

#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "nn/init.h"
#include "ops/linalg.h"
#include "ops/linalg_extra.h"

namespace minidl::nn {

namespace {
const char* python_bool(bool b) {
  return b ? "True" : "False";
}

void check_input(const Tensor& input, const Tensor& weight, int64_t features, const char* module,
                 const char* what) {
  MINIDL_CHECK(input.defined(), module, what << " is undefined");
  MINIDL_CHECK(input.dim() >= 1 && input.shape().back() == features, module,
               "expected " << what << " with last dimension " << features << ", got shape "
                           << shape_str(input.shape()));
  MINIDL_CHECK(input.dtype() == weight.dtype(), module,
               what << " dtype " << input.dtype() << " does not match the weight's "
                    << weight.dtype() << " (convert the input, or the module with to())");
}
}  // namespace

// ---------------------------------------------------------------- Linear

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : Module("Linear"),
      options(LinearOptions(in_features, out_features).bias(bias)),
      in_features(in_features),
      out_features(out_features) {
  MINIDL_CHECK(in_features >= 0 && out_features >= 0, "Linear",
               "in_features and out_features must be non-negative, got " << in_features << " and "
                                                                         << out_features);
  weight = register_parameter("weight", empty({out_features, in_features}));
  this->bias = register_parameter("bias", bias ? empty({out_features}) : Tensor());
  reset_parameters();
}

Linear::Linear(const LinearOptions& options)
    : Linear(options.in_features(), options.out_features(), options.bias()) {}

void Linear::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in_features)) : 0.0;
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& input) {
  check_input(input, weight, in_features, "Linear", "input");
  return linear(input, weight, bias);
}

std::string Linear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features << ", out_features=" << out_features
     << ", bias=" << python_bool(bias.defined());
  return os.str();
}

// ---------------------------------------------------------------- Bilinear

Bilinear::Bilinear(int64_t in1_features, int64_t in2_features, int64_t out_features, bool bias)
    : Module("Bilinear"),
      options(BilinearOptions(in1_features, in2_features, out_features).bias(bias)),
      in1_features(in1_features),
      in2_features(in2_features),
      out_features(out_features) {
  MINIDL_CHECK(in1_features >= 0 && in2_features >= 0 && out_features >= 0, "Bilinear",
               "feature sizes must be non-negative, got in1_features="
                   << in1_features << ", in2_features=" << in2_features
                   << ", out_features=" << out_features);
  weight = register_parameter("weight", empty({out_features, in1_features, in2_features}));
  this->bias = register_parameter("bias", bias ? empty({out_features}) : Tensor());
  reset_parameters();
}

Bilinear::Bilinear(const BilinearOptions& options)
    : Bilinear(options.in1_features(), options.in2_features(), options.out_features(),
               options.bias()) {}

void Bilinear::reset_parameters() {
  const double bound = in1_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in1_features)) : 0.0;
  init::uniform_(weight, -bound, bound);
  if (bias.defined()) init::uniform_(bias, -bound, bound);
}

Tensor Bilinear::forward(const Tensor& input1, const Tensor& input2) {
  check_input(input1, weight, in1_features, "Bilinear", "input1");
  check_input(input2, weight, in2_features, "Bilinear", "input2");
  return bilinear(input1, input2, weight, bias);
}

std::string Bilinear::extra_repr() const {
  std::ostringstream os;
  os << "in1_features=" << in1_features << ", in2_features=" << in2_features
     << ", out_features=" << out_features << ", bias=" << python_bool(bias.defined());
  return os.str();
}

// ---------------------------------------------------------------- Flatten, Unflatten

Flatten::Flatten(int64_t start_dim, int64_t end_dim)
    : Module("Flatten"),
      options(FlattenOptions().start_dim(start_dim).end_dim(end_dim)),
      start_dim(start_dim),
      end_dim(end_dim) {}

Flatten::Flatten(const FlattenOptions& options) : Flatten(options.start_dim(), options.end_dim()) {}

Tensor Flatten::forward(const Tensor& input) {
  MINIDL_CHECK(input.defined(), "Flatten", "input is undefined");
  return input.flatten(start_dim, end_dim);
}

std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
}

Unflatten::Unflatten(int64_t dim, Shape unflattened_size)
    : Module("Unflatten"),
      options(dim, unflattened_size),
      dim(dim),
      unflattened_size(std::move(unflattened_size)) {
  MINIDL_CHECK(!this->unflattened_size.empty(), "Unflatten", "unflattened_size must be non-empty");
}

Unflatten::Unflatten(const UnflattenOptions& options) : Unflatten(options.dim(), options.sizes()) {}

Tensor Unflatten::forward(const Tensor& input) {
  MINIDL_CHECK(input.defined(), "Unflatten", "input is undefined");
  return input.unflatten(dim, unflattened_size);
}

std::string Unflatten::extra_repr() const {
  // Python prints the size as a tuple: (2, 5) or (2,)
  std::ostringstream os;
  os << "dim=" << dim << ", unflattened_size=(";
  for (size_t i = 0; i < unflattened_size.size(); ++i) os << (i ? ", " : "") << unflattened_size[i];
  os << (unflattened_size.size() == 1 ? ",)" : ")");
  return os.str();
}

}  // namespace minidl::nn
