// UTF-8, decoded one way everywhere: the character-level vocabulary (nn/data.h), the text data
// sets (models/data/text_corpus.h) and the plot labels (models/common/plot.h) all split and
// decode text through these functions, so the same bytes give the same characters in all three.
//
// A well-formed sequence is 1 to 4 bytes with no overlong form, no surrogate (U+D800..U+DFFF)
// and no value past U+10FFFF. Any byte that does not start one is a character by itself: kept as
// that single byte by utf8_chars, decoded to U+FFFD by utf8_decode (one per byte, so both count
// the same characters).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace minidl {

// Length of the well-formed sequence starting at text[i] (1 to 4), or 0 if there is none.
size_t utf8_sequence_length(const std::string& text, size_t i);

// The code point of the sequence starting at text[i], or U+FFFD if none starts there.
char32_t utf8_code_point(const std::string& text, size_t i);

// The code points of `text`, each as its UTF-8 bytes ("é" is one token, not two bytes); a
// malformed byte is a token by itself.
std::vector<std::string> utf8_chars(const std::string& text);
// Number of characters, as utf8_chars counts them.
int64_t utf8_length(const std::string& text);
// True if `text` is well-formed UTF-8 throughout.
bool is_valid_utf8(const std::string& text);
// The code points of `text`; each malformed byte becomes U+FFFD.
std::u32string utf8_decode(const std::string& text);
// Appends code point `cp` (at most U+10FFFF) encoded as UTF-8.
void utf8_append(std::string& out, char32_t cp);

}  // namespace minidl
