// StateDict's lookups by name (nn/state_dict.h).
#include "nn/state_dict.h"

#include <sstream>

#include "core/error.h"

namespace minidl::nn {

const Tensor* StateDict::find(const std::string& key) const {
  for (const NamedTensor& entry : *this)
    if (entry.first == key) return &entry.second;
  return nullptr;
}

Tensor* StateDict::find(const std::string& key) {
  return const_cast<Tensor*>(static_cast<const StateDict&>(*this).find(key));
}

const Tensor& StateDict::operator[](const std::string& key) const {
  const Tensor* found = find(key);
  if (found == nullptr) {
    std::ostringstream names;
    for (size_t i = 0; i < size() && i < 20; ++i) names << (i ? ", " : "") << (*this)[i].first;
    if (size() > 20) names << ", ... (" << size() << " in all)";
    MINIDL_FAIL("StateDict", "no entry named \"" << key << "\"; the names are: "
                                                 << (empty() ? "(none)" : names.str()));
  }
  return *found;
}

Tensor& StateDict::operator[](const std::string& key) {
  return const_cast<Tensor&>(static_cast<const StateDict&>(*this)[key]);
}

std::vector<std::string> StateDict::keys() const {
  std::vector<std::string> out;
  out.reserve(size());
  for (const NamedTensor& entry : *this) out.push_back(entry.first);
  return out;
}

std::vector<Tensor> StateDict::values() const {
  std::vector<Tensor> out;
  out.reserve(size());
  for (const NamedTensor& entry : *this) out.push_back(entry.second);
  return out;
}

}  // namespace minidl::nn
