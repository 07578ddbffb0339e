#include "nn/conv_transpose.h"

#include <cmath>
#include <sstream>

#include "core/factories.h"
#include "nn/init.h"

namespace minidl::nn {

ConvTransposeNd::ConvTransposeNd(const char* name, size_t spatial, int64_t in_channels,
                                 int64_t out_channels, const ExpandingArray& kernel_size,
                                 const ExpandingArray& stride, const ExpandingArray& padding,
                                 const ExpandingArray& output_padding, int64_t groups, bool bias,
                                 const ExpandingArray& dilation)
    : Module(name),
      in_channels(in_channels),
      out_channels(out_channels),
      groups(groups),
      kernel_size(kernel_size.expand(spatial, name, "kernel_size")),
      stride(stride.expand(spatial, name, "stride")),
      padding(padding.expand(spatial, name, "padding")),
      output_padding(output_padding.expand(spatial, name, "output_padding")),
      dilation(dilation.expand(spatial, name, "dilation")),
      spatial_(spatial) {
  MINIDL_CHECK(in_channels > 0 && out_channels > 0, name,
               "in_channels and out_channels must be positive, got " << in_channels << " and "
                                                                     << out_channels);
  MINIDL_CHECK(groups > 0, name, "groups must be positive, got " << groups);
  MINIDL_CHECK(
      in_channels % groups == 0, name,
      "in_channels (" << in_channels << ") must be divisible by groups (" << groups << ")");
  MINIDL_CHECK(
      out_channels % groups == 0, name,
      "out_channels (" << out_channels << ") must be divisible by groups (" << groups << ")");
  for (size_t d = 0; d < spatial; ++d) {
    MINIDL_CHECK(this->kernel_size[d] > 0, name,
                 "kernel_size must be positive, got " << tuple_str(this->kernel_size));
    MINIDL_CHECK(this->stride[d] > 0, name,
                 "stride must be positive, got " << tuple_str(this->stride));
    MINIDL_CHECK(this->dilation[d] > 0, name,
                 "dilation must be positive, got " << tuple_str(this->dilation));
    MINIDL_CHECK(this->padding[d] >= 0, name,
                 "padding must be non-negative, got " << tuple_str(this->padding));
    MINIDL_CHECK(this->output_padding[d] >= 0, name,
                 "output_padding must be non-negative, got " << tuple_str(this->output_padding));
  }
  Shape weight_shape = {in_channels, out_channels / groups};
  for (int64_t k : this->kernel_size) weight_shape.push_back(k);
  weight = register_parameter("weight", empty(weight_shape));
  this->bias = register_parameter("bias", bias ? empty({out_channels}) : Tensor());
  reset_parameters();
}

void ConvTransposeNd::reset_parameters() {
  // kaiming_uniform_(a = sqrt(5)): bound 1 / sqrt(fan_in), fan_in = weight.size(1) * prod(kernel)
  // (= out_channels / groups * prod(kernel) here); the bias uses the same bound.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double fan_in = static_cast<double>(init::calculate_fan_in_and_fan_out(weight).first);
    const double bound = 1.0 / std::sqrt(fan_in);
    init::uniform_(bias, -bound, bound);
  }
}

Tensor ConvTransposeNd::apply(const Tensor& input, const std::vector<int64_t>& output_padding) {
  const int64_t sp = static_cast<int64_t>(spatial_);
  MINIDL_CHECK(input.defined(), type_name(), "input is undefined");
  MINIDL_CHECK(input.dim() == sp + 1 || input.dim() == sp + 2, type_name(),
               "expected a " << sp + 1 << "-D (unbatched) or " << sp + 2
                             << "-D (batched) input, got shape " << shape_str(input.shape()));
  const int64_t channels = input.size(input.dim() - sp - 1);
  MINIDL_CHECK(
      channels == in_channels, type_name(),
      "expected input with " << in_channels << " channels, got shape " << shape_str(input.shape()));
  MINIDL_CHECK(input.dtype() == weight.dtype(), type_name(),
               "input dtype " << input.dtype() << " (shape " << shape_str(input.shape())
                              << ") differs from the weight dtype " << weight.dtype());
  if (spatial_ == 1)
    return conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups, dilation);
  return conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation);
}

