// Transformer encoder and decoder layers and stacks (torch.nn.TransformerEncoderLayer,
// TransformerEncoder, TransformerDecoderLayer, TransformerDecoder as in PyTorch 1.13; Vaswani et
// al. 2017, "Attention Is All You Need", section 3.1):
//
//   encoder layer, post-norm (norm_first = false):
//     x = norm1(x + dropout1(SelfAttn(x)))
//     x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))
//   pre-norm (norm_first = true):
//     x = x + dropout1(SelfAttn(norm1(x)));   x = x + dropout2(FF(norm2(x)))
//   decoder layer adds cross-attention over `memory` between the two:
//     x = norm2(x + dropout2(CrossAttn(x, memory)))   (or x + dropout2(CrossAttn(norm2(x), mem)))
//     and its feed-forward block uses norm3 / dropout3.
//
//   src / tgt [T, B, d_model] ([B, T, d_model] with batch_first, [T, d_model] unbatched)
//   memory [S, B, d_model]  ->  output shaped like src / tgt
//
// Submodule names match PyTorch's (self_attn, multihead_attn, linear1, dropout, linear2, norm1..3,
// dropout1..3; stacks: layers.0..., norm), so a PyTorch state_dict loads unchanged. Masks follow
// nn::MultiheadAttention (bool true = NOT allowed / padded, or floating additive); see
// generate_square_subsequent_mask for the causal one.
// The stacks hold num_layers copies of one layer, as PyTorch's deepcopy: independent parameters
// that start equal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/arg.h"
#include "nn/attention/multihead.h"
#include "nn/container.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/normalization.h"

namespace minidl::nn {

// [size, size] float mask with -inf above the diagonal and 0 elsewhere: query i may attend to
// keys j <= i (PyTorch's nn.Transformer.generate_square_subsequent_mask).
Tensor generate_square_subsequent_mask(int64_t size, DType dtype = kFloat32);

// Builder-style constructor arguments of the layers, as libtorch's:
//   TransformerEncoderLayerOptions(512, 8).dim_feedforward(1024).dropout(0.0)
// layer_norm_eps, batch_first and norm_first are PyTorch's (Python) arguments, which
// libtorch 1.13's options lack.
struct TransformerEncoderLayerOptions {
  TransformerEncoderLayerOptions(int64_t d_model, int64_t nhead)
      : d_model_(d_model), nhead_(nhead) {}
  MINIDL_ARG(int64_t, d_model);
  MINIDL_ARG(int64_t, nhead);
  MINIDL_ARG(int64_t, dim_feedforward) = 2048;
  MINIDL_ARG(double, dropout) = 0.1;
  MINIDL_ARG(std::string, activation) = "relu";  // "relu" or "gelu"
  MINIDL_ARG(double, layer_norm_eps) = 1e-5;
  MINIDL_ARG(bool, batch_first) = false;
  MINIDL_ARG(bool, norm_first) = false;
};

// As TransformerEncoderLayerOptions: d_model, nhead required; 2048, 0.1, "relu", 1e-5, false,
// false.
struct TransformerDecoderLayerOptions {
  TransformerDecoderLayerOptions(int64_t d_model, int64_t nhead)
      : d_model_(d_model), nhead_(nhead) {}
  MINIDL_ARG(int64_t, d_model);
  MINIDL_ARG(int64_t, nhead);
  MINIDL_ARG(int64_t, dim_feedforward) = 2048;
  MINIDL_ARG(double, dropout) = 0.1;
  MINIDL_ARG(std::string, activation) = "relu";  // "relu" or "gelu"
  MINIDL_ARG(double, layer_norm_eps) = 1e-5;
  MINIDL_ARG(bool, batch_first) = false;
  MINIDL_ARG(bool, norm_first) = false;
};

// Self-attention + feed-forward block (see the top of this file).
class TransformerEncoderLayer : public Module {
 public:
  explicit TransformerEncoderLayer(const TransformerEncoderLayerOptions& options);
  TransformerEncoderLayer(int64_t d_model, int64_t nhead, int64_t dim_feedforward = 2048,
                          double dropout = 0.1, const std::string& activation = "relu",
                          double layer_norm_eps = 1e-5, bool batch_first = false,
                          bool norm_first = false);

