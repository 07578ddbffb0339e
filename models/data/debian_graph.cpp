#include "models/data/debian_graph.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <sstream>

#include "core/error.h"

namespace minidl::models {

namespace {

constexpr const char* kOp = "debian_graph";
constexpr const char* kMagic = "minidl-debian-graph 1";
constexpr const char* kRebuild =
    "restore it with `git checkout data/` or derive a new one with build/debian_graph";

// Reads the lines of the snapshot text one by one, counting them for error messages.
class LineReader {
 public:
  LineReader(const std::string& text, const std::string& where) : in_(text), where_(where) {}

  std::string next(const char* what) {
    std::string line;
    MINIDL_CHECK(std::getline(in_, line), kOp,
                 where_ << ": truncated after line " << number_ << " (expected " << what << "); "
                        << kRebuild);
    ++number_;
    return line;
  }
  // "keyword COUNT" -> COUNT.
  int64_t header(const std::string& keyword) {
    const std::string line = next(("the \"" + keyword + " COUNT\" line").c_str());
    std::istringstream fields(line);
    std::string word;
    int64_t count = -1;
    std::string rest;
    const bool ok = (fields >> word >> count) && word == keyword && count >= 0 && !(fields >> rest);
    MINIDL_CHECK(ok, kOp,
                 where_ << ":" << number_ << ": expected \"" << keyword << " COUNT\", got \""
                        << line << "\"");
    return count;
  }
  [[noreturn]] void fail(const std::string& message) const {
    MINIDL_FAIL(kOp, where_ << ":" << number_ << ": " << message);
  }
  int64_t line_number() const { return number_; }
  bool at_end() {
    std::string rest;
    while (std::getline(in_, rest))
      if (!rest.empty()) return false;
    return true;
  }

