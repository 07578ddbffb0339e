// Text helpers (UTF-8, Latin-1, files, seeded splits) and the fortunes prose corpus.
#include "models/data/text_corpus.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "core/utf8.h"

namespace minidl::models {

namespace {

uint32_t lower_code_point(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp == 0x178) return 0xFF;  // Ÿ -> ÿ
  // Latin Extended-A: upper case at even code points in U+0100..U+012F and U+0132..U+0137 and
  // U+014A..U+0177, at odd ones in U+0139..U+0148 and U+0179..U+017E (U+0130 İ, U+0131 ı and
  // U+0138 ĸ have no simple pair).
  if (((cp >= 0x100 && cp <= 0x12F) || (cp >= 0x132 && cp <= 0x137) ||
       (cp >= 0x14A && cp <= 0x177)) &&
      cp % 2 == 0)
    return cp + 1;
  if (((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) && cp % 2 == 1) return cp + 1;
  return cp;
}

// Removes overstriking and control characters from one line (see the header).
std::string clean_line(const std::string& line) {
  std::string out;
  for (char c : line) {
    if (c == '\b') {
      // Drop the last code point written (all its continuation bytes and its lead byte).
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
        out.pop_back();
      if (!out.empty()) out.pop_back();
    } else if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
      continue;  // '\r', form feeds, escapes, ...
    } else if (c == 0x7F) {
      continue;
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  return out;
}

// Text that was UTF-8 encoded twice or three times (UTF-8 bytes read as Latin-1 and encoded
// again, e.g. "donÃ¢Â€Â™t"): every run of code points U+0080..U+00FF whose values, taken as
// bytes, form valid UTF-8 is replaced by that decoding, until nothing changes.
std::string repair_double_encoding(std::string text) {
  for (int round = 0; round < 4; ++round) {
    std::string out;
    bool changed = false;
    size_t i = 0;
    while (i < text.size()) {
      // A run of 2-byte sequences encoding U+0080..U+00FF.
      std::string bytes;
      size_t j = i;
      while (j + 1 < text.size() && utf8_sequence_length(text, j) == 2) {
        const uint32_t cp = utf8_code_point(text, j);
        if (cp < 0x80 || cp > 0xFF) break;
        bytes.push_back(static_cast<char>(cp));
        j += 2;
      }
      if (!bytes.empty() && is_valid_utf8(bytes)) {
        out += bytes;
        changed = true;
        i = j;
      } else if (!bytes.empty()) {
        out.append(text, i, j - i);
        i = j;
      } else {
        out.push_back(text[i++]);
      }
    }
    text = std::move(out);
    if (!changed) break;
  }
  return text;
}

}  // namespace

std::string latin1_to_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) utf8_append(out, static_cast<unsigned char>(c));
  return out;
}

std::string utf8_lower(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t length = utf8_sequence_length(text, i);
    if (length == 0) {  // malformed byte: kept as it is
      out.push_back(text[i++]);
      continue;
    }
    utf8_append(out, lower_code_point(utf8_code_point(text, i)));
    i += length;
  }
  return out;
}