  using Module::operator();
  Tensor forward(const Tensor& src) override { return forward(src, Tensor()); }
  // src [T, B, d_model] ([B, T, d_model] batch_first, [T, d_model] unbatched), src_mask [T, T] or
  // [B * nhead, T, T], src_key_padding_mask bool [B, T] -> src's shape.
  Tensor forward(const Tensor& src, const Tensor& src_mask,
                 const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false);
  Tensor operator()(const Tensor& src, const Tensor& src_mask,
                    const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false) {
    return forward(src, src_mask, src_key_padding_mask, is_causal);
  }

  TransformerEncoderLayerOptions options;
  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2;
  std::shared_ptr<LayerNorm> norm1, norm2;
};

// Self-attention, cross-attention over memory, feed-forward (see the top of this file).
class TransformerDecoderLayer : public Module {
 public:
  explicit TransformerDecoderLayer(const TransformerDecoderLayerOptions& options);
  TransformerDecoderLayer(int64_t d_model, int64_t nhead, int64_t dim_feedforward = 2048,
                          double dropout = 0.1, const std::string& activation = "relu",
                          double layer_norm_eps = 1e-5, bool batch_first = false,
                          bool norm_first = false);

  using Module::forward;
  using Module::operator();
  // tgt [T, B, d_model], memory [S, B, d_model] (batch-first / unbatched as src), tgt_mask [T, T],
  // memory_mask [T, S], key padding masks bool [B, T] / [B, S] -> tgt's shape.
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                 const Tensor& memory_mask = Tensor(),
                 const Tensor& tgt_key_padding_mask = Tensor(),
                 const Tensor& memory_key_padding_mask = Tensor(), bool tgt_is_causal = false,
                 bool memory_is_causal = false);
  Tensor operator()(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                    const Tensor& memory_mask = Tensor(),
                    const Tensor& tgt_key_padding_mask = Tensor(),
                    const Tensor& memory_key_padding_mask = Tensor(), bool tgt_is_causal = false,
                    bool memory_is_causal = false) {
    return forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                   memory_key_padding_mask, tgt_is_causal, memory_is_causal);
  }

  TransformerDecoderLayerOptions options;
  std::shared_ptr<MultiheadAttention> self_attn, multihead_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2, dropout3;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
};

// The stacks' constructor arguments, as libtorch's: the layer to copy num_layers times (given,
// or built here from its options) and the optional final norm.
//   TransformerEncoderOptions(TransformerEncoderLayerOptions(512, 8), 6).norm(layer_norm)
struct TransformerEncoderOptions {
  TransformerEncoderOptions(std::shared_ptr<TransformerEncoderLayer> encoder_layer,
                            int64_t num_layers)
      : encoder_layer_(std::move(encoder_layer)), num_layers_(num_layers) {}
  TransformerEncoderOptions(const ModuleHolder<TransformerEncoderLayer>& encoder_layer,
                            int64_t num_layers)
      : TransformerEncoderOptions(encoder_layer.ptr(), num_layers) {}
  TransformerEncoderOptions(const TransformerEncoderLayerOptions& encoder_layer_options,
                            int64_t num_layers)
      : TransformerEncoderOptions(std::make_shared<TransformerEncoderLayer>(encoder_layer_options),
                                  num_layers) {}
  MINIDL_ARG(std::shared_ptr<TransformerEncoderLayer>, encoder_layer);
  MINIDL_ARG(int64_t, num_layers);
  MINIDL_ARG(std::shared_ptr<LayerNorm>, norm) = nullptr;  // null: no final norm
  // norm(nn::LayerNorm(...)) with a module handle.
  TransformerEncoderOptions& norm(const ModuleHolder<LayerNorm>& layer_norm) {
    norm_ = layer_norm.ptr();
    return *this;
  }
};

