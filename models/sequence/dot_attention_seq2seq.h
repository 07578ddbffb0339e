// Tutorial model: the Keras "From Theory to Code" seq2seq -- LSTM encoder, dot-product attention
// layer softmax(Q Kᵀ) V (no projections), LSTM decoder, Dense softmax; Adam.
// Dataset: date normalization (models/data/date_data.h: human-written dates -> ISO 8601, generated).
//
// It shares its encoder, decoder, batching, decoding and metrics with the Bahdanau model
// (models/sequence/bahdanau_seq2seq.h, score = "dot"): the two tutorials differ only in the score that
// compares a decoder state with the encoder states (qᵀk instead of vᵀ tanh(W1 q + W2 k)) and in
// the optimizer.
#pragma once

#include <memory>

#include "models/sequence/bahdanau_seq2seq.h"
#include "models/common/task.h"

namespace minidl::models {

// The configuration of `tools/train --model dot-attention-dates`.
BahdanauDatesConfig dot_attention_dates_config();
std::unique_ptr<Task> make_dot_attention_dates_task();

}  // namespace minidl::models
