// The BiLSTM encoder-decoder with packed sequences (models/sequence/bilstm_seq2seq.h) and its G2P
// task.
#include "models/sequence/bilstm_seq2seq.h"

#include <sstream>

#include "core/error.h"
#include "models/sequence/seq2seq_data.h"
#include "models/sequence/seq2seq_task.h"
#include "ops/elementwise.h"
#include "ops/index_ops.h"
#include "ops/rnn.h"
#include "ops/shape_ops.h"

namespace minidl::models {

using nn::Vocab;

BiLSTMSeq2Seq::BiLSTMSeq2Seq(int64_t source_vocab, int64_t target_vocab,
                             const BiLSTMSeq2SeqOptions& options)
    : Seq2SeqModel("BiLSTMSeq2Seq"),
      source_vocab(source_vocab),
      target_vocab(target_vocab),
      options(options) {
  MINIDL_CHECK(source_vocab > Vocab::kEos && target_vocab > Vocab::kEos &&
                   options.embedding_dim > 0 && options.hidden_size > 0 && options.num_layers > 0 &&
                   options.dropout >= 0 && options.dropout < 1,
               "BiLSTMSeq2Seq",
               "vocabularies must hold the special tokens, sizes must be positive and dropout in "
               "[0, 1), got source_vocab "
                   << source_vocab << ", target_vocab " << target_vocab << ", embedding_dim "
                   << options.embedding_dim << ", hidden_size " << options.hidden_size
                   << ", num_layers " << options.num_layers << ", dropout " << options.dropout);
  const int64_t E = options.embedding_dim, H = options.hidden_size, D = 2 * H;
  source_embedding = register_module("source_embedding",
                                     std::make_shared<nn::Embedding>(source_vocab, E, Vocab::kPad));
  encoder = register_module(
      "encoder", std::make_shared<nn::LSTM>(E, H, options.num_layers, true, /*batch_first=*/true,
                                            options.num_layers > 1 ? options.dropout : 0.0,
                                            /*bidirectional=*/true));
  bridge_h = register_module("bridge_h", std::make_shared<nn::Linear>(D, D));
  bridge_c = register_module("bridge_c", std::make_shared<nn::Linear>(D, D));
  target_embedding = register_module("target_embedding",
                                     std::make_shared<nn::Embedding>(target_vocab, E, Vocab::kPad));
  decoder =
      register_module("decoder", std::make_shared<nn::LSTM>(E, D, 1, true, /*batch_first=*/true));
  attention = register_module("attention", std::make_shared<nn::LuongAttention>(D, "general"));
  attentional = register_module("attentional", std::make_shared<nn::LuongAttentionalHidden>(D));
  output = register_module("output", std::make_shared<nn::Linear>(D, target_vocab));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(options.dropout));
}

std::string BiLSTMSeq2Seq::extra_repr() const {
  std::ostringstream s;
  s << "source_vocab=" << source_vocab << ", target_vocab=" << target_vocab
    << ", embedding_dim=" << options.embedding_dim << ", hidden_size=" << options.hidden_size
    << ", num_layers=" << options.num_layers << ", dropout=" << options.dropout;
  return s.str();
}

Seq2SeqModel::State BiLSTMSeq2Seq::encode(const Tensor& source,
                                          const std::vector<int64_t>& lengths) {
  Tensor mask = check_source(source, lengths);
  auto [keys, final_state] =
      run_encoder(*encoder, (*dropout)((*source_embedding)(source)), lengths);
  // The top layer's two directions (rows 2L-2 forward, 2L-1 backward) side by side: [B, 2H].
  const int64_t top = 2 * (options.num_layers - 1);
  auto both = [top](const Tensor& s) { return cat({s.select(0, top), s.select(0, top + 1)}, 1); };
  State state;
  state.rows = {keys, mask, tanh((*bridge_h)(both(final_state.first))),
                (*bridge_c)(both(final_state.second))};
  return state;
}

std::pair<Tensor, Tensor> BiLSTMSeq2Seq::attend_and_predict(const Tensor& decoded,
                                                            const State& state) {
  nn::AttentionOutput attended = (*attention)(decoded, state.rows[0], Tensor(), state.rows[1]);
  Tensor hidden = (*attentional)(attended.output, decoded);  // tanh(W_c [context; h])
  return {(*output)((*dropout)(hidden)), attended.weights};
}

std::pair<Tensor, Tensor> BiLSTMSeq2Seq::forward(const Tensor& source,
                                                 const std::vector<int64_t>& lengths,
                                                 const Tensor& target_input) {
  check_target(source, target_input);
  State state = encode(source, lengths);
  Tensor embedded = (*dropout)((*target_embedding)(target_input));  // [B, Tt, E]
  Tensor decoded = std::get<0>(decoder->forward(
      embedded, std::make_tuple(state.rows[2].unsqueeze(0), state.rows[3].unsqueeze(0))));
  return attend_and_predict(decoded, state);
}

Seq2SeqModel::State BiLSTMSeq2Seq::start(const Tensor& source,
                                         const std::vector<int64_t>& lengths) {
  State state = encode(source, lengths);
  state.shared = lstm_step_weights(*target_embedding, *decoder);
  return state;
}

std::pair<Tensor, Tensor> BiLSTMSeq2Seq::step(const Tensor& prev, State& state) {
  Tensor gates_input = index_select(state.shared[0], 0, prev);  // [N, 4D]
  std::tie(state.rows[2], state.rows[3]) =
      lstm_cell(gates_input, state.rows[2], state.rows[3], state.shared[1], state.shared[2]);
  return attend_and_predict(state.rows[2], state);
}

std::unique_ptr<Task> make_bilstm_g2p_task() {
  Seq2SeqConfig config = g2p_task_config("bilstm-g2p");
  config.make_model = [](int64_t source_vocab, int64_t target_vocab, bool smoke) {
    BiLSTMSeq2SeqOptions options;
    if (smoke) options = {8, 8, 2, 0.0};
    return std::make_shared<BiLSTMSeq2Seq>(source_vocab, target_vocab, options);
  };
  config.defaults = train_defaults("adam", 2e-3, 10, 64, 5, "cosine");
  return std::make_unique<Seq2SeqTask>(config);
}

}  // namespace minidl::models