// As TransformerEncoderOptions, for decoder layers.
struct TransformerDecoderOptions {
  TransformerDecoderOptions(std::shared_ptr<TransformerDecoderLayer> decoder_layer,
                            int64_t num_layers)
      : decoder_layer_(std::move(decoder_layer)), num_layers_(num_layers) {}
  TransformerDecoderOptions(const ModuleHolder<TransformerDecoderLayer>& decoder_layer,
                            int64_t num_layers)
      : TransformerDecoderOptions(decoder_layer.ptr(), num_layers) {}
  TransformerDecoderOptions(const TransformerDecoderLayerOptions& decoder_layer_options,
                            int64_t num_layers)
      : TransformerDecoderOptions(std::make_shared<TransformerDecoderLayer>(decoder_layer_options),
                                  num_layers) {}
  MINIDL_ARG(std::shared_ptr<TransformerDecoderLayer>, decoder_layer);
  MINIDL_ARG(int64_t, num_layers);
  MINIDL_ARG(std::shared_ptr<LayerNorm>, norm) = nullptr;  // null: no final norm
  // norm(nn::LayerNorm(...)) with a module handle.
  TransformerDecoderOptions& norm(const ModuleHolder<LayerNorm>& layer_norm) {
    norm_ = layer_norm.ptr();
    return *this;
  }
};

// num_layers encoder layers applied in turn, then the optional final norm.
class TransformerEncoder : public Module {
 public:
  // Layers that are copies of one freshly initialized TransformerEncoderLayer(layer_options).
  TransformerEncoder(const TransformerEncoderLayerOptions& layer_options, int64_t num_layers,
                     std::shared_ptr<LayerNorm> norm = nullptr);
  // Layers that are copies of `prototype` (its parameters, dtype and train mode), as PyTorch's
  // TransformerEncoder(encoder_layer, num_layers, norm); `prototype` itself is not registered.
  TransformerEncoder(const TransformerEncoderLayer& prototype, int64_t num_layers,
                     std::shared_ptr<LayerNorm> norm = nullptr);
  // Layers that are copies of options.encoder_layer(); options.norm() (if any) is registered.
  explicit TransformerEncoder(const TransformerEncoderOptions& options);

  using Module::operator();
  Tensor forward(const Tensor& src) override { return forward(src, Tensor()); }
  // src and masks as TransformerEncoderLayer::forward -> src's shape.
  Tensor forward(const Tensor& src, const Tensor& mask,
                 const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false);
  Tensor operator()(const Tensor& src, const Tensor& mask,
                    const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false) {
    return forward(src, mask, src_key_padding_mask, is_causal);
  }

  // The i-th layer (negative i counts from the end).
  std::shared_ptr<TransformerEncoderLayer> layer(int64_t i) const {
    return layers->at<TransformerEncoderLayer>(i);
  }

  TransformerEncoderOptions options;
  int64_t num_layers;
  std::shared_ptr<ModuleList> layers;  // "layers.0", "layers.1", ...
  std::shared_ptr<LayerNorm> norm;     // null: no final norm
};

// num_layers decoder layers applied in turn (each attending over `memory`), then the optional
// final norm.
class TransformerDecoder : public Module {
 public:
  // As TransformerEncoder's two constructors.
  TransformerDecoder(const TransformerDecoderLayerOptions& layer_options, int64_t num_layers,
                     std::shared_ptr<LayerNorm> norm = nullptr);
  TransformerDecoder(const TransformerDecoderLayer& prototype, int64_t num_layers,
                     std::shared_ptr<LayerNorm> norm = nullptr);
  explicit TransformerDecoder(const TransformerDecoderOptions& options);

  // nn::generate_square_subsequent_mask: [size, size], -inf above the diagonal.
  static Tensor generate_square_subsequent_mask(int64_t size, DType dtype = kFloat32) {
    return nn::generate_square_subsequent_mask(size, dtype);
  }

  using Module::forward;
  using Module::operator();
  // tgt, memory and masks as TransformerDecoderLayer::forward -> tgt's shape.
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                 const Tensor& memory_mask = Tensor(),
                 const Tensor& tgt_key_padding_mask = Tensor(),
                 const Tensor& memory_key_padding_mask = Tensor(), bool tgt_is_causal = false,
                 bool memory_is_causal = false);
  Tensor operator()(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                    const Tensor& memory_mask = Tensor(),
                    const Tensor& tgt_key_padding_mask = Tensor(),
                    const Tensor& memory_key_padding_mask = Tensor(), bool tgt_is_causal = false,
                    bool memory_is_causal = false) {
    return forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                   memory_key_padding_mask, tgt_is_causal, memory_is_causal);
  }

  // The i-th layer (negative i counts from the end).
  std::shared_ptr<TransformerDecoderLayer> layer(int64_t i) const {
    return layers->at<TransformerDecoderLayer>(i);
  }

  TransformerDecoderOptions options;
  int64_t num_layers;
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;
};

}  // namespace minidl::nn
