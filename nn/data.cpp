#include "nn/data.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/generator.h"
#include "core/utf8.h"
#include "ops/shape_ops.h"

namespace minidl::nn {

// ---------------------------------------------------------------- TensorDataset

TensorDataset::TensorDataset(Tensor data, Tensor target)
    : data_(std::move(data)), target_(std::move(target)) {
  MINIDL_CHECK(data_.defined() && data_.dim() >= 1, "TensorDataset",
               "data must be a tensor with at least one dim (the examples)"
                   << (data_.defined() ? ", got shape " + shape_str(data_.shape()) : ""));
  if (target_.defined())
    MINIDL_CHECK(target_.dim() >= 1 && target_.size(0) == data_.size(0), "TensorDataset",
                 "data " << shape_str(data_.shape()) << " and target " << shape_str(target_.shape())
                         << " must have the same number of examples (size of dim 0)");
}

int64_t TensorDataset::size() const {
  return data_.size(0);
}

Example TensorDataset::get(int64_t index) const {
  MINIDL_CHECK(index >= 0 && index < size(), "TensorDataset",
               "index " << index << " is out of range for a dataset of " << size() << " examples");
  return {data_.select(0, index), target_.defined() ? target_.select(0, index) : Tensor()};
}

// ---------------------------------------------------------------- collation

Example default_collate(const std::vector<Example>& examples) {
  MINIDL_CHECK(!examples.empty(), "default_collate", "cannot collate an empty list of examples");
  bool has_target = examples[0].target.defined();
  std::vector<Tensor> data, targets;
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    MINIDL_CHECK(e.data.defined(), "default_collate", "example " << i << " has no data");
    MINIDL_CHECK(e.data.shape() == examples[0].data.shape(), "default_collate",
                 "example " << i << " has data of shape " << shape_str(e.data.shape())
                            << ", example 0 " << shape_str(examples[0].data.shape())
                            << " (use pad_collate for variable lengths)");
    MINIDL_CHECK(
        e.target.defined() == has_target, "default_collate",
        "example " << i << (has_target ? " lacks" : " has") << " a target, unlike example 0");
    data.push_back(e.data);
    if (has_target) {
      MINIDL_CHECK(e.target.shape() == examples[0].target.shape(), "default_collate",
                   "example " << i << " has a target of shape " << shape_str(e.target.shape())
                              << ", example 0 " << shape_str(examples[0].target.shape()));
      targets.push_back(e.target);
    }
  }
  return {stack(data), has_target ? stack(targets) : Tensor()};
}

PaddedBatch pad_collate(const std::vector<Tensor>& sequences, double padding_value) {
  MINIDL_CHECK(!sequences.empty(), "pad_collate", "cannot collate an empty list of sequences");
  const Tensor& first = sequences[0];
  MINIDL_CHECK(first.defined() && first.dim() >= 1, "pad_collate",
               "sequences must have at least one dim (time), sequence 0 has shape "
                   << (first.defined() ? shape_str(first.shape()) : std::string("undefined")));
  Shape rest(first.shape().begin() + 1, first.shape().end());
  int64_t batch = static_cast<int64_t>(sequences.size()), max_length = 0;
  std::vector<int64_t> lengths;
  for (int64_t i = 0; i < batch; ++i) {
    const Tensor& s = sequences[i];
    MINIDL_CHECK(s.defined() && s.dim() == first.dim() &&
                     Shape(s.shape().begin() + 1, s.shape().end()) == rest,
                 "pad_collate",
                 "sequence " << i << " has shape "
                             << (s.defined() ? shape_str(s.shape()) : std::string("undefined"))
                             << ", sequence 0 " << shape_str(first.shape())
                             << " (only dim 0 may differ)");
    MINIDL_CHECK(
        s.dtype() == first.dtype(), "pad_collate",
        "sequence " << i << " has dtype " << s.dtype() << ", sequence 0 " << first.dtype());
    lengths.push_back(s.size(0));
    max_length = std::max(max_length, s.size(0));
  }
  Shape padded_shape{batch, max_length};
  padded_shape.insert(padded_shape.end(), rest.begin(), rest.end());
  PaddedBatch out;
  out.padded = full(padded_shape, padding_value, first.dtype());
  out.mask = zeros({batch, max_length}, kBool);
  bool* mask = out.mask.data_ptr<bool>();
  for (int64_t i = 0; i < batch; ++i) {
    if (lengths[i] == 0) continue;
    copy_data(out.padded.select(0, i).narrow(0, 0, lengths[i]), sequences[i]);
    std::fill(mask + i * max_length, mask + i * max_length + lengths[i], true);
  }
  out.lengths = from_vector(lengths, {batch}, kInt64);
  return out;
}

