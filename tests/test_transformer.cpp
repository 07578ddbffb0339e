// Transformer encoder/decoder layers and stacks: PyTorch fixtures (weights through safetensors;
// outputs and gradients of the inputs and every parameter), structure and state_dict names,
// gradcheck with masks, the causal mask, and the error paths.
#include <cmath>
#include <limits>

#include "nn/transformer.h"
#include "tests/mha_reference.h"
#include "tests/test_util.h"

using Catch::Matchers::Contains;
using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::check_mha_case;
using minidl::testing::load_mha_case;
using minidl::testing::MhaReference;

namespace {

template <typename Options = nn::TransformerEncoderLayerOptions>
Options layer_options(const std::string& activation, bool norm_first, bool batch_first) {
  return Options(4, 2)
      .dim_feedforward(8)
      .dropout(0.0)
      .activation(activation)
      .norm_first(norm_first)
      .batch_first(batch_first);
}

std::vector<std::string> parameter_names(const nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, p] : m.named_parameters()) names.push_back(name);
  return names;
}

}  // namespace

TEST_CASE("generate_square_subsequent_mask: -inf above the diagonal", "[mha]") {
  Tensor mask = nn::generate_square_subsequent_mask(3);
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(mask.dtype() == kFloat32);
  CHECK(mask.to_vector<double>() == std::vector<double>{0, -inf, -inf, 0, 0, -inf, 0, 0, 0});
  MhaReference ref("encoder");  // PyTorch's own, used by the fixtures
  CHECK(nn::TransformerDecoder::generate_square_subsequent_mask(5, kFloat64).to_vector<double>() ==
        ref.mask("mask").to_vector<double>());
  CHECK_THROWS_WITH(nn::generate_square_subsequent_mask(-1),
                    Contains("generate_square_subsequent_mask") && Contains("-1"));
}

TEST_CASE("TransformerEncoderLayer / DecoderLayer: submodules and state_dict names as PyTorch",
          "[mha]") {
  manual_seed(0);
  nn::TransformerEncoderLayer encoder_layer(8, 2, 16);
  CHECK(parameter_names(encoder_layer) ==
        std::vector<std::string>{"self_attn.in_proj_weight", "self_attn.in_proj_bias",
                                 "self_attn.out_proj.weight", "self_attn.out_proj.bias",
                                 "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
                                 "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"});
  CHECK(encoder_layer.to_string() ==
        "TransformerEncoderLayer(\n"
        "  (self_attn): MultiheadAttention(\n"
        "    (out_proj): Linear(in_features=8, out_features=8, bias=True)\n"
        "  )\n"
        "  (linear1): Linear(in_features=8, out_features=16, bias=True)\n"
        "  (dropout): Dropout(p=0.1, inplace=False)\n"
        "  (linear2): Linear(in_features=16, out_features=8, bias=True)\n"
        "  (norm1): LayerNorm((8,), eps=1e-05, elementwise_affine=True)\n"
        "  (norm2): LayerNorm((8,), eps=1e-05, elementwise_affine=True)\n"
        "  (dropout1): Dropout(p=0.1, inplace=False)\n"
        "  (dropout2): Dropout(p=0.1, inplace=False)\n"
        ")");
  nn::TransformerDecoderLayer decoder_layer(8, 2, 16);
  auto names = parameter_names(decoder_layer);
  CHECK(names.size() == 18);
  CHECK(names[4] == "multihead_attn.in_proj_weight");
  CHECK(names.back() == "norm3.bias");

  // stacks: layers.<i>.* then norm.*; the layers are independent copies that start equal
  nn::TransformerEncoder encoder(layer_options("relu", false, true), 3,
                                 std::make_shared<nn::LayerNorm>(4));
  names = parameter_names(encoder);
  CHECK(names.front() == "layers.0.self_attn.in_proj_weight");
  CHECK(names[12] == "layers.1.self_attn.in_proj_weight");
  CHECK(names.back() == "norm.bias");
  CHECK(encoder.layers->size() == 3);
  Tensor w0 = encoder.layer(0)->linear1->weight, w2 = encoder.layer(2)->linear1->weight;
  CHECK_FALSE(w0.is_same(w2));
  CHECK(allclose(w0, w2, 0, 0));
  nn::TransformerDecoder decoder(decoder_layer, 2);
  names = parameter_names(decoder);
  CHECK(names.size() == 36);
  CHECK(names.back() == "layers.1.norm3.bias");
  CHECK(allclose(decoder.layer(1)->self_attn->in_proj_weight,
                 decoder_layer.self_attn->in_proj_weight, 0, 0));
}

