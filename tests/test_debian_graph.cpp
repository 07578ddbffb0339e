// The Debian package graph snapshot (models/data/debian_graph.h): a round trip through a gzip
// file written here, the committed snapshot, and every error path naming the file and line.
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "models/data/debian_graph.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

DebianGraph tiny_graph() {
  DebianGraph g;
  g.source = "a test";
  g.sections = {"games", "sound"};
  g.vocabulary = {"audio", "puzzle", "player"};
  g.packages = {"a-game", "mixer", "tunes"};
  g.labels = {0, 1, 1};
  g.features = {{1}, {0}, {0, 2}};
  g.edges = {{0, 2}, {1, 2}};
  return g;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

void write_gzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
}

}  // namespace

TEST_CASE("debian graph snapshot: round trip through gzip, text format", "[graph]") {
  const std::string path = temp_path("minidl_debian_graph_test.txt.gz");
  write_debian_graph(path, tiny_graph());
  DebianGraph back = read_debian_graph(path);
  CHECK(back.source == "a test");
  CHECK(back.sections == tiny_graph().sections);
  CHECK(back.vocabulary == tiny_graph().vocabulary);
  CHECK(back.packages == tiny_graph().packages);
  CHECK(back.labels == tiny_graph().labels);
  CHECK(back.features == tiny_graph().features);
  CHECK(back.edges == tiny_graph().edges);
  // gzip'd for real (starts with the gzip magic), and the text is the documented format
  std::ifstream raw(path, std::ios::binary);
  CHECK(raw.get() == 0x1f);
  CHECK(raw.get() == 0x8b);
  const std::string text = format_debian_graph(tiny_graph());
  CHECK(text.find("minidl-debian-graph 1\nsource a test\nsections 2\ngames\n") == 0);
  CHECK(text.find("nodes 3\na-game\t0\t1\nmixer\t1\t0\ntunes\t1\t0 2\nedges 2\n0 2\n1 2\n") !=
        std::string::npos);
  // a plain (not gzip'd) file reads too
  const std::string plain = temp_path("minidl_debian_graph_test.txt");
  std::ofstream(plain) << text;
  CHECK(read_debian_graph(plain).packages.size() == 3);
  std::remove(path.c_str());
  std::remove(plain.c_str());
}

TEST_CASE("debian graph snapshot: the committed one loads", "[graph]") {
  const std::string path = std::string(MINIDL_FIXTURE_DIR) + "/../../" + kDebianGraphPath;
  DebianGraph g = read_debian_graph(path);
  CHECK(g.sections.size() == 17);
  CHECK(g.packages.size() > 2000);
  CHECK(g.edges.size() > 2000);
  CHECK(g.vocabulary.size() > 1000);
}

TEST_CASE("debian graph snapshot: errors name the file, the line and what to do", "[graph]") {
  CHECK_THROWS_WITH(read_debian_graph("/nonexistent/graph.txt.gz"),
                    Catch::Contains("/nonexistent/graph.txt.gz: cannot open") &&
                        Catch::Contains("build/debian_graph"));
  const std::string path = temp_path("minidl_debian_graph_bad.txt.gz");
  const std::string good = format_debian_graph(tiny_graph());
  auto fails_with = [&](const std::string& text, const std::string& message) {
    write_gzip(path, text);
    CHECK_THROWS_WITH(read_debian_graph(path), Catch::Contains(path) && Catch::Contains(message));
  };
  fails_with("hello\n", "not a minidl Debian package graph");
  fails_with(good.substr(0, good.size() / 2), "truncated");
  std::string bad_label = good;
  bad_label.replace(bad_label.find("mixer\t1"), 7, "mixer\t5");
  fails_with(bad_label, ":12: section index 5 out of range [0, 2)");
  std::string bad_word = good;
  bad_word.replace(bad_word.find("tunes\t1\t0 2"), 11, "tunes\t1\t2 0");
  fails_with(bad_word, ":13: word indices must be increasing");
  fails_with(good + "junk\n", "unexpected text after the 2 edges");
  std::string self_loop = good;
  self_loop.replace(self_loop.find("\n1 2\n"), 5, "\n2 2\n");
  fails_with(self_loop, "edge 2 2 must have 0 <= a < b < 3");
  write_gzip(path, good);
  CHECK_NOTHROW(read_debian_graph(path));
  // a damaged gzip stream (bytes flipped in the middle)
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (size_t i = 12; i < bytes.size() - 8; ++i) bytes[i] = static_cast<char>(~bytes[i]);
  std::ofstream(path, std::ios::binary) << bytes;
  CHECK_THROWS_WITH(read_debian_graph(path),
                    Catch::Contains(path) && Catch::Contains("damaged gzip data"));
  std::remove(path.c_str());
}