// ---------------------------------------------------------------- DataLoader

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size, bool shuffle,
                       bool drop_last, uint64_t seed, Collate collate)
    : dataset_(std::move(dataset)),
      batch_size_(batch_size),
      shuffle_(shuffle),
      drop_last_(drop_last),
      seed_(seed),
      collate_(std::move(collate)) {
  MINIDL_CHECK(dataset_ != nullptr, "DataLoader", "the dataset is null");
  MINIDL_CHECK(batch_size_ >= 1, "DataLoader", "batch_size must be positive, got " << batch_size);
  MINIDL_CHECK(collate_ != nullptr, "DataLoader", "the collate function is empty");
}

int64_t DataLoader::size() const {
  int64_t n = dataset_->size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

void DataLoader::set_epoch(int64_t epoch) {
  MINIDL_CHECK(epoch >= 0, "DataLoader", "epoch must be non-negative, got " << epoch);
  epoch_ = epoch;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(dataset_->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  if (!shuffle_) return order;
  // One generator per epoch, seeded from (seed, epoch): any epoch can be replayed on its own.
  Generator generator(seed_ + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(epoch + 1));
  for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i)  // Fisher-Yates
    std::swap(order[i], order[generator.randint(0, i + 1)]);
  return order;
}

DataLoader::Iterator DataLoader::begin() {
  Iterator it(this, epoch_order(epoch_), 0);
  ++epoch_;
  return it;
}

DataLoader::Iterator DataLoader::end() const {
  return Iterator(this, {}, size());
}

DataLoader::Iterator::Iterator(const DataLoader* loader, std::vector<int64_t> order,
                               int64_t position)
    : loader_(loader), order_(std::move(order)), position_(position) {
  if (!order_.empty()) load();
}

void DataLoader::Iterator::load() {
  if (position_ >= loader_->size()) {
    batch_ = Example{};
    return;
  }
  int64_t start = position_ * loader_->batch_size_;
  int64_t stop = std::min<int64_t>(start + loader_->batch_size_, order_.size());
  std::vector<Example> examples;
  examples.reserve(stop - start);
  for (int64_t i = start; i < stop; ++i) examples.push_back(loader_->dataset_->get(order_[i]));
  NoGradGuard no_grad;  // batching is data plumbing, not part of any graph
  batch_ = loader_->collate_(examples);
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++position_;
  load();
  return *this;
}

// ---------------------------------------------------------------- text

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MINIDL_CHECK(in.is_open(), "read_lines",
               path << ": cannot open for reading (" << std::strerror(errno) << ")");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  MINIDL_CHECK(in.eof(), "read_lines", path << ": read error after line " << lines.size());
  return lines;
}

// ---------------------------------------------------------------- Vocab

Vocab::Vocab(Level level) : level_(level) {
  for (const char* special : {"<pad>", "<bos>", "<eos>", "<unk>"}) add_token(special);
}

Vocab Vocab::build(const std::vector<std::string>& texts, Level level, int64_t min_freq) {
  MINIDL_CHECK(min_freq >= 1, "Vocab::build", "min_freq must be at least 1, got " << min_freq);
  Vocab vocab(level);
  std::map<std::string, int64_t> counts;
  for (const std::string& text : texts)
    for (const std::string& token : vocab.tokenize(text)) ++counts[token];
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [token, count] : sorted)
    if (count >= min_freq) vocab.add_token(token);
  return vocab;
}

int64_t Vocab::add_token(const std::string& token) {
  MINIDL_CHECK(!token.empty(), "Vocab", "cannot add an empty token");
  auto it = ids_.find(token);
  if (it != ids_.end()) return it->second;
  int64_t id = size();
  tokens_.push_back(token);
  ids_.emplace(token, id);
  return id;
}

std::vector<std::string> Vocab::tokenize(const std::string& text) const {
  std::vector<std::string> tokens;
  if (level_ == Level::Word) {
    std::string word;
    for (char c : text) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (!word.empty()) tokens.push_back(word);
        word.clear();
      } else {
        word.push_back(c);
      }
    }
    if (!word.empty()) tokens.push_back(word);
    return tokens;
  }
  // UTF-8 code points (core/utf8.h); a malformed byte is a token by itself.
  tokens = utf8_chars(text);
  return tokens;
}

std::vector<int64_t> Vocab::encode(const std::string& text, bool add_bos, bool add_eos) const {
  std::vector<int64_t> ids;
  if (add_bos) ids.push_back(kBos);
  for (const std::string& token : tokenize(text)) ids.push_back(token_to_id(token));
  if (add_eos) ids.push_back(kEos);
  return ids;
}

std::string Vocab::decode(const std::vector<int64_t>& ids, bool skip_special) const {
  std::string text;
  bool first = true;
  for (int64_t id : ids) {
    if (skip_special && id >= kPad && id <= kUnk) continue;
    if (level_ == Level::Word && !first) text.push_back(' ');
    text += id_to_token(id);
    first = false;
  }
  return text;
}

int64_t Vocab::token_to_id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? kUnk : it->second;
}

const std::string& Vocab::id_to_token(int64_t id) const {
  MINIDL_CHECK(id >= 0 && id < size(), "Vocab",
               "token id " << id << " is out of range for a vocabulary of " << size() << " tokens");
  return tokens_[id];
}

}  // namespace minidl::nn
