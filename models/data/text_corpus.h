// Text helpers shared by the data sets of the sequence models (UTF-8 code points, Latin-1
// conversion, seeded splits, reading files with an error that names the Debian package), and the
// English prose corpus of the character language models: the `fortunes` package.
//
// Fortunes: /usr/share/games/fortunes/<name> (strfile source files: entries separated by lines
// holding just "%"). Every regular file of that directory is read except the strfile indexes
// (*.dat), the *.u8 links and "ascii-art" (pictures, not prose); subdirectories (e.g. the
// "off" one of fortunes-off) are never entered. Each entry is cleaned: terminal overstriking
// (x BACKSPACE y, used for underlining/bold) keeps only what is printed last; '\r' and the other
// control characters except '\n' and '\t' are removed; trailing spaces of lines and leading/
// trailing empty lines are dropped; an entry that is not valid UTF-8 is read as Latin-1, one
// that was UTF-8-encoded twice or three times (a few lines of computers, law, linux, pets,
// wisdom: "donÃ¢Â€Â™t") is decoded back ("don’t"), and C1 controls (U+0080..U+009F) are dropped.
// Identical entries (the same fortune in two files) are kept once, so no entry is both in
// train and in test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/utf8.h"

namespace minidl::models {

// ---- UTF-8 --------------------------------------------------------------------------------

// utf8_chars, utf8_length, is_valid_utf8: core/utf8.h (the one decoder of the library).
using minidl::is_valid_utf8;
using minidl::utf8_chars;
using minidl::utf8_length;
// ISO-8859-1 bytes -> UTF-8 (every byte is the code point of the same value).
std::string latin1_to_utf8(const std::string& text);
// Lower case for ASCII and the Latin-1 / Latin Extended-A letters these languages use
// (À..Þ -> à..þ except ×; Ā..ž pairs; Ÿ -> ÿ); other code points are unchanged.
std::string utf8_lower(const std::string& text);

// ---- files and splits ---------------------------------------------------------------------

// The bytes of a file. A missing file is an error naming `who`, the path and the Debian
// package that installs it (if `package` is not empty).
std::string read_text_file(const std::string& path, const std::string& who,
                           const std::string& package);

// A permutation of 0..n-1, the same on every platform for a seed (Fisher-Yates driven by
// std::mt19937_64 directly, not by std::shuffle, whose draws are implementation-defined).
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

// How many of n items go to each split.
struct SplitSizes {
  int64_t train, valid, test;
};
// valid = round(n * valid_fraction), test = round(n * test_fraction), train = the rest.
SplitSizes split_sizes(int64_t n, double valid_fraction, double test_fraction, const char* who);

// ---- the fortunes corpus ------------------------------------------------------------------

// The cleaned entries of one strfile source text (see the top of this file).
std::vector<std::string> parse_fortunes(const std::string& content);

// Where the fortune files are, which to read, and the seeded split fractions.
struct FortuneOptions {
  std::string dir = "/usr/share/games/fortunes";
  // File names to read; empty = every file of `dir` (sorted by name) except the excluded ones.
  std::vector<std::string> files;
  std::vector<std::string> exclude = {"ascii-art"};
  uint64_t seed = 0;
  double valid_fraction = 0.05, test_fraction = 0.05;
};

// The entries of the fortune files, split.
struct TextCorpus {
  std::vector<std::string> files;               // the file names read, sorted
  std::vector<std::string> train, valid, test;  // entries, split by entry (seeded)
  int64_t duplicates = 0;                       // identical entries dropped
};

// Reads, cleans, deduplicates and splits the fortunes. An error names the directory and the
// packages (fortunes, fortunes-min) if it holds no fortune file.
TextCorpus load_fortunes(const FortuneOptions& options = {});

// The entries as one text, separated by `separator` (a blank line by default), e.g. for a
// character language model.
std::string join_entries(const std::vector<std::string>& entries,
                         const std::string& separator = "\n\n");

}  // namespace minidl::models
