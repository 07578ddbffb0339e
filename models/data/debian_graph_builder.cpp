#include "models/data/debian_graph_builder.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"

namespace minidl::models {

namespace {

constexpr const char* kOp = "build_debian_graph";

// English function words; they say nothing about what a package is for.
const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words = {
      "a",    "about", "after", "all",   "also",  "an",    "and",   "any",  "are",    "as",
      "at",   "be",    "been",  "both",  "but",   "by",    "can",   "do",   "does",   "each",
      "for",  "from",  "has",   "have",  "how",   "if",    "in",    "into", "is",     "it",
      "its",  "may",   "more",  "most",  "no",    "not",   "of",    "on",   "one",    "only",
      "or",   "other", "our",   "out",   "over",  "same",  "so",    "some", "such",   "than",
      "that", "the",   "their", "them",  "then",  "there", "these", "they", "this",   "those",
      "to",   "too",   "under", "up",    "upon",  "us",    "very",  "via",  "was",    "we",
      "were", "what",  "when",  "which", "while", "who",   "will",  "with", "within", "without",
      "you",  "your"};
  return words;
}

// Lowercased runs of [a-z0-9+] (the '+' keeps "c++" and "g++" whole).
std::vector<std::string> tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text + " ") {
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') || lower == '+') {
      word += lower;
    } else if (!word.empty()) {
      out.push_back(word);
      word.clear();
    }
  }
  return out;
}

// "vim-gtk3 (>= 2:9.0)" -> "vim-gtk3"; "python3:any" -> "python3"; "foo [amd64]" -> "foo".
std::string relation_name(const std::string& alternative) {
  const size_t begin = alternative.find_first_not_of(" \t\n");
  if (begin == std::string::npos) return "";
  const size_t end = alternative.find_first_of(" \t\n(:[<", begin);
  return alternative.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

void add_relations(const std::string& value, std::vector<std::string>& related) {
  // Commas separate relations and '|' alternatives of one relation; both name packages.
  std::string field = value;
  std::replace(field.begin(), field.end(), '|', ',');
  std::istringstream parts(field);
  for (std::string alternative; std::getline(parts, alternative, ',');) {
    std::string name = relation_name(alternative);
    if (!name.empty()) related.push_back(std::move(name));
  }
}

}  // namespace

std::vector<DumpavailPackage> parse_dumpavail(const std::string& text,
                                              const std::vector<std::string>& relations) {
  std::vector<DumpavailPackage> packages;
  std::unordered_set<std::string> seen;
  std::map<std::string, std::string> fields;
  std::string last_field;
  auto finish = [&]() {
    if (fields.count("Package") && seen.insert(fields["Package"]).second) {
      DumpavailPackage p;
      p.name = fields["Package"];
      p.section = fields["Section"];
      if (const size_t slash = p.section.rfind('/'); slash != std::string::npos)
        p.section = p.section.substr(slash + 1);  // "contrib/games" -> "games"
      p.description = fields["Description"];
      for (const std::string& relation : relations)
        if (fields.count(relation)) add_relations(fields[relation], p.related);
      packages.push_back(std::move(p));
    }
    fields.clear();
    last_field.clear();
  };
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      finish();
    } else if (line[0] == ' ' || line[0] == '\t') {
      if (!last_field.empty()) fields[last_field] += "\n" + line;
    } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
      last_field = line.substr(0, colon);
      const size_t value = line.find_first_not_of(" \t", colon + 1);
      fields[last_field] = value == std::string::npos ? "" : line.substr(value);
    }
  }
  finish();
  return packages;
}

// Application sections: each says what its programs are for, with hundreds of packages in
// Debian 12. Left out: sections of libraries and language ecosystems (libs, libdevel, oldlibs,
// python, perl, ruby, java, golang, rust, haskell, ...: their packages are grouped by
// implementation language, not purpose), of documentation, fonts, localization, debug symbols,
// kernels, metapackages and tasks, desktop environments (gnome, kde, xfce: grouped by toolkit),
// and the catch-alls that are defined by exclusion (misc; utils, "utilities that fit nowhere
// else"; x11, "X programs that fit nowhere else"). hamradio and vcs replace utils and x11 in the
// list of the issue: they are topical, and each has over 100 packages.
const std::vector<std::string>& default_debian_sections() {
  static const std::vector<std::string> sections = {
      "admin",    "database", "devel", "editors", "electronics", "games",
      "graphics", "hamradio", "mail",  "math",    "net",         "science",
      "sound",    "text",     "vcs",   "video",   "web"};
  return sections;
}

std::vector<std::string> description_words(const std::string& description,
                                           const std::string& package_name) {
  const std::vector<std::string> name_words = tokens(package_name);
  std::set<std::string> name(name_words.begin(), name_words.end());
  name.insert(package_name);
  std::set<std::string> words;
  for (const std::string& word : tokens(description)) {
    const bool number = word.find_first_not_of("0123456789+") == std::string::npos;
    if (word.size() < 2 || number || stop_words().count(word) || name.count(word)) continue;
    words.insert(word);
  }
  return {words.begin(), words.end()};
}

