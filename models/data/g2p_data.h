// Grapheme-to-phoneme data: the CMU pronouncing dictionary as Debian's pocketsphinx-en-us
// installs it (/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict).
//
// Format: one pronunciation a line, "word PH1 PH2 ...", alternates as "word(2) ...",
// "word(3) ..." (an alternate may come before the word's first line). This version has no
// stress digits: 39 ARPAbet phonemes (AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L
// M N NG OW OY P R S SH T TH UH UW V W Y Z ZH). Lines are read as they are, except:
//  - words with a character other than a-z and the apostrophe ("a.", "ad-hoc", "a.m.") are
//    skipped (they are abbreviations and compounds whose spelling does not say how they sound);
//  - any stress digit (0-2) at the end of a phoneme is removed, so a dictionary that has them
//    (the upstream cmudict) gives the same inventory;
//  - blank lines and ";;;" comments are ignored; a pronunciation listed twice is kept once.
// All pronunciations of a word are grouped: a prediction is right if it matches any of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minidl::models {

// A word and its pronunciations (ARPAbet phonemes without stress digits).
struct G2PExample {
  std::string word;                                      // e.g. "tomato"
  std::vector<std::vector<std::string>> pronunciations;  // {{"T","AH","M","EY","T","OW"}, ...}
};

// The parsed dictionary and counts of what was read.
struct G2PDictionary {
  std::vector<G2PExample> words;      // sorted by word
  int64_t lines = 0;                  // pronunciation lines read (not blank, not comments)
  int64_t skipped_lines = 0;          // lines of skipped words
  std::vector<std::string> phonemes;  // the inventory, sorted
};

// The Debian path of the dictionary.
std::string default_cmudict_path();

// Parses dictionary text (the format above). Malformed lines (a word without phonemes, a bad
// "(n)" suffix) are errors naming the line number.
G2PDictionary parse_cmudict(const std::string& content);
// Reads and parses the dictionary file ("" = default_cmudict_path()); a missing file names the
// path and the package pocketsphinx-en-us.
G2PDictionary load_cmudict(const std::string& path = "");

// Disjoint word lists for training, validation and test.
struct G2PSplits {
  std::vector<G2PExample> train, valid, test;
};
// A seeded split by unique word: valid = round(n * valid_fraction), test = round(n *
// test_fraction), train the rest (90/5/5 by default). The words are ordered by the same
// permutation whatever the fractions, and the splits keep the dictionary's (sorted) order inside.
G2PSplits split_g2p(const std::vector<G2PExample>& words, uint64_t seed,
                    double valid_fraction = 0.05, double test_fraction = 0.05);

// The phonemes used by `words`, sorted.
std::vector<std::string> phoneme_inventory(const std::vector<G2PExample>& words);

}  // namespace minidl::models
