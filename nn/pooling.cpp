#include "nn/pooling.h"

#include <sstream>

namespace minidl::nn {

namespace {
// An argument as PyTorch prints it: "2" for an int, "(2, 3)" for a tuple.
std::string arg_str(const ExpandingArray& a) {
  return a.values.size() == 1 ? std::to_string(a.values[0]) : tuple_str(a.values);
}
const char* bool_str(bool b) {
  return b ? "True" : "False";
}
}  // namespace

MaxPool2d::MaxPool2d(ExpandingArray kernel_size, ExpandingArray stride, ExpandingArray padding,
                     ExpandingArray dilation, bool return_indices, bool ceil_mode)
    : Module("MaxPool2d"),
      options(MaxPool2dOptions(kernel_size)
                  .stride(stride.empty() ? kernel_size : stride)
                  .padding(padding)
                  .dilation(dilation)
                  .ceil_mode(ceil_mode)),
      kernel_size(std::move(kernel_size)),
      stride(stride.empty() ? this->kernel_size : std::move(stride)),
      padding(std::move(padding)),
      dilation(std::move(dilation)),
      return_indices(return_indices),
      ceil_mode(ceil_mode) {
  this->kernel_size.expand(2, "MaxPool2d", "kernel_size");
  this->stride.expand(2, "MaxPool2d", "stride");
  this->padding.expand(2, "MaxPool2d", "padding");
  this->dilation.expand(2, "MaxPool2d", "dilation");
}

Tensor MaxPool2d::forward(const Tensor& input) {
  return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode);
}

std::pair<Tensor, Tensor> MaxPool2d::forward_with_indices(const Tensor& input) {
  return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode);
}

std::string MaxPool2d::extra_repr() const {
  std::ostringstream os;
  os << "kernel_size=" << arg_str(kernel_size) << ", stride=" << arg_str(stride)
     << ", padding=" << arg_str(padding) << ", dilation=" << arg_str(dilation)
     << ", ceil_mode=" << bool_str(ceil_mode);
  return os.str();
}

MaxPool2d::MaxPool2d(const MaxPool2dOptions& options)
    : MaxPool2d(options.kernel_size(), options.stride(), options.padding(), options.dilation(),
                false, options.ceil_mode()) {}

AvgPool2d::AvgPool2d(ExpandingArray kernel_size, ExpandingArray stride, ExpandingArray padding,
                     bool ceil_mode, bool count_include_pad, int64_t divisor_override)
    : Module("AvgPool2d"),
      options(AvgPool2dOptions(kernel_size)
                  .stride(stride.empty() ? kernel_size : stride)
                  .padding(padding)
                  .ceil_mode(ceil_mode)
                  .count_include_pad(count_include_pad)
                  .divisor_override(divisor_override != 0 ? std::optional<int64_t>(divisor_override)
                                                          : std::nullopt)),
      kernel_size(std::move(kernel_size)),
      stride(stride.empty() ? this->kernel_size : std::move(stride)),
      padding(std::move(padding)),
      ceil_mode(ceil_mode),
      count_include_pad(count_include_pad),
      divisor_override(divisor_override) {
  this->kernel_size.expand(2, "AvgPool2d", "kernel_size");
  this->stride.expand(2, "AvgPool2d", "stride");
  this->padding.expand(2, "AvgPool2d", "padding");
}

Tensor AvgPool2d::forward(const Tensor& input) {
  return avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override);
}

std::string AvgPool2d::extra_repr() const {
  return "kernel_size=" + arg_str(kernel_size) + ", stride=" + arg_str(stride) +
         ", padding=" + arg_str(padding);
}

AvgPool2d::AvgPool2d(const AvgPool2dOptions& options)
    : AvgPool2d(options.kernel_size(), options.stride(), options.padding(), options.ceil_mode(),
                options.count_include_pad(), options.divisor_override().value_or(0)) {
  MINIDL_CHECK(!options.divisor_override() || *options.divisor_override() != 0, "AvgPool2d",
               "divisor_override must be non-zero, got 0");
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(ExpandingArray output_size)
    : Module("AdaptiveAvgPool2d"), options(output_size), output_size(std::move(output_size)) {
  this->output_size.expand(2, "AdaptiveAvgPool2d", "output_size");
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
  return adaptive_avg_pool2d(input, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const {
  return "output_size=" + arg_str(output_size);
}

}  // namespace minidl::nn
