// Language-ID data: word normalization (case, letters only, possessives), Latin-1 lists,
// dropping words shared by lists, stratified seeded splits, errors; plus a check of the Debian
// lists when they are installed (hidden: reading 1.8M words takes seconds).
#include <filesystem>
#include <map>
#include <set>

#include "models/data/langid_data.h"
#include "models/data/text_corpus.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::TempDir;
using minidl::testing::write_bytes;

TEST_CASE("normalize_langid_word lower-cases and keeps letter-only words", "[datasets]") {
  CHECK(normalize_langid_word("Haus") == "haus");
  CHECK(normalize_langid_word("\xC3\x84rger") == "\xC3\xA4rger");  // Ärger -> ärger
  CHECK(normalize_langid_word("na\xC3\xAFve") == "na\xC3\xAFve");  // naïve
  CHECK(normalize_langid_word("\xC5\x92uvre") == "\xC5\x93uvre");  // Œuvre -> œuvre
  CHECK(normalize_langid_word("dog's").empty());                   // English possessive
  CHECK(normalize_langid_word("all'ossigeno").empty());            // Italian elision
  CHECK(normalize_langid_word("ad-hoc").empty());
  CHECK(normalize_langid_word("a.m").empty());
  CHECK(normalize_langid_word("x2").empty());
  CHECK(normalize_langid_word("two words").empty());
  CHECK(normalize_langid_word("\xC3\x97").empty());  // ×
  CHECK(normalize_langid_word("caf\xE9").empty());   // a Latin-1 byte is not UTF-8
  CHECK(normalize_langid_word("").empty());
}

TEST_CASE("parse_word_list converts Latin-1 and deduplicates", "[datasets]") {
  // Swedish list in ISO-8859-1: "Älg", "älg" (a duplicate after lower-casing), "ö", "Bo's".
  const std::vector<std::string> sv = parse_word_list("\xC4lg\n\xE4lg\r\n\xF6\nBo's\n\n", true);
  CHECK(sv == std::vector<std::string>{"\xC3\xA4lg", "\xC3\xB6"});
  const std::vector<std::string> de = parse_word_list("Haus\nhaus \nMaus", false);
  CHECK(de == std::vector<std::string>{"haus", "maus"});
  CHECK(langid_sources().size() == 8);
  CHECK(langid_languages() == std::vector<std::string>{"english", "german", "french", "spanish",
                                                       "italian", "portuguese", "dutch",
                                                       "swedish"});
  for (const WordListSource& s : langid_sources()) CHECK(s.latin1 == (s.language == "swedish"));
}

namespace {
// Three synthetic lists of 30 own words each plus words shared between them.
std::vector<std::vector<std::string>> synthetic_lists() {
  std::vector<std::vector<std::string>> lists(3);
  const char* const stems[3] = {"en", "de", "fr"};
  for (int l = 0; l < 3; ++l)
    for (int i = 0; i < 30; ++i)
      lists[l].push_back(stems[l] + std::string(1, 'a' + i % 26) + std::to_string(i));
  lists[0].push_back("shared");
  lists[1].push_back("shared");
  lists[2].push_back("also");
  lists[1].push_back("also");
  lists[2].push_back("fronly");
  lists[0].push_back(lists[0][1]);  // repeats within a list count once
  lists[0].push_back("shared");
  return lists;
}
}  // namespace