Tensor ConvTransposeNd::forward(const Tensor& input) {
  return apply(input, output_padding);
}

Tensor ConvTransposeNd::forward(const Tensor& input, const std::vector<int64_t>& output_size) {
  MINIDL_CHECK(input.defined(), type_name(), "input is undefined");
  const size_t sp = spatial_;
  const size_t non_spatial = input.dim() == static_cast<int64_t>(sp) + 2 ? 2 : 1;
  MINIDL_CHECK(output_size.size() == sp || output_size.size() == sp + non_spatial, type_name(),
               "for " << input.dim() << "-D input " << shape_str(input.shape())
                      << ", output_size must have " << sp << " or " << sp + non_spatial
                      << " elements (got " << tuple_str(output_size) << ")");
  MINIDL_CHECK(input.dim() == static_cast<int64_t>(sp + non_spatial), type_name(),
               "expected a " << sp + 1 << "-D (unbatched) or " << sp + 2
                             << "-D (batched) input, got shape " << shape_str(input.shape()));
  const std::vector<int64_t> size(output_size.end() - sp, output_size.end());
  std::vector<int64_t> min_sizes(sp), max_sizes(sp), chosen(sp);
  for (size_t d = 0; d < sp; ++d) {
    min_sizes[d] = (input.size(non_spatial + d) - 1) * stride[d] - 2 * padding[d] +
                   dilation[d] * (kernel_size[d] - 1) + 1;
    max_sizes[d] = min_sizes[d] + stride[d] - 1;
  }
  for (size_t d = 0; d < sp; ++d) {
    MINIDL_CHECK(size[d] >= min_sizes[d] && size[d] <= max_sizes[d], type_name(),
                 "requested an output size of "
                     << tuple_str(size) << ", but valid sizes range from " << tuple_str(min_sizes)
                     << " to " << tuple_str(max_sizes) << " (for an input of "
                     << shape_str(input.shape()) << ")");
    chosen[d] = size[d] - min_sizes[d];
  }
  return apply(input, chosen);
}

std::string ConvTransposeNd::extra_repr() const {
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << tuple_str(kernel_size)
     << ", stride=" << tuple_str(stride);
  if (padding != std::vector<int64_t>(spatial_, 0)) os << ", padding=" << tuple_str(padding);
  if (dilation != std::vector<int64_t>(spatial_, 1)) os << ", dilation=" << tuple_str(dilation);
  if (output_padding != std::vector<int64_t>(spatial_, 0))
    os << ", output_padding=" << tuple_str(output_padding);
  if (groups != 1) os << ", groups=" << groups;
  if (!bias.defined()) os << ", bias=False";
  return os.str();
}

ConvTranspose1d::ConvTranspose1d(int64_t in_channels, int64_t out_channels,
                                 ExpandingArray kernel_size, ExpandingArray stride,
                                 ExpandingArray padding, ExpandingArray output_padding,
                                 int64_t groups, bool bias, ExpandingArray dilation)
    : ConvTransposeNd("ConvTranspose1d", 1, in_channels, out_channels, kernel_size, stride, padding,
                      output_padding, groups, bias, dilation) {}

ConvTranspose2d::ConvTranspose2d(int64_t in_channels, int64_t out_channels,
                                 ExpandingArray kernel_size, ExpandingArray stride,
                                 ExpandingArray padding, ExpandingArray output_padding,
                                 int64_t groups, bool bias, ExpandingArray dilation)
    : ConvTransposeNd("ConvTranspose2d", 2, in_channels, out_channels, kernel_size, stride, padding,
                      output_padding, groups, bias, dilation) {}

}  // namespace minidl::nn
