#include "core/autograd.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <unordered_map>

#include "core/strided.h"

namespace minidl {

namespace {
thread_local bool grad_mode_enabled = true;
std::atomic<uint64_t> next_sequence_nr{0};
std::atomic<uint64_t> next_visit_mark{0};  // tags the entries one backward has gathered
// The entry whose backward is running (for error messages of SavedTensor::get).
thread_local const Node* running_node = nullptr;
thread_local bool anomaly_mode_enabled = false;
thread_local std::vector<std::string> anomaly_scopes;  // names of the open AnomalyScopes

std::string anomaly_scope_path() {
  std::string path;
  for (const std::string& name : anomaly_scopes) path += (path.empty() ? "" : " > ") + name;
  return path.empty() ? "outside any module" : "in " + path;
}
}  // namespace

// ---------------------------------------------------------------- anomaly detection

bool AnomalyMode::is_enabled() {
  return anomaly_mode_enabled;
}
void AnomalyMode::set_enabled(bool enabled) {
  anomaly_mode_enabled = enabled;
}

AnomalyScope::AnomalyScope(const std::string& name) : active_(anomaly_mode_enabled) {
  if (active_) anomaly_scopes.push_back(name);
}
AnomalyScope::~AnomalyScope() {
  if (active_ && !anomaly_scopes.empty()) anomaly_scopes.pop_back();
}

bool has_non_finite(const Tensor& t, bool infinities) {
  if (!t.defined() || !t.is_floating_point() || t.numel() == 0) return false;
  bool found = false;
  MINIDL_DISPATCH_FLOATING(t.dtype(), "has_non_finite", {
    const scalar_t* data = t.data_ptr<scalar_t>();
    StridedIter<1> iter(t.shape(), {&t.strides()});
    iter.run([&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
      for (int64_t e = 0; e < n && !found; ++e) {
        const scalar_t v = data[off[0] + e * st[0]];
        found = std::isnan(v) || (infinities && std::isinf(v));
      }
    });
  });
  return found;
}

bool GradMode::is_enabled() {
  return grad_mode_enabled;
}
void GradMode::set_enabled(bool enabled) {
  grad_mode_enabled = enabled;
}

// ---------------------------------------------------------------- saved tensors

SavedTensor::SavedTensor(const Tensor& t) {
  if (!t.defined()) return;
  tensor_ = t.detach();
  version_ = t._version();
}

const Tensor& SavedTensor::get() const {
  if (tensor_.defined() && tensor_._version() != version_) {
    MINIDL_FAIL((running_node ? running_node->name : "backward"),
                "a tensor of shape " << shape_str(tensor_.shape()) << " (" << tensor_.dtype()
                                     << ") saved for the gradient was modified by an in-place "
                                        "operation (its version is "
                                     << tensor_._version() << ", expected " << version_
                                     << "); clone() it before modifying it in place");
  }
  return tensor_;
}

// ---------------------------------------------------------------- recording

Node::~Node() {
  // A chain of a million entries would recurse a million deep through shared_ptr destructors.
  // Instead, take over the entries only this one keeps alive, and free them in a loop.
  std::vector<std::shared_ptr<Node>> orphans;
  auto adopt = [&orphans](Node& node) {
    for (Edge& e : node.next_edges)
      if (e.node && e.node.use_count() == 1) orphans.push_back(std::move(e.node));
  };
  adopt(*this);
  while (!orphans.empty()) {
    std::shared_ptr<Node> node = std::move(orphans.back());
    orphans.pop_back();
    adopt(*node);
  }
}

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!grad_mode_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.impl()->requires_grad) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_mode_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.impl()->requires_grad) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.impl()->requires_grad) return {};
  if (t.impl()->grad_fn) return {t.impl()->grad_fn, nullptr};
  return {nullptr, t.impl_ptr()};
}

template <typename Inputs>
static void record_impl(const char* name, const Tensor& output, const Inputs& inputs,
                        BackwardFn backward) {
  MINIDL_CHECK(output.is_floating_point(), name,
               "cannot record a " << output.dtype() << " output on the tape");
  auto node = std::make_shared<Node>();
  node->name = name;
  node->sequence_nr = next_sequence_nr.fetch_add(1, std::memory_order_relaxed);
  node->next_edges.reserve(inputs.size());
  for (const Tensor& t : inputs) node->next_edges.push_back(gradient_edge(t));
  node->backward = std::move(backward);
  node->output_shape = output.shape();
  node->output_dtype = output.dtype();
  if (anomaly_mode_enabled) {
    node->recorded_in = anomaly_scope_path();
    MINIDL_CHECK(!has_non_finite(output, false), "detect_anomaly",
                 "the forward of " << name << " (tape entry " << node->sequence_nr << ", recorded "
                                   << node->recorded_in << ") produced NaN in its output of shape "
                                   << shape_str(output.shape()));
  }
  TensorImpl* out = output.impl();
  out->grad_fn = std::move(node);
  out->requires_grad = true;
}

