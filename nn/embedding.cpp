#include "nn/embedding.h"

#include "core/autograd.h"
#include "nn/init.h"
#include "ops/index_ops.h"

namespace minidl::nn {

namespace {
std::optional<int64_t> normalize_padding_idx(std::optional<int64_t> padding_idx,
                                             int64_t num_embeddings) {
  if (!padding_idx) return padding_idx;
  MINIDL_CHECK(*padding_idx < num_embeddings && *padding_idx >= -num_embeddings, "Embedding",
               "padding_idx " << *padding_idx << " must be within num_embeddings " << num_embeddings
                              << " (in [" << -num_embeddings << ", " << num_embeddings << "))");
  return *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
}

// Errors naming `op` for the options minidl's embedding cannot honour.
void check_supported(const char* op, const std::optional<double>& max_norm, bool scale_grad_by_freq,
                     bool sparse) {
  MINIDL_CHECK(
      !max_norm, op,
      "max_norm=" << *max_norm << " is not supported (minidl does not renormalize embedding rows)");
  MINIDL_CHECK(!scale_grad_by_freq, op,
               "scale_grad_by_freq=true is not supported (gradients are not scaled by frequency)");
  MINIDL_CHECK(!sparse, op, "sparse=true is not supported (minidl has dense gradients only)");
}
}  // namespace

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim,
                     std::optional<int64_t> padding_idx)
    : Module("Embedding"),
      options(EmbeddingOptions(num_embeddings, embedding_dim).padding_idx(padding_idx)),
      num_embeddings(num_embeddings),
      embedding_dim(embedding_dim) {
  MINIDL_CHECK(num_embeddings >= 0 && embedding_dim >= 0, "Embedding",
               "num_embeddings and embedding_dim must be non-negative, got "
                   << num_embeddings << " and " << embedding_dim);
  this->padding_idx = normalize_padding_idx(padding_idx, num_embeddings);
  weight = register_parameter("weight", empty({num_embeddings, embedding_dim}));
  reset_parameters();
}

Embedding::Embedding(const EmbeddingOptions& options)
    : Embedding(options.num_embeddings(), options.embedding_dim(), options.padding_idx()) {
  check_supported("Embedding", options.max_norm(), options.scale_grad_by_freq(), options.sparse());
  const Tensor& initial = options._weight();
  if (initial.defined()) {
    MINIDL_CHECK(initial.shape() == Shape({num_embeddings, embedding_dim}), "Embedding",
                 "_weight must have shape [" << num_embeddings << ", " << embedding_dim << "], got "
                                             << shape_str(initial.shape()));
    NoGradGuard no_grad;
    weight.copy_(initial);
  }
  this->options = options;
}

void Embedding::reset_parameters() {
  init::normal_(weight);
  if (padding_idx) {
    NoGradGuard no_grad;
    weight.select(0, *padding_idx).fill_(0.0);
  }
}

Embedding::Embedding(const Tensor& weight, std::optional<int64_t> padding_idx, bool requires_grad)
    : Module("Embedding"),
      options(EmbeddingOptions(weight.size(0), weight.size(1)).padding_idx(padding_idx)),
      num_embeddings(weight.size(0)),
      embedding_dim(weight.size(1)) {
  this->padding_idx = normalize_padding_idx(padding_idx, num_embeddings);
  this->weight = register_parameter("weight", weight.detach().clone(), requires_grad);
}

std::shared_ptr<Embedding> Embedding::from_pretrained(const Tensor& embeddings, bool freeze,
                                                      std::optional<int64_t> padding_idx) {
  MINIDL_CHECK(embeddings.defined() && embeddings.dim() == 2, "Embedding::from_pretrained",
               "embeddings must be 2-D [num_embeddings, embedding_dim], got shape "
                   << (embeddings.defined() ? shape_str(embeddings.shape()) : "undefined"));
  MINIDL_CHECK(embeddings.is_floating_point(), "Embedding::from_pretrained",
               "embeddings must be floating-point, got " << embeddings.dtype());
  return std::shared_ptr<Embedding>(new Embedding(embeddings, padding_idx, !freeze));
}

std::shared_ptr<Embedding> Embedding::from_pretrained(
    const Tensor& embeddings, const EmbeddingFromPretrainedOptions& options) {
  check_supported("Embedding::from_pretrained", options.max_norm(), options.scale_grad_by_freq(),
                  options.sparse());
  return from_pretrained(embeddings, options.freeze(), options.padding_idx());
}

Tensor Embedding::forward(const Tensor& input) {
  MINIDL_CHECK(input.defined(), "Embedding", "input is undefined");
  MINIDL_CHECK(
      input.dtype() == kInt64, "Embedding",
      "expected int64 indices, got " << input.dtype() << " of shape " << shape_str(input.shape()));
  return embedding(weight, input, padding_idx.value_or(-1));
}

std::string Embedding::extra_repr() const {
  std::string s = std::to_string(num_embeddings) + ", " + std::to_string(embedding_dim);
  if (padding_idx) s += ", padding_idx=" + std::to_string(*padding_idx);
  return s;
}

}  // namespace minidl::nn
