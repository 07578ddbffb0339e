// Yes/no questions about Fashion-MNIST images, from a small grammar over its 10 classes
// (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot):
//
//   class      "is this a bag?"                     the class itself
//   or         "is it a sneaker or a sandal?"       either of two classes (both orders)
//   category   "does this show footwear?"           footwear, shoe, closed shoe, top,
//                                                   upper-body clothing, clothing
//   not        "is this not a coat?"                the complement of a class or a category
//
// with the phrasings "is this", "is it", "does this show", "does the image show" ("is this
// not", "is it not" for negations): 456 distinct question strings, each with the set of classes
// it is answered yes for.
//
// Balance, exact by construction. Images of different classes a != b are paired (seeded), and
// each pair (x of class a, y of class b) gives four examples from two questions Q (true for a,
// false for b) and R (true for b, false for a), each drawn with its phrasing:
//
//   (x, Q, yes)  (y, Q, no)  (y, R, yes)  (x, R, no)
//
// so every question string is answered yes exactly as often as no, and every image is asked
// one question answered yes and one answered no -- in every split. A model that sees only the
// question, or only the image, therefore scores exactly 0.5: whatever it answers for a string
// (an image) is right for half of that string's (image's) examples.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/generator.h"

namespace minidl::models {

constexpr int64_t kFashionClasses = 10;

enum class QuestionType { kClass, kOr, kCategory, kNot };
constexpr int kQuestionTypes = 4;
// "class", "or", "category", "not" (the suffixes of the per-type metrics).
const char* question_type_name(QuestionType type);

// One question string of the grammar and the classes it is answered yes for.
struct VqaQuestion {
  std::string text;                 // "is this a sneaker or a sandal?"
  std::vector<std::string> tokens;  // "is", "this", "a", ..., "?"
  QuestionType type;
  std::array<bool, kFashionClasses> yes_for;  // answered yes for an image of class c
  int64_t concept_id;                         // the class set it asks about (shared by phrasings)
};

// Every question of the grammar, in a fixed order (its index is the question's id).
const std::vector<VqaQuestion>& vqa_questions();

// The words of a question: lowercased, split at whitespace, '?' a token of its own.
std::vector<std::string> question_tokens(const std::string& text);

// The id of a question given as text (any case and spacing, e.g. "Is this footwear ?"). A word
// the grammar does not know, or known words that are not one of its questions, is an error
// naming the word / the question.
int64_t find_question(const std::string& text);

// One (image, question, answer) example.
struct VqaExample {
  int64_t image;     // row of the split's images
  int64_t question;  // index into vqa_questions()
  int64_t answer;    // 1 = yes, 0 = no
};

// Pairs the images (labels[i] is image i's class) into pairs of different classes, each image
// at most once, in a seeded random order; the few that cannot be paired (all of one class, at
// the end) are left out.
std::vector<std::pair<int64_t, int64_t>> pair_images(const std::vector<int64_t>& labels,
                                                     Generator& generator);

// The balanced examples of one split: pair_images, then the four examples of each pair (see the
// top of this file), questions drawn by type with equal weights among those that separate the
// pair's classes (a class question always does; the others may not, and then a class question is
// asked instead). Deterministic for a seed.
std::vector<VqaExample> make_vqa_examples(const std::vector<int64_t>& labels, uint64_t seed);

}  // namespace minidl::models