TEST_CASE("TransformerEncoderLayer matches PyTorch: relu post-norm, src_key_padding_mask",
          "[mha]") {
  MhaReference ref("enc_relu_post");
  nn::TransformerEncoderLayer layer(layer_options("relu", false, false));
  load_mha_case(layer, "enc_relu_post");
  Tensor src = ref.leaf("src");
  Tensor out = layer(src, Tensor(), ref.mask("src_key_padding_mask"));
  check_mha_case(layer, ref, out, Tensor(), {{"src", src}});
}

TEST_CASE("TransformerEncoderLayer matches PyTorch: gelu pre-norm, batch_first, causal mask",
          "[mha]") {
  MhaReference ref("enc_gelu_pre");
  nn::TransformerEncoderLayer layer(layer_options("gelu", true, true));
  load_mha_case(layer, "enc_gelu_pre");
  Tensor src = ref.leaf("src");
  Tensor out = layer(src, ref.mask("src_mask"), ref.mask("src_key_padding_mask"));
  check_mha_case(layer, ref, out, Tensor(), {{"src", src}});
  // is_causal gives the same as the causal float mask
  Tensor causal = layer(src.detach(), Tensor(), ref.mask("src_key_padding_mask"), true);
  CHECK(allclose(causal, out.detach(), 1e-12, 1e-12));
}

TEST_CASE("TransformerDecoderLayer matches PyTorch: relu post-norm, causal + memory padding",
          "[mha]") {
  MhaReference ref("dec_relu_post");
  nn::TransformerDecoderLayer layer(
      layer_options<nn::TransformerDecoderLayerOptions>("relu", false, true));
  load_mha_case(layer, "dec_relu_post");
  Tensor tgt = ref.leaf("tgt"), memory = ref.leaf("memory");
  Tensor out = layer(tgt, memory, ref.mask("tgt_mask"), Tensor(), Tensor(),
                     ref.mask("memory_key_padding_mask"));
  check_mha_case(layer, ref, out, Tensor(), {{"tgt", tgt}, {"memory", memory}});
}

TEST_CASE("TransformerDecoderLayer matches PyTorch: gelu pre-norm, both padding masks", "[mha]") {
  MhaReference ref("dec_gelu_pre");
  nn::TransformerDecoderLayer layer(
      layer_options<nn::TransformerDecoderLayerOptions>("gelu", true, false));
  load_mha_case(layer, "dec_gelu_pre");
  Tensor tgt = ref.leaf("tgt"), memory = ref.leaf("memory");
  Tensor out = layer(tgt, memory, ref.mask("tgt_mask"), Tensor(), ref.mask("tgt_key_padding_mask"),
                     ref.mask("memory_key_padding_mask"));
  check_mha_case(layer, ref, out, Tensor(), {{"tgt", tgt}, {"memory", memory}});
}

TEST_CASE("TransformerEncoder matches PyTorch: 2 layers + final norm", "[mha]") {
  MhaReference ref("encoder");
  nn::TransformerEncoder encoder(layer_options("relu", false, true), 2,
                                 std::make_shared<nn::LayerNorm>(4));
  load_mha_case(encoder, "encoder");
  Tensor src = ref.leaf("src");
  Tensor out = encoder(src, ref.mask("mask"), ref.mask("src_key_padding_mask"));
  check_mha_case(encoder, ref, out, Tensor(), {{"src", src}});
}

TEST_CASE("TransformerDecoder matches PyTorch: 2 layers + final norm", "[mha]") {
  MhaReference ref("decoder");
  nn::TransformerDecoder decoder(
      layer_options<nn::TransformerDecoderLayerOptions>("gelu", false, false), 2,
      std::make_shared<nn::LayerNorm>(4));
  load_mha_case(decoder, "decoder");
  Tensor tgt = ref.leaf("tgt"), memory = ref.leaf("memory");
  Tensor out = decoder(tgt, memory, ref.mask("tgt_mask"), Tensor(), Tensor(),
                       ref.mask("memory_key_padding_mask"));
  check_mha_case(decoder, ref, out, Tensor(), {{"tgt", tgt}, {"memory", memory}});
}

