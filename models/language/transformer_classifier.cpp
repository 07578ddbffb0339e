// The Transformer-encoder word classifier (masked max or mean pooling) and its language-ID
// configuration.
#include "models/language/transformer_classifier.h"

#include <sstream>

#include "core/error.h"
#include "core/factories.h"
#include "nn/data.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduction.h"

namespace minidl::models {

TransformerClassifier::TransformerClassifier(int64_t vocab_size, int64_t num_classes,
                                             int64_t d_model, int64_t nhead, int64_t num_layers,
                                             int64_t dim_feedforward, double dropout,
                                             int64_t max_length, const std::string& pooling,
                                             bool norm_first, bool boundary_tokens)
    : WordClassifier("TransformerClassifier"),
      vocab_size(vocab_size),
      num_classes(num_classes),
      d_model(d_model),
      nhead(nhead),
      num_layers(num_layers),
      dim_feedforward(dim_feedforward),
      max_length(max_length),
      pooling(pooling),
      norm_first(norm_first),
      boundary_tokens(boundary_tokens) {
  MINIDL_CHECK(vocab_size > 0 && num_classes > 0 && d_model > 0 && nhead > 0 && num_layers > 0 &&
                   dim_feedforward > 0 && max_length > 0,
               "TransformerClassifier",
               "sizes must be positive, got vocab_size "
                   << vocab_size << ", num_classes " << num_classes << ", d_model " << d_model
                   << ", nhead " << nhead << ", num_layers " << num_layers << ", dim_feedforward "
                   << dim_feedforward << ", max_length " << max_length);
  MINIDL_CHECK(pooling == "mean" || pooling == "max", "TransformerClassifier",
               "pooling must be \"mean\" or \"max\", got \"" << pooling << "\"");
  embedding = register_module(
      "embedding", std::make_shared<nn::Embedding>(vocab_size + (boundary_tokens ? 2 : 0), d_model,
                                                   nn::Vocab::kPad));
  positional = register_module("positional",
                               std::make_shared<nn::SinusoidalPositionalEncoding>(
                                   d_model, max_length + (boundary_tokens ? 2 : 0), dropout, true));
  nn::TransformerEncoderLayerOptions layer(d_model, nhead);
  layer.dim_feedforward(dim_feedforward);
  layer.dropout(dropout);
  layer.batch_first(true);
  layer.norm_first(norm_first);
  encoder = register_module(
      "encoder",
      std::make_shared<nn::TransformerEncoder>(
          layer, num_layers, norm_first ? std::make_shared<nn::LayerNorm>(d_model) : nullptr));
  classifier = register_module("classifier", std::make_shared<nn::Linear>(d_model, num_classes));
}

std::string TransformerClassifier::extra_repr() const {
  std::ostringstream s;
  s << "vocab_size=" << vocab_size << ", num_classes=" << num_classes << ", d_model=" << d_model
    << ", nhead=" << nhead << ", num_layers=" << num_layers
    << ", dim_feedforward=" << dim_feedforward << ", max_length=" << max_length
    << ", pooling=" << pooling << ", norm_first=" << (norm_first ? "True" : "False")
    << ", boundary_tokens=" << (boundary_tokens ? "True" : "False");
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
  // The encoder's input: [BOS] characters [EOS] padding when boundary_tokens (BOS, EOS = ids
  // vocab_size, vocab_size + 1), else the characters and padding; `first` = the first character.
  const int64_t first = boundary_tokens ? 1 : 0, total = steps + 2 * first;
  const std::vector<int64_t> in = ids.contiguous().to_vector<int64_t>();
  std::vector<int64_t> tokens(static_cast<size_t>(batch * total), nn::Vocab::kPad);
  std::vector<int64_t> padded(tokens.size(), 1), not_char(tokens.size(), 1);
  std::vector<double> alpha(tokens.size(), 0.0);
  for (int64_t b = 0; b < batch; ++b) {
    MINIDL_CHECK(lengths[b] >= 1 && lengths[b] <= steps, "TransformerClassifier",
                 "length " << lengths[b] << " of row " << b << " is out of range [1, " << steps
                           << "] for ids of shape " << shape_str(ids.shape()));
    const int64_t row = b * total;
    for (int64_t t = 0; t < lengths[b]; ++t) {
      tokens[row + first + t] = in[b * steps + t];
      alpha[row + first + t] = 1.0 / static_cast<double>(lengths[b]);
      not_char[row + first + t] = 0;
    }
    if (boundary_tokens) {
      tokens[row] = vocab_size;
      tokens[row + lengths[b] + 1] = vocab_size + 1;
    }
    for (int64_t t = 0; t < lengths[b] + 2 * first; ++t) padded[row + t] = 0;
  }
  const DType dtype = embedding->weight.dtype();
  Tensor mask = from_vector(padded, {batch, total}, kInt64).to(kBool);   // [B, T']
  Tensor mean_weights = from_vector(alpha, {batch, total}).to(dtype);    // [B, T']
  Tensor e = (*embedding)(from_vector(tokens, {batch, total}, kInt64));  // [B, T', D]
  Tensor h = encoder->forward((*positional)(e), Tensor(), mask);         // [B, T', D]
  Tensor pooled, weights;
  if (pooling == "max") {
    // pooled_d = max over the characters of h_td; the map: the share of the D features whose
    // maximum is at each character.
    Tensor skip = from_vector(not_char, {batch, total, 1}, kInt64).to(kBool);
    auto [values, where] = max(masked_fill(h, skip, -1e30), 1);  // [B, D]
    pooled = values;
    const std::vector<int64_t> arg = where.to_vector<int64_t>();
    std::vector<double> share(tokens.size(), 0.0);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t d = 0; d < d_model; ++d)
        share[b * total + arg[b * d_model + d]] += 1.0 / static_cast<double>(d_model);
    weights = from_vector(share, {batch, total}).to(dtype);
  } else {
    pooled = bmm(mean_weights.unsqueeze(1), h).squeeze(1);  // [B, D]
    weights = mean_weights;
  }
  if (boundary_tokens) weights = weights.narrow(1, 1, steps);
  return {(*classifier)(pooled), weights.contiguous()};
}

LangIdConfig transformer_langid_config() {
  LangIdConfig config;
  config.name = "transformer-langid";
  config.defaults = train_defaults("adam", 2e-3, 16, 64, 0, "cosine");
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
