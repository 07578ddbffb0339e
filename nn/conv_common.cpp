#include "nn/conv_common.h"

#include <cmath>

#include "core/error.h"
#include "nn/init.h"
#include "ops/conv.h"

namespace minidl::nn::detail {

void check_padding_mode(const char* name, const std::string& padding_mode) {
  MINIDL_CHECK(padding_mode == "zeros", name,
               "padding_mode '" << padding_mode
                                << "' is not supported (minidl's convolutions pad with zeros "
                                   "only; use padding_mode \"zeros\")");
}

void check_conv_module_args(
    const char* name, int64_t in_channels, int64_t out_channels, int64_t groups,
    const std::vector<int64_t>& kernel_size, const std::vector<int64_t>& stride,
    const std::vector<int64_t>& dilation,
    std::initializer_list<std::pair<const char*, const std::vector<int64_t>*>> non_negative) {
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
  for (size_t d = 0; d < kernel_size.size(); ++d) {
    MINIDL_CHECK(kernel_size[d] > 0, name,
                 "kernel_size must be positive, got " << tuple_str(kernel_size));
    MINIDL_CHECK(stride[d] > 0, name, "stride must be positive, got " << tuple_str(stride));
    MINIDL_CHECK(dilation[d] > 0, name, "dilation must be positive, got " << tuple_str(dilation));
    for (const auto& [what, values] : non_negative)
      MINIDL_CHECK((*values)[d] >= 0, name,
                   what << " must be non-negative, got " << tuple_str(*values));
  }
}

void check_conv_module_input(const std::string& name, size_t spatial, const Tensor& input,
                             int64_t in_channels, const Tensor& weight) {
  const int64_t sp = static_cast<int64_t>(spatial);
  MINIDL_CHECK(input.dim() == sp + 1 || input.dim() == sp + 2, name,
               "expected a " << sp + 1 << "-D (unbatched) or " << sp + 2
                             << "-D (batched) input, got shape " << shape_str(input.shape()));
  const int64_t channels = input.size(input.dim() - sp - 1);
  MINIDL_CHECK(
      channels == in_channels, name,
      "expected input with " << in_channels << " channels, got shape " << shape_str(input.shape()));
  MINIDL_CHECK(input.dtype() == weight.dtype(), name,
               "input dtype " << input.dtype() << " (shape " << shape_str(input.shape())
                              << ") differs from the weight dtype " << weight.dtype());
}

void reset_conv_parameters(Tensor& weight, Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double fan_in = static_cast<double>(init::calculate_fan_in_and_fan_out(weight).first);
    const double bound = 1.0 / std::sqrt(fan_in);
    init::uniform_(bias, -bound, bound);
  }
}

}  // namespace minidl::nn::detail
