// The layers' builder-style Options (libtorch's XOptions): defaults as libtorch's, chained
// setters, a layer built from Options equal to the one built from positional arguments (same
// parameter names, shapes and values from the same seed, same forward), the `options` member
// describing how a layer was built, and errors for options minidl cannot honour.

#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;

namespace {

// Builds both layers from the same seed and compares their parameters, buffers, printout and
// (for a defined x) their single-tensor forward in eval mode.
template <typename M, typename Positional, typename FromOptions>
void check_equivalent(Positional positional, FromOptions from_options, const Tensor& x) {
  manual_seed(7);
  std::shared_ptr<M> a = positional();
  manual_seed(7);
  std::shared_ptr<M> b = from_options();
  a->eval();
  b->eval();
  const nn::StateDict sa = a->state_dict(), sb = b->state_dict();
  REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    CHECK(sa[i].first == sb[i].first);
    CHECK(allclose(sa[i].second, sb[i].second, 0, 0));
  }
  CHECK(a->to_string() == b->to_string());
  if (x.defined()) CHECK(allclose((*a)(x), (*b)(x), 0, 0));
}

}  // namespace

TEST_CASE("Options: defaults are libtorch's and setters chain", "[layer-options]") {
  nn::LinearOptions linear(3, 4);
  CHECK(linear.in_features() == 3);
  CHECK(linear.out_features() == 4);
  CHECK(linear.bias());
  CHECK_FALSE(linear.bias(false).bias());

  nn::Conv2dOptions conv(1, 8, 3);
  CHECK(conv.kernel_size().values == std::vector<int64_t>{3});
  CHECK(conv.stride().values == std::vector<int64_t>{1});
  CHECK(conv.padding().values == std::vector<int64_t>{0});
  CHECK(conv.dilation().values == std::vector<int64_t>{1});
  CHECK(conv.groups() == 1);
  CHECK(conv.bias());
  CHECK(conv.padding_mode() == "zeros");
  conv.stride({2, 1}).padding("same").groups(1);
  CHECK(conv.stride().values == std::vector<int64_t>{2, 1});
  CHECK(conv.padding().mode == "same");

  nn::ConvTranspose2dOptions deconv(8, 1, {3, 5});
  CHECK(deconv.kernel_size().values == std::vector<int64_t>{3, 5});
  CHECK(deconv.output_padding().values == std::vector<int64_t>{0});
  CHECK(deconv.dilation().values == std::vector<int64_t>{1});

  CHECK(nn::DropoutOptions().p() == 0.5);
  CHECK_FALSE(nn::DropoutOptions().inplace());
  CHECK(nn::Dropout2dOptions(0.2).p() == 0.2);

  nn::EmbeddingOptions embedding(10, 3);
  CHECK_FALSE(embedding.padding_idx().has_value());
  CHECK_FALSE(embedding.max_norm().has_value());
  CHECK(embedding.norm_type() == 2.0);
  CHECK_FALSE(embedding.scale_grad_by_freq());
  CHECK_FALSE(embedding.sparse());
  CHECK_FALSE(embedding._weight().defined());
  CHECK(nn::EmbeddingFromPretrainedOptions().freeze());

  nn::LayerNormOptions layer_norm({4, 5});
  CHECK(layer_norm.normalized_shape() == std::vector<int64_t>{4, 5});
  CHECK(layer_norm.eps() == 1e-5);
  CHECK(layer_norm.elementwise_affine());
  nn::BatchNormOptions batch_norm(6);
  CHECK(batch_norm.eps() == 1e-5);
  CHECK(batch_norm.momentum() == 0.1);
  CHECK(batch_norm.affine());
  CHECK(batch_norm.track_running_stats());

  nn::MaxPool2dOptions max_pool(3);
  CHECK(max_pool.stride().values == std::vector<int64_t>{3});  // stride = kernel_size
  CHECK(max_pool.padding().values == std::vector<int64_t>{0});
  CHECK(max_pool.dilation().values == std::vector<int64_t>{1});
  CHECK_FALSE(max_pool.ceil_mode());
  nn::AvgPool2dOptions avg_pool({2, 3});
  CHECK(avg_pool.stride().values == std::vector<int64_t>{2, 3});
  CHECK(avg_pool.count_include_pad());
  CHECK_FALSE(avg_pool.divisor_override().has_value());

  nn::UpsampleOptions upsample;
  CHECK_FALSE(upsample.size().has_value());
  CHECK_FALSE(upsample.scale_factor().has_value());
  CHECK(upsample.mode() == "nearest");
  CHECK_FALSE(upsample.align_corners().has_value());

  nn::LSTMOptions lstm(5, 7);
  CHECK(lstm.num_layers() == 1);
  CHECK(lstm.bias());
  CHECK_FALSE(lstm.batch_first());
  CHECK(lstm.dropout() == 0.0);
  CHECK_FALSE(lstm.bidirectional());
  CHECK(lstm.proj_size() == 0);
  CHECK(nn::RNNOptions(5, 7).nonlinearity() == "tanh");
  CHECK(nn::RNNCellOptions(5, 7).nonlinearity() == "tanh");
  CHECK(nn::GRUCellOptions(5, 7).bias());

  CHECK_FALSE(nn::ReLUOptions().inplace());
  CHECK(nn::ReLUOptions(true).inplace());
  nn::LeakyReLUOptions leaky = nn::LeakyReLUOptions().negative_slope(0.2).inplace(false);
  CHECK(leaky.negative_slope() == 0.2);
  CHECK(nn::LeakyReLUOptions().negative_slope() == 1e-2);
  CHECK(nn::ELUOptions().alpha() == 1.0);
  CHECK(nn::GELUOptions().approximate() == "none");
  CHECK(nn::GELUOptions().approximate("tanh").approximate() == "tanh");
  CHECK(nn::SoftmaxOptions(1).dim() == 1);
  CHECK(nn::FlattenOptions().start_dim() == 1);
  CHECK(nn::FlattenOptions().end_dim() == -1);

  nn::MultiheadAttentionOptions mha(8, 2);
  CHECK(mha.kdim() == 8);  // kdim and vdim default to embed_dim
  CHECK(mha.vdim() == 8);
  CHECK(mha.dropout() == 0.0);
  CHECK(mha.bias());
  CHECK_FALSE(mha.add_bias_kv());
  CHECK_FALSE(mha.add_zero_attn());

  nn::TransformerEncoderLayerOptions encoder_layer(16, 4);
  CHECK(encoder_layer.dim_feedforward() == 2048);
  CHECK(encoder_layer.dropout() == 0.1);
  CHECK(encoder_layer.activation() == "relu");
  nn::TransformerDecoderLayerOptions decoder_layer(16, 4);
  CHECK(decoder_layer.dim_feedforward() == 2048);
  CHECK(decoder_layer.dropout() == 0.1);
}

