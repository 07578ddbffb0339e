// The GPT-style character language model and its fortunes configuration.
#include "models/language/gpt_lm.h"

#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "ops/elementwise.h"

namespace minidl::models {

GPTLanguageModel::GPTLanguageModel(int64_t vocab_size, int64_t context, int64_t d_model,
                                   int64_t nhead, int64_t num_layers, int64_t dim_feedforward)
    : CharLanguageModel("GPTLanguageModel"),
      vocab_size(vocab_size),
      context(context),
      d_model(d_model),
      nhead(nhead),
      num_layers(num_layers),
      dim_feedforward(dim_feedforward) {
  MINIDL_CHECK(vocab_size > 0 && context > 0 && d_model > 0 && nhead > 0 && num_layers > 0 &&
                   dim_feedforward > 0,
               "GPTLanguageModel",
               "sizes must be positive, got vocab_size "
                   << vocab_size << ", context " << context << ", d_model " << d_model << ", nhead "
                   << nhead << ", num_layers " << num_layers << ", dim_feedforward "
                   << dim_feedforward);
  MINIDL_CHECK(d_model % nhead == 0, "GPTLanguageModel",
               "d_model " << d_model << " is not divisible by nhead " << nhead);
  tok_embedding =
      register_module("tok_embedding", std::make_shared<nn::Embedding>(vocab_size, d_model));
  pos_embedding =
      register_module("pos_embedding", std::make_shared<nn::Embedding>(context, d_model));
  {
    NoGradGuard no_grad;
    tok_embedding->weight.normal_(0.0, 0.02);
    pos_embedding->weight.normal_(0.0, 0.02);
  }
  nn::TransformerEncoderLayerOptions layer(d_model, nhead);
  layer.dim_feedforward(dim_feedforward);
  layer.dropout(0.0);  // no dropout anywhere: the attention takes the fused kernel
  layer.activation("gelu");
  layer.batch_first(true);
  layer.norm_first(true);
  blocks = register_module("blocks", std::make_shared<nn::ModuleList>());
  for (int64_t i = 0; i < num_layers; ++i)
    blocks->push_back(std::make_shared<nn::TransformerEncoderLayer>(layer));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(d_model));
  head = register_module("head", std::make_shared<nn::Linear>(d_model, vocab_size));
}

std::string GPTLanguageModel::extra_repr() const {
  std::ostringstream s;
  s << "vocab_size=" << vocab_size << ", context=" << context << ", d_model=" << d_model
    << ", nhead=" << nhead << ", num_layers=" << num_layers
    << ", dim_feedforward=" << dim_feedforward;
  return s.str();
}

Tensor GPTLanguageModel::logits(const Tensor& ids) {
  MINIDL_CHECK(ids.defined() && ids.dim() == 2 && ids.dtype() == kInt64 && ids.size(0) > 0 &&
                   ids.size(1) > 0 && ids.size(1) <= context,
               "GPTLanguageModel",
               "ids must be non-empty int64 [B, T] with T <= context "
                   << context << ", got "
                   << (ids.defined() ? shape_str(ids.shape()) + " " + dtype_name(ids.dtype())
                                     : std::string("undefined")));
  const int64_t steps = ids.size(1);
  Tensor positions = arange(static_cast<double>(steps), kInt64);   // [T]
  Tensor x = (*tok_embedding)(ids) + (*pos_embedding)(positions);  // [B, T, D]
  for (int64_t i = 0; i < num_layers; ++i)
    x = blocks->at<nn::TransformerEncoderLayer>(i)->forward(x, Tensor(), Tensor(),
                                                            /*is_causal=*/true);
  return (*head)((*norm)(x));  // [B, T, V]
}

CharLMConfig gpt_fortunes_config() {
  CharLMConfig config;
  config.name = "gpt-fortunes";
  config.context = 128;
  config.windows_per_epoch = 32 * 250;
  config.eval_windows = 512;
  config.defaults = train_defaults("adamw", 1e-3, 14, 32, 1.0);
  config.make_model = [](int64_t vocab, int64_t context, bool smoke) {
    return smoke ? std::make_shared<GPTLanguageModel>(vocab, context, 16, 2, 2, 32)
                 : std::make_shared<GPTLanguageModel>(vocab, context);
  };
  return config;
}

std::unique_ptr<Task> make_gpt_fortunes_task() {
  return std::make_unique<CharLMTask>(gpt_fortunes_config());
}

}  // namespace minidl::models
