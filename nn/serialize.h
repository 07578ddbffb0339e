// save / load: libtorch's torch::save and torch::load, for modules, optimizers and tensors.
//
//   minidl::save(model, "model.pt");          // a module: its state_dict (parameters, buffers)
//   minidl::save(optimizer, "optimizer.pt");  // an optimizer: its state and hyper-parameters
//   minidl::save(tensor, "t.pt");             // a tensor, or a std::vector<Tensor>
//   minidl::load(model, "model.pt");          // into an object built like the saved one
//
// The model may be given as a module, a std::shared_ptr to one or a module handle
// (nn::ModuleHolder, MINIDL_MODULE), as in libtorch.
//
// The files are safetensors (nn/safetensors.h), whatever their extension -- not libtorch's zip
// archives: a file any safetensors reader opens, written atomically. The metadata says what the
// file holds ("format": "minidl.module" / "minidl.optimizer" / "minidl.tensors"), so loading a
// file into the wrong kind of object is an error that says what the file holds. A module also
// loads from a plain safetensors state_dict (Python's safetensors.torch.save_file), and a file
// written by PyTorch's torch.save or libtorch's torch::save (a zip or pickle archive) is refused
// with an error that says how to export the weights instead.
//
// Loading a module is strict: missing, unexpected or mis-shaped entries are errors naming them,
// and the module is left unchanged. An optimizer must be of the same kind over parameters of the
// same shapes in the same groups (as its load_state_dict).
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/module.h"
#include "nn/optim.h"

namespace minidl {

// A module's state_dict to / from a safetensors file; the shared_ptr and handle overloads below
// do the same (a null pointer is an error).
void save(const nn::Module& module, const std::string& path);
void load(nn::Module& module, const std::string& path);

// The same through a std::shared_ptr to a module or a module handle (ModuleHolder).
template <typename M, typename = std::enable_if_t<std::is_base_of_v<nn::Module, M>>>
void save(const std::shared_ptr<M>& module, const std::string& path) {
  MINIDL_CHECK(module != nullptr, "save", "the module pointer is null");
  save(static_cast<const nn::Module&>(*module), path);
}
template <typename M, typename = std::enable_if_t<std::is_base_of_v<nn::Module, M>>>
void load(const std::shared_ptr<M>& module, const std::string& path) {
  MINIDL_CHECK(module != nullptr, "load", "the module pointer is null");
  load(static_cast<nn::Module&>(*module), path);
}
template <typename M>
void save(const nn::ModuleHolder<M>& module, const std::string& path) {
  save(static_cast<const nn::Module&>(*module), path);
}
template <typename M>
void load(const nn::ModuleHolder<M>& module, const std::string& path) {
  load(static_cast<nn::Module&>(*module), path);
}

// An optimizer's state_dict (buffers and hyper-parameters) to / from a file.
void save(const optim::Optimizer& optimizer, const std::string& path);
void load(optim::Optimizer& optimizer, const std::string& path);

// A tensor (saved contiguous, dtype and shape kept; loading replaces `tensor` by a new one).
void save(const Tensor& tensor, const std::string& path);
void load(Tensor& tensor, const std::string& path);
void save(const std::vector<Tensor>& tensors, const std::string& path);
void load(std::vector<Tensor>& tensors, const std::string& path);

namespace nn::detail {
// Numbers in safetensors metadata: 17 significant digits, which read back the same double
// (shared with nn/checkpoint.cpp).
std::string format_number(double value);
// The whole of `text` as a double, or an error from `op` naming the file and the entry.
double parse_number(const std::string& text, const std::string& key, const std::string& path,
                    const char* op);
}  // namespace nn::detail

}  // namespace minidl
