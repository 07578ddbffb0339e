#include "models/multimodal/vqa_data.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"

namespace minidl::models {

namespace {

// How each class is named in a question.
const std::array<const char*, kFashionClasses> kClassNouns = {
    "a t-shirt", "a pair of trousers", "a pullover", "a dress",      "a coat", "a sandal",
    "a shirt",   "a sneaker",          "a bag",      "an ankle boot"};

struct Category {
  const char* noun;
  std::vector<int64_t> classes;
};
const std::vector<Category> kCategories = {
    {"footwear", {5, 7, 9}},
    {"something worn on the feet", {5, 7, 9}},
    {"a closed shoe", {7, 9}},
    {"a top", {0, 2, 6}},
    {"upper-body clothing", {0, 2, 4, 6}},
    {"clothing", {0, 1, 2, 3, 4, 6}},
};

const std::vector<const char*> kPhrasings = {"is this", "is it", "does this show",
                                             "does the image show"};
const std::vector<const char*> kNegatedPhrasings = {"is this not", "is it not"};

// The questions grouped by the class set they ask about, for drawing them.
struct Concept {
  QuestionType type;
  std::array<bool, kFashionClasses> yes_for;
  std::vector<int64_t> questions;  // ids of its phrasings
};

struct Grammar {
  std::vector<VqaQuestion> questions;
  std::vector<Concept> concepts;
  std::map<std::vector<std::string>, int64_t> by_tokens;
  std::set<std::string> words;  // every word of every question

  // One concept (a class set) asked with each of `phrasings` before each of `nouns`.
  void add(QuestionType type, const std::array<bool, kFashionClasses>& yes_for,
           const std::vector<const char*>& phrasings, const std::vector<std::string>& nouns) {
    Concept c{type, yes_for, {}};
    const int64_t concept_id = static_cast<int64_t>(concepts.size());
    for (const char* phrasing : phrasings)
      for (const std::string& noun : nouns) {
        VqaQuestion q;
        q.text = std::string(phrasing) + " " + noun + "?";
        q.tokens = question_tokens(q.text);
        q.type = type;
        q.yes_for = yes_for;
        q.concept_id = concept_id;
        c.questions.push_back(static_cast<int64_t>(questions.size()));
        by_tokens[q.tokens] = static_cast<int64_t>(questions.size());
        for (const std::string& word : q.tokens) words.insert(word);
        questions.push_back(std::move(q));
      }
    concepts.push_back(std::move(c));
  }

