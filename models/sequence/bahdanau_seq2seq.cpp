// Bahdanau encoder-decoder (Keras tutorial) and its date-normalization task: teacher-forced
// training in whole-sequence GEMMs, greedy and beam-search decoding step by step.
#include "models/sequence/bahdanau_seq2seq.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"
#include "models/sequence/seq2seq_data.h"
#include "ops/index_ops.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/rnn.h"
#include "ops/shape_ops.h"

namespace minidl::models {

using nn::Vocab;

// ---------------------------------------------------------------- the model

BahdanauSeq2Seq::BahdanauSeq2Seq(int64_t source_vocab, int64_t target_vocab, int64_t embedding_dim,
                                 int64_t hidden_size, int64_t attention_units,
                                 const std::string& score)
    : Seq2SeqModel("BahdanauSeq2Seq"),
      source_vocab(source_vocab),
      target_vocab(target_vocab),
      embedding_dim(embedding_dim),
      hidden_size(hidden_size),
      attention_units(attention_units),
      score(score) {
  MINIDL_CHECK(score == "additive" || score == "dot", "BahdanauSeq2Seq",
               "unknown score '" << score << "' (expected \"additive\" or \"dot\")");
  MINIDL_CHECK(source_vocab > Vocab::kEos && target_vocab > Vocab::kEos && embedding_dim > 0 &&
                   hidden_size > 0 && attention_units > 0,
               "BahdanauSeq2Seq",
               "vocabularies must hold the special tokens and sizes must be positive, got "
                   << "source_vocab " << source_vocab << ", target_vocab " << target_vocab
                   << ", embedding_dim " << embedding_dim << ", hidden_size " << hidden_size
                   << ", attention_units " << attention_units);
  source_embedding =
      register_module("source_embedding",
                      std::make_shared<nn::Embedding>(source_vocab, embedding_dim, Vocab::kPad));
  target_embedding =
      register_module("target_embedding",
                      std::make_shared<nn::Embedding>(target_vocab, embedding_dim, Vocab::kPad));
  encoder = register_module("encoder", std::make_shared<nn::LSTM>(embedding_dim, hidden_size, 1,
                                                                  true, /*batch_first=*/true));
  decoder = register_module("decoder", std::make_shared<nn::LSTM>(embedding_dim, hidden_size, 1,
                                                                  true, /*batch_first=*/true));
  if (score == "additive")
    attention = register_module("attention", std::make_shared<nn::BahdanauAttention>(
                                                 attention_units, hidden_size, hidden_size));
  else
    dot_attention = register_module("attention", std::make_shared<nn::DotProductAttention>());
  output = register_module("output", std::make_shared<nn::Linear>(2 * hidden_size, target_vocab));
}

std::string BahdanauSeq2Seq::extra_repr() const {
  std::ostringstream s;
  s << "source_vocab=" << source_vocab << ", target_vocab=" << target_vocab
    << ", embedding_dim=" << embedding_dim << ", hidden_size=" << hidden_size
    << ", attention_units=" << attention_units << ", score=" << score;
  return s.str();
}

BahdanauSeq2Seq::Encoded BahdanauSeq2Seq::encode(const Tensor& source,
                                                 const std::vector<int64_t>& lengths) {
  Encoded encoded;
  encoded.padding_mask = check_source(source, lengths);
  nn::LSTM::State state;
  std::tie(encoded.keys, state) = run_encoder(*encoder, (*source_embedding)(source), lengths);
  std::tie(encoded.h, encoded.c) = state;
  if (attention) encoded.projected_keys = attention->precompute_keys(encoded.keys);
  return encoded;
}

nn::AttentionOutput BahdanauSeq2Seq::attend(const Tensor& queries, const Tensor& keys,
                                            const Tensor& projected_keys,
                                            const Tensor& padding_mask) {
  if (attention) return attention->forward_precomputed(queries, projected_keys, keys, padding_mask);
  // Dot-product attention takes [B, Tq, H] queries: a decoding step's [B, H] is Tq = 1.
  if (queries.dim() == 2) {
    nn::AttentionOutput out =
        dot_attention->forward(queries.unsqueeze(1), keys, keys, padding_mask);
    return {out.output.squeeze(1), out.weights.squeeze(1)};
  }
  return dot_attention->forward(queries, keys, keys, padding_mask);
}

std::pair<Tensor, Tensor> BahdanauSeq2Seq::forward(const Tensor& source,
                                                   const std::vector<int64_t>& lengths,
                                                   const Tensor& target_input) {
  check_target(source, target_input);
  Encoded encoded = encode(source, lengths);
  Tensor embedded = (*target_embedding)(target_input);  // [B, Tt, E]
  Tensor decoded =
      std::get<0>(decoder->forward(embedded, std::make_tuple(encoded.h, encoded.c)));  // [B, Tt, H]
  nn::AttentionOutput attended =
      attend(decoded, encoded.keys, encoded.projected_keys, encoded.padding_mask);
  Tensor logits = (*output)(cat({decoded, attended.output}, 2));  // one GEMM for every step
  return {logits, attended.weights};
}

Seq2SeqModel::State BahdanauSeq2Seq::start(const Tensor& source,
                                           const std::vector<int64_t>& lengths) {
  Encoded encoded = encode(source, lengths);
  State state;
  state.rows = {encoded.keys, encoded.projected_keys, encoded.padding_mask, encoded.h.select(0, 0),
                encoded.c.select(0, 0)};
  state.shared = lstm_step_weights(*target_embedding, *decoder);
  return state;
}

std::pair<Tensor, Tensor> BahdanauSeq2Seq::step(const Tensor& prev, State& state) {
  Tensor& h = state.rows[3];
  Tensor& c = state.rows[4];
  Tensor gates_input = index_select(state.shared[0], 0, prev);  // [N, 4H]
  std::tie(h, c) = lstm_cell(gates_input, h, c, state.shared[1], state.shared[2]);
  nn::AttentionOutput attended = attend(h, state.rows[0], state.rows[1], state.rows[2]);
  return {(*output)(cat({h, attended.output}, 1)), attended.weights};
}

// ---------------------------------------------------------------- the date and G2P tasks

BahdanauDatesConfig BahdanauDatesConfig::smoke() const {
  BahdanauDatesConfig config;
  config.name = name;
  config.score = score;
  config.optimizer = optimizer;
  config.train_size = 64;
  config.valid_size = 16;
  config.test_size = 16;
  config.embedding_dim = 8;
  config.hidden_size = 16;
  config.attention_units = 16;
  config.epochs = 2;
  config.batch_size = 16;
  config.lr = 1e-2;
  return config;
}

namespace {

TrainDefaults dates_defaults(const BahdanauDatesConfig& config) {
  return train_defaults(config.optimizer, config.lr, config.epochs, config.batch_size,
                        config.clip_grad_norm);
}

Seq2SeqConfig dates_task_config(const BahdanauDatesConfig& dates) {
  Seq2SeqConfig config;
  config.name = dates.name;
  config.load = [dates](const TaskOptions& options) {
    const BahdanauDatesConfig used = options.smoke ? dates.smoke() : dates;
    return date_seq2seq_data(used.train_size, used.valid_size, used.test_size, options.seed);
  };
  config.make_model = [dates](int64_t source_vocab, int64_t target_vocab, bool smoke) {
    const BahdanauDatesConfig used = smoke ? dates.smoke() : dates;
    return std::make_shared<BahdanauSeq2Seq>(source_vocab, target_vocab, used.embedding_dim,
                                             used.hidden_size, used.attention_units, used.score);
  };
  config.defaults = dates_defaults(dates);
  config.smoke_defaults = dates_defaults(dates.smoke());
  config.metric = Seq2SeqMetric::ExactMatch;
  config.examples = {"3 May 1979", "Thursday, May 3, 1979", "the 3rd of may, 1979", "5/3/79",
                     "03.05.79"};
  return config;
}

}  // namespace

BahdanauDatesTask::BahdanauDatesTask(BahdanauDatesConfig config)
    : Seq2SeqTask(dates_task_config(config)), dates_config_(config) {}

BahdanauSeq2Seq& BahdanauDatesTask::bahdanau() {
  return dynamic_cast<BahdanauSeq2Seq&>(seq2seq());
}

std::unique_ptr<Task> make_bahdanau_dates_task() {
  return std::make_unique<BahdanauDatesTask>();
}

std::unique_ptr<Task> make_bahdanau_g2p_task() {
  Seq2SeqConfig config = g2p_task_config("bahdanau-g2p");
  config.make_model = [](int64_t source_vocab, int64_t target_vocab, bool smoke) {
    if (smoke) return std::make_shared<BahdanauSeq2Seq>(source_vocab, target_vocab, 8, 16, 16);
    return std::make_shared<BahdanauSeq2Seq>(source_vocab, target_vocab, 64, 256, 128);
  };
  config.defaults = train_defaults("rmsprop", 2e-3, 6, 64, 5, "cosine");
  return std::make_unique<Seq2SeqTask>(config);
}

}  // namespace minidl::models
