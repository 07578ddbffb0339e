// `make demo`: trains the Bahdanau-attention encoder-decoder of the Keras tutorial
// (models/sequence/bahdanau_seq2seq.h) to turn dates written by people ("Thursday, May 3, 1979",
// "3.5.79", "the 3rd of may, 1979", ...) into ISO 8601 ("1979-05-03"), on data generated in code;
// then prints its exact-match accuracy on 1,000 held-out dates, a few translations (greedy and
// beam search) and an attention map.
//
// Everything here is plain minidl: the task's model and loss, RMSprop from nn/optim.h, the
// terminal heat map of models/common/plot.h. For experiments, MINIDL_DEMO_<NAME>=value overrides
// TRAIN (pairs), EMBED, HIDDEN, UNITS, EPOCHS, BATCH, LR, CLIP, SEED and BUDGET (seconds).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "minidl.h"
#include "models/sequence/bahdanau_seq2seq.h"
#include "models/common/plot.h"

using namespace minidl;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One line of progress: a bar on a terminal (redrawn in place), a plain log line otherwise.
void progress(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss,
              double items_per_second, double elapsed) {
  static const bool tty = isatty(fileno(stdout));
  const double eta = items_per_second > 0 ? elapsed * (static_cast<double>(total) / done - 1) : 0;
  if (tty) {
    const int width = 30, filled = static_cast<int>(width * done / total);
    std::printf("\repoch %lld/%lld [%s%s] %lld/%lld  loss %.4f  %.0f dates/s  ETA %.0f s   ",
                static_cast<long long>(epoch), static_cast<long long>(epochs),
                std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                static_cast<long long>(done), static_cast<long long>(total), loss, items_per_second,
                eta);
    if (done == total) std::printf("\n");
    std::fflush(stdout);
  } else if (done % 100 == 0 || done == total) {
    std::printf("epoch %lld/%lld batch %lld/%lld  loss %.4f  %.0f dates/s  ETA %.0f s\n",
                static_cast<long long>(epoch), static_cast<long long>(epochs),
                static_cast<long long>(done), static_cast<long long>(total), loss, items_per_second,
                eta);
    std::fflush(stdout);
  }
}

double metric(const models::Metrics& metrics, const std::string& name) {
  for (const auto& [key, value] : metrics)
    if (key == name) return value;
  return 0;
}

// Optional overrides for experiments: MINIDL_DEMO_<NAME>=value.
double env_or(const char* name, double fallback) {
  const char* value = std::getenv((std::string("MINIDL_DEMO_") + name).c_str());
  return value ? std::atof(value) : fallback;
}

}  // namespace

