#include "nn/conv.h"

#include <sstream>

#include "core/autograd.h"
#include "core/factories.h"
#include "nn/conv_common.h"

namespace minidl::nn {

ConvNd::ConvNd(const char* name, size_t spatial, int64_t in_channels, int64_t out_channels,
               const ExpandingArray& kernel_size, const ExpandingArray& stride, ConvPadding padding,
               const ExpandingArray& dilation, int64_t groups, bool bias)
    : Module(name),
      in_channels(in_channels),
      out_channels(out_channels),
      groups(groups),
      kernel_size(kernel_size.expand(spatial, name, "kernel_size")),
      stride(stride.expand(spatial, name, "stride")),
      dilation(dilation.expand(spatial, name, "dilation")),
      padding(std::move(padding)),
      spatial_(spatial) {
  detail::check_conv_module_args(name, in_channels, out_channels, groups, this->kernel_size,
                                 this->stride, this->dilation);
  const std::string& mode = this->padding.mode;
  MINIDL_CHECK(mode.empty() || mode == "same" || mode == "valid", name,
               "padding must be an int, a tuple of ints, 'same' or 'valid', got '" << mode << "'");
  if (mode == "same")
    for (int64_t s : this->stride)
      MINIDL_CHECK(s == 1, name,
                   "padding='same' is not supported for strided convolutions (stride "
                       << tuple_str(this->stride) << ")");
  if (mode.empty()) {
    this->padding.values = ExpandingArray(this->padding.values).expand(spatial, name, "padding");
    for (int64_t p : this->padding.values)
      MINIDL_CHECK(p >= 0, name,
                   "padding must be non-negative, got " << tuple_str(this->padding.values));
  }

  Shape weight_shape = {out_channels, in_channels / groups};
  for (int64_t k : this->kernel_size) weight_shape.push_back(k);
  weight = register_parameter("weight", empty(weight_shape));
  this->bias = register_parameter("bias", bias ? empty({out_channels}) : Tensor());
  reset_parameters();
}

void ConvNd::reset_parameters() {
  // kaiming_uniform_(a = sqrt(5)): bound sqrt(2 / (1 + 5)) sqrt(3 / fan_in) = 1 / sqrt(fan_in);
  // the bias uses the same bound.
  detail::reset_conv_parameters(weight, bias);
}

Tensor ConvNd::forward(const Tensor& input) {
  detail::check_conv_module_input(type_name(), spatial_, input, in_channels, weight);
  if (spatial_ == 1) return conv1d(input, weight, bias, stride, padding, dilation, groups);
  return conv2d(input, weight, bias, stride, padding, dilation, groups);
}

std::string ConvNd::extra_repr() const {
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << tuple_str(kernel_size)
     << ", stride=" << tuple_str(stride);
  if (!padding.mode.empty()) {
    os << ", padding=" << padding.mode;
  } else if (padding.values != std::vector<int64_t>(spatial_, 0)) {
    os << ", padding=" << tuple_str(padding.values);
  }
  if (dilation != std::vector<int64_t>(spatial_, 1)) os << ", dilation=" << tuple_str(dilation);
  if (groups != 1) os << ", groups=" << groups;
  if (!bias.defined()) os << ", bias=False";
  return os.str();
}

Conv1d::Conv1d(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size,
               ExpandingArray stride, ConvPadding padding, ExpandingArray dilation, int64_t groups,
               bool bias)
    : ConvNd("Conv1d", 1, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
             bias),
      options(Conv1dOptions(in_channels, out_channels, kernel_size)
                  .stride(stride)
                  .padding(padding)
                  .dilation(dilation)
                  .groups(groups)
                  .bias(bias)) {}

Conv1d::Conv1d(const Conv1dOptions& options)
    : Conv1d(options.in_channels(), options.out_channels(), options.kernel_size(), options.stride(),
             options.padding(), options.dilation(), options.groups(), options.bias()) {
  detail::check_padding_mode("Conv1d", options.padding_mode());
  this->options = options;
}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size,
               ExpandingArray stride, ConvPadding padding, ExpandingArray dilation, int64_t groups,
               bool bias)
    : ConvNd("Conv2d", 2, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
             bias),
      options(Conv2dOptions(in_channels, out_channels, kernel_size)
                  .stride(stride)
                  .padding(padding)
                  .dilation(dilation)
                  .groups(groups)
                  .bias(bias)) {}

Conv2d::Conv2d(const Conv2dOptions& options)
    : Conv2d(options.in_channels(), options.out_channels(), options.kernel_size(), options.stride(),
             options.padding(), options.dilation(), options.groups(), options.bias()) {
  detail::check_padding_mode("Conv2d", options.padding_mode());
  this->options = options;
}

}  // namespace minidl::nn
