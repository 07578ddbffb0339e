// tools/derivatives: the backward table. Reads the formula comment next to every tape record site
// in the library's sources and writes docs/derivatives.md -- like PyTorch's derivatives.yaml, but
// derived from the code, so it cannot disagree with it.
//
//   build/derivatives                  regenerate docs/derivatives.md
//   build/derivatives --check          exit 1 if an op lacks its formula or the table is stale
//
// The convention it reads (docs/internals.md, "Writing a new op"). A record site is a line with
// a PyTorch node-name literal such as "MulBackward0" (passed to record() or to a helper that
// records). At most kWindow lines above it sits the op's formula comment:
//
//   // out = a * b ;  da = dout * b ,  db = dout * a
//
// `// out...` (out, out[i, j], ...), the forward, " ;", then one `d<input> = <gradient>` per
// differentiable input separated by commas. It may go on over the next comment lines when they
// are indented (`//   ...`). A fused kernel adds its derivation right below, in a comment block
// whose first line starts with `// derivation:`; the table copies that block.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr int kWindow = 15;  // how far above a node name its formula may sit, in lines

// One record site and what its formula comment says.
struct Entry {
  std::string node;                    // "MulBackward0"
  std::string file;                    // "ops/binary.cpp", relative to the root
  int formula_line = 0;                // 1-based line of `// out = ...` (0: none found)
  int name_line = 0;                   // 1-based line of the node-name literal
  std::string forward;                 // "out = a * b"
  std::vector<std::string> gradients;  // {"da = dout * b", "db = dout * a"}
  std::string note;  // text after " ;" that is not a gradient ("no gradient flows ...")
  std::vector<std::string> derivation;  // the `// derivation:` block, comment markers removed
};

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool is_comment(const std::string& line) {
  return trim(line).rfind("//", 0) == 0;
}

// The text of a `//` comment line after the marker and one space.
std::string comment_text(const std::string& line) {
  std::string t = trim(line).substr(2);
  if (!t.empty() && t[0] == ' ') t.erase(0, 1);
  return t;
}

// A continuation line of a formula: a comment indented past the marker (`//   ...`).
bool is_continuation(const std::string& line) {
  const std::string t = trim(line);
  return t.rfind("//  ", 0) == 0 && trim(t.substr(2)).rfind("derivation:", 0) != 0;
}

bool is_formula(const std::string& line) {
  if (!is_comment(line)) return false;
  const std::string t = comment_text(line);
  return t.rfind("out", 0) == 0 && t.size() > 3 && (t[3] == ' ' || t[3] == '[' || t[3] == '_') &&
         t.find(" ;") != std::string::npos;
}

// Splits "da = dout * b ,  db = dout * a" at the top-level commas that start a new `d<x> =`.
std::vector<std::string> split_gradients(const std::string& text, std::string* note) {
  // "dx =", "dx_i =", "d relative =", "dx[.., r, ..] =", "dα[k, h] =" (not "dx += ...")
  static const std::regex starts_gradient(R"(^d ?[^\s=,;()\[\]+]+(\[[^\]]*\])?\s*=)");
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') depth = std::max(0, depth - 1);
    if (c == ',' && depth == 0 && std::regex_search(trim(text.substr(i + 1)), starts_gradient)) {
      parts.push_back(trim(current));
      current.clear();
      continue;
    }
    current += c;
  }
  parts.push_back(trim(current));
  std::vector<std::string> gradients;
  for (const std::string& p : parts) {
    if (std::regex_search(p, starts_gradient))
      gradients.push_back(p);
    else if (!p.empty())
      *note += (note->empty() ? "" : "; ") + p;
  }
  return gradients;
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Fills the formula fields of `e` from the comment at lines[at] (0-based) and below it.
void parse_formula(const std::vector<std::string>& lines, size_t at, Entry* e) {
  e->formula_line = static_cast<int>(at) + 1;
  std::string text = comment_text(lines[at]);
  size_t i = at + 1;
  for (; i < lines.size() && is_continuation(lines[i]); ++i)
    text += " " + trim(comment_text(lines[i]));
  const size_t semi = text.find(" ;");
  e->forward = trim(text.substr(0, semi));
  e->gradients = split_gradients(trim(text.substr(semi + 2)), &e->note);
  if (i < lines.size() && is_comment(lines[i]) &&
      comment_text(lines[i]).rfind("derivation:", 0) == 0) {
    for (; i < lines.size() && is_comment(lines[i]); ++i)
      e->derivation.push_back(comment_text(lines[i]));
  }
}

