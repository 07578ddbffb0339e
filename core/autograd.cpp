#include "core/autograd.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iterator>
#include <unordered_map>

#include "core/strided.h"
#include "core/trace.h"

namespace minidl {

namespace {
thread_local bool grad_mode_enabled = true;
std::atomic<uint64_t> next_sequence_nr{0};
std::atomic<uint64_t> next_visit_mark{0};  // tags the entries one backward has gathered
// The entry whose backward is running (for SavedTensor::get: its error messages, and the
// output re-attached to it in a create_graph backward).
thread_local Node* running_node = nullptr;
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
  data_ = t.detach();
  version_ = t._version();
  if (trace_detail::any()) trace_detail::note_saved(t);  // MINIDL_TRACE / saved-tensor table
  if (!t.requires_grad()) return;
  if (t.grad_fn()) {
    grad_fn_ = t.grad_fn();
  } else {
    leaf_ = t.impl_ptr();
  }
}

namespace {
// An alias of `data` that is the output of `node` on the tape.
Tensor attached(const Tensor& data, std::shared_ptr<Node> node) {
  Tensor alias = data.detach();
  alias.impl()->requires_grad = true;
  alias.impl()->grad_fn = std::move(node);
  return alias;
}

bool is_output_of(const Tensor& data, const Node& node) {
  const TensorImpl* t = data.impl();
  return t->storage.get() == node.output_storage && t->offset == node.output_offset &&
         t->shape == node.output_shape && t->strides == node.output_strides &&
         t->dtype == node.output_dtype;
}
}  // namespace

Tensor SavedTensor::get() const {
  if (data_.defined() && data_._version() != version_) {
    MINIDL_FAIL((running_node ? running_node->name_ : "backward"),
                "a tensor of shape " << shape_str(data_.shape()) << " (" << data_.dtype()
                                     << ") saved for the gradient was modified by an in-place "
                                        "operation (its version is "
                                     << data_._version() << ", expected " << version_
                                     << "); clone() it before modifying it in place");
  }
  // Outside of a create_graph backward the gradient is a plain value: no history needed.
  if (!data_.defined() || !grad_mode_enabled) return data_;
  if (leaf_) return Tensor(leaf_);
  if (grad_fn_) return attached(data_, grad_fn_);
  if (running_node && is_output_of(data_, *running_node))
    return attached(data_, running_node->shared_from_this());
  return data_;
}

// ---------------------------------------------------------------- recording

Node::~Node() {
  // A chain of a million entries would recurse a million deep through shared_ptr destructors.
  // Instead, take over the entries only this one keeps alive, and free them in a loop. The
  // closure goes first: its saved inputs hold their producing entries too (SavedTensor keeps an
  // input's grad_fn), so until it is gone an input's entry looks shared and would be freed
  // recursively by the closure's destructor.
  std::vector<std::shared_ptr<Node>> orphans;
  auto adopt = [&orphans](Node& node) {
    node.backward = nullptr;
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
static Node* record_impl(const char* name, const Tensor& output, const Inputs& inputs,
                         BackwardFn backward) {
  MINIDL_CHECK(output.is_floating_point(), name,
               "cannot record a " << output.dtype() << " output on the tape");
  auto node = std::make_shared<Node>();
  node->name_ = name;
  node->sequence_nr = next_sequence_nr.fetch_add(1, std::memory_order_relaxed);
  node->next_edges.reserve(inputs.size());
  for (const Tensor& t : inputs) node->next_edges.push_back(gradient_edge(t));
  node->backward = std::move(backward);
  node->output_shape = output.shape();
  node->output_dtype = output.dtype();
  node->output_storage = output.impl()->storage.get();
  node->output_offset = output.storage_offset();
  node->output_strides = output.strides();
  if (anomaly_mode_enabled) {
    node->recorded_in = anomaly_scope_path();
    MINIDL_CHECK(!has_non_finite(output, false), "detect_anomaly",
                 "the forward of " << name << " (tape entry " << node->sequence_nr << ", recorded "
                                   << node->recorded_in << ") produced NaN in its output of shape "
                                   << shape_str(output.shape()));
  }
  if (trace_detail::any()) trace_detail::on_record(*node, std::data(inputs), inputs.size());
  TensorImpl* out = output.impl();
  Node* raw = node.get();
  out->grad_fn = std::move(node);
  out->requires_grad = true;
  return raw;
}

Node* record(const char* name, const Tensor& output, std::initializer_list<Tensor> inputs,
             BackwardFn backward) {
  return record_impl(name, output, inputs, std::move(backward));
}

Node* record(const char* name, const Tensor& output, const std::vector<Tensor>& inputs,
             BackwardFn backward) {
  return record_impl(name, output, inputs, std::move(backward));
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

// out = a + b ;  da = dout ,  db = dout   (recorded in a create_graph backward)
Tensor sum_gradients(const Tensor& a, const Tensor& b) {
  Tensor bb = b.dtype() == a.dtype() ? b : b.to(a.dtype());
  Tensor out = empty(a.shape(), a.dtype());
  MINIDL_DISPATCH_FLOATING(a.dtype(), "backward", add_into<scalar_t>(out, a, bb));
  if (needs_grad({a, bb}))
    record("AddBackward0", out, {a, bb}, [](const Tensor& g) {
      return GradList{g, g};
    })->twice_differentiable = true;
  return out;
}

// The gradient after the hooks registered on its tensor.
Tensor run_hooks(const TensorHooks* hooks, Tensor g) {
  if (!hooks) return g;
  for (const auto& entry : hooks->hooks) {
    Tensor replaced = entry.second(g);
    if (!replaced.defined()) continue;
    MINIDL_CHECK(replaced.shape() == g.shape(), "register_hook",
                 "a hook returned a gradient of shape " << shape_str(replaced.shape())
                                                        << " for a gradient of shape "
                                                        << shape_str(g.shape()));
    g = replaced.dtype() == g.dtype() ? replaced : replaced.to(g.dtype());
  }
  return g;
}

// The gradient for a tensor of (shape, dtype), checked and cast.
Tensor conform(const Tensor& grad, const Shape& shape, DType dtype, const Node* from,
               size_t input) {
  MINIDL_CHECK(grad.shape() == shape, (from ? from->name_ : "backward"),
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
  // Gradients summed per leaf that has hooks: its hooks see the total, as in PyTorch.
  std::vector<std::pair<TensorImpl*, Tensor>> hooked_leaves;
};

void deliver_to_slot(std::vector<Tensor>& results, size_t slot, const Tensor& g) {
  results[slot] = results[slot].defined() ? sum_gradients(results[slot], g) : g;
}

// Delivers a leaf's gradient (after its hooks) to the result list and/or its .grad.
void finish_leaf(TensorImpl* leaf, Tensor g, Sink& sink) {
  g = run_hooks(leaf->hooks.get(), std::move(g));
  if (sink.results) {
    auto it = sink.leaf_slots.find(leaf);
    if (it != sink.leaf_slots.end()) deliver_to_slot(*sink.results, it->second, g);
  }
  if (!sink.accumulate_into_leaves) return;
  if (!leaf->grad && g.requires_grad()) {
    leaf->grad = g.clone().impl_ptr();  // create_graph: .grad keeps the gradient's history
  } else if (!leaf->grad) {
    // A private copy: the incoming gradient may be shared with other inputs of the same entry.
    Tensor copy = empty(g.shape(), g.dtype());
    copy_data(copy, g);
    leaf->grad = copy.impl_ptr();
  } else {
    Tensor acc(leaf->grad);
    leaf->grad = sum_gradients(acc, g).impl_ptr();
  }
}

void deliver_to_leaf(TensorImpl* leaf, const Tensor& g, Sink& sink) {
  if (!leaf->hooks || leaf->hooks->hooks.empty()) return finish_leaf(leaf, g, sink);
  for (auto& [hooked, sum] : sink.hooked_leaves) {
    if (hooked != leaf) continue;
    sum = sum_gradients(sum, g);
    return;
  }
  sink.hooked_leaves.emplace_back(leaf, g);
}

void add_pending(Node* node, const Tensor& g) {
  node->pending_grad = node->pending_grad.defined() ? sum_gradients(node->pending_grad, g) : g;
}

// create_graph without the op's support: refused rather than a silently wrong second derivative.
void check_twice_differentiable(const Node& node, const Tensor& g) {
  if (node.twice_differentiable) return;
  bool history = g.requires_grad();
  for (const Edge& e : node.next_edges) history = history || e.valid();
  MINIDL_CHECK(!history, node.name_,
               "differentiating twice through this op is not supported (its backward is a fused "
               "kernel); compose it from differentiable ops, or call backward/grad without "
               "create_graph");
}

void run_engine(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                bool retain_graph, bool create_graph, Sink& sink) {
  MINIDL_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "backward",
               "got " << grad_outputs.size() << " gradients for " << outputs.size() << " outputs");
  // Backward closures compute plain values, recording nothing -- unless create_graph, where
  // they record the tape of the gradient computation itself.
  const bool previous_grad_mode = grad_mode_enabled;
  grad_mode_enabled = create_graph;
  struct RestoreGradMode {
    bool previous;
    ~RestoreGradMode() { grad_mode_enabled = previous; }
  } restore{previous_grad_mode};

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

  // A leaf with hooks gets its hooks run on the summed gradient, so they wait until every entry
  // with an edge into it has run -- but no longer: counting those edges lets the hooks fire the
  // moment the last one is done, while backward goes on with the earlier layers. That is what
  // lets a hook start work that overlaps the rest of backward (DistributedDataParallel starts a
  // bucket's all-reduce there). Leaves without hooks need no count: they accumulate as they go.
  std::unordered_map<TensorImpl*, size_t> hooked_edges;
  for (Node* node : entries)
    for (const Edge& e : node->next_edges)
      if (!e.node && e.leaf && e.leaf->hooks && !e.leaf->hooks->hooks.empty())
        ++hooked_edges[e.leaf.get()];
  // After `node` ran (or was skipped: no gradient reached it), its hooked leaves lose one edge;
  // one that has no edge left is complete, so its hooks run now.
  auto release_hooked_leaves = [&](const Node* node) {
    for (const Edge& e : node->next_edges) {
      if (e.node || !e.leaf) continue;
      auto count = hooked_edges.find(e.leaf.get());
      if (count == hooked_edges.end() || --count->second > 0) continue;
      for (size_t k = 0; k < sink.hooked_leaves.size(); ++k) {
        if (sink.hooked_leaves[k].first != e.leaf.get()) continue;
        auto [leaf, g] = std::move(sink.hooked_leaves[k]);
        sink.hooked_leaves.erase(sink.hooked_leaves.begin() + static_cast<std::ptrdiff_t>(k));
        finish_leaf(leaf, std::move(g), sink);
        break;
      }
    }
  };

  size_t done = 0;
  try {
    for (; done < entries.size(); ++done) {
      Node* node = entries[done];
      Tensor g = std::move(node->pending_grad);
      node->pending_grad = Tensor();
      if (!g.defined()) {  // no gradient reached this entry
        if (!hooked_edges.empty()) release_hooked_leaves(node);
        continue;
      }
      MINIDL_CHECK(!node->freed, node->name_,
                   "trying to backward through the graph a second time: its saved tensors "
                   "were freed by the first backward; pass retain_graph=true to the first call");
      g = run_hooks(&node->pre_hooks, std::move(g));
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
      if (create_graph) check_twice_differentiable(*node, g);
      running_node = node;
      const bool tracing = trace_detail::printing();
      const auto started =
          tracing ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
      GradList input_grads = node->backward(g);
      running_node = nullptr;
      if (tracing)
        trace_detail::on_backward(
            *node, g, input_grads,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      MINIDL_CHECK(input_grads.size() == node->next_edges.size(), node->name_,
                   "returned " << input_grads.size() << " gradients for " << node->next_edges.size()
                               << " inputs");
      for (size_t i = 0; i < input_grads.size(); ++i) {
        const Edge& e = node->next_edges[i];
        if (!e.valid() || !input_grads[i].defined()) continue;
        MINIDL_CHECK(!anomaly_mode_enabled || !has_non_finite(input_grads[i], true),
                     "detect_anomaly",
                     node->name_ << " (tape entry " << node->sequence_nr << ", recorded "
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
      if (!hooked_edges.empty()) release_hooked_leaves(node);
    }
    // What is left: hooked leaves that were themselves outputs of this backward.
    for (auto& [leaf, g] : sink.hooked_leaves) finish_leaf(leaf, g, sink);
  } catch (...) {
    running_node = nullptr;
    for (Node* node : entries) node->pending_grad = Tensor();
    throw;
  }
}

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              std::optional<bool> retain_graph, bool create_graph) {
  Sink sink;
  run_engine(outputs, grad_outputs, retain_graph.value_or(create_graph), create_graph, sink);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph,
                         bool create_graph, bool allow_unused) {
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
  run_engine(outputs, grad_outputs, retain_graph.value_or(create_graph), create_graph, sink);
  for (size_t i = 0; i < inputs.size(); ++i)
    MINIDL_CHECK(allow_unused || results[i].defined(), "grad",
                 "input " << i << " (shape " << shape_str(inputs[i].shape())
                          << ") was not used to compute the outputs; pass allow_unused=true");
  return results;
}

// ---------------------------------------------------------------- hooks

namespace {
std::atomic<uint64_t> next_hook_handle{1};
}  // namespace

uint64_t Tensor::add_hook(std::function<Tensor(const Tensor&)> hook) const {
  TensorImpl* t = checked();
  MINIDL_CHECK(t->requires_grad, "register_hook",
               "cannot register a hook on a tensor that does not require grad");
  const uint64_t handle = next_hook_handle.fetch_add(1, std::memory_order_relaxed);
  if (t->grad_fn) {
    t->grad_fn->pre_hooks.hooks.emplace_back(handle, std::move(hook));
  } else {
    if (!t->hooks) t->hooks = std::make_shared<TensorHooks>();
    t->hooks->hooks.emplace_back(handle, std::move(hook));
  }
  return handle;
}

void Tensor::remove_hook(uint64_t handle) const {
  TensorImpl* t = checked();
  TensorHooks* hooks = t->grad_fn ? &t->grad_fn->pre_hooks : t->hooks.get();
  if (hooks) {
    auto& list = hooks->hooks;
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (it->first == handle) {
        list.erase(it);
        return;
      }
    }
  }
  MINIDL_FAIL("remove_hook", "no hook with handle " << handle << " on this tensor");
}

}  // namespace minidl
