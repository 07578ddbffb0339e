#include "models/common/training_util.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"
#include "nn/checkpoint.h"
#include "nn/distributed/distributed.h"

namespace minidl::models::detail {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string number_text(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

std::string csv_number(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.8g", value);
  return buffer;
}

const std::string& required_in(const char* op, const nn::Metadata& metadata, const std::string& key,
                               const std::string& path) {
  auto it = metadata.find(key);
  MINIDL_CHECK(it != metadata.end(), op,
               path << " has no metadata \"" << key << "\" (not written by tools/train)");
  return it->second;
}

double parse_double(const std::string& text, const std::string& key, const std::string& path) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  MINIDL_FAIL("train", path << ": metadata \"" << key << "\" is not a number: \"" << text << "\"");
}

int64_t parse_int(const std::string& text, const std::string& key, const std::string& path) {
  try {
    size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  MINIDL_FAIL("train",
              path << ": metadata \"" << key << "\" is not an integer: \"" << text << "\"");
}

CsvFile::CsvFile(const std::string& path, bool resume, int64_t resume_step, size_t step_column)
    : path_(path) {
  if (path_.empty()) return;
  if (!resume) {
    std::filesystem::remove(path_);
    return;
  }
  std::ifstream in(path_);
  std::string line, kept;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (first) {
      kept += line + "\n";
      header_written_ = true;
      first = false;
      continue;
    }
    std::stringstream fields(line);
    std::string field;
    for (size_t i = 0; i <= step_column; ++i) std::getline(fields, field, ',');
    if (std::atoll(field.c_str()) <= resume_step) kept += line + "\n";
  }
  in.close();
  nn::write_file_atomic(path_, kept, "train");
}

void CsvFile::append(const std::vector<std::string>& header, const std::vector<std::string>& row) {
  if (path_.empty()) return;
  std::ofstream out(path_, std::ios::app);
  MINIDL_CHECK(out, "train", "cannot write " << path_);
  auto line = [&](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << fields[i];
    out << "\n";
  };
  if (!header_written_) line(header);
  header_written_ = true;
  line(row);
  MINIDL_CHECK(out, "train", "cannot write " << path_);
}

void check_resume_matches(const TrainOptions& options, const std::string& checkpoint) {
  const CheckpointConfig config = read_checkpoint_config(checkpoint);
  MINIDL_CHECK(options.model.empty() || config.model == options.model, "train",
               "--resume: " << checkpoint << " holds model \"" << config.model << "\", not \""
                            << options.model << "\"");
  MINIDL_CHECK(config.task.seed == options.seed && config.task.data_path == options.data_path &&
                   config.task.smoke == options.smoke,
               "train",
               "--resume: " << checkpoint << " was trained with seed " << config.task.seed
                            << ", data \"" << config.task.data_path << "\", smoke "
                            << config.task.smoke << "; resume with the same options");
}

bool record_if_best(TrainResult& result, const Metrics& valid, double epoch) {
  if (valid.empty()) return false;
  const auto& [name, value] = valid.front();
  const bool better =
      result.best_metric.empty() ||
      (lower_is_better(name) ? value < result.best_value : value > result.best_value);
  if (!better) return false;
  result.best_metric = name;
  result.best_value = value;
  result.best_epoch = epoch;
  return true;
}

Metrics evaluate_untouched(Task& task, const std::string& split) {
  Generator& gen = default_generator();
  const std::string state = gen.get_state();
  Metrics metrics;
  if (distributed::world_size() > 1 && task.evaluates_by_sums()) {
    // Each rank sums its part of the split; the ranks' sums add up to the whole split's.
    EvaluationSums sums = task.evaluation_sums(split);
    std::vector<double>& values = sums.values();
    const int64_t count = static_cast<int64_t>(values.size());
    // The ranks must send the same number of sums, or the all-reduce would mix them up.
    Tensor counts = from_vector(std::vector<double>{static_cast<double>(count)}, {1}, kFloat64);
    distributed::all_reduce_sum(counts);
    MINIDL_CHECK(
        counts.item<double>() == static_cast<double>(count * distributed::world_size()), "evaluate",
        "rank " << distributed::rank() << " has " << count << " evaluation sums on split \""
                << split << "\", but the ranks' counts add up to " << counts.item<double>());
    Tensor reduced = from_vector(values, {count}, kFloat64);
    distributed::all_reduce_sum(reduced);
    values = reduced.to_vector<double>();
    metrics = task.evaluation_metrics(sums);
  } else {
    metrics = task.evaluate(split);
  }
  gen.set_state(state);
  task.model().train();
  return metrics;
}

}  // namespace minidl::models::detail
