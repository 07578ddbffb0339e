// CMUdict parsing (grouped pronunciations, filtering) and the seeded split by unique word.
#include "models/data/g2p_data.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "models/data/text_corpus.h"

namespace minidl::models {

namespace {

bool spelled_with_letters(const std::string& word) {
  for (char c : word)
    if (!((c >= 'a' && c <= 'z') || c == '\'')) return false;
  return !word.empty();
}

std::string strip_stress(std::string phoneme) {
  if (phoneme.size() > 1 && phoneme.back() >= '0' && phoneme.back() <= '2') phoneme.pop_back();
  return phoneme;
}

}  // namespace

std::string default_cmudict_path() {
  return "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
}

G2PDictionary parse_cmudict(const std::string& content) {
  const char* who = "parse_cmudict";
  G2PDictionary dict;
  std::map<std::string, std::vector<std::vector<std::string>>> grouped;
  std::istringstream in(content);
  std::string line;
  int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    std::string head;
    if (!(fields >> head) || head.rfind(";;;", 0) == 0) continue;
    ++dict.lines;
    // "word(2)" -> "word"
    std::string word = head;
    const size_t open = head.find('(');
    if (open != std::string::npos && open > 0) {
      const std::string number = head.substr(open + 1);
      bool ok = number.size() >= 2 && number.back() == ')';
      for (size_t k = 0; ok && k + 1 < number.size(); ++k)
        ok = std::isdigit(static_cast<unsigned char>(number[k])) != 0;
      MINIDL_CHECK(ok, who,
                   "line " << line_number << ": bad alternate marker in '" << head
                           << "' (expected word(n))");
      word = head.substr(0, open);
    }
    std::vector<std::string> phonemes;
    for (std::string p; fields >> p;) {
      if (p[0] == '#') break;  // trailing comment
      phonemes.push_back(strip_stress(p));
    }
    MINIDL_CHECK(!phonemes.empty(), who,
                 "line " << line_number << ": word '" << head << "' has no phonemes");
    if (!spelled_with_letters(word)) {
      ++dict.skipped_lines;
      continue;
    }
    auto& prons = grouped[word];
    if (std::find(prons.begin(), prons.end(), phonemes) == prons.end())
      prons.push_back(std::move(phonemes));
  }
  dict.words.reserve(grouped.size());
  for (auto& [word, prons] : grouped) dict.words.push_back({word, std::move(prons)});
  dict.phonemes = phoneme_inventory(dict.words);
  return dict;
}

G2PDictionary load_cmudict(const std::string& path) {
  const std::string file = path.empty() ? default_cmudict_path() : path;
  return parse_cmudict(read_text_file(file, "load_cmudict", "pocketsphinx-en-us"));
}

G2PSplits split_g2p(const std::vector<G2PExample>& words, uint64_t seed, double valid_fraction,
                    double test_fraction) {
  const int64_t n = static_cast<int64_t>(words.size());
  const SplitSizes sizes = split_sizes(n, valid_fraction, test_fraction, "split_g2p");
  const std::vector<int64_t> perm = seeded_permutation(n, seed);
  // part[i]: 0 = train, 1 = valid, 2 = test; the first `test` words of the permutation are the
  // test split, the next `valid` the validation split.
  std::vector<int> part(static_cast<size_t>(n), 0);
  for (int64_t k = 0; k < sizes.test + sizes.valid; ++k) part[perm[k]] = k < sizes.test ? 2 : 1;
  G2PSplits splits;
  for (int64_t i = 0; i < n; ++i)
    (part[i] == 0 ? splits.train : part[i] == 1 ? splits.valid : splits.test).push_back(words[i]);
  return splits;
}

std::vector<std::string> phoneme_inventory(const std::vector<G2PExample>& words) {
  std::set<std::string> inventory;
  for (const G2PExample& w : words)
    for (const auto& pron : w.pronunciations) inventory.insert(pron.begin(), pron.end());
  return {inventory.begin(), inventory.end()};
}

}  // namespace minidl::models
