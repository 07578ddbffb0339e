// Derives the Debian package graph (models/data/debian_graph.h) from the text of
// `apt-cache dumpavail`: the package stanzas of the archive's Packages files.
//
//   nodes     packages of the chosen sections, sampled (seeded) to about `nodes`, an equal quota
//             per section, preferring packages with a dependency link into the set so far
//   label     the section (without an archive-area prefix such as "contrib/")
//   features  binary bag of words of the Description: lowercased, split at anything but a-z,
//             0-9 and '+', without stop words, one-character tokens, numbers, and the words of
//             the package's own name (so "vim" is never a feature of vim); the vocabulary is the
//             words used by at least `min_word_packages` of the chosen packages
//   edges     the relations (Depends, Pre-Depends, Recommends, Suggests by default; every
//             alternative of an "a | b" counts) between two chosen packages, undirected
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/data/debian_graph.h"

namespace minidl::models {

// One package stanza, reduced to what the graph uses.
struct DumpavailPackage {
  std::string name, section, description;  // description: the synopsis line (and any long text)
  std::vector<std::string> related;        // package names of the chosen relation fields
};

// The stanzas of `text` (blank-line separated "Field: value" blocks, continuation lines start
// with a space). Only the first stanza of a package name is kept (dumpavail lists one version).
// `relations` names the fields whose package names go to `related`.
std::vector<DumpavailPackage> parse_dumpavail(const std::string& text,
                                              const std::vector<std::string>& relations);

// The sections of the committed snapshot, and why (see the .cpp).
const std::vector<std::string>& default_debian_sections();

// Which sections, relations and how many nodes; min_word_packages bounds the vocabulary.
struct DebianGraphOptions {
  std::vector<std::string> sections = default_debian_sections();
  std::vector<std::string> relations = {"Depends", "Pre-Depends", "Recommends", "Suggests"};
  int64_t nodes = 2700;
  int64_t min_word_packages = 2;
  uint64_t seed = 0;
};

// The words of a description that may become features (see the top of this file).
std::vector<std::string> description_words(const std::string& description,
                                           const std::string& package_name);

// Builds the graph; `source` goes to the snapshot's provenance line. An error if a section has no
// package or the options are out of range.
DebianGraph build_debian_graph(const std::vector<DumpavailPackage>& packages,
                               const DebianGraphOptions& options, const std::string& source);

}  // namespace minidl::models
