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

void add_class_counts(EvaluationSums& sums, const std::vector<std::string>& classes,
                      const std::vector<int64_t>& examples, const std::vector<int64_t>& right) {
  MINIDL_CHECK(examples.size() == classes.size() && right.size() == classes.size(),
               "add_class_counts",
               classes.size() << " classes, " << examples.size() << " example counts and "
                              << right.size() << " right-answer counts");
  int64_t all = 0, all_right = 0;
  for (size_t k = 0; k < classes.size(); ++k) all += examples[k], all_right += right[k];
  sums.add("examples", static_cast<double>(all));
  sums.add("right", static_cast<double>(all_right));
  for (size_t k = 0; k < classes.size(); ++k) {
    sums.add("examples_" + classes[k], static_cast<double>(examples[k]));
    sums.add("right_" + classes[k], static_cast<double>(right[k]));
  }
}

std::vector<std::pair<std::string, double>> class_accuracy_metrics(
    const EvaluationSums& sums, const std::vector<std::string>& classes) {
  std::vector<std::pair<std::string, double>> metrics = {
      {"accuracy", sums.ratio("right", "examples")}, {"loss", sums.ratio("loss", "examples")}};
  for (const std::string& c : classes)
    metrics.emplace_back("accuracy_" + c, sums.ratio("right_" + c, "examples_" + c));
  return metrics;
}

}  // namespace minidl::models
