// Bahdanau encoder-decoder (Keras tutorial) and its date-normalization task: teacher-forced
// training in whole-sequence GEMMs, greedy and beam-search decoding step by step.
#include "models/bahdanau_seq2seq.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"
#include "ops/index_ops.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/rnn.h"
#include "ops/shape_ops.h"
#include "ops/softmax.h"

namespace minidl::models {

using nn::Vocab;

// ---------------------------------------------------------------- the model

BahdanauSeq2Seq::BahdanauSeq2Seq(int64_t source_vocab, int64_t target_vocab, int64_t embedding_dim,
                                 int64_t hidden_size, int64_t attention_units,
                                 const std::string& score)
    : Module("BahdanauSeq2Seq"),
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
  MINIDL_CHECK(source.defined() && source.dim() == 2 && source.dtype() == kInt64 &&
                   source.size(0) > 0 && source.size(1) > 0,
               "BahdanauSeq2Seq",
               "source must be non-empty int64 [B, Ts], got "
                   << (source.defined() ? shape_str(source.shape()) : "undefined"));
  const int64_t batch = source.size(0), steps = source.size(1);
  MINIDL_CHECK(static_cast<int64_t>(lengths.size()) == batch, "BahdanauSeq2Seq",
               "expected " << batch << " lengths for source of shape " << shape_str(source.shape())
                           << ", got " << lengths.size());
  bool padded = false;
  for (int64_t b = 0; b < batch; ++b) {
    MINIDL_CHECK(lengths[b] >= 1 && lengths[b] <= steps, "BahdanauSeq2Seq",
                 "length " << lengths[b] << " of row " << b << " is out of range [1, " << steps
                           << "] for source of shape " << shape_str(source.shape()));
    padded = padded || lengths[b] < steps;
  }
  Tensor embedded = (*source_embedding)(source);  // [B, Ts, E]
  Encoded encoded;
  if (padded) {
    // Packed, so each row's final state is taken at its own last character.
    nn::PackedSequence packed = nn::pack_padded_sequence(embedded, lengths, true, false);
    auto [packed_output, state] = encoder->forward(packed);
    encoded.keys = nn::pad_packed_sequence(packed_output, true, 0.0, steps).first.contiguous();
    encoded.h = state.first;
    encoded.c = state.second;
    std::vector<int64_t> mask(static_cast<size_t>(batch * steps));
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < steps; ++t) mask[b * steps + t] = t >= lengths[b];
    encoded.padding_mask = from_vector(mask, {batch, steps}, kInt64).to(kBool);
  } else {
    auto [keys, state] = encoder->forward(embedded, nn::LSTM::State{});
    encoded.keys = keys.contiguous();
    encoded.h = state.first;
    encoded.c = state.second;
  }
  if (attention) encoded.projected_keys = attention->precompute_keys(encoded.keys);
  return encoded;
}

nn::AttentionOutput BahdanauSeq2Seq::attend(const Tensor& queries, const Encoded& encoded) {
  if (attention)
    return attention->forward_precomputed(queries, encoded.projected_keys, encoded.keys,
                                          encoded.padding_mask);
  // Dot-product attention takes [B, Tq, H] queries: a decoding step's [B, H] is Tq = 1.
  if (queries.dim() == 2) {
    nn::AttentionOutput out = dot_attention->forward(queries.unsqueeze(1), encoded.keys,
                                                     encoded.keys, encoded.padding_mask);
    return {out.output.squeeze(1), out.weights.squeeze(1)};
  }
  return dot_attention->forward(queries, encoded.keys, encoded.keys, encoded.padding_mask);
}

std::pair<Tensor, Tensor> BahdanauSeq2Seq::forward(const Tensor& source,
                                                   const std::vector<int64_t>& lengths,
                                                   const Tensor& target_input) {
  MINIDL_CHECK(target_input.defined() && target_input.dim() == 2 &&
                   target_input.dtype() == kInt64 && target_input.size(0) == source.size(0) &&
                   target_input.size(1) > 0,
               "BahdanauSeq2Seq",
               "target_input must be non-empty int64 [B, Tt] with the source's batch size, got "
                   << (target_input.defined() ? shape_str(target_input.shape()) : "undefined")
                   << " for source of shape " << shape_str(source.shape()));
  Encoded encoded = encode(source, lengths);
  Tensor embedded = (*target_embedding)(target_input);                        // [B, Tt, E]
  Tensor decoded = decoder->forward(embedded, {encoded.h, encoded.c}).first;  // [B, Tt, H]
  nn::AttentionOutput attended = attend(decoded, encoded);
  Tensor logits = (*output)(cat({decoded, attended.output}, 2));  // one GEMM for every step
  return {logits, attended.weights};
}

