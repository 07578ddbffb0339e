// What the two training loops share (models/common/training.cpp for epochs of batches,
// models/common/interactive_training.cpp for environment steps): time, number formats, checkpoint
// metadata reading, the CSV files of a run, and validation that leaves the random state alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "models/common/task.h"
#include "models/common/training.h"
#include "nn/safetensors.h"

namespace minidl::models::detail {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start);

// %.17g: every double round-trips through checkpoint metadata.
std::string number_text(double value);
// 8 significant digits: plenty for a log, short enough to read.
std::string csv_number(double value);

// metadata[key], or an error naming `op`, the file and the key.
const std::string& required_in(const char* op, const nn::Metadata& metadata, const std::string& key,
                               const std::string& path);
// The metadata value as a number / a whole number, or an error naming the file and the key.
double parse_double(const std::string& text, const std::string& key, const std::string& path);
int64_t parse_int(const std::string& text, const std::string& key, const std::string& path);

// A CSV file appended row by row, the header written with the first row. On resume, rows whose
// column `step_column` is past the checkpoint's step are dropped (they belong to the part of the
// interrupted run being redone); otherwise the file starts afresh. An empty path writes nothing.
class CsvFile {
 public:
  CsvFile() = default;
  CsvFile(const std::string& path, bool resume, int64_t resume_step, size_t step_column);
  void append(const std::vector<std::string>& header, const std::vector<std::string>& row);

 private:
  std::string path_;
  bool header_written_ = false;
};

// Before resuming from `checkpoint`: it holds options.model, trained with the same seed, data and
// smoke flag (else the data would differ); an error says which and what to do.
void check_resume_matches(const TrainOptions& options, const std::string& checkpoint);

// If the headline (first) validation metric is the best so far (lower_is_better decides the
// direction), records it, with `epoch`, in result.best_*; returns whether it was.
bool record_if_best(TrainResult& result, const Metrics& valid, double epoch);

// task.evaluate(split) with the default generator put back afterwards, so that validating (which
// may sample) never changes what training draws -- resumed and uninterrupted runs stay identical --
// and the model back in training mode. In a data-parallel run (world_size() > 1) every rank
// calls it: a task that evaluates by sums (models/common/task.h) sums its part on each rank, one
// all-reduce adds the parts' sums and the metrics are computed from the whole split's; otherwise
// every rank evaluates the whole split (the same replica, so the same metrics).
Metrics evaluate_untouched(Task& task, const std::string& split);

}  // namespace minidl::models::detail
