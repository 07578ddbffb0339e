// save / load over safetensors (format in nn/serialize.h).
#include "nn/serialize.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "nn/safetensors.h"

namespace minidl {

namespace {

constexpr const char* kModule = "minidl.module";
constexpr const char* kOptimizer = "minidl.optimizer";
constexpr const char* kTensors = "minidl.tensors";

// What a file's "format" says it holds, in words for error messages.
std::string describe(const std::string& format) {
  if (format == kModule) return "a module's state_dict";
  if (format == kOptimizer) return "an optimizer's state";
  if (format == kTensors) return "tensors";
  if (format == "minidl.checkpoint")
    return "a training checkpoint (load it with nn::load_checkpoint)";
  return "\"" + format + "\"";
}

// Refuses PyTorch's own archives with a message that says what to do, before the safetensors
// reader reports them as a bad header.
void refuse_pytorch_archive(const std::string& path, const char* op) {
  std::ifstream in(path, std::ios::binary);
  MINIDL_CHECK(in.good(), op, "cannot open \"" << path << "\"");
  unsigned char head[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(head), 4);
  const bool zip =
      in.gcount() == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
  const bool pickle = in.gcount() >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5;
  MINIDL_CHECK(!zip && !pickle, op,
               path << " is a PyTorch " << (zip ? "zip" : "pickle")
                    << " archive (written by torch.save or libtorch's torch::save); minidl saves "
                       "and loads safetensors files. Export the weights from Python with "
                       "safetensors.torch.save_file(model.state_dict(), \"model.safetensors\") "
                       "and load that file");
}

// The file's metadata, after checking it is not a PyTorch archive; `op` names the caller.
nn::Metadata read_metadata(const std::string& path, const char* op) {
  refuse_pytorch_archive(path, op);
  try {
    return nn::load_safetensors_metadata(path);
  } catch (const Error& e) {
    throw Error(std::string(op) + ": " + e.what());
  }
}

// Checks that the file holds `expected` (a file without "format" passes when `plain_ok`).
void expect_format(const nn::Metadata& metadata, const char* expected, bool plain_ok,
                   const std::string& path, const char* op, const char* into) {
  auto it = metadata.find("format");
  if (it == metadata.end()) {
    MINIDL_CHECK(plain_ok, op,
                 path << " is a safetensors file without minidl's \"format\" metadata; it does "
                         "not hold "
                      << describe(expected) << " written by minidl::save");
    return;
  }
  MINIDL_CHECK(it->second == expected, op,
               path << " holds " << describe(it->second) << ", it cannot be loaded into " << into);
}

nn::StateDict read_tensors(const std::string& path, const char* op) {
  try {
    return nn::load_safetensors(path);
  } catch (const Error& e) {
    throw Error(std::string(op) + ": " + e.what());
  }
}

}  // namespace

namespace nn::detail {

std::string format_number(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

double parse_number(const std::string& text, const std::string& key, const std::string& path,
                    const char* op) {
  // (No ERANGE check: glibc flags subnormal results, which are valid saved values.)
  const char* begin = text.c_str();
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  MINIDL_CHECK(!text.empty() && end == begin + text.size(), op,
               path << ": metadata \"" << key << "\" is not a number: \"" << text << "\"");
  return value;
}

}  // namespace nn::detail

// ---------------------------------------------------------------- modules

void save(const nn::Module& module, const std::string& path) {
  nn::save_state_dict(module, path, {{"format", kModule}, {"module", module.type_name()}});
}

void load(nn::Module& module, const std::string& path) {
  const char* op = "load";
  const nn::Metadata metadata = read_metadata(path, op);
  expect_format(metadata, kModule, /*plain_ok=*/true, path, op, "a module");
  nn::StateDict state = read_tensors(path, op);
  try {
    module.load_state_dict(state);  // strict; leaves the module unchanged on error
  } catch (const Error& e) {
    throw Error(std::string(op) + ": " + path + ": " + e.what());
  }
}

// ---------------------------------------------------------------- optimizers
//   tensors   the optimizer's state tensors under their state_dict() names ("state.3.exp_avg")
//   metadata  "format", "optimizer" (its kind, e.g. "Adam"), and every number of its state_dict()
//             ("param_groups.0.lr", "state.3.step") under its own name

void save(const optim::Optimizer& optimizer, const std::string& path) {
  const optim::OptimizerState state = optimizer.state_dict();
  nn::Metadata metadata{{"format", kOptimizer}, {"optimizer", optimizer.name()}};
  for (const auto& [key, value] : state.numbers)
    metadata["number." + key] = nn::detail::format_number(value);
  nn::StateDict tensors(state.tensors.begin(), state.tensors.end());
  nn::save_safetensors(path, tensors, metadata);
}

void load(optim::Optimizer& optimizer, const std::string& path) {
  const char* op = "load";
  const nn::Metadata metadata = read_metadata(path, op);
  expect_format(metadata, kOptimizer, /*plain_ok=*/false, path, op, "an optimizer");
  auto kind = metadata.find("optimizer");
  MINIDL_CHECK(kind != metadata.end(), op, path << ": the metadata lacks \"optimizer\"");
  MINIDL_CHECK(kind->second == optimizer.name(), op,
               path << " holds the state of a " << kind->second
                    << " optimizer, it cannot be loaded into a " << optimizer.name());
  optim::OptimizerState state;
  const std::string prefix = "number.";
  for (const auto& [key, value] : metadata)
    if (key.compare(0, prefix.size(), prefix) == 0)
      state.numbers[key.substr(prefix.size())] = nn::detail::parse_number(value, key, path, op);
  for (auto& entry : read_tensors(path, op)) state.tensors.push_back(std::move(entry));
  try {
    optimizer.load_state_dict(state);
  } catch (const Error& e) {
    throw Error(std::string(op) + ": " + path + ": " + e.what());
  }
}

// ---------------------------------------------------------------- tensors
//   tensors   "0", "1", ... in order

void save(const std::vector<Tensor>& tensors, const std::string& path) {
  nn::StateDict entries;
  for (size_t i = 0; i < tensors.size(); ++i) {
    MINIDL_CHECK(tensors[i].defined(), "save", "tensor " << i << " is undefined");
    entries.emplace_back(std::to_string(i), tensors[i].detach());
  }
  nn::save_safetensors(path, entries, {{"format", kTensors}});
}

void save(const Tensor& tensor, const std::string& path) {
  MINIDL_CHECK(tensor.defined(), "save", "the tensor is undefined");
  save(std::vector<Tensor>{tensor}, path);
}

void load(std::vector<Tensor>& tensors, const std::string& path) {
  const char* op = "load";
  const nn::Metadata metadata = read_metadata(path, op);
  expect_format(metadata, kTensors, /*plain_ok=*/false, path, op, "tensors");
  nn::StateDict entries = read_tensors(path, op);
  std::vector<Tensor> out(entries.size());
  std::vector<bool> seen(entries.size(), false);
  for (auto& [name, tensor] : entries) {
    char* end = nullptr;
    const unsigned long index = std::strtoul(name.c_str(), &end, 10);
    MINIDL_CHECK(!name.empty() && *end == '\0' && index < entries.size() && !seen[index], op,
                 path << ": unexpected tensor name \"" << name << "\" (expected 0 to "
                      << entries.size() - 1 << ", each once)");
    seen[index] = true;
    out[index] = std::move(tensor);
  }
  tensors = std::move(out);
}

void load(Tensor& tensor, const std::string& path) {
  std::vector<Tensor> tensors;
  load(tensors, path);
  MINIDL_CHECK(
      tensors.size() == 1, "load",
      path << " holds " << tensors.size() << " tensors; load it into a std::vector<Tensor>");
  tensor = tensors[0];
}

}  // namespace minidl
