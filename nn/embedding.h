// Embedding (torch.nn.Embedding): a lookup table weight [num_embeddings, embedding_dim],
// initialized N(0, 1), indexed by int64 tensors of any shape: [*] -> [*, embedding_dim].
#pragma once

#include <memory>
#include <optional>

#include "nn/module.h"

namespace minidl::nn {

class Embedding : public Module {
 public:
  // padding_idx: that row is initialized to zeros and never receives a gradient (so it stays
  // as it is under training). Negative values count from the end, as in PyTorch.
  Embedding(int64_t num_embeddings, int64_t embedding_dim,
            std::optional<int64_t> padding_idx = std::nullopt);
  // A layer holding a copy of `embeddings` [num, dim]; frozen (requires_grad false) by default.
  static std::shared_ptr<Embedding> from_pretrained(
      const Tensor& embeddings, bool freeze = true,
      std::optional<int64_t> padding_idx = std::nullopt);

  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "10, 3, padding_idx=0"
  void reset_parameters();

  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;  // normalized to [0, num_embeddings)
  Tensor weight;

 private:
  // Holds `weight` as it is (no random initialization: from_pretrained draws nothing).
  Embedding(const Tensor& weight, std::optional<int64_t> padding_idx, bool requires_grad);
};

}  // namespace minidl::nn
