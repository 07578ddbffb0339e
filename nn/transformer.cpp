// Transformer encoder/decoder layers and stacks (PyTorch 1.13's torch.nn.Transformer* modules;
// Vaswani et al. 2017, section 3.1):
//
//   post-norm:  x = norm1(x + SA(x));  [x = norm2(x + CA(x, memory));]  x = normN(x + FF(x))
//   pre-norm:   x = x + SA(norm1(x));  [x = x + CA(norm2(x), memory);]  x = x + FF(normN(x))
//   FF(x) = dropout(linear2(dropout(activation(linear1(x)))))
//
// SA / CA are nn::MultiheadAttention calls with need_weights = false, so the fused attention
// kernel runs; self-attention passes the same tensor as query, key and value, which takes the
// packed one-GEMM projection.
#include "nn/transformer.h"

#include <limits>

#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/shape_ops.h"

namespace minidl::nn {

namespace {

// Options is TransformerEncoderLayerOptions or TransformerDecoderLayerOptions (the same fields).
template <typename Options>
void check_options(const Options& o, const char* module) {
  MINIDL_CHECK(o.d_model() > 0 && o.nhead() > 0 && o.dim_feedforward() > 0, module,
               "d_model, nhead and dim_feedforward must be positive, got d_model="
                   << o.d_model() << ", nhead=" << o.nhead()
                   << ", dim_feedforward=" << o.dim_feedforward());
  MINIDL_CHECK(o.activation() == "relu" || o.activation() == "gelu", module,
               "activation should be relu/gelu, not " << o.activation());
}

void check_input(const Tensor& x, int64_t d_model, const char* module, const char* what) {
  MINIDL_CHECK(x.defined(), module, what << " is undefined");
  MINIDL_CHECK((x.dim() == 2 || x.dim() == 3) && x.shape().back() == d_model, module,
               "expected " << what << " of rank 3 (or 2, unbatched) with last dimension d_model="
                           << d_model << ", got shape " << shape_str(x.shape()));
}

// FF(x) = dropout_out(linear2(dropout(activation(linear1(x)))))
Tensor feed_forward(const Tensor& x, Linear& linear1, Dropout& dropout, Linear& linear2,
                    Dropout& dropout_out, const std::string& activation) {
  const Tensor hidden = linear1(x);
  return dropout_out(linear2(dropout(activation == "gelu" ? gelu(hidden) : relu(hidden))));
}

// One residual sub-layer: x + f(norm(x)) (pre-norm, norm_first) or norm(x + f(x)) (post-norm).
template <typename F>
Tensor residual(const Tensor& x, LayerNorm& norm, bool norm_first, F f) {
  return norm_first ? x + f(norm(x)) : norm(x + f(x));
}

template <typename Options>
MultiheadAttentionOptions attention_options(const Options& o) {
  return MultiheadAttentionOptions(o.d_model(), o.nhead())
      .dropout(o.dropout())
      .batch_first(o.batch_first());
}

template <typename Options>
Options layer_options(int64_t d_model, int64_t nhead, int64_t dim_feedforward, double dropout,
                      const std::string& activation, double layer_norm_eps, bool batch_first,
                      bool norm_first) {
  return Options(d_model, nhead)
      .dim_feedforward(dim_feedforward)
      .dropout(dropout)
      .activation(activation)
      .layer_norm_eps(layer_norm_eps)
      .batch_first(batch_first)
      .norm_first(norm_first);
}

// A copy of `prototype` with its own parameters: same options, values, dtype and train mode
// (PyTorch's copy.deepcopy of the layer).
template <typename Layer>
std::shared_ptr<Layer> copy_layer(const Layer& prototype) {
  auto copy = std::make_shared<Layer>(prototype.options);
  copy->to(prototype.linear1->weight.dtype());
  copy->load_state_dict(prototype.state_dict());
  copy->train(prototype.is_training());
  return copy;
}

template <typename Layer>
std::shared_ptr<ModuleList> make_layers(const Layer& prototype, int64_t num_layers,
                                        const char* module) {
  MINIDL_CHECK(num_layers >= 1, module, "num_layers must be positive, got " << num_layers);
  auto layers = std::make_shared<ModuleList>();
  for (int64_t i = 0; i < num_layers; ++i) layers->push_back(copy_layer(prototype));
  return layers;
}

}  // namespace

Tensor generate_square_subsequent_mask(int64_t size, DType dtype) {
  MINIDL_CHECK(size >= 0, "generate_square_subsequent_mask",
               "size must be non-negative, got " << size);
  MINIDL_CHECK(is_floating_point(dtype), "generate_square_subsequent_mask",
               "dtype must be floating, got " << dtype);
  return triu(full({size, size}, -std::numeric_limits<double>::infinity(), dtype), 1);
}

// ---------------------------------------------------------------- TransformerEncoderLayer

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerEncoderLayerOptions& o)
    : Module("TransformerEncoderLayer"), options(o) {
  check_options(o, "TransformerEncoderLayer");
  self_attn =
      register_module("self_attn", std::make_shared<MultiheadAttention>(attention_options(o)));
  linear1 = register_module("linear1", std::make_shared<Linear>(o.d_model(), o.dim_feedforward()));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout()));
  linear2 = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward(), o.d_model()));
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(o.d_model(), o.layer_norm_eps()));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(o.d_model(), o.layer_norm_eps()));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout()));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout()));
}

