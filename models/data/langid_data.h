// Language identification of single words: the Debian word lists wamerican, wngerman, wfrench,
// wspanish, witalian, wportuguese, wdutch and wswedish (files under /usr/share/dict).
//
// All lists are UTF-8 except swedish (ISO-8859-1), which is converted. Each word is
//  1. lower-cased (ASCII and Latin letters; the lists disagree on capitals: French and Spanish
//     have none, German capitalizes every noun, so case would give the language away);
//  2. kept only if every code point is a letter (a-z, U+00C0..U+024F except × and ÷): this drops
//     English possessives ("dog's"), Italian/French elisions ("all'ossigeno", "entr'aimâtes"),
//     Dutch and French hyphenated compounds, abbreviations and entries with digits or spaces;
//  3. deduplicated within its list;
// and a word (after steps 1-2, exact string match) that is in more than one list is dropped
// from all of them. Then `per_language` words are sampled from each list (seeded) and each
// language's sample is split 80/10/10 (stratified: every split has the same number of words of
// every language); each split is then shuffled (seeded), so labels come mixed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minidl::models {

// A word and its language label.
struct LangIdExample {
  std::string word;  // UTF-8, lower case
  int64_t label;     // index into the language names
};

// Where one language's word list comes from.
struct WordListSource {
  std::string language;  // "english"
  std::string file;      // file name under the dictionary directory, "american-english"
  std::string package;   // Debian package, "wamerican"
  bool latin1;           // ISO-8859-1 (converted to UTF-8) rather than UTF-8
};

// The eight lists, in label order: english, german, french, spanish, italian, portuguese,
// dutch, swedish.
const std::vector<WordListSource>& langid_sources();
std::vector<std::string> langid_languages();

// Steps 1-2 above: the normalized word, or "" if the word is dropped.
std::string normalize_langid_word(const std::string& word);
// The normalized, deduplicated words of one list's text (one word a line), in first-seen order.
std::vector<std::string> parse_word_list(const std::string& content, bool latin1);

// The dictionary directory, words per language and the seeded split fractions.
struct LangIdOptions {
  std::string dict_dir = "/usr/share/dict";
  int64_t per_language = 20000;
  uint64_t seed = 0;
  double valid_fraction = 0.1, test_fraction = 0.1;
};

// The split examples and counts of what was read.
struct LangIdData {
  std::vector<std::string> languages;  // label -> name
  std::vector<LangIdExample> train, valid, test;
  std::vector<int64_t> list_sizes;  // per language: normalized unique words of the list
  std::vector<int64_t> available;   // per language: words left after dropping shared ones
  int64_t shared_words = 0;         // distinct words found in more than one list
};

// Builds the data set from word lists already read: lists[label] holds that language's words
// (normalized and deduplicated, e.g. by parse_word_list). An error names the language if it has
// fewer than per_language words left.
LangIdData make_langid_data(const std::vector<std::string>& languages,
                            const std::vector<std::vector<std::string>>& lists,
                            const LangIdOptions& options);
// Reads the eight Debian lists from options.dict_dir; a missing file names the path and package.
LangIdData load_langid(const LangIdOptions& options = {});

}  // namespace minidl::models
