#include "models/multimodal/multimodal_attention.h"

#include <sstream>

#include "core/error.h"
#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"
#include "ops/shape_ops.h"

namespace minidl::models {

MultimodalAttentionVqa::MultimodalAttentionVqa(const MultimodalAttentionOptions& options)
    : Module("MultimodalAttentionVqa"), options_(options) {
  const auto& o = options;
  MINIDL_CHECK(o.use_text || o.use_image, "MultimodalAttentionVqa",
               "needs the text branch, the image branch or both");
  MINIDL_CHECK(!o.use_text || o.vocab_size > 1, "MultimodalAttentionVqa",
               "the text branch needs a vocabulary of at least 2 words, got " << o.vocab_size);
  MINIDL_CHECK(o.embedding_dim > 0 && o.hidden_size > 0 && o.channels1 > 0 && o.channels2 > 0 &&
                   o.d_model > 0 && o.heads > 0 && o.dim_feedforward > 0 &&
                   o.d_model % o.heads == 0,
               "MultimodalAttentionVqa",
               "sizes must be positive and d_model divisible by heads, got embedding_dim "
                   << o.embedding_dim << ", hidden_size " << o.hidden_size << ", channels "
                   << o.channels1 << "/" << o.channels2 << ", d_model " << o.d_model << ", heads "
                   << o.heads << ", dim_feedforward " << o.dim_feedforward);
  const int64_t D = o.d_model;
  if (o.use_text) {
    embedding =
        register_module("embedding", std::make_shared<nn::Embedding>(o.vocab_size, o.embedding_dim,
                                                                     /*padding_idx=*/0));
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(o.embedding_dim, o.hidden_size, 1,
                                                              true, /*batch_first=*/true));
    text_projection =
        register_module("text_projection", std::make_shared<nn::Linear>(o.hidden_size, D));
  }
  if (o.use_image) {
    conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(1, o.channels1, 3, 1, 1));
    conv2 =
        register_module("conv2", std::make_shared<nn::Conv2d>(o.channels1, o.channels2, 3, 1, 1));
    pool = register_module("pool", std::make_shared<nn::MaxPool2d>(2));
    image_projection =
        register_module("image_projection", std::make_shared<nn::Linear>(o.channels2, D));
    image_positions = register_parameter("image_positions", randn({1, kImageTokens, D}) * 0.02);
  }
  nn::MultiheadAttentionOptions mha(D, o.heads);
  mha.batch_first(true);
  mha.dropout(o.dropout);
  attention = register_module("attention", std::make_shared<nn::MultiheadAttention>(mha));
  norm1 = register_module("norm1", std::make_shared<nn::LayerNorm>(D));
  norm2 = register_module("norm2", std::make_shared<nn::LayerNorm>(D));
  question_norm = register_module("question_norm", std::make_shared<nn::BatchNorm1d>(D));
  context_norm = register_module("context_norm", std::make_shared<nn::BatchNorm1d>(D));
  feedforward1 =
      register_module("feedforward1", std::make_shared<nn::Linear>(D, o.dim_feedforward));
  feedforward2 =
      register_module("feedforward2", std::make_shared<nn::Linear>(o.dim_feedforward, D));
  hidden = register_module("hidden", std::make_shared<nn::Linear>(2 * D, D));
  classifier = register_module("classifier", std::make_shared<nn::Linear>(D, 2));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(o.dropout));
}

std::string MultimodalAttentionVqa::extra_repr() const {
  std::ostringstream s;
  s << "text=" << (options_.use_text ? "true" : "false")
    << ", image=" << (options_.use_image ? "true" : "false") << ", d_model=" << options_.d_model
    << ", heads=" << options_.heads;
  return s.str();
}

Tensor MultimodalAttentionVqa::encode_text(const Tensor& ids, const std::vector<int64_t>& lengths) {
  const int64_t steps = ids.size(1);
  Tensor embedded = (*embedding)(ids);  // [B, T, E]
  nn::PackedSequence packed = nn::pack_padded_sequence(embedded, lengths, true, false);
  Tensor states =
      nn::pad_packed_sequence(lstm->forward(packed).first, true, 0.0, steps).first;  // [B, T, H]
  return (*text_projection)(states);
}

