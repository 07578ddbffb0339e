// The optimizer machinery shared by every algorithm (nn/optim.h): parameter groups with their own
// hyper-parameters, the step loop that skips parameters without a gradient, zero_grad, and the
// state_dict / load_state_dict that checkpoints save and resume with. The algorithms themselves
// (one fused kernel each) are in nn/optim.cpp.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <unordered_set>

#include "core/autograd.h"
#include "core/factories.h"
#include "nn/optim.h"

namespace minidl::optim {

double ParamGroup::get(const std::string& name) const {
  auto it = options.find(name);
  MINIDL_CHECK(it != options.end(), "ParamGroup", "no hyper-parameter named '" << name << "'");
  return it->second;
}

// ---------------------------------------------------------------- Optimizer

Optimizer::Optimizer(std::string name, GroupOptions defaults)
    : name_(std::move(name)), defaults_(std::move(defaults)) {}

void Optimizer::init_groups(std::vector<ParamGroup> groups) {
  size_t total = 0;
  for (const ParamGroup& g : groups) total += g.params.size();
  MINIDL_CHECK(total > 0, name_, "got an empty parameter list");
  validate(defaults_);
  for (ParamGroup& g : groups) add_param_group(std::move(g));
}

void Optimizer::add_param_group(ParamGroup group) {
  const size_t index = param_groups_.size();
  for (const auto& [key, value] : group.options)
    MINIDL_CHECK(defaults_.count(key), name_,
                 "parameter group " << index << " sets unknown option '" << key << "' = " << value);
  for (const auto& [key, value] : defaults_) group.options.emplace(key, value);
  validate(group.options);
  std::unordered_set<const TensorImpl*> seen;
  for (const ParamGroup& other : param_groups_)
    for (const Tensor& p : other.params) seen.insert(p.impl());
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    MINIDL_CHECK(p.defined(), name_,
                 "parameter " << i << " of group " << index << " is an undefined tensor");
    MINIDL_CHECK(p.is_leaf(), name_,
                 "can't optimize a non-leaf tensor (parameter "
                     << i << " of group " << index << ", shape " << shape_str(p.shape()) << ")");
    MINIDL_CHECK(p.is_floating_point(), name_,
                 "parameter " << i << " of group " << index << " (shape " << shape_str(p.shape())
                              << ") has dtype " << p.dtype() << "; expected float32 or float64");
    MINIDL_CHECK(seen.insert(p.impl()).second, name_,
                 "parameter " << i << " of group " << index << " (shape " << shape_str(p.shape())
                              << ") appears in more than one place in the parameter groups");
  }
  param_groups_.push_back(std::move(group));
}

Tensor Optimizer::step(const std::function<Tensor()>& closure) {
  Tensor loss;
  if (closure) {
    EnableGradGuard enable_grad;
    loss = closure();
  }
  NoGradGuard no_grad;
  for (const ParamGroup& group : param_groups_) {
    for (const Tensor& param : group.params) {
      Tensor grad = param.grad();
      if (!grad.defined()) continue;  // as PyTorch: no gradient, no update, no state
      MINIDL_CHECK(grad.shape() == param.shape() && grad.dtype() == param.dtype(), name_,
                   "gradient of shape " << shape_str(grad.shape()) << " (" << grad.dtype()
                                        << ") does not match its parameter of shape "
                                        << shape_str(param.shape()) << " (" << param.dtype()
                                        << ")");
      ParamState& state = mutable_state(param);
      // A parameter reshaped or converted since (set_data, Module::to) would make the kernels
      // read its buffers out of bounds.
      for (const auto& [buffer_name, buffer] : state.buffers)
        MINIDL_CHECK(buffer.shape() == param.shape() && buffer.dtype() == param.dtype(), name_,
                     "state '" << buffer_name << "' has shape " << shape_str(buffer.shape()) << " ("
                               << buffer.dtype() << ") but its parameter now has shape "
                               << shape_str(param.shape()) << " (" << param.dtype() << ")");
      // The kernels want contiguous data: a strided parameter is updated through a copy.
      Tensor target = param.is_contiguous() ? param : param.clone();
      update(group, target, grad.is_contiguous() ? grad : grad.clone(), state);
      if (!target.is_same(param)) copy_data(param, target);
      ++param.impl()->storage->version;
    }
  }
  return loss;
}

void Optimizer::zero_grad(bool set_to_none) {
  for (const ParamGroup& group : param_groups_)
    for (const Tensor& p : group.params) p.zero_grad(set_to_none);
}

const ParamState& Optimizer::state(const Tensor& param) const {
  static const ParamState kEmpty;
  auto it = state_.find(param.impl());
  return it == state_.end() ? kEmpty : it->second;
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState out;
  int64_t index = 0;
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    const ParamGroup& group = param_groups_[g];
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    for (const auto& [key, value] : group.options) out.numbers[prefix + key] = value;
    out.numbers[prefix + "num_params"] = static_cast<double>(group.params.size());
    for (const Tensor& p : group.params) {
      const ParamState& s = state(p);
      const std::string state_prefix = "state." + std::to_string(index++) + ".";
      if (s.empty()) continue;
      out.numbers[state_prefix + "step"] = static_cast<double>(s.step);
      for (const auto& [name, buffer] : s.buffers)
        out.tensors.emplace_back(state_prefix + name, buffer);
    }
  }
  return out;
}

