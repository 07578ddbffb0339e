// A small DCGAN on Fashion-MNIST in libtorch's C++ frontend idiom: a transposed-convolution
// generator, a convolutional discriminator in a Sequential, Adam with betas, binary cross entropy
// with smoothed real labels, checkpoints with torch::save / torch::load. Built unchanged against
// minidl by tests/libtorch_test.sh.
//   dcgan DATA_ROOT [STEPS] [CHECKPOINT_DIR]
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

constexpr int64_t kNoiseSize = 32;
constexpr int64_t kBatchSize = 64;

struct DCGANGeneratorImpl : torch::nn::Module {
  explicit DCGANGeneratorImpl(int64_t noise_size)
      : conv1(torch::nn::ConvTranspose2dOptions(noise_size, 64, 4).bias(false)),
        batch_norm1(64),
        conv2(torch::nn::ConvTranspose2dOptions(64, 32, 3).stride(2).padding(1).bias(false)),
        batch_norm2(32),
        conv3(torch::nn::ConvTranspose2dOptions(32, 16, 4).stride(2).padding(1).bias(false)),
        batch_norm3(16),
        conv4(torch::nn::ConvTranspose2dOptions(16, 1, 4).stride(2).padding(1).bias(false)) {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("conv3", conv3);
    register_module("conv4", conv4);
    register_module("batch_norm1", batch_norm1);
    register_module("batch_norm2", batch_norm2);
    register_module("batch_norm3", batch_norm3);
  }

