// A Cora-sized graph of Debian packages, for node classification: nodes are packages of about 17
// application sections (the label), features a binary bag of words of each package's
// Description, edges its dependency relations. tools/debian_graph derives it from
// `apt-cache dumpavail` (models/data/debian_graph_builder.h); the snapshot committed in
// data/debian_packages_graph.txt.gz (data/README.md) keeps results reproducible.
//
// The snapshot is gzip'd text, line by line (names never hold whitespace):
//   minidl-debian-graph 1
//   source <one line: how and from what it was derived>
//   sections S          then S lines: the class names
//   vocabulary V        then V lines: the feature words
//   nodes N             then N lines: package <TAB> section index <TAB> word indices (space
//                       separated, increasing; empty if none)
//   edges E             then E lines: a b (node indices, a < b, each undirected edge once)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace minidl::models {

// The committed snapshot, relative to the repository root (where build/train runs).
constexpr const char* kDebianGraphPath = "data/debian_packages_graph.txt.gz";

// The snapshot in memory (the invariants validate_debian_graph checks are in the comments).
struct DebianGraph {
  std::string source;                              // provenance (the "source" line)
  std::vector<std::string> sections;               // class names
  std::vector<std::string> vocabulary;             // feature words
  std::vector<std::string> packages;               // node names
  std::vector<int64_t> labels;                     // section index of each node
  std::vector<std::vector<int64_t>> features;      // word indices of each node, increasing
  std::vector<std::pair<int64_t, int64_t>> edges;  // undirected, a < b, no duplicates
};

// The snapshot as text and back; `where` names the origin in error messages (a path), and every
// error gives the line at fault.
std::string format_debian_graph(const DebianGraph& graph);
DebianGraph parse_debian_graph(const std::string& text, const std::string& where);

// Reads a snapshot, gzip'd or plain ("" = kDebianGraphPath). A missing, truncated or damaged
// file is an error naming the path and what to do.
DebianGraph read_debian_graph(const std::string& path = "");
// Writes it gzip'd (deterministic bytes: no name or time stamp in the gzip header).
void write_debian_graph(const std::string& path, const DebianGraph& graph);

// Checks the invariants above (ranges, order, no duplicate edges or self-loops); an error names
// the first violation.
void validate_debian_graph(const DebianGraph& graph, const std::string& where);

}  // namespace minidl::models
