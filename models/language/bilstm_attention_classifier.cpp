// The BiLSTM + attention-pooling word classifier and its language-ID configuration.
#include "models/language/bilstm_attention_classifier.h"

#include <sstream>

#include "core/error.h"
#include "core/factories.h"
#include "ops/linalg.h"
#include "ops/softmax.h"

namespace minidl::models {

BiLSTMAttentionClassifier::BiLSTMAttentionClassifier(int64_t vocab_size, int64_t num_classes,
                                                     int64_t embedding_dim, int64_t hidden_size,
                                                     int64_t attention_dim, double dropout)
    : WordClassifier("BiLSTMAttentionClassifier"),
      vocab_size(vocab_size),
      num_classes(num_classes),
      embedding_dim(embedding_dim),
      hidden_size(hidden_size),
      attention_dim(attention_dim),
      dropout_p(dropout) {
  MINIDL_CHECK(vocab_size > 0 && num_classes > 0 && embedding_dim > 0 && hidden_size > 0 &&
                   attention_dim > 0,
               "BiLSTMAttentionClassifier",
               "sizes must be positive, got vocab_size "
                   << vocab_size << ", num_classes " << num_classes << ", embedding_dim "
                   << embedding_dim << ", hidden_size " << hidden_size << ", attention_dim "
                   << attention_dim);
  embedding = register_module(
      "embedding", std::make_shared<nn::Embedding>(vocab_size, embedding_dim, nn::Vocab::kPad));
  lstm = register_module("lstm", std::make_shared<nn::LSTM>(embedding_dim, hidden_size, 1, true,
                                                            /*batch_first=*/true, 0.0,
                                                            /*bidirectional=*/true));
  attention_projection = register_module(
      "attention_projection", std::make_shared<nn::Linear>(2 * hidden_size, attention_dim));
  attention_vector =
      register_module("attention_vector", std::make_shared<nn::Linear>(attention_dim, 1, false));
  classifier =
      register_module("classifier", std::make_shared<nn::Linear>(2 * hidden_size, num_classes));
  this->dropout = register_module("dropout", std::make_shared<nn::Dropout>(dropout));
}

std::string BiLSTMAttentionClassifier::extra_repr() const {
  std::ostringstream s;
  s << "vocab_size=" << vocab_size << ", num_classes=" << num_classes
    << ", embedding_dim=" << embedding_dim << ", hidden_size=" << hidden_size
    << ", attention_dim=" << attention_dim << ", dropout=" << dropout_p;
  return s.str();
}

std::pair<Tensor, Tensor> BiLSTMAttentionClassifier::classify(const Tensor& ids,
                                                              const std::vector<int64_t>& lengths) {
  MINIDL_CHECK(ids.defined() && ids.dim() == 2 && ids.dtype() == kInt64 && ids.size(0) > 0 &&
                   ids.size(1) > 0,
               "BiLSTMAttentionClassifier",
               "ids must be non-empty int64 [B, T], got "
                   << (ids.defined() ? shape_str(ids.shape()) : "undefined"));
  const int64_t batch = ids.size(0), steps = ids.size(1);
  MINIDL_CHECK(static_cast<int64_t>(lengths.size()) == batch, "BiLSTMAttentionClassifier",
               "expected " << batch << " lengths for ids of shape " << shape_str(ids.shape())
                           << ", got " << lengths.size());
  std::vector<int64_t> padded(static_cast<size_t>(batch * steps), 1);
  for (int64_t b = 0; b < batch; ++b) {
    MINIDL_CHECK(lengths[b] >= 1 && lengths[b] <= steps, "BiLSTMAttentionClassifier",
                 "length " << lengths[b] << " of row " << b << " is out of range [1, " << steps
                           << "] for ids of shape " << shape_str(ids.shape()));
    for (int64_t t = 0; t < lengths[b]; ++t) padded[b * steps + t] = 0;
  }
  Tensor mask = from_vector(padded, {batch, steps}, kInt64).to(kBool);  // [B, T]
  Tensor embedded = (*dropout)((*embedding)(ids));                      // [B, T, E]
  nn::PackedSequence packed = nn::pack_padded_sequence(embedded, lengths, true, false);
  Tensor states =
      nn::pad_packed_sequence(lstm->forward(packed).first, true, 0.0, steps).first;  // [B,T,2H]
  Tensor scores = (*attention_vector)((*attention_projection)(states).tanh()).squeeze(2);
  Tensor weights = masked_softmax(scores, mask, 1);              // [B, T]
  Tensor pooled = bmm(weights.unsqueeze(1), states).squeeze(1);  // [B, 2H]
  return {(*classifier)((*dropout)(pooled)), weights};
}

LangIdConfig bilstm_attention_langid_config() {
  LangIdConfig config;
  config.name = "bilstm-attention-langid";
  config.defaults = train_defaults("adam", 3e-3, 14, 64, 1.0, "cosine");
  config.make_model = [](int64_t vocab, int64_t classes, bool smoke) {
    return smoke ? std::make_shared<BiLSTMAttentionClassifier>(vocab, classes, 8, 12, 8, 0.0)
                 : std::make_shared<BiLSTMAttentionClassifier>(vocab, classes);
  };
  return config;
}

std::unique_ptr<Task> make_bilstm_attention_langid_task() {
  return std::make_unique<LangIdTask>(bilstm_attention_langid_config());
}

}  // namespace minidl::models