  // [N, noise, 1, 1] -> [N, 1, 28, 28] in (-1, 1).
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(batch_norm1(conv1(x)));
    x = torch::relu(batch_norm2(conv2(x)));
    x = torch::relu(batch_norm3(conv3(x)));
    x = torch::tanh(conv4(x));
    return x;
  }

  torch::nn::ConvTranspose2d conv1;
  torch::nn::BatchNorm2d batch_norm1;
  torch::nn::ConvTranspose2d conv2;
  torch::nn::BatchNorm2d batch_norm2;
  torch::nn::ConvTranspose2d conv3;
  torch::nn::BatchNorm2d batch_norm3;
  torch::nn::ConvTranspose2d conv4;
};
TORCH_MODULE(DCGANGenerator);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: dcgan DATA_ROOT [STEPS] [CHECKPOINT_DIR]\n";
    return 2;
  }
  const int64_t steps = argc > 2 ? std::stoll(argv[2]) : 100;
  const std::string checkpoint_dir = argc > 3 ? argv[3] : ".";
  torch::manual_seed(1);
  torch::Device device(torch::kCPU);

  DCGANGenerator generator(kNoiseSize);
  generator->to(device);

  torch::nn::Sequential discriminator(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 16, 4).stride(2).padding(1).bias(false)),
      torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(16, 32, 4).stride(2).padding(1).bias(false)),
      torch::nn::BatchNorm2d(32),
      torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 4).stride(2).padding(1).bias(false)),
      torch::nn::BatchNorm2d(64),
      torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 1, 3).stride(1).padding(0).bias(false)),
      torch::nn::Sigmoid());
  discriminator->to(device);

  auto dataset = torch::data::datasets::MNIST(argv[1])
                     .map(torch::data::transforms::Normalize<>(0.5, 0.5))
                     .map(torch::data::transforms::Stack<>());
  auto data_loader = torch::data::make_data_loader(
      std::move(dataset), torch::data::DataLoaderOptions().batch_size(kBatchSize).workers(2));

  torch::optim::Adam generator_optimizer(
      generator->parameters(), torch::optim::AdamOptions(2e-4).betas(std::make_tuple(0.5, 0.5)));
  torch::optim::Adam discriminator_optimizer(
      discriminator->parameters(),
      torch::optim::AdamOptions(2e-4).betas(std::make_tuple(0.5, 0.5)));

  double real_mean = 0, first_fake_mean = NAN, fake_mean = 0;
  int64_t step = 0;
  for (torch::data::Example<>& batch : *data_loader) {
    // Train the discriminator on real images (labels smoothed to [0.8, 1]) and fakes (label 0).
    discriminator->zero_grad();
    torch::Tensor real_images = batch.data.to(device);
    torch::Tensor real_labels = torch::empty(batch.data.size(0), device).uniform_(0.8, 1.0);
    torch::Tensor real_output = discriminator->forward(real_images).reshape(real_labels.sizes());
    torch::Tensor d_loss_real = torch::binary_cross_entropy(real_output, real_labels);
    d_loss_real.backward();

    torch::Tensor noise = torch::randn({batch.data.size(0), kNoiseSize, 1, 1}, device);
    torch::Tensor fake_images = generator->forward(noise);
    torch::Tensor fake_labels = torch::zeros(batch.data.size(0), device);
    torch::Tensor fake_output =
        discriminator->forward(fake_images.detach()).reshape(fake_labels.sizes());
    torch::Tensor d_loss_fake = torch::binary_cross_entropy(fake_output, fake_labels);
    d_loss_fake.backward();
    torch::Tensor d_loss = d_loss_real + d_loss_fake;
    discriminator_optimizer.step();

    // Train the generator to make the discriminator say "real".
    generator->zero_grad();
    fake_labels.fill_(1);
    fake_output = discriminator->forward(fake_images).reshape(fake_labels.sizes());
    torch::Tensor g_loss = torch::binary_cross_entropy(fake_output, fake_labels);
    g_loss.backward();
    generator_optimizer.step();

    // Mean pixel values, averaged over the last 20 steps (one batch is noisy).
    const double real_now = real_images.mean().item<double>();
    const double fake_now = fake_images.mean().item<double>();
    if (std::isnan(first_fake_mean)) first_fake_mean = fake_now;
    if (step >= steps - 20) {
      real_mean += real_now / 20;
      fake_mean += fake_now / 20;
    }
    if (step % 10 == 0)
      std::printf("[%3ld/%3ld] D_loss: %.4f | G_loss: %.4f | mean real %.3f fake %.3f\n",
                  static_cast<long>(step), static_cast<long>(steps), d_loss.item<float>(),
                  g_loss.item<float>(), real_now, fake_now);
    if (++step == steps) break;
  }

  torch::save(generator, checkpoint_dir + "/generator-checkpoint.pt");
  torch::save(generator_optimizer, checkpoint_dir + "/generator-optimizer-checkpoint.pt");
  torch::save(discriminator, checkpoint_dir + "/discriminator-checkpoint.pt");

  // A fresh generator restored from the checkpoint draws the same images.
  DCGANGenerator restored(kNoiseSize);
  torch::load(restored, checkpoint_dir + "/generator-checkpoint.pt");
  torch::optim::Adam restored_optimizer(restored->parameters(),
                                        torch::optim::AdamOptions(2e-4).betas({0.5, 0.5}));
  torch::load(restored_optimizer, checkpoint_dir + "/generator-optimizer-checkpoint.pt");
  generator->eval();
  restored->eval();
  torch::Tensor noise = torch::randn({8, kNoiseSize, 1, 1});
  torch::Tensor samples = generator->forward(noise);
  const bool same = torch::allclose(samples, restored->forward(noise));
  torch::save((samples + 1.0) / 2.0, torch::str(checkpoint_dir, "/dcgan-sample-", 1, ".pt"));

  std::printf(
      "fake image mean %.3f -> %.3f (real %.3f) over the last 20 steps; restored "
      "generator %s\n",
      first_fake_mean, fake_mean, real_mean, same ? "matches" : "DIFFERS");
  // The generator has learned at least the data's brightness: its images' mean pixel moved at
  // least 40% of the way from where it started towards the real images'.
  const bool learned =
      std::fabs(fake_mean - real_mean) < 0.6 * std::fabs(first_fake_mean - real_mean);
  return same && learned ? 0 : 1;
}
