// The defaults of Task's evaluation by sums (models/common/task.h).
#include "models/common/task.h"

#include "core/error.h"

namespace minidl::models {

Metrics Task::evaluate(const std::string& split) {
  return evaluation_metrics(evaluation_sums(split));
}

EvaluationSums Task::evaluation_sums(const std::string& split) {
  MINIDL_FAIL("Task::evaluation_sums",
              "this task does not evaluate by sums (split \""
                  << split << "\"): it must override evaluate, or evaluates_by_sums, "
                  << "evaluation_sums and evaluation_metrics");
  return {};
}

Metrics Task::evaluation_metrics(const EvaluationSums& sums) const {
  MINIDL_FAIL("Task::evaluation_metrics", "this task does not evaluate by sums ("
                                              << sums.names().size()
                                              << " sums given): it must override evaluate, or "
                                              << "evaluates_by_sums, evaluation_sums and "
                                              << "evaluation_metrics");
  return {};
}

}  // namespace minidl::models
