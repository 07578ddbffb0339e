#include "nn/module.h"

#include <map>
#include <set>
#include <sstream>

#include "core/autograd.h"
#include "nn/summary.h"

namespace minidl::nn {

namespace {
void check_name(const std::string& name, const char* what) {
  MINIDL_CHECK(!name.empty() && name.find('.') == std::string::npos, "Module",
               what << " name \"" << name << "\" must be non-empty and contain no '.'");
}
}  // namespace

Tensor Module::forward(const Tensor&) {
  MINIDL_FAIL(type_name_, "has no single-tensor forward(); call its own forward signature");
}

// Every call through operator() is visible to summary() (when no summary is running this is one
// test of a thread-local pointer).
Tensor Module::operator()(const Tensor& input) {
  AnomalyScope scope(type_name_);
  detail::ForwardTrace trace(*this);
  Tensor output = forward(input);
  trace.set_output(output);
  return output;
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_name(name, "parameter");
  for (const auto& [existing, t] : parameters_)
    MINIDL_CHECK(existing != name, type_name_, "parameter \"" << name << "\" registered twice");
  if (tensor.defined()) {
    // A parameter is a leaf of the tape: detach from whatever computed its initial value.
    if (!tensor.is_leaf()) tensor = tensor.detach();
    if (requires_grad) tensor.requires_grad_(true);
  }
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_name(name, "buffer");
  for (const auto& [existing, t] : buffers_)
    MINIDL_CHECK(existing != name, type_name_, "buffer \"" << name << "\" registered twice");
  buffers_.emplace_back(name, tensor.defined() ? tensor.detach() : tensor);
  return buffers_.back().second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_name(name, "submodule");
  MINIDL_CHECK(module != nullptr, type_name_, "submodule \"" << name << "\" is null");
  for (const auto& [existing, m] : children_)
    MINIDL_CHECK(existing != name, type_name_, "submodule \"" << name << "\" registered twice");
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, bool recurse, bool params, StateDict& out) const {
  for (const auto& [name, t] : params ? parameters_ : buffers_)
    if (t.defined()) out.emplace_back(prefix + name, t);
  if (!recurse) return;
  for (const auto& [name, child] : children_)
    child->collect(prefix + name + ".", true, params, out);
}

StateDict Module::named_parameters(bool recurse) const {
  StateDict out;
  collect("", recurse, true, out);
  return out;
}

StateDict Module::named_buffers(bool recurse) const {
  StateDict out;
  collect("", recurse, false, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  // A tensor shared by two modules (tied weights) is listed once, as in PyTorch.
  std::set<const TensorImpl*> seen;
  for (const auto& [name, t] : named_parameters(recurse))
    if (seen.insert(t.impl()).second) out.push_back(t);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, child] : children_) out.push_back(child);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (const auto& [name, child] : children_)
    for (const auto& [sub, m] : child->named_modules())
      out.emplace_back(sub.empty() ? name : name + "." + sub, m);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (const auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad(bool set_to_none) {
  for (const Tensor& p : parameters()) p.zero_grad(set_to_none);
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (const auto& [name, child] : children_) child->apply(fn);
  fn(*this);
}

// (non_blocking is accepted for libtorch's signature; every copy here is synchronous.)
void Module::to(DType dtype, bool /*non_blocking*/) {
  MINIDL_CHECK(is_floating_point(dtype), "Module::to",
               "modules convert to floating dtypes only, got " << dtype);
  NoGradGuard no_grad;
  for (StateDict tensors : {named_parameters(), named_buffers()})
    for (const auto& [name, t] : tensors)
      if (t.is_floating_point() && t.dtype() != dtype) t.set_data(t.to(dtype));
}

void Module::to(Device device, bool /*non_blocking*/) {
  device.check_usable("Module::to");
}

void Module::to(Device device, DType dtype, bool non_blocking) {
  to(device, non_blocking);
  to(dtype, non_blocking);
}

StateDict Module::state_dict() const {
  StateDict out = named_parameters();
  StateDict buffers = named_buffers();
  out.insert(out.end(), buffers.begin(), buffers.end());
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  // Check everything first, so that a bad checkpoint leaves the module untouched.
  std::map<std::string, Tensor> given(state.begin(), state.end());
  std::vector<std::string> missing;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (module tensor, checkpoint tensor)
  for (const auto& [name, target] : state_dict()) {
    auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(name);
      continue;
    }
    const Tensor& source = it->second;
    MINIDL_CHECK(source.shape() == target.shape(), "load_state_dict",
                 "size mismatch for " << name << ": the checkpoint has shape "
                                      << shape_str(source.shape()) << ", the module "
                                      << shape_str(target.shape()));
    copies.emplace_back(target, source);
    given.erase(it);
  }
  if (strict) {
    std::ostringstream problems;
    if (!missing.empty()) {
      problems << "missing key(s):";
      for (const auto& k : missing) problems << ' ' << k;
    }
    if (!given.empty()) {
      problems << (missing.empty() ? "" : "; ") << "unexpected key(s):";
      for (const auto& [k, v] : given) problems << ' ' << k;
    }
    MINIDL_CHECK(missing.empty() && given.empty(), "load_state_dict",
                 "error(s) loading into " << type_name_ << ": " << problems.str());
  }
  NoGradGuard no_grad;
  for (auto& [destination, source] : copies) destination.copy_(source);  // writes through handles
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

void Module::print(std::ostream& os, int indent) const {
  os << type_name_ << '(' << extra_repr();
  if (!children_.empty()) {
    os << '\n';
    for (const auto& [name, child] : children_) {
      os << std::string(indent + 2, ' ') << '(' << name << "): ";
      child->print(os, indent + 2);
      os << '\n';
    }
    os << std::string(indent, ' ');
  }
  os << ')';
}

std::string Module::to_string() const {
  std::ostringstream os;
  print(os, 0);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Module& module) {
  return os << module.to_string();
}

}  // namespace minidl::nn
