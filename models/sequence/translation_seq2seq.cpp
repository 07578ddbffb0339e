// The PyTorch tutorial's attention decoder with an LSTMCell (models/sequence/translation_seq2seq.h): the
// teacher-forced loop, decoding steps, and its G2P and German -> English tasks.
#include "models/sequence/translation_seq2seq.h"

#include <sstream>

#include "core/error.h"
#include "models/sequence/seq2seq_data.h"
#include "models/sequence/seq2seq_task.h"
#include "ops/elementwise.h"
#include "ops/index_ops.h"
#include "ops/linalg.h"
#include "ops/rnn.h"
#include "ops/shape_ops.h"

namespace minidl::models {

using nn::Vocab;

TranslationSeq2Seq::TranslationSeq2Seq(int64_t source_vocab, int64_t target_vocab,
                                       const TranslationSeq2SeqOptions& options)
    : Seq2SeqModel("TranslationSeq2Seq"),
      source_vocab(source_vocab),
      target_vocab(target_vocab),
      options(options) {
  MINIDL_CHECK(source_vocab > Vocab::kEos && target_vocab > Vocab::kEos &&
                   options.embedding_dim > 0 && options.hidden_size > 0 && options.num_layers > 0 &&
                   options.attention_units > 0 && options.dropout >= 0 && options.dropout < 1,
               "TranslationSeq2Seq",
               "vocabularies must hold the special tokens, sizes must be positive and dropout in "
               "[0, 1), got source_vocab "
                   << source_vocab << ", target_vocab " << target_vocab << ", embedding_dim "
                   << options.embedding_dim << ", hidden_size " << options.hidden_size
                   << ", num_layers " << options.num_layers << ", attention_units "
                   << options.attention_units << ", dropout " << options.dropout);
  const int64_t E = options.embedding_dim, H = options.hidden_size;
  source_embedding = register_module("source_embedding",
                                     std::make_shared<nn::Embedding>(source_vocab, E, Vocab::kPad));
  encoder = register_module(
      "encoder", std::make_shared<nn::LSTM>(E, H, options.num_layers, true, /*batch_first=*/true,
                                            options.num_layers > 1 ? options.dropout : 0.0));
  target_embedding = register_module("target_embedding",
                                     std::make_shared<nn::Embedding>(target_vocab, E, Vocab::kPad));
  attention = register_module(
      "attention", std::make_shared<nn::BahdanauAttention>(options.attention_units, H, H));
  cell = register_module("cell", std::make_shared<nn::LSTMCell>(E + H, H));
  output = register_module("output", std::make_shared<nn::Linear>(H, target_vocab));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(options.dropout));
}

std::string TranslationSeq2Seq::extra_repr() const {
  std::ostringstream s;
  s << "source_vocab=" << source_vocab << ", target_vocab=" << target_vocab
    << ", embedding_dim=" << options.embedding_dim << ", hidden_size=" << options.hidden_size
    << ", num_layers=" << options.num_layers << ", attention_units=" << options.attention_units
    << ", dropout=" << options.dropout;
  return s.str();
}

Tensor TranslationSeq2Seq::context_weight() const {
  return cell->weight_ih.narrow(1, options.embedding_dim, options.hidden_size);  // [4H, H]
}

Seq2SeqModel::State TranslationSeq2Seq::encode(const Tensor& source,
                                               const std::vector<int64_t>& lengths) {
  Tensor mask = check_source(source, lengths);
  auto [keys, final_state] =
      run_encoder(*encoder, (*dropout)((*source_embedding)(source)), lengths);
  const int64_t top = options.num_layers - 1;
  State state;
  state.rows = {keys, attention->precompute_keys(keys), mask, final_state.first.select(0, top),
                final_state.second.select(0, top)};
  return state;
}