TEST_CASE("Options: affine, shape and activation layers equal their positional forms",
          "[layer-options]") {
  Tensor x = randn({2, 3, 4});
  check_equivalent<nn::Linear>(
      [] { return std::make_shared<nn::Linear>(4, 5, false); },
      [] { return std::make_shared<nn::Linear>(nn::LinearOptions(4, 5).bias(false)); }, x);
  check_equivalent<nn::Bilinear>(
      [] { return std::make_shared<nn::Bilinear>(4, 2, 3); },
      [] { return std::make_shared<nn::Bilinear>(nn::BilinearOptions(4, 2, 3)); }, Tensor());
  check_equivalent<nn::Flatten>(
      [] { return std::make_shared<nn::Flatten>(0, 1); },
      [] { return std::make_shared<nn::Flatten>(nn::FlattenOptions().start_dim(0).end_dim(1)); },
      x);
  check_equivalent<nn::Unflatten>(
      [] {
        return std::make_shared<nn::Unflatten>(2, Shape{2, 2});
      },
      [] {
        return std::make_shared<nn::Unflatten>(nn::UnflattenOptions(2, {2, 2}));
      },
      x);
  check_equivalent<nn::LeakyReLU>(
      [] { return std::make_shared<nn::LeakyReLU>(0.2); },
      [] { return std::make_shared<nn::LeakyReLU>(nn::LeakyReLUOptions().negative_slope(0.2)); },
      x);
  check_equivalent<nn::ELU>([] { return std::make_shared<nn::ELU>(0.5); },
                            [] { return std::make_shared<nn::ELU>(nn::ELUOptions().alpha(0.5)); },
                            x);
  check_equivalent<nn::GELU>(
      [] { return std::make_shared<nn::GELU>("tanh"); },
      [] { return std::make_shared<nn::GELU>(nn::GELUOptions().approximate("tanh")); }, x);
  check_equivalent<nn::Softmax>([] { return std::make_shared<nn::Softmax>(1); },
                                [] { return std::make_shared<nn::Softmax>(nn::SoftmaxOptions(1)); },
                                x);
  check_equivalent<nn::LogSoftmax>(
      [] { return std::make_shared<nn::LogSoftmax>(-1); },
      [] { return std::make_shared<nn::LogSoftmax>(nn::LogSoftmaxOptions(-1)); }, x);
  check_equivalent<nn::ReLU>([] { return std::make_shared<nn::ReLU>(); },
                             [] { return std::make_shared<nn::ReLU>(nn::ReLUOptions(false)); }, x);
  check_equivalent<nn::Dropout>(
      [] { return std::make_shared<nn::Dropout>(0.3); },
      [] { return std::make_shared<nn::Dropout>(nn::DropoutOptions().p(0.3)); }, x);

  nn::Linear linear(nn::LinearOptions(4, 5).bias(false));
  CHECK(linear.options.out_features() == 5);
  CHECK_FALSE(linear.options.bias());
  CHECK(nn::LeakyReLU(0.3).options.negative_slope() == 0.3);  // positional fills options too
  CHECK(nn::Softmax(2).options.dim() == 2);
}