void record(const char* name, const Tensor& output, std::initializer_list<Tensor> inputs,
            BackwardFn backward) {
  record_impl(name, output, inputs, std::move(backward));
}

void record(const char* name, const Tensor& output, const std::vector<Tensor>& inputs,
            BackwardFn backward) {
  record_impl(name, output, inputs, std::move(backward));
}

// ---------------------------------------------------------------- the engine

namespace {

// a + b for two tensors of one shape into a fresh contiguous tensor of a's dtype (the engine
// sums gradients arriving at one tensor from several uses; ops/ is above core, so it has its own
// small kernel).
template <typename T>
void add_into(const Tensor& out, const Tensor& a, const Tensor& b) {
  T* o = out.data_ptr<T>();
  const T* pa = a.data_ptr<T>();
  const T* pb = b.data_ptr<T>();
  StridedIter<3> iter(out.shape(), {&out.strides(), &a.strides(), &b.strides()});
  iter.run([&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
    for (int64_t e = 0; e < n; ++e)
      o[off[0] + e * st[0]] = pa[off[1] + e * st[1]] + pb[off[2] + e * st[2]];
  });
}

Tensor sum_gradients(const Tensor& a, const Tensor& b) {
  Tensor bb = b.dtype() == a.dtype() ? b : b.to(a.dtype());
  Tensor out = empty(a.shape(), a.dtype());
  MINIDL_DISPATCH_FLOATING(a.dtype(), "backward", add_into<scalar_t>(out, a, bb));
  return out;
}

// The gradient for a tensor of (shape, dtype), checked and cast.
Tensor conform(const Tensor& grad, const Shape& shape, DType dtype, const Node* from,
               size_t input) {
  MINIDL_CHECK(grad.shape() == shape, (from ? from->name : "backward"),
               "produced a gradient of shape " << shape_str(grad.shape()) << " for input " << input
                                               << " of shape " << shape_str(shape));
  return grad.dtype() == dtype ? grad : grad.to(dtype);
}

// Where the engine delivers gradients: into .grad (backward) or into a result list (grad()).
struct Sink {
  bool accumulate_into_leaves = true;
  std::unordered_map<const TensorImpl*, size_t> leaf_slots;
  std::unordered_map<const Node*, size_t> node_slots;
  std::vector<Tensor>* results = nullptr;
};

void deliver_to_slot(std::vector<Tensor>& results, size_t slot, const Tensor& g) {
  results[slot] = results[slot].defined() ? sum_gradients(results[slot], g) : g;
}

void deliver_to_leaf(TensorImpl* leaf, const Tensor& g, Sink& sink) {
  if (sink.results) {
    auto it = sink.leaf_slots.find(leaf);
    if (it != sink.leaf_slots.end()) deliver_to_slot(*sink.results, it->second, g);
  }
  if (!sink.accumulate_into_leaves) return;
  if (!leaf->grad) {
    // A private copy: the incoming gradient may be shared with other inputs of the same entry.
    Tensor copy = empty(g.shape(), g.dtype());
    copy_data(copy, g);
    leaf->grad = copy.impl_ptr();
  } else {
    Tensor acc(leaf->grad);
    leaf->grad = sum_gradients(acc, g).impl_ptr();
  }
}

void add_pending(Node* node, const Tensor& g) {
  node->pending_grad = node->pending_grad.defined() ? sum_gradients(node->pending_grad, g) : g;
}

void run_engine(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                bool retain_graph, Sink& sink) {
  MINIDL_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "backward",
               "got " << grad_outputs.size() << " gradients for " << outputs.size() << " outputs");
  NoGradGuard no_grad;  // backward closures compute plain values, recording nothing

