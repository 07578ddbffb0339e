// libtorch's mode tags for the functional API: torch::kConstant, torch::kReflect, ... are values
// of distinct empty types (torch::enumtype::kConstant, ...), and an option that takes a mode
// accepts any of the tags it supports and refuses the others at compile time:
//
//   F::pad(x, F::PadFuncOptions({1, 1}).mode(kReflect));
//   F::interpolate(x, F::InterpolateFuncOptions().scale_factor({2.0}).mode(kBilinear));
//   F::conv2d(x, w, F::Conv2dFuncOptions().padding(kSame));
//
// Each mode struct holds the name minidl's native op takes ("reflect", "bilinear", ...), and
// converts to it, so the layers' string options take the tags too.
// Reduction tags (kNone, kMean, kSum) are plain Reduction values (ops/loss.h); kBatchMean is in
// ops/kl_div.h.
#pragma once

#include <string>

#include "ops/conv.h"

namespace minidl {

namespace enumtype {

// A mode tag: an empty type holding the name minidl's native op takes. It also converts to that
// name, so a layer option that is a string takes the tag: Conv2dOptions(...).padding_mode(kZeros),
// UpsampleOptions().mode(kBilinear), RNNOptions(...).nonlinearity(kReLU),
// TransformerEncoderLayerOptions(...).activation(kGELU).
#define MINIDL_MODE_TAG(Tag, text)                                       \
  struct Tag {                                                           \
    static constexpr const char* name = text;                            \
    operator std::string() const { return name; } /* NOLINT: implicit */ \
  }
MINIDL_MODE_TAG(kConstant, "constant");
MINIDL_MODE_TAG(kReflect, "reflect");
MINIDL_MODE_TAG(kReplicate, "replicate");
MINIDL_MODE_TAG(kCircular, "circular");
MINIDL_MODE_TAG(kZeros, "zeros");
MINIDL_MODE_TAG(kNearest, "nearest");
MINIDL_MODE_TAG(kNearestExact, "nearest-exact");
MINIDL_MODE_TAG(kLinear, "linear");
MINIDL_MODE_TAG(kBilinear, "bilinear");
MINIDL_MODE_TAG(kReLU, "relu");
MINIDL_MODE_TAG(kTanh, "tanh");
MINIDL_MODE_TAG(kGELU, "gelu");
#undef MINIDL_MODE_TAG

// A convolution's padding "same" / "valid" (ops/conv.h's ConvPadding takes the tag too).
struct kSame {
  static constexpr const char* name = "same";
  operator ConvPadding() const { return ConvPadding(name); }  // NOLINT: implicit, as libtorch's
};
// A convolution's padding "valid": no padding.
struct kValid {
  static constexpr const char* name = "valid";
  operator ConvPadding() const { return ConvPadding(name); }  // NOLINT
};
}  // namespace enumtype

inline constexpr enumtype::kConstant kConstant{};
inline constexpr enumtype::kReflect kReflect{};
inline constexpr enumtype::kReplicate kReplicate{};
inline constexpr enumtype::kCircular kCircular{};
inline constexpr enumtype::kZeros kZeros{};
inline constexpr enumtype::kNearest kNearest{};
inline constexpr enumtype::kNearestExact kNearestExact{};
inline constexpr enumtype::kLinear kLinear{};
inline constexpr enumtype::kBilinear kBilinear{};
inline constexpr enumtype::kReLU kReLU{};
inline constexpr enumtype::kTanh kTanh{};
inline constexpr enumtype::kGELU kGELU{};
inline constexpr enumtype::kSame kSame{};
inline constexpr enumtype::kValid kValid{};

namespace nn::functional {

// F::pad's mode: kConstant (the default), kReflect, kReplicate or kCircular.
struct PadMode {
  PadMode(enumtype::kConstant) : name(enumtype::kConstant::name) {}    // NOLINT: implicit
  PadMode(enumtype::kReflect) : name(enumtype::kReflect::name) {}      // NOLINT
  PadMode(enumtype::kReplicate) : name(enumtype::kReplicate::name) {}  // NOLINT
  PadMode(enumtype::kCircular) : name(enumtype::kCircular::name) {}    // NOLINT
  const char* name;
};

// F::interpolate's mode: kNearest (the default), kNearestExact, kLinear or kBilinear.
struct InterpolateMode {
  InterpolateMode(enumtype::kNearest) : name(enumtype::kNearest::name) {}  // NOLINT: implicit
  InterpolateMode(enumtype::kNearestExact)                                 // NOLINT
      : name(enumtype::kNearestExact::name) {}
  InterpolateMode(enumtype::kLinear) : name(enumtype::kLinear::name) {}      // NOLINT
  InterpolateMode(enumtype::kBilinear) : name(enumtype::kBilinear::name) {}  // NOLINT
  const char* name;
};

}  // namespace nn::functional

}  // namespace minidl
