// Training checkpoints (format in nn/checkpoint.h).
#include "nn/checkpoint.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

#include "core/autograd.h"
#include "core/generator.h"
#include "nn/serialize.h"

namespace minidl::nn {

namespace {

constexpr const char* kFormat = "minidl.checkpoint";
constexpr const char* kVersion = "1";
const std::string kModelPrefix = "model.";
const std::string kOptimizerPrefix = "optimizer.";
const std::string kSchedulerPrefix = "scheduler.";
const std::string kUserPrefix = "user.";

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

const std::string& required(const Metadata& metadata, const std::string& key,
                            const std::string& path) {
  auto it = metadata.find(key);
  MINIDL_CHECK(it != metadata.end(), "load_checkpoint",
               path << ": the checkpoint lacks the metadata entry \"" << key << "\"");
  return it->second;
}

// Rethrows `error` from restoring `part` with the file named, dropping `op`'s prefix if present.
[[noreturn]] void rethrow(const Error& error, const std::string& path, const char* part,
                          const std::string& op) {
  std::string message = error.what();
  if (!op.empty() && starts_with(message, op + ": ")) message.erase(0, op.size() + 2);
  throw Error("load_checkpoint: " + path + ": " + part + ": " + message);
}

// A copy of the model's tensors (the live ones change when loading writes into them).
StateDict snapshot(const Module& model) {
  StateDict copy;
  for (const auto& [name, tensor] : model.state_dict()) copy.emplace_back(name, tensor.clone());
  return copy;
}

optim::OptimizerState snapshot(const optim::Optimizer& optimizer) {
  optim::OptimizerState copy = optimizer.state_dict();
  for (auto& [name, tensor] : copy.tensors) tensor = tensor.clone();
  return copy;
}

}  // namespace

std::string checkpoint_path(const std::string& dir_or_path) {
  std::error_code error;
  if ((!dir_or_path.empty() && dir_or_path.back() == '/') ||
      std::filesystem::is_directory(dir_or_path, error))
    return (std::filesystem::path(dir_or_path) / "checkpoint.safetensors").string();
  return dir_or_path;
}

std::string save_checkpoint(const std::string& dir_or_path, const Module& model,
                            const optim::Optimizer& optimizer, const optim::LRScheduler* scheduler,
                            int64_t step, const Metadata& extra, const StateDict& extra_tensors) {
  MINIDL_CHECK(step >= 0, "save_checkpoint", "step must be non-negative, got " << step);
  const std::string path = checkpoint_path(dir_or_path);
  StateDict tensors;
  for (const auto& [name, tensor] : model.state_dict())
    tensors.emplace_back(kModelPrefix + name, tensor);
  const optim::OptimizerState optimizer_state = optimizer.state_dict();
  for (const auto& [name, tensor] : optimizer_state.tensors)
    tensors.emplace_back(kOptimizerPrefix + name, tensor);
  for (const auto& [name, tensor] : extra_tensors) tensors.emplace_back(kUserPrefix + name, tensor);

  Metadata metadata{{"format", kFormat},
                    {"version", kVersion},
                    {"step", std::to_string(step)},
                    {"optimizer", optimizer.name()},
                    {"scheduler", scheduler != nullptr ? "1" : "0"}};
  {
    Generator& generator = default_generator();
    std::lock_guard<std::mutex> lock(generator.mutex);
    metadata["rng_state"] = generator.get_state();
  }
  for (const auto& [key, value] : optimizer_state.numbers)
    metadata[kOptimizerPrefix + key] = detail::format_number(value);
  if (scheduler != nullptr)
    for (const auto& [key, value] : scheduler->state_dict())
      metadata[kSchedulerPrefix + key] = detail::format_number(value);
  for (const auto& [key, value] : extra) metadata[kUserPrefix + key] = value;

  try {
    save_safetensors(path, tensors, metadata);
  } catch (const Error& e) {
    std::string message = e.what();
    const std::string prefix = "save_safetensors: ";
    if (starts_with(message, prefix)) message.erase(0, prefix.size());
    throw Error("save_checkpoint: " + message);
  }
  return path;
}

CheckpointInfo load_checkpoint(const std::string& dir_or_path, Module& model,
                               optim::Optimizer& optimizer, optim::LRScheduler* scheduler) {
  const char* op = "load_checkpoint";
  const std::string path = checkpoint_path(dir_or_path);

  // 1. Read and check the whole file before anything changes.
  StateDict tensors;
  Metadata metadata;
  try {
    metadata = load_safetensors_metadata(path);
    tensors = load_safetensors(path);
  } catch (const Error& e) {
    std::string message = e.what();
    for (const char* reader : {"load_safetensors_metadata: ", "load_safetensors: "})
      if (starts_with(message, reader)) message.erase(0, std::string(reader).size());
    throw Error(std::string(op) + ": " + message);
  }
  auto format = metadata.find("format");
  MINIDL_CHECK(format != metadata.end() && format->second == kFormat, op,
               path << ": not a minidl checkpoint (its metadata has no \"format\": \"" << kFormat
                    << "\"; a plain state_dict file loads with nn::load_state_dict)");
  MINIDL_CHECK(required(metadata, "version", path) == kVersion, op,
               path << ": unsupported checkpoint version \"" << metadata.at("version")
                    << "\" (this minidl reads version " << kVersion << ")");

  CheckpointInfo info;
  const std::string& step_text = required(metadata, "step", path);
  double step = detail::parse_number(step_text, "step", path, op);
  MINIDL_CHECK(
      step >= 0 && step == std::floor(step) && step < 9.0e15 &&
          step_text.find_first_not_of("0123456789") == std::string::npos,
      op,
      path << ": metadata \"step\" must be a non-negative integer, got \"" << step_text << "\"");
  info.step = static_cast<int64_t>(step);

  const std::string& rng_state = required(metadata, "rng_state", path);
  try {
    Generator probe;
    probe.set_state(rng_state);
  } catch (const Error& e) {
    MINIDL_FAIL(op, path << ": invalid \"rng_state\" (" << e.what() << ")");
  }

  const std::string& optimizer_name = required(metadata, "optimizer", path);
  MINIDL_CHECK(optimizer_name == optimizer.name(), op,
               path << ": the checkpoint holds the state of a " << optimizer_name
                    << " optimizer, it cannot be loaded into a " << optimizer.name());
  const std::string& has_scheduler = required(metadata, "scheduler", path);
  MINIDL_CHECK(
      has_scheduler == "0" || has_scheduler == "1", op,
      path << ": metadata \"scheduler\" must be \"0\" or \"1\", got \"" << has_scheduler << "\"");
  MINIDL_CHECK((has_scheduler == "1") == (scheduler != nullptr), op,
               path << (scheduler != nullptr
                            ? ": the checkpoint holds no scheduler state, but a scheduler was given"
                            : ": the checkpoint holds a scheduler's state, but no scheduler was "
                              "given to restore it into"));

  optim::OptimizerState optimizer_state;
  optim::SchedulerState scheduler_state;
  for (const auto& [key, value] : metadata) {
    if (starts_with(key, kOptimizerPrefix)) {
      optimizer_state.numbers[key.substr(kOptimizerPrefix.size())] =
          detail::parse_number(value, key, path, op);
    } else if (starts_with(key, kSchedulerPrefix)) {
      scheduler_state[key.substr(kSchedulerPrefix.size())] =
          detail::parse_number(value, key, path, op);
    } else if (starts_with(key, kUserPrefix)) {
      info.metadata[key.substr(kUserPrefix.size())] = value;
    }
  }
  StateDict model_state;
  for (const auto& [name, tensor] : tensors) {
    if (starts_with(name, kModelPrefix)) {
      model_state.emplace_back(name.substr(kModelPrefix.size()), tensor);
    } else if (starts_with(name, kOptimizerPrefix)) {
      optimizer_state.tensors.emplace_back(name.substr(kOptimizerPrefix.size()), tensor);
    } else if (starts_with(name, kUserPrefix)) {
      info.tensors.emplace_back(name.substr(kUserPrefix.size()), tensor);
    } else {
      MINIDL_FAIL(op, path << ": unexpected tensor \"" << name
                           << "\" (checkpoint tensors start with \"model.\", \"optimizer.\" or "
                              "\"user.\")");
    }
  }

  // 2. Restore, putting the model and the optimizer back if a later part fails.
  const StateDict model_backup = snapshot(model);
  const optim::OptimizerState optimizer_backup = snapshot(optimizer);
  auto restore = [&] {
    model.load_state_dict(model_backup);
    optimizer.load_state_dict(optimizer_backup);
  };
  try {
    model.load_state_dict(model_state);
  } catch (const Error& e) {
    model.load_state_dict(model_backup);
    rethrow(e, path, "model", "load_state_dict");
  }
  try {
    optimizer.load_state_dict(optimizer_state);
  } catch (const Error& e) {
    restore();
    rethrow(e, path, "optimizer", "");
  }
  if (scheduler != nullptr) {
    try {
      scheduler->load_state_dict(scheduler_state);
    } catch (const Error& e) {
      restore();
      rethrow(e, path, "scheduler", "");
    }
  }
  Generator& generator = default_generator();
  std::lock_guard<std::mutex> lock(generator.mutex);
  generator.set_state(rng_state);
  return info;
}

}  // namespace minidl::nn
