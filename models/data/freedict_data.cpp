// dictd index/dictzip reading and German -> English pair extraction from FreeDict deu-eng.
#include "models/data/freedict_data.h"

#include <zlib.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "models/data/text_corpus.h"

namespace minidl::models {

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    if (end == text.size()) break;
    start = end + 1;
  }
  return lines;
}

// Removes <...>, [...] and {...} groups and collapses whitespace.
std::string clean(const std::string& text) {
  std::string out;
  int depth = 0;
  for (char c : text) {
    if (c == '<' || c == '[' || c == '{') {
      ++depth;
    } else if ((c == '>' || c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out.push_back(c == '\t' ? ' ' : c);
    }
  }
  std::string collapsed;
  for (char c : out) {
    if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
    if (c == ',' && !collapsed.empty() && collapsed.back() == ' ')
      collapsed.pop_back();  // "x <n>,"
    collapsed.push_back(c);
  }
  while (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
  return collapsed;
}

// Splits at ", " outside parentheses.
std::vector<std::string> split_alternatives(const std::string& text) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '(') ++depth;
    if (c == ')' && depth > 0) --depth;
    if (c == ',' && depth == 0 && i + 1 < text.size() && text[i + 1] == ' ') {
      parts.push_back(current);
      current.clear();
      ++i;
      continue;
    }
    current.push_back(c);
  }
  parts.push_back(current);
  return parts;
}

int64_t word_count(const std::string& text) {
  std::istringstream in(text);
  int64_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

bool is_sentence(const std::string& german) {
  return !german.empty() && (german.back() == '.' || german.back() == '!' || german.back() == '?');
}

// Removes pronunciations "/.../" holding a non-ASCII (IPA) character, e.g. "NIOSH /nˈɪoːʃ/".
std::string drop_ipa(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('/', i);
    if (open == std::string::npos) break;
    const size_t close = text.find('/', open + 1);
    if (close == std::string::npos) break;
    bool ipa = false;
    for (size_t k = open + 1; k < close; ++k)
      ipa = ipa || static_cast<unsigned char>(text[k]) >= 0x80;
    if (ipa) {
      out.append(text, i, open - i);
      i = close + 1;
    } else {
      out.append(text, i, open + 1 - i);
      i = open + 1;
    }
  }
  out.append(text, std::min(i, text.size()), std::string::npos);
  return out;
}

// English alternatives of a translation text, cleaned.
std::vector<std::string> english_side(const std::string& german, const std::string& text) {
  std::vector<std::string> out;
  const std::string cleaned = clean(drop_ipa(text));
  for (std::string alt :
       is_sentence(german) ? std::vector<std::string>{cleaned} : split_alternatives(cleaned)) {
    alt = clean(alt);
    if (!alt.empty() && std::find(out.begin(), out.end(), alt) == out.end())
      out.push_back(std::move(alt));
  }
  return out;
}

bool fits(const TranslationPair& p, const FreeDictOptions& options) {
  if (p.german.empty() || p.english.empty()) return false;
  if (options.max_words <= 0) return true;
  if (word_count(p.german) > options.max_words) return false;
  for (const std::string& e : p.english)
    if (word_count(e) > options.max_words) return false;
  return true;
}

// The headword of a first line "headword /IPA/ <grammar>" (both parts optional; the IPA starts
// right after " /", while a German " / " between alternatives has spaces on both sides).
std::string headword_of(std::string line) {
  for (size_t at = line.find(" /"); at != std::string::npos; at = line.find(" /", at + 1)) {
    if (at + 2 < line.size() && line[at + 2] != ' ' &&
        line.find('/', at + 2) != std::string::npos) {
      line.erase(at);
      break;
    }
  }
  return clean(line);
}

void parse_entry(const std::string& entry, const FreeDictOptions& options,
                 std::vector<TranslationPair>* examples, std::vector<TranslationPair>* headwords) {
  const std::vector<std::string> lines = split_lines(entry);
  if (lines.empty() || lines[0].empty() || lines[0][0] == ' ') return;
  const std::string german = headword_of(lines[0]);
  std::string translations;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty()) continue;
    if (line[0] != ' ' || line.compare(0, 2, " [") == 0) {  // a translation line
      if (!translations.empty()) translations += ", ";
      translations += line;
      continue;
    }
    const size_t first = line.find_first_not_of(' ');
    if (options.examples && first != std::string::npos && line[first] == '"') {
      const size_t close = line.find("\"  - ", first + 1);
      if (close == std::string::npos) continue;
      TranslationPair pair;
      pair.german = clean(line.substr(first + 1, close - first - 1));
      pair.english = english_side(pair.german, line.substr(close + 5));
      if (fits(pair, options)) examples->push_back(std::move(pair));
    }
  }
  if (options.headwords && word_count(german) >= options.min_german_words) {
    TranslationPair pair{german, english_side(german, translations)};
    if (fits(pair, options)) headwords->push_back(std::move(pair));
  }
}

}  // namespace

int64_t decode_dictd_number(const std::string& digits) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  MINIDL_CHECK(!digits.empty() && digits.size() <= 10, "decode_dictd_number",
               "expected 1 to 10 base-64 digits, got '" << digits << "'");
  int64_t value = 0;
  for (char c : digits) {
    const size_t d = alphabet.find(c);
    MINIDL_CHECK(d != std::string::npos, "decode_dictd_number",
                 "'" << c << "' is not a base-64 digit (in '" << digits << "')");
    value = value * 64 + static_cast<int64_t>(d);
  }
  return value;
}

