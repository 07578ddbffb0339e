// `make demo`: trains the CNN of BENCHMARKS.md's W5 on Fashion-MNIST for one epoch (Debian's
// dataset-fashion-mnist, installed by tools/install_deps.sh) and prints the test accuracy. Without
// the dataset it trains an MLP on three generated spirals instead.
//
// Everything here is plain minidl: modules from nn/, Adam from nn/optim.h, a DataLoader.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "minidl.h"

using namespace minidl;

namespace {

// Where Debian's dataset-fashion-mnist puts the files; MINIDL_FASHION_MNIST overrides it.
std::string fashion_dir() {
  const char* dir = std::getenv("MINIDL_FASHION_MNIST");
  return dir ? dir : "/usr/share/datasets/fashion-mnist";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One line of progress: a bar on a terminal (redrawn in place), a plain log line otherwise.
void progress(int64_t done, int64_t total, double loss, double items_per_second, double elapsed) {
  static const bool tty = isatty(fileno(stdout));
  const double eta = items_per_second > 0 ? elapsed * (static_cast<double>(total) / done - 1) : 0;
  if (tty) {
    const int width = 30, filled = static_cast<int>(width * done / total);
    std::printf("\r[%s%s] %lld/%lld  loss %.4f  %.0f img/s  ETA %.0f s   ",
                std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                static_cast<long long>(done), static_cast<long long>(total), loss, items_per_second,
                eta);
    if (done == total) std::printf("\n");
    std::fflush(stdout);
  } else if (done % 100 == 0 || done == total) {
    std::printf("batch %lld/%lld  loss %.4f  %.0f img/s  ETA %.0f s\n",
                static_cast<long long>(done), static_cast<long long>(total), loss, items_per_second,
                eta);
    std::fflush(stdout);
  }
}

// Images [N, 28, 28] of raw bytes -> [N, 1, 28, 28] normalized with the training set's
// mean and standard deviation.
Tensor normalize_images(const Tensor& raw) {
  constexpr double kMean = 0.2860, kStd = 0.3530;
  return ((raw / 255.0 - kMean) / kStd).unsqueeze(1).contiguous();
}

// Accuracy of `model` on (images, labels), in batches, without recording a tape.
double accuracy(nn::Module& model, const Tensor& images, const Tensor& labels) {
  NoGradGuard no_grad;
  model.eval();
  int64_t correct = 0;
  const int64_t n = images.size(0), batch = 1000;
  for (int64_t first = 0; first < n; first += batch) {
    int64_t count = std::min(batch, n - first);
    Tensor predicted = argmax(model(images.narrow(0, first, count)), 1);
    correct += eq(predicted, labels.narrow(0, first, count)).sum().item<int64_t>();
  }
  model.train();
  return static_cast<double>(correct) / n;
}

int train_fashion_mnist() {
  const std::string dir = fashion_dir();
  std::printf("minidl demo: CNN on Fashion-MNIST (%s), one epoch, Adam (lr 2e-3), batch 64\n",
              dir.c_str());
  Tensor train_images = normalize_images(nn::read_idx(dir + "/train-images-idx3-ubyte.gz"));
  Tensor train_labels = nn::read_idx(dir + "/train-labels-idx1-ubyte.gz");
  Tensor test_images = normalize_images(nn::read_idx(dir + "/t10k-images-idx3-ubyte.gz"));
  Tensor test_labels = nn::read_idx(dir + "/t10k-labels-idx1-ubyte.gz");

  manual_seed(0);
  using nn::Conv2d, nn::Flatten, nn::Linear, nn::MaxPool2d, nn::ReLU;
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<Conv2d>(1, 32, 3, 1, 1), std::make_shared<ReLU>(),
      std::make_shared<MaxPool2d>(2), std::make_shared<Conv2d>(32, 64, 3, 1, 1),
      std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
      std::make_shared<Linear>(64 * 7 * 7, 128), std::make_shared<ReLU>(),
      std::make_shared<Linear>(128, 10));
  std::printf("%s\n", nn::summary(*model, test_images.narrow(0, 0, 64)).c_str());

  optim::Adam optimizer(model->parameters(), optim::AdamOptions(2e-3));
  nn::DataLoader loader(std::make_shared<nn::TensorDataset>(train_images, train_labels), 64,
                        /*shuffle=*/true, /*drop_last=*/false, /*seed=*/0);
  const auto start = std::chrono::steady_clock::now();
  int64_t done = 0, seen = 0;
  double running_loss = 0;
  for (const nn::Example& batch : loader) {
    optimizer.zero_grad();
    Tensor loss = cross_entropy((*model)(batch.data), batch.target);
    loss.backward();
    optimizer.step();
    const double value = loss.item();
    running_loss = done == 0 ? value : 0.98 * running_loss + 0.02 * value;
    ++done;
    seen += batch.data.size(0);
    const double elapsed = seconds_since(start);
    progress(done, loader.size(), running_loss, seen / elapsed, elapsed);
  }
  const double train_seconds = seconds_since(start);
  const double test_accuracy = accuracy(*model, test_images, test_labels);
  std::printf("trained 1 epoch (%lld images) in %.1f s; test accuracy %.4f on %lld images\n",
              static_cast<long long>(seen), train_seconds, test_accuracy,
              static_cast<long long>(test_images.size(0)));
  return test_accuracy >= 0.88 ? 0 : 1;
}

// ---------------------------------------------------------------- built-in data fallback

// `per_class` points on each of `classes` spiral arms (1.5 turns), with Gaussian noise.
std::pair<Tensor, Tensor> make_spirals(int64_t per_class, int64_t classes, double noise,
                                       Generator& gen) {
  std::vector<float> xy;
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < classes; ++c) {
    for (int64_t i = 0; i < per_class; ++i) {
      double r = static_cast<double>(i) / per_class;
      double angle = c * 2.0 * M_PI / classes + 3.0 * M_PI * r + noise * gen.normal();
      xy.push_back(static_cast<float>(r * std::sin(angle)));
      xy.push_back(static_cast<float>(r * std::cos(angle)));
      labels.push_back(c);
    }
  }
  const int64_t n = per_class * classes;
  return {from_vector(xy, {n, 2}), from_vector(labels, {n})};
}

