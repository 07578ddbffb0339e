// Tests of the graph attention edge kernels (ops/graph_attention.h): segment_softmax,
// gat_edge_scores, graph_aggregate -- against plain-loop references, float64 gradchecks
// (non-contiguous inputs included) and every error path.
#include <cmath>
#include <limits>
#include <vector>

#include "ops/graph_attention.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// A fixed small graph: 6 nodes, node 5 has no incoming edge, a duplicate edge 1 -> 0, a
// self-loop 2 -> 2. Row 0 = source, row 1 = target.
Tensor small_edges() {
  return tensor<int64_t>({{1, 1, 2, 3, 0, 4, 2, 0, 3}, {0, 0, 0, 1, 2, 2, 2, 3, 4}});
}

}  // namespace

TEST_CASE("segment_softmax matches a per-node loop reference", "[gat]") {
  manual_seed(1);
  Tensor edges = small_edges();
  Tensor index = edges.select(0, 1);
  const int64_t E = 9, H = 3, N = 6;
  Tensor scores = randn({E, H}, kFloat64);
  Tensor out = segment_softmax(scores, index, N);
  std::vector<double> s = scores.to_vector<double>();
  std::vector<int64_t> idx = index.to_vector<int64_t>();
  std::vector<double> expected(E * H);
  for (int64_t i = 0; i < N; ++i)
    for (int64_t h = 0; h < H; ++h) {
      double denominator = 0;
      for (int64_t k = 0; k < E; ++k)
        if (idx[k] == i) denominator += std::exp(s[k * H + h]);
      for (int64_t k = 0; k < E; ++k)
        if (idx[k] == i) expected[k * H + h] = std::exp(s[k * H + h]) / denominator;
    }
  CHECK(allclose(out, from_vector(expected, {E, H}, kFloat64), 1e-12, 1e-12));
  // a 1-d scores vector is one column; float32 works too
  Tensor col = segment_softmax(scores.select(1, 0).to(kFloat32), index, N);
  CHECK(allclose(col, out.select(1, 0), 1e-6, 1e-6));
}

TEST_CASE("segment_softmax: -inf entries get 0, an all -inf segment is 0 with no NaN", "[gat]") {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor index = tensor<int64_t>({0, 0, 1, 1, 2});
  Tensor scores = tensor<double>({1.0, -inf, -inf, -inf, 3.0}, kFloat64).requires_grad_();
  Tensor out = segment_softmax(scores, index, 4);
  CHECK(allclose(out, tensor<double>({1.0, 0.0, 0.0, 0.0, 1.0}, kFloat64)));
  (out * tensor<double>({1.0, 2.0, 3.0, 4.0, 5.0}, kFloat64)).sum().backward();
  std::vector<double> g = scores.grad().to_vector<double>();
  for (double v : g) CHECK(v == 0.0);
}

TEST_CASE("segment_softmax gradcheck, contiguous and non-contiguous scores", "[gat]") {
  manual_seed(2);
  Tensor index = small_edges().select(0, 1);
  check_gradients([&](const std::vector<Tensor>& in) { return segment_softmax(in[0], index, 6); },
                  {leaf({9, 2})});
  check_gradients([&](const std::vector<Tensor>& in) { return segment_softmax(in[0], index, 6); },
                  {transposed_leaf({9, 3})});
  check_gradients([&](const std::vector<Tensor>& in) { return segment_softmax(in[0], index, 7); },
                  {strided_leaf({9, 2})});
}

