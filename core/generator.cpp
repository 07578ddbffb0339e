#include "core/generator.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace minidl {

void Generator::manual_seed(uint64_t seed) {
  seed_ = seed;
  engine_.seed(seed);
  has_spare_normal_ = false;
}

double Generator::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  // u1 in (0, 1] so that log(u1) is finite.
  double u1 = 1.0 - uniform();
  double u2 = uniform();
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 2.0 * M_PI * u2;
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return radius * std::cos(angle);
}

int64_t Generator::randint(int64_t low, int64_t high) {
  MINIDL_CHECK(low < high, "randint", "empty range [" << low << ", " << high << ")");
  uint64_t range = static_cast<uint64_t>(high - low);
  // Rejection sampling: no modulo bias.
  uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t r;
  do r = engine_();
  while (r >= limit);
  return low + static_cast<int64_t>(r % range);
}

std::string Generator::get_state() const {
  std::ostringstream os;
  os << seed_ << ' ' << has_spare_normal_ << ' ';
  os.precision(17);
  os << spare_normal_ << ' ' << engine_;
  return os.str();
}

void Generator::set_state(const std::string& state) {
  std::istringstream is(state);
  uint64_t seed;
  bool spare;
  double spare_value;
  std::mt19937_64 engine;
  is >> seed >> spare >> spare_value >> engine;
  MINIDL_CHECK(!is.fail(), "Generator::set_state", "malformed generator state");
  seed_ = seed;
  has_spare_normal_ = spare;
  spare_normal_ = spare_value;
  engine_ = engine;
}

namespace {
thread_local Generator* thread_generator = nullptr;  // set by GeneratorGuard
}  // namespace

Generator& default_generator() {
  if (thread_generator != nullptr) return *thread_generator;
  static Generator generator(0);
  return generator;
}

GeneratorGuard::GeneratorGuard(Generator& generator) : previous_(thread_generator) {
  thread_generator = &generator;
}
GeneratorGuard::~GeneratorGuard() {
  thread_generator = previous_;
}

void manual_seed(uint64_t seed) {
  Generator& g = default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.manual_seed(seed);
}

}  // namespace minidl
