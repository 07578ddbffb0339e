// Show, Attend and Tell (models/captioning/show_attend_tell.h): the CNN encoder, the attention
// decoder unrolled with teacher forcing, and greedy decoding.
#include "models/captioning/show_attend_tell.h"

#include <sstream>
#include <tuple>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "models/captioning/mosaic_data.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"
#include "ops/shape_ops.h"

namespace minidl::models {

AttentionCaptioner::AttentionCaptioner(const AttentionCaptionerOptions& options)
    : nn::Module("AttentionCaptioner"), options(options) {
  MINIDL_CHECK(options.vocab_size > kFirstClassToken && options.image_size > 0 &&
                   options.image_size % 4 == 0 && options.channels1 > 0 && options.channels2 > 0 &&
                   options.channels3 > 0 && options.feature_dim > 0 && options.embedding_dim > 0 &&
                   options.hidden_size > 0 && options.attention_units > 0 && options.dropout >= 0 &&
                   options.dropout < 1,
               "AttentionCaptioner",
               "the vocabulary must hold <pad>, <start>, <end> and a class, the image size be a "
               "positive multiple of 4, sizes positive and dropout in [0, 1), got vocab_size "
                   << options.vocab_size << ", image_size " << options.image_size << ", channels "
                   << options.channels1 << "/" << options.channels2 << "/" << options.channels3
                   << "/" << options.feature_dim << ", embedding_dim " << options.embedding_dim
                   << ", hidden_size " << options.hidden_size << ", attention_units "
                   << options.attention_units << ", dropout " << options.dropout);
  const int64_t D = options.feature_dim, H = options.hidden_size, E = options.embedding_dim;
  // conv 3x3 (padding keeps the size, `dilation` apart; no bias, BatchNorm has one) - BatchNorm
  // - ReLU.
  auto block = [](int64_t in, int64_t out, int64_t dilation) {
    return std::vector<nn::ModulePtr>{
        std::make_shared<nn::Conv2d>(in, out, 3, 1, dilation, dilation, 1, /*bias=*/false),
        std::make_shared<nn::BatchNorm2d>(out), std::make_shared<nn::ReLU>()};
  };
  encoder = register_module("encoder", std::make_shared<nn::Sequential>());
  for (const auto& [in, out, dilation, pool] :
       std::vector<std::tuple<int64_t, int64_t, int64_t, bool>>{
           {1, options.channels1, 1, true},
           {options.channels1, options.channels2, 1, true},
           {options.channels2, options.channels3, 1, false},
           {options.channels3, D, 2, false}}) {
    for (const nn::ModulePtr& layer : block(in, out, dilation)) encoder->push_back(layer);
    if (pool) encoder->push_back(std::make_shared<nn::MaxPool2d>(2));
  }
  const int64_t cells = grid_size() * grid_size();
  positions = register_parameter("positions", randn({1, cells, D}) * 0.1);
  embedding = register_module("embedding",
                              std::make_shared<nn::Embedding>(options.vocab_size, E, kCaptionPad));
  attention = register_module(
      "attention", make_grid_attention(options.attention, H, D, options.attention_units));
  init_h = register_module("init_h", std::make_shared<nn::Linear>(D, H));
  init_c = register_module("init_c", std::make_shared<nn::Linear>(D, H));
  cell = register_module("cell", std::make_shared<nn::LSTMCell>(E + D, H));
  output = register_module("output", std::make_shared<nn::Linear>(H, options.vocab_size));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(options.dropout));
}

std::string AttentionCaptioner::extra_repr() const {
  std::ostringstream s;
  s << "attention=" << options.attention << ", vocab_size=" << options.vocab_size
    << ", image_size=" << options.image_size << ", grid=" << grid_size() << "x" << grid_size()
    << ", feature_dim=" << options.feature_dim << ", embedding_dim=" << options.embedding_dim
    << ", hidden_size=" << options.hidden_size << ", attention_units=" << options.attention_units
    << ", dropout=" << options.dropout;
  return s.str();
}