TEST_CASE("gat_edge_scores matches a loop reference and gradchecks", "[gat]") {
  manual_seed(3);
  Tensor edges = small_edges();
  const double slope = 0.2;
  Tensor s_src = leaf({6, 2}), s_dst = leaf({6, 2});
  Tensor e = gat_edge_scores(s_src, s_dst, edges, slope);
  REQUIRE(e.shape() == Shape({9, 2}));
  std::vector<double> a = s_src.to_vector<double>(), b = s_dst.to_vector<double>(),
                      got = e.to_vector<double>();
  std::vector<int64_t> ei = edges.to_vector<int64_t>();
  for (int64_t k = 0; k < 9; ++k)
    for (int64_t h = 0; h < 2; ++h) {
      double p = a[ei[k] * 2 + h] + b[ei[9 + k] * 2 + h];
      CHECK(got[k * 2 + h] == Approx(p > 0 ? p : slope * p).epsilon(1e-14));
    }
  check_gradients(
      [&](const std::vector<Tensor>& in) { return gat_edge_scores(in[0], in[1], edges, slope); },
      {s_src, transposed_leaf({6, 2})});
  // bipartite sizes: 4 sources, 5 targets
  Tensor bip = tensor<int64_t>({{0, 3, 3, 1}, {4, 0, 2, 4}});
  check_gradients(
      [&](const std::vector<Tensor>& in) { return gat_edge_scores(in[0], in[1], bip, 0.1); },
      {leaf({4, 3}), strided_leaf({5, 3})});
}

TEST_CASE("graph_aggregate matches a loop reference and gradchecks", "[gat]") {
  manual_seed(4);
  Tensor edges = small_edges();
  const int64_t E = 9, H = 2, C = 3, N = 6;
  Tensor alpha = leaf({E, H}), values = leaf({N, H, C});
  Tensor out = graph_aggregate(alpha, values, edges, N);
  REQUIRE(out.shape() == Shape({N, H, C}));
  std::vector<double> a = alpha.to_vector<double>(), v = values.to_vector<double>();
  std::vector<int64_t> ei = edges.to_vector<int64_t>();
  std::vector<double> expected(N * H * C, 0.0);
  for (int64_t k = 0; k < E; ++k)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t c = 0; c < C; ++c)
        expected[(ei[E + k] * H + h) * C + c] += a[k * H + h] * v[(ei[k] * H + h) * C + c];
  CHECK(allclose(out, from_vector(expected, {N, H, C}, kFloat64), 1e-12, 1e-12));
  // node 5 has no incoming edge: its row is exactly 0
  CHECK(out.select(0, 5).abs().sum().item<double>() == 0.0);
  check_gradients(
      [&](const std::vector<Tensor>& in) { return graph_aggregate(in[0], in[1], edges, N); },
      {alpha, values});
  check_gradients(
      [&](const std::vector<Tensor>& in) { return graph_aggregate(in[0], in[1], edges, 7); },
      {transposed_leaf({E, H}), transposed_leaf({N, H, C})});
}

TEST_CASE("graph attention ops: a large random graph runs the parallel paths", "[gat]") {
  // E * H above kParallelGrain: the OpenMP paths must agree with the serial definition.
  manual_seed(5);
  const int64_t N = 3000, E = 40000, H = 2, C = 4;
  Tensor edges = randint(0, N, {2, E});
  Tensor scores = randn({E, H}, kFloat64);
  Tensor alpha = segment_softmax(scores, edges.select(0, 1), N);
  // every node's weights sum to 1 (or 0 if it has no edge)
  Tensor sums = graph_aggregate(alpha, ones({N, H, 1}, kFloat64), edges, N);
  std::vector<double> s = sums.to_vector<double>();
  std::vector<int64_t> ei = edges.to_vector<int64_t>();
  std::vector<int> indegree(N, 0);
  for (int64_t k = 0; k < E; ++k) ++indegree[ei[E + k]];
  bool ok = true;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t h = 0; h < H; ++h)
      ok = ok && std::fabs(s[i * H + h] - (indegree[i] ? 1.0 : 0.0)) < 1e-12;
  CHECK(ok);
  // aggregate backward: d values of the sum is Σ alpha over out-edges
  Tensor values = randn({N, H, C}, kFloat64).requires_grad_();
  graph_aggregate(alpha, values, edges, N).sum().backward();
  std::vector<double> expected(N * H * C, 0.0), a = alpha.to_vector<double>();
  for (int64_t k = 0; k < E; ++k)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t c = 0; c < C; ++c) expected[(ei[k] * H + h) * C + c] += a[k * H + h];
  CHECK(allclose(values.grad(), from_vector(expected, {N, H, C}, kFloat64), 1e-10, 1e-10));
}

