// safetensors read/write: the format of Hugging Face's `safetensors` package, so a PyTorch
// state_dict saved with safetensors.torch.save_file loads here unchanged, and back.
//
// A file is
//   8 bytes      N, the header length, unsigned little-endian
//   N bytes      a UTF-8 JSON object (padded with trailing spaces):
//                  {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
//                   ..., "__metadata__": {"key": "value"}}
//   the rest     the data buffer; each tensor's bytes, row-major, little-endian, are
//                buffer[begin, end). The tensors cover the buffer exactly: no holes, no overlap.
// minidl reads and writes the dtypes it has: F32, F64, I64, BOOL (one byte, 0 or 1).
//
// Loaders trust nothing in a file: a truncated file, a header length past the end, offsets out
// of range, overlapping, leaving holes or not matching dtype x shape, an unknown dtype, a header
// that is not a JSON object, duplicate names, and absurd sizes are errors naming the file and the
// problem. Every allocation is bounded by the file's real size, never by what its header claims.
#pragma once

#include <map>
#include <string>

#include "nn/module.h"

namespace minidl::nn {

using Metadata = std::map<std::string, std::string>;

// Writes `tensors` (in this order; any layout, they are made contiguous) and optional string
// metadata. Atomic: the file appears complete under `path` or not at all.
void save_safetensors(const std::string& path, const StateDict& tensors,
                      const Metadata& metadata = {});
// All tensors of the file, ordered by their position in the data buffer (for files written by
// save_safetensors, the order they were saved in).
StateDict load_safetensors(const std::string& path);
// The "__metadata__" entry of the file (empty if it has none); reads and checks only the header.
Metadata load_safetensors_metadata(const std::string& path);

// A module's state_dict() (parameters then buffers, dotted names) to a safetensors file, and back
// into a module: strict loading reports missing and unexpected names; shapes must always match;
// values are converted to the module's dtypes.
void save_state_dict(const Module& module, const std::string& path, const Metadata& metadata = {});
void load_state_dict(Module& module, const std::string& path, bool strict = true);

// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it over
// `path`, so readers never see a half-written file (shared by every minidl file writer).
// `op` names the caller in error messages.
void write_file_atomic(const std::string& path, const std::string& bytes, const char* op);

}  // namespace minidl::nn