TransformerEncoderLayer::TransformerEncoderLayer(int64_t d_model, int64_t nhead,
                                                 int64_t dim_feedforward, double dropout,
                                                 const std::string& activation,
                                                 double layer_norm_eps, bool batch_first,
                                                 bool norm_first)
    : TransformerEncoderLayer(layer_options<TransformerEncoderLayerOptions>(
          d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
          norm_first)) {}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask, bool is_causal) {
  check_input(src, options.d_model(), "TransformerEncoderLayer", "src");
  auto self_attention = [&](const Tensor& x) {
    return (*dropout1)(std::get<0>(self_attn->forward(x, x, x, src_key_padding_mask,
                                                      /*need_weights=*/false, src_mask,
                                                      /*average_attn_weights=*/true, is_causal)));
  };
  auto ff = [&](const Tensor& x) {
    return feed_forward(x, *linear1, *dropout, *linear2, *dropout2, options.activation());
  };
  const Tensor x = residual(src, *norm1, options.norm_first(), self_attention);
  return residual(x, *norm2, options.norm_first(), ff);
}

// ---------------------------------------------------------------- TransformerDecoderLayer

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerDecoderLayerOptions& o)
    : Module("TransformerDecoderLayer"), options(o) {
  check_options(o, "TransformerDecoderLayer");
  self_attn =
      register_module("self_attn", std::make_shared<MultiheadAttention>(attention_options(o)));
  multihead_attn =
      register_module("multihead_attn", std::make_shared<MultiheadAttention>(attention_options(o)));
  linear1 = register_module("linear1", std::make_shared<Linear>(o.d_model(), o.dim_feedforward()));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout()));
  linear2 = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward(), o.d_model()));
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(o.d_model(), o.layer_norm_eps()));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(o.d_model(), o.layer_norm_eps()));
  norm3 = register_module("norm3", std::make_shared<LayerNorm>(o.d_model(), o.layer_norm_eps()));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout()));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout()));
  dropout3 = register_module("dropout3", std::make_shared<Dropout>(o.dropout()));
}

