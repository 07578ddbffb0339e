// What every attention module in nn/attention/ shares: the (output, weights) result and the
// key-padding-mask convention.
//
// Masks: a `key_padding_mask` is bool [B, Tk] with true = padded key (excluded), as in
// torch.nn.MultiheadAttention. Scores are normalized with masked_softmax (ops/softmax.h), so a
// query whose every key is excluded gets all-zero weights and output, never NaN.
#pragma once

#include <tuple>
#include <utility>

#include "core/error.h"
#include "core/tensor.h"

namespace minidl::nn {

// An attention module's result: the context vectors and, when computed, the weights.
struct AttentionOutput {
  AttentionOutput() = default;
  AttentionOutput(Tensor output, Tensor weights)
      : output(std::move(output)), weights(std::move(weights)) {}
  // From the (output, weights) tuple that nn::MultiheadAttention returns (libtorch's call shape).
  AttentionOutput(std::tuple<Tensor, Tensor> result)  // NOLINT: implicit, a view of the same pair
      : output(std::move(std::get<0>(result))), weights(std::move(std::get<1>(result))) {}

  Tensor output;   // the attended values (context vectors)
  Tensor weights;  // the attention weights, for heat maps; undefined when not materialized
};

// Checks an optional key padding mask: undefined, or bool of shape [batch, keys].
inline void check_key_padding_mask(const Tensor& mask, int64_t batch, int64_t keys,
                                   const char* op) {
  if (!mask.defined()) return;
  MINIDL_CHECK(mask.dtype() == kBool, op,
               "key_padding_mask must be bool (true = padded), got " << mask.dtype() << " of shape "
                                                                     << shape_str(mask.shape()));
  MINIDL_CHECK(mask.shape() == Shape({batch, keys}), op,
               "key_padding_mask has shape " << shape_str(mask.shape()) << ", expected [" << batch
                                             << ", " << keys << "] (batch, keys)");
}

}  // namespace minidl::nn
