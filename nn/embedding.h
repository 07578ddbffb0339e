// Embedding (torch.nn.Embedding): a lookup table weight [num_embeddings, embedding_dim],
// initialized N(0, 1), indexed by int64 tensors of any shape: [*] -> [*, embedding_dim].
#pragma once

#include <memory>
#include <optional>

#include "core/arg.h"
#include "nn/module.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's. minidl has no max-norm renormalization, no
// frequency-scaled gradients and no sparse gradients: max_norm set, scale_grad_by_freq(true) or
// sparse(true) are errors at construction. _weight: a [num_embeddings, embedding_dim] tensor whose
// values the weight starts from (instead of N(0, 1)).
struct EmbeddingOptions {
  EmbeddingOptions(int64_t num_embeddings, int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  MINIDL_ARG(int64_t, num_embeddings);
  MINIDL_ARG(int64_t, embedding_dim);
  MINIDL_ARG(std::optional<int64_t>, padding_idx) = std::nullopt;
  MINIDL_ARG(std::optional<double>, max_norm) = std::nullopt;
  MINIDL_ARG(double, norm_type) = 2.0;
  MINIDL_ARG(bool, scale_grad_by_freq) = false;
  MINIDL_ARG(bool, sparse) = false;
  MINIDL_ARG(Tensor, _weight) = Tensor();
};

// The options of Embedding::from_pretrained (same restrictions as EmbeddingOptions).
struct EmbeddingFromPretrainedOptions {
  MINIDL_ARG(bool, freeze) = true;
  MINIDL_ARG(std::optional<int64_t>, padding_idx) = std::nullopt;
  MINIDL_ARG(std::optional<double>, max_norm) = std::nullopt;
  MINIDL_ARG(double, norm_type) = 2.0;
  MINIDL_ARG(bool, scale_grad_by_freq) = false;
  MINIDL_ARG(bool, sparse) = false;
};

// torch.nn.Embedding: weight [num_embeddings, embedding_dim] ~ N(0, 1); forward(int64 indices
// [*]) -> [*, embedding_dim]; an index out of range is an error.
class Embedding : public Module {
 public:
  // padding_idx: that row is initialized to zeros and never receives a gradient (so it stays
  // as it is under training). Negative values count from the end, as in PyTorch.
  Embedding(int64_t num_embeddings, int64_t embedding_dim,
            std::optional<int64_t> padding_idx = std::nullopt);
  explicit Embedding(const EmbeddingOptions& options);
  // A layer holding a copy of `embeddings` [num, dim]; frozen (requires_grad false) by default.
  static std::shared_ptr<Embedding> from_pretrained(
      const Tensor& embeddings, const EmbeddingFromPretrainedOptions& options = {});
  static std::shared_ptr<Embedding> from_pretrained(
      const Tensor& embeddings, bool freeze, std::optional<int64_t> padding_idx = std::nullopt);

  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  // "10, 3, padding_idx=0"
  void reset_parameters();

  EmbeddingOptions options;
  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;  // normalized to [0, num_embeddings)
  Tensor weight;

 private:
  // Holds `weight` as it is (no random initialization: from_pretrained draws nothing).
  Embedding(const Tensor& weight, std::optional<int64_t> padding_idx, bool requires_grad);
};

}  // namespace minidl::nn
