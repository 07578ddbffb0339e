// Every public function declared in the library's headers has a comment (issue 14).
//
// The rule the scanner enforces, over core/ ops/ nn/ nn/functional/ nn/attention/ nn/data/
// nn/data/datasets/ models/ models/*/ (*.h):
//
//   A public declaration is a function or method declared or defined at namespace scope or in the
//   public part of a class/struct (struct members are public until `private:`/`protected:`),
//   outside namespaces named detail / internal and anonymous namespaces. Not counted:
//     - operators (`operator...`), constructors, destructors, conversion operators;
//     - methods marked `override` or `final`, and declarations ending `= default` / `= delete`;
//     - out-of-class definitions (`Foo::bar(...)`), friends, macros and using-declarations;
//     - trivial accessors: a definition that fits on ONE line, takes NO parameters and whose body
//       is a single `return <expression>;` (`int64_t dim() const { return shape_.size(); }`).
//   Such a declaration is documented when
//     (a) the line directly above its first line (its `template <...>` line, if any) is a `//`
//         comment line, or
//     (b) its first line ends with a trailing `// ...` comment, or
//     (c) it belongs to a documented group: the function declaration in the same scope that ends
//         on the line directly above it (no blank line, no field in between) is documented --
//         consecutive overloads and families such as `dim() / numel() / shape()` share the
//         comment above the first of them. Uncounted functions (constructors, operators,
//         overrides) are members of such a run too, documented or not, like any other.
//   So a comment counts only if it touches the declaration or its run: a comment followed by a
//   blank line (a section banner) documents nothing. The rule is a floor, not a review: a run
//   of declarations without blank lines passes with one comment on top.
//   Class and struct definitions (not forward declarations) in the same public places follow the
//   same rule (a) / (b) on their `class` / `struct` line; explicit specializations (`template <>`)
//   are not counted (the primary template carries the comment).
//
// The scanner is a small tokenizer, not a C++ parser: comments, string and character literals and
// preprocessor lines are blanked out; statements are split at `;` and `{` outside parentheses;
// `namespace`, `class` / `struct` / `union` and `enum` open scopes; anything else that opens a
// brace after a parameter list is a function body (skipped). A function declaration is a
// statement whose text before its first top-level `(` has a return type and a name.
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.h"

using minidl::testing::read_text;
using minidl::testing::source_root;

namespace {

struct Finding {
  int line;          // 1-based
  std::string name;  // function or class name
  bool documented;
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Splits a string into identifier tokens and single punctuation characters.
std::vector<std::string> tokens(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    } else if (ident_char(s[i])) {
      size_t j = i;
      while (j < s.size() && ident_char(s[j])) ++j;
      out.push_back(s.substr(i, j - i));
      i = j;
    } else {
      out.push_back(std::string(1, s[i]));
      ++i;
    }
  }
  return out;
}

// Removes a leading `template <...>` (balanced) and `[[attribute]]`s.
std::string strip_template(std::string s) {
  for (;;) {
    s = trim(s);
    if (s.rfind("template", 0) == 0 && s.size() > 8 && !ident_char(s[8])) {
      size_t i = s.find('<');
      if (i == std::string::npos) return s;
      int depth = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '<') ++depth;
        if (s[i] == '>' && --depth == 0) break;
      }
      s = s.substr(std::min(i + 1, s.size()));
    } else if (s.rfind("[[", 0) == 0) {
      size_t i = s.find("]]");
      if (i == std::string::npos) return s;
      s = s.substr(i + 2);
    } else {
      return s;
    }
  }
}