TEST_CASE("Options: convolution, pooling, normalization, embedding and upsample layers",
          "[layer-options]") {
  Tensor image = randn({2, 2, 6, 6});
  check_equivalent<nn::Conv2d>(
      [] {
        return std::make_shared<nn::Conv2d>(2, 4, ExpandingArray{3, 2}, 2, 1, 1, 2, false);
      },
      [] {
        return std::make_shared<nn::Conv2d>(
            nn::Conv2dOptions(2, 4, {3, 2}).stride(2).padding(1).groups(2).bias(false));
      },
      image);
  check_equivalent<nn::Conv1d>(
      [] { return std::make_shared<nn::Conv1d>(2, 3, 3, 1, "same"); },
      [] { return std::make_shared<nn::Conv1d>(nn::Conv1dOptions(2, 3, 3).padding("same")); },
      randn({2, 2, 7}));
  check_equivalent<nn::ConvTranspose2d>(
      [] { return std::make_shared<nn::ConvTranspose2d>(2, 3, 3, 2, 1, 1); },
      [] {
        return std::make_shared<nn::ConvTranspose2d>(
            nn::ConvTranspose2dOptions(2, 3, 3).stride(2).padding(1).output_padding(1));
      },
      image);
  check_equivalent<nn::ConvTranspose1d>(
      [] { return std::make_shared<nn::ConvTranspose1d>(2, 3, 2, 2); },
      [] {
        return std::make_shared<nn::ConvTranspose1d>(nn::ConvTranspose1dOptions(2, 3, 2).stride(2));
      },
      randn({2, 2, 5}));
  check_equivalent<nn::MaxPool2d>(
      [] { return std::make_shared<nn::MaxPool2d>(3, 2, 1); },
      [] { return std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(3).stride(2).padding(1)); },
      image);
  check_equivalent<nn::AvgPool2d>(
      [] { return std::make_shared<nn::AvgPool2d>(2, ExpandingArray{}, 0, false, true, 3); },
      [] { return std::make_shared<nn::AvgPool2d>(nn::AvgPool2dOptions(2).divisor_override(3)); },
      image);
  check_equivalent<nn::AdaptiveAvgPool2d>(
      [] {
        return std::make_shared<nn::AdaptiveAvgPool2d>(ExpandingArray{2, 3});
      },
      [] {
        return std::make_shared<nn::AdaptiveAvgPool2d>(nn::AdaptiveAvgPool2dOptions({2, 3}));
      },
      image);
  check_equivalent<nn::LayerNorm>(
      [] {
        return std::make_shared<nn::LayerNorm>(Shape{6, 6}, 1e-3, false);
      },
      [] {
        return std::make_shared<nn::LayerNorm>(
            nn::LayerNormOptions({6, 6}).eps(1e-3).elementwise_affine(false));
      },
      image);
  check_equivalent<nn::BatchNorm2d>(
      [] { return std::make_shared<nn::BatchNorm2d>(2, 1e-3, std::nullopt); },
      [] {
        return std::make_shared<nn::BatchNorm2d>(
            nn::BatchNorm2dOptions(2).eps(1e-3).momentum(std::nullopt));
      },
      image);
  check_equivalent<nn::BatchNorm1d>(
      [] { return std::make_shared<nn::BatchNorm1d>(3, 1e-5, 0.2, false); },
      [] {
        return std::make_shared<nn::BatchNorm1d>(
            nn::BatchNorm1dOptions(3).momentum(0.2).affine(false));
      },
      randn({4, 3}));
  check_equivalent<nn::Dropout2d>(
      [] { return std::make_shared<nn::Dropout2d>(0.1); },
      [] { return std::make_shared<nn::Dropout2d>(nn::Dropout2dOptions(0.1)); }, image);
  check_equivalent<nn::Upsample>(
      [] {
        return std::make_shared<nn::Upsample>(std::vector<int64_t>{}, std::vector<double>{2.0},
                                              "bilinear", false);
      },
      [] {
        return std::make_shared<nn::Upsample>(nn::UpsampleOptions()
                                                  .scale_factor(std::vector<double>{2.0})
                                                  .mode("bilinear")
                                                  .align_corners(false));
      },
      image);
  Tensor ids = from_vector(std::vector<int64_t>{0, 3, 1, 0}, {2, 2}, kInt64);
  check_equivalent<nn::Embedding>(
      [] { return std::make_shared<nn::Embedding>(5, 3, 0); },
      [] { return std::make_shared<nn::Embedding>(nn::EmbeddingOptions(5, 3).padding_idx(0)); },
      ids);

  // _weight: the layer starts from these values.
  Tensor table = arange(0, 15).to(kFloat32).view({5, 3});
  nn::Embedding from_weight(nn::EmbeddingOptions(5, 3)._weight(table));
  CHECK(allclose(from_weight.weight, table, 0, 0));
  CHECK(from_weight.weight.requires_grad());
  auto pretrained = nn::Embedding::from_pretrained(
      table, nn::EmbeddingFromPretrainedOptions().freeze(false).padding_idx(1));
  CHECK(pretrained->weight.requires_grad());
  CHECK(pretrained->padding_idx == 1);
  CHECK_FALSE(nn::Embedding::from_pretrained(table)->weight.requires_grad());
  CHECK(allclose((*pretrained)(ids), (*nn::Embedding::from_pretrained(table))(ids), 0, 0));

  nn::Conv2d conv(nn::Conv2dOptions(2, 4, 3).stride(2));
  CHECK(conv.options.stride().values == std::vector<int64_t>{2});
  CHECK(nn::MaxPool2d(2).options.stride().values == std::vector<int64_t>{2});
}

