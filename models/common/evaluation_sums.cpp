// Named sums behind sharded evaluation (models/common/evaluation_sums.h).
#include "models/common/evaluation_sums.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace minidl::models {

void EvaluationSums::add(const std::string& name, double value) {
  const auto it = std::find(names_.begin(), names_.end(), name);
  if (it != names_.end()) {
    values_[static_cast<size_t>(it - names_.begin())] += value;
    return;
  }
  names_.push_back(name);
  values_.push_back(value);
}

double EvaluationSums::get(const std::string& name) const {
  const auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) {
    std::ostringstream known;
    for (const std::string& n : names_) known << (known.tellp() > 0 ? ", " : "") << n;
    MINIDL_FAIL("EvaluationSums", "no sum called \"" << name << "\" (the sums are: "
                                                     << (names_.empty() ? "none" : known.str())
                                                     << ")");
  }
  return values_[static_cast<size_t>(it - names_.begin())];
}

int64_t EvaluationSums::count(const std::string& name) const {
  return std::llround(get(name));
}

double EvaluationSums::ratio(const std::string& numerator, const std::string& denominator) const {
  const double d = get(denominator), n = get(numerator);
  return d == 0 ? 0.0 : n / d;
}

}  // namespace minidl::models