namespace {

// Splits "a.b.c" into {"a", "b", "c"}.
std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream stream(key);
  std::string part;
  while (std::getline(stream, part, '.')) parts.push_back(part);
  return parts;
}

// A non-negative decimal index, or -1.
int64_t parse_index(const std::string& text) {
  if (text.empty() || text.size() > 12) return -1;
  for (char c : text)
    if (c < '0' || c > '9') return -1;
  return std::atoll(text.c_str());
}

}  // namespace

void Optimizer::load_state_dict(const OptimizerState& loaded) {
  const std::string op = name_ + ".load_state_dict";
  std::vector<Tensor> flat;
  for (const ParamGroup& g : param_groups_)
    flat.insert(flat.end(), g.params.begin(), g.params.end());
  const int64_t num_params = static_cast<int64_t>(flat.size());
  const int64_t num_groups = static_cast<int64_t>(param_groups_.size());

  // Everything is checked and built first; the optimizer changes only if all of it is valid.
  std::vector<GroupOptions> options(param_groups_.size());
  std::vector<int64_t> group_sizes(param_groups_.size(), -1);
  std::unordered_map<const TensorImpl*, ParamState> state;
  int64_t max_group = -1;
  // Groups first: a mismatch there explains any per-parameter mismatch.
  for (const auto& [key, value] : loaded.numbers) {
    std::vector<std::string> parts = split_key(key);
    const int64_t index = parts.size() == 3 ? parse_index(parts[1]) : -1;
    if (parts.size() != 3 || parts[0] != "param_groups" || index < 0) continue;
    max_group = std::max(max_group, index);
    if (index >= num_groups) continue;  // reported below as a group-count mismatch
    if (parts[2] == "num_params")
      group_sizes[index] = static_cast<int64_t>(value);
    else
      options[index][parts[2]] = value;
  }
  MINIDL_CHECK(max_group + 1 == num_groups, op,
               "loaded state has " << max_group + 1 << " parameter groups, the optimizer has "
                                   << num_groups);
  for (int64_t g = 0; g < num_groups; ++g) {
    const int64_t expected = static_cast<int64_t>(param_groups_[g].params.size());
    MINIDL_CHECK(group_sizes[g] == expected, op,
                 "parameter group " << g << " has " << expected << " parameters, the loaded state "
                                    << group_sizes[g]);
    for (const auto& [key, value] : defaults_)
      MINIDL_CHECK(options[g].count(key), op,
                   "loaded parameter group " << g << " lacks option '" << key << "'");
    validate(options[g]);
  }
  for (const auto& [key, value] : loaded.numbers) {
    std::vector<std::string> parts = split_key(key);
    const int64_t index = parts.size() == 3 ? parse_index(parts[1]) : -1;
    if (parts.size() == 3 && parts[0] == "param_groups" && index >= 0) continue;
    MINIDL_CHECK(parts.size() == 3 && parts[0] == "state" && parts[2] == "step" && index >= 0, op,
                 "unexpected entry '" << key << "'");
    MINIDL_CHECK(index < num_params, op,
                 "'" << key << "' refers to parameter " << index << " but the optimizer has "
                     << num_params << " parameters");
    MINIDL_CHECK(value >= 0 && value == std::floor(value), op,
                 "'" << key << "' must be a non-negative integer, got " << value);
    state[flat[index].impl()].step = static_cast<int64_t>(value);
  }
  for (const auto& [key, tensor] : loaded.tensors) {
    std::vector<std::string> parts = split_key(key);
    const int64_t index = parts.size() == 3 && parts[0] == "state" ? parse_index(parts[1]) : -1;
    MINIDL_CHECK(index >= 0 && !parts[2].empty(), op, "unexpected tensor '" << key << "'");
    MINIDL_CHECK(index < num_params, op,
                 "'" << key << "' refers to parameter " << index << " but the optimizer has "
                     << num_params << " parameters");
    const Tensor& param = flat[index];
    MINIDL_CHECK(tensor.defined() && tensor.shape() == param.shape(), op,
                 "'" << key << "' has shape "
                     << (tensor.defined() ? shape_str(tensor.shape()) : std::string("undefined"))
                     << " but parameter " << index << " has shape " << shape_str(param.shape()));
    MINIDL_CHECK(tensor.is_floating_point(), op,
                 "'" << key << "' has dtype " << tensor.dtype() << "; expected a floating type");
    Tensor copy = empty(param.shape(), param.dtype());
    copy_data(copy, tensor);
    state[param.impl()].buffers[parts[2]] = copy;
  }
  for (int64_t g = 0; g < num_groups; ++g) param_groups_[g].options = std::move(options[g]);
  state_ = std::move(state);
}

}  // namespace minidl::optim
