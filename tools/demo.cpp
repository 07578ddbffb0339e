// `make demo`: trains a small MLP on built-in generated data with a hand-written training loop on
// the tape, printing progress and the final held-out accuracy.
//
// The data: three interleaved spirals in the plane (a classic problem no linear model solves).
// The model: 2 -> 64 -> 64 -> 3 with ReLU, cross-entropy, Adam written out below in ten lines.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "minidl.h"

using namespace minidl;

namespace {

struct Dataset {
  Tensor points;  // [N, 2] float32
  Tensor labels;  // [N] int64
};

// N points per class on `classes` spiral arms, with Gaussian noise.
Dataset make_spirals(int64_t per_class, int64_t classes, double noise, Generator& gen) {
  std::vector<float> xy;
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < classes; ++c) {
    for (int64_t i = 0; i < per_class; ++i) {
      double r = static_cast<double>(i) / per_class;  // radius 0..1
      double angle = c * 2.0 * M_PI / classes + 3.0 * M_PI * r + noise * gen.normal();  // 1.5 turns
      xy.push_back(static_cast<float>(r * std::sin(angle)));
      xy.push_back(static_cast<float>(r * std::cos(angle)));
      labels.push_back(c);
    }
  }
  int64_t n = per_class * classes;
  return {from_vector(xy, {n, 2}), from_vector(labels, {n})};
}

// A parameter initialized like torch.nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
Tensor parameter(const Shape& shape, int64_t fan_in) {
  double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return (rand(shape) * (2 * bound) - bound).detach().requires_grad_();
}

// Adam (Kingma & Ba), the update PyTorch's torch.optim.Adam makes with default settings.
struct Adam {
  explicit Adam(std::vector<Tensor> params, double lr) : params(std::move(params)), lr(lr) {
    for (const Tensor& p : this->params) {
      m.push_back(zeros_like(p));
      v.push_back(zeros_like(p));
    }
  }
  void step() {
    NoGradGuard no_grad;
    ++t;
    const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor g = params[i].grad();
      m[i].mul_(beta1).add_(g, 1 - beta1);          // m = b1 m + (1 - b1) g
      v[i].mul_(beta2).add_(g * g, 1 - beta2);      // v = b2 v + (1 - b2) g^2
      double m_hat = 1 / (1 - std::pow(beta1, t));  // bias corrections
      double v_hat = 1 / (1 - std::pow(beta2, t));
      params[i].sub_(m[i] * m_hat / ((v[i] * v_hat).sqrt() + eps), lr);
    }
  }
  void zero_grad() {
    for (Tensor& p : params) p.zero_grad();
  }
  std::vector<Tensor> params, m, v;
  double lr;
  int t = 0;
};

}  // namespace

int main() {
  manual_seed(0);
  Generator data_gen(1234);
  Dataset train = make_spirals(1000, 3, 0.25, data_gen);
  Dataset test = make_spirals(300, 3, 0.25, data_gen);
  const int64_t n = train.points.size(0), batch = 64, epochs = 30, hidden = 64;
  std::printf("minidl demo: MLP 2-%lld-%lld-3 on 3 spirals (%lld train / %lld test points)\n",
              static_cast<long long>(hidden), static_cast<long long>(hidden),
              static_cast<long long>(n), static_cast<long long>(test.points.size(0)));

  Tensor w1 = parameter({hidden, 2}, 2), b1 = parameter({hidden}, 2);
  Tensor w2 = parameter({hidden, hidden}, hidden), b2 = parameter({hidden}, hidden);
  Tensor w3 = parameter({3, hidden}, hidden), b3 = parameter({3}, hidden);
  auto model = [&](const Tensor& x) {
    Tensor h = relu(linear(x, w1, b1));
    h = relu(linear(h, w2, b2));
    return linear(h, w3, b3);
  };
  auto accuracy = [&](const Dataset& d) {
    NoGradGuard no_grad;
    Tensor predicted = argmax(model(d.points), 1);
    return eq(predicted, d.labels).to(kFloat64).mean().item();
  };

  Adam optimizer({w1, b1, w2, b2, w3, b3}, 0.01);
  auto start = std::chrono::steady_clock::now();
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    Tensor order = randperm(n);
    double loss_sum = 0;
    int64_t batches = 0;
    for (int64_t first = 0; first < n; first += batch) {
      Tensor index = order.narrow(0, first, std::min(batch, n - first));
      Tensor loss = cross_entropy(model(index_select(train.points, 0, index)),
                                  index_select(train.labels, 0, index));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item();
      ++batches;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (epoch % 5 == 0 || epoch == 1)
      std::printf("epoch %2lld/%lld  loss %.4f  train accuracy %.3f  (%.2f s)\n",
                  static_cast<long long>(epoch), static_cast<long long>(epochs), loss_sum / batches,
                  accuracy(train), seconds);
  }
  double test_accuracy = accuracy(test);
  std::printf("test accuracy %.3f on %lld held-out points\n", test_accuracy,
              static_cast<long long>(test.points.size(0)));
  return test_accuracy >= 0.9 ? 0 : 1;
}
