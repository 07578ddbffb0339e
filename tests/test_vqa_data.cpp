// The question grammar and the balanced examples of models/multimodal/vqa_data.h: every
// question's answers checked against an independent reading of its words, exact balance per
// question string and per image, determinism, and the parser's errors.
#include <map>
#include <set>

#include "models/multimodal/vqa_data.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

// The classes a noun phrase names, written out here independently of the grammar's tables.
std::set<int64_t> noun_classes(const std::string& noun) {
  static const std::map<std::string, std::set<int64_t>> nouns = {
      {"a t-shirt", {0}},
      {"a pair of trousers", {1}},
      {"a pullover", {2}},
      {"a dress", {3}},
      {"a coat", {4}},
      {"a sandal", {5}},
      {"a shirt", {6}},
      {"a sneaker", {7}},
      {"a bag", {8}},
      {"an ankle boot", {9}},
      {"footwear", {5, 7, 9}},
      {"something worn on the feet", {5, 7, 9}},
      {"a closed shoe", {7, 9}},
      {"a top", {0, 2, 6}},
      {"upper-body clothing", {0, 2, 4, 6}},
      {"clothing", {0, 1, 2, 3, 4, 6}},
  };
  const auto found = nouns.find(noun);
  REQUIRE(found != nouns.end());
  return found->second;
}

// The classes a question is answered yes for, read from its text.
std::set<int64_t> expected_yes(const std::string& text, QuestionType* type) {
  REQUIRE(text.back() == '?');
  std::string rest = text.substr(0, text.size() - 1);
  bool negated = false;
  bool found_prefix = false;
  for (const std::string prefix : {"is this not ", "is it not ", "is this ", "is it ",
                                   "does this show ", "does the image show "})
    if (rest.rfind(prefix, 0) == 0) {
      negated = prefix.find(" not ") != std::string::npos;
      rest = rest.substr(prefix.size());
      found_prefix = true;
      break;
    }
  REQUIRE(found_prefix);
  std::set<int64_t> yes;
  const size_t split = rest.find(" or ");
  if (split != std::string::npos) {
    for (int64_t c : noun_classes(rest.substr(0, split))) yes.insert(c);
    for (int64_t c : noun_classes(rest.substr(split + 4))) yes.insert(c);
    *type = QuestionType::kOr;
  } else {
    yes = noun_classes(rest);
    *type = yes.size() == 1 ? QuestionType::kClass : QuestionType::kCategory;
  }
  if (negated) {
    std::set<int64_t> complement;
    for (int64_t c = 0; c < kFashionClasses; ++c)
      if (!yes.count(c)) complement.insert(c);
    *type = QuestionType::kNot;
    return complement;
  }
  return yes;
}

// labels with every class, unevenly: class c appears 10 + 3c times, in a mixed order.
std::vector<int64_t> uneven_labels() {
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < kFashionClasses; ++c)
    for (int64_t i = 0; i < 10 + 3 * c; ++i) labels.push_back(c);
  for (size_t i = 0; i < labels.size(); ++i) std::swap(labels[i], labels[(i * 37) % labels.size()]);
  return labels;
}

}  // namespace

TEST_CASE("vqa grammar: every question answers right for every class", "[multimodal]") {
  const std::vector<VqaQuestion>& questions = vqa_questions();
  // 10 classes + 45 pairs in both orders + 6 categories, 4 phrasings; 16 negations, 2 phrasings.
  CHECK(questions.size() == (10 + 90 + 6) * 4 + 16 * 2);
  std::set<std::string> texts;
  for (size_t i = 0; i < questions.size(); ++i) {
    const VqaQuestion& q = questions[i];
    texts.insert(q.text);
    QuestionType type;
    const std::set<int64_t> yes = expected_yes(q.text, &type);
    CHECK(q.type == type);
    for (int64_t c = 0; c < kFashionClasses; ++c) {
      INFO(q.text << " for class " << c);
      CHECK(q.yes_for[c] == (yes.count(c) == 1));
    }
    CHECK(q.tokens.back() == "?");
    CHECK(find_question(q.text) == static_cast<int64_t>(i));
  }
  CHECK(texts.size() == questions.size());

  // The brief's examples, spelled out.
  const VqaQuestion& footwear = questions[find_question("is this footwear?")];
  CHECK(footwear.yes_for[5]);   // Sandal
  CHECK(footwear.yes_for[9]);   // Ankle boot
  CHECK(!footwear.yes_for[8]);  // Bag
  const VqaQuestion& either = questions[find_question("is this a sneaker or a sandal?")];
  CHECK(either.type == QuestionType::kOr);
  CHECK((either.yes_for[7] && either.yes_for[5] && !either.yes_for[9]));
  CHECK(questions[find_question("is it a top?")].yes_for[2]);
  CHECK(!questions[find_question("is this not a coat?")].yes_for[4]);
  CHECK(std::string(question_type_name(QuestionType::kCategory)) == "category");
}