TEST_CASE("Transformer layers gradcheck: inputs and parameters, masks, non-contiguous", "[mha]") {
  manual_seed(1);
  Tensor padding = from_vector(std::vector<double>{0, 0, 1, 0, 0, 0}, {2, 3}, kBool);
  Tensor causal = nn::generate_square_subsequent_mask(3, kFloat64);
  for (bool norm_first : {false, true}) {
    INFO("norm_first " << norm_first);
    nn::TransformerEncoderLayer encoder_layer(layer_options("gelu", norm_first, true));
    encoder_layer.to(kFloat64);
    encoder_layer.eval();
    Tensor src = testing::transposed_leaf({2, 3, 4});
    std::vector<Tensor> inputs{src};
    for (const Tensor& p : encoder_layer.parameters()) inputs.push_back(p);
    check_gradients(
        [&](const std::vector<Tensor>& in) { return encoder_layer(in[0], causal, padding); },
        inputs);

    nn::TransformerDecoderLayer decoder_layer(
        layer_options<nn::TransformerDecoderLayerOptions>("relu", norm_first, false));
    decoder_layer.to(kFloat64);
    decoder_layer.eval();
    Tensor tgt = testing::leaf({3, 2, 4}), memory = testing::strided_leaf({2, 2, 4});
    Tensor memory_padding = from_vector(std::vector<double>{0, 1, 0, 0}, {2, 2}, kBool);
    inputs = {tgt, memory};
    for (const Tensor& p : decoder_layer.parameters()) inputs.push_back(p);
    check_gradients(
        [&](const std::vector<Tensor>& in) {
          return decoder_layer(in[0], in[1], Tensor(), Tensor(), Tensor(), memory_padding,
                               /*tgt_is_causal=*/true);
        },
        inputs);
  }
}

TEST_CASE("Transformer layers: unbatched input, dropout in training, a copied prototype", "[mha]") {
  manual_seed(2);
  nn::TransformerEncoderLayer layer(8, 2, 16, /*dropout=*/0.5);
  layer.eval();
  Tensor x = randn({5, 3, 8});
  Tensor batched = layer(x);
  // unbatched [T, d_model] equals one batch column
  CHECK(allclose(layer(x.select(1, 1)), batched.select(1, 1), 1e-5, 1e-6));
  layer.train();
  CHECK_FALSE(allclose(layer(x), batched, 1e-3, 1e-3));
  // a stack built from a trained-mode float64 prototype copies its values, dtype and mode
  layer.to(kFloat64);
  nn::TransformerEncoder encoder(layer, 2);
  CHECK(encoder.layer(1)->linear2->weight.dtype() == kFloat64);
  CHECK(encoder.layer(1)->is_training());
  CHECK(allclose(encoder.layer(1)->norm1->weight, layer.norm1->weight, 0, 0));
  CHECK(encoder.to_string().rfind("TransformerEncoder(\n  (layers): ModuleList(\n    (0): "
                                  "TransformerEncoderLayer(",
                                  0) == 0);
}

TEST_CASE("Transformer layers: errors name the module and the shapes", "[mha]") {
  CHECK_THROWS_WITH(nn::TransformerEncoderLayer(8, 3),
                    Contains("MultiheadAttention") && Contains("divisible by num_heads"));
  CHECK_THROWS_WITH(
      nn::TransformerEncoderLayer(8, 2, 16, 0.1, "tanh"),
      Contains("TransformerEncoderLayer") && Contains("relu/gelu") && Contains("tanh"));
  CHECK_THROWS_WITH(nn::TransformerDecoderLayer(8, 2, 0),
                    Contains("TransformerDecoderLayer") && Contains("dim_feedforward=0"));
  CHECK_THROWS_WITH(nn::TransformerEncoder(layer_options("relu", false, false), 0),
                    Contains("TransformerEncoder") && Contains("num_layers"));
  manual_seed(3);
  nn::TransformerEncoderLayer encoder_layer(layer_options("relu", false, false));
  CHECK_THROWS_WITH(encoder_layer(randn({5, 2, 6})), Contains("TransformerEncoderLayer") &&
                                                         Contains("d_model=4") &&
                                                         Contains("[5, 2, 6]"));
  CHECK_THROWS_WITH(encoder_layer(randn({5, 2, 4}), zeros({5, 4}, kBool)),
                    Contains("attn_mask") && Contains("[5, 4]"));
  CHECK_THROWS_WITH(encoder_layer(randn({5, 2, 4}), Tensor(), zeros({5, 2}, kBool)),
                    Contains("key_padding_mask") && Contains("[5, 2]"));
  nn::TransformerDecoderLayer decoder_layer(
      layer_options<nn::TransformerDecoderLayerOptions>("relu", false, false));
  CHECK_THROWS_WITH(
      decoder_layer(randn({5, 2, 4}), randn({3, 2, 5})),
      Contains("TransformerDecoderLayer") && Contains("memory") && Contains("[3, 2, 5]"));
  CHECK_THROWS_WITH(decoder_layer(randn({5, 2, 4}), randn({3, 4, 4})),
                    Contains("MultiheadAttention") && Contains("same batch size"));
}
