// libFuzzer harness: text handling on arbitrary bytes -- the UTF-8 decoder (core/utf8.h), the
// vocabulary (nn/data.h: build, tokenize, encode, decode at both levels) and the text helpers of
// the data sets (models/data/text_corpus.h). Also checks the decoder's invariants.
#include "core/utf8.h"
#include "models/data/text_corpus.h"
#include "nn/data.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> chars = minidl::utf8_chars(text);
  std::string joined;
  for (const std::string& c : chars) joined += c;
  if (joined != text || minidl::utf8_decode(text).size() != chars.size() ||
      static_cast<size_t>(minidl::utf8_length(text)) != chars.size())
    __builtin_trap();  // the three views of the text must agree
  if (minidl::is_valid_utf8(text)) {
    std::string encoded;
    for (char32_t cp : minidl::utf8_decode(text)) minidl::utf8_append(encoded, cp);
    if (encoded != text) __builtin_trap();  // decoding then encoding valid text is lossless
  }
  minidl::models::utf8_lower(text);
  minidl::models::latin1_to_utf8(text);
  for (auto level : {minidl::nn::Vocab::Level::Character, minidl::nn::Vocab::Level::Word}) {
    minidl::fuzz::expect_success_or_error([&] {
      minidl::nn::Vocab vocab = minidl::nn::Vocab::build({text}, level);
      const std::vector<int64_t> ids = vocab.encode(text, true, true);
      vocab.decode(ids, true);
      vocab.decode(ids, false);
    });
  }
  return 0;
}
