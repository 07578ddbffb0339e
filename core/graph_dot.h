// The tape as a picture: Graphviz DOT of the entries that lead to a tensor.
//
//   Tensor loss = model(x) ...;
//   DotOptions options;
//   options.add_names(model->named_parameters());   // parameters drawn blue, with their names
//   write_dot("tape.dot", loss, options);            // then: dot -Tsvg tape.dot -o tape.svg
//
// One box per tape entry, labelled as PyTorch's grad_fn prints it (MulBackward0), with its
// position on the tape (#12), its output's shape and dtype and, when they were recorded (see
// RecordSavedTensorsGuard in core/trace.h), the tensors it saved for backward. Leaves that
// require grad -- where backward ends and .grad accumulates, PyTorch's AccumulateGrad -- are
// ellipses: parameters (named in DotOptions::names) blue, other leaves yellow, each with its
// .grad's shape and norm once backward has run. The tensor itself is the green box at the bottom.
// Arrows follow the data: from an input to the op that used it (backward walks them upwards);
// an op with several inputs numbers its arrows by input position. An entry used several times is
// drawn once. Inputs that need no gradient (constants, integer targets) are not on the tape and
// not drawn.
//
// Works before or after backward (backward frees the closures but keeps the entries and edges),
// and on tapes of any size (the walk is iterative).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minidl {

// What to_dot draws besides the entries: names, saved tensors, gradients, a caption.
struct DotOptions {
  // Display names of leaves, e.g. "encoder.layers.0.linear1.weight"; a named leaf is drawn as a
  // parameter.
  std::unordered_map<const TensorImpl*, std::string> names;
  // Names one leaf (an undefined tensor is ignored).
  void name(const Tensor& t, const std::string& display_name) {
    if (t.defined()) names[t.impl()] = display_name;
  }
  // Names from a list of (name, tensor) pairs, such as module.named_parameters().
  template <typename NamedTensors>
  void add_names(const NamedTensors& named, const std::string& prefix = "") {
    for (const auto& entry : named) name(entry.second, prefix + entry.first);
  }
  bool show_saved = true;      // the saved tensors of entries whose saved tensors were recorded
  bool show_gradients = true;  // shape and norm of the leaves' .grad, when defined
  std::string title;           // a caption under the graph
};

// Counts over the part of the tape that leads to the roots.
struct TapeSummary {
  size_t entries = 0;     // tape entries (ops)
  size_t leaves = 0;      // leaves requiring grad
  size_t parameters = 0;  // leaves named in DotOptions::names
  size_t edges = 0;       // arrows between them (an input used twice counts twice)
  // Saved tensors of the entries whose saved tensors were recorded (saved_recorded of them).
  size_t saved_tensors = 0;
  size_t saved_recorded = 0;
  // How many entries each op recorded, most frequent first.
  std::vector<std::pair<std::string, size_t>> op_counts;
};

// The counts of the entries and leaves that lead to the roots (each counted once).
TapeSummary summarize_tape(const std::vector<Tensor>& roots, const DotOptions& options = {});
TapeSummary summarize_tape(const Tensor& root, const DotOptions& options = {});

// The DOT text of the tape leading to the roots: a `digraph` to render with `dot -Tsvg`.
std::string to_dot(const std::vector<Tensor>& roots, const DotOptions& options = {});
std::string to_dot(const Tensor& root, const DotOptions& options = {});
// to_dot into a file (an error naming the path if it cannot be written).
void write_dot(const std::string& path, const Tensor& root, const DotOptions& options = {});
void write_dot(const std::string& path, const std::vector<Tensor>& roots,
               const DotOptions& options = {});

// `text` as a quoted DOT string: quotes and backslashes escaped, newlines as \n.
std::string dot_quote(const std::string& text);

}  // namespace minidl
