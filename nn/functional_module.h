// Functional: a module that calls a function (libtorch's nn::Functional), so that a plain
// function can sit in a Sequential next to layers:
//
//   auto seq = std::make_shared<nn::Sequential>(
//       std::make_shared<nn::Linear>(4, 8),
//       std::make_shared<nn::Functional>(relu),              // forward(x) = relu(x)
//       std::make_shared<nn::Functional>(leaky_relu, 0.2));  // forward(x) = leaky_relu(x, 0.2)
//
// Extra arguments after the function are bound after the input, as libtorch's std::bind of
// _1 followed by the arguments. A Functional has no parameters and prints as "Functional()".
#pragma once

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "nn/module.h"

namespace minidl::nn {

// A parameter-free module whose forward(x) calls a function (plus bound trailing arguments).
class Functional : public Module {
 public:
  using Function = std::function<Tensor(Tensor)>;

  // forward(x) = function(x)
  explicit Functional(Function function) : Module("Functional"), function_(std::move(function)) {
    MINIDL_CHECK(static_cast<bool>(function_), "Functional", "the function is empty");
  }
  // forward(x) = function(x, args...): the arguments are copied once, here.
  template <typename F, typename Arg, typename... Args>
  Functional(F function, Arg&& arg, Args&&... args)
      : Functional(Function([function = std::move(function),
                             bound = std::make_tuple(std::forward<Arg>(arg),
                                                     std::forward<Args>(args)...)](Tensor input) {
          return std::apply(
              [&](const auto&... bound_args) -> Tensor { return function(input, bound_args...); },
              bound);
        })) {}

  Tensor forward(const Tensor& input) override { return function_(input); }

 private:
  Function function_;
};

}  // namespace minidl::nn
