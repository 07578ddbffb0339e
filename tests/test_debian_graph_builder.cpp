// Deriving the Debian package graph (models/data/debian_graph_builder.h) from a small synthetic
// `apt-cache dumpavail` text: stanza parsing, relation names, the sections kept, no word of a
// package's own name among its features, edges only between chosen packages, seeded sampling.
#include <algorithm>
#include <set>

#include "models/data/debian_graph_builder.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

const char* kDumpavail =
    "Package: chess-engine\n"
    "Version: 1.0\n"
    "Depends: chess-data (= 1.0), libc6 (>= 2.34)\n"
    "Recommends: xboard | chess-gui:any\n"
    "Description: Chess engine playing strong chess\n"
    "Section: games\n"
    "\n"
    "Package: chess-data\n"
    "Description: Data files for the chess engine\n"
    "Section: games\n"
    "\n"
    "Package: chess-gui\n"
    "Suggests: chess-engine [amd64]\n"
    "Description: Graphical board to play chess\n"
    "Section: contrib/games\n"
    "\n"
    "Package: audio-mixer\n"
    "Depends: libasound2, chess-gui\n"
    "Description: Audio mixer for sound cards\n"
    "Section: sound\n"
    "\n"
    "Package: tracker\n"
    "Pre-Depends: audio-mixer\n"
    "Description: Music tracker for sound and audio\n"
    " A long description line.\n"
    " .\n"
    " More of it.\n"
    "Section: sound\n"
    "\n"
    "Package: libasound2\n"
    "Description: Shared library for ALSA audio\n"
    "Section: libs\n"
    "\n"
    "Package: old-tracker\n"
    "Depends: tracker\n"
    "Description: transitional dummy package\n"
    "Section: sound\n"
    "\n"
    "Package: tracker-dbgsym\n"
    "Description: debug symbols for tracker\n"
    "Section: sound\n"
    "\n"
    "Package: tracker\n"
    "Description: a second stanza of tracker (ignored)\n"
    "Section: games\n";

DebianGraphOptions options() {
  DebianGraphOptions o;
  o.sections = {"games", "sound"};
  o.nodes = 10;
  o.min_word_packages = 1;
  return o;
}

}  // namespace

TEST_CASE("parse_dumpavail: stanzas, sections without area prefix, relation names", "[graph]") {
  auto packages = parse_dumpavail(kDumpavail, {"Depends", "Pre-Depends", "Recommends", "Suggests"});
  REQUIRE(packages.size() == 8);  // the second "tracker" stanza is dropped
  CHECK(packages[0].name == "chess-engine");
  CHECK(packages[0].related ==
        std::vector<std::string>{"chess-data", "libc6", "xboard", "chess-gui"});
  CHECK(packages[2].section == "games");  // "contrib/games"
  CHECK(packages[2].related == std::vector<std::string>{"chess-engine"});
  CHECK(packages[4].name == "tracker");
  CHECK(packages[4].section == "sound");
  CHECK(packages[4].description.find("Music tracker for sound and audio\n A long") == 0);
  auto depends_only = parse_dumpavail(kDumpavail, {"Depends"});
  CHECK(depends_only[0].related == std::vector<std::string>{"chess-data", "libc6"});
}

TEST_CASE("description_words: lowercased, no stop words, numbers or name words", "[graph]") {
  CHECK(description_words("Chess engine playing strong chess, for the C++ and 3D fans 2024",
                          "chess-engine") ==
        std::vector<std::string>{"3d", "c++", "fans", "playing", "strong"});
  CHECK(description_words("vim: Vi IMproved", "vim").size() == 2);  // "vi", "improved"
}

TEST_CASE("build_debian_graph: sections, features without name words, edges between chosen",
          "[graph]") {
  auto packages = parse_dumpavail(kDumpavail, {"Depends", "Pre-Depends", "Recommends", "Suggests"});
  DebianGraph g = build_debian_graph(packages, options(), "synthetic");
  // libs is not a chosen section; the transitional and -dbgsym packages are left out
  CHECK(g.packages == std::vector<std::string>{"audio-mixer", "chess-data", "chess-engine",
                                               "chess-gui", "tracker"});
  CHECK(g.sections == std::vector<std::string>{"games", "sound"});
  CHECK(g.labels == std::vector<int64_t>{1, 0, 0, 0, 1});
  CHECK(g.source == "synthetic");
  for (size_t i = 0; i < g.packages.size(); ++i) {
    std::set<std::string> name_words;
    for (const std::string& w : description_words(g.packages[i], "")) name_words.insert(w);
    for (int64_t w : g.features[i]) {
      INFO(g.packages[i] << " has feature " << g.vocabulary[w]);
      CHECK(name_words.count(g.vocabulary[w]) == 0);
    }
  }
  // "chess" is in every chess package's name, so it is nobody's feature
  CHECK(std::find(g.vocabulary.begin(), g.vocabulary.end(), "chess") == g.vocabulary.end());
  // edges: engine-data, engine-gui (Recommends and Suggests, once), gui-mixer, mixer-tracker;
  // none to libasound2 or libc6 (not chosen) or old-tracker (transitional)
  const std::vector<std::pair<int64_t, int64_t>> expected = {{0, 3}, {0, 4}, {1, 2}, {2, 3}};
  CHECK(g.edges == expected);
  // Depends only drops the Suggests/Recommends edge engine-gui
  DebianGraphOptions depends = options();
  depends.relations = {"Depends", "Pre-Depends"};
  DebianGraph g2 = build_debian_graph(parse_dumpavail(kDumpavail, depends.relations), depends, "");
  CHECK(g2.edges == std::vector<std::pair<int64_t, int64_t>>{{0, 3}, {0, 4}, {1, 2}});
  // min_word_packages 2: only words of two packages or more ("sound": audio-mixer, tracker)
  DebianGraphOptions shared = options();
  shared.min_word_packages = 2;
  DebianGraph g3 = build_debian_graph(packages, shared, "");
  CHECK(std::find(g3.vocabulary.begin(), g3.vocabulary.end(), "sound") != g3.vocabulary.end());
  CHECK(std::find(g3.vocabulary.begin(), g3.vocabulary.end(), "strong") == g3.vocabulary.end());
}

TEST_CASE("build_debian_graph: a quota per section, seeded, preferring linked packages",
          "[graph]") {
  auto packages = parse_dumpavail(kDumpavail, {"Depends", "Pre-Depends", "Recommends", "Suggests"});
  DebianGraphOptions o = options();
  o.nodes = 2;  // one per section
  for (uint64_t seed : {0, 1, 2, 3}) {
    o.seed = seed;
    DebianGraph g = build_debian_graph(packages, o, "");
    REQUIRE(g.packages.size() == 2);
    CHECK(g.labels.size() == 2);
    CHECK(g.labels[0] != g.labels[1]);
    // sound picks after games, a package linked to games' pick when there is one: only
    // audio-mixer links to a games package (chess-gui)
    if (g.packages[1] == "chess-gui") CHECK(g.packages[0] == "audio-mixer");
    CHECK(build_debian_graph(packages, o, "").packages == g.packages);  // seeded
  }
  o.sections = {"games", "web"};
  CHECK_THROWS_WITH(build_debian_graph(packages, o, ""),
                    Catch::Contains("no package of section \"web\""));
  o.sections = {};
  CHECK_THROWS_WITH(build_debian_graph(packages, o, ""), Catch::Contains("at least one section"));
}