TEST_CASE("vqa parsing: any case and spacing; unknown words and non-questions are errors",
          "[multimodal]") {
  CHECK(question_tokens("Is THIS  footwear?") ==
        std::vector<std::string>{"is", "this", "footwear", "?"});
  CHECK(find_question("  Is this FOOTWEAR ? ") == find_question("is this footwear?"));
  CHECK_THROWS_WITH(find_question("is this a hat?"),
                    Catch::Contains("find_question") && Catch::Contains("unknown word 'hat'"));
  CHECK_THROWS_WITH(find_question("is this bag a?"),
                    Catch::Contains("'is this bag a?' is not a question of the grammar"));
  CHECK_THROWS_WITH(find_question("is this a bag"),
                    Catch::Contains("not a question of the grammar"));
  CHECK_THROWS_WITH(find_question("  "), Catch::Contains("expected a question"));
}

TEST_CASE("vqa examples: exact balance per question and per image, answers from the grammar",
          "[multimodal]") {
  const std::vector<int64_t> labels = uneven_labels();
  for (uint64_t seed : {0u, 1u, 7u}) {
    const std::vector<VqaExample> examples = make_vqa_examples(labels, seed);
    REQUIRE(examples.size() % 4 == 0);
    std::map<int64_t, int64_t> question_balance, image_yes, image_no;
    std::map<std::string, int64_t> string_balance;
    std::vector<int64_t> type_count(kQuestionTypes, 0);
    for (const VqaExample& e : examples) {
      const VqaQuestion& q = vqa_questions()[e.question];
      CHECK(e.answer == (q.yes_for[labels[e.image]] ? 1 : 0));
      question_balance[e.question] += e.answer ? 1 : -1;
      string_balance[q.text] += e.answer ? 1 : -1;
      (e.answer ? image_yes : image_no)[e.image] += 1;
      type_count[static_cast<size_t>(q.type)] += 1;
    }
    for (const auto& [question, balance] : question_balance) CHECK(balance == 0);
    for (const auto& [text, balance] : string_balance) CHECK(balance == 0);
    CHECK(image_yes == image_no);  // the same images, each as often yes as no
    for (const auto& [image, count] : image_yes) CHECK(count == 1);
    // 345 images; only the unpairable end of the order is left out.
    CHECK(image_yes.size() * 2 + 30 >= labels.size());
    for (int64_t count : type_count) CHECK(count > static_cast<int64_t>(examples.size()) / 10);
  }
  // Seeded and deterministic.
  const auto a = make_vqa_examples(labels, 3), b = make_vqa_examples(labels, 3);
  const auto c = make_vqa_examples(labels, 4);
  REQUIRE(a.size() == b.size());
  bool same = true, differs = a.size() != c.size();
  for (size_t i = 0; i < a.size(); ++i) {
    same = same && a[i].image == b[i].image && a[i].question == b[i].question;
    if (i < c.size()) differs = differs || a[i].image != c[i].image;
  }
  CHECK(same);
  CHECK(differs);
}

TEST_CASE("vqa pairing: images of different classes, each at most once", "[multimodal]") {
  const std::vector<int64_t> labels = uneven_labels();
  Generator gen(5);
  const auto pairs = pair_images(labels, gen);
  std::set<int64_t> used;
  for (const auto& [x, y] : pairs) {
    CHECK(labels[x] != labels[y]);
    CHECK(used.insert(x).second);
    CHECK(used.insert(y).second);
  }
  // All of one class: nothing can be paired.
  Generator other(5);
  CHECK(pair_images(std::vector<int64_t>(6, 3), other).empty());
  CHECK_THROWS_WITH(pair_images({0, 10}, other),
                    Catch::Contains("pair_images") && Catch::Contains("label 10 of image 1"));
}
