// 03_tape -- the tape: what an expression records, and how backward replays it.
//
// Goes with docs/internals.md, "The tape". Run: build/examples/03_tape
// (With MINIDL_TRACE=1 the library prints each entry as it is recorded and as backward visits it.)
//
// Every op whose input requires grad appends one entry (a Node, core/autograd.h) to the tape:
// its PyTorch name (grad_fn), a sequence number (its position in the Wengert list), the edges to
// the entries that produced its inputs (or to leaves), and a closure mapping d(out) to d(inputs).
// backward() replays the entries in REVERSE sequence order: an entry runs only once every entry
// that consumed its output has run, so its output's gradient is complete (summed) by then.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "minidl.h"

using namespace minidl;

static void check(bool ok, const char* claim) {
  std::printf("  %s %s\n", ok ? "ok:" : "FAILED:", claim);
  if (!ok) std::exit(1);
}

int main() {
  Tensor a = tensor<double>({1, 2, 3}, kFloat64).requires_grad_();
  Tensor b = tensor<double>({0.5, -1, 2}, kFloat64).requires_grad_();
  Tensor c = a * b;       // MulBackward0
  Tensor d = c.sin();     // SinBackward0
  Tensor e = d + a;       // AddBackward0: a is used twice
  Tensor loss = e.sum();  // SumBackward0

  // Print the Wengert list: one line per entry, naming what its edges point at.
  std::map<const Node*, std::string> names = {
      {c.grad_fn().get(), "c"}, {d.grad_fn().get(), "d"}, {e.grad_fn().get(), "e"}};
  std::map<const TensorImpl*, std::string> leaves = {{a.impl(), "a"}, {b.impl(), "b"}};
  std::vector<std::pair<std::string, Tensor>> list = {{"c", c}, {"d", d}, {"e", e}, {"loss", loss}};
  for (const auto& [name, t] : list) {
    std::string inputs;
    for (const Edge& edge : t.grad_fn()->next_edges)
      inputs += (inputs.empty() ? "" : ", ") + (edge.node ? names[edge.node.get()] + " (entry)"
                                                          : leaves[edge.leaf.get()] + " (leaf)");
    std::printf("#%llu  %-4s = %s(%s)\n", static_cast<unsigned long long>(t.grad_fn()->sequence_nr),
                name.c_str(), t.grad_fn()->name().c_str(), inputs.c_str());
  }
  check(c.grad_fn()->name() == "MulBackward0" && e.grad_fn()->name() == "AddBackward0" &&
            c.grad_fn()->sequence_nr < d.grad_fn()->sequence_nr,
        "grad_fn names are PyTorch's; sequence numbers follow recording order");

  // Replay: a hook on a non-leaf runs when backward reaches its entry, with its full gradient.
  std::vector<std::string> visits;
  for (const auto& [name, t] : list)
    t.register_hook([&visits, name = name](const Tensor&) { visits.push_back(name); });
  loss.backward();
  std::printf("backward visited:");
  for (const std::string& v : visits) std::printf(" %s", v.c_str());
  std::printf("\n");
  check(visits == std::vector<std::string>{"loss", "e", "d", "c"}, "reverse recording order");
  // a reaches the loss twice (through c and directly through e): its gradient is the sum.
  // loss = sum(sin(a*b) + a):  dloss/da = b cos(ab) + 1,  dloss/db = a cos(ab).
  Tensor ab = (a * b).detach();
  check((a.grad() - (b.detach() * ab.cos() + 1)).abs().max().item<double>() < 1e-12 &&
            (b.grad() - a.detach() * ab.cos()).abs().max().item<double>() < 1e-12,
        "a.grad = b cos(ab) + 1 (two paths summed), b.grad = a cos(ab)");

  // backward frees what it walked (the closures and their saved tensors): a second backward
  // over the same tape is an error unless the first passed retain_graph=true.
  try {
    loss.backward();
    check(false, "a second backward should have failed");
  } catch (const Error& err) {
    std::printf("second backward -> minidl::Error: %s\n", err.what());
  }

  // Version counters: MulBackward0 saved w (it needs w for da = dout * w). Modifying w in place
  // afterwards would make that gradient silently wrong, so backward refuses.
  Tensor w = tensor<double>({1, 1, 1}, kFloat64);
  Tensor u = (a * w).sum();
  w.mul_(10.0);  // allowed itself (w does not require grad); bumps w's version from 0 to 1
  check(w._version() == 1, "an in-place op bumps the storage's version counter");
  try {
    u.backward();
    check(false, "modifying a saved tensor in place should make backward throw");
  } catch (const Error& err) {
    std::printf("backward -> minidl::Error: %s\n", err.what());
  }
  std::printf("03_tape: all checks passed\n");
  return 0;
}
