#include "core/graph_dot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

#include "core/autograd.h"
#include "core/error.h"
#include "core/trace.h"

namespace minidl {

namespace {

// The entries and leaves that lead to the roots, each once.
struct TapeWalk {
  std::vector<const Node*> entries;       // latest recorded first
  std::vector<const TensorImpl*> leaves;  // in the order the walk met them
  size_t edges = 0;
};

TapeWalk walk_tape(const std::vector<Tensor>& roots) {
  TapeWalk walk;
  std::unordered_set<const Node*> seen;
  std::unordered_set<const TensorImpl*> seen_leaves;
  std::vector<const Node*> stack;  // iterative: a tape can be thousands of entries deep
  auto add_leaf = [&](const TensorImpl* leaf) {
    if (seen_leaves.insert(leaf).second) walk.leaves.push_back(leaf);
  };
  for (const Tensor& root : roots) {
    if (!root.defined() || !root.requires_grad()) continue;
    if (const Node* node = root.impl()->grad_fn.get()) {
      if (seen.insert(node).second) stack.push_back(node);
    } else {
      add_leaf(root.impl());
    }
  }
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    walk.entries.push_back(node);
    for (const Edge& e : node->next_edges) {
      if (!e.valid()) continue;
      ++walk.edges;
      if (e.node) {
        if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
      } else {
        add_leaf(e.leaf.get());
      }
    }
  }
  std::sort(walk.entries.begin(), walk.entries.end(),
            [](const Node* a, const Node* b) { return a->sequence_nr > b->sequence_nr; });
  return walk;
}

std::string describe(const Shape& shape, DType dtype) {
  std::ostringstream s;
  s << shape_str(shape) << ' ' << dtype;
  return s.str();
}

std::string saved_label(const std::vector<SavedTensorInfo>& saved) {
  if (saved.empty()) return "saved: nothing";
  if (saved.size() > 3) return "saved: " + std::to_string(saved.size()) + " tensors";
  std::string label = "saved: ";
  for (size_t i = 0; i < saved.size(); ++i) label += (i ? ", " : "") + shape_str(saved[i].shape);
  return label;
}

std::string grad_label(const TensorImpl* leaf) {
  if (!leaf->grad) return "";
  Tensor g(leaf->grad);
  double squares = 0;
  if (g.is_floating_point())
    for (double v : g.to_vector<double>()) squares += v * v;
  std::ostringstream s;
  s.precision(4);
  s << "grad " << shape_str(g.shape()) << ", norm " << std::sqrt(squares);
  return s.str();
}

std::string entry_id(const Node* node) {
  return "e" + std::to_string(node->sequence_nr);
}

}  // namespace

std::string dot_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out + "\"";
}

TapeSummary summarize_tape(const std::vector<Tensor>& roots, const DotOptions& options) {
  TapeWalk walk = walk_tape(roots);
  TapeSummary summary;
  summary.entries = walk.entries.size();
  summary.leaves = walk.leaves.size();
  summary.edges = walk.edges;
  for (const TensorImpl* leaf : walk.leaves) summary.parameters += options.names.count(leaf);
  std::map<std::string, size_t> counts;
  for (const Node* node : walk.entries) {
    ++counts[node->name_];
    if (const auto* saved = saved_tensors_of(*node)) {
      summary.saved_tensors += saved->size();
      ++summary.saved_recorded;
    }
  }
  summary.op_counts.assign(counts.begin(), counts.end());
  std::stable_sort(summary.op_counts.begin(), summary.op_counts.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return summary;
}

TapeSummary summarize_tape(const Tensor& root, const DotOptions& options) {
  return summarize_tape(std::vector<Tensor>{root}, options);
}

std::string to_dot(const std::vector<Tensor>& roots, const DotOptions& options) {
  TapeWalk walk = walk_tape(roots);
  std::ostringstream dot;
  dot << "digraph tape {\n"
      << "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11";
  std::string caption = options.title;
  if (!caption.empty()) caption += "\n";
  auto plural = [](size_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  caption += plural(walk.entries.size(), "tape entry", "tape entries") + ", " +
             plural(walk.leaves.size(), "leaf", "leaves") +
             ". Blue: parameters, yellow: other leaves requiring grad, green: the "
             "output. Backward runs from the bottom up, in decreasing #.";
  dot << ", label=" << dot_quote(caption) << "];\n"
      << "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", "
         "fontsize=10];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=8, arrowsize=0.7];\n";

  // Leaves: ids in the order met.
  std::unordered_map<const TensorImpl*, std::string> leaf_ids;
  for (const TensorImpl* leaf : walk.leaves) {
    const std::string id = "v" + std::to_string(leaf_ids.size());
    leaf_ids[leaf] = id;
    auto named = options.names.find(leaf);
    std::string label = named != options.names.end() ? named->second + "\n" : "";
    label += describe(leaf->shape, leaf->dtype) + "\nAccumulateGrad";
    if (options.show_gradients) {
      const std::string g = grad_label(leaf);
      if (!g.empty()) label += "\n" + g;
    }
    dot << "  " << id << " [shape=ellipse, fillcolor="
        << (named != options.names.end() ? "lightblue" : "lightyellow")
        << ", label=" << dot_quote(label) << "];\n";
  }

  // Entries, latest first, with the arrows from their inputs.
  for (const Node* node : walk.entries) {
    std::string label = node->name() + "  #" + std::to_string(node->sequence_nr) + "\n" +
                        describe(node->output_shape, node->output_dtype);
    if (options.show_saved)
      if (const auto* saved = saved_tensors_of(*node)) label += "\n" + saved_label(*saved);
    dot << "  " << entry_id(node) << " [label=" << dot_quote(label) << "];\n";
    size_t valid = 0;
    for (const Edge& e : node->next_edges) valid += e.valid();
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      dot << "  " << (e.node ? entry_id(e.node.get()) : leaf_ids[e.leaf.get()]) << " -> "
          << entry_id(node);
      if (valid > 1) dot << " [label=\"" << i << "\"]";
      dot << ";\n";
    }
  }

  // The roots themselves.
  size_t index = 0;
  for (const Tensor& root : roots) {
    if (!root.defined()) continue;
    const std::string id = "out" + std::to_string(index++);
    std::string label =
        (roots.size() > 1 ? "output " + std::to_string(index - 1) : std::string("output")) + "\n" +
        describe(root.shape(), root.dtype());
    if (!root.requires_grad()) label += "\ndoes not require grad: nothing on the tape";
    dot << "  " << id << " [fillcolor=darkolivegreen1, label=" << dot_quote(label) << "];\n";
    if (!root.requires_grad()) continue;
    if (const Node* node = root.impl()->grad_fn.get()) {
      dot << "  " << entry_id(node) << " -> " << id << ";\n";
    } else {
      dot << "  " << leaf_ids[root.impl()] << " -> " << id << ";\n";
    }
  }
  dot << "}\n";
  return dot.str();
}

std::string to_dot(const Tensor& root, const DotOptions& options) {
  return to_dot(std::vector<Tensor>{root}, options);
}

void write_dot(const std::string& path, const std::vector<Tensor>& roots,
               const DotOptions& options) {
  const std::string text = to_dot(roots, options);
  std::ofstream out(path, std::ios::binary);
  MINIDL_CHECK(out.good(), "write_dot", "cannot open " << path << " for writing");
  out << text;
  out.close();
  MINIDL_CHECK(!out.fail(), "write_dot", "could not write " << path);
}

void write_dot(const std::string& path, const Tensor& root, const DotOptions& options) {
  write_dot(path, std::vector<Tensor>{root}, options);
}

}  // namespace minidl
