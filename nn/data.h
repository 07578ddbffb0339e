// Datasets, a batching DataLoader, padding for variable-length sequences, text lines and a
// vocabulary (torch.utils.data's names where it has them).
//
//   auto data = std::make_shared<nn::TensorDataset>(images, labels);   // [N, ...], [N]
//   nn::DataLoader loader(data, /*batch_size=*/64, /*shuffle=*/true, /*drop_last=*/false, 42);
//   for (int epoch = 0; epoch < 3; ++epoch)
//     for (const nn::Example& batch : loader)   // batch.data [64, ...], batch.target [64]
//       ...
//
// Shuffling uses the loader's own generator, seeded from (seed, epoch): the same seed gives the
// same order in every epoch of every run, different epochs get different orders, and
// set_epoch(e) replays epoch e (to resume a run).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace minidl::nn {

// One sample, or a batch of them: the input and its target (undefined if the dataset has none).
struct Example {
  Tensor data;
  Tensor target;
};

// A map-style dataset: size() examples, get(i) the i-th.
class Dataset {
 public:
  virtual ~Dataset() = default;
  // The number of examples.
  virtual int64_t size() const = 0;
  // The example at 0 <= index < size().
  virtual Example get(int64_t index) const = 0;
};

// Examples are rows (dim 0) of `data` and of `target`, which must have the same length; the
// rows are views, not copies. `target` may be undefined.
class TensorDataset : public Dataset {
 public:
  explicit TensorDataset(Tensor data, Tensor target = Tensor());
  int64_t size() const override;
  Example get(int64_t index) const override;

 private:
  Tensor data_, target_;
};

// Stacks the examples' data (and targets, if defined) along a new dim 0 (torch's
// default_collate). Shapes must agree; errors name the index at fault.
Example default_collate(const std::vector<Example>& examples);

// Variable-length sequences [T_i, *rest] (e.g. 1-d int64 token ids) padded into one tensor.
struct PaddedBatch {
  Tensor padded;   // [B, T_max, *rest], positions t >= T_i filled with padding_value
  Tensor lengths;  // [B] int64, the T_i
  Tensor mask;     // [B, T_max] bool, true at the real (non-padding) positions
};
// sequences [T_i, *rest] (same rest and dtype, at least one) -> padded [B, T_max, *rest],
// lengths [B], mask [B, T_max].
PaddedBatch pad_collate(const std::vector<Tensor>& sequences, double padding_value = 0);

// Serves batches of batch_size examples (the last one short unless drop_last), collated by
// `collate` (default_collate stacks them: data [B, ...], target [B, ...]).
class DataLoader {
 public:
  using Collate = std::function<Example(const std::vector<Example>&)>;

  DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size = 1, bool shuffle = false,
             bool drop_last = false, uint64_t seed = 0, Collate collate = default_collate);

  // Number of batches per epoch (len(loader)).
  int64_t size() const;
  int64_t batch_size() const { return batch_size_; }
  // The epoch the next begin() will run; each begin() advances it.
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t epoch);
  // The dataset indices of one epoch in the order they are served (what begin() uses).
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  // An input iterator over one epoch's batches (begin() draws the epoch's order).
  class Iterator {
   public:
    const Example& operator*() const { return batch_; }
    const Example* operator->() const { return &batch_; }
    Iterator& operator++();
    bool operator!=(const Iterator& other) const { return position_ != other.position_; }
    bool operator==(const Iterator& other) const { return position_ == other.position_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::vector<int64_t> order, int64_t position);
    void load();
    const DataLoader* loader_;
    std::vector<int64_t> order_;
    int64_t position_;  // batch number
    Example batch_;
  };
  // Starts an epoch (shuffling if asked) and advances epoch().
  Iterator begin();
  Iterator end() const;

 private:
  std::shared_ptr<const Dataset> dataset_;
  int64_t batch_size_;
  bool shuffle_, drop_last_;
  uint64_t seed_;
  Collate collate_;
  int64_t epoch_ = 0;
};

// The lines of a text file, without their '\n' (or "\r\n"); no empty last line for a final '\n'.
std::vector<std::string> read_lines(const std::string& path);

// A character- or word-level vocabulary with four special tokens at fixed ids:
// <pad> = 0 (what pad_collate pads with by default), <bos> = 1, <eos> = 2, <unk> = 3.
// Characters are UTF-8 code points; words are separated by whitespace.
class Vocab {
 public:
  enum class Level { Character, Word };
  static constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kUnk = 3;

  // Only the special tokens.
  explicit Vocab(Level level = Level::Character);
  // Tokens seen at least min_freq times in `texts`, most frequent first (ties by token order).
  static Vocab build(const std::vector<std::string>& texts, Level level = Level::Character,
                     int64_t min_freq = 1);

  // Adds a token if new; returns its id.
  int64_t add_token(const std::string& token);
  // The text split into characters or words.
  std::vector<std::string> tokenize(const std::string& text) const;
  // Token ids (unknown tokens -> kUnk), optionally framed by <bos> ... <eos>.
  std::vector<int64_t> encode(const std::string& text, bool add_bos = false,
                              bool add_eos = false) const;
  // Back to text (characters joined directly, words with a space); special tokens are dropped
  // unless skip_special is false.
  std::string decode(const std::vector<int64_t>& ids, bool skip_special = true) const;

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  Level level() const { return level_; }
  // Whether token is in the vocabulary.
  bool contains(const std::string& token) const { return ids_.count(token) != 0; }
  int64_t token_to_id(const std::string& token) const;  // kUnk if absent
  const std::string& id_to_token(int64_t id) const;
  // All tokens, indexed by id (specials first).
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  Level level_;
  std::vector<std::string> tokens_;
  std::map<std::string, int64_t> ids_;
};

}  // namespace minidl::nn
