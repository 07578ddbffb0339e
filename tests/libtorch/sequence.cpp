// Sequence models in libtorch's C++ frontend idiom: an Embedding + LSTM classifier (the LSTM's
// tuple-returning forward, its state passed on) and a TransformerEncoder classifier built from
// Options, trained with Adam and F::cross_entropy on synthetic token sequences. Built unchanged
// against minidl by tests/libtorch_test.sh.
#include <torch/torch.h>

#include <cstdio>
#include <tuple>

namespace F = torch::nn::functional;

constexpr int64_t kVocab = 10, kLength = 8, kBatch = 32, kDim = 32;

// Tokens [kLength, kBatch] (time-major, libtorch's default layout) and two labels per sequence:
// the first token (to remember across the sequence) and the largest token.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> make_batch() {
  auto tokens = torch::randint(0, kVocab, {kLength, kBatch});
  auto first = tokens[0].clone();
  auto largest = std::get<0>(tokens.max(0));
  return {tokens, first, largest};
}

struct RecurrentImpl : torch::nn::Module {
  RecurrentImpl()
      : embed(kVocab, kDim),
        lstm(torch::nn::LSTMOptions(kDim, kDim).num_layers(1)),
        head(kDim, kVocab) {
    register_module("embed", embed);
    register_module("lstm", lstm);
    register_module("head", head);
  }
  torch::Tensor forward(torch::Tensor tokens) {
    auto x = embed(tokens);  // [T, N, D]
    // Run the first half, then continue from its state: the LSTM's (h, c) tuple.
    auto first_half = lstm->forward(x.slice(0, 0, kLength / 2));
    auto state = std::get<1>(first_half);
    auto second_half = lstm->forward(x.slice(0, kLength / 2, kLength), state);
    auto output = std::get<0>(second_half);   // [T/2, N, D]
    return head(output[output.size(0) - 1]);  // the last step
  }
  torch::nn::Embedding embed;
  torch::nn::LSTM lstm;
  torch::nn::Linear head;
};
TORCH_MODULE(Recurrent);

struct AttentiveImpl : torch::nn::Module {
  AttentiveImpl()
      : embed(kVocab, kDim),
        encoder(torch::nn::TransformerEncoderOptions(
            torch::nn::TransformerEncoderLayerOptions(kDim, 4).dim_feedforward(64).dropout(0.0),
            2)),
        attention(torch::nn::MultiheadAttentionOptions(kDim, 4)),
        head(kDim, kVocab) {
    register_module("embed", embed);
    register_module("encoder", encoder);
    register_module("attention", attention);
    register_module("head", head);
  }
  torch::Tensor forward(torch::Tensor tokens) {
    auto x = encoder(embed(tokens));           // [T, N, D]
    auto query = x.mean(0, /*keepdim=*/true);  // [1, N, D]
    auto attended = std::get<0>(attention(query, x, x));
    return head(attended[0]);
  }
  torch::nn::Embedding embed;
  torch::nn::TransformerEncoder encoder;
  torch::nn::MultiheadAttention attention;
  torch::nn::Linear head;
};
TORCH_MODULE(Attentive);

// Trains `model` on one of the labels and returns its accuracy on fresh batches.
template <typename Model>
double train(Model& model, int label, int64_t steps, const char* name) {
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(3e-3));
  for (int64_t step = 0; step < steps; ++step) {
    auto batch = make_batch();
    auto target = label == 0 ? std::get<1>(batch) : std::get<2>(batch);
    optimizer.zero_grad();
    auto loss = F::cross_entropy(model->forward(std::get<0>(batch)), target,
                                 F::CrossEntropyFuncOptions().label_smoothing(0.05));
    loss.backward();
    torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
    optimizer.step();
    if (step % 100 == 0)
      std::printf("%s step %ld loss %.4f\n", name, static_cast<long>(step),
                  loss.template item<float>());
  }
  torch::NoGradGuard no_grad;
  model->eval();
  int64_t correct = 0, total = 0;
  for (int i = 0; i < 10; ++i) {
    auto batch = make_batch();
    auto target = label == 0 ? std::get<1>(batch) : std::get<2>(batch);
    correct +=
        model->forward(std::get<0>(batch)).argmax(1).eq(target).sum().template item<int64_t>();
    total += target.numel();
  }
  return static_cast<double>(correct) / total;
}

int main() {
  torch::manual_seed(0);
  Recurrent recurrent;
  const double lstm_accuracy = train(recurrent, 0, 300, "lstm");
  Attentive attentive;
  const double transformer_accuracy = train(attentive, 1, 300, "transformer");
  std::printf("lstm accuracy %.3f transformer accuracy %.3f\n", lstm_accuracy,
              transformer_accuracy);
  return lstm_accuracy > 0.9 && transformer_accuracy > 0.8 ? 0 : 1;
}