Tensor MultimodalAttentionVqa::encode_image(const Tensor& images) {
  Tensor features = (*pool)(relu((*conv1)(images)));   // [B, C1, 14, 14]
  features = (*pool)(relu((*conv2)(features)));        // [B, C2, 7, 7]
  Tensor cells = features.flatten(2).transpose(1, 2);  // [B, 49, C2]
  return (*image_projection)(cells) + image_positions;
}

VqaOutput MultimodalAttentionVqa::answer(const Tensor& images, const Tensor& ids,
                                         const std::vector<int64_t>& lengths) {
  const char* op = "MultimodalAttentionVqa";
  int64_t batch = -1, steps = 0;
  if (options_.use_text) {
    MINIDL_CHECK(ids.defined() && ids.dim() == 2 && ids.dtype() == kInt64 && ids.size(0) > 0 &&
                     ids.size(1) > 0,
                 op,
                 "ids must be non-empty int64 [B, T], got "
                     << (ids.defined() ? shape_str(ids.shape()) : "undefined"));
    batch = ids.size(0);
    steps = ids.size(1);
    MINIDL_CHECK(static_cast<int64_t>(lengths.size()) == batch, op,
                 "expected " << batch << " lengths for ids of shape " << shape_str(ids.shape())
                             << ", got " << lengths.size());
    for (int64_t b = 0; b < batch; ++b)
      MINIDL_CHECK(lengths[b] >= 1 && lengths[b] <= steps, op,
                   "length " << lengths[b] << " of row " << b << " is out of range [1, " << steps
                             << "] for ids of shape " << shape_str(ids.shape()));
  }
  if (options_.use_image) {
    MINIDL_CHECK(
        images.defined() && images.dim() == 4 && images.size(1) == 1 && images.size(2) == 28 &&
            images.size(3) == 28 && images.size(0) > 0 && (batch < 0 || images.size(0) == batch),
        op,
        "expected images [" << (batch < 0 ? std::string("B") : std::to_string(batch))
                            << ", 1, 28, 28], got "
                            << (images.defined() ? shape_str(images.shape()) : "undefined"));
    batch = images.size(0);
  }

  // keys: the T text tokens (padding masked), then the 49 image cells.
  std::vector<Tensor> memory;
  const int64_t image_keys = options_.use_image ? kImageTokens : 0;
  std::vector<int64_t> padded(static_cast<size_t>(batch * (steps + image_keys)), 0);
  if (options_.use_text) {
    memory.push_back(encode_text(ids, lengths));
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = lengths[b]; t < steps; ++t) padded[b * (steps + image_keys) + t] = 1;
  }
  if (options_.use_image) memory.push_back(encode_image(images));
  Tensor keys = memory.size() == 1 ? memory[0] : cat(memory, 1);  // [B, S, D]
  Tensor key_padding_mask =
      from_vector(padded, {batch, steps + image_keys}, kInt64).to(kBool);  // true = padding

  // The queries: the question's tokens, or the image's cells when there is no question.
  Tensor queries = memory[0];
  Tensor query_weights;  // [B, L, 1]: 1 / (real queries) on real ones, 0 on padding
  if (options_.use_text) {
    std::vector<float> weights(static_cast<size_t>(batch * steps), 0.0f);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < lengths[b]; ++t)
        weights[b * steps + t] = 1.0f / static_cast<float>(lengths[b]);
    query_weights = from_vector(weights, {batch, steps, 1});
  } else {
    query_weights = full({batch, kImageTokens, 1}, 1.0 / static_cast<double>(kImageTokens));
  }

  nn::AttentionOutput attended = (*attention)(queries, keys, keys, key_padding_mask);
  Tensor x = (*norm1)(queries + (*dropout)(attended.output));  // [B, L, D]
  x = (*norm2)(x + (*dropout)((*feedforward2)(relu((*feedforward1)(x)))));
  // Means over the real queries [B, D]: the block's output, the queries themselves and what they
  // read; the product of the last two, each centred over the batch, is the fusion (see the
  // header for why).
  Tensor pooled = sum(x * query_weights, {1});
  Tensor question = sum(queries * query_weights, {1});
  Tensor context = sum(attended.output * query_weights, {1});
  Tensor fused =
      cat({pooled, (*question_norm)(question) * (*context_norm)(context)}, 1);  // [B, 2D]
  return {(*classifier)((*dropout)(relu((*hidden)(fused)))), attended.weights};
}

}  // namespace minidl::models
