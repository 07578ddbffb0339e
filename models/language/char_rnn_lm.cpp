// The SimpleRNN character language model and its fortunes configuration.
#include "models/language/char_rnn_lm.h"

#include <sstream>

#include "core/error.h"
#include "core/factories.h"

namespace minidl::models {

CharRNNLanguageModel::CharRNNLanguageModel(int64_t vocab_size, int64_t embedding_dim,
                                           int64_t hidden_size, int64_t num_layers)
    : CharLanguageModel("CharRNNLanguageModel"),
      vocab_size(vocab_size),
      embedding_dim(embedding_dim),
      hidden_size(hidden_size),
      num_layers(num_layers) {
  MINIDL_CHECK(vocab_size > 0 && embedding_dim > 0 && hidden_size > 0 && num_layers > 0,
               "CharRNNLanguageModel",
               "sizes must be positive, got vocab_size "
                   << vocab_size << ", embedding_dim " << embedding_dim << ", hidden_size "
                   << hidden_size << ", num_layers " << num_layers);
  embedding =
      register_module("embedding", std::make_shared<nn::Embedding>(vocab_size, embedding_dim));
  rnn = register_module("rnn", std::make_shared<nn::RNN>(embedding_dim, hidden_size, num_layers,
                                                         "tanh", /*bias=*/true,
                                                         /*batch_first=*/true));
  head = register_module("head", std::make_shared<nn::Linear>(hidden_size, vocab_size));
}

std::string CharRNNLanguageModel::extra_repr() const {
  std::ostringstream s;
  s << "vocab_size=" << vocab_size << ", embedding_dim=" << embedding_dim
    << ", hidden_size=" << hidden_size << ", num_layers=" << num_layers;
  return s.str();
}

std::pair<Tensor, Tensor> CharRNNLanguageModel::forward_state(const Tensor& ids, const Tensor& h0) {
  MINIDL_CHECK(ids.defined() && ids.dim() == 2 && ids.dtype() == kInt64 && ids.size(0) > 0 &&
                   ids.size(1) > 0,
               "CharRNNLanguageModel",
               "ids must be non-empty int64 [B, T], got "
                   << (ids.defined() ? shape_str(ids.shape()) + " " + dtype_name(ids.dtype())
                                     : std::string("undefined")));
  auto [output, h_n] = rnn->forward((*embedding)(ids), h0);  // [B, T, H], [L, B, H]
  return {(*head)(output), h_n};
}

Tensor CharRNNLanguageModel::logits(const Tensor& ids) {
  return forward_state(ids, Tensor()).first;
}

Tensor CharRNNLanguageModel::start_sampling(const std::vector<int64_t>& prompt) {
  MINIDL_CHECK(!prompt.empty(), "CharRNNLanguageModel", "start_sampling needs a non-empty prompt");
  const int64_t steps = static_cast<int64_t>(prompt.size());
  auto [out, h_n] = forward_state(from_vector(prompt, {1, steps}, kInt64), Tensor());
  state_ = h_n;
  return out.select(0, 0).select(0, steps - 1).contiguous();
}

Tensor CharRNNLanguageModel::continue_sampling(int64_t id) {
  MINIDL_CHECK(state_.defined(), "CharRNNLanguageModel",
               "call start_sampling before continue_sampling");
  auto [out, h_n] = forward_state(from_vector(std::vector<int64_t>{id}, {1, 1}, kInt64), state_);
  state_ = h_n;
  return out.select(0, 0).select(0, 0).contiguous();
}

CharLMConfig char_rnn_fortunes_config() {
  CharLMConfig config;
  config.name = "char-rnn-fortunes";
  config.context = 128;
  config.windows_per_epoch = 32 * 250;
  config.eval_windows = 512;
  config.defaults = train_defaults("adam", 2e-3, 32, 32, 1.0);
  config.make_model = [](int64_t vocab, int64_t /*context*/, bool smoke) {
    return smoke ? std::make_shared<CharRNNLanguageModel>(vocab, 8, 24)
                 : std::make_shared<CharRNNLanguageModel>(vocab);
  };
  return config;
}

std::unique_ptr<Task> make_char_rnn_fortunes_task() {
  return std::make_unique<CharLMTask>(char_rnn_fortunes_config());
}

}  // namespace minidl::models
