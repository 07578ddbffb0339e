// tools/debian_graph: derives the Debian package graph for node classification
// (models/data/debian_graph_builder.h) from `apt-cache dumpavail` and writes a gzip'd snapshot
// (models/data/debian_graph.h).
//
//   build/debian_graph --output data/debian_packages_graph.txt.gz
//   build/debian_graph --input dumpavail.txt --nodes 500 --output /tmp/graph.txt.gz
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "core/error.h"
#include "models/data/debian_graph.h"
#include "models/data/debian_graph_builder.h"

using namespace minidl;
using namespace minidl::models;

namespace {

std::string run_apt_cache_dumpavail() {
  FILE* pipe = popen("apt-cache dumpavail 2>/dev/null", "r");
  MINIDL_CHECK(pipe != nullptr, "debian_graph", "cannot start apt-cache");
  std::string text;
  char buffer[1 << 16];
  for (size_t got; (got = fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, got);
  const int status = pclose(pipe);
  MINIDL_CHECK(status == 0 && !text.empty(), "debian_graph",
               "`apt-cache dumpavail` failed or printed nothing (exit status "
                   << status << "): this tool needs a Debian system with apt and package lists "
                   << "(run `apt-get update` as root), or a saved dumpavail file given with "
                   << "--input FILE");
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MINIDL_CHECK(in, "debian_graph",
               "cannot read --input " << path << " (save one with `apt-cache dumpavail > FILE`)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int run(int argc, char** argv) {
  CLI::App app{
      "minidl debian_graph: derives a node-classification graph of Debian packages (sections as "
      "labels, description words as features, dependencies as edges)"};
  std::string input, output = kDebianGraphPath, sections, relations, source_note;
  DebianGraphOptions options;
  app.add_option("--input", input, "a saved `apt-cache dumpavail` text (default: run apt-cache)");
  app.add_option("--output", output, "the snapshot to write")->capture_default_str();
  app.add_option("--nodes", options.nodes, "about this many packages")->capture_default_str();
  app.add_option("--min-word-packages", options.min_word_packages,
                 "a word is a feature if at least this many chosen packages use it")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the sampling")->capture_default_str();
  app.add_option("--sections", sections, "comma-separated sections (default: the 17 of the code)");
  app.add_option("--relations", relations,
                 "comma-separated relation fields (default: Depends,Pre-Depends,Recommends,"
                 "Suggests)");
  app.add_option("--source-note", source_note,
                 "text for the provenance line, e.g. the archive and date");
  CLI11_PARSE(app, argc, argv);

  auto split = [](const std::string& list) {
    std::vector<std::string> items;
    std::istringstream in(list);
    for (std::string item; std::getline(in, item, ',');)
      if (!item.empty()) items.push_back(item);
    return items;
  };
  if (!sections.empty()) options.sections = split(sections);
  if (!relations.empty()) options.relations = split(relations);

  const std::string text = input.empty() ? run_apt_cache_dumpavail() : read_file(input);
  const std::vector<DumpavailPackage> packages = parse_dumpavail(text, options.relations);
  std::ostringstream source;
  source << (input.empty() ? "apt-cache dumpavail" : "dumpavail file " + input) << " ("
         << packages.size() << " packages" << (source_note.empty() ? "" : "; " + source_note)
         << "); seed " << options.seed << ", min-word-packages " << options.min_word_packages;
  const DebianGraph graph = build_debian_graph(packages, options, source.str());
  write_debian_graph(output, graph);

  std::map<int64_t, int64_t> per_section;
  for (int64_t label : graph.labels) ++per_section[label];
  int64_t same = 0, isolated = 0;
  std::vector<int64_t> degree(graph.packages.size(), 0);
  for (const auto& [a, b] : graph.edges) {
    same += graph.labels[a] == graph.labels[b];
    ++degree[a], ++degree[b];
  }
  for (int64_t d : degree) isolated += d == 0;
  std::printf("%s: %zu nodes, %zu edges (%.1f%% within a section), %lld isolated, %zu words\n",
              output.c_str(), graph.packages.size(), graph.edges.size(),
              graph.edges.empty() ? 0.0 : 100.0 * same / graph.edges.size(),
              static_cast<long long>(isolated), graph.vocabulary.size());
  for (const auto& [label, count] : per_section)
    std::printf("  %-12s %lld\n", graph.sections[label].c_str(), static_cast<long long>(count));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << (dynamic_cast<const Error*>(&e) ? "" : "debian_graph: ") << e.what() << "\n";
    return 1;
  }
}
