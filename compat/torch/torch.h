// <torch/torch.h> for minidl: libtorch's C++ frontend names, as aliases of minidl's own API, so a
// program written against libtorch's documented frontend compiles against minidl unchanged:
//
//   g++ app.cpp $(pkg-config --cflags --libs minidl-torch)
//
// Nothing here is a second implementation: minidl's native API already has libtorch's names,
// arguments and semantics (nn::Conv2dOptions, torch::nn::functional, data loaders, save/load,
// autograd::Function, ...). What this header adds is the one naming difference and the macros:
//   - a layer class in minidl (nn::Linear) is the module itself, what libtorch calls LinearImpl;
//     libtorch's nn::Linear is a handle to it, here nn::ModuleHolder<minidl::nn::Linear>. So
//     torch::nn::Linear = ModuleHolder<minidl::nn::Linear>, torch::nn::LinearImpl = minidl's
//     nn::Linear, for every layer. (minidl keeps the module as the class so that its own
//     std::make_shared<nn::Linear>(...) style, and code that holds modules by value, work.)
//   - TORCH_MODULE, AT_ASSERT, TORCH_CHECK.
// Every name is brought in one by one (using-declarations, not `using namespace minidl`): a program
// that says `using namespace torch;` then sees `nn` as torch::nn only, never ambiguous with
// minidl::nn. tests/test_torch_header.cpp fails when a public minidl function or layer is missing
// here.
//
// What libtorch has and minidl does not (CUDA, TorchScript/JIT, libtorch's own zip archives,
// sparse and quantized tensors, ...) is listed in the README's "For libtorch users".
#pragma once

// The standard headers libtorch's torch.h brings in, which its programs rely on.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "minidl.h"