class HeaderScanner {
 public:
  explicit HeaderScanner(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) raw_.push_back(line);
    blank_out();
  }

  std::vector<Finding> scan() {
    scopes_.push_back({Scope::kNamespace, "", true, true});
    for (size_t l = 0; l < code_.size(); ++l) {
      const std::string& s = code_[l];
      for (size_t c = 0; c < s.size(); ++c) step(s[c], static_cast<int>(l));
      step('\n', static_cast<int>(l));
    }
    return findings_;
  }

 private:
  struct Scope {
    enum Kind { kNamespace, kClass } kind;
    std::string name;
    bool visible;  // everything up to here is public
    bool public_access;
    int last_decl_end = -10;  // line of the last function declaration's end, for groups
    bool last_decl_documented = false;
  };

  // Comments, literals and preprocessor lines become spaces; remembers comment-only lines and
  // lines with a trailing `//` comment.
  void blank_out() {
    bool in_block = false, continued_pp = false;
    for (const std::string& line : raw_) {
      std::string out(line.size(), ' ');
      std::string t = trim(line);
      comment_line_.push_back(t.rfind("//", 0) == 0);
      trailing_comment_.push_back(false);
      bool pp = continued_pp || (!in_block && t.rfind("#", 0) == 0);
      continued_pp = pp && !line.empty() && line.back() == '\\';
      if (pp) {
        code_.push_back(out);
        continue;
      }
      for (size_t i = 0; i < line.size(); ++i) {
        if (in_block) {
          if (line.compare(i, 2, "*/") == 0) in_block = false, ++i;
          continue;
        }
        if (line.compare(i, 2, "//") == 0) {
          if (!comment_line_.back()) trailing_comment_.back() = true;
          break;
        }
        if (line.compare(i, 2, "/*") == 0) {
          in_block = true, ++i;
          continue;
        }
        if (line[i] == '"' || line[i] == '\'') {
          char q = line[i];
          out[i] = q;
          for (++i; i < line.size() && line[i] != q; ++i)
            if (line[i] == '\\') ++i;
          if (i < line.size()) out[i] = q;
          continue;
        }
        out[i] = line[i];
      }
      code_.push_back(out);
    }
  }

  void reset() {
    stmt_.clear();
    stmt_start_ = -1;
    depth_ = 0;
    init_list_ = false;
  }

  bool visible() const { return scopes_.back().visible && scopes_.back().public_access; }

  void step(char ch, int line) {
    if (skip_ > 0) {  // inside a function or enum body
      if (ch != '\n') stmt_ += ch;
      if (ch == '{') ++skip_;
      if (ch == '}' && --skip_ == 0) end_body(line);
      return;
    }
    if (stmt_.empty() && std::isspace(static_cast<unsigned char>(ch))) return;
    if (stmt_.empty()) stmt_start_ = line;
    if (depth_ == 0 && ch == '}') {  // closes the current scope
      if (scopes_.size() > 1) scopes_.pop_back();
      reset();
      return;
    }
    if (depth_ == 0 && ch == '{') {
      open_brace(line);
      return;
    }
    stmt_ += ch;
    if (ch == '(' || ch == '[' || ch == '{') ++depth_;
    if ((ch == ')' || ch == ']' || ch == '}') && depth_ > 0) --depth_;
    if (depth_ > 0) return;
    if (ch == ';') {
      if (pending_enum_) {
        pending_enum_ = false;
      } else {
        declaration(line, false);
      }
      reset();
    } else if (ch == ':') {
      std::string t = trim(stmt_.substr(0, stmt_.size() - 1));
      if (t == "public" || t == "private" || t == "protected") {
        scopes_.back().public_access = t == "public";
        scopes_.back().last_decl_end = -10;
        reset();
      } else if (stmt_.size() >= 2 && stmt_[stmt_.size() - 2] != ':' && has_paren_list()) {
        init_list_ = true;  // `Foo(int a) : a_{a} {` -- braces after a name initialize
      }
    }
  }

  // Whether the statement so far has a closed top-level parameter list.
  bool has_paren_list() const { return stmt_.find(')') != std::string::npos; }

  void open_brace(int line) {
    std::string head = strip_template(stmt_);
    std::vector<std::string> tok = tokens(head);
    auto first = [&](const char* w) { return !tok.empty() && tok[0] == w; };
    if (first("namespace") || (first("inline") && tok.size() > 1 && tok[1] == "namespace")) {
      std::string name;
      for (size_t i = 0; i < tok.size(); ++i)
        if (ident_char(tok[i][0]) && tok[i] != "namespace" && tok[i] != "inline") name = tok[i];
      bool hidden = name.empty() || name == "detail" || name == "internal";
      scopes_.push_back({Scope::kNamespace, name, visible() && !hidden, true});
      reset();
      return;
    }
    if (first("enum")) {
      skip_ = 1;
      pending_enum_ = true;
      body_is_function_ = false;
      stmt_ += '{';
      return;
    }
    if ((first("class") || first("struct") || first("union")) &&
        head.find('(') == std::string::npos) {
      std::string name;
      for (size_t i = 1; i < tok.size(); ++i) {
        if (tok[i] == ":" || tok[i] == "<") break;
        if (ident_char(tok[i][0]) && tok[i] != "final" && tok[i] != "alignas") name = tok[i];
      }
      const bool specialization = trim(stmt_).rfind("template <>", 0) == 0;
      if (visible() && !name.empty() && !specialization) record(name, stmt_start_, true);
      scopes_.push_back({Scope::kClass, name, visible(), tok[0] != "class"});
      reset();
      return;
    }
    bool function_like = stmt_.find('(') != std::string::npos && !top_level_assignment(stmt_);
    char prev = ' ';
    std::string t = trim(stmt_);
    if (!t.empty()) prev = t.back();
    if (function_like && !(init_list_ && (ident_char(prev) || prev == '>'))) {
      skip_ = 1;
      body_is_function_ = true;
      body_start_ = line;
      stmt_ += '{';
      return;
    }
    stmt_ += '{';  // an initializer: `int x{0};`, `= {1, 2}`, `a_{a}` in an init list
    ++depth_;
  }

  // Whether the text before the first top-level `(` holds an `=` (a variable, not a function).
  static bool top_level_assignment(const std::string& statement) {
    const std::string text = strip_template(statement);
    size_t p = first_paren(text);
    std::string prefix = text.substr(0, p);
    for (const std::string& t : tokens(prefix))
      if (t == "operator") return false;  // operator=, operator+=, operator== ...
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (prefix[i] != '=') continue;
      bool compare = (i > 0 && std::string("=!<>").find(prefix[i - 1]) != std::string::npos) ||
                     (i + 1 < prefix.size() && prefix[i + 1] == '=');
      if (!compare) return true;
    }
    return false;
  }

  // The first `(` outside template brackets (std::function<void(int)> does not count).
  static size_t first_paren(const std::string& s) {
    int angle = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '<') ++angle;
      if (s[i] == '>' && angle > 0 && !(i > 0 && s[i - 1] == '-')) --angle;
      if (s[i] == '(' && angle == 0) return i;
    }
    return std::string::npos;
  }

  void end_body(int line) {
    if (body_is_function_) {
      declaration(line, true);
      reset();
    }
  }

  // A complete statement (ending in `;`, or a function definition whose body ended on `end`).
  void declaration(int end, bool defined) {
    Scope& scope = scopes_.back();
    auto not_a_function = [&] { scope.last_decl_end = -10; };
    std::string text = strip_template(stmt_);
    std::vector<std::string> all = tokens(text);
    static const std::set<std::string> kNotFunctions = {
        "using", "typedef", "friend", "static_assert", "return", "namespace",
        "class", "struct",  "union",  "enum",          "goto"};
    size_t p = first_paren(text);
    if (all.empty() || kNotFunctions.count(all[0]) || p == std::string::npos ||
        top_level_assignment(text))
      return not_a_function();
    std::vector<std::string> prefix = tokens(text.substr(0, p));
    std::string rest = text.substr(p);
    // Close the parameter list.
    int depth = 0;
    size_t close = 0;
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == '(') ++depth;
      if (rest[i] == ')' && --depth == 0) {
        close = i;
        break;
      }
    }
    std::string params = trim(rest.substr(1, close > 0 ? close - 1 : 0));
    std::vector<std::string> after = tokens(rest.substr(close + 1));
    static const std::set<std::string> kSpecifiers = {"inline",   "static", "constexpr", "virtual",
                                                      "explicit", "extern", "const",     "mutable"};
    bool skipped = false;
    for (const std::string& t : prefix)
      if (t == "operator") skipped = true;
    if (!skipped &&
        (prefix.empty() || !ident_char(prefix.back()[0]) || std::isdigit(prefix.back()[0])))
      return not_a_function();  // `void (*fn)(int);`, a cast, a call
    const std::string name = skipped ? "operator" : prefix.back();
    size_t n = prefix.size();
    if (n >= 2 && prefix[n - 2] == "~") skipped = true;                          // destructor
    if (n >= 3 && prefix[n - 2] == ":" && prefix[n - 3] == ":") skipped = true;  // Foo::bar
    if (scope.kind == Scope::kClass && name == scope.name) skipped = true;       // constructor
    size_t type_tokens = 0;
    for (size_t i = 0; i + 1 < n; ++i)
      if (!kSpecifiers.count(prefix[i])) ++type_tokens;
    if (type_tokens == 0 && !skipped) return not_a_function();  // a macro call: FOO(x);
    for (size_t i = 0; i < after.size(); ++i) {
      if (after[i] == "override" || after[i] == "final") skipped = true;
      if (after[i] == "=" && i + 1 < after.size() &&
          (after[i + 1] == "default" || after[i + 1] == "delete"))
        skipped = true;
    }
    if (defined && stmt_start_ == end && (params.empty() || params == "void")) {
      // A one-line getter: `T name() const { return expr; }`.
      size_t body = stmt_.find('{', stmt_.find(')'));
      std::string inner = body == std::string::npos ? "" : trim(stmt_.substr(body + 1));
      inner = trim(
          inner.substr(0, inner.rfind('}') == std::string::npos ? inner.size() : inner.rfind('}')));
      if (inner.rfind("return", 0) == 0 && inner.find(';') == inner.size() - 1) skipped = true;
    }
    bool documented = commented(stmt_start_) ||
                      (scope.last_decl_end == stmt_start_ - 1 && scope.last_decl_documented);
    scope.last_decl_end = end;
    scope.last_decl_documented = documented;
    if (!skipped && visible()) findings_.push_back({stmt_start_ + 1, name, documented});
  }

  bool commented(int line) const {
    return (line > 0 && comment_line_[line - 1]) || trailing_comment_[line];
  }

  void record(const std::string& name, int line, bool) {
    findings_.push_back({line + 1, name, commented(line)});
  }

  std::vector<std::string> raw_, code_;
  std::vector<bool> comment_line_, trailing_comment_;
  std::vector<Scope> scopes_;
  std::vector<Finding> findings_;
  std::string stmt_;
  int stmt_start_ = -1;
  int depth_ = 0;
  int skip_ = 0;
  bool init_list_ = false;
  bool pending_enum_ = false;
  bool body_is_function_ = false;
  int body_start_ = -1;
};

