#include "core/utf8.h"

namespace minidl {

namespace {

// The code point of the well-formed sequence of `length` bytes at text[i].
char32_t decode_sequence(const std::string& text, size_t i, size_t length) {
  const auto lead = static_cast<unsigned char>(text[i]);
  char32_t cp = length == 1   ? lead
                : length == 2 ? lead & 0x1F
                : length == 3 ? lead & 0x0F
                              : lead & 0x07;
  for (size_t k = 1; k < length; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
  return cp;
}

}  // namespace

size_t utf8_sequence_length(const std::string& text, size_t i) {
  if (i >= text.size()) return 0;
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return 1;
  const size_t length = (lead >> 5) == 0x6    ? 2
                        : (lead >> 4) == 0xE  ? 3
                        : (lead >> 3) == 0x1E ? 4
                                              : 0;
  if (length == 0 || length > text.size() - i) return 0;
  for (size_t k = 1; k < length; ++k)
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  const char32_t cp = decode_sequence(text, i, length);
  const char32_t shortest[5] = {0, 0, 0x80, 0x800, 0x10000};  // smaller is an overlong form
  if (cp < shortest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

char32_t utf8_code_point(const std::string& text, size_t i) {
  const size_t length = utf8_sequence_length(text, i);
  return length == 0 ? char32_t{0xFFFD} : decode_sequence(text, i, length);
}

std::vector<std::string> utf8_chars(const std::string& text) {
  std::vector<std::string> chars;
  for (size_t i = 0; i < text.size();) {
    const size_t length = std::max<size_t>(1, utf8_sequence_length(text, i));
    chars.push_back(text.substr(i, length));
    i += length;
  }
  return chars;
}

int64_t utf8_length(const std::string& text) {
  int64_t n = 0;
  for (size_t i = 0; i < text.size(); ++n) i += std::max<size_t>(1, utf8_sequence_length(text, i));
  return n;
}

bool is_valid_utf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    const size_t length = utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::u32string utf8_decode(const std::string& text) {
  std::u32string out;
  for (size_t i = 0; i < text.size();) {
    const size_t length = utf8_sequence_length(text, i);
    out.push_back(length == 0 ? char32_t{0xFFFD} : decode_sequence(text, i, length));
    i += std::max<size_t>(1, length);
  }
  return out;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace minidl
