#include "nn/upsample.h"

#include "nn/activation.h"
#include "ops/conv.h"

namespace minidl::nn {

Upsample::Upsample(std::vector<int64_t> size, std::vector<double> scale_factor, std::string mode,
                   std::optional<bool> align_corners, bool recompute_scale_factor)
    : Module("Upsample"),
      options(UpsampleOptions()
                  .size(size.empty() ? std::nullopt : std::optional<std::vector<int64_t>>(size))
                  .scale_factor(scale_factor.empty()
                                    ? std::nullopt
                                    : std::optional<std::vector<double>>(scale_factor))
                  .mode(mode)
                  .align_corners(align_corners)),
      size(std::move(size)),
      scale_factor(std::move(scale_factor)),
      mode(std::move(mode)),
      align_corners(align_corners),
      recompute_scale_factor(recompute_scale_factor) {
  MINIDL_CHECK(this->size.empty() != this->scale_factor.empty(), "Upsample",
               "exactly one of size and scale_factor should be defined, got "
                   << this->size.size() << " size values and " << this->scale_factor.size()
                   << " scale_factor values");
  MINIDL_CHECK(
      this->mode == "nearest" || this->mode == "nearest-exact" || this->mode == "linear" ||
          this->mode == "bilinear",
      "Upsample",
      "mode '" << this->mode << "' is not supported (nearest, nearest-exact, linear, bilinear)");
}

Upsample::Upsample(const UpsampleOptions& options)
    : Upsample(options.size().value_or(std::vector<int64_t>{}),
               options.scale_factor().value_or(std::vector<double>{}), options.mode(),
               options.align_corners()) {}

Tensor Upsample::forward(const Tensor& input) {
  MINIDL_CHECK(input.defined(), "Upsample", "input is undefined");
  return interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor);
}

std::string Upsample::extra_repr() const {
  std::string info;
  if (!scale_factor.empty()) {
    info = "scale_factor=";
    if (scale_factor.size() == 1) {
      info += python_float(scale_factor[0]);
    } else {
      info += "(";
      for (size_t i = 0; i < scale_factor.size(); ++i)
        info += (i ? ", " : "") + python_float(scale_factor[i]);
      info += ")";
    }
  } else {
    info = "size=" + (size.size() == 1 ? std::to_string(size[0]) : tuple_str(size));
  }
  return info + ", mode=" + mode;
}

}  // namespace minidl::nn