std::vector<std::filesystem::path> public_headers() {
  std::vector<std::filesystem::path> headers;
  for (const char* folder : {"core", "ops", "nn", "nn/functional", "nn/attention", "nn/data",
                             "nn/data/datasets", "models"}) {
    for (const auto& entry : std::filesystem::directory_iterator(source_root() / folder))
      if (entry.path().extension() == ".h") headers.push_back(entry.path());
  }
  for (const auto& dir : std::filesystem::directory_iterator(source_root() / "models")) {
    if (!dir.is_directory()) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
      if (entry.path().extension() == ".h") headers.push_back(entry.path());
  }
  std::sort(headers.begin(), headers.end());
  return headers;
}

std::vector<std::string> undocumented(const std::string& text) {
  std::vector<std::string> out;
  for (const Finding& f : HeaderScanner(text).scan())
    if (!f.documented) out.push_back(std::to_string(f.line) + ": " + f.name);
  return out;
}

}  // namespace

TEST_CASE("header docs: the scanner applies the rule", "[docs]") {
  const std::string header = R"(#pragma once
namespace minidl {
// Documented.
Tensor documented(const Tensor& x);
Tensor documented(const Tensor& x, int dim);  // an overload: shares the comment above

Tensor bare(const Tensor& x);
template <typename T>
T bare_template(T x);
// Documented template.
template <typename T>
T good_template(T x);
Tensor trailing(int x);  // trailing comment
std::function<void(int)> callback;
int not_a_function = f(3);
MINIDL_MACRO(Thing);
struct Undocumented {
  Undocumented(int x) : x_{x}, y_(x) {}
  ~Undocumented();
  int x() const { return x_; }
  bool operator==(const Undocumented& o) const;
  Undocumented& operator+=(int v) { x_ += v; return *this; }
  void run() override;
  Undocumented& operator=(const Undocumented&) = default;
  void public_method(int a,
                     int b) {
    if (a) { b = 1; }
  }

 private:
  void private_method();
  int x_, y_;
};
// Documented class.
class Documented {
 public:
  // Setter.
  void set(int v) { v_ = v; }
  int v_ = 0;
  int get(int i) const { return i; }
};
namespace detail {
void hidden();
}  // namespace detail
enum class Mode { kA, kB };
void after_enum();
}  // namespace minidl
)";
  std::vector<std::string> expected = {"7: bare",           "8: bare_template", "17: Undocumented",
                                       "25: public_method", "40: get",          "46: after_enum"};
  CHECK(undocumented(header) == expected);
}

TEST_CASE("header docs: every public function in the headers has a comment", "[docs]") {
  std::vector<std::string> missing;
  size_t declarations = 0;
  for (const auto& path : public_headers()) {
    for (const Finding& f : HeaderScanner(read_text(path)).scan()) {
      ++declarations;
      const std::string file = std::filesystem::relative(path, source_root()).string();
      if (!f.documented) missing.push_back(file + ":" + std::to_string(f.line) + ": " + f.name);
    }
  }
  // The scanner sees the headers (a broken scanner that finds nothing would pass).
  CHECK(declarations > 1000);
  std::string list;
  for (const std::string& m : missing) list += "  " + m + "\n";
  INFO(missing.size() << " of " << declarations << " public declarations lack a comment:\n"
                      << list);
  CHECK(missing.empty());
}