std::string read_text_file(const std::string& path, const std::string& who,
                           const std::string& package) {
  std::ifstream in(path, std::ios::binary);
  MINIDL_CHECK(in.good(), who,
               "cannot open '" << path << "'"
                               << (package.empty() ? std::string()
                                                   : " (install the Debian package " + package +
                                                         ", or pass another path)"));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  MINIDL_CHECK(n >= 0, "seeded_permutation", "negative size " << n);
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  std::mt19937_64 rng(seed);
  // Fisher-Yates; the modulo bias of a 64-bit draw is negligible for any n that fits in memory.
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

SplitSizes split_sizes(int64_t n, double valid_fraction, double test_fraction, const char* who) {
  MINIDL_CHECK(n >= 0, who, "negative number of items " << n);
  MINIDL_CHECK(valid_fraction >= 0 && test_fraction >= 0 && valid_fraction + test_fraction <= 1,
               who,
               "split fractions must be >= 0 and sum to at most 1, got valid "
                   << valid_fraction << " and test " << test_fraction);
  SplitSizes sizes;
  sizes.valid = std::llround(static_cast<double>(n) * valid_fraction);
  sizes.test = std::llround(static_cast<double>(n) * test_fraction);
  if (sizes.valid + sizes.test > n) sizes.test = n - sizes.valid;
  sizes.train = n - sizes.valid - sizes.test;
  return sizes;
}

std::vector<std::string> parse_fortunes(const std::string& content) {
  std::vector<std::string> entries;
  std::vector<std::string> lines;
  auto flush = [&]() {
    size_t begin = 0, end = lines.size();
    while (begin < end && lines[begin].empty()) ++begin;
    while (end > begin && lines[end - 1].empty()) --end;
    if (begin < end) {
      std::string entry;
      for (size_t k = begin; k < end; ++k) {
        if (k > begin) entry += '\n';
        entry += lines[k];
      }
      entry = is_valid_utf8(entry) ? repair_double_encoding(entry) : latin1_to_utf8(entry);
      // C1 control characters (U+0080..U+009F) left by broken encodings are dropped.
      std::string kept;
      for (const std::string& ch : utf8_chars(entry)) {
        const bool c1 = ch.size() == 2 && static_cast<unsigned char>(ch[0]) == 0xC2 &&
                        static_cast<unsigned char>(ch[1]) < 0xA0;
        if (!c1) kept += ch;
      }
      entry = std::move(kept);
      entries.push_back(std::move(entry));
    }
    lines.clear();
  };
  size_t start = 0;
  while (start < content.size()) {
    size_t newline = content.find('\n', start);
    if (newline == std::string::npos) newline = content.size();
    std::string line = content.substr(start, newline - start);
    start = newline + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "%") {
      flush();
    } else {
      lines.push_back(clean_line(line));
    }
  }
  flush();
  return entries;
}

TextCorpus load_fortunes(const FortuneOptions& options) {
  namespace fs = std::filesystem;
  const char* who = "load_fortunes";
  std::error_code ec;
  MINIDL_CHECK(fs::is_directory(options.dir, ec), who,
               "no directory '" << options.dir
                                << "' (install the Debian packages fortunes and fortunes-min, "
                                   "or pass another directory)");
  TextCorpus corpus;
  if (options.files.empty()) {
    for (const fs::directory_entry& entry : fs::directory_iterator(options.dir)) {
      if (!entry.is_regular_file()) continue;  // skips subdirectories such as off/
      const std::string name = entry.path().filename().string();
      const std::string ext = entry.path().extension().string();
      if (ext == ".dat" || ext == ".u8" || name.empty() || name[0] == '.') continue;
      if (std::find(options.exclude.begin(), options.exclude.end(), name) != options.exclude.end())
        continue;
      corpus.files.push_back(name);
    }
  } else {
    corpus.files = options.files;
  }
  std::sort(corpus.files.begin(), corpus.files.end());
  MINIDL_CHECK(!corpus.files.empty(), who,
               "no fortune file in '" << options.dir
                                      << "' (install the Debian packages fortunes and "
                                         "fortunes-min)");

  std::vector<std::string> entries;
  std::unordered_set<std::string> seen;
  for (const std::string& name : corpus.files) {
    const std::string path = (fs::path(options.dir) / name).string();
    for (std::string& entry : parse_fortunes(read_text_file(path, who, "fortunes"))) {
      if (seen.insert(entry).second) {
        entries.push_back(std::move(entry));
      } else {
        ++corpus.duplicates;
      }
    }
  }
  const SplitSizes sizes = split_sizes(static_cast<int64_t>(entries.size()), options.valid_fraction,
                                       options.test_fraction, who);
  const std::vector<int64_t> perm =
      seeded_permutation(static_cast<int64_t>(entries.size()), options.seed);
  for (int64_t k = 0; k < static_cast<int64_t>(perm.size()); ++k) {
    std::string& entry = entries[perm[k]];
    if (k < sizes.test) {
      corpus.test.push_back(std::move(entry));
    } else if (k < sizes.test + sizes.valid) {
      corpus.valid.push_back(std::move(entry));
    } else {
      corpus.train.push_back(std::move(entry));
    }
  }
  return corpus;
}

std::string join_entries(const std::vector<std::string>& entries, const std::string& separator) {
  std::string text;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) text += separator;
    text += entries[i];
  }
  return text;
}

}  // namespace minidl::models