int train_spirals() {
  std::printf("minidl demo: %s not found, so an MLP on three generated spirals instead\n",
              fashion_dir().c_str());
  manual_seed(0);
  Generator data_gen(1234);
  auto [train_x, train_y] = make_spirals(1000, 3, 0.25, data_gen);
  auto [test_x, test_y] = make_spirals(300, 3, 0.25, data_gen);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(2, 64), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(64, 64), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(64, 3));
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(0.01));
  nn::DataLoader loader(std::make_shared<nn::TensorDataset>(train_x, train_y), 64, true);
  const int64_t epochs = 30;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0;
    for (const nn::Example& batch : loader) {
      optimizer.zero_grad();
      Tensor loss = cross_entropy((*model)(batch.data), batch.target);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item();
    }
    if (epoch % 5 == 0 || epoch == 1)
      std::printf("epoch %2lld/%lld  loss %.4f  train accuracy %.3f  (%.2f s)\n",
                  static_cast<long long>(epoch), static_cast<long long>(epochs),
                  loss_sum / loader.size(), accuracy(*model, train_x, train_y),
                  seconds_since(start));
  }
  const double test_accuracy = accuracy(*model, test_x, test_y);
  std::printf("test accuracy %.3f on %lld held-out points\n", test_accuracy,
              static_cast<long long>(test_x.size(0)));
  return test_accuracy >= 0.9 ? 0 : 1;
}

}  // namespace

int main() {
  const bool have_dataset = std::ifstream(fashion_dir() + "/train-images-idx3-ubyte.gz").good();
  return have_dataset ? train_fashion_mnist() : train_spirals();
}
