// Text helpers (UTF-8 splitting, Latin-1, lower case, seeded splits) and the fortunes corpus:
// parsing and cleaning of strfile text, file selection, deduplication, splits, errors.
#include <filesystem>
#include <set>

#include "models/data/text_corpus.h"
#include "nn/data.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::TempDir;
using minidl::testing::write_bytes;

TEST_CASE("utf8_chars splits code points, like nn::Vocab's character level", "[datasets]") {
  const std::string text = "h\xC3\xA9l\xE2\x82\xAC\xF0\x9F\x98\x80!";  // hé l € 😀 !
  const std::vector<std::string> chars = utf8_chars(text);
  REQUIRE(chars.size() == 6);
  CHECK(chars[1] == "\xC3\xA9");
  CHECK(chars[3] == "\xE2\x82\xAC");
  CHECK(chars[4] == "\xF0\x9F\x98\x80");
  CHECK(utf8_length(text) == 6);
  CHECK(nn::Vocab(nn::Vocab::Level::Character).tokenize(text) == chars);
  // Malformed bytes are tokens by themselves: a stray continuation, a truncated sequence.
  CHECK(utf8_chars("a\x80"
                   "b") == std::vector<std::string>{"a", "\x80", "b"});
  CHECK(utf8_chars("\xC3") == std::vector<std::string>{"\xC3"});
  CHECK(utf8_chars("").empty());
}

TEST_CASE("is_valid_utf8 rejects overlong forms, surrogates and stray bytes", "[datasets]") {
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("\xC3\xA5\xC3\xA4\xC3\xB6"));
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("caf\xE9"));           // Latin-1 é
}

TEST_CASE("latin1_to_utf8 and utf8_lower", "[datasets]") {
  // Swedish "älg år ÖL" in ISO-8859-1.
  CHECK(latin1_to_utf8("\xE4lg \xE5r \xD6L") == "\xC3\xA4lg \xC3\xA5r \xC3\x96L");
  CHECK(latin1_to_utf8("abc") == "abc");
  CHECK(utf8_lower("\xC3\x85\xC3\x84\xC3\x96 \xC3\x89"
                   "COLE") ==
        "\xC3\xA5\xC3\xA4\xC3\xB6 \xC3\xA9"
        "cole");
  CHECK(utf8_lower("\xC5\x92uvre") == "\xC5\x93uvre");          // Œuvre -> œuvre
  CHECK(utf8_lower("\xC5\xB8") == "\xC3\xBF");                  // Ÿ -> ÿ
  CHECK(utf8_lower("\xC3\x97\xC3\x9F") == "\xC3\x97\xC3\x9F");  // × and ß unchanged
  CHECK(utf8_lower("\xC4\xB0") == "\xC4\xB0");                  // İ has no simple lower case
  CHECK(utf8_lower("A\xFF"
                   "B") ==
        "a\xFF"
        "b");  // a malformed byte is kept
}

TEST_CASE("seeded_permutation and split_sizes", "[datasets]") {
  const std::vector<int64_t> p = seeded_permutation(50, 3);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) CHECK(sorted[i] == i);
  CHECK(seeded_permutation(50, 3) == p);
  CHECK(seeded_permutation(50, 4) != p);
  CHECK(seeded_permutation(0, 1).empty());
  // The same on every platform (mt19937_64 is fully specified; no std::shuffle).
  CHECK(seeded_permutation(5, 0) == std::vector<int64_t>{2, 0, 1, 3, 4});

  SplitSizes s = split_sizes(100, 0.05, 0.05, "t");
  CHECK((s.train == 90 && s.valid == 5 && s.test == 5));
  s = split_sizes(20000, 0.1, 0.1, "t");
  CHECK((s.train == 16000 && s.valid == 2000 && s.test == 2000));
  s = split_sizes(7, 0.1, 0.1, "t");  // round(0.7) = 1
  CHECK((s.train == 5 && s.valid == 1 && s.test == 1));
  CHECK_THROWS_WITH(split_sizes(10, 0.6, 0.5, "split_me"), Catch::Contains("split_me") &&
                                                               Catch::Contains("0.6") &&
                                                               Catch::Contains("0.5"));
  CHECK_THROWS_WITH(split_sizes(10, -0.1, 0.5, "split_me"), Catch::Contains("-0.1"));
  CHECK_THROWS_WITH(seeded_permutation(-2, 0),
                    Catch::Contains("seeded_permutation") && Catch::Contains("-2"));
}

