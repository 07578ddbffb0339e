// Dates, CMUdict and FreeDict as encoder-decoder data (models/sequence/seq2seq_data.h).
#include "models/sequence/seq2seq_data.h"

#include <sstream>

#include "models/data/date_data.h"
#include "models/data/freedict_data.h"
#include "models/data/g2p_data.h"

namespace minidl::models {

Seq2SeqData date_seq2seq_data(int64_t train, int64_t valid, int64_t test, uint64_t seed) {
  const DateSplits splits = make_date_splits(train, valid, test, seed);
  Seq2SeqData data;
  auto convert = [](const std::vector<DatePair>& pairs, std::vector<Seq2SeqExample>& out) {
    for (const DatePair& pair : pairs) out.push_back({pair.human, {pair.iso}});
  };
  convert(splits.train, data.train);
  convert(splits.valid, data.valid);
  convert(splits.test, data.test);
  return data;
}

namespace {

// The smoke dictionary: common words with their CMUdict pronunciations (two with alternates).
const char* const kSmokeDictionary = R"(a AH
a(2) EY
about AH B AW T
after AE F T ER
again AH G EH N
all AO L
and AH N D
and(2) AE N D
back B AE K
be B IY
big B IH G
book B UH K
boy B OY
but B AH T
call K AO L
can K AE N
car K AA R
cat K AE T
day D EY
did D IH D
dog D AO G
down D AW N
eat IY T
fish F IH SH
for F AO R
from F R AH M
get G EH T
girl G ER L
go G OW
good G UH D
had HH AE D
hand HH AE N D
have HH AE V
he HH IY
her HH ER
him HH IH M
his HH IH Z
home HH OW M
house HH AW S
in IH N
is IH Z
it IH T
just JH AH S T
kind K AY N D
know N OW
like L AY K
little L IH T AH L
look L UH K
make M EY K
man M AE N
me M IY
more M AO R
mother M AH DH ER
new N UW
not N AA T
now N AW
old OW L D
one W AH N
play P L EY
red R EH D
run R AH N
said S EH D
see S IY
she SH IY
sing S IH NG
sit S IH T
so S OW
take T EY K
that DH AE T
the DH AH
the(2) DH IY
then DH EH N
they DH EY
thing TH IH NG
time T AY M
to T UW
top T AA P
tree T R IY
up AH P
want W AA N T
was W AA Z
water W AO T ER
we W IY
went W EH N T
what W AH T
when W EH N
with W IH DH
yes Y EH S
you Y UW
)";

std::vector<Seq2SeqExample> g2p_examples(const std::vector<G2PExample>& words) {
  std::vector<Seq2SeqExample> out;
  for (const G2PExample& word : words) {
    Seq2SeqExample example{word.word, {}};
    for (const std::vector<std::string>& pronunciation : word.pronunciations) {
      std::string joined;
      for (const std::string& phoneme : pronunciation)
        joined += (joined.empty() ? "" : " ") + phoneme;
      example.references.push_back(joined);
    }
    out.push_back(std::move(example));
  }
  return out;
}

}  // namespace

Seq2SeqData g2p_seq2seq_data(const TaskOptions& options) {
  const G2PDictionary dictionary =
      options.smoke ? parse_cmudict(kSmokeDictionary) : load_cmudict(options.data_path);
  // The fixed seed 0: the same held-out words for every model and training seed.
  const G2PSplits splits =
      options.smoke ? split_g2p(dictionary.words, 0, 0.1, 0.1) : split_g2p(dictionary.words, 0);
  Seq2SeqData data;
  data.source_level = nn::Vocab::Level::Character;
  data.target_level = nn::Vocab::Level::Word;
  data.train = g2p_examples(splits.train);
  data.valid = g2p_examples(splits.valid);
  data.test = g2p_examples(splits.test);
  return data;
}

Seq2SeqConfig g2p_task_config(const std::string& name) {
  Seq2SeqConfig config;
  config.name = name;
  config.load = g2p_seq2seq_data;
  config.metric = Seq2SeqMetric::G2P;
  config.train_on_all_references = true;
  config.examples = {"minidl", "attention", "phoneme", "tomato", "worcestershire"};
  config.smoke_defaults = train_defaults("adam", 1e-2, 2, 16);
  return config;
}

