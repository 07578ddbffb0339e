// FreeDict deu-eng: dictd base-64 numbers and index, gzip reading, entry parsing (headwords,
// translations, examples, annotations, IPA), merging and seeded splits, errors.
#include <zlib.h>

#include <filesystem>
#include <set>

#include "models/data/freedict_data.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;
using minidl::testing::TempDir;
using minidl::testing::write_bytes;

namespace {

std::string dictd_number(int64_t v) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string digits;
  do {
    digits.insert(digits.begin(), alphabet[static_cast<size_t>(v % 64)]);
    v /= 64;
  } while (v > 0);
  return digits;
}

void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  gzclose(f);
}

const char* const kAbdeck =
    "Abdeckplatte aus Beton /\xCB\x88"
    "apd\xC9\x9B"
    "kpl/ <fem, n, sg>\n"
    " [constr.] concrete coping slab <n>, coping slab <n>\n"
    "      \"die Abdeckplatte anbringen\"  - fit the coping slab, attach the slab\n"
    "      \"Das ist der Haken an der Sache.\"  - That's the fly, in the ointment.\n"
    "   Synonym: {Abdeckstein}\n"
    "\n"
    " see: {Abdeckplatten}\n"
    "         Note: des Bodenprofils\n";

}  // namespace

TEST_CASE("dictd numbers and index lines", "[datasets]") {
  CHECK(decode_dictd_number("A") == 0);
  CHECK(decode_dictd_number("/") == 63);
  CHECK(decode_dictd_number("BA") == 64);
  CHECK(decode_dictd_number("B0") == 116);
  CHECK(decode_dictd_number("GHAt") == ((6 * 64 + 7) * 64 + 0) * 64 + 45);
  CHECK(decode_dictd_number(dictd_number(100143555)) == 100143555);
  CHECK_THROWS_WITH(decode_dictd_number("B*"),
                    Catch::Contains("decode_dictd_number") && Catch::Contains("'*'"));
  CHECK_THROWS_WITH(decode_dictd_number(""), Catch::Contains("1 to 10"));
  const auto index = parse_dictd_index(" ab\tDVwcs\tBN\naber dalli\tEM7O7\tBC\textra\n\n");
  REQUIRE(index.size() == 2);
  CHECK(index[0].headword == " ab");
  CHECK(index[0].length == 77);
  CHECK(index[1].headword == "aber dalli");
  CHECK(index[1].offset == decode_dictd_number("EM7O7"));
  CHECK(index[1].length == 66);
  CHECK_THROWS_WITH(parse_dictd_index("ok\tA\tB\nbroken line\n"),
                    Catch::Contains("parse_dictd_index") && Catch::Contains("line 2"));
}

TEST_CASE("read_gzip_file reads gzip and plain files", "[datasets]") {
  TempDir dir;
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "zeile " + std::to_string(i) + "\n";
  write_gzip(dir.file("a.dz"), big);
  CHECK(std::filesystem::file_size(dir.file("a.dz")) < big.size() / 2);
  CHECK(read_gzip_file(dir.file("a.dz"), "t", "") == big);
  write_bytes(dir.file("plain"), "not compressed\n");
  CHECK(read_gzip_file(dir.file("plain"), "t", "") == "not compressed\n");
  CHECK_THROWS_WITH(read_gzip_file(dir.file("gone.dict.dz"), "reader", "dict-freedict-deu-eng"),
                    Catch::Contains("reader") && Catch::Contains("gone.dict.dz") &&
                        Catch::Contains("dict-freedict-deu-eng"));
}

