// StateDict: an ordered name -> tensor list (PyTorch's OrderedDict of a state_dict, libtorch's
// torch::OrderedDict<std::string, Tensor>), what named_parameters(), named_buffers() and
// state_dict() return.
//
// It is a std::vector of (name, tensor) pairs, so index loops, .first/.second and structured
// bindings work; it also answers libtorch's OrderedDict calls:
//   for (auto& p : model->named_parameters()) std::cout << p.key() << p.value().sizes();
//   model->named_parameters()["fc.weight"];       // an error naming the key if absent
//   sd.contains("fc.bias"); sd.find("fc.bias");   // find: nullptr if absent
//   sd.keys(); sd.values(); sd.items();
// Lookups by name scan the list (state dicts are small; no index to keep in sync).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minidl::nn {

// One (name, tensor) entry, with libtorch's OrderedDict::Item accessors.
struct NamedTensor : std::pair<std::string, Tensor> {
  using std::pair<std::string, Tensor>::pair;
  NamedTensor(const std::pair<std::string, Tensor>& entry)  // NOLINT: implicit, as a pair
      : std::pair<std::string, Tensor>(entry) {}
  const std::string& key() const { return first; }
  Tensor& value() { return second; }
  const Tensor& value() const { return second; }
};

// A module's named tensors in registration order ("fc1.weight", ...), looked up by name.
class StateDict : public std::vector<NamedTensor> {
 public:
  using std::vector<NamedTensor>::vector;
  using std::vector<NamedTensor>::operator[];
  // The tensor named `key`; an error listing the names if there is none.
  Tensor& operator[](const std::string& key);
  const Tensor& operator[](const std::string& key) const;
  Tensor& at(const std::string& key) { return (*this)[key]; }
  const Tensor& at(const std::string& key) const { return (*this)[key]; }
  // The tensor named key, or nullptr.
  Tensor* find(const std::string& key);
  const Tensor* find(const std::string& key) const;
  bool contains(const std::string& key) const { return find(key) != nullptr; }
  std::vector<std::string> keys() const;
  std::vector<Tensor> values() const;
  const std::vector<NamedTensor>& items() const { return *this; }
};

}  // namespace minidl::nn
