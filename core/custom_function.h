// Custom autograd functions, as libtorch's torch::autograd::Function:
//
//   struct MulConstant : autograd::Function<MulConstant> {
//     static Tensor forward(autograd::AutogradContext* ctx, Tensor x, double k) {
//       ctx->saved_data["k"] = k;
//       return x * k;
//     }
//     static autograd::tensor_list backward(autograd::AutogradContext* ctx,
//                                           autograd::tensor_list grad_outputs) {
//       return {grad_outputs[0] * ctx->saved_data["k"].toDouble(), Tensor()};  // none for k
//     }
//   };
//   Tensor y = MulConstant::apply(x, 2.0);
//
// forward runs with grad mode off and returns a Tensor or a tensor_list. backward receives one
// gradient per output (zeros for an output the loss does not reach) and returns one gradient per
// forward argument, in order; a non-tensor argument (or a tensor needing none) gets an undefined
// Tensor. The tape records one entry per differentiable output (minidl's entries have one output
// each), named after the Function type; each calls backward with the gradient of its own output
// and zeros for the others, and the engine sums the results -- the same total by linearity.
// backward runs in grad mode during a create_graph backward, so a backward written with minidl
// ops is differentiable again.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/autograd.h"

namespace minidl {

// A value stored in AutogradContext::saved_data, like c10::IValue: none, double, int64, bool,
// string or Tensor. Reading it as another kind is an error naming both kinds.
class IValue {
 public:
  IValue() = default;
  IValue(double v) : value_(v) {}                     // NOLINT: implicit, as c10::IValue
  IValue(int64_t v) : value_(v) {}                    // NOLINT
  IValue(int v) : value_(static_cast<int64_t>(v)) {}  // NOLINT
  IValue(bool v) : value_(v) {}                       // NOLINT
  IValue(std::string v) : value_(std::move(v)) {}     // NOLINT
  IValue(const char* v) : value_(std::string(v)) {}   // NOLINT
  IValue(Tensor v) : value_(std::move(v)) {}          // NOLINT

  bool isNone() const { return value_.index() == 0; }
  bool isDouble() const { return std::holds_alternative<double>(value_); }
  bool isInt() const { return std::holds_alternative<int64_t>(value_); }
  bool isBool() const { return std::holds_alternative<bool>(value_); }
  bool isString() const { return std::holds_alternative<std::string>(value_); }
  bool isTensor() const { return std::holds_alternative<Tensor>(value_); }

  // The held value; another kind than asked for is an error naming both (tagKind()).
  double toDouble() const;
  int64_t toInt() const;
  bool toBool() const;
  const std::string& toStringRef() const;
  Tensor toTensor() const;
  // "None", "Double", "Int", "Bool", "String" or "Tensor".
  std::string tagKind() const;

 private:
  std::variant<std::monostate, double, int64_t, bool, std::string, Tensor> value_;
};

namespace autograd {

using tensor_list = std::vector<Tensor>;
using variable_list = tensor_list;

// What forward leaves for backward.
class AutogradContext {
 public:
  // Tensors backward needs, checked against in-place changes like every saved tensor.
  void save_for_backward(const tensor_list& tensors);
  tensor_list get_saved_variables() const;
  // Outputs that get no gradient (e.g. indices): they do not require grad.
  void mark_non_differentiable(const tensor_list& outputs);
  // Inputs that forward modified in place and returns: their history continues through this
  // function (as an in-place op's). Leaves that require grad cannot be modified in place.
  void mark_dirty(const tensor_list& inputs);
  // Whether the i-th tensor argument of forward requires grad (arguments that are not tensors
  // are not counted, as in libtorch).
  bool needs_input_grad(size_t index) const;

  std::unordered_map<std::string, IValue> saved_data;

  // Used by Function<T>::apply.
  std::vector<bool> needs_input_grad_;
  std::vector<Tensor> non_differentiable_;
  std::vector<Tensor> dirty_;

 private:
  std::vector<SavedTensor> saved_;
};

namespace detail {

// The demangled name of a type ("MyFn", "ns::MyFn").
std::string demangle(const char* mangled);

// Records the entries of one apply(): inputs are the tensor arguments, arg_is_tensor says which
// of forward's arguments were tensors, outputs are forward's results (replaced in place by
// tape-tracked handles), backward is T::backward bound to the context.
using UserBackward = std::function<tensor_list(AutogradContext*, tensor_list)>;
void record_function(const char* name, const std::shared_ptr<AutogradContext>& ctx,
                     const tensor_list& inputs, const std::vector<bool>& arg_is_tensor,
                     tensor_list& outputs, UserBackward backward);

template <typename A>
constexpr bool is_tensor_arg = std::is_same_v<std::decay_t<A>, Tensor>;

template <typename A>
void collect(const A& arg, tensor_list& tensors, std::vector<bool>& is_tensor) {
  is_tensor.push_back(is_tensor_arg<A>);
  if constexpr (is_tensor_arg<A>) tensors.push_back(arg);
}

}  // namespace detail

// CRTP base of a custom function T with static forward(AutogradContext*, args...) and
// static backward(AutogradContext*, tensor_list).
template <class T>
struct Function {
  // Runs T::forward(ctx, args...) with grad mode off and returns its Tensor or tensor_list; when
  // a tensor argument requires grad, one tape entry per differentiable output calls T::backward.
  template <typename... Args>
  static auto apply(Args&&... args) {
    using Result = decltype(T::forward(std::declval<AutogradContext*>(), args...));
    static_assert(std::is_same_v<Result, Tensor> || std::is_same_v<Result, tensor_list>,
                  "Function::forward must return a Tensor or a tensor_list");
    static const std::string name = detail::demangle(typeid(T).name());
    tensor_list inputs;
    std::vector<bool> arg_is_tensor;
    (detail::collect(args, inputs, arg_is_tensor), ...);
    auto ctx = std::make_shared<AutogradContext>();
    for (const Tensor& t : inputs)
      ctx->needs_input_grad_.push_back(t.defined() && t.requires_grad() && GradMode::is_enabled());
    tensor_list outputs;
    {
      NoGradGuard no_grad;
      if constexpr (std::is_same_v<Result, Tensor>) {
        outputs.push_back(T::forward(ctx.get(), std::forward<Args>(args)...));
      } else {
        outputs = T::forward(ctx.get(), std::forward<Args>(args)...);
      }
    }
    detail::record_function(
        name.c_str(), ctx, inputs, arg_is_tensor, outputs,
        [](AutogradContext* c, tensor_list grads) { return T::backward(c, std::move(grads)); });
    if constexpr (std::is_same_v<Result, Tensor>) {
      return outputs[0];
    } else {
      return outputs;
    }
  }
};

}  // namespace autograd
}  // namespace minidl
