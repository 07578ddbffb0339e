// The random number generator behind rand, randn, randint, dropout and initialization.
//
// A Mersenne Twister (mt19937_64) with our own conversions to uniform and normal numbers, so a
// seed gives the same numbers on every run and every standard library. The default generator is
// process-wide, like PyTorch's: manual_seed(s) makes a whole program reproducible.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace minidl {

// One seeded mt19937_64 stream; its mutex guards it when shared (the default generator).
class Generator {
 public:
  explicit Generator(uint64_t seed = 5489) { manual_seed(seed); }
  // Restarts the stream from `seed` (initial_seed() returns it).
  void manual_seed(uint64_t seed);
  uint64_t initial_seed() const { return seed_; }

  uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Standard normal by the Box-Muller transform (the second value of each pair is kept).
  double normal();
  // Uniform integer in [low, high).
  int64_t randint(int64_t low, int64_t high);

  // The whole state as text (for checkpoints) and back.
  std::string get_state() const;
  void set_state(const std::string& state);

  // Held by fills of the default generator, which may be shared by threads.
  std::mutex mutex;

 private:
  std::mt19937_64 engine_;
  uint64_t seed_ = 0;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

// The generator draws go to when none is passed: this thread's GeneratorGuard's if one is open,
// else the process-wide one.
Generator& default_generator();
// Seeds the default generator (torch::manual_seed).
void manual_seed(uint64_t seed);

// Makes `generator` the default generator of the calling thread while the guard lives, so that
// everything drawing from the default -- rand/randn, dropout, initialisers, randperm, shuffles --
// draws from it. Two trainings in two threads, each under its own guard, are then each
// reproducible whatever the interleaving (with the one process-wide generator, the draws of one
// depend on when the other draws). Guards nest; the generator must outlive the guard.
class GeneratorGuard {
 public:
  explicit GeneratorGuard(Generator& generator);
  ~GeneratorGuard();
  GeneratorGuard(const GeneratorGuard&) = delete;
  GeneratorGuard& operator=(const GeneratorGuard&) = delete;

 private:
  Generator* previous_;
};

}  // namespace minidl
