// CMUdict parsing (alternates grouped, filtering, stress digits, comments), seeded 90/5/5
// split by unique word, errors; plus checks of the Debian dictionary when it is installed.
#include <filesystem>
#include <set>

#include "models/data/g2p_data.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::TempDir;
using minidl::testing::write_bytes;

namespace {
const char* const kSample =
    ";;; a comment line\n"
    "tomato(2) T AH M AA T OW\n"  // an alternate before the word's first line
    "tomato T AH M EY T OW\n"
    "'bout B AW T\n"
    "a.m. EY EH M\n"         // skipped: '.'
    "ad-hoc AE D HH AA K\n"  // skipped: '-'
    "\n"
    "read R IY1 D\r\n"  // stress digit removed, CRLF
    "read(2) R EH0 D\n"
    "read(3) R IY D\n"  // the same as read after removing stress: kept once
    "zebra Z IY B R AH # comment\n";
}  // namespace

TEST_CASE("parse_cmudict groups alternates and filters words", "[datasets]") {
  const G2PDictionary d = parse_cmudict(kSample);
  CHECK(d.lines == 9);
  CHECK(d.skipped_lines == 2);
  REQUIRE(d.words.size() == 4);
  CHECK(d.words[0].word == "'bout");
  CHECK(d.words[1].word == "read");
  CHECK(d.words[2].word == "tomato");
  CHECK(d.words[3].word == "zebra");
  using P = std::vector<std::vector<std::string>>;
  CHECK(d.words[2].pronunciations ==
        P{{"T", "AH", "M", "AA", "T", "OW"}, {"T", "AH", "M", "EY", "T", "OW"}});
  CHECK(d.words[1].pronunciations == P{{"R", "IY", "D"}, {"R", "EH", "D"}});
  CHECK(d.words[3].pronunciations == P{{"Z", "IY", "B", "R", "AH"}});
  CHECK(d.phonemes == std::vector<std::string>{"AA", "AH", "AW", "B", "D", "EH", "EY", "IY", "M",
                                               "OW", "R", "T", "Z"});
  CHECK(phoneme_inventory({{"x", {{"K", "S"}}}}) == std::vector<std::string>{"K", "S"});
}

TEST_CASE("parse_cmudict errors name the line", "[datasets]") {
  CHECK_THROWS_WITH(parse_cmudict("ok OW K\nlonely\n"),
                    Catch::Contains("parse_cmudict") && Catch::Contains("line 2") &&
                        Catch::Contains("lonely") && Catch::Contains("no phonemes"));
  CHECK_THROWS_WITH(parse_cmudict("word(x) W ER D\n"),
                    Catch::Contains("line 1") && Catch::Contains("word(x)"));
  TempDir dir;
  CHECK_THROWS_WITH(load_cmudict(dir.file("cmudict.dict")),
                    Catch::Contains("load_cmudict") && Catch::Contains("cmudict.dict") &&
                        Catch::Contains("pocketsphinx-en-us"));
  CHECK(default_cmudict_path() == "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict");
}

TEST_CASE("load_cmudict reads a file at an overridden path", "[datasets]") {
  TempDir dir;
  write_bytes(dir.file("mini.dict"), kSample);
  const G2PDictionary d = load_cmudict(dir.file("mini.dict"));
  CHECK(d.words.size() == 4);
}

TEST_CASE("split_g2p: seeded 90/5/5 split by unique word", "[datasets]") {
  std::vector<G2PExample> words;
  for (int i = 0; i < 200; ++i) words.push_back({"w" + std::to_string(1000 + i), {{"W"}}});
  const G2PSplits s = split_g2p(words, 5);
  CHECK(s.train.size() == 180);
  CHECK(s.valid.size() == 10);
  CHECK(s.test.size() == 10);
  std::set<std::string> seen;
  for (const auto* split : {&s.train, &s.valid, &s.test}) {
    for (const G2PExample& w : *split) CHECK(seen.insert(w.word).second);
    CHECK(std::is_sorted(split->begin(), split->end(),
                         [](const G2PExample& a, const G2PExample& b) { return a.word < b.word; }));
  }
  CHECK(seen.size() == 200);
  const G2PSplits again = split_g2p(words, 5), other = split_g2p(words, 6);
  auto names = [](const std::vector<G2PExample>& v) {
    std::vector<std::string> n;
    for (const G2PExample& w : v) n.push_back(w.word);
    return n;
  };
  CHECK(names(again.test) == names(s.test));
  CHECK(names(other.test) != names(s.test));
  // The test split does not depend on the validation fraction.
  CHECK(names(split_g2p(words, 5, 0.2, 0.05).test) == names(s.test));
  CHECK(split_g2p({}, 1).train.empty());
  CHECK_THROWS_WITH(split_g2p(words, 5, 0.7, 0.7), Catch::Contains("split_g2p"));
}

TEST_CASE("the Debian CMUdict (if installed)", "[datasets]") {
  if (!std::filesystem::exists(default_cmudict_path())) {
    SUCCEED("pocketsphinx-en-us not installed: skipped");
    return;
  }
  const G2PDictionary d = load_cmudict();
  // pocketsphinx-en-us 0.8+5prealpha+1-15 (Debian 12): 134,723 lines, 1,208 of them for words
  // with '.', '-', digits, ...; 124,804 words kept; no stress marks; 39 phonemes.
  CHECK(d.lines > 130000);
  CHECK(d.words.size() > 120000);
  CHECK(d.phonemes.size() == 39);
  const G2PSplits s = split_g2p(d.words, 0);
  CHECK(s.valid.size() == s.test.size());
  CHECK(std::llabs(static_cast<long long>(s.test.size()) -
                   static_cast<long long>(d.words.size() / 20)) <= 1);
}