DebianGraph build_debian_graph(const std::vector<DumpavailPackage>& packages,
                               const DebianGraphOptions& options, const std::string& source) {
  MINIDL_CHECK(
      !options.sections.empty() && options.nodes >= static_cast<int64_t>(options.sections.size()),
      kOp,
      "needs at least one section and one node per section, got "
          << options.sections.size() << " sections and " << options.nodes << " nodes");
  MINIDL_CHECK(options.min_word_packages >= 1, kOp,
               "min_word_packages must be >= 1, got " << options.min_word_packages);
  std::map<std::string, int64_t> section_index;
  for (const std::string& s : options.sections) {
    MINIDL_CHECK(section_index.count(s) == 0, kOp, "section " << s << " is listed twice");
    const int64_t index = static_cast<int64_t>(section_index.size());
    section_index[s] = index;
  }

  // Candidates: packages of the sections, without debug symbols and transitional dummies (they
  // describe a rename, not a program).
  std::vector<const DumpavailPackage*> candidates;
  std::unordered_map<std::string, int64_t> candidate_index;
  for (const DumpavailPackage& p : packages) {
    if (!section_index.count(p.section) || p.description.empty()) continue;
    const auto ends_with = [&](const std::string& suffix) {
      return p.name.size() > suffix.size() &&
             p.name.compare(p.name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with("-dbg") || ends_with("-dbgsym")) continue;
    std::string lower = p.description;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.find("transitional") != std::string::npos) continue;
    candidate_index[p.name] = static_cast<int64_t>(candidates.size());
    candidates.push_back(&p);
  }
  const int64_t n = static_cast<int64_t>(candidates.size());
  std::vector<std::set<int64_t>> neighbours(n);
  for (int64_t i = 0; i < n; ++i)
    for (const std::string& name : candidates[i]->related)
      if (auto it = candidate_index.find(name); it != candidate_index.end() && it->second != i) {
        neighbours[i].insert(it->second);
        neighbours[it->second].insert(i);
      }

  // Each section's candidates in a seeded random order.
  Generator gen(options.seed);
  const std::vector<int64_t> order = randperm(n, &gen).to_vector<int64_t>();
  std::vector<std::vector<int64_t>> by_section(options.sections.size());
  for (int64_t i : order) by_section[section_index[candidates[i]->section]].push_back(i);
  for (size_t s = 0; s < by_section.size(); ++s)
    MINIDL_CHECK(!by_section[s].empty(), kOp,
                 "no package of section \"" << options.sections[s]
                                            << "\" in the input (is it a dumpavail of Debian?)");

  // Round robin over the sections: each takes the first package (in its random order) with a
  // link into the chosen set, else the first with any link among the candidates, else the first.
  const int64_t quota = options.nodes / static_cast<int64_t>(options.sections.size());
  std::vector<char> chosen(n, 0);
  std::vector<int64_t> links_into_set(n, 0);
  std::vector<int64_t> picked;
  for (int64_t round = 0; round < quota; ++round) {
    for (std::vector<int64_t>& list : by_section) {
      int64_t best = -1, best_rank = 3;
      for (int64_t i : list) {
        if (chosen[i]) continue;
        const int64_t rank = links_into_set[i] > 0 ? 0 : !neighbours[i].empty() ? 1 : 2;
        if (rank < best_rank) best = i, best_rank = rank;
        if (rank == 0) break;
      }
      if (best < 0) continue;  // the section has fewer packages than the quota
      chosen[best] = 1;
      picked.push_back(best);
      for (int64_t j : neighbours[best]) ++links_into_set[j];
    }
  }
  std::sort(picked.begin(), picked.end(),
            [&](int64_t a, int64_t b) { return candidates[a]->name < candidates[b]->name; });

  DebianGraph graph;
  graph.source = source;
  graph.sections = options.sections;
  std::unordered_map<int64_t, int64_t> node_of;
  std::vector<std::vector<std::string>> words;
  std::map<std::string, int64_t> packages_using;
  for (int64_t i : picked) {
    node_of[i] = static_cast<int64_t>(graph.packages.size());
    graph.packages.push_back(candidates[i]->name);
    graph.labels.push_back(section_index[candidates[i]->section]);
    words.push_back(description_words(candidates[i]->description, candidates[i]->name));
    for (const std::string& w : words.back()) ++packages_using[w];
  }
  std::map<std::string, int64_t> word_index;
  for (const auto& [word, count] : packages_using)
    if (count >= options.min_word_packages) {
      word_index[word] = static_cast<int64_t>(graph.vocabulary.size());
      graph.vocabulary.push_back(word);
    }
  for (const std::vector<std::string>& list : words) {
    std::vector<int64_t> features;
    for (const std::string& w : list)
      if (auto it = word_index.find(w); it != word_index.end()) features.push_back(it->second);
    std::sort(features.begin(), features.end());
    graph.features.push_back(std::move(features));
  }
  for (int64_t i : picked)
    for (int64_t j : neighbours[i])
      if (chosen[j] && node_of[i] < node_of[j]) graph.edges.emplace_back(node_of[i], node_of[j]);
  std::sort(graph.edges.begin(), graph.edges.end());
  validate_debian_graph(graph, kOp);
  return graph;
}

}  // namespace minidl::models