  // Seed: the gradient of each output with respect to itself.
  std::vector<Node*> roots;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    MINIDL_CHECK(out.defined(), "backward", "output " << i << " is undefined");
    MINIDL_CHECK(out.requires_grad(), "backward",
                 "output " << i << " (shape " << shape_str(out.shape())
                           << ") does not require grad and has no grad_fn: nothing on the "
                              "tape leads to it");
    Tensor g = i < grad_outputs.size() ? grad_outputs[i] : Tensor();
    if (!g.defined()) {
      MINIDL_CHECK(out.numel() == 1, "backward",
                   "grad can be implicitly created only for one-element outputs; output "
                       << i << " has shape " << shape_str(out.shape())
                       << ", pass a gradient of that shape");
      g = empty(out.shape(), out.dtype());
      MINIDL_DISPATCH_FLOATING(g.dtype(), "backward", *g.data_ptr<scalar_t>() = 1);
    }
    MINIDL_CHECK(g.shape() == out.shape(), "backward",
                 "gradient of shape " << shape_str(g.shape()) << " given for output " << i
                                      << " of shape " << shape_str(out.shape()));
    g = conform(g, out.shape(), out.dtype(), nullptr, i);
    if (out.is_leaf()) {
      deliver_to_leaf(out.impl(), g, sink);
    } else {
      add_pending(out.grad_fn().get(), g);
      roots.push_back(out.grad_fn().get());
    }
  }

  // Gather the entries that lead to the outputs (iterative DFS; graphs can be very deep).
  std::vector<Node*> entries;
  entries.reserve(1024);
  {
    const uint64_t mark = next_visit_mark.fetch_add(1, std::memory_order_relaxed) + 1;
    std::vector<Node*> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
      Node* node = stack.back();
      stack.pop_back();
      if (node->visit_mark == mark) continue;
      node->visit_mark = mark;
      entries.push_back(node);
      for (const Edge& e : node->next_edges)
        if (e.node && e.node->visit_mark != mark) stack.push_back(e.node.get());
    }
  }
  // Replay in reverse recording order: each entry's consumers were recorded after it, so by the
  // time it runs, every gradient for its output has arrived.
  std::sort(entries.begin(), entries.end(),
            [](const Node* a, const Node* b) { return a->sequence_nr > b->sequence_nr; });

  size_t done = 0;
  try {
    for (; done < entries.size(); ++done) {
      Node* node = entries[done];
      Tensor g = std::move(node->pending_grad);
      node->pending_grad = Tensor();
      if (!g.defined()) continue;  // no gradient reached this entry
      MINIDL_CHECK(!node->freed, node->name,
                   "trying to backward through the graph a second time: its saved tensors "
                   "were freed by the first backward; pass retain_graph=true to the first call");
      if (sink.results) {
        auto it = sink.node_slots.find(node);
        if (it != sink.node_slots.end()) deliver_to_slot(*sink.results, it->second, g);
      }
      if (sink.accumulate_into_leaves) {
        if (auto retained = node->retained_output.lock()) {
          Tensor acc(retained->grad);
          retained->grad = (acc.defined() ? sum_gradients(acc, g) : g.clone()).impl_ptr();
        }
      }
      running_node = node;
      GradList input_grads = node->backward(g);
      running_node = nullptr;
      MINIDL_CHECK(input_grads.size() == node->next_edges.size(), node->name,
                   "returned " << input_grads.size() << " gradients for " << node->next_edges.size()
                               << " inputs");
      for (size_t i = 0; i < input_grads.size(); ++i) {
        const Edge& e = node->next_edges[i];
        if (!e.valid() || !input_grads[i].defined()) continue;
        MINIDL_CHECK(!anomaly_mode_enabled || !has_non_finite(input_grads[i], true),
                     "detect_anomaly",
                     node->name << " (tape entry " << node->sequence_nr << ", recorded "
                                << (node->recorded_in.empty() ? std::string("before anomaly "
                                                                            "detection was on")
                                                              : node->recorded_in)
                                << ") returned NaN or infinity in the gradient of its input " << i
                                << " (shape " << shape_str(input_grads[i].shape()) << ")");
        if (e.node) {
          add_pending(e.node.get(),
                      conform(input_grads[i], e.node->output_shape, e.node->output_dtype, node, i));
        } else {
          deliver_to_leaf(e.leaf.get(),
                          conform(input_grads[i], e.leaf->shape, e.leaf->dtype, node, i), sink);
        }
      }
      if (!retain_graph) {
        node->backward = nullptr;  // frees the saved tensors
        node->freed = true;
      }
    }
  } catch (...) {
    running_node = nullptr;
    for (Node* node : entries) node->pending_grad = Tensor();
    throw;
  }
}

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              bool retain_graph) {
  Sink sink;
  run_engine(outputs, grad_outputs, retain_graph, sink);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool allow_unused) {
  std::vector<Tensor> results(inputs.size());
  Sink sink;
  sink.accumulate_into_leaves = false;
  sink.results = &results;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    MINIDL_CHECK(in.defined() && in.requires_grad(), "grad",
                 "input " << i << " does not require grad");
    if (in.is_leaf()) {
      sink.leaf_slots[in.impl()] = i;
    } else {
      sink.node_slots[in.grad_fn().get()] = i;
    }
  }
  run_engine(outputs, grad_outputs, retain_graph, sink);
  for (size_t i = 0; i < inputs.size(); ++i)
    MINIDL_CHECK(allow_unused || results[i].defined(), "grad",
                 "input " << i << " (shape " << shape_str(inputs[i].shape())
                          << ") was not used to compute the outputs; pass allow_unused=true");
  return results;
}

}  // namespace minidl
