#include "core/trace.h"

#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>

#include "core/autograd.h"
#include "core/tensor.h"

namespace minidl {

namespace {
unsigned flags_from_environment() {
  const char* value = std::getenv("MINIDL_TRACE");
  const bool on = value && *value && std::strcmp(value, "0") != 0;
  return on ? trace_detail::kPrint : 0u;
}

std::mutex output_mutex;
std::ostream* output = nullptr;  // nullptr: std::cerr

std::mutex table_mutex;
std::unordered_map<uint64_t, std::vector<SavedTensorInfo>> saved_table;

// The SavedTensors made on this thread since its last record().
thread_local std::vector<SavedTensorInfo> pending_saved;

void write_line(const std::string& line) {
  std::lock_guard<std::mutex> lock(output_mutex);
  std::ostream& out = output ? *output : std::cerr;
  out << line << '\n';
  out.flush();
}

void set_flag(unsigned bit, bool on) {
  if (on) {
    trace_detail::flags.fetch_or(bit, std::memory_order_relaxed);
  } else {
    trace_detail::flags.fetch_and(~bit, std::memory_order_relaxed);
  }
}

// "#11" (the entry that produced it), "leaf" (a leaf requiring grad) or "const".
std::string source(const Edge& e) {
  if (e.node) return "#" + std::to_string(e.node->sequence_nr);
  if (e.leaf) return "leaf";
  return "const";
}
}  // namespace

namespace trace_detail {
std::atomic<unsigned> flags{flags_from_environment()};

void note_saved(const Tensor& t) {
  pending_saved.push_back({t.shape(), t.dtype()});
}

void on_record(const Node& node, const Tensor* inputs, size_t count) {
  std::vector<SavedTensorInfo> saved = std::move(pending_saved);
  pending_saved.clear();
  const unsigned f = flags.load(std::memory_order_relaxed);
  if (f & kPrint) {
    std::ostringstream line;
    line << "[trace] record #" << node.sequence_nr << ' ' << node.name_ << " out "
         << shape_str(node.output_shape) << ' ' << node.output_dtype << " inputs: ";
    for (size_t i = 0; i < count; ++i) {
      if (i) line << ", ";
      if (!inputs[i].defined()) {
        line << "none";
        continue;
      }
      line << shape_str(inputs[i].shape());
      const std::string from = i < node.next_edges.size() ? source(node.next_edges[i]) : "const";
      line << (from[0] == '#' ? " <- " : " ") << from;
    }
    line << "; saved " << saved.size();
    write_line(line.str());
  }
  if (f & kSaved) {
    std::lock_guard<std::mutex> lock(table_mutex);
    saved_table[node.sequence_nr] = std::move(saved);
  }
}

void on_backward(const Node& node, const Tensor& grad_output, const std::vector<Tensor>& grads,
                 double seconds) {
  if (!printing()) return;
  std::ostringstream line;
  line << "[trace] backward #" << node.sequence_nr << ' ' << node.name_ << " grad "
       << shape_str(grad_output.shape()) << " ->";
  bool any_grad = false;
  for (size_t i = 0; i < grads.size(); ++i) {
    const Edge* e = i < node.next_edges.size() ? &node.next_edges[i] : nullptr;
    if (!grads[i].defined() || !e || !e->valid()) continue;
    line << (any_grad ? ", " : " ") << shape_str(grads[i].shape()) << " to " << source(*e);
    any_grad = true;
  }
  if (!any_grad) line << " nothing";
  line << " (" << std::fixed << std::setprecision(3) << seconds * 1e3 << " ms)";
  write_line(line.str());
}
}  // namespace trace_detail

// ---------------------------------------------------------------- printing

bool trace_enabled() {
  return trace_detail::printing();
}

void set_trace(bool on) {
  set_flag(trace_detail::kPrint, on);
}

void set_trace_output(std::ostream* out) {
  std::lock_guard<std::mutex> lock(output_mutex);
  output = out;
}

TraceGuard::TraceGuard(std::ostream* out) : previous_(trace_enabled()) {
  {
    std::lock_guard<std::mutex> lock(output_mutex);
    previous_out_ = output;
    if (out) output = out;
  }
  set_trace(true);
}

TraceGuard::~TraceGuard() {
  set_trace(previous_);
  set_trace_output(previous_out_);
}

// ---------------------------------------------------------------- saved tensors

void set_record_saved_tensors(bool on) {
  set_flag(trace_detail::kSaved, on);
}

bool recording_saved_tensors() {
  return (trace_detail::flags.load(std::memory_order_relaxed) & trace_detail::kSaved) != 0;
}

const std::vector<SavedTensorInfo>* saved_tensors_of(const Node& node) {
  std::lock_guard<std::mutex> lock(table_mutex);
  auto it = saved_table.find(node.sequence_nr);
  return it == saved_table.end() ? nullptr : &it->second;
}

void clear_saved_tensor_records() {
  std::lock_guard<std::mutex> lock(table_mutex);
  saved_table.clear();
}

RecordSavedTensorsGuard::RecordSavedTensorsGuard() : previous_(recording_saved_tensors()) {
  set_record_saved_tensors(true);
}

RecordSavedTensorsGuard::~RecordSavedTensorsGuard() {
  set_record_saved_tensors(previous_);
  if (!previous_) clear_saved_tensor_records();
}

}  // namespace minidl
