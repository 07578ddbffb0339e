// The tape: reverse-mode automatic differentiation.
//
// Every differentiable op, when grad mode is on and one of its inputs requires grad, records one
// entry (a Node): which tensors went in (as edges to the entries that produced them, or to the
// leaves), and a closure that maps the gradient of the op's output to the gradients of its inputs.
// Entries are numbered in the order they are recorded, so together they form a Wengert list.
// `loss.backward()` gathers the entries that lead to `loss` and replays them in reverse recording
// order -- every entry runs after all entries that consumed its output -- summing the gradients
// that reach each tensor and accumulating them into the leaves' .grad.
//
// The list is stored implicitly: a tensor owns (through shared_ptr) the entry that made it, and
// each entry owns the entries of its inputs. When the loss and the activations go out of scope,
// the whole tape of that step is freed; nothing global grows from step to step.
//
// Recording an op (see ops/ for many examples):
//
//   Tensor out = ... forward ...;
//   // out = a * b ;  da = dout * b ,  db = dout * a
//   if (needs_grad({a, b}))
//     record("MulBackward0", out, {a, b}, [a = SavedTensor(a), b = SavedTensor(b)](const Tensor& g)
//     {
//       return GradList{g * b.get(), g * a.get()};
//     })->twice_differentiable = true;  // the closure uses recorded ops only
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minidl {

// ---------------------------------------------------------------- grad mode

// Whether ops record onto the tape in this thread (default: yes).
struct GradMode {
  // Whether ops record in this thread; turns recording on or off (the guards below restore it).
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Switches recording off for its lifetime (thread-local), like torch::NoGradGuard.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Forces recording on (e.g. inside a NoGradGuard region).
class EnableGradGuard {
 public:
  EnableGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(true); }
  ~EnableGradGuard() { GradMode::set_enabled(previous_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// ---------------------------------------------------------------- anomaly detection

// Like torch.autograd.detect_anomaly: while on (thread-local, off by default), every op that
// records a tape entry checks its output for NaN, and backward checks every gradient an entry
// returns for NaN and infinity. The first one found raises an error naming the op, its entry's
// position on the tape and where it was recorded -- the modules being called at that moment
// ("VisionTransformer > TransformerEncoderLayer > Linear", from AnomalyScope). Forward outputs
// may hold infinities on purpose (an additive -inf mask), so only NaN is an anomaly there.
// It costs a pass over every output and gradient: a debugging mode.
struct AnomalyMode {
  // Whether anomaly detection is on in this thread; turns it on or off.
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Anomaly detection on for its lifetime, like torch.autograd.detect_anomaly().
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : previous_(AnomalyMode::is_enabled()) { AnomalyMode::set_enabled(true); }
  ~DetectAnomalyGuard() { AnomalyMode::set_enabled(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

// Names the code running in this thread for anomaly messages while it lives (nn::Module's
// call operator opens one with the module's type); nested scopes read "outer > inner". Costs
// nothing while anomaly detection is off.
class AnomalyScope {
 public:
  explicit AnomalyScope(const std::string& name);
  ~AnomalyScope();
  AnomalyScope(const AnomalyScope&) = delete;
  AnomalyScope& operator=(const AnomalyScope&) = delete;

 private:
  bool active_;
};

// True if the floating-point tensor holds a NaN (or, with infinities, a NaN or an infinity).
bool has_non_finite(const Tensor& t, bool infinities);

// ---------------------------------------------------------------- tape entries

// A tensor kept for backward, with the storage version it had when saved. get() checks that no
// in-place op has modified it since: otherwise the gradient would silently be wrong.
//
// It keeps a detached alias (same storage, no tape link) and, for an input that requires grad,
// that input's autograd identity: the leaf itself, or the entry that produced it (an older entry,
// so there is no reference cycle). A saved tensor that did not require grad when saved -- a
// constant, or the op's own output, saved before record() gave it a tape entry -- is only the
// alias. During a create_graph backward (grad mode on) get() returns the tensor with its history,
// so the gradient computed from it is itself differentiable: an input gets its leaf or entry
// back, and the running entry's own output is re-attached to that entry (recognized by its
// storage and geometry). Outside of that, get() returns the plain alias.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  // The saved tensor; an error naming the op if an in-place op has modified it since.
  Tensor get() const;
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  std::shared_ptr<Node> grad_fn_;     // the entry that produced a non-leaf input
  std::shared_ptr<TensorImpl> leaf_;  // a leaf input that requires grad
};

using GradList = std::vector<Tensor>;
// Maps dL/d(output) to dL/d(input_i) for each input, in order; an undefined Tensor means "no
// gradient flows to this input" (it does not require grad, or the op is constant in it).
using BackwardFn = std::function<GradList(const Tensor& grad_output)>;

// Where an input's gradient goes: the entry that produced it, or (for a leaf requiring grad) the
// leaf itself, whose .grad accumulates. Both null: the input does not require grad.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<TensorImpl> leaf;
  bool valid() const { return node != nullptr || leaf != nullptr; }
};

// A gradient hook (Tensor::register_hook): returns the gradient to use instead (or an undefined
// Tensor to keep it unchanged). Hooks of a leaf live on its TensorImpl, hooks of a non-leaf on
// the entry that produced it; they run, in registration order, on the summed gradient of that
// tensor before it is accumulated into .grad or passed on.
using GradHook = std::function<Tensor(const Tensor& grad)>;
// The hooks registered on one tensor, each with the handle remove_hook() takes.
struct TensorHooks {
  std::vector<std::pair<uint64_t, GradHook>> hooks;  // (handle, hook)
};

// One tape entry. Every entry has exactly one output tensor (ops with several differentiable
// outputs, like split, record one entry per output).
struct Node : std::enable_shared_from_this<Node> {
  ~Node();  // tears long chains down iteratively (a recursive destructor would overflow)
  // PyTorch's node name, e.g. "MulBackward0": what grad_fn prints.
  std::string name() const { return name_; }
  const char* name_ = "";
  uint64_t sequence_nr = 0;  // position in the Wengert list
  std::vector<Edge> next_edges;
  BackwardFn backward;  // empty once freed by backward() without retain_graph
  // True if `backward` computes its gradients with recorded minidl ops only (no fused kernel),
  // so that running it in grad mode records a correct tape for a second derivative. Set by the
  // op after record(); a create_graph backward refuses entries that do not set it.
  bool twice_differentiable = false;
  Shape output_shape;  // to check incoming gradients
  DType output_dtype = DType::Float32;
  // The output's storage and geometry, to recognize it among the saved tensors (SavedTensor).
  const Storage* output_storage = nullptr;
  int64_t output_offset = 0;
  Shape output_strides;
  std::weak_ptr<TensorImpl> retained_output;  // set by retain_grad()
  TensorHooks pre_hooks;                      // hooks registered on the output tensor
  Tensor pending_grad;  // engine scratch: the gradient summed so far for the output
  bool freed = false;
  uint64_t visit_mark = 0;  // engine scratch: which backward last gathered this entry
  std::string recorded_in;  // the AnomalyScope at recording, kept only in anomaly mode
};

// True if grad mode is on and any of the (defined) tensors requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Appends an entry producing `output` from `inputs` with this backward, and marks `output` as
// requiring grad. Call only when needs_grad(inputs). Returns the entry, so that an op whose
// backward is made of recorded ops can say so: record(...)->twice_differentiable = true.
Node* record(const char* name, const Tensor& output, std::initializer_list<Tensor> inputs,
             BackwardFn backward);
Node* record(const char* name, const Tensor& output, const std::vector<Tensor>& inputs,
             BackwardFn backward);

// The edge an input contributes to a new entry (used by in-place ops that rewire history).
Edge gradient_edge(const Tensor& t);

// ---------------------------------------------------------------- running backward

// Back-propagates from `outputs` (with gradients `grad_outputs`; undefined entries mean ones
// for one-element outputs) and accumulates into the .grad of every leaf reached. Frees the tape
// entries it walked unless retain_graph (which defaults to create_graph, as in libtorch). With
// create_graph, every backward closure runs in grad mode, so the gradients (and the leaves'
// .grad) carry their own history and can be differentiated again; an entry whose backward is a
// fused kernel (not twice_differentiable) is then an error naming the op.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false);

// Functional form, like torch::autograd::grad: returns d(outputs)/d(inputs) (with grad_outputs
// as the vector in the vector-Jacobian product) without touching any .grad. An input the outputs
// do not depend on gets an undefined Tensor, or an error unless allow_unused. retain_graph and
// create_graph as in backward().
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {},
                         std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                         bool allow_unused = false);

// libtorch's spellings, torch::autograd::grad and torch::autograd::backward (core/custom_function.h
// adds Function, AutogradContext and the tensor_list names to this namespace).
namespace autograd {
using ::minidl::backward;
using ::minidl::grad;
}  // namespace autograd

}  // namespace minidl
