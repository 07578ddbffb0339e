#include "nn/container.h"

#include <sstream>

#include "core/autograd.h"
#include "nn/summary.h"

namespace minidl::nn {

// ---------------------------------------------------------------- ModuleSequence

ModulePtr ModuleSequence::operator[](int64_t index) const {
  const int64_t n = static_cast<int64_t>(modules_.size());
  MINIDL_CHECK(index >= -n && index < n, type_name(),
               "index " << index << " is out of range for " << n << " module(s)");
  return modules_[index < 0 ? index + n : index];
}

void ModuleSequence::append_child(const std::string& name, ModulePtr module) {
  add_child(name, module);  // checks the name and the pointer
  modules_.push_back(std::move(module));
}

// ---------------------------------------------------------------- Sequential

Sequential::Sequential(const std::vector<ModulePtr>& modules) : ModuleSequence("Sequential") {
  for (const ModulePtr& m : modules) push_back(m);
}

Sequential::Sequential(const NamedModules& named_modules) : ModuleSequence("Sequential") {
  for (const auto& [name, m] : named_modules) push_back(name, m);
}

Sequential::Sequential(std::initializer_list<NamedModule> named_modules)
    : ModuleSequence("Sequential") {
  for (const NamedModule& entry : named_modules) append(entry.name, entry.item);
}

void Sequential::push_back(ModulePtr module) {
  push_back(std::to_string(size()), std::move(module));
}

void Sequential::push_back(const std::string& name, ModulePtr module) {
  Module* raw = module.get();
  ForwardCall call;
  if (raw) call = [raw](const Tensor& x) { return raw->forward(x); };
  append(name, {std::move(module), std::move(call)});
}

void Sequential::append(const std::string& name, detail::SequentialItem item) {
  append_child(name, std::move(item.module));  // checks the name and the pointer
  calls_.push_back(std::move(item.call));
}

// Each call is seen as Module::operator() shows it (the anomaly scope, summary()'s trace), but
// runs the module's own forward found when it was added.
Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (size_t i = 0; i < calls_.size(); ++i) {
    Module& module = *(*this)[static_cast<int64_t>(i)];
    AnomalyScope scope(module.type_name());
    detail::ForwardTrace trace(module);
    x = calls_[i](x);
    trace.set_output(x);
  }
  return x;
}

// ---------------------------------------------------------------- ModuleList

ModuleList::ModuleList(const std::vector<ModulePtr>& modules) : ModuleSequence("ModuleList") {
  extend(modules);
}

void ModuleList::push_back(ModulePtr module) {
  append_child(std::to_string(size()), std::move(module));
}

void ModuleList::extend(const std::vector<ModulePtr>& modules) {
  for (const ModulePtr& m : modules) push_back(m);
}

// ---------------------------------------------------------------- ModuleDict

ModuleDict::ModuleDict(const NamedModules& modules) : Module("ModuleDict") {
  update(modules);
}

void ModuleDict::insert(const std::string& key, ModulePtr module) {
  add_child(key, module);  // rejects a repeated key, an empty or dotted key and null
  items_.emplace_back(key, std::move(module));
}

void ModuleDict::update(const NamedModules& modules) {
  for (const auto& [key, m] : modules) insert(key, m);
}

bool ModuleDict::contains(const std::string& key) const {
  for (const auto& [k, m] : items_)
    if (k == key) return true;
  return false;
}

ModulePtr ModuleDict::operator[](const std::string& key) const {
  for (const auto& [k, m] : items_)
    if (k == key) return m;
  std::ostringstream keys;
  for (size_t i = 0; i < items_.size(); ++i) keys << (i ? ", " : "") << items_[i].first;
  MINIDL_FAIL(type_name(), "no module under key \"" << key << "\" (keys: " << keys.str() << ")");
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, m] : items_) out.push_back(k);
  return out;
}

std::vector<ModulePtr> ModuleDict::values() const {
  std::vector<ModulePtr> out;
  for (const auto& [k, m] : items_) out.push_back(m);
  return out;
}

}  // namespace minidl::nn