namespace torch {

// ---------------------------------------------------------------- tensors
using ::minidl::AnomalyMode;
using ::minidl::DetectAnomalyGuard;
using ::minidl::EnableGradGuard;
using ::minidl::Error;
using ::minidl::Generator;
using ::minidl::GradMode;
using ::minidl::load;
using ::minidl::NoGradGuard;
using ::minidl::Reduction;
using ::minidl::save;
using ::minidl::str;
using ::minidl::Tensor;
using ::minidl::TensorOptions;
using ScalarType = ::minidl::DType;
using Dtype = ::minidl::DType;
using IntArrayRef = ::minidl::ArrayRef<int64_t>;
using ::minidl::Device;
using ::minidl::DeviceType;
using ::minidl::IValue;
using ::minidl::kBFloat16;
using ::minidl::kBool;
using ::minidl::kByte;
using ::minidl::kChar;
using ::minidl::kCPU;
using ::minidl::kCUDA;
using ::minidl::kDouble;
using ::minidl::kFloat;
using ::minidl::kFloat16;
using ::minidl::kFloat32;
using ::minidl::kFloat64;
using ::minidl::kHalf;
using ::minidl::kInt;
using ::minidl::kInt16;
using ::minidl::kInt32;
using ::minidl::kInt64;
using ::minidl::kInt8;
using ::minidl::kLong;
using ::minidl::kShort;
using ::minidl::kSparse;
using ::minidl::kStrided;
using ::minidl::kUInt8;
using ::minidl::Layout;
using ::minidl::Scalar;
using ::minidl::TensorAccessor;
namespace indexing = ::minidl::indexing;

// libtorch's tags: reductions, padding / interpolation / activation modes.
using ::minidl::kBatchMean;
using ::minidl::kBilinear;
using ::minidl::kCircular;
using ::minidl::kConstant;
using ::minidl::kGELU;
using ::minidl::kLinear;
using ::minidl::kMean;
using ::minidl::kNearest;
using ::minidl::kNearestExact;
using ::minidl::kNone;
using ::minidl::kReflect;
using ::minidl::kReLU;
using ::minidl::kReplicate;
using ::minidl::kSame;
using ::minidl::kSum;
using ::minidl::kTanh;
using ::minidl::kValid;
using ::minidl::kZeros;
namespace enumtype = ::minidl::enumtype;

// ---------------------------------------------------------------- functions on tensors
using ::minidl::abs;
using ::minidl::adaptive_avg_pool2d;
using ::minidl::add;
using ::minidl::additive_attention_scores;
using ::minidl::all;
using ::minidl::amax;
using ::minidl::amin;
using ::minidl::any;
using ::minidl::arange;
using ::minidl::argmax;
using ::minidl::argmin;
using ::minidl::argsort;
using ::minidl::avg_pool2d;
using ::minidl::batch_norm;
using ::minidl::bernoulli;
using ::minidl::bilinear;
using ::minidl::binary_cross_entropy;
using ::minidl::binary_cross_entropy_with_logits;
using ::minidl::bitwise_and;
using ::minidl::bitwise_not;
using ::minidl::bitwise_or;
using ::minidl::bitwise_xor;
using ::minidl::bmm;
using ::minidl::broadcast_shapes;
using ::minidl::cat;
using ::minidl::chunk;
using ::minidl::circular_pad;
using ::minidl::clamp;
using ::minidl::clamp_max;
using ::minidl::clamp_min;
using ::minidl::conv1d;
using ::minidl::conv2d;
using ::minidl::conv_transpose1d;
using ::minidl::conv_transpose2d;
using ::minidl::cos;
using ::minidl::cosine_similarity;
using ::minidl::cross_entropy;
using ::minidl::cross_entropy_loss;
using ::minidl::cumprod;
using ::minidl::cumsum;
using ::minidl::default_generator;
using ::minidl::device;
using ::minidl::div;
using ::minidl::dropout;
using ::minidl::dropout2d;
using ::minidl::dtype;
using ::minidl::elu;
using ::minidl::embedding;
using ::minidl::empty;
using ::minidl::empty_cache;
using ::minidl::empty_like;
using ::minidl::eq;
using ::minidl::exp;
using ::minidl::eye;
using ::minidl::flash_attention;
using ::minidl::flash_attention_supported;
using ::minidl::from_blob;
using ::minidl::from_vector;
using ::minidl::full;
using ::minidl::full_like;
using ::minidl::gat_edge_scores;
using ::minidl::gather;
using ::minidl::ge;
using ::minidl::gelu;
using ::minidl::get_num_threads;
using ::minidl::graph_aggregate;
using ::minidl::gru_cell;
using ::minidl::gru_sequence;
using ::minidl::gt;
using ::minidl::hardtanh;
using ::minidl::huber_loss;
using ::minidl::index_select;
using ::minidl::interpolate;
using ::minidl::is_floating_point;
using ::minidl::kl_div;
using ::minidl::l1_loss;
using ::minidl::layer_norm;
using ::minidl::layout;
using ::minidl::le;
using ::minidl::leaky_relu;
using ::minidl::linear;
using ::minidl::linear_attention;
using ::minidl::linear_attention_weights;
using ::minidl::linspace;
using ::minidl::log;
using ::minidl::log1p;
using ::minidl::log_softmax;
using ::minidl::logical_and;
using ::minidl::logical_not;
using ::minidl::logical_or;
using ::minidl::logical_xor;
using ::minidl::logsumexp;
using ::minidl::lstm_cell;
using ::minidl::lstm_sequence;
using ::minidl::lt;
using ::minidl::manual_seed;
using ::minidl::margin_ranking_loss;
using ::minidl::masked_fill;
using ::minidl::masked_select;
using ::minidl::masked_softmax;
using ::minidl::matmul;
using ::minidl::max;
using ::minidl::max_pool2d;
using ::minidl::max_pool2d_with_indices;
using ::minidl::maximum;
using ::minidl::mean;
using ::minidl::min;
using ::minidl::minimum;
using ::minidl::mish;
using ::minidl::mm;
using ::minidl::mse_loss;
using ::minidl::mul;
using ::minidl::ne;
using ::minidl::neg;
using ::minidl::nll_loss;
using ::minidl::nonzero;
using ::minidl::norm;
using ::minidl::normalize;
using ::minidl::one_hot;
using ::minidl::ones;
using ::minidl::ones_like;
using ::minidl::pad;
using ::minidl::pow;
using ::minidl::promote_types;
using ::minidl::rand;
using ::minidl::rand_like;
using ::minidl::randint;
using ::minidl::randn;
using ::minidl::randn_like;
using ::minidl::randperm;
using ::minidl::rdiv;
using ::minidl::relative_position_bucket;
using ::minidl::relative_position_gather;
using ::minidl::relative_position_gather_add;
using ::minidl::relative_position_index;
using ::minidl::relu;
using ::minidl::relu6;
using ::minidl::repeat;
using ::minidl::requires_grad;
using ::minidl::result_type;
using ::minidl::rnn_cell;
using ::minidl::rnn_sequence;
using ::minidl::rsqrt;
using ::minidl::rsub;
using ::minidl::scalar_tensor;
using ::minidl::scaled_dot_product_attention;
using ::minidl::scatter_add;
using ::minidl::segment_softmax;
using ::minidl::set_num_threads;
using ::minidl::sigmoid;
using ::minidl::silu;
using ::minidl::sin;
using ::minidl::sliding_window_attention;
using ::minidl::smooth_l1_loss;
using ::minidl::softmax;
using ::minidl::softplus;
using ::minidl::sort;
using ::minidl::split;
using ::minidl::sqrt;
using ::minidl::stack;
using ::minidl::std;
using ::minidl::str;
using ::minidl::sub;
using ::minidl::sum;
using ::minidl::tanh;
using ::minidl::tensor;
using ::minidl::topk;
using ::minidl::tril;
using ::minidl::triu;
using ::minidl::var;
using ::minidl::where;
using ::minidl::zeros;
using ::minidl::zeros_like;

// ---------------------------------------------------------------- optimizers, data
namespace autograd = ::minidl::autograd;  // grad, backward, Function, AutogradContext, ...
namespace optim = ::minidl::optim;
namespace data = ::minidl::data;

// ---------------------------------------------------------------- modules
namespace nn {
using ::minidl::nn::Module;
using ::minidl::nn::ModuleHolder;
using ::minidl::nn::NamedModule;
using ::minidl::nn::NamedTensor;
using ::minidl::nn::StateDict;

// Every layer's and loss's options builder.
using ::minidl::nn::AdaptiveAvgPool2dOptions;
using ::minidl::nn::AvgPool2dOptions;
using ::minidl::nn::BatchNorm1dOptions;
using ::minidl::nn::BatchNorm2dOptions;
using ::minidl::nn::BatchNormOptions;
using ::minidl::nn::BCELossOptions;
using ::minidl::nn::BCEWithLogitsLossOptions;
using ::minidl::nn::BilinearOptions;
using ::minidl::nn::Conv1dOptions;
using ::minidl::nn::Conv2dOptions;
using ::minidl::nn::ConvOptions;
using ::minidl::nn::ConvTranspose1dOptions;
using ::minidl::nn::ConvTranspose2dOptions;
using ::minidl::nn::ConvTransposeOptions;
using ::minidl::nn::CrossEntropyLossOptions;
using ::minidl::nn::Dropout2dOptions;
using ::minidl::nn::DropoutOptions;
using ::minidl::nn::ELUOptions;
using ::minidl::nn::EmbeddingFromPretrainedOptions;
using ::minidl::nn::EmbeddingOptions;
using ::minidl::nn::FlattenOptions;
using ::minidl::nn::GELUOptions;
using ::minidl::nn::GRUCellOptions;
using ::minidl::nn::GRUOptions;
using ::minidl::nn::HuberLossOptions;
using ::minidl::nn::KLDivLossOptions;
using ::minidl::nn::L1LossOptions;
using ::minidl::nn::LayerNormOptions;
using ::minidl::nn::LeakyReLUOptions;
using ::minidl::nn::LinearOptions;
using ::minidl::nn::LogSoftmaxOptions;
using ::minidl::nn::LSTMCellOptions;
using ::minidl::nn::LSTMOptions;
using ::minidl::nn::MarginRankingLossOptions;
using ::minidl::nn::MaxPool2dOptions;
using ::minidl::nn::MSELossOptions;
using ::minidl::nn::MultiheadAttentionOptions;
using ::minidl::nn::NLLLossOptions;
using ::minidl::nn::ReLUOptions;
using ::minidl::nn::RNNCellOptions;
using ::minidl::nn::RNNOptions;
using ::minidl::nn::SmoothL1LossOptions;
using ::minidl::nn::SoftmaxOptions;
using ::minidl::nn::TransformerDecoderLayerOptions;
using ::minidl::nn::TransformerDecoderOptions;
using ::minidl::nn::TransformerEncoderLayerOptions;
using ::minidl::nn::TransformerEncoderOptions;
using ::minidl::nn::UnflattenOptions;
using ::minidl::nn::UpsampleOptions;
namespace init = ::minidl::nn::init;
namespace functional = ::minidl::nn::functional;
namespace utils = ::minidl::nn::utils;

// libtorch's pair of names for a layer: XImpl is the module, X its handle.
#define MINIDL_TORCH_LAYER(X)      \
  using X##Impl = ::minidl::nn::X; \
  using X = ModuleHolder<::minidl::nn::X>
MINIDL_TORCH_LAYER(Linear);
MINIDL_TORCH_LAYER(Bilinear);
MINIDL_TORCH_LAYER(Identity);
MINIDL_TORCH_LAYER(Flatten);
MINIDL_TORCH_LAYER(Unflatten);
MINIDL_TORCH_LAYER(Conv1d);
MINIDL_TORCH_LAYER(Conv2d);
MINIDL_TORCH_LAYER(ConvTranspose1d);
MINIDL_TORCH_LAYER(ConvTranspose2d);
MINIDL_TORCH_LAYER(Dropout);
MINIDL_TORCH_LAYER(Dropout2d);
MINIDL_TORCH_LAYER(Embedding);
MINIDL_TORCH_LAYER(LayerNorm);
MINIDL_TORCH_LAYER(BatchNorm1d);
MINIDL_TORCH_LAYER(BatchNorm2d);
MINIDL_TORCH_LAYER(MaxPool2d);
MINIDL_TORCH_LAYER(AvgPool2d);
MINIDL_TORCH_LAYER(AdaptiveAvgPool2d);
MINIDL_TORCH_LAYER(Upsample);
MINIDL_TORCH_LAYER(ReLU);
MINIDL_TORCH_LAYER(LeakyReLU);
MINIDL_TORCH_LAYER(ELU);
MINIDL_TORCH_LAYER(GELU);
MINIDL_TORCH_LAYER(Tanh);
MINIDL_TORCH_LAYER(Sigmoid);
MINIDL_TORCH_LAYER(Softmax);
MINIDL_TORCH_LAYER(LogSoftmax);
MINIDL_TORCH_LAYER(RNN);
MINIDL_TORCH_LAYER(LSTM);
MINIDL_TORCH_LAYER(GRU);
MINIDL_TORCH_LAYER(RNNCell);
MINIDL_TORCH_LAYER(LSTMCell);
MINIDL_TORCH_LAYER(GRUCell);
MINIDL_TORCH_LAYER(MultiheadAttention);
MINIDL_TORCH_LAYER(TransformerEncoderLayer);
MINIDL_TORCH_LAYER(TransformerDecoderLayer);
MINIDL_TORCH_LAYER(TransformerEncoder);
MINIDL_TORCH_LAYER(TransformerDecoder);
MINIDL_TORCH_LAYER(Sequential);
MINIDL_TORCH_LAYER(ModuleList);
MINIDL_TORCH_LAYER(ModuleDict);
MINIDL_TORCH_LAYER(Functional);
MINIDL_TORCH_LAYER(SiLU);
MINIDL_TORCH_LAYER(Softplus);
MINIDL_TORCH_LAYER(Hardtanh);
MINIDL_TORCH_LAYER(ReLU6);
MINIDL_TORCH_LAYER(Mish);
MINIDL_TORCH_LAYER(MSELoss);
MINIDL_TORCH_LAYER(L1Loss);
MINIDL_TORCH_LAYER(SmoothL1Loss);
MINIDL_TORCH_LAYER(HuberLoss);
MINIDL_TORCH_LAYER(CrossEntropyLoss);
MINIDL_TORCH_LAYER(NLLLoss);
MINIDL_TORCH_LAYER(BCELoss);
MINIDL_TORCH_LAYER(BCEWithLogitsLoss);
MINIDL_TORCH_LAYER(KLDivLoss);
MINIDL_TORCH_LAYER(MarginRankingLoss);
MINIDL_TORCH_LAYER(BahdanauAttention);
MINIDL_TORCH_LAYER(DotProductAttention);
MINIDL_TORCH_LAYER(ProjectedDotProductAttention);
MINIDL_TORCH_LAYER(GraphAttention);
MINIDL_TORCH_LAYER(GAT);
MINIDL_TORCH_LAYER(LinearAttention);
MINIDL_TORCH_LAYER(LocalAttention);
MINIDL_TORCH_LAYER(LuongAttention);
MINIDL_TORCH_LAYER(LuongAttentionalHidden);
MINIDL_TORCH_LAYER(SinusoidalPositionalEncoding);
MINIDL_TORCH_LAYER(LearnedPositionalEmbedding);
MINIDL_TORCH_LAYER(RelativeMultiheadAttention);
MINIDL_TORCH_LAYER(ScaledDotProductAttention);
MINIDL_TORCH_LAYER(SlidingWindowAttention);
#undef MINIDL_TORCH_LAYER

// Older names libtorch still accepts (and programs written against it still use).
using FeatureDropout = Dropout2d;  // libtorch's deprecated name of Dropout2d
using FeatureDropoutImpl = Dropout2dImpl;
using FeatureDropoutOptions = Dropout2dOptions;
}  // namespace nn

namespace cuda = ::minidl::cuda;  // is_available() is false: minidl runs on the CPU

// torch::allclose(a, b): Tensor::allclose as a function (minidl's own tests have a testing::
// allclose, so the library keeps only the member form).
inline bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8,
                     bool equal_nan = false) {
  return a.allclose(b, rtol, atol, equal_nan);
}

}  // namespace torch

// libtorch's macros.
#define TORCH_MODULE(Name) MINIDL_MODULE(Name)
#define AT_ASSERT(cond) MINIDL_CHECK(cond, "AT_ASSERT", "Expected " #cond " to be true")
#define TORCH_CHECK(cond, ...) \
  MINIDL_CHECK(cond, "TORCH_CHECK", "Expected " #cond " to be true. " << ::minidl::str(__VA_ARGS__))
#define TORCH_INTERNAL_ASSERT(cond, ...) TORCH_CHECK(cond, ##__VA_ARGS__)