std::vector<DictdIndexEntry> parse_dictd_index(const std::string& content) {
  std::vector<DictdIndexEntry> entries;
  int64_t number = 0;
  for (const std::string& line : split_lines(content)) {
    ++number;
    if (line.empty()) continue;
    const size_t tab1 = line.find('\t');
    const size_t tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
    MINIDL_CHECK(
        tab2 != std::string::npos, "parse_dictd_index",
        "line " << number << ": expected 'headword<TAB>offset<TAB>length', got '" << line << "'");
    std::string length = line.substr(tab2 + 1);
    const size_t tab3 = length.find('\t');  // dictd allows an extra column
    if (tab3 != std::string::npos) length.erase(tab3);
    entries.push_back({line.substr(0, tab1),
                       decode_dictd_number(line.substr(tab1 + 1, tab2 - tab1 - 1)),
                       decode_dictd_number(length)});
  }
  return entries;
}

std::string read_gzip_file(const std::string& path, const std::string& who,
                           const std::string& package) {
  gzFile file = gzopen(path.c_str(), "rb");
  MINIDL_CHECK(file != nullptr, who,
               "cannot open '" << path << "'"
                               << (package.empty() ? std::string()
                                                   : " (install the Debian package " + package +
                                                         ", or pass another path)"));
  std::string data;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const int n = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()));
    if (n < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      MINIDL_FAIL(who, "cannot decompress '" << path << "': " << message);
    }
    if (n == 0) break;
    data.append(buffer.data(), static_cast<size_t>(n));
  }
  gzclose(file);
  return data;
}

std::vector<TranslationPair> parse_freedict_entry(const std::string& entry,
                                                  const FreeDictOptions& options) {
  std::vector<TranslationPair> examples, headwords;
  parse_entry(entry, options, &examples, &headwords);
  examples.insert(examples.end(), headwords.begin(), headwords.end());
  return examples;
}

FreeDictData make_freedict_data(const std::vector<TranslationPair>& pairs,
                                const FreeDictOptions& options) {
  std::map<std::string, std::vector<std::string>> merged;
  for (const TranslationPair& p : pairs) {
    auto& english = merged[p.german];
    for (const std::string& e : p.english)
      if (std::find(english.begin(), english.end(), e) == english.end()) english.push_back(e);
  }
  std::vector<TranslationPair> all;
  all.reserve(merged.size());
  for (auto& [german, english] : merged)
    if (!english.empty()) all.push_back({german, std::move(english)});
  const int64_t n = static_cast<int64_t>(all.size());
  const SplitSizes sizes =
      split_sizes(n, options.valid_fraction, options.test_fraction, "make_freedict_data");
  const std::vector<int64_t> perm = seeded_permutation(n, options.seed);
  std::vector<int> part(static_cast<size_t>(n), 0);
  for (int64_t k = 0; k < sizes.test + sizes.valid; ++k) part[perm[k]] = k < sizes.test ? 2 : 1;
  FreeDictData data;
  for (int64_t i = 0; i < n; ++i)
    (part[i] == 0 ? data.train : part[i] == 1 ? data.valid : data.test).push_back(all[i]);
  return data;
}

FreeDictData load_freedict(const FreeDictOptions& options) {
  const char* who = "load_freedict";
  const char* package = "dict-freedict-deu-eng";
  std::string index_path = options.index_path;
  if (index_path.empty()) {
    index_path = options.dict_path;
    for (const std::string suffix : {".dict.dz", ".dict"}) {
      if (index_path.size() > suffix.size() &&
          index_path.compare(index_path.size() - suffix.size(), suffix.size(), suffix) == 0) {
        index_path.erase(index_path.size() - suffix.size());
        break;
      }
    }
    index_path += ".index";
  }
  const std::vector<DictdIndexEntry> index =
      parse_dictd_index(read_text_file(index_path, who, package));
  const std::string text = read_gzip_file(options.dict_path, who, package);
  std::vector<TranslationPair> examples, headwords;
  std::unordered_set<int64_t> seen;  // several headwords may point at one entry
  int64_t entries = 0;
  for (const DictdIndexEntry& e : index) {
    if (!seen.insert(e.offset).second) continue;
    MINIDL_CHECK(
        e.offset >= 0 && e.length >= 0 && e.offset + e.length <= static_cast<int64_t>(text.size()),
        who,
        "index entry '" << e.headword << "' points at bytes [" << e.offset << ", "
                        << e.offset + e.length << ") of a " << text.size() << "-byte dictionary");
    const std::string entry =
        text.substr(static_cast<size_t>(e.offset), static_cast<size_t>(e.length));
    if (entry.rfind("00-database", 0) == 0 || entry.rfind("00database", 0) == 0) continue;
    ++entries;
    parse_entry(entry, options, &examples, &headwords);
  }
  std::vector<TranslationPair> pairs = examples;
  pairs.insert(pairs.end(), headwords.begin(), headwords.end());
  FreeDictData data = make_freedict_data(pairs, options);
  data.entries = entries;
  data.example_pairs = static_cast<int64_t>(examples.size());
  data.headword_pairs = static_cast<int64_t>(headwords.size());
  return data;
}

}  // namespace minidl::models
