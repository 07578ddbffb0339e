// Helpers shared by the multi-head attention modules (see projection.h).
#include "nn/attention/projection.h"

#include "core/factories.h"
#include "nn/init.h"
#include "ops/linalg.h"
#include "ops/reduction.h"

namespace minidl::nn::detail {

int64_t checked_head_dim(int64_t embed_dim, int64_t num_heads, const char* module) {
  MINIDL_CHECK(embed_dim > 0 && num_heads > 0, module,
               "embed_dim and num_heads must be positive, got embed_dim="
                   << embed_dim << ", num_heads=" << num_heads);
  MINIDL_CHECK(embed_dim % num_heads == 0, module,
               "embed_dim must be divisible by num_heads, got embed_dim="
                   << embed_dim << ", num_heads=" << num_heads);
  return embed_dim / num_heads;
}

void register_in_proj(Module& module, int64_t embed_dim, bool bias, Tensor& in_proj_weight,
                      Tensor& in_proj_bias) {
  in_proj_weight = module.register_parameter("in_proj_weight", empty({3 * embed_dim, embed_dim}));
  in_proj_bias =
      module.register_parameter("in_proj_bias", bias ? empty({3 * embed_dim}) : Tensor());
}

void reset_in_proj(const Tensor& in_proj_weight, const Tensor& in_proj_bias) {
  init::xavier_uniform_(in_proj_weight);
  if (in_proj_bias.defined()) init::zeros_(in_proj_bias);
}

Tensor with_batch(const Tensor& x, bool batched, bool batch_first) {
  return batched ? x : x.unsqueeze(batch_first ? 0 : 1);
}

Tensor split_heads(const Tensor& packed, int64_t n, int64_t i, int64_t num_heads,
                   bool batch_first) {
  const Shape& s = packed.shape();
  const int64_t head_dim = s[2] / (n * num_heads);
  Tensor heads = packed.view({s[0], s[1], n, num_heads, head_dim}).select(2, i);
  return batch_first ? heads.permute({0, 2, 1, 3}) : heads.permute({1, 2, 0, 3});
}

std::tuple<Tensor, Tensor, Tensor> project_packed_qkv(const Tensor& x, const Tensor& in_proj_weight,
                                                      const Tensor& in_proj_bias, int64_t num_heads,
                                                      bool batch_first) {
  const Tensor qkv = linear(x, in_proj_weight, in_proj_bias);  // [X, Y, 3E]
  return {split_heads(qkv, 3, 0, num_heads, batch_first),
          split_heads(qkv, 3, 1, num_heads, batch_first),
          split_heads(qkv, 3, 2, num_heads, batch_first)};
}

Tensor merge_heads(const Tensor& heads, bool batch_first) {
  const Shape& s = heads.shape();                                   // [B, H, T, D]
  const Tensor merged = batch_first ? heads.permute({0, 2, 1, 3})   // [B, T, H, D]
                                    : heads.permute({2, 0, 1, 3});  // [T, B, H, D]
  return merged.reshape({merged.size(0), merged.size(1), s[1] * s[3]});
}

Tensor returned_weights(const Tensor& weights, bool average, bool batched) {
  const Tensor w = average ? mean(weights, {1}) : weights;
  return batched ? w : w.squeeze(0);
}

}  // namespace minidl::nn::detail
