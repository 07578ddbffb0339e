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
}  // namespace

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim,
                     std::optional<int64_t> padding_idx)
    : Module("Embedding"), num_embeddings(num_embeddings), embedding_dim(embedding_dim) {
  MINIDL_CHECK(num_embeddings >= 0 && embedding_dim >= 0, "Embedding",
               "num_embeddings and embedding_dim must be non-negative, got "
                   << num_embeddings << " and " << embedding_dim);
  this->padding_idx = normalize_padding_idx(padding_idx, num_embeddings);
  weight = register_parameter("weight", empty({num_embeddings, embedding_dim}));
  reset_parameters();
}

void Embedding::reset_parameters() {
  init::normal_(weight);
  if (padding_idx) {
    NoGradGuard no_grad;
    weight.select(0, *padding_idx).fill_(0.0);
  }
}

Embedding::Embedding(const Tensor& weight, std::optional<int64_t> padding_idx, bool requires_grad)
    : Module("Embedding"), num_embeddings(weight.size(0)), embedding_dim(weight.size(1)) {
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