 private:
  std::istringstream in_;
  std::string where_;
  int64_t number_ = 0;
};

// A non-negative integer below `limit`, or an error naming the field.
int64_t parse_index(const std::string& token, int64_t limit, const char* what,
                    const LineReader& reader) {
  const bool digits =
      !token.empty() && token.size() < 19 &&
      std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) reader.fail(std::string("bad ") + what + " \"" + token + "\"");
  const int64_t value = std::stoll(token);
  if (value >= limit)
    reader.fail(std::string(what) + " " + token + " out of range [0, " + std::to_string(limit) +
                ")");
  return value;
}

std::vector<std::string> read_names(LineReader& reader, int64_t count, const char* what) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < count; ++i) {
    std::string name = reader.next(what);
    if (name.empty() || name.find_first_of(" \t") != std::string::npos)
      reader.fail(std::string("bad ") + what + " \"" + name + "\" (empty or with whitespace)");
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace

void validate_debian_graph(const DebianGraph& graph, const std::string& where) {
  const int64_t nodes = static_cast<int64_t>(graph.packages.size());
  const int64_t sections = static_cast<int64_t>(graph.sections.size());
  const int64_t words = static_cast<int64_t>(graph.vocabulary.size());
  MINIDL_CHECK(static_cast<int64_t>(graph.labels.size()) == nodes &&
                   static_cast<int64_t>(graph.features.size()) == nodes,
               kOp,
               where << ": " << nodes << " packages but " << graph.labels.size() << " labels and "
                     << graph.features.size() << " feature lists");
  for (int64_t i = 0; i < nodes; ++i) {
    MINIDL_CHECK(graph.labels[i] >= 0 && graph.labels[i] < sections, kOp,
                 where << ": package " << graph.packages[i] << " has section index "
                       << graph.labels[i] << ", out of range [0, " << sections << ")");
    const std::vector<int64_t>& f = graph.features[i];
    for (size_t k = 0; k < f.size(); ++k)
      MINIDL_CHECK(f[k] >= 0 && f[k] < words && (k == 0 || f[k - 1] < f[k]), kOp,
                   where << ": package " << graph.packages[i]
                         << ": word indices must be increasing and in [0, " << words << ")");
  }
  std::set<std::pair<int64_t, int64_t>> seen;
  for (const auto& [a, b] : graph.edges) {
    MINIDL_CHECK(a >= 0 && a < b && b < nodes, kOp,
                 where << ": edge " << a << " " << b << " must have 0 <= a < b < " << nodes);
    MINIDL_CHECK(seen.insert({a, b}).second, kOp, where << ": edge " << a << " " << b << " twice");
  }
}

std::string format_debian_graph(const DebianGraph& graph) {
  validate_debian_graph(graph, "format_debian_graph");
  std::ostringstream out;
  out << kMagic << "\nsource " << graph.source << "\nsections " << graph.sections.size() << "\n";
  for (const std::string& s : graph.sections) out << s << "\n";
  out << "vocabulary " << graph.vocabulary.size() << "\n";
  for (const std::string& w : graph.vocabulary) out << w << "\n";
  out << "nodes " << graph.packages.size() << "\n";
  for (size_t i = 0; i < graph.packages.size(); ++i) {
    out << graph.packages[i] << "\t" << graph.labels[i] << "\t";
    for (size_t k = 0; k < graph.features[i].size(); ++k)
      out << (k ? " " : "") << graph.features[i][k];
    out << "\n";
  }
  out << "edges " << graph.edges.size() << "\n";
  for (const auto& [a, b] : graph.edges) out << a << " " << b << "\n";
  return out.str();
}

DebianGraph parse_debian_graph(const std::string& text, const std::string& where) {
  LineReader reader(text, where);
  const std::string magic = reader.next("the first line");
  MINIDL_CHECK(magic == kMagic, kOp,
               where << ": not a minidl Debian package graph (the first line is \""
                     << magic.substr(0, 40) << "\", expected \"" << kMagic << "\"); " << kRebuild);
  DebianGraph graph;
  const std::string source = reader.next("the source line");
  if (source.rfind("source ", 0) != 0) reader.fail("expected \"source ...\"");
  graph.source = source.substr(7);
  graph.sections = read_names(reader, reader.header("sections"), "section");
  graph.vocabulary = read_names(reader, reader.header("vocabulary"), "word");
  const int64_t nodes = reader.header("nodes");
  const int64_t sections = static_cast<int64_t>(graph.sections.size());
  const int64_t words = static_cast<int64_t>(graph.vocabulary.size());
  for (int64_t i = 0; i < nodes; ++i) {
    const std::string line = reader.next("a node line");
    const size_t tab1 = line.find('\t');
    const size_t tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string::npos || tab1 == 0)
      reader.fail("expected \"package<TAB>section<TAB>words\", got \"" + line + "\"");
    graph.packages.push_back(line.substr(0, tab1));
    graph.labels.push_back(
        parse_index(line.substr(tab1 + 1, tab2 - tab1 - 1), sections, "section index", reader));
    std::istringstream tokens(line.substr(tab2 + 1));
    std::vector<int64_t> features;
    for (std::string token; tokens >> token;) {
      features.push_back(parse_index(token, words, "word index", reader));
      if (features.size() > 1 && features[features.size() - 2] >= features.back())
        reader.fail("word indices must be increasing");
    }
    graph.features.push_back(std::move(features));
  }
  const int64_t edges = reader.header("edges");
  for (int64_t k = 0; k < edges; ++k) {
    std::istringstream fields(reader.next("an edge line"));
    std::string a, b, rest;
    if (!(fields >> a >> b) || (fields >> rest)) reader.fail("expected an edge \"a b\"");
    graph.edges.emplace_back(parse_index(a, nodes, "node index", reader),
                             parse_index(b, nodes, "node index", reader));
  }
  MINIDL_CHECK(reader.at_end(), kOp,
               where << ": unexpected text after the " << edges << " edges (line "
                     << reader.line_number() + 1 << ")");
  validate_debian_graph(graph, where);
  return graph;
}

DebianGraph read_debian_graph(const std::string& path_or_default) {
  const std::string path = path_or_default.empty() ? kDebianGraphPath : path_or_default;
  gzFile file = gzopen(path.c_str(), "rb");
  MINIDL_CHECK(file != nullptr, kOp,
               path << ": cannot open (" << std::strerror(errno)
                    << "); run from the repository root (the snapshot is data/"
                       "debian_packages_graph.txt.gz), give its path with --data, or "
                    << kRebuild);
  std::string text;
  char buffer[1 << 16];
  int got = 0;
  while ((got = gzread(file, buffer, sizeof buffer)) > 0) text.append(buffer, got);
  int code = Z_OK;
  const std::string message = gzerror(file, &code);
  gzclose(file);
  MINIDL_CHECK(got == 0 && (code == Z_OK || code == Z_STREAM_END), kOp,
               path << ": damaged gzip data (" << message << "); " << kRebuild);
  return parse_debian_graph(text, path);
}

void write_debian_graph(const std::string& path, const DebianGraph& graph) {
  const std::string text = format_debian_graph(graph);
  gzFile file = gzopen(path.c_str(), "wb9");
  MINIDL_CHECK(file != nullptr, kOp,
               path << ": cannot open for writing (" << std::strerror(errno) << ")");
  const int wrote =
      text.empty() ? 0 : gzwrite(file, text.data(), static_cast<unsigned>(text.size()));
  const int closed = gzclose(file);
  MINIDL_CHECK(wrote == static_cast<int>(text.size()) && closed == Z_OK, kOp,
               path << ": writing failed (disk full?)");
}

}  // namespace minidl::models