TEST_CASE("parse_fortunes cleans entries", "[datasets]") {
  const std::string text =
      "First fortune,\r\n"
      "  two lines.   \r\n"
      "%\n"
      "\n"
      "%\n"
      "\n"
      "An _\bi_\bm_\bp_\bo_\br_\bt_\ba_\bn_\bt word, *____\b\b\b\bonly* B\bBo\bol\bld\bd.\n"
      "\n"
      "%\n"
      "Caf\xE9 au lait\n"  // Latin-1: read as such
      "%\n"
      "don\xC3\x83\xC2\xA2\xC3\x82\xC2\x80\xC3\x82\xC2\x99t\x07\n"  // UTF-8 encoded three times
      "%\n"
      "last, without a newline";
  const std::vector<std::string> e = parse_fortunes(text);
  REQUIRE(e.size() == 5);
  CHECK(e[0] == "First fortune,\n  two lines.");
  CHECK(e[1] == "An important word, *only* Bold.");
  CHECK(e[2] == "Caf\xC3\xA9 au lait");
  CHECK(e[3] == "don\xE2\x80\x99t");  // don’t
  CHECK(e[4] == "last, without a newline");
  CHECK(parse_fortunes("%\n%\n").empty());
  CHECK(join_entries({"a", "b\nc", "d"}) == "a\n\nb\nc\n\nd");
  CHECK(join_entries({"a", "b"}, "\n") == "a\nb");
  CHECK(join_entries({}).empty());
}

TEST_CASE("load_fortunes reads the right files, deduplicates and splits by entry", "[datasets]") {
  TempDir dir;
  std::string a, b;
  for (int i = 0; i < 30; ++i) a += "fortune a" + std::to_string(i) + "\n%\n";
  for (int i = 0; i < 10; ++i) b += "fortune b" + std::to_string(i) + "\n%\n";
  b += "fortune a3\n%\n";  // also in a: kept once
  write_bytes(dir.file("alpha"), a);
  write_bytes(dir.file("beta"), b);
  write_bytes(dir.file("alpha.dat"), std::string("\x00\x00\x00\x02 binary", 12));
  write_bytes(dir.file("alpha.u8"), "not read\n%\n");
  write_bytes(dir.file("ascii-art"), "  /\\_/\\\n ( o.o )\n%\n");
  std::filesystem::create_directory(dir.path / "off");
  write_bytes(dir.file("off/rude"), "offensive\n%\n");

  FortuneOptions options;
  options.dir = dir.path.string();
  options.seed = 11;
  options.valid_fraction = 0.1;
  options.test_fraction = 0.1;
  const TextCorpus c = load_fortunes(options);
  CHECK(c.files == std::vector<std::string>{"alpha", "beta"});
  CHECK(c.duplicates == 1);
  CHECK(c.train.size() == 32);
  CHECK(c.valid.size() == 4);
  CHECK(c.test.size() == 4);
  std::set<std::string> all;
  for (const auto* split : {&c.train, &c.valid, &c.test})
    for (const std::string& e : *split) {
      CHECK(all.insert(e).second);
      CHECK(e.rfind("fortune ", 0) == 0);
    }
  CHECK(all.size() == 40);
  const TextCorpus again = load_fortunes(options);
  CHECK(again.test == c.test);
  options.seed = 12;
  CHECK(load_fortunes(options).test != c.test);
  // An explicit file list.
  options.files = {"beta"};
  CHECK(load_fortunes(options).train.size() + load_fortunes(options).valid.size() +
            load_fortunes(options).test.size() ==
        11);
}

TEST_CASE("fortune and file errors name the path and the package", "[datasets]") {
  TempDir dir;
  FortuneOptions options;
  options.dir = dir.file("nowhere");
  CHECK_THROWS_WITH(load_fortunes(options), Catch::Contains("load_fortunes") &&
                                                Catch::Contains("nowhere") &&
                                                Catch::Contains("fortunes-min"));
  options.dir = dir.path.string();  // exists, but empty
  CHECK_THROWS_WITH(load_fortunes(options), Catch::Contains("no fortune file"));
  CHECK_THROWS_WITH(read_text_file(dir.file("missing.txt"), "reader", "some-package"),
                    Catch::Contains("reader") && Catch::Contains("missing.txt") &&
                        Catch::Contains("some-package"));
}

TEST_CASE("the Debian fortunes corpus (if installed)", "[datasets]") {
  if (!std::filesystem::exists("/usr/share/games/fortunes/fortunes")) {
    SUCCEED("fortunes not installed: skipped");
    return;
  }
  const TextCorpus c = load_fortunes();
  CHECK(c.files.size() >= 40);
  CHECK(std::find(c.files.begin(), c.files.end(), "ascii-art") == c.files.end());
  const int64_t train_chars = utf8_length(join_entries(c.train));
  CHECK(train_chars > 2000000);
  CHECK(c.valid.size() == c.test.size());
  CHECK(c.valid.size() * 18 <= c.train.size() + 18);
  for (const std::string& e : c.train) {
    REQUIRE(is_valid_utf8(e));
    REQUIRE(e.find('\b') == std::string::npos);
  }
}