BahdanauSeq2Seq::StepWeights BahdanauSeq2Seq::step_weights() {
  Tensor w_ih, b_ih;
  StepWeights weights;
  for (const auto& [name, tensor] : decoder->named_parameters()) {
    if (name == "weight_ih_l0") w_ih = tensor;
    if (name == "bias_ih_l0") b_ih = tensor;
    if (name == "weight_hh_l0") weights.w_hh = tensor;
    if (name == "bias_hh_l0") weights.b_hh = tensor;
  }
  weights.input_table = linear(target_embedding->weight, w_ih, b_ih);  // [V, 4H]
  return weights;
}

std::pair<Tensor, Tensor> BahdanauSeq2Seq::step(const StepWeights& weights, const Encoded& encoded,
                                                const Tensor& prev, Tensor& h, Tensor& c) {
  Tensor gates_input = index_select(weights.input_table, 0, prev);  // [N, 4H]
  std::tie(h, c) = lstm_cell(gates_input, h, c, weights.w_hh, weights.b_hh);
  nn::AttentionOutput attended = attend(h, encoded);
  return {(*output)(cat({h, attended.output}, 1)), attended.weights};
}

namespace {

// The first index of the largest value (argmax's tie rule).
int64_t first_max(const float* values, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (values[i] > values[best]) best = i;
  return best;
}

}  // namespace

std::vector<BahdanauSeq2Seq::Decoded> BahdanauSeq2Seq::greedy_decode(
    const Tensor& source, const std::vector<int64_t>& lengths, int64_t max_length) {
  MINIDL_CHECK(max_length >= 1, "BahdanauSeq2Seq",
               "max_length must be positive, got " << max_length);
  NoGradGuard no_grad;
  Encoded encoded = encode(source, lengths);
  const int64_t batch = source.size(0), vocab = target_vocab;
  StepWeights weights = step_weights();
  Tensor h = encoded.h.select(0, 0), c = encoded.c.select(0, 0);
  std::vector<int64_t> prev(batch, Vocab::kBos);
  std::vector<Decoded> result(batch);
  std::vector<char> done(batch, 0);
  std::vector<Tensor> step_attention;
  for (int64_t t = 0; t < max_length; ++t) {
    auto [logits, attention_weights] =
        step(weights, encoded, from_vector(prev, {batch}, kInt64), h, c);
    step_attention.push_back(attention_weights);
    const std::vector<float> log_probs = log_softmax(logits, 1).to_vector<float>();
    bool all_done = true;
    for (int64_t b = 0; b < batch; ++b) {
      if (done[b]) continue;
      const float* row = log_probs.data() + b * vocab;
      const int64_t token = first_max(row, vocab);
      result[b].log_prob += row[token];
      if (token == Vocab::kEos) {
        done[b] = 1;
      } else {
        result[b].tokens.push_back(token);
        all_done = false;
      }
      prev[b] = token;
    }
    if (all_done) break;
  }
  Tensor all_attention = stack(step_attention, 1);  // [B, steps taken, Ts]
  for (int64_t b = 0; b < batch; ++b)
    result[b].attention = all_attention.select(0, b)
                              .narrow(0, 0, static_cast<int64_t>(result[b].tokens.size()))
                              .contiguous();
  return result;
}