TransformerDecoderLayer::TransformerDecoderLayer(int64_t d_model, int64_t nhead,
                                                 int64_t dim_feedforward, double dropout,
                                                 const std::string& activation,
                                                 double layer_norm_eps, bool batch_first,
                                                 bool norm_first)
    : TransformerDecoderLayer(layer_options<TransformerDecoderLayerOptions>(
          d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
          norm_first)) {}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory,
                                        const Tensor& tgt_mask, const Tensor& memory_mask,
                                        const Tensor& tgt_key_padding_mask,
                                        const Tensor& memory_key_padding_mask, bool tgt_is_causal,
                                        bool memory_is_causal) {
  check_input(tgt, options.d_model(), "TransformerDecoderLayer", "tgt");
  check_input(memory, options.d_model(), "TransformerDecoderLayer", "memory");
  auto self_attention = [&](const Tensor& x) {
    return (*dropout1)(
        std::get<0>(self_attn->forward(x, x, x, tgt_key_padding_mask,
                                       /*need_weights=*/false, tgt_mask,
                                       /*average_attn_weights=*/true, tgt_is_causal)));
  };
  auto cross_attention = [&](const Tensor& x) {
    return (*dropout2)(std::get<0>(multihead_attn->forward(
        x, memory, memory, memory_key_padding_mask, /*need_weights=*/false, memory_mask,
        /*average_attn_weights=*/true, memory_is_causal)));
  };
  auto ff = [&](const Tensor& x) {
    return feed_forward(x, *linear1, *dropout, *linear2, *dropout3, options.activation());
  };
  Tensor x = residual(tgt, *norm1, options.norm_first(), self_attention);
  x = residual(x, *norm2, options.norm_first(), cross_attention);
  return residual(x, *norm3, options.norm_first(), ff);
}

// ---------------------------------------------------------------- the stacks

TransformerEncoder::TransformerEncoder(const TransformerEncoderLayerOptions& layer_options,
                                       int64_t num_layers, std::shared_ptr<LayerNorm> norm)
    : TransformerEncoder(
          TransformerEncoderOptions(layer_options, num_layers).norm(std::move(norm))) {}

TransformerEncoder::TransformerEncoder(const TransformerEncoderLayer& prototype, int64_t num_layers,
                                       std::shared_ptr<LayerNorm> norm)
    : TransformerEncoder(
          TransformerEncoderOptions(copy_layer(prototype), num_layers).norm(std::move(norm))) {}

TransformerEncoder::TransformerEncoder(const TransformerEncoderOptions& options)
    : Module("TransformerEncoder"),
      options(options),
      num_layers(options.num_layers()),
      norm(options.norm()) {
  MINIDL_CHECK(options.encoder_layer() != nullptr, "TransformerEncoder",
               "options.encoder_layer() is empty: give a layer or its options");
  layers = register_module("layers",
                           make_layers(*options.encoder_layer(), num_layers, "TransformerEncoder"));
  if (norm) register_module("norm", norm);
}

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask,
                                   const Tensor& src_key_padding_mask, bool is_causal) {
  Tensor x = src;
  for (int64_t i = 0; i < num_layers; ++i)
    x = layer(i)->forward(x, mask, src_key_padding_mask, is_causal);
  return norm ? (*norm)(x) : x;
}

TransformerDecoder::TransformerDecoder(const TransformerDecoderLayerOptions& layer_options,
                                       int64_t num_layers, std::shared_ptr<LayerNorm> norm)
    : TransformerDecoder(
          TransformerDecoderOptions(layer_options, num_layers).norm(std::move(norm))) {}

TransformerDecoder::TransformerDecoder(const TransformerDecoderLayer& prototype, int64_t num_layers,
                                       std::shared_ptr<LayerNorm> norm)
    : TransformerDecoder(
          TransformerDecoderOptions(copy_layer(prototype), num_layers).norm(std::move(norm))) {}

TransformerDecoder::TransformerDecoder(const TransformerDecoderOptions& options)
    : Module("TransformerDecoder"),
      options(options),
      num_layers(options.num_layers()),
      norm(options.norm()) {
  MINIDL_CHECK(options.decoder_layer() != nullptr, "TransformerDecoder",
               "options.decoder_layer() is empty: give a layer or its options");
  layers = register_module("layers",
                           make_layers(*options.decoder_layer(), num_layers, "TransformerDecoder"));
  if (norm) register_module("norm", norm);
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                   const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                   const Tensor& memory_key_padding_mask, bool tgt_is_causal,
                                   bool memory_is_causal) {
  Tensor x = tgt;
  for (int64_t i = 0; i < num_layers; ++i)
    x = layer(i)->forward(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                          memory_key_padding_mask, tgt_is_causal, memory_is_causal);
  return norm ? (*norm)(x) : x;
}

}  // namespace minidl::nn