Tensor TranslationSeq2Seq::advance(const Tensor& gates_embedding, const Tensor& w_context,
                                   const Tensor& keys, const Tensor& projected_keys,
                                   const Tensor& padding_mask, Tensor& h, Tensor& c) {
  nn::AttentionOutput attended = attention->forward_precomputed(h, projected_keys, keys,
                                                                padding_mask);  // [N, H], [N, Ts]
  // The cell's input is [embedding; context]: W_ih x = W_emb e + W_ctx context.
  Tensor gates = gates_embedding + linear(attended.output, w_context);
  std::tie(h, c) = lstm_cell(gates, h, c, cell->weight_hh, cell->bias_hh);
  return attended.weights;
}

std::pair<Tensor, Tensor> TranslationSeq2Seq::forward(const Tensor& source,
                                                      const std::vector<int64_t>& lengths,
                                                      const Tensor& target_input) {
  check_target(source, target_input);
  State state = encode(source, lengths);
  const int64_t E = options.embedding_dim, steps = target_input.size(1);
  // [B, Tt, 4H]: the embedding half of every step's input projection, one GEMM.
  Tensor gates_embedding = linear((*dropout)((*target_embedding)(target_input)),
                                  cell->weight_ih.narrow(1, 0, E), cell->bias_ih);
  // The context's columns of W_ih, taken once: one view (and one gradient scatter) per batch.
  const Tensor w_context = context_weight();
  Tensor h = state.rows[3], c = state.rows[4];
  std::vector<Tensor> hidden, weights;
  for (int64_t t = 0; t < steps; ++t) {
    weights.push_back(advance(gates_embedding.select(1, t), w_context, state.rows[0], state.rows[1],
                              state.rows[2], h, c));
    hidden.push_back(h);
  }
  Tensor logits = (*output)((*dropout)(stack(hidden, 1)));  // [B, Tt, V]
  return {logits, stack(weights, 1)};
}

Seq2SeqModel::State TranslationSeq2Seq::start(const Tensor& source,
                                              const std::vector<int64_t>& lengths) {
  State state = encode(source, lengths);
  const int64_t E = options.embedding_dim;
  state.shared = {
      linear(target_embedding->weight, cell->weight_ih.narrow(1, 0, E), cell->bias_ih),  // [V, 4H]
      context_weight()};
  return state;
}

std::pair<Tensor, Tensor> TranslationSeq2Seq::step(const Tensor& prev, State& state) {
  Tensor weights = advance(index_select(state.shared[0], 0, prev), state.shared[1], state.rows[0],
                           state.rows[1], state.rows[2], state.rows[3], state.rows[4]);
  return {(*output)(state.rows[3]), weights};
}

// ---------------------------------------------------------------- tasks

std::unique_ptr<Task> make_translation_g2p_task() {
  Seq2SeqConfig config = g2p_task_config("translation-g2p");
  config.make_model = [](int64_t source_vocab, int64_t target_vocab, bool smoke) {
    // The step-by-step decoder costs ~3x the Bahdanau model's per example, so it is smaller.
    TranslationSeq2SeqOptions options{64, 192, 2, 96, 0.1};
    if (smoke) options = {8, 16, 2, 16, 0.0};
    return std::make_shared<TranslationSeq2Seq>(source_vocab, target_vocab, options);
  };
  config.defaults = train_defaults("adam", 3e-3, 6, 128, 5, "cosine");
  return std::make_unique<Seq2SeqTask>(config);
}

std::unique_ptr<Task> make_translation_deu_eng_task() {
  Seq2SeqConfig config = translation_task_config("translation-deu-eng", 12);
  config.make_model = [](int64_t source_vocab, int64_t target_vocab, bool smoke) {
    TranslationSeq2SeqOptions options{96, 192, 2, 96, 0.2};
    if (smoke) options = {8, 16, 2, 16, 0.0};
    return std::make_shared<TranslationSeq2Seq>(source_vocab, target_vocab, options);
  };
  config.defaults = train_defaults("adam", 2e-3, 6, 64, 5, "cosine");
  return std::make_unique<Seq2SeqTask>(config);
}

}  // namespace minidl::models
