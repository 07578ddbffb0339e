// Containers of modules, as torch.nn: Sequential, ModuleList, ModuleDict.
//
// Children are registered under their position ("0", "1", ...) or their key, so parameter names
// match PyTorch's (`0.weight`, `encoder.2.bias`) and state_dicts load unchanged:
//
//   auto mlp = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8),
//                                               std::make_shared<nn::ReLU>(),
//                                               std::make_shared<nn::Linear>(8, 2));
//   Tensor y = (*mlp)(x);
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace minidl::nn {

using ModulePtr = std::shared_ptr<Module>;
using NamedModules = std::vector<std::pair<std::string, ModulePtr>>;

// What Sequential and ModuleList share: an ordered list of child modules, indexable and
// iterable.
class ModuleSequence : public Module {
 public:
  size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  // The index-th module; negative indices count from the end, as in Python.
  ModulePtr operator[](int64_t index) const;
  // The index-th module as its concrete type (an error if it is not one).
  template <typename M>
  std::shared_ptr<M> at(int64_t index) const {
    auto typed = std::dynamic_pointer_cast<M>((*this)[index]);
    MINIDL_CHECK(typed != nullptr, type_name(),
                 "module " << index << " (" << (*this)[index]->type_name()
                           << ") is not of the requested type");
    return typed;
  }
  std::vector<ModulePtr>::const_iterator begin() const { return modules_.begin(); }
  std::vector<ModulePtr>::const_iterator end() const { return modules_.end(); }

 protected:
  explicit ModuleSequence(std::string type_name) : Module(std::move(type_name)) {}
  // Registers `module` under `name` and appends it to the list.
  void append_child(const std::string& name, ModulePtr module);

 private:
  std::vector<ModulePtr> modules_;
};

// Chains single-tensor forwards: forward(x) = m_n(...m_1(m_0(x))); an empty Sequential returns x.
class Sequential : public ModuleSequence {
 public:
  Sequential() : ModuleSequence("Sequential") {}
  // (A braced list {a, b} is ambiguous with the variadic form: spell std::vector<ModulePtr>{...}.)
  explicit Sequential(const std::vector<ModulePtr>& modules);
  // Children named by their keys (PyTorch's Sequential(OrderedDict(...))).
  explicit Sequential(const NamedModules& named_modules);
  template <typename First, typename... Rest>
  explicit Sequential(std::shared_ptr<First> first, std::shared_ptr<Rest>... rest)
      : Sequential(std::vector<ModulePtr>{std::move(first), std::move(rest)...}) {}

  Tensor forward(const Tensor& input) override;

  // Appends under the next position name ("3" for the fourth), or under `name`.
  void push_back(ModulePtr module);
  void push_back(const std::string& name, ModulePtr module);
};

// Holds modules in a list (registered as "0", "1", ...); has no forward of its own.
class ModuleList : public ModuleSequence {
 public:
  ModuleList() : ModuleSequence("ModuleList") {}
  explicit ModuleList(const std::vector<ModulePtr>& modules);

  void push_back(ModulePtr module);
  void append(ModulePtr module) { push_back(std::move(module)); }
  void extend(const std::vector<ModulePtr>& modules);
};

// Holds modules by key, in insertion order; has no forward of its own.
class ModuleDict : public Module {
 public:
  ModuleDict() : Module("ModuleDict") {}
  explicit ModuleDict(const NamedModules& modules);

  // Adds a module under a new key (keys are unique; a key cannot be re-bound).
  void insert(const std::string& key, ModulePtr module);
  void update(const NamedModules& modules);
  bool contains(const std::string& key) const;
  ModulePtr operator[](const std::string& key) const;  // an error naming the key if absent
  template <typename M>
  std::shared_ptr<M> at(const std::string& key) const {
    auto typed = std::dynamic_pointer_cast<M>((*this)[key]);
    MINIDL_CHECK(typed != nullptr, type_name(),
                 "module \"" << key << "\" (" << (*this)[key]->type_name()
                             << ") is not of the requested type");
    return typed;
  }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::vector<std::string> keys() const;
  std::vector<ModulePtr> values() const;
  const NamedModules& items() const { return items_; }

 private:
  NamedModules items_;
};

}  // namespace minidl::nn