TEST_CASE("graph attention ops: error paths", "[gat]") {
  Tensor edges = small_edges();
  Tensor scores = zeros({9, 2}, kFloat64);
  // segment_softmax
  CHECK_THROWS_WITH(segment_softmax(scores, edges.select(0, 1).to(kFloat32), 6),
                    Catch::Contains("segment_softmax") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(
      segment_softmax(scores, zeros({8}, kInt64), 6),
      Catch::Contains("segment_softmax") && Catch::Contains("[9, 2]") && Catch::Contains("[8]"));
  CHECK_THROWS_WITH(segment_softmax(scores, edges.select(0, 1), 4),
                    Catch::Contains("segment_softmax") && Catch::Contains("index 4") &&
                        Catch::Contains("[0, 4)"));
  CHECK_THROWS_WITH(segment_softmax(zeros({9}, kInt64), edges.select(0, 1), 6),
                    Catch::Contains("segment_softmax") && Catch::Contains("floating"));
  CHECK_THROWS_WITH(segment_softmax(scores, edges.select(0, 1), -1),
                    Catch::Contains("segment_softmax") && Catch::Contains("-1"));
  // gat_edge_scores
  Tensor s = zeros({6, 2}, kFloat64);
  CHECK_THROWS_WITH(gat_edge_scores(s, s, edges.to(kFloat64)),
                    Catch::Contains("gat_edge_scores") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(gat_edge_scores(s, s, zeros({3, 4}, kInt64)),
                    Catch::Contains("gat_edge_scores") && Catch::Contains("[3, 4]"));
  CHECK_THROWS_WITH(gat_edge_scores(s, zeros({6, 3}, kFloat64), edges),
                    Catch::Contains("gat_edge_scores") && Catch::Contains("[6, 3]"));
  CHECK_THROWS_WITH(gat_edge_scores(zeros({3, 2}, kFloat64), s, edges),
                    Catch::Contains("gat_edge_scores") && Catch::Contains("source index 3") &&
                        Catch::Contains("[0, 3)"));
  CHECK_THROWS_WITH(gat_edge_scores(s, s, tensor<int64_t>({{0}, {-1}})),
                    Catch::Contains("gat_edge_scores") && Catch::Contains("target index -1"));
  CHECK_THROWS_WITH(gat_edge_scores(s, s.to(kFloat32), edges),
                    Catch::Contains("gat_edge_scores") && Catch::Contains("dtype"));
  // graph_aggregate
  Tensor v = zeros({6, 2, 3}, kFloat64);
  CHECK_THROWS_WITH(graph_aggregate(scores, zeros({6, 6}, kFloat64), edges, 6),
                    Catch::Contains("graph_aggregate") && Catch::Contains("[6, 6]"));
  CHECK_THROWS_WITH(graph_aggregate(zeros({9, 3}, kFloat64), v, edges, 6),
                    Catch::Contains("graph_aggregate") && Catch::Contains("[9, 3]"));
  CHECK_THROWS_WITH(graph_aggregate(scores, v, edges, 3),
                    Catch::Contains("graph_aggregate") && Catch::Contains("target index 3"));
  CHECK_THROWS_WITH(graph_aggregate(scores, v.to(kFloat32), edges, 6),
                    Catch::Contains("graph_aggregate") && Catch::Contains("dtype"));
  CHECK_THROWS_WITH(graph_aggregate(scores, v, edges.to(kInt64).select(0, 0), 6),
                    Catch::Contains("graph_aggregate") && Catch::Contains("[2, E]"));
}
