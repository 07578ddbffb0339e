// Word lists -> normalized, disjoint, sampled and stratified language-ID splits.
#include "models/data/langid_data.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "models/data/text_corpus.h"

namespace minidl::models {

const std::vector<WordListSource>& langid_sources() {
  static const std::vector<WordListSource> sources = {
      {"english", "american-english", "wamerican", false},
      {"german", "ngerman", "wngerman", false},
      {"french", "french", "wfrench", false},
      {"spanish", "spanish", "wspanish", false},
      {"italian", "italian", "witalian", false},
      {"portuguese", "portuguese", "wportuguese", false},
      {"dutch", "dutch", "wdutch", false},
      {"swedish", "swedish", "wswedish", true},
  };
  return sources;
}

std::vector<std::string> langid_languages() {
  std::vector<std::string> names;
  for (const WordListSource& s : langid_sources()) names.push_back(s.language);
  return names;
}

std::string normalize_langid_word(const std::string& word) {
  if (word.empty()) return "";
  const std::string lower = utf8_lower(word);
  // Every code point a letter: a-z, or a 2-byte sequence for U+00C0..U+024F except × and ÷.
  for (size_t i = 0; i < lower.size();) {
    const unsigned char c = static_cast<unsigned char>(lower[i]);
    if (c >= 'a' && c <= 'z') {
      ++i;
      continue;
    }
    if ((c >> 5) != 0x6 || i + 1 >= lower.size()) return "";
    const unsigned char c2 = static_cast<unsigned char>(lower[i + 1]);
    if ((c2 & 0xC0) != 0x80) return "";
    const uint32_t cp = ((c & 0x1Fu) << 6) | (c2 & 0x3Fu);
    if (cp < 0xC0 || cp > 0x24F || cp == 0xD7 || cp == 0xF7) return "";
    i += 2;
  }
  return lower;
}

std::vector<std::string> parse_word_list(const std::string& content, bool latin1) {
  const std::string text = latin1 ? latin1_to_utf8(content) : content;
  std::vector<std::string> words;
  std::unordered_set<std::string> seen;
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  words.reserve(lines);
  seen.reserve(lines);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    std::string word = normalize_langid_word(line);
    if (!word.empty() && seen.insert(word).second) words.push_back(std::move(word));
  }
  return words;
}

LangIdData make_langid_data(const std::vector<std::string>& languages,
                            const std::vector<std::vector<std::string>>& lists,
                            const LangIdOptions& options) {
  const char* who = "make_langid_data";
  MINIDL_CHECK(languages.size() == lists.size() && !lists.empty(), who,
               languages.size() << " language names for " << lists.size() << " word lists");
  MINIDL_CHECK(options.per_language > 0, who,
               "per_language must be positive, got " << options.per_language);
  const SplitSizes sizes =
      split_sizes(options.per_language, options.valid_fraction, options.test_fraction, who);
  // For each word: the label of the only list holding it (-1 if several lists do), and the
  // last list that counted it (to skip repeats within a list).
  struct Owner {
    int64_t label, counted_by;
  };
  size_t total = 0;
  for (const auto& list : lists) total += list.size();
  std::unordered_map<std::string, Owner> owner;
  owner.reserve(total);
  LangIdData data;
  data.languages = languages;
  for (size_t label = 0; label < lists.size(); ++label) {
    for (const std::string& w : lists[label]) {
      auto [it, inserted] = owner.emplace(w, Owner{static_cast<int64_t>(label), -1});
      if (!inserted && it->second.label != static_cast<int64_t>(label)) it->second.label = -1;
    }
  }
  for (const auto& [word, o] : owner) data.shared_words += o.label < 0;
  for (size_t label = 0; label < lists.size(); ++label) {
    // The words owned by this list, sorted: the sample depends on the words, not their order.
    std::vector<std::string> kept;
    int64_t unique = 0;
    for (const std::string& w : lists[label]) {
      Owner& o = owner.find(w)->second;
      if (o.counted_by == static_cast<int64_t>(label)) continue;
      o.counted_by = static_cast<int64_t>(label);
      ++unique;
      if (o.label >= 0) kept.push_back(w);
    }
    std::sort(kept.begin(), kept.end());
    data.list_sizes.push_back(unique);
    data.available.push_back(static_cast<int64_t>(kept.size()));
    MINIDL_CHECK(static_cast<int64_t>(kept.size()) >= options.per_language, who,
                 languages[label] << " has " << kept.size() << " words left after dropping the "
                                  << "ones shared with other lists; " << options.per_language
                                  << " are asked for");
    const std::vector<int64_t> perm =
        seeded_permutation(static_cast<int64_t>(kept.size()), options.seed * 1000003ULL + label);
    for (int64_t k = 0; k < options.per_language; ++k) {
      LangIdExample ex{kept[perm[k]], static_cast<int64_t>(label)};
      if (k < sizes.test) {
        data.test.push_back(std::move(ex));
      } else if (k < sizes.test + sizes.valid) {
        data.valid.push_back(std::move(ex));
      } else {
        data.train.push_back(std::move(ex));
      }
    }
  }
  uint64_t salt = 1;
  for (auto* split : {&data.train, &data.valid, &data.test}) {
    const std::vector<int64_t> perm = seeded_permutation(
        static_cast<int64_t>(split->size()), options.seed ^ (0x9E3779B97F4A7C15ULL * salt++));
    std::vector<LangIdExample> shuffled;
    shuffled.reserve(split->size());
    for (int64_t i : perm) shuffled.push_back(std::move((*split)[i]));
    *split = std::move(shuffled);
  }
  return data;
}

LangIdData load_langid(const LangIdOptions& options) {
  std::vector<std::string> languages;
  std::vector<std::vector<std::string>> lists;
  for (const WordListSource& source : langid_sources()) {
    const std::string path = (std::filesystem::path(options.dict_dir) / source.file).string();
    languages.push_back(source.language);
    lists.push_back(
        parse_word_list(read_text_file(path, "load_langid", source.package), source.latin1));
  }
  return make_langid_data(languages, lists, options);
}

}  // namespace minidl::models
