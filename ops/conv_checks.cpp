#include "ops/conv_checks.h"

#include "core/error.h"

namespace minidl::detail {

bool check_conv_operands(const char* op, size_t spatial, const Tensor& input, const Tensor& weight,
                         const char* weight_layout, int64_t groups) {
  const int64_t sp = static_cast<int64_t>(spatial);
  MINIDL_CHECK(input.defined() && weight.defined(), op, "input and weight must be defined");
  MINIDL_CHECK(input.dim() == sp + 1 || input.dim() == sp + 2, op,
               "expected a " << sp + 1 << "-D (unbatched) or " << sp + 2
                             << "-D (batched) input, got shape " << shape_str(input.shape()));
  MINIDL_CHECK(weight.dim() == sp + 2, op,
               "expected a " << sp + 2 << "-D weight " << weight_layout << ", got shape "
                             << shape_str(weight.shape()));
  MINIDL_CHECK(input.is_floating_point() && input.dtype() == weight.dtype(), op,
               "input and weight must have the same floating dtype, got "
                   << input.dtype() << " input " << shape_str(input.shape()) << " and "
                   << weight.dtype() << " weight " << shape_str(weight.shape()));
  MINIDL_CHECK(groups > 0, op, "groups must be positive, got " << groups);
  MINIDL_CHECK(weight.numel() > 0, op,
               "weight must not be empty, got shape " << shape_str(weight.shape()));
  return input.dim() == sp + 2;
}

void check_conv_bias(const char* op, const Tensor& bias, const Tensor& weight, int64_t channels) {
  if (!bias.defined()) return;
  MINIDL_CHECK(bias.dim() == 1 && bias.size(0) == channels, op,
               "expected bias of shape [" << channels << "], got " << shape_str(bias.shape()));
  MINIDL_CHECK(bias.dtype() == weight.dtype(), op,
               "bias dtype " << bias.dtype() << " differs from weight dtype " << weight.dtype());
}

}  // namespace minidl::detail