Tensor AttentionCaptioner::encode(const Tensor& images) {
  const int64_t S = options.image_size;
  MINIDL_CHECK(images.defined() && images.dim() == 4 && images.size(0) > 0 && images.size(1) == 1 &&
                   images.size(2) == S && images.size(3) == S,
               "AttentionCaptioner",
               "expected images [B, 1, "
                   << S << ", " << S << "], got "
                   << (images.defined() ? shape_str(images.shape()) : "undefined"));
  // [B, D, g, g] -> [B, g * g, D]: cell (row, col) is grid position row * g + col.
  return (*encoder)(images).flatten(2).transpose(1, 2) + positions;
}

AttentionCaptioner::DecoderState AttentionCaptioner::start(const Tensor& images) {
  DecoderState state;
  state.features = encode(images);                       // [B, G, D]
  state.keys = attention->prepare_keys(state.features);  // [B, G, A]
  Tensor mean = state.features.mean({1});                // [B, D]
  state.h = (*init_h)(mean);
  state.c = (*init_c)(mean);
  return state;
}

std::pair<Tensor, Tensor> AttentionCaptioner::step(const Tensor& prev, DecoderState& state) {
  nn::AttentionOutput attended = attention->attend(state.h, state.keys, state.features);
  Tensor input = cat({(*embedding)(prev), attended.output}, 1);  // [B, E + D]
  std::tie(state.h, state.c) = cell->forward(input, std::make_tuple(state.h, state.c));
  return {(*output)((*dropout)(state.h)), attended.weights};
}

std::pair<Tensor, Tensor> AttentionCaptioner::forward(const Tensor& images,
                                                      const Tensor& caption_input) {
  MINIDL_CHECK(caption_input.defined() && caption_input.dim() == 2 &&
                   caption_input.dtype() == kInt64 && caption_input.size(1) > 0 &&
                   images.defined() && images.dim() > 0 && caption_input.size(0) == images.size(0),
               "AttentionCaptioner",
               "expected caption_input int64 [B, T] with the images' batch size, got "
                   << (caption_input.defined() ? shape_str(caption_input.shape()) : "undefined")
                   << " for images "
                   << (images.defined() ? shape_str(images.shape()) : "undefined"));
  DecoderState state = start(images);
  std::vector<Tensor> logits, weights;
  for (int64_t t = 0; t < caption_input.size(1); ++t) {
    auto [step_logits, step_weights] = step(caption_input.select(1, t), state);
    logits.push_back(step_logits);
    weights.push_back(step_weights);
  }
  return {stack(logits, 1), stack(weights, 1)};  // [B, T, V], [B, T, G]
}

std::vector<AttentionCaptioner::Caption> AttentionCaptioner::greedy_decode(const Tensor& images,
                                                                           int64_t max_length) {
  MINIDL_CHECK(max_length >= 1, "AttentionCaptioner",
               "max_length must be positive, got " << max_length);
  NoGradGuard no_grad;
  DecoderState state = start(images);
  const int64_t batch = images.size(0), g = grid_size();
  std::vector<Caption> captions(batch);
  std::vector<std::vector<Tensor>> maps(batch);
  std::vector<char> done(batch, 0);
  Tensor prev = full({batch}, static_cast<double>(kCaptionStart), kInt64);
  for (int64_t t = 0; t < max_length; ++t) {
    auto [logits, weights] = step(prev, state);
    prev = argmax(logits, 1);
    const std::vector<int64_t> tokens = prev.to_vector<int64_t>();
    bool all_done = true;
    for (int64_t b = 0; b < batch; ++b) {
      if (done[b]) continue;
      if (tokens[b] == kCaptionEnd) {
        done[b] = 1;
        continue;
      }
      captions[b].tokens.push_back(tokens[b]);
      maps[b].push_back(weights.select(0, b).reshape({g, g}));
      all_done = false;
    }
    if (all_done) break;
  }
  for (int64_t b = 0; b < batch; ++b)
    captions[b].attention = maps[b].empty() ? zeros({0, g, g}) : stack(maps[b], 0).contiguous();
  return captions;
}

}  // namespace minidl::models
