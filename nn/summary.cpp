#include "nn/summary.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "core/autograd.h"

namespace minidl::nn {

namespace {
struct Row {
  std::string name, type, output_shape = "?";
  int64_t params = 0;
};

// The state of the summary() running on this thread.
struct Recorder {
  std::map<const Module*, std::string> names;  // dotted names of the model's modules
  std::vector<Row> rows;
  std::vector<const Module*> open;  // modules whose traced forward is running, innermost last
};

thread_local Recorder* active_recorder = nullptr;

int64_t own_parameters(const Module& module) {
  int64_t n = 0;
  for (const Tensor& p : module.parameters(/*recurse=*/false)) n += p.numel();
  return n;
}

// Left-aligned columns, each as wide as its widest cell plus two spaces.
std::string format_table(const std::string& model_type, const std::vector<Row>& rows, int64_t total,
                         int64_t trainable) {
  std::vector<std::vector<std::string>> cells{{"Layer (type)", "Output Shape", "Param #"}};
  for (const Row& r : rows)
    cells.push_back({r.name + " (" + r.type + ")", r.output_shape, std::to_string(r.params)});
  size_t widths[3] = {0, 0, 0};
  for (const auto& line : cells)
    for (size_t c = 0; c < 3; ++c) widths[c] = std::max(widths[c], line[c].size());
  const size_t width = widths[0] + widths[1] + widths[2] + 4;
  auto format_line = [&](const std::vector<std::string>& line) {
    std::string s = line[0] + std::string(widths[0] + 2 - line[0].size(), ' ') + line[1] +
                    std::string(widths[1] + 2 - line[1].size(), ' ') + line[2];
    return s + '\n';
  };
  std::ostringstream os;
  os << "Model: " << model_type << '\n' << format_line(cells[0]) << std::string(width, '=') << '\n';
  for (size_t i = 1; i < cells.size(); ++i) os << format_line(cells[i]);
  os << std::string(width, '=') << '\n'
     << "Total params: " << total << '\n'
     << "Trainable params: " << trainable << '\n'
     << "Non-trainable params: " << total - trainable << '\n';
  return os.str();
}
}  // namespace

namespace detail {

ForwardTrace::ForwardTrace(Module& module) {
  Recorder* recorder = active_recorder;
  if (!recorder || (!recorder->open.empty() && recorder->open.back() == &module)) return;
  auto it = recorder->names.find(&module);
  // The model itself (name "") gets no row; a module outside the model's tree is listed by type.
  if (it != recorder->names.end() && it->second.empty()) return;
  Row row;
  row.name = it != recorder->names.end() ? it->second : "(unregistered)";
  row.type = module.type_name();
  row.params = own_parameters(module);
  recorder->rows.push_back(row);
  recorder->open.push_back(&module);
  row_ = static_cast<int64_t>(recorder->rows.size()) - 1;
}

ForwardTrace::~ForwardTrace() {
  if (row_ >= 0 && active_recorder) active_recorder->open.pop_back();
}

void ForwardTrace::set_output(const Tensor& output) {
  if (row_ < 0 || !active_recorder) return;
  active_recorder->rows[row_].output_shape =
      output.defined() ? shape_str(output.shape()) : "undefined";
}

}  // namespace detail

std::string summary(Module& model, const Tensor& example_input) {
  MINIDL_CHECK(active_recorder == nullptr, "summary",
               "summary() of " << model.type_name() << " called during another summary()");
  Recorder recorder;
  for (const auto& [name, module] : model.named_modules()) recorder.names.emplace(module, name);
  struct Activate {
    explicit Activate(Recorder* r) { active_recorder = r; }
    ~Activate() { active_recorder = nullptr; }
  } activate(&recorder);
  {
    NoGradGuard no_grad;
    model(example_input);
  }
  int64_t total = 0, trainable = 0;
  for (const Tensor& p : model.parameters()) {
    total += p.numel();
    if (p.requires_grad()) trainable += p.numel();
  }
  return format_table(model.type_name(), recorder.rows, total, trainable);
}

}  // namespace minidl::nn
