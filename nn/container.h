// Containers of modules, as torch.nn: Sequential, ModuleList, ModuleDict.
//
// Children are registered under their position ("0", "1", ...) or their key, so parameter names
// match PyTorch's (`0.weight`, `encoder.2.bias`) and state_dicts load unchanged:
//
//   auto mlp = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8),
//                                               std::make_shared<nn::ReLU>(),
//                                               std::make_shared<nn::Linear>(8, 2));
//   Tensor y = (*mlp)(x);
//
// Sequential also takes libtorch's forms: module handles (nn::ModuleHolder, MINIDL_MODULE
// classes) and plain functions, mixed with shared_ptrs, and named entries:
//   nn::Sequential seq(Net(), std::make_shared<nn::ReLU>(), relu);
//   nn::Sequential named({{"fc", std::make_shared<nn::Linear>(4, 2)}, {"act", Net()}});
// A module given with its concrete type is called through ITS forward(x) (found by name, so a
// user's `Tensor forward(Tensor x)` that does not override Module::forward is still the one
// called); a module given as a plain ModulePtr through the virtual Module::forward.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nn/functional_module.h"
#include "nn/module.h"

namespace minidl::nn {

using ModulePtr = std::shared_ptr<Module>;
using NamedModules = std::vector<std::pair<std::string, ModulePtr>>;
// A Sequential entry's single-tensor call.
using ForwardCall = std::function<Tensor(const Tensor&)>;

namespace detail {

template <typename M, typename = void>
struct has_tensor_forward : std::false_type {};
template <typename M>
struct has_tensor_forward<
    M, std::enable_if_t<std::is_convertible_v<
           decltype(std::declval<M&>().forward(std::declval<const Tensor&>())), Tensor>>>
    : std::true_type {};

// M's own forward(x) when it has one returning a tensor, else the virtual Module::forward (whose
// error names the module, e.g. an LSTM, whose forward returns a tuple).
template <typename M>
ForwardCall forward_call(M* module) {
  if constexpr (has_tensor_forward<M>::value) {
    return [module](const Tensor& x) -> Tensor { return module->forward(x); };
  } else {
    Module* base = module;
    return [base](const Tensor& x) { return base->forward(x); };
  }
}

template <typename T, typename = void>
struct is_module_handle : std::false_type {};
template <typename T>
struct is_module_handle<T, std::void_t<typename T::ContainedType>>
    : std::is_base_of<ModuleHolder<typename T::ContainedType>, T> {};

template <typename T>
struct is_module_ptr : std::false_type {};
template <typename M>
struct is_module_ptr<std::shared_ptr<M>> : std::is_base_of<Module, M> {};

// What a Sequential entry can be given as: a shared_ptr to a module, a module handle, or a
// function of one tensor (wrapped in a Functional).
template <typename T>
constexpr bool is_sequential_item =
    is_module_ptr<std::decay_t<T>>::value || is_module_handle<std::decay_t<T>>::value ||
    (std::is_invocable_r_v<Tensor, std::decay_t<T>&, const Tensor&> &&
     !std::is_convertible_v<std::decay_t<T>, ModulePtr>);

// The module and its call, from any of those forms.
struct SequentialItem {
  ModulePtr module;
  ForwardCall call;
};
template <typename T>
SequentialItem sequential_item(T&& item) {
  using D = std::decay_t<T>;
  if constexpr (is_module_ptr<D>::value) {
    MINIDL_CHECK(item != nullptr, "Sequential", "cannot add a null module");
    return {item, forward_call(item.get())};
  } else if constexpr (is_module_handle<D>::value) {
    return {item.ptr(), forward_call(item.ptr().get())};
  } else {
    auto function = std::make_shared<Functional>(Functional::Function(std::forward<T>(item)));
    return {function, forward_call(function.get())};
  }
}

}  // namespace detail

// A named Sequential entry (libtorch's NamedAnyModule): {"fc", module}, the module given in any
// form Sequential takes.
struct NamedModule {
  template <typename T, typename = std::enable_if_t<detail::is_sequential_item<T>>>
  NamedModule(std::string name, T&& item)
      : name(std::move(name)), item(detail::sequential_item(std::forward<T>(item))) {}
  std::string name;
  detail::SequentialItem item;
};

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
  // Sequential({{"fc", ...}, {"act", ...}}): children named by their keys.
  Sequential(std::initializer_list<NamedModule> named_modules);
  // Modules (shared_ptrs or handles) and functions, in order.
  template <typename First, typename... Rest,
            typename = std::enable_if_t<detail::is_sequential_item<First> &&
                                        (detail::is_sequential_item<Rest> && ...)>>
  explicit Sequential(First&& first, Rest&&... rest) : Sequential() {
    push_back(std::forward<First>(first));
    (push_back(std::forward<Rest>(rest)), ...);
  }

  Tensor forward(const Tensor& input) override;

  // Appends under the next position name ("3" for the fourth), or under `name`: a module as a
  // shared_ptr or a handle, or a function of one tensor.
  void push_back(ModulePtr module);
  void push_back(const std::string& name, ModulePtr module);
  template <typename T, typename = std::enable_if_t<detail::is_sequential_item<T> &&
                                                    !std::is_same_v<std::decay_t<T>, ModulePtr>>>
  void push_back(T&& item) {
    append(std::to_string(size()), detail::sequential_item(std::forward<T>(item)));
  }
  template <typename T, typename = std::enable_if_t<detail::is_sequential_item<T> &&
                                                    !std::is_same_v<std::decay_t<T>, ModulePtr>>>
  void push_back(const std::string& name, T&& item) {
    append(name, detail::sequential_item(std::forward<T>(item)));
  }

 private:
  void append(const std::string& name, detail::SequentialItem item);
  std::vector<ForwardCall> calls_;  // calls_[i] runs the i-th module
};

// Holds modules in a list (registered as "0", "1", ...); has no forward of its own.
class ModuleList : public ModuleSequence {
 public:
  ModuleList() : ModuleSequence("ModuleList") {}
  explicit ModuleList(const std::vector<ModulePtr>& modules);

  // Appends one module (registered as the next index) / every module of a list.
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
  // The keys / the modules, in insertion order.
  std::vector<std::string> keys() const;
  std::vector<ModulePtr> values() const;
  const NamedModules& items() const { return items_; }

 private:
  NamedModules items_;
};

}  // namespace minidl::nn
