// Watching the tape as it is written and replayed.
//
// MINIDL_TRACE=1 in the environment (or set_trace(true) in code) prints one line per tape entry
// as an op records it, and one per entry as backward runs it, with the time its backward took:
//
//   [trace] record #12 MulBackward0 out [4, 8] float32 inputs: [4, 8] <- #11, [8] leaf; saved 2
//   [trace] backward #12 MulBackward0 grad [4, 8] -> [4, 8] to #11, [8] to leaf (0.004 ms)
//
// "<- #11" is the entry that produced that input, "leaf" a leaf that requires grad (its .grad
// receives the gradient: PyTorch's AccumulateGrad), "const" an input that needs no gradient.
// "saved N" counts the tensors the op kept for its backward through SavedTensor (see below).
//
// The saved tensors of each entry can also be kept in a side table (set_record_saved_tensors),
// which core/graph_dot.h draws. Both switches cost one branch per record() while off.
#pragma once

#include <atomic>
#include <cstdint>
#include <ostream>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"

namespace minidl {

struct Node;
class Tensor;

namespace trace_detail {
// Bit 1: printing (set_trace); bit 2: keeping saved-tensor records (set_record_saved_tensors).
// Starts with bit 1 set when MINIDL_TRACE is set to anything but "" or "0" (read once).
extern std::atomic<unsigned> flags;
constexpr unsigned kPrint = 1, kSaved = 2;
// Whether anything is on (the one branch record() pays while tracing is off).
inline bool any() {
  return flags.load(std::memory_order_relaxed) != 0;
}
// Whether trace lines are printed.
inline bool printing() {
  return (flags.load(std::memory_order_relaxed) & kPrint) != 0;
}

// Called by core/autograd.cpp only while any() is true.
void note_saved(const Tensor& t);  // a SavedTensor was made of t (defined)
void on_record(const Node& node, const Tensor* inputs, size_t count);
void on_backward(const Node& node, const Tensor& grad_output, const std::vector<Tensor>& grads,
                 double seconds);
}  // namespace trace_detail

// ---------------------------------------------------------------- printing

// Whether record() and backward print a line per tape entry (process-wide; starts on when the
// environment has MINIDL_TRACE=1).
bool trace_enabled();
void set_trace(bool on);
// Where the lines go: std::cerr by default (nullptr restores it). Lines are written whole, under
// a lock; the stream must outlive the tracing.
void set_trace_output(std::ostream* out);

// Tracing on (optionally into `out`) for its lifetime; restores the previous state after.
class TraceGuard {
 public:
  explicit TraceGuard(std::ostream* out = nullptr);
  ~TraceGuard();
  TraceGuard(const TraceGuard&) = delete;
  TraceGuard& operator=(const TraceGuard&) = delete;

 private:
  bool previous_;
  std::ostream* previous_out_;
};

// ---------------------------------------------------------------- saved tensors

// What an entry kept for its backward: the shape and dtype of each tensor wrapped in a
// SavedTensor between the previous record() on this thread and this entry's record(). (Ops save
// through SavedTensor, which checks for in-place modification; a closure that captures a plain
// Tensor is not seen.)
struct SavedTensorInfo {
  Shape shape;
  DType dtype = DType::Float32;
};

// While on, every record() files its entry's saved tensors under its sequence number, for
// saved_tensors_of() and the DOT export. The table only grows while on: clear it when done.
void set_record_saved_tensors(bool on);
bool recording_saved_tensors();
// The saved tensors filed for this entry, or nullptr if it was recorded while the table was off.
const std::vector<SavedTensorInfo>* saved_tensors_of(const Node& node);
void clear_saved_tensor_records();

// Recording of saved tensors on for its lifetime; the table is cleared when it ends.
class RecordSavedTensorsGuard {
 public:
  RecordSavedTensorsGuard();
  ~RecordSavedTensorsGuard();
  RecordSavedTensorsGuard(const RecordSavedTensorsGuard&) = delete;
  RecordSavedTensorsGuard& operator=(const RecordSavedTensorsGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace minidl
