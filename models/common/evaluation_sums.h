// Evaluation by sums: a task's metrics computed from sums over the examples of a split -- counts
// of right answers, summed losses, BLEU's clipped n-gram counts, edit distances -- rather than
// from the examples themselves.
//
// Sums over disjoint parts of a split add up to the whole split's sums, and the metrics follow
// from those. So when N processes share an evaluation (build/train under mpirun), each sums its
// part (models/common/shard.h, shard_evaluation_part), one all-reduce adds the ranks' sums, and
// every rank computes the whole split's metrics -- exactly, including metrics that are not means
// over examples (corpus BLEU, per-class accuracy, error rates over summed lengths), for which
// averaging the ranks' metrics would be wrong.
//
//   EvaluationSums sums;
//   sums.add("examples", n);  sums.add("correct", right);  sums.add("loss", loss * n);
//   ... all-reduce sums.values() ...
//   accuracy = sums.ratio("correct", "examples");
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace minidl::models {

// Named sums, in the order they were first added (every process adds the same names in the same
// order, so their values line up for an all-reduce).
class EvaluationSums {
 public:
  // Adds value to the sum called name; a name not seen before starts a new sum at 0.
  void add(const std::string& name, double value);
  // The sum called name; an error names it (and the sums there are) when there is none.
  double get(const std::string& name) const;
  // get(name) as the integer count it sums (counts add exactly in doubles below 2^53).
  int64_t count(const std::string& name) const;
  // get(numerator) / get(denominator), or 0 when the denominator is 0 (a rate over nothing).
  double ratio(const std::string& numerator, const std::string& denominator) const;

  const std::vector<std::string>& names() const { return names_; }
  // The values, in names()' order (what an all-reduce adds in place).
  std::vector<double>& values() { return values_; }
  const std::vector<double>& values() const { return values_; }

 private:
  std::vector<std::string> names_;
  std::vector<double> values_;
};

// A classifier's counts by class (a language, a question type): adds the sums "examples" and
// "right", and for each class c "examples_<c>" and "right_<c>". examples[k] and right[k] count
// class k's examples and right answers; classes names them.
void add_class_counts(EvaluationSums& sums, const std::vector<std::string>& classes,
                      const std::vector<int64_t>& examples, const std::vector<int64_t>& right);
// From such sums and a summed "loss": accuracy, loss (per example), then accuracy_<c> for each
// class (0 for a class without examples).
std::vector<std::pair<std::string, double>> class_accuracy_metrics(
    const EvaluationSums& sums, const std::vector<std::string>& classes);

}  // namespace minidl::models
