// ModuleHolder<Impl>: libtorch's handle to a module, shared like a std::shared_ptr<Impl> but
// constructed like the module itself and called like a function.
//
//   struct NetImpl : nn::Module {
//     NetImpl() : Module("Net") { fc = register_module("fc", nn::Linear(784, 10)); }
//     Tensor forward(const Tensor& x) override { return fc(x); }   // fc->forward(x) too
//     nn::Linear fc{nullptr};                                       // empty until assigned
//   };
//   MINIDL_MODULE(Net);                                             // Net holds a NetImpl
//
//   Net net;                  // a NetImpl built with its default arguments
//   Tensor y = net(x);        // NetImpl::forward
//   net->parameters();        // the module's own members through ->
//
// Copies of a holder share one module (the parent's registered child and the member are the same
// object), as copies of a shared_ptr do. A holder built from nullptr is empty; using an empty
// holder raises an error naming the module type, instead of dereferencing null.
//
// MINIDL_MODULE(Name) defines class Name holding a NameImpl (libtorch's TORCH_MODULE).
#pragma once

#include <cxxabi.h>

#include <cstddef>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "core/error.h"

namespace minidl::nn {

template <typename Impl>
class ModuleHolder;
struct NamedModule;  // nn/container.h

namespace detail {

// True for ModuleHolder<Impl> and the classes MINIDL_MODULE derives from it.
template <typename T, typename Impl>
constexpr bool is_holder_of = std::is_base_of_v<ModuleHolder<Impl>, std::decay_t<T>>;

}  // namespace detail

// A shared handle to a module (libtorch's nn::Linear around nn::LinearImpl): copies share one
// module; -> and * reach it; calling it calls forward.
template <typename Impl>
class ModuleHolder {
 public:
  using ContainedType = Impl;

  // The module built with its default arguments. (A module without them has no default handle:
  // write `nn::Linear fc{nullptr};` for a member that is assigned later.)
  ModuleHolder() : impl_(construct_default()) {}
  // An empty handle, to be assigned later (usually from register_module).
  ModuleHolder(std::nullptr_t) {}
  // The module built from these arguments: nn::Linear(784, 10), nn::Conv2d(options).
  template <typename Head, typename... Tail,
            typename = std::enable_if_t<!(sizeof...(Tail) == 0 &&
                                          (detail::is_holder_of<Head, Impl> ||
                                           std::is_same_v<std::decay_t<Head>, std::nullptr_t>))>>
  explicit ModuleHolder(Head&& head, Tail&&... tail)
      : impl_(std::make_shared<Impl>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}
  // A module built from a braced list of named entries: nn::ModuleHolder<nn::Sequential>(
  // {{"fc", fc}, {"act", relu}}), as libtorch's torch::nn::Sequential({{"fc", fc}, ...}).
  // (The variadic constructor above cannot deduce a braced list.)
  template <typename I = Impl, typename = std::enable_if_t<
                                   std::is_constructible_v<I, std::initializer_list<NamedModule>>>>
  ModuleHolder(std::initializer_list<NamedModule> entries)  // NOLINT: implicit, as libtorch's
      : impl_(std::make_shared<Impl>(entries)) {}
  // An existing module (register_module returns one; std::make_shared<nn::LinearImpl>(...) too).
  ModuleHolder(std::shared_ptr<Impl> module) : impl_(std::move(module)) {}

  bool is_empty() const noexcept { return impl_ == nullptr; }
  explicit operator bool() const noexcept { return !is_empty(); }

  // The module; an empty handle (made from nullptr) is an error naming the type.
  Impl* get() const {
    MINIDL_CHECK(impl_ != nullptr, "ModuleHolder",
                 "this " << type_label()
                         << " handle is empty (it was made from nullptr): assign it a module, e.g. "
                            "from register_module, before using it");
    return impl_.get();
  }
  Impl* operator->() const { return get(); }
  Impl& operator*() const { return *get(); }
  // The shared_ptr itself (an empty handle is an error, as get()).
  const std::shared_ptr<Impl>& ptr() const {
    get();  // the same error for an empty handle
    return impl_;
  }

  // Calls the module's forward with these arguments, whatever its signature.
  template <typename... Args>
  decltype(auto) operator()(Args&&... args) const {
    return get()->forward(std::forward<Args>(args)...);
  }
  // Indexes the module (Sequential, ModuleList, ModuleDict).
  template <typename Arg>
  decltype(auto) operator[](Arg&& arg) const {
    return (*get())[std::forward<Arg>(arg)];
  }

 private:
  static std::shared_ptr<Impl> construct_default() {
    static_assert(std::is_default_constructible_v<Impl>,
                  "this module has no default arguments: construct it with arguments, or "
                  "declare an empty handle with `{nullptr}` and assign it later");
    return std::make_shared<Impl>();
  }
  // "NetImpl" rather than its mangled name "7NetImpl".
  static std::string type_label() {
    int status = 0;
    char* name = abi::__cxa_demangle(typeid(Impl).name(), nullptr, nullptr, &status);
    std::string out = status == 0 && name ? name : typeid(Impl).name();
    std::free(name);
    return out;
  }

  std::shared_ptr<Impl> impl_;
};

}  // namespace minidl::nn

// Defines `class Name` as the handle of `NameImpl` (libtorch's TORCH_MODULE).
#define MINIDL_MODULE(Name)                                     \
  class Name : public ::minidl::nn::ModuleHolder<Name##Impl> {  \
   public:                                                      \
    using ::minidl::nn::ModuleHolder<Name##Impl>::ModuleHolder; \
    using Impl = Name##Impl;                                    \
  }
