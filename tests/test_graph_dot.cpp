// core/graph_dot.h (the tape as Graphviz DOT) and core/trace.h (MINIDL_TRACE lines, the
// saved-tensor table).
#include <sstream>

#include "tests/test_util.h"

using namespace minidl;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string seq(const Tensor& t) {
  return std::to_string(t.grad_fn()->sequence_nr);
}

}  // namespace

TEST_CASE("to_dot draws each entry with its PyTorch name, leaves and the output", "[inspect]") {
  Tensor w = randn({2, 3}).requires_grad_();
  Tensor b = randn({3}).requires_grad_();
  Tensor c = randn({3});  // needs no gradient: not on the tape
  Tensor h = w * b;
  Tensor y = (h + c).sum();
  DotOptions options;
  options.name(w, "fc.weight");
  const std::string dot = to_dot(y, options);
  INFO(dot);
  CHECK(dot.rfind("digraph tape {", 0) == 0);
  CHECK(dot.find("e" + seq(h) + " [label=\"MulBackward0  #" + seq(h) + "\\n[2, 3] float32") !=
        std::string::npos);
  CHECK(count(dot, "[label=\"AddBackward0  #") == 1);
  CHECK(count(dot, "[label=\"SumBackward0  #") == 1);
  // The named leaf is a parameter (blue), b another leaf requiring grad (yellow).
  CHECK(dot.find("fillcolor=lightblue, label=\"fc.weight\\n[2, 3] float32\\nAccumulateGrad\"") !=
        std::string::npos);
  CHECK(count(dot, "fillcolor=lightblue") == 1);
  CHECK(count(dot, "fillcolor=lightyellow, label=\"[3] float32\\nAccumulateGrad\"") == 1);
  // w -> Mul, b -> Mul, Mul -> Add, Add -> Sum, Sum -> output (c is a constant: no arrow)
  CHECK(count(dot, " -> ") == 5);
  const Node* add = y.grad_fn()->next_edges[0].node.get();
  REQUIRE(add != nullptr);
  CHECK(dot.find("  e" + seq(h) + " -> e" + std::to_string(add->sequence_nr) + ";\n") !=
        std::string::npos);
  CHECK(dot.find("fillcolor=darkolivegreen1, label=\"output\\n[] float32\"") != std::string::npos);

  const TapeSummary summary = summarize_tape(y, options);
  CHECK(summary.entries == 3);
  CHECK(summary.leaves == 2);
  CHECK(summary.parameters == 1);
  CHECK(summary.edges == 4);
}

TEST_CASE("to_dot draws a shared entry once, with an arrow per use", "[inspect]") {
  Tensor x = randn({4}).requires_grad_();
  Tensor h = x * x;                      // one leaf used twice
  Tensor y = (h.exp() + h.sin()).sum();  // one entry used twice
  const std::string dot = to_dot(y);
  INFO(dot);
  CHECK(count(dot, "MulBackward0") == 1);
  CHECK(count(dot, "AccumulateGrad") == 1);
  CHECK(count(dot, " -> e" + seq(h) + " ") == 2);   // x -> Mul twice (inputs 0 and 1)
  CHECK(count(dot, "  e" + seq(h) + " -> ") == 2);  // Mul -> Exp, Mul -> Sin
  const TapeSummary summary = summarize_tape(y);
  CHECK(summary.entries == 5);  // Mul, Exp, Sin, Add, Sum
  CHECK(summary.leaves == 1);
  CHECK(summary.edges == 7);  // x -> Mul twice, Mul -> Exp, Sin, both -> Add, Add -> Sum
  REQUIRE(summary.op_counts.size() == 5);
}

TEST_CASE("to_dot after backward shows the leaves' gradients; a tensor off the tape", "[inspect]") {
  Tensor w = ones({2}).requires_grad_();
  Tensor y = (w * 3.0).sum();
  y.backward();
  DotOptions options;
  options.name(w, "w");
  const std::string dot = to_dot(y, options);
  INFO(dot);
  CHECK(dot.find("grad [2], norm 4.243") != std::string::npos);  // |(3, 3)|
  CHECK(dot.find("MulBackward") != std::string::npos);           // the entries outlive backward
  options.show_gradients = false;
  CHECK(to_dot(y, options).find("grad [2]") == std::string::npos);

  const std::string plain = to_dot(zeros({3}));
  CHECK(plain.find("does not require grad") != std::string::npos);
  CHECK(count(plain, " -> ") == 0);
}