TEST_CASE("parse_freedict_entry extracts examples and multi-word headwords", "[datasets]") {
  const auto pairs = parse_freedict_entry(kAbdeck);
  REQUIRE(pairs.size() == 3);
  // Examples first: a phrase is split into alternatives at ", ", a sentence is not.
  CHECK(pairs[0].german == "die Abdeckplatte anbringen");
  CHECK(pairs[0].english == std::vector<std::string>{"fit the coping slab", "attach the slab"});
  CHECK(pairs[1].german == "Das ist der Haken an der Sache.");
  CHECK(pairs[1].english == std::vector<std::string>{"That's the fly, in the ointment."});
  // The headword without IPA and grammar; translations without [domain] and <n>.
  CHECK(pairs[2].german == "Abdeckplatte aus Beton");
  CHECK(pairs[2].english == std::vector<std::string>{"concrete coping slab", "coping slab"});

  FreeDictOptions options;
  options.examples = false;
  CHECK(parse_freedict_entry(kAbdeck, options).size() == 1);
  options.examples = true;
  options.headwords = false;
  CHECK(parse_freedict_entry(kAbdeck, options).size() == 2);
  options.headwords = true;
  options.max_words = 4;  // drops the sentence (7 German words)
  const auto short_pairs = parse_freedict_entry(kAbdeck, options);
  REQUIRE(short_pairs.size() == 2);
  CHECK(short_pairs[0].german == "die Abdeckplatte anbringen");

  // A one-word headword gives no pair; "(...)" groups stay, IPA in translations goes, a German
  // " / " between alternatives is not a pronunciation.
  CHECK(parse_freedict_entry("Haus /h\xCB\x88"
                             "a\xCA\x8As/ <neut, n, sg>\nhouse <n>\n")
            .empty());
  const auto ipa =
      parse_freedict_entry("Sri Lanka /sri\xCB\x90 l/ (LK /\xCB\x8C\xC9\x9Blk/)\nSri Lanka\n");
  REQUIRE(ipa.size() == 1);
  CHECK(ipa[0].german == "Sri Lanka");
  const auto slash = parse_freedict_entry(
      "das Aufeinandertreffen / Zusammentreffen /das/\n"
      "the conjuncture (of two) /\xC9\x99/, meeting\n");
  REQUIRE(slash.size() == 1);
  CHECK(slash[0].german == "das Aufeinandertreffen / Zusammentreffen");
  CHECK(slash[0].english == std::vector<std::string>{"the conjuncture (of two)", "meeting"});
}

TEST_CASE("load_freedict reads a dictd pair, merges and splits", "[datasets]") {
  TempDir dir;
  std::vector<std::string> entries = {
      "00-database-short\n German - English test\n", kAbdeck,
      "die Abdeckplatte anbringen /x/\nfix the slab\n",  // same German as an example: merged
  };
  for (int i = 0; i < 37; ++i)
    entries.push_back("Wort Nummer" + std::to_string(i) + " /v/ <n>\nword number" +
                      std::to_string(i) + " <n>\n");
  std::string text, index;
  for (const std::string& e : entries) {
    index += "head\t" + dictd_number(static_cast<int64_t>(text.size())) + "\t" +
             dictd_number(static_cast<int64_t>(e.size())) + "\n";
    text += e;
  }
  index += "again\t" + dictd_number(0) + "\t" + dictd_number(10) + "\n";  // a duplicate offset
  write_gzip(dir.file("mini.dict.dz"), text);
  write_bytes(dir.file("mini.index"), index);
  FreeDictOptions options;
  options.dict_path = dir.file("mini.dict.dz");
  options.seed = 9;
  options.valid_fraction = options.test_fraction = 0.1;
  const FreeDictData d = load_freedict(options);
  CHECK(d.entries == 39);
  CHECK(d.example_pairs == 2);
  CHECK(d.headword_pairs == 39);
  // 41 pairs, 40 distinct German phrases: 32 / 4 / 4.
  CHECK(d.train.size() == 32);
  CHECK(d.valid.size() == 4);
  CHECK(d.test.size() == 4);
  std::set<std::string> german;
  for (const auto* split : {&d.train, &d.valid, &d.test})
    for (const TranslationPair& p : *split) {
      CHECK(german.insert(p.german).second);
      CHECK_FALSE(p.english.empty());
      if (p.german == "die Abdeckplatte anbringen")
        CHECK(p.english ==
              std::vector<std::string>{"fit the coping slab", "attach the slab", "fix the slab"});
    }
  CHECK(german.size() == 40);
  CHECK(german.count("die Abdeckplatte anbringen") == 1);
  const FreeDictData again = load_freedict(options);
  REQUIRE(again.test.size() == d.test.size());
  for (size_t i = 0; i < d.test.size(); ++i) CHECK(again.test[i].german == d.test[i].german);

  // A bad index offset and missing files are errors naming them.
  write_bytes(dir.file("bad.index"), "x\tA\t" + dictd_number(1 << 20) + "\n");
  options.index_path = dir.file("bad.index");
  CHECK_THROWS_WITH(load_freedict(options),
                    Catch::Contains("load_freedict") && Catch::Contains("'x'"));
  options.index_path = "";
  options.dict_path = dir.file("none.dict.dz");
  CHECK_THROWS_WITH(load_freedict(options),
                    Catch::Contains("none.index") && Catch::Contains("dict-freedict-deu-eng"));
}

TEST_CASE("the Debian FreeDict deu-eng (if installed)", "[.][datasets-real]") {
  if (!std::filesystem::exists("/usr/share/dictd/freedict-deu-eng.index")) {
    SUCCEED("dict-freedict-deu-eng not installed: skipped");
    return;
  }
  const FreeDictData d = load_freedict();
  CHECK(d.entries > 500000);
  CHECK(d.example_pairs > 40000);
  CHECK(d.train.size() > 100000);
  CHECK(d.valid.size() == d.test.size());
}