BahdanauSeq2Seq::Decoded BahdanauSeq2Seq::beam_search(const std::vector<int64_t>& source,
                                                      int64_t beam_width, int64_t max_length) {
  MINIDL_CHECK(
      beam_width >= 1 && max_length >= 1, "BahdanauSeq2Seq",
      "beam_width and max_length must be positive, got " << beam_width << " and " << max_length);
  MINIDL_CHECK(!source.empty(), "BahdanauSeq2Seq", "beam_search needs a non-empty source");
  NoGradGuard no_grad;
  const int64_t steps = static_cast<int64_t>(source.size()), vocab = target_vocab;
  const Encoded one = encode(from_vector(source, {1, steps}, kInt64), {steps});
  StepWeights weights = step_weights();

  struct Hypothesis {
    std::vector<int64_t> tokens;
    std::vector<float> attention;  // [tokens, Ts] row-major
    double score = 0;              // total log-probability
  };
  std::vector<Hypothesis> alive(1), finished;
  Tensor h = one.h.select(0, 0), c = one.c.select(0, 0);
  Encoded beams = one;
  for (int64_t t = 0; t < max_length; ++t) {
    const int64_t n = static_cast<int64_t>(alive.size());
    if (beams.keys.size(0) != n) {  // the encoder's result, once per live hypothesis
      Tensor rows = zeros({n}, kInt64);
      beams.keys = index_select(one.keys, 0, rows);
      if (one.projected_keys.defined())
        beams.projected_keys = index_select(one.projected_keys, 0, rows);
    }
    std::vector<int64_t> prev(n);
    for (int64_t i = 0; i < n; ++i)
      prev[i] = alive[i].tokens.empty() ? Vocab::kBos : alive[i].tokens.back();
    auto [logits, attention_weights] = step(weights, beams, from_vector(prev, {n}, kInt64), h, c);
    const std::vector<float> log_probs = log_softmax(logits, 1).to_vector<float>();
    const std::vector<float> rows = attention_weights.to_vector<float>();  // [n, Ts]

    // Candidates (hypothesis i, token v) by total score, ties by i * V + v (argmax's order).
    std::vector<int64_t> order(static_cast<size_t>(n * vocab));
    std::iota(order.begin(), order.end(), 0);
    auto score_of = [&](int64_t k) { return alive[k / vocab].score + log_probs[k]; };
    const int64_t keep = std::min<int64_t>(2 * beam_width, n * vocab);
    std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](int64_t a, int64_t b) {
      const double sa = score_of(a), sb = score_of(b);
      return sa > sb || (sa == sb && a < b);
    });
    std::vector<Hypothesis> next;
    std::vector<int64_t> parents;
    for (int64_t r = 0; r < keep && static_cast<int64_t>(next.size()) < beam_width; ++r) {
      const int64_t i = order[r] / vocab, token = order[r] % vocab;
      Hypothesis hypothesis = alive[i];
      hypothesis.score = score_of(order[r]);
      if (token == Vocab::kEos) {
        finished.push_back(std::move(hypothesis));
        continue;
      }
      hypothesis.tokens.push_back(token);
      hypothesis.attention.insert(hypothesis.attention.end(), rows.begin() + i * steps,
                                  rows.begin() + (i + 1) * steps);
      next.push_back(std::move(hypothesis));
      parents.push_back(i);
    }
    alive = std::move(next);
    if (static_cast<int64_t>(finished.size()) >= beam_width || alive.empty()) break;
    // Scores only decrease: no live hypothesis can beat a finished one that is already better.
    double best_finished = -INFINITY, best_alive = -INFINITY;
    for (const Hypothesis& f : finished) best_finished = std::max(best_finished, f.score);
    for (const Hypothesis& a : alive) best_alive = std::max(best_alive, a.score);
    if (best_finished >= best_alive) break;
    if (t + 1 == max_length) break;
    Tensor parent_index = from_vector(parents, {static_cast<int64_t>(parents.size())}, kInt64);
    h = index_select(h, 0, parent_index);
    c = index_select(c, 0, parent_index);
  }
  if (finished.empty()) finished = std::move(alive);  // max_length reached without <eos>
  const Hypothesis* best = &finished[0];
  for (const Hypothesis& f : finished)
    if (f.score > best->score) best = &f;
  Decoded decoded;
  decoded.tokens = best->tokens;
  decoded.log_prob = best->score;
  decoded.attention =
      from_vector(best->attention, {static_cast<int64_t>(best->tokens.size()), steps});
  return decoded;
}

// ---------------------------------------------------------------- the date task

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

BahdanauDatesTask::BahdanauDatesTask(BahdanauDatesConfig config)
    : base_config_(config), config_(config) {}

BahdanauSeq2Seq& BahdanauDatesTask::seq2seq() {
  MINIDL_CHECK(model_, config_.name, "call setup before using the model");
  return *model_;
}

void BahdanauDatesTask::setup(const TaskOptions& options) {
  options_ = options;
  config_ = options.smoke ? base_config_.smoke() : base_config_;
  splits_ =
      make_date_splits(config_.train_size, config_.valid_size, config_.test_size, options.seed);
  std::vector<std::string> humans, isos;
  for (const DatePair& pair : splits_.train) {
    humans.push_back(pair.human);
    isos.push_back(pair.iso);
  }
  source_vocab_ = Vocab::build(humans);
  target_vocab_ = Vocab::build(isos);
  train_.clear();
  max_target_length_ = 0;
  for (const DatePair& pair : splits_.train) {
    train_.push_back({source_vocab_.encode(pair.human), target_vocab_.encode(pair.iso)});
    max_target_length_ =
        std::max<int64_t>(max_target_length_, static_cast<int64_t>(train_.back().target.size()));
  }
  manual_seed(options.seed);
  model_ = std::make_shared<BahdanauSeq2Seq>(source_vocab_.size(), target_vocab_.size(),
                                             config_.embedding_dim, config_.hidden_size,
                                             config_.attention_units, config_.score);
  order_.clear();
  batch_size_ = 0;
}