// Every record site in one source file.
std::vector<Entry> scan_file(const fs::path& root, const fs::path& path) {
  static const std::regex node_name("\"([A-Z][A-Za-z0-9]*Backward[0-9]+)\"");
  const std::vector<std::string> lines = read_lines(path);
  std::vector<Entry> entries;
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    if (is_comment(line)) continue;
    // A node name used as a dispatch macro's error label names no tape entry.
    const bool dispatch_label = line.find("MINIDL_DISPATCH") != std::string::npos ||
                                (n > 0 && trim(lines[n - 1]).find("MINIDL_DISPATCH") == 0 &&
                                 lines[n - 1].find(')') == std::string::npos);
    if (dispatch_label) continue;
    for (std::sregex_iterator m(line.begin(), line.end(), node_name), end; m != end; ++m) {
      Entry e;
      e.node = (*m)[1];
      e.file = fs::relative(path, root).generic_string();
      e.name_line = static_cast<int>(n) + 1;
      for (size_t back = 0; back <= static_cast<size_t>(kWindow) && back <= n; ++back) {
        if (is_formula(lines[n - back])) {
          parse_formula(lines, n - back, &e);
          break;
        }
      }
      entries.push_back(e);
    }
  }
  return entries;
}

std::vector<Entry> scan(const fs::path& root) {
  std::vector<fs::path> files;
  for (const char* dir : {"core", "ops", "nn", "models"}) {
    if (!fs::is_directory(root / dir)) continue;
    for (const auto& item : fs::recursive_directory_iterator(root / dir))
      if (item.is_regular_file() && item.path().extension() == ".cpp") files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<Entry> all;
  for (const fs::path& f : files) {
    std::vector<Entry> found = scan_file(root, f);
    all.insert(all.end(), found.begin(), found.end());
  }
  return all;
}

// A table cell as a code span (which keeps `*` and `_` literal); `|` would end the cell, so it
// is escaped.
std::string cell(const std::string& math) {
  std::string out;
  for (char c : math) {
    if (c == '|')
      out += "\\|";
    else
      out += c == '`' ? '\'' : c;  // a backquote would end the code span
  }
  return "`" + out + "`";
}

std::string link(const Entry& e) {
  const std::string where = e.file + ":" + std::to_string(e.formula_line);
  return "[" + where + "](../" + e.file + "#L" + std::to_string(e.formula_line) + ")";
}

std::string render(const std::vector<Entry>& entries) {
  std::vector<const Entry*> rows;
  for (const Entry& e : entries) rows.push_back(&e);
  // Sites whose formula is shared (a ternary of two names) appear once per name.
  std::stable_sort(rows.begin(), rows.end(), [](const Entry* a, const Entry* b) {
    return a->node != b->node ? a->node < b->node : a->file < b->file;
  });
  std::ostringstream md;
  md << "# The backward table\n\n"
     << "Every entry minidl records on the tape, with its forward and the gradient of each input, "
        "as the\nformula comments next to the code state them. `dout` is the gradient of the "
        "loss with respect to\nthe op's output; `[cond]` is 1 where cond holds, 0 elsewhere; "
        "gradients of broadcast inputs are\nsummed back to the input's shape (see "
        "[internals.md](internals.md), \"Broadcasting\").\n\n"
     << "Generated by `build/derivatives` from the sources (tools/derivatives.cpp); do not edit. "
        "A test\n(`[derivatives]`) fails when an op lacks its formula or this file is stale.\n\n"
     << "| node | forward | gradients | where |\n| --- | --- | --- | --- |\n";
  std::string previous;
  for (const Entry* e : rows) {
    std::string grads;
    for (const std::string& g : e->gradients) grads += (grads.empty() ? "" : "<br>") + cell(g);
    if (!e->note.empty()) grads += (grads.empty() ? "" : "<br>") + e->note;
    const std::string key = e->node + e->file + std::to_string(e->formula_line);
    if (key == previous) continue;  // one literal twice on a line
    previous = key;
    md << "| " << e->node << " | " << cell(e->forward) << " | " << grads << " | " << link(*e)
       << " |\n";
  }
  md << "\n## Derivations of the fused kernels\n\n"
     << "Ops whose backward is one hand-written kernel rather than a chain of recorded ops carry "
        "their\nderivation next to the code; here they are in one place.\n";
  std::vector<std::string> seen;
  for (const Entry& e : entries) {
    if (e.derivation.empty()) continue;
    const std::string where = e.file + ":" + std::to_string(e.formula_line);
    if (std::find(seen.begin(), seen.end(), where) != seen.end()) continue;
    seen.push_back(where);
    std::string names;
    for (const Entry& other : entries)
      if (other.file == e.file && other.formula_line == e.formula_line &&
          names.find(other.node) == std::string::npos)
        names += (names.empty() ? "" : ", ") + other.node;
    md << "\n### " << names << " (" << link(e) << ")\n\n```\n" << e.forward << "\n";
    for (const std::string& line : e.derivation) md << line << "\n";
    md << "```\n";
  }
  return md.str();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Writes docs/derivatives.md, the table of every backward formula, from the "
      "formula comments next to the ops' record sites."};
  std::string root = ".";
  std::string out;
  bool check = false;
  app.add_option("--root", root, "the minidl source tree (default: the current directory)");
  app.add_option("--out", out, "the table to write (default: ROOT/docs/derivatives.md)");
  app.add_flag("--check", check,
               "write nothing; exit 1 if a record site lacks its formula or the table is stale");
  CLI11_PARSE(app, argc, argv);
  if (!fs::is_directory(fs::path(root) / "ops")) {
    std::cerr << "derivatives: " << root
              << " is not the minidl source tree (it has no ops/ folder); run this from the "
                 "repository's root or pass --root DIR\n";
    return 2;
  }
  if (out.empty()) out = (fs::path(root) / "docs" / "derivatives.md").string();

  const std::vector<Entry> entries = scan(root);
  int problems = 0;
  for (const Entry& e : entries) {
    const std::string where = e.file + ":" + std::to_string(e.name_line);
    if (e.formula_line == 0) {
      std::cerr << where << ": " << e.node << " has no formula comment within " << kWindow
                << " lines above it; write `// out = <forward> ;  dx = <gradient>` there\n";
      ++problems;
    } else if (e.gradients.empty() && e.note.find("no gradient") == std::string::npos) {
      std::cerr << e.file << ":" << e.formula_line << ": the formula of " << e.node
                << " names no gradient: after \" ;\" write `d<input> = ...` for each input (or "
                   "say \"no gradient\")\n";
      ++problems;
    }
  }
  const std::string table = render(entries);
  if (check) {
    if (read_text(out) != table) {
      std::cerr << out << " is stale: the formula comments changed since it was written; run "
                << "build/derivatives from the repository's root to regenerate it\n";
      ++problems;
    }
    if (problems == 0) std::cout << entries.size() << " record sites, table up to date\n";
    return problems == 0 ? 0 : 1;
  }
  std::ofstream file(out, std::ios::binary);
  if (!(file << table)) {
    std::cerr << "derivatives: cannot write " << out << "\n";
    return 1;
  }
  std::cout << "wrote " << out << ": " << entries.size() << " record sites\n";
  return problems == 0 ? 0 : 1;
}