std::string normalize_for_translation(const std::string& text) {
  std::string spaced;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(text[i]);
    if (ch >= 'A' && ch <= 'Z') {
      spaced += static_cast<char>(ch - 'A' + 'a');
    } else if (ch == 0xC3 && i + 1 < text.size() &&
               (text[i + 1] == '\x84' || text[i + 1] == '\x96' || text[i + 1] == '\x9C')) {
      spaced += '\xC3';  // Ä Ö Ü -> ä ö ü (UTF-8: C3 84/96/9C -> C3 A4/B6/BC)
      spaced += static_cast<char>(text[i + 1] + 0x20);
      ++i;
    } else if (std::string(".,;:!?\"()").find(static_cast<char>(ch)) != std::string::npos) {
      spaced += ' ';
      spaced += static_cast<char>(ch);
      spaced += ' ';
    } else {
      spaced += static_cast<char>(ch);
    }
  }
  std::istringstream words(spaced);
  std::string word, out;
  while (words >> word) out += (out.empty() ? "" : " ") + word;
  return out;
}

namespace {

std::vector<Seq2SeqExample> translation_examples(const std::vector<TranslationPair>& pairs,
                                                 int64_t max_words) {
  auto count = [](const std::string& s) {
    std::istringstream words(s);
    int64_t n = 0;
    for (std::string w; words >> w;) ++n;
    return n;
  };
  std::vector<Seq2SeqExample> out;
  for (const TranslationPair& pair : pairs) {
    Seq2SeqExample example{normalize_for_translation(pair.german), {}};
    if (example.source.empty() || (max_words > 0 && count(example.source) > max_words)) continue;
    for (const std::string& english : pair.english) {
      std::string target = normalize_for_translation(english);
      if (!target.empty() && (max_words <= 0 || count(target) <= max_words))
        example.references.push_back(target);
    }
    if (!example.references.empty()) out.push_back(std::move(example));
  }
  return out;
}

}  // namespace

Seq2SeqData freedict_seq2seq_data(const TaskOptions& options, int64_t max_words) {
  FreeDictData splits;
  if (options.smoke) {
    std::vector<TranslationPair> pairs;
    const char* const german[] = {"das Haus", "der Hund", "die Katze", "ein Baum", "mein Buch",
                                  "das Auto", "der Mann", "die Frau",  "ein Kind", "mein Hund"};
    const char* const english[] = {"the house", "the dog", "the cat",   "a tree",  "my book",
                                   "the car",   "the man", "the woman", "a child", "my dog"};
    for (int repeat = 0; repeat < 5; ++repeat)
      for (int i = 0; i < 10; ++i)
        pairs.push_back({std::string(german[i]) + (repeat ? " " + std::to_string(repeat) : ""),
                         {std::string(english[i]) + (repeat ? " " + std::to_string(repeat) : "")}});
    FreeDictOptions split_options;
    split_options.valid_fraction = split_options.test_fraction = 0.1;
    splits = make_freedict_data(pairs, split_options);
  } else {
    FreeDictOptions freedict;
    if (!options.data_path.empty()) freedict.dict_path = options.data_path;
    splits = load_freedict(freedict);  // split with the fixed seed 0
  }
  Seq2SeqData data;
  data.source_level = data.target_level = nn::Vocab::Level::Word;
  data.train = translation_examples(splits.train, max_words);
  data.valid = translation_examples(splits.valid, max_words);
  data.test = translation_examples(splits.test, max_words);
  // The held-out splits keep their first 2,000 pairs (of ~6,000): enough for a stable BLEU, and
  // validation after every epoch stays a small part of the run.
  for (std::vector<Seq2SeqExample>* held_out : {&data.valid, &data.test})
    if (held_out->size() > 2000) held_out->resize(2000);
  return data;
}

Seq2SeqConfig translation_task_config(const std::string& name, int64_t max_words) {
  Seq2SeqConfig config;
  config.name = name;
  config.load = [max_words](const TaskOptions& options) {
    return freedict_seq2seq_data(options, max_words);
  };
  config.metric = Seq2SeqMetric::Bleu;
  config.source_min_freq = config.target_min_freq = 5;
  config.examples = {"das ist ein gutes Buch", "ich habe keine Zeit", "wie geht es dir ?"};
  config.smoke_defaults = train_defaults("adam", 1e-2, 2, 8);
  return config;
}

}  // namespace minidl::models