TEST_CASE("make_langid_data drops shared words and splits stratified", "[datasets]") {
  const auto lists = synthetic_lists();
  LangIdOptions options;
  options.per_language = 20;
  options.seed = 3;
  const LangIdData d = make_langid_data({"en", "de", "fr"}, lists, options);
  CHECK(d.shared_words == 2);
  CHECK(d.list_sizes == std::vector<int64_t>{31, 32, 32});
  CHECK(d.available == std::vector<int64_t>{30, 30, 31});
  CHECK(d.train.size() == 48);
  CHECK(d.valid.size() == 6);
  CHECK(d.test.size() == 6);
  std::set<std::string> words;
  for (const auto* split : {&d.train, &d.valid, &d.test}) {
    std::map<int64_t, int> per_label;
    for (const LangIdExample& e : *split) {
      CHECK(words.insert(e.word).second);
      REQUIRE(e.label >= 0);
      REQUIRE(e.label < 3);
      ++per_label[e.label];
      // The word is from its own list and nobody else's.
      const auto& own = lists[e.label];
      CHECK(std::find(own.begin(), own.end(), e.word) != own.end());
      CHECK(e.word != "shared");
      CHECK(e.word != "also");
    }
    CHECK(per_label[0] == per_label[1]);
    CHECK(per_label[1] == per_label[2]);
  }
  // Labels come mixed, not in blocks.
  bool mixed = false;
  for (size_t i = 1; i < d.train.size(); ++i)
    mixed = mixed || d.train[i].label < d.train[i - 1].label;
  CHECK(mixed);
  // Seeded.
  const LangIdData again = make_langid_data({"en", "de", "fr"}, lists, options);
  CHECK(again.test.size() == d.test.size());
  for (size_t i = 0; i < d.test.size(); ++i) CHECK(again.test[i].word == d.test[i].word);
  options.seed = 4;
  const LangIdData other = make_langid_data({"en", "de", "fr"}, lists, options);
  std::set<std::string> a, b;
  for (const auto& e : d.test) a.insert(e.word);
  for (const auto& e : other.test) b.insert(e.word);
  CHECK(a != b);
}

TEST_CASE("langid errors name the language, the path and the package", "[datasets]") {
  LangIdOptions options;
  options.per_language = 31;
  CHECK_THROWS_WITH(make_langid_data({"en", "de", "fr"}, synthetic_lists(), options),
                    Catch::Contains("make_langid_data") && Catch::Contains("en has 30 words") &&
                        Catch::Contains("31"));
  CHECK_THROWS_WITH(make_langid_data({"en"}, synthetic_lists(), options),
                    Catch::Contains("1 language names for 3"));
  options.per_language = 0;
  CHECK_THROWS_WITH(make_langid_data({"en", "de", "fr"}, synthetic_lists(), options),
                    Catch::Contains("per_language"));
  TempDir dir;
  options = LangIdOptions();
  options.dict_dir = dir.path.string();
  CHECK_THROWS_WITH(load_langid(options), Catch::Contains("load_langid") &&
                                              Catch::Contains("american-english") &&
                                              Catch::Contains("wamerican"));
}

TEST_CASE("load_langid reads the eight lists from a directory", "[datasets]") {
  TempDir dir;
  for (const WordListSource& s : langid_sources()) {
    std::string text;
    for (int i = 0; i < 12; ++i) text += s.language.substr(0, 3) + std::string(1, 'a' + i) + "\n";
    text += "common\n";
    if (s.latin1) text += "\xE5sa\n";  // åsa in ISO-8859-1
    write_bytes(dir.file(s.file), text);
  }
  LangIdOptions options;
  options.dict_dir = dir.path.string();
  options.per_language = 10;
  const LangIdData d = load_langid(options);
  CHECK(d.shared_words == 1);  // "common"
  CHECK(d.train.size() == 64);
  CHECK(d.available.back() == 13);  // swedish: 12 + åsa
  for (const auto* split : {&d.train, &d.valid, &d.test})
    for (const LangIdExample& e : *split) CHECK(is_valid_utf8(e.word));
}

TEST_CASE("the Debian word lists (if installed)", "[.][datasets-real]") {
  if (!std::filesystem::exists("/usr/share/dict/swedish")) {
    SUCCEED("word lists not installed: skipped");
    return;
  }
  const LangIdData d = load_langid();
  CHECK(d.train.size() == 8 * 16000);
  CHECK(d.valid.size() == 8 * 2000);
  CHECK(d.test.size() == 8 * 2000);
  for (int64_t available : d.available) CHECK(available >= 20000);
}