int main() {
  models::BahdanauDatesConfig config;
  config.train_size = static_cast<int64_t>(env_or("TRAIN", config.train_size));
  config.embedding_dim = static_cast<int64_t>(env_or("EMBED", config.embedding_dim));
  config.hidden_size = static_cast<int64_t>(env_or("HIDDEN", config.hidden_size));
  config.attention_units = static_cast<int64_t>(env_or("UNITS", config.attention_units));
  config.epochs = static_cast<int64_t>(env_or("EPOCHS", config.epochs));
  config.batch_size = static_cast<int64_t>(env_or("BATCH", config.batch_size));
  config.lr = env_or("LR", config.lr);
  config.clip_grad_norm = env_or("CLIP", config.clip_grad_norm);
  const uint64_t seed = static_cast<uint64_t>(env_or("SEED", 0));
  // Training stops here even on a busy machine (one epoch already gives ~99%).
  const double budget_seconds = env_or("BUDGET", 170);

  models::BahdanauDatesTask task(config);
  models::TaskOptions options;
  options.seed = seed;
  task.setup(options);
  const models::TrainDefaults settings = task.defaults();
  std::printf(
      "minidl demo: the Bahdanau-attention encoder-decoder of the Keras tutorial learns to write\n"
      "dates in ISO 8601 (%lld generated training pairs, %lld held out); RMSprop lr %g, batch "
      "%lld, %lld epochs\n",
      static_cast<long long>(task.data().train.size()),
      static_cast<long long>(task.data().test.size()), settings.lr,
      static_cast<long long>(settings.batch_size), static_cast<long long>(settings.epochs));
  std::printf("%s\n(%lld parameters)\n\n", task.model().to_string().c_str(),
              static_cast<long long>(task.model().num_parameters()));

  optim::RMSprop optimizer(task.model().parameters(), optim::RMSpropOptions(settings.lr));
  // A cosine decay of the learning rate over the whole run, stepped every batch: RMSprop with a
  // constant rate keeps making large steps once the loss is near 0 (its running mean of g^2
  // shrinks), and then an unlucky batch can undo an epoch; decaying the rate ends training calmly.
  const int64_t batches_per_epoch = task.start_epoch(0, settings.batch_size);
  optim::CosineAnnealingLR schedule(optimizer, settings.epochs * batches_per_epoch,
                                    settings.lr * 0.02);
  // The weights of the epoch with the best held-out (validation) exact match are kept.
  nn::StateDict best_state;
  double best_exact = -1;
  int64_t best_epoch = 0, last_epoch = 0;
  double train_seconds = 0;
  bool out_of_time = false;
  for (int64_t epoch = 1; epoch <= settings.epochs && !out_of_time; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const int64_t batches = task.start_epoch(epoch, settings.batch_size);
    int64_t seen = 0;
    double running_loss = 0;
    for (int64_t i = 0; i < batches; ++i) {
      optimizer.zero_grad();
      int64_t items = 0;
      Tensor loss = task.batch_loss(i, &items);
      loss.backward();
      if (settings.clip_grad_norm > 0)
        nn::utils::clip_grad_norm_(task.model().parameters(), settings.clip_grad_norm);
      optimizer.step();
      schedule.step();
      const double value = loss.item<double>();
      running_loss = i == 0 ? value : 0.98 * running_loss + 0.02 * value;
      seen += items;
      const double elapsed = seconds_since(start);
      progress(epoch, settings.epochs, i + 1, batches, running_loss, seen / elapsed, elapsed);
      if (train_seconds + elapsed > budget_seconds && i + 1 < batches) {
        std::printf("\ntime budget of %.0f s reached: training stops after batch %lld/%lld\n",
                    budget_seconds, static_cast<long long>(i + 1), static_cast<long long>(batches));
        out_of_time = true;
        break;
      }
    }
    train_seconds += seconds_since(start);
    const models::Metrics valid = task.evaluate("valid");
    last_epoch = epoch;
    std::printf(
        "epoch %lld/%lld: validation exact match %.4f, characters %.4f, loss %.4f  "
        "(training %.1f s so far)\n",
        static_cast<long long>(epoch), static_cast<long long>(settings.epochs),
        metric(valid, "exact_match"), metric(valid, "token_accuracy"), metric(valid, "loss"),
        train_seconds);
    if (metric(valid, "exact_match") >= best_exact) {
      best_exact = metric(valid, "exact_match");
      best_epoch = epoch;
      best_state.clear();
      for (const auto& [name, value] : task.model().state_dict())
        best_state.emplace_back(name, value.clone());
    }
  }
  if (best_epoch != last_epoch) {
    task.model().load_state_dict(best_state);
    std::printf("keeping the weights of epoch %lld (best validation exact match)\n",
                static_cast<long long>(best_epoch));
  }

  const models::Metrics test = task.evaluate("test");
  const double exact = metric(test, "exact_match");
  std::printf("\ntrained in %.1f s; exact match %.4f on %lld held-out test dates\n\n",
              train_seconds, exact, static_cast<long long>(task.data().test.size()));

  std::printf("%-32s %-12s %-12s\n", "input", "greedy", "beam (3)");
  for (const std::string& input : task.example_inputs()) {
    const models::Prediction greedy = task.predict(input, 1), beam = task.predict(input, 3);
    std::printf("%-32s %-12s %-12s\n", input.c_str(), greedy.output.c_str(), beam.output.c_str());
  }

  const std::string shown = "Thursday, May 3, 1979";
  const models::Prediction p = task.predict(shown, 1);
  std::printf("\nattention of \"%s\" -> \"%s\" (rows: output characters, columns: input):\n%s",
              shown.c_str(), p.output.c_str(),
              models::terminal_heat_map(p.attention, p.source_tokens, p.target_tokens,
                                        models::terminal_supports_utf8())
                  .c_str());
  return exact >= 0.99 ? 0 : 1;
}
