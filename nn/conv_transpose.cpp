#include "nn/conv_transpose.h"

#include <sstream>

#include "core/factories.h"
#include "nn/conv_common.h"

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
  detail::check_conv_module_args(
      name, in_channels, out_channels, groups, this->kernel_size, this->stride, this->dilation,
      {{"padding", &this->padding}, {"output_padding", &this->output_padding}});
  Shape weight_shape = {in_channels, out_channels / groups};
  for (int64_t k : this->kernel_size) weight_shape.push_back(k);
  weight = register_parameter("weight", empty(weight_shape));
  this->bias = register_parameter("bias", bias ? empty({out_channels}) : Tensor());
  reset_parameters();
}

void ConvTransposeNd::reset_parameters() {
  // kaiming_uniform_(a = sqrt(5)): bound 1 / sqrt(fan_in), fan_in = weight.size(1) * prod(kernel)
  // (= out_channels / groups * prod(kernel) here); the bias uses the same bound.
  detail::reset_conv_parameters(weight, bias);
}

Tensor ConvTransposeNd::apply(const Tensor& input, const std::vector<int64_t>& output_padding) {
  MINIDL_CHECK(input.defined(), type_name(), "input is undefined");
  detail::check_conv_module_input(type_name(), spatial_, input, in_channels, weight);
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
                      output_padding, groups, bias, dilation),
      options(ConvTranspose1dOptions(in_channels, out_channels, kernel_size)
                  .stride(stride)
                  .padding(padding)
                  .output_padding(output_padding)
                  .groups(groups)
                  .bias(bias)
                  .dilation(dilation)) {}

ConvTranspose1d::ConvTranspose1d(const ConvTranspose1dOptions& options)
    : ConvTranspose1d(options.in_channels(), options.out_channels(), options.kernel_size(),
                      options.stride(), options.padding(), options.output_padding(),
                      options.groups(), options.bias(), options.dilation()) {
  detail::check_padding_mode("ConvTranspose1d", options.padding_mode());
  this->options = options;
}

ConvTranspose2d::ConvTranspose2d(int64_t in_channels, int64_t out_channels,
                                 ExpandingArray kernel_size, ExpandingArray stride,
                                 ExpandingArray padding, ExpandingArray output_padding,
                                 int64_t groups, bool bias, ExpandingArray dilation)
    : ConvTransposeNd("ConvTranspose2d", 2, in_channels, out_channels, kernel_size, stride, padding,
                      output_padding, groups, bias, dilation),
      options(ConvTranspose2dOptions(in_channels, out_channels, kernel_size)
                  .stride(stride)
                  .padding(padding)
                  .output_padding(output_padding)
                  .groups(groups)
                  .bias(bias)
                  .dilation(dilation)) {}

ConvTranspose2d::ConvTranspose2d(const ConvTranspose2dOptions& options)
    : ConvTranspose2d(options.in_channels(), options.out_channels(), options.kernel_size(),
                      options.stride(), options.padding(), options.output_padding(),
                      options.groups(), options.bias(), options.dilation()) {
  detail::check_padding_mode("ConvTranspose2d", options.padding_mode());
  this->options = options;
}

}  // namespace minidl::nn