  Grammar() {
    auto mask = [](const std::vector<int64_t>& classes) {
      std::array<bool, kFashionClasses> m{};
      for (int64_t c : classes) m[c] = true;
      return m;
    };
    auto complement = [](std::array<bool, kFashionClasses> m) {
      for (bool& b : m) b = !b;
      return m;
    };
    for (int64_t c = 0; c < kFashionClasses; ++c)
      add(QuestionType::kClass, mask({c}), kPhrasings, {kClassNouns[c]});
    for (int64_t a = 0; a < kFashionClasses; ++a)
      for (int64_t b = a + 1; b < kFashionClasses; ++b)
        add(QuestionType::kOr, mask({a, b}), kPhrasings,
            {std::string(kClassNouns[a]) + " or " + kClassNouns[b],
             std::string(kClassNouns[b]) + " or " + kClassNouns[a]});
    for (const Category& category : kCategories)
      add(QuestionType::kCategory, mask(category.classes), kPhrasings, {category.noun});
    for (int64_t c = 0; c < kFashionClasses; ++c)
      add(QuestionType::kNot, complement(mask({c})), kNegatedPhrasings, {kClassNouns[c]});
    for (const Category& category : kCategories)
      add(QuestionType::kNot, complement(mask(category.classes)), kNegatedPhrasings,
          {category.noun});
  }
};

const Grammar& grammar() {
  static const Grammar g;
  return g;
}

// A question true for class `yes` and false for class `no` (yes != no), with its phrasing.
int64_t draw_question(int64_t yes, int64_t no, Generator& gen) {
  const Grammar& g = grammar();
  auto candidates = [&](QuestionType type) {
    std::vector<const Concept*> found;
    for (const Concept& c : g.concepts)
      if (c.type == type && c.yes_for[yes] && !c.yes_for[no]) found.push_back(&c);
    return found;
  };
  std::vector<const Concept*> found =
      candidates(static_cast<QuestionType>(gen.randint(0, kQuestionTypes)));
  if (found.empty()) found = candidates(QuestionType::kClass);  // {yes} always separates
  const Concept& chosen = *found[gen.randint(0, static_cast<int64_t>(found.size()))];
  return chosen.questions[gen.randint(0, static_cast<int64_t>(chosen.questions.size()))];
}

}  // namespace

const char* question_type_name(QuestionType type) {
  switch (type) {
    case QuestionType::kClass:
      return "class";
    case QuestionType::kOr:
      return "or";
    case QuestionType::kCategory:
      return "category";
    case QuestionType::kNot:
      return "not";
  }
  return "?";
}

const std::vector<VqaQuestion>& vqa_questions() {
  return grammar().questions;
}

std::vector<std::string> question_tokens(const std::string& text) {
  std::string spaced;
  for (char ch : text) {
    if (ch == '?') {
      spaced += " ? ";
    } else {
      spaced += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
  }
  std::istringstream words(spaced);
  std::vector<std::string> tokens;
  for (std::string word; words >> word;) tokens.push_back(word);
  return tokens;
}

int64_t find_question(const std::string& text) {
  const Grammar& g = grammar();
  const std::vector<std::string> tokens = question_tokens(text);
  MINIDL_CHECK(!tokens.empty(), "find_question", "expected a question, got '" << text << "'");
  for (const std::string& word : tokens)
    MINIDL_CHECK(g.words.count(word), "find_question",
                 "unknown word '" << word << "' in '" << text << "' (the grammar asks about "
                                  << "the 10 Fashion-MNIST classes, e.g. 'is this footwear?')");
  const auto found = g.by_tokens.find(tokens);
  MINIDL_CHECK(found != g.by_tokens.end(), "find_question",
               "'" << text << "' is not a question of the grammar (e.g. 'is this a bag?', 'is it "
                   << "a sneaker or a sandal?', 'does this show footwear?', 'is this not a "
                   << "coat?')");
  return found->second;
}

std::vector<std::pair<int64_t, int64_t>> pair_images(const std::vector<int64_t>& labels,
                                                     Generator& gen) {
  const int64_t n = static_cast<int64_t>(labels.size());
  for (int64_t i = 0; i < n; ++i)
    MINIDL_CHECK(labels[i] >= 0 && labels[i] < kFashionClasses, "pair_images",
                 "label " << labels[i] << " of image " << i << " is not a class in [0, "
                          << kFashionClasses << ")");
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen.randint(0, i + 1)]);
  // Images wait in `pending` until one of another class comes; as any such image is paired at
  // once, the waiting images are all of one class, so the first of them is the one to take.
  std::vector<std::pair<int64_t, int64_t>> pairs;
  std::deque<int64_t> pending;
  for (int64_t image : order) {
    if (!pending.empty() && labels[pending.front()] != labels[image]) {
      pairs.emplace_back(pending.front(), image);
      pending.pop_front();
    } else {
      pending.push_back(image);
    }
  }
  return pairs;
}

std::vector<VqaExample> make_vqa_examples(const std::vector<int64_t>& labels, uint64_t seed) {
  Generator gen(seed);
  std::vector<VqaExample> examples;
  for (const auto& [x, y] : pair_images(labels, gen)) {
    const int64_t q = draw_question(labels[x], labels[y], gen);
    const int64_t r = draw_question(labels[y], labels[x], gen);
    examples.push_back({x, q, 1});
    examples.push_back({y, q, 0});
    examples.push_back({y, r, 1});
    examples.push_back({x, r, 0});
  }
  return examples;
}

}  // namespace minidl::models
