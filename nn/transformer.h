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
#include <vector>

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

// The constructor arguments shared by encoder and decoder layers.
struct TransformerLayerOptions {
  TransformerLayerOptions(int64_t d_model, int64_t nhead) : d_model(d_model), nhead(nhead) {}
  int64_t d_model, nhead;
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";  // "relu" or "gelu"
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;
};
using TransformerEncoderLayerOptions = TransformerLayerOptions;
using TransformerDecoderLayerOptions = TransformerLayerOptions;

class TransformerEncoderLayer : public Module {
 public:
  explicit TransformerEncoderLayer(const TransformerEncoderLayerOptions& options);
  TransformerEncoderLayer(int64_t d_model, int64_t nhead, int64_t dim_feedforward = 2048,
                          double dropout = 0.1, const std::string& activation = "relu",
                          double layer_norm_eps = 1e-5, bool batch_first = false,
                          bool norm_first = false);

  using Module::operator();
  Tensor forward(const Tensor& src) override { return forward(src, Tensor()); }
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

class TransformerDecoderLayer : public Module {
 public:
  explicit TransformerDecoderLayer(const TransformerDecoderLayerOptions& options);
  TransformerDecoderLayer(int64_t d_model, int64_t nhead, int64_t dim_feedforward = 2048,
                          double dropout = 0.1, const std::string& activation = "relu",
                          double layer_norm_eps = 1e-5, bool batch_first = false,
                          bool norm_first = false);

  using Module::forward;
  using Module::operator();
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

  using Module::operator();
  Tensor forward(const Tensor& src) override { return forward(src, Tensor()); }
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

  static Tensor generate_square_subsequent_mask(int64_t size, DType dtype = kFloat32) {
    return nn::generate_square_subsequent_mask(size, dtype);
  }

  using Module::forward;
  using Module::operator();
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

  std::shared_ptr<TransformerDecoderLayer> layer(int64_t i) const {
    return layers->at<TransformerDecoderLayer>(i);
  }

  int64_t num_layers;
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;
};

}  // namespace minidl::nn
