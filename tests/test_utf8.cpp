// core/utf8: the one UTF-8 decoder, and the three users that must split text the same way --
// the character vocabulary (nn/data.h), the text data sets (models/data/text_corpus.h) and the
// plot labels (models/common/plot.h).
#include "core/utf8.h"
#include "models/common/plot.h"
#include "models/data/text_corpus.h"
#include "tests/test_util.h"

using namespace minidl;

TEST_CASE("utf8: well-formed sequences decode, each malformed byte is one character", "[utf8]") {
  CHECK(utf8_sequence_length("a", 0) == 1);
  CHECK(utf8_sequence_length("\xC3\xA9", 0) == 2);
  CHECK(utf8_sequence_length("\xE2\x96\x88", 0) == 3);
  CHECK(utf8_sequence_length("\xF0\x9F\x98\x80", 0) == 4);
  CHECK(utf8_sequence_length("\xC0\xAF", 0) == 0);          // overlong '/'
  CHECK(utf8_sequence_length("\xE0\x80\xAF", 0) == 0);      // overlong, 3 bytes
  CHECK(utf8_sequence_length("\xED\xA0\x80", 0) == 0);      // surrogate U+D800
  CHECK(utf8_sequence_length("\xF4\x90\x80\x80", 0) == 0);  // past U+10FFFF
  CHECK(utf8_sequence_length("\xE2\x96", 0) == 0);          // truncated
  CHECK(utf8_sequence_length("\x80", 0) == 0);              // stray continuation byte
  CHECK(utf8_sequence_length("ab", 5) == 0);                // past the end: no sequence
  CHECK(utf8_decode("a\xC3\xA9\xF0\x9F\x98\x80") == std::u32string{U'a', 0xE9, 0x1F600});
  CHECK(utf8_decode("\xC0\xAF") == std::u32string{0xFFFD, 0xFFFD});
  std::string encoded;
  for (char32_t cp : {char32_t{0x41}, char32_t{0xE9}, char32_t{0x2588}, char32_t{0x1F600}})
    utf8_append(encoded, cp);
  CHECK(encoded == "A\xC3\xA9\xE2\x96\x88\xF0\x9F\x98\x80");
  CHECK(utf8_decode(encoded).size() == 4);
}

TEST_CASE("utf8: the vocabulary, the data sets and the plots split invalid input alike", "[utf8]") {
  // Each of these used to be split differently by at least two of the three decoders (the
  // vocabulary took an overlong or surrogate sequence as one character; the plot labels read a
  // truncated sequence at the end as one U+FFFD).
  const std::vector<std::string> inputs = {
      "caf\xC3\xA9", "\xC0\xAF/",    "x\xED\xA0\x80y",    "\xF4\x90\x80\x80",
      "end\xE2\x96", "\x80\x80\xC3", "\xF0\x9F\x98\x80!", ""};
  for (const std::string& text : inputs) {
    INFO("input of " << text.size() << " bytes");
    const std::vector<std::string> chars = utf8_chars(text);
    nn::Vocab vocab = nn::Vocab::build({text}, nn::Vocab::Level::Character);
    CHECK(vocab.tokenize(text) == chars);
    CHECK(static_cast<int64_t>(chars.size()) == utf8_length(text));
    CHECK(utf8_decode(text).size() == chars.size());
    CHECK(models::text_width(text, 1) == static_cast<int>(chars.size()) * models::kGlyphAdvance);
    std::string joined;
    for (const std::string& c : chars) joined += c;
    CHECK(joined == text);  // nothing lost or reordered
  }
}