TrainDefaults BahdanauDatesTask::defaults() const {
  TrainDefaults defaults;
  defaults.epochs = config_.epochs;
  defaults.batch_size = config_.batch_size;
  defaults.lr = config_.lr;
  defaults.optimizer = config_.optimizer;
  defaults.clip_grad_norm = config_.clip_grad_norm;
  return defaults;
}

int64_t BahdanauDatesTask::start_epoch(int64_t epoch, int64_t batch_size) {
  MINIDL_CHECK(model_, config_.name, "call setup before start_epoch");
  MINIDL_CHECK(batch_size >= 1, config_.name, "batch_size must be positive, got " << batch_size);
  batch_size_ = batch_size;
  order_.resize(train_.size());
  std::iota(order_.begin(), order_.end(), 0);
  // Fisher-Yates from a generator seeded by (seed, epoch): the same order in every run.
  std::mt19937_64 rng(options_.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 1);
  for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng() % i]);
  return (static_cast<int64_t>(order_.size()) + batch_size - 1) / batch_size;
}

BahdanauDatesTask::Batch BahdanauDatesTask::make_batch(
    const std::vector<const Example*>& examples) const {
  const int64_t batch = static_cast<int64_t>(examples.size());
  int64_t source_steps = 1, target_steps = 1;
  for (const Example* e : examples) {
    source_steps = std::max<int64_t>(source_steps, static_cast<int64_t>(e->source.size()));
    target_steps = std::max<int64_t>(target_steps, static_cast<int64_t>(e->target.size()) + 1);
  }
  std::vector<int64_t> source(batch * source_steps, Vocab::kPad);
  std::vector<int64_t> target_input(batch * target_steps, Vocab::kPad);
  std::vector<int64_t> target_output(batch * target_steps, Vocab::kPad);
  Batch result;
  for (int64_t b = 0; b < batch; ++b) {
    const Example& e = *examples[b];
    std::copy(e.source.begin(), e.source.end(), source.begin() + b * source_steps);
    result.lengths.push_back(std::max<int64_t>(1, static_cast<int64_t>(e.source.size())));
    if (e.source.empty()) source[b * source_steps] = Vocab::kUnk;  // never empty
    const int64_t n = static_cast<int64_t>(e.target.size());
    target_input[b * target_steps] = Vocab::kBos;
    for (int64_t t = 0; t < n; ++t) {
      target_input[b * target_steps + t + 1] = e.target[t];
      target_output[b * target_steps + t] = e.target[t];
    }
    target_output[b * target_steps + n] = Vocab::kEos;
  }
  result.source = from_vector(source, {batch, source_steps}, kInt64);
  result.target_input = from_vector(target_input, {batch, target_steps}, kInt64);
  result.target_output = from_vector(target_output, {batch, target_steps}, kInt64);
  return result;
}

namespace {

// Mean cross-entropy of logits [B, Tt, V] against targets [B, Tt], padding ignored.
Tensor sequence_loss(const Tensor& logits, const Tensor& targets) {
  const int64_t rows = logits.size(0) * logits.size(1);
  return cross_entropy(logits.reshape({rows, logits.size(2)}), targets.reshape({rows}), Tensor(),
                       Vocab::kPad);
}

}  // namespace

Tensor BahdanauDatesTask::batch_loss(int64_t index, int64_t* items) {
  MINIDL_CHECK(batch_size_ > 0, config_.name, "call start_epoch before batch_loss");
  const int64_t total = static_cast<int64_t>(order_.size());
  const int64_t first = index * batch_size_;
  MINIDL_CHECK(
      index >= 0 && first < total, config_.name,
      "batch " << index << " out of range [0, " << (total + batch_size_ - 1) / batch_size_ << ")");
  const int64_t count = std::min(batch_size_, total - first);
  std::vector<const Example*> examples;
  for (int64_t i = first; i < first + count; ++i) examples.push_back(&train_[order_[i]]);
  Batch batch = make_batch(examples);
  if (items) *items = count;
  Tensor logits = model_->forward(batch.source, batch.lengths, batch.target_input).first;
  return sequence_loss(logits, batch.target_output);
}

