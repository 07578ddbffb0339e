// Polynomial regression with one Linear layer, in libtorch's C++ frontend idiom: fit
// y = w1 x + w2 x^2 + w3 x^3 + w4 x^4 + b to a random target polynomial with SGD on smooth L1
// until the loss is below 1e-4.
// Built unchanged against minidl by tests/libtorch_test.sh.
#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <tuple>

constexpr int64_t kDegree = 4;

// x [n] -> [n, kDegree] with columns x, x^2, ..., x^kDegree.
torch::Tensor make_features(torch::Tensor x) {
  x = x.unsqueeze(1);
  std::vector<torch::Tensor> powers;
  for (int64_t i = 1; i <= kDegree; ++i) powers.push_back(x.pow(i));
  return torch::cat(powers, 1);
}

std::pair<torch::Tensor, torch::Tensor> get_batch(const torch::Tensor& w, const torch::Tensor& b,
                                                  int64_t batch_size = 32) {
  auto x = torch::randn({batch_size});
  auto features = make_features(x);
  auto y = features.mm(w) + b.item<double>();
  return {features, y};
}

int main() {
  torch::manual_seed(0);
  auto w_target = torch::randn({kDegree, 1}) * 5;
  auto b_target = torch::randn({1}) * 5;

  torch::nn::Linear fc(w_target.size(0), 1);
  torch::optim::SGD optim(fc->parameters(), 0.1);

  float loss = 0;
  int64_t batch_idx = 0;
  while (++batch_idx) {
    torch::Tensor batch_x, batch_y;
    std::tie(batch_x, batch_y) = get_batch(w_target, b_target);
    optim.zero_grad();
    auto output = torch::smooth_l1_loss(fc(batch_x), batch_y);
    loss = output.item<float>();
    output.backward();
    optim.step();
    if (loss < 1e-4f || batch_idx == 20000) break;
  }

  std::cout << "Loss: " << loss << " after " << batch_idx << " batches\n";
  auto w = fc->weight.view({-1});
  std::printf("learned  b=%+.2f", fc->bias[0].item<float>());
  for (int64_t i = 0; i < kDegree; ++i)
    std::printf(" w%ld=%+.2f", static_cast<long>(i + 1), w[i].item<float>());
  std::printf("\ntarget   b=%+.2f", b_target[0].item<float>());
  for (int64_t i = 0; i < kDegree; ++i)
    std::printf(" w%ld=%+.2f", static_cast<long>(i + 1), w_target[i][0].item<float>());
  const double error = (fc->weight.view({-1}) - w_target.view({-1})).abs().max().item<double>();
  std::printf("\nmax weight error %.4f\n", error);
  return error < 0.05 ? 0 : 1;
}