TEST_CASE("Options: recurrent, attention and transformer layers", "[layer-options]") {
  check_equivalent<nn::LSTM>(
      [] { return std::make_shared<nn::LSTM>(3, 4, 2, false, true, 0.0, true); },
      [] {
        return std::make_shared<nn::LSTM>(
            nn::LSTMOptions(3, 4).num_layers(2).bias(false).batch_first(true).bidirectional(true));
      },
      Tensor());
  check_equivalent<nn::GRU>(
      [] { return std::make_shared<nn::GRU>(3, 4, 1, true, true); },
      [] { return std::make_shared<nn::GRU>(nn::GRUOptions(3, 4).batch_first(true)); }, Tensor());
  check_equivalent<nn::RNN>(
      [] { return std::make_shared<nn::RNN>(3, 4, 1, "relu"); },
      [] { return std::make_shared<nn::RNN>(nn::RNNOptions(3, 4).nonlinearity("relu")); },
      Tensor());
  check_equivalent<nn::RNNCell>([] { return std::make_shared<nn::RNNCell>(3, 4, false, "relu"); },
                                [] {
                                  return std::make_shared<nn::RNNCell>(
                                      nn::RNNCellOptions(3, 4).bias(false).nonlinearity("relu"));
                                },
                                randn({2, 3}));
  check_equivalent<nn::GRUCell>(
      [] { return std::make_shared<nn::GRUCell>(3, 4); },
      [] { return std::make_shared<nn::GRUCell>(nn::GRUCellOptions(3, 4)); }, randn({2, 3}));
  check_equivalent<nn::LSTMCell>(
      [] { return std::make_shared<nn::LSTMCell>(3, 4, false); },
      [] { return std::make_shared<nn::LSTMCell>(nn::LSTMCellOptions(3, 4).bias(false)); },
      Tensor());
  check_equivalent<nn::MultiheadAttention>(
      [] { return std::make_shared<nn::MultiheadAttention>(8, 2, 0.0, true, true, false, 4, 6); },
      [] {
        return std::make_shared<nn::MultiheadAttention>(
            nn::MultiheadAttentionOptions(8, 2).add_bias_kv(true).kdim(4).vdim(6));
      },
      Tensor());
  check_equivalent<nn::TransformerEncoderLayer>(
      [] { return std::make_shared<nn::TransformerEncoderLayer>(8, 2, 16, 0.0, "gelu"); },
      [] {
        return std::make_shared<nn::TransformerEncoderLayer>(
            nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.0).activation(
                "gelu"));
      },
      randn({3, 2, 8}));

  // The stacks: from a layer's options, from a layer (copied num_layers times), with a norm.
  auto layer_options = nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.0);
  manual_seed(3);
  nn::TransformerEncoder from_options(
      nn::TransformerEncoderOptions(layer_options, 2).norm(std::make_shared<nn::LayerNorm>(8)));
  CHECK(from_options.num_layers == 2);
  CHECK(from_options.options.num_layers() == 2);
  CHECK(from_options.norm != nullptr);
  CHECK(from_options.named_parameters().size() == 2 * 12 + 2);
  auto prototype = std::make_shared<nn::TransformerEncoderLayer>(layer_options);
  nn::TransformerEncoder from_layer(nn::TransformerEncoderOptions(prototype, 3));
  CHECK(from_layer.num_layers == 3);
  CHECK(allclose(from_layer.layer(2)->linear1->weight, prototype->linear1->weight, 0, 0));
  Tensor src = randn({3, 2, 8});
  CHECK(from_layer(src).shape() == src.shape());

  auto decoder_layer = nn::TransformerDecoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.0);
  nn::TransformerDecoder decoder(nn::TransformerDecoderOptions(decoder_layer, 2));
  CHECK(decoder.num_layers == 2);
  CHECK(decoder.norm == nullptr);
  CHECK(decoder(src, randn({4, 2, 8})).shape() == src.shape());
}