const std::vector<DatePair>& BahdanauDatesTask::split(const std::string& name) const {
  if (name == "train") return splits_.train;
  if (name == "valid") return splits_.valid;
  if (name == "test") return splits_.test;
  MINIDL_FAIL(config_.name,
              "unknown split '" << name << "' (expected \"train\", \"valid\" or \"test\")");
}

Metrics BahdanauDatesTask::evaluate(const std::string& name) {
  MINIDL_CHECK(model_, config_.name, "call setup before evaluate");
  const std::vector<DatePair>& pairs = split(name);
  MINIDL_CHECK(!pairs.empty(), config_.name, "split '" << name << "' is empty");
  NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  const int64_t total = static_cast<int64_t>(pairs.size()), chunk = 500;
  int64_t exact = 0, chars_right = 0, chars_total = 0;
  double loss_sum = 0;
  for (int64_t first = 0; first < total; first += chunk) {
    const int64_t count = std::min(chunk, total - first);
    std::vector<Example> encoded;
    for (int64_t i = first; i < first + count; ++i)
      encoded.push_back({source_vocab_.encode(pairs[i].human), target_vocab_.encode(pairs[i].iso)});
    std::vector<const Example*> examples;
    int64_t target_tokens = 0;
    for (const Example& e : encoded) {
      examples.push_back(&e);
      target_tokens += static_cast<int64_t>(e.target.size()) + 1;
    }
    Batch batch = make_batch(examples);
    Tensor logits = model_->forward(batch.source, batch.lengths, batch.target_input).first;
    loss_sum += sequence_loss(logits, batch.target_output).item<double>() * target_tokens;
    chars_total += target_tokens - count;
    std::vector<BahdanauSeq2Seq::Decoded> decoded =
        model_->greedy_decode(batch.source, batch.lengths, max_target_length_ + 5);
    for (int64_t b = 0; b < count; ++b) {
      const std::vector<int64_t>& want = encoded[b].target;
      const std::vector<int64_t>& got = decoded[b].tokens;
      exact += got == want;
      for (size_t t = 0; t < want.size() && t < got.size(); ++t) chars_right += got[t] == want[t];
    }
  }
  // loss: per target token (<eos> included), as the training loss.
  int64_t all_tokens = chars_total + total;
  model_->train(was_training);
  return {{"exact_match", static_cast<double>(exact) / total},
          {"char_accuracy", static_cast<double>(chars_right) / std::max<int64_t>(1, chars_total)},
          {"loss", loss_sum / all_tokens}};
}

Prediction BahdanauDatesTask::predict(const std::string& input, int64_t beam_width) {
  MINIDL_CHECK(model_, config_.name, "call setup before predict");
  MINIDL_CHECK(!input.empty(), config_.name, "predict needs a non-empty input");
  const bool was_training = model_->is_training();
  model_->eval();
  std::vector<int64_t> source = source_vocab_.encode(input);
  const int64_t max_length = max_target_length_ + 5;
  BahdanauSeq2Seq::Decoded decoded;
  if (beam_width == 1) {
    decoded =
        model_->greedy_decode(from_vector(source, {1, static_cast<int64_t>(source.size())}, kInt64),
                              {static_cast<int64_t>(source.size())}, max_length)[0];
  } else {
    decoded = model_->beam_search(source, beam_width, max_length);
  }
  model_->train(was_training);
  Prediction prediction;
  prediction.output = target_vocab_.decode(decoded.tokens);
  prediction.source_tokens = source_vocab_.tokenize(input);
  for (int64_t token : decoded.tokens)
    prediction.target_tokens.push_back(target_vocab_.id_to_token(token));
  prediction.attention = decoded.attention;
  return prediction;
}

std::vector<std::string> BahdanauDatesTask::example_inputs() const {
  std::vector<std::string> inputs = {"3 May 1979", "Thursday, May 3, 1979", "the 3rd of may, 1979",
                                     "5/3/79", "03.05.79"};
  for (size_t i = 0; i < splits_.test.size() && i < 5; ++i) inputs.push_back(splits_.test[i].human);
  return inputs;
}

std::unique_ptr<Task> make_bahdanau_dates_task() {
  return std::make_unique<BahdanauDatesTask>();
}

}  // namespace minidl::models