TEST_CASE("to_dot names parameters from named_parameters and escapes labels", "[inspect]") {
  nn::Linear fc(3, 2);
  Tensor y = fc.forward(randn({4, 3})).sum();
  DotOptions options;
  options.add_names(fc.named_parameters(), "model.");
  options.title = "a \"quoted\" title \\ with a backslash";
  const std::string dot = to_dot(y, options);
  INFO(dot);
  CHECK(dot.find("label=\"model.weight\\n[2, 3] float32") != std::string::npos);
  CHECK(dot.find("label=\"model.bias\\n[2] float32") != std::string::npos);
  CHECK(dot.find("a \\\"quoted\\\" title \\\\ with a backslash\\n") != std::string::npos);
  CHECK(summarize_tape(y, options).parameters == 2);
  CHECK(dot_quote("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"");
}

TEST_CASE("to_dot walks a tape of many thousands of entries without recursion", "[inspect]") {
  Tensor x = randn({2}).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 50000; ++i) y = y.sin();
  const TapeSummary summary = summarize_tape(y);
  CHECK(summary.entries == 50000);
  CHECK(summary.leaves == 1);
  const std::string dot = to_dot(y);
  CHECK(count(dot, "SinBackward0") == 50000);
}

TEST_CASE("saved tensors are filed per entry while RecordSavedTensorsGuard lives", "[inspect]") {
  Tensor a = randn({2, 3}).requires_grad_();
  Tensor b = randn({3}).requires_grad_();
  Tensor off = a * b;
  CHECK(saved_tensors_of(*off.grad_fn()) == nullptr);  // recorded while the table was off
  {
    RecordSavedTensorsGuard guard;
    Tensor h = a * b;
    Tensor y = h.sum();
    const auto* saved = saved_tensors_of(*h.grad_fn());
    REQUIRE(saved != nullptr);
    REQUIRE(saved->size() == 2);
    CHECK((*saved)[0].shape == Shape{2, 3});
    CHECK((*saved)[1].shape == Shape{3});
    CHECK((*saved)[1].dtype == DType::Float32);
    const std::string dot = to_dot(y);
    INFO(dot);
    CHECK(dot.find("MulBackward0  #" + seq(h) + "\\n[2, 3] float32\\nsaved: [2, 3], [3]\"") !=
          std::string::npos);
    CHECK(summarize_tape(y).saved_tensors == 2 + saved_tensors_of(*y.grad_fn())->size());
    DotOptions hidden;
    hidden.show_saved = false;
    CHECK(to_dot(y, hidden).find("saved:") == std::string::npos);
  }
  CHECK_FALSE(recording_saved_tensors());
}

TEST_CASE("set_trace prints each entry as recorded and as backward runs it", "[inspect]") {
  Tensor a = randn({2, 3}).requires_grad_();
  Tensor b = randn({3}).requires_grad_();
  Tensor c = randn({2, 3});
  std::ostringstream out;
  Tensor h, y;
  {
    TraceGuard trace(&out);
    CHECK(trace_enabled());
    h = a * b;
    y = (h + c).sum();
    y.backward();
  }
  const std::vector<std::string> lines = lines_of(out.str());
  INFO(out.str());
  REQUIRE(lines.size() == 6);
  const std::string add = std::to_string(h.grad_fn()->sequence_nr + 1);
  CHECK(lines[0] == "[trace] record #" + seq(h) +
                        " MulBackward0 out [2, 3] float32 inputs: [2, 3] leaf, [3] leaf; saved 2");
  CHECK(lines[1] == "[trace] record #" + add +
                        " AddBackward0 out [2, 3] float32 inputs: [2, 3] <- #" + seq(h) +
                        ", [2, 3] const; saved 0");
  CHECK(lines[2].rfind("[trace] record #" + seq(y) +
                           " SumBackward0 out [] float32 inputs: [2, 3] <- #" + add + "; saved ",
                       0) == 0);
  CHECK(lines[3].rfind(
            "[trace] backward #" + seq(y) + " SumBackward0 grad [] -> [2, 3] to #" + add + " (",
            0) == 0);
  CHECK(lines[4].rfind(
            "[trace] backward #" + add + " AddBackward0 grad [2, 3] -> [2, 3] to #" + seq(h) + " (",
            0) == 0);
  CHECK(lines[5].rfind("[trace] backward #" + seq(h) +
                           " MulBackward0 grad [2, 3] -> [2, 3] to leaf, [3] to leaf (",
                       0) == 0);
  CHECK(lines[5].find(" ms)") == lines[5].size() - 4);

  // Off again: nothing more is written there.
  const std::string before = out.str();
  (a * b).sum().backward();
  CHECK(out.str() == before);
}
