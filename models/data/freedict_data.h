// German -> English phrase pairs from Debian's dict-freedict-deu-eng (the Ding dictionary in
// dictd format: /usr/share/dictd/freedict-deu-eng.index + .dict.dz; the .dz file is
// dictzip = gzip-compatible, read with zlib).
//
// The index gives each entry's byte range (base-64 offset and length) in the uncompressed text.
// An entry looks like
//   Abdeckplatte aus Beton /ˈapdɛkplˌatə ˌaʊs bətˈoːn/ <masc, n, sg>     <- headword /IPA/ <gram>
//    [constr.] concrete coping slab <n>, coping slab <n>                  <- translations
//         "die Abdeckplatte anbringen"  - fit the coping slab             <- examples
//      see: {...}   /   Synonyms: {...}   /   Note: ...                   <- ignored
// Two kinds of pairs are extracted:
//  - examples: the quoted German phrase and its English translation (usually several words,
//    often whole sentences);
//  - headwords of at least `min_german_words` words with the entry's translations.
// Cleaning: annotations in <...>, [...] and {...} and pronunciations /.../ (IPA) are removed,
// whitespace is collapsed. The
// English side is split into alternatives at top-level ", " (not inside parentheses), except
// when the German phrase is a sentence (ends with . ! or ?), whose translation is kept whole.
// Pairs with the same German phrase are merged: their English alternatives (deduplicated, in
// the order met) are the BLEU references, the first one the training target. The pairs are
// sorted by German phrase, then split by German phrase (seeded, 90/5/5 by default), so no
// German phrase is in two splits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minidl::models {

// A German phrase and its English translations.
struct TranslationPair {
  std::string german;
  std::vector<std::string> english;  // english[0]: the target; all: references
};

// dictd's base-64 numbers ("B0" = 1 * 64 + 52 = 116): alphabet A-Z a-z 0-9 + /, most
// significant digit first.
int64_t decode_dictd_number(const std::string& digits);

// One line of a dictd .index file: the headword and where its entry lies in the .dict file.
struct DictdIndexEntry {
  std::string headword;
  int64_t offset, length;
};
// The lines "headword \t offset \t length" of a dictd .index file.
std::vector<DictdIndexEntry> parse_dictd_index(const std::string& content);

// A whole file through zlib (gzip, dictzip or plain bytes); a missing file names the path and
// the package.
std::string read_gzip_file(const std::string& path, const std::string& who,
                           const std::string& package);

// Where the dictionary is, which pairs to extract, and the seeded split fractions.
struct FreeDictOptions {
  std::string dict_path = "/usr/share/dictd/freedict-deu-eng.dict.dz";
  std::string index_path;        // "" = dict_path with ".dict.dz" (or ".dict") replaced by ".index"
  bool examples = true;          // extract the quoted examples
  bool headwords = true;         // extract multi-word headwords
  int64_t min_german_words = 2;  // for headwords
  int64_t max_words = 0;         // drop pairs with a side longer than this (0 = no limit)
  uint64_t seed = 0;
  double valid_fraction = 0.05, test_fraction = 0.05;
};

// The pairs of one entry's text (see the top of this file), before merging.
std::vector<TranslationPair> parse_freedict_entry(const std::string& entry,
                                                  const FreeDictOptions& options = {});

// The split pairs and counts of what was read.
struct FreeDictData {
  std::vector<TranslationPair> train, valid, test;
  int64_t entries = 0;         // dictionary entries read
  int64_t example_pairs = 0;   // pairs from examples (before merging)
  int64_t headword_pairs = 0;  // pairs from multi-word headwords (before merging)
};

// Merges, sorts and splits pairs (as load_freedict does after reading).
FreeDictData make_freedict_data(const std::vector<TranslationPair>& pairs,
                                const FreeDictOptions& options);
// Reads the dictionary and builds the splits.
FreeDictData load_freedict(const FreeDictOptions& options = {});

}  // namespace minidl::models
