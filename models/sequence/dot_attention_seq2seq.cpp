// The Keras "From Theory to Code" seq2seq on the date task: the shared encoder-decoder with the
// parameter-free dot-product score, trained with Adam.
#include "models/sequence/dot_attention_seq2seq.h"

namespace minidl::models {

BahdanauDatesConfig dot_attention_dates_config() {
  BahdanauDatesConfig config;
  config.name = "dot-attention-dates";
  config.score = "dot";
  config.optimizer = "adam";
  config.lr = 2e-3;
  config.epochs = 6;
  return config;
}

std::unique_ptr<Task> make_dot_attention_dates_task() {
  return std::make_unique<BahdanauDatesTask>(dot_attention_dates_config());
}

}  // namespace minidl::models
