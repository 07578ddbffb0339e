// nn::Module: the base of every layer and model, with torch.nn.Module's names and behaviour.
//
// A module owns named parameters (tensors that require grad), named buffers (state that is
// saved but not trained, like BatchNorm's running mean) and named submodules. Names compose
// with dots, exactly as in PyTorch, so `encoder.lstm.weight_ih_l0` in a PyTorch state_dict is
// the same tensor here:
//
//   struct Net : nn::Module {
//     Net() : Module("Net") {
//       fc1 = register_module("fc1", std::make_shared<nn::Linear>(784, 256));
//       fc2 = register_module("fc2", std::make_shared<nn::Linear>(256, 10));
//     }
//     Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))); }
//     std::shared_ptr<nn::Linear> fc1, fc2;
//   };
//
// Modules are held by std::shared_ptr (libtorch wraps the same thing in a ModuleHolder).
// Layers whose forward takes one tensor and returns one override forward(const Tensor&); that is
// what Sequential chains and what summary() can trace. Others (LSTM, attention) define their own
// forward signatures.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/tensor.h"
#include "nn/module_holder.h"
#include "nn/state_dict.h"

namespace minidl::nn {

// The base of every layer (torch.nn.Module): named parameters, buffers and submodules, train /
// eval mode, hooks, state_dict, to(dtype); subclasses define forward.
class Module {
 public:
  explicit Module(std::string type_name = "Module") : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // ---- the single-tensor forward (Sequential, summary)
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input);

  // ---- registration (called from constructors)
  // Stores `tensor` under `name` (made a leaf requiring grad if requires_grad) and returns the
  // stored handle; keep it as a member. An undefined tensor registers "no parameter" (bias=False).
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor tensor);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // The module of a handle (nn/module_holder.h): `fc = register_module("fc", nn::Linear(4, 2));`
  // leaves the member and the registered child one and the same module.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, const ModuleHolder<M>& holder) {
    return register_module(name, holder.ptr());
  }

  // ---- traversal (recursive, registration order, dotted names)
  std::vector<Tensor> parameters(bool recurse = true) const;
  StateDict named_parameters(bool recurse = true) const;
  StateDict named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // This module (named "") and all descendants.
  std::vector<std::pair<std::string, Module*>> named_modules();

  // ---- state
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad(bool set_to_none = true);
  // Calls fn on every module, children first, then this one (as torch's apply).
  void apply(const std::function<void(Module&)>& fn);
  // Converts every floating parameter and buffer to dtype, in place (handles stay valid).
  void to(DType dtype, bool non_blocking = false);
  // Moves the module to `device`, as libtorch's module->to(device): minidl runs on the CPU, so
  // the CPU is accepted (nothing moves) and any other device is an error naming it.
  void to(Device device, bool non_blocking = false);
  void to(Device device, DType dtype, bool non_blocking = false);

  // Parameters and buffers, with dotted names. Tensors share storage with the module.
  StateDict state_dict() const;
  // Copies values into the module's tensors. strict: a missing, unexpected or mis-shaped entry
  // is an error that names it (non-strict skips missing and unexpected ones; shapes must match).
  void load_state_dict(const StateDict& state, bool strict = true);

  // ---- description
  const std::string& type_name() const { return type_name_; }
  // The constructor arguments, as PyTorch prints them: "in_features=784, out_features=256".
  virtual std::string extra_repr() const { return ""; }
  // PyTorch-style nested printout.
  std::string to_string() const;
  int64_t num_parameters() const;

 protected:
  void add_child(const std::string& name, std::shared_ptr<Module> module);

 private:
  void collect(const std::string& prefix, bool recurse, bool params, StateDict& out) const;
  void print(std::ostream& os, int indent) const;

  std::string type_name_;
  StateDict parameters_;
  StateDict buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

std::ostream& operator<<(std::ostream& os, const Module& module);

}  // namespace minidl::nn
