// The Transformer-encoder word classifier (masked mean pooling) and its language-ID configuration.
#include "models/transformer_classifier.h"

#include <sstream>

#include "core/error.h"
#include "core/factories.h"
#include "nn/data.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"

namespace minidl::models {

TransformerClassifier::TransformerClassifier(int64_t vocab_size, int64_t num_classes,
                                             int64_t d_model, int64_t nhead, int64_t num_layers,
                                             int64_t dim_feedforward, double dropout,
                                             int64_t max_length)
    : WordClassifier("TransformerClassifier"),
      vocab_size(vocab_size),
      num_classes(num_classes),
      d_model(d_model),
      nhead(nhead),
      num_layers(num_layers),
      dim_feedforward(dim_feedforward),
      max_length(max_length) {
  MINIDL_CHECK(vocab_size > 0 && num_classes > 0 && d_model > 0 && nhead > 0 && num_layers > 0 &&
                   dim_feedforward > 0 && max_length > 0,
               "TransformerClassifier",
               "sizes must be positive, got vocab_size "
                   << vocab_size << ", num_classes " << num_classes << ", d_model " << d_model
                   << ", nhead " << nhead << ", num_layers " << num_layers << ", dim_feedforward "
                   << dim_feedforward << ", max_length " << max_length);
  embedding = register_module(
      "embedding", std::make_shared<nn::Embedding>(vocab_size, d_model, nn::Vocab::kPad));
  positional = register_module("positional", std::make_shared<nn::SinusoidalPositionalEncoding>(
                                                 d_model, max_length, dropout, true));
  nn::TransformerEncoderLayerOptions layer(d_model, nhead);
  layer.dim_feedforward = dim_feedforward;
  layer.dropout = dropout;
  layer.batch_first = true;
  encoder = register_module("encoder", std::make_shared<nn::TransformerEncoder>(layer, num_layers));
  classifier = register_module("classifier", std::make_shared<nn::Linear>(d_model, num_classes));
}

std::string TransformerClassifier::extra_repr() const {
  std::ostringstream s;
  s << "vocab_size=" << vocab_size << ", num_classes=" << num_classes << ", d_model=" << d_model
    << ", nhead=" << nhead << ", num_layers=" << num_layers
    << ", dim_feedforward=" << dim_feedforward << ", max_length=" << max_length;
  return s.str();
}

std::pair<Tensor, Tensor> TransformerClassifier::classify(const Tensor& ids,
                                                          const std::vector<int64_t>& lengths) {
  MINIDL_CHECK(ids.defined() && ids.dim() == 2 && ids.dtype() == kInt64 && ids.size(0) > 0 &&
                   ids.size(1) > 0 && ids.size(1) <= max_length,
               "TransformerClassifier",
               "ids must be non-empty int64 [B, T] with T <= max_length "
                   << max_length << ", got "
                   << (ids.defined() ? shape_str(ids.shape()) : "undefined"));
  const int64_t batch = ids.size(0), steps = ids.size(1);
  MINIDL_CHECK(static_cast<int64_t>(lengths.size()) == batch, "TransformerClassifier",
               "expected " << batch << " lengths for ids of shape " << shape_str(ids.shape())
                           << ", got " << lengths.size());
  std::vector<float> alpha(static_cast<size_t>(batch * steps), 0.0f);
  std::vector<int64_t> padded(static_cast<size_t>(batch * steps), 1);
  for (int64_t b = 0; b < batch; ++b) {
    MINIDL_CHECK(lengths[b] >= 1 && lengths[b] <= steps, "TransformerClassifier",
                 "length " << lengths[b] << " of row " << b << " is out of range [1, " << steps
                           << "] for ids of shape " << shape_str(ids.shape()));
    for (int64_t t = 0; t < lengths[b]; ++t) {
      alpha[b * steps + t] = 1.0f / static_cast<float>(lengths[b]);
      padded[b * steps + t] = 0;
    }
  }
  Tensor mask = from_vector(padded, {batch, steps}, kInt64).to(kBool);                // [B, T]
  Tensor weights = from_vector(alpha, {batch, steps}).to(embedding->weight.dtype());  // [B, T]
  Tensor x = (*positional)((*embedding)(ids));              // N(0, 1) embeddings: no sqrt(D) scale
  Tensor h = encoder->forward(x, Tensor(), mask);           // [B, T, D]
  Tensor pooled = bmm(weights.unsqueeze(1), h).squeeze(1);  // [B, D]
  return {(*classifier)(pooled), weights};
}

LangIdConfig transformer_langid_config() {
  LangIdConfig config;
  config.name = "transformer-langid";
  config.defaults.epochs = 10;
  config.defaults.batch_size = 128;
  config.defaults.lr = 1e-3;
  config.defaults.optimizer = "adam";
  config.make_model = [](int64_t vocab, int64_t classes, bool smoke) {
    return smoke ? std::make_shared<TransformerClassifier>(vocab, classes, 8, 2, 1, 16, 0.0)
                 : std::make_shared<TransformerClassifier>(vocab, classes);
  };
  return config;
}

std::unique_ptr<Task> make_transformer_langid_task() {
  return std::make_unique<LangIdTask>(transformer_langid_config());
}

}  // namespace minidl::models