TEST_CASE("Options minidl cannot honour are errors naming the layer and the option",
          "[layer-options]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(1, 2, 3).padding_mode("reflect")),
                    Contains("Conv2d") && Contains("padding_mode") && Contains("reflect"));
  CHECK_THROWS_WITH(nn::Conv1d(nn::Conv1dOptions(1, 2, 3).padding_mode("circular")),
                    Contains("Conv1d") && Contains("padding_mode"));
  CHECK_THROWS_WITH(
      nn::ConvTranspose2d(nn::ConvTranspose2dOptions(1, 2, 3).padding_mode("replicate")),
      Contains("ConvTranspose2d") && Contains("padding_mode"));
  CHECK_THROWS_WITH(nn::ReLU(nn::ReLUOptions(true)), Contains("ReLU") && Contains("inplace"));
  CHECK_THROWS_WITH(nn::LeakyReLU(nn::LeakyReLUOptions().inplace(true)),
                    Contains("LeakyReLU") && Contains("inplace"));
  CHECK_THROWS_WITH(nn::ELU(nn::ELUOptions().inplace(true)),
                    Contains("ELU") && Contains("inplace"));
  CHECK_THROWS_WITH(nn::Dropout(nn::DropoutOptions().inplace(true)),
                    Contains("Dropout") && Contains("inplace"));
  CHECK_THROWS_WITH(nn::Embedding(nn::EmbeddingOptions(4, 2).max_norm(1.0)),
                    Contains("Embedding") && Contains("max_norm"));
  CHECK_THROWS_WITH(nn::Embedding(nn::EmbeddingOptions(4, 2).sparse(true)),
                    Contains("Embedding") && Contains("sparse"));
  CHECK_THROWS_WITH(nn::Embedding(nn::EmbeddingOptions(4, 2).scale_grad_by_freq(true)),
                    Contains("Embedding") && Contains("scale_grad_by_freq"));
  CHECK_THROWS_WITH(nn::Embedding(nn::EmbeddingOptions(4, 2)._weight(randn({3, 2}))),
                    Contains("Embedding") && Contains("_weight") && Contains("[3, 2]"));
  CHECK_THROWS_WITH(nn::Embedding::from_pretrained(
                        randn({4, 2}), nn::EmbeddingFromPretrainedOptions().max_norm(2.0)),
                    Contains("from_pretrained") && Contains("max_norm"));
  CHECK_THROWS_WITH(nn::LSTM(nn::LSTMOptions(3, 4).proj_size(4)),
                    Contains("LSTM") && Contains("proj_size") && Contains("hidden_size = 4"));
  CHECK_THROWS_WITH(nn::AvgPool2d(nn::AvgPool2dOptions(2).divisor_override(0)),
                    Contains("AvgPool2d") && Contains("divisor_override"));
  CHECK_THROWS_WITH(
      nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(8, 2).activation("tanh")),
      Contains("TransformerEncoderLayer") && Contains("tanh"));
}
