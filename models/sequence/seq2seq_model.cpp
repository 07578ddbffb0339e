// Decoding shared by the encoder-decoders: greedy search over a batch and beam search over one
// source, both driven by a model's start() and step().
#include "models/sequence/seq2seq_model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "nn/data.h"
#include "ops/index_ops.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/shape_ops.h"
#include "ops/softmax.h"

namespace minidl::models {

using nn::Vocab;

Seq2SeqModel::State Seq2SeqModel::State::select(const Tensor& index) const {
  State picked;
  picked.shared = shared;
  for (const Tensor& row : rows)
    picked.rows.push_back(row.defined() ? index_select(row, 0, index) : Tensor());
  return picked;
}

Tensor Seq2SeqModel::check_source(const Tensor& source, const std::vector<int64_t>& lengths) const {
  const std::string& who = type_name();
  MINIDL_CHECK(source.defined() && source.dim() == 2 && source.dtype() == kInt64 &&
                   source.size(0) > 0 && source.size(1) > 0,
               who,
               "source must be non-empty int64 [B, Ts], got "
                   << (source.defined() ? shape_str(source.shape()) : "undefined"));
  const int64_t batch = source.size(0), steps = source.size(1);
  MINIDL_CHECK(static_cast<int64_t>(lengths.size()) == batch, who,
               "expected " << batch << " lengths for source of shape " << shape_str(source.shape())
                           << ", got " << lengths.size());
  bool padded = false;
  for (int64_t b = 0; b < batch; ++b) {
    MINIDL_CHECK(lengths[b] >= 1 && lengths[b] <= steps, who,
                 "length " << lengths[b] << " of row " << b << " is out of range [1, " << steps
                           << "] for source of shape " << shape_str(source.shape()));
    padded = padded || lengths[b] < steps;
  }
  if (!padded) return Tensor();
  std::vector<int64_t> mask(static_cast<size_t>(batch * steps));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < steps; ++t) mask[b * steps + t] = t >= lengths[b];
  return from_vector(mask, {batch, steps}, kInt64).to(kBool);
}

void Seq2SeqModel::check_target(const Tensor& source, const Tensor& target_input) const {
  MINIDL_CHECK(target_input.defined() && target_input.dim() == 2 &&
                   target_input.dtype() == kInt64 && target_input.size(0) == source.size(0) &&
                   target_input.size(1) > 0,
               type_name(),
               "target_input must be non-empty int64 [B, Tt] with the source's batch size, got "
                   << (target_input.defined() ? shape_str(target_input.shape()) : "undefined")
                   << " for source of shape " << shape_str(source.shape()));
}

std::pair<Tensor, nn::LSTM::State> run_encoder(nn::LSTM& encoder, const Tensor& embedded,
                                               const std::vector<int64_t>& lengths) {
  const int64_t steps = embedded.size(1);
  const bool padded = std::any_of(lengths.begin(), lengths.end(),
                                  [steps](int64_t length) { return length < steps; });
  if (!padded) {
    auto [outputs, state] = encoder.forward(embedded);
    return {outputs.contiguous(), {std::get<0>(state), std::get<1>(state)}};
  }
  nn::PackedSequence packed = nn::pack_padded_sequence(embedded, lengths, true, false);
  auto [packed_outputs, state] = encoder.forward(packed);
  return {nn::pad_packed_sequence(packed_outputs, true, 0.0, steps).first.contiguous(), state};
}

std::vector<Tensor> lstm_step_weights(const nn::Embedding& embedding, const nn::LSTM& lstm) {
  Tensor w_ih, b_ih, w_hh, b_hh;
  for (const auto& [name, tensor] : lstm.named_parameters()) {
    if (name == "weight_ih_l0") w_ih = tensor;
    if (name == "bias_ih_l0") b_ih = tensor;
    if (name == "weight_hh_l0") w_hh = tensor;
    if (name == "bias_hh_l0") b_hh = tensor;
  }
  return {linear(embedding.weight, w_ih, b_ih), w_hh, b_hh};
}

Tensor sequence_loss(const Tensor& logits, const Tensor& targets) {
  const int64_t rows = logits.size(0) * logits.size(1);
  return cross_entropy(logits.reshape({rows, logits.size(2)}), targets.reshape({rows}), Tensor(),
                       Vocab::kPad);
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

std::vector<Seq2SeqModel::Decoded> Seq2SeqModel::greedy_decode(const Tensor& source,
                                                               const std::vector<int64_t>& lengths,
                                                               int64_t max_length) {
  MINIDL_CHECK(max_length >= 1, type_name(), "max_length must be positive, got " << max_length);
  NoGradGuard no_grad;
  State state = start(source, lengths);
  const int64_t batch = source.size(0), vocab = target_vocab_size();
  std::vector<int64_t> prev(batch, Vocab::kBos);
  std::vector<Decoded> result(batch);
  std::vector<char> done(batch, 0);
  std::vector<Tensor> step_attention;
  for (int64_t t = 0; t < max_length; ++t) {
    auto [logits, attention_weights] = step(from_vector(prev, {batch}, kInt64), state);
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

Seq2SeqModel::Decoded Seq2SeqModel::beam_search(const std::vector<int64_t>& source,
                                                int64_t beam_width, int64_t max_length) {
  MINIDL_CHECK(
      beam_width >= 1 && max_length >= 1, type_name(),
      "beam_width and max_length must be positive, got " << beam_width << " and " << max_length);
  MINIDL_CHECK(!source.empty(), type_name(), "beam_search needs a non-empty source");
  NoGradGuard no_grad;
  const int64_t steps = static_cast<int64_t>(source.size()), vocab = target_vocab_size();
  State state = start(from_vector(source, {1, steps}, kInt64), {steps});

  struct Hypothesis {
    std::vector<int64_t> tokens;
    std::vector<float> attention;  // [tokens, Ts] row-major
    double score = 0;              // total log-probability
  };
  std::vector<Hypothesis> alive(1), finished;
  for (int64_t t = 0; t < max_length; ++t) {
    const int64_t n = static_cast<int64_t>(alive.size());
    std::vector<int64_t> prev(n);
    for (int64_t i = 0; i < n; ++i)
      prev[i] = alive[i].tokens.empty() ? Vocab::kBos : alive[i].tokens.back();
    auto [logits, attention_weights] = step(from_vector(prev, {n}, kInt64), state);
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
    // Each survivor continues from its parent's state (the first step expands the one source).
    state = state.select(from_vector(parents, {static_cast<int64_t>(parents.size())}, kInt64));
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

}  // namespace minidl::models
