#include "nn/safetensors.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/autograd.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "minidl's file formats copy little-endian bytes straight into tensors");

namespace minidl::nn {

namespace {

using json = nlohmann::json;

// The safetensors package refuses headers above 100 MB; so do we (before allocating them).
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

const char* safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return "F32";
    case DType::Float64:
      return "F64";
    case DType::Int64:
      return "I64";
    case DType::Bool:
      return "BOOL";
  }
  return "?";
}

bool parse_dtype(const std::string& name, DType* dtype) {
  for (DType d : {DType::Float32, DType::Float64, DType::Int64, DType::Bool})
    if (name == safetensors_dtype(d)) {
      *dtype = d;
      return true;
    }
  return false;
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

struct Header {
  std::vector<Entry> entries;  // sorted by position in the data buffer
  Metadata metadata;
  uint64_t data_start = 0;  // 8 + N
};

// Opens `path` and returns its size; every later read is checked against it.
uint64_t open_sized(std::ifstream& in, const std::string& path, const char* op) {
  in.open(path, std::ios::binary);
  MINIDL_CHECK(in.is_open(), op,
               path << ": cannot open for reading (" << std::strerror(errno) << ")");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  MINIDL_CHECK(in && size >= 0, op, path << ": cannot determine the file size");
  in.seekg(0, std::ios::beg);
  return static_cast<uint64_t>(size);
}

void read_exact(std::ifstream& in, uint64_t offset, void* dst, uint64_t n, const std::string& path,
                const char* op) {
  if (n == 0) return;
  in.seekg(static_cast<std::streamoff>(offset), std::ios::beg);
  in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
  MINIDL_CHECK(in && static_cast<uint64_t>(in.gcount()) == n, op,
               path << ": read error at byte " << offset << " (" << n << " bytes)");
}

// Reads and validates the header; the data buffer is [data_start, file_size).
Header read_header(std::ifstream& in, const std::string& path, const char* op) {
  uint64_t file_size = open_sized(in, path, op);
  MINIDL_CHECK(file_size >= 8, op,
               path << ": truncated file of " << file_size
                    << " bytes (a safetensors file starts with an 8-byte header length)");
  unsigned char length_bytes[8];
  read_exact(in, 0, length_bytes, 8, path, op);
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
  MINIDL_CHECK(header_length <= file_size - 8, op,
               path << ": header length " << header_length << " is larger than the "
                    << file_size - 8 << " bytes that follow it (truncated or corrupt file)");
  MINIDL_CHECK(header_length <= kMaxHeaderBytes, op,
               path << ": header length " << header_length << " exceeds the limit of "
                    << kMaxHeaderBytes << " bytes");
  MINIDL_CHECK(header_length >= 2, op,
               path << ": header length " << header_length << " is too small for a JSON object");
  std::string text(header_length, '\0');
  read_exact(in, 8, text.data(), header_length, path, op);

  // Parse, noticing repeated top-level names (nlohmann keeps only the last of duplicates).
  std::set<std::string> seen_names;
  std::string duplicate;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && duplicate.empty() &&
        !seen_names.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  json root;
  try {
    root = json::parse(text, on_event);
  } catch (const json::exception& e) {
    MINIDL_FAIL(op, path << ": the header is not valid JSON (" << e.what() << ")");
  }
  MINIDL_CHECK(root.is_object(), op,
               path << ": the header must be a JSON object, got a JSON " << root.type_name());
  MINIDL_CHECK(duplicate.empty(), op, path << ": duplicate tensor name \"" << duplicate << "\"");

  Header header;
  header.data_start = 8 + header_length;
  uint64_t buffer_size = file_size - header.data_start;
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      MINIDL_CHECK(
          value.is_object(), op,
          path << ": __metadata__ must be an object of strings, got a JSON " << value.type_name());
      for (const auto& [key, item] : value.items()) {
        MINIDL_CHECK(item.is_string(), op,
                     path << ": __metadata__ value of \"" << key
                          << "\" must be a string, got a JSON " << item.type_name());
        header.metadata[key] = item.get<std::string>();
      }
      continue;
    }
    MINIDL_CHECK(!name.empty(), op, path << ": a tensor has an empty name");
    MINIDL_CHECK(
        value.is_object(), op,
        path << ": entry \"" << name << "\" must be an object, got a JSON " << value.type_name());
    for (const auto& [key, ignored] : value.items())
      MINIDL_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", op,
                   path << ": tensor \"" << name << "\" has an unknown field \"" << key << "\"");
    MINIDL_CHECK(
        value.contains("dtype") && value.contains("shape") && value.contains("data_offsets"), op,
        path << ": tensor \"" << name << "\" needs dtype, shape and data_offsets");

    Entry entry;
    entry.name = name;
    const json& dtype = value["dtype"];
    MINIDL_CHECK(dtype.is_string(), op, path << ": dtype of \"" << name << "\" is not a string");
    MINIDL_CHECK(parse_dtype(dtype.get<std::string>(), &entry.dtype), op,
                 path << ": tensor \"" << name << "\" has unsupported dtype \""
                      << dtype.get<std::string>() << "\" (minidl reads F32, F64, I64, BOOL)");

    const json& shape = value["shape"];
    MINIDL_CHECK(shape.is_array(), op, path << ": shape of \"" << name << "\" is not an array");
    // The element count, with overflow detected: anything past 2^62 bytes cannot be in a file.
    uint64_t numel = 1;
    bool absurd = false;
    for (const json& size : shape) {
      MINIDL_CHECK(size.is_number_unsigned(), op,
                   path << ": shape of \"" << name << "\" must hold non-negative integers, got "
                        << shape.dump());
      uint64_t s = size.get<uint64_t>();
      MINIDL_CHECK(s <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), op,
                   path << ": tensor \"" << name << "\" has an absurd size " << s);
      entry.shape.push_back(static_cast<int64_t>(s));
      if (s == 0) {
        numel = 0;
      } else if (numel != 0 && numel > (uint64_t(1) << 62) / s) {
        absurd = true;
      } else {
        numel *= s;
      }
    }
    if (numel == 0) absurd = false;
    // An empty tensor can still have sizes whose strides do not fit: [0, 2^62, 2^62].
    MINIDL_CHECK(try_contiguous_strides(entry.shape).has_value(), op,
                 path << ": tensor \"" << name << "\" has shape " << shape_str(entry.shape)
                      << ", too large to index (its strides overflow 64-bit integers)");

    const json& offsets = value["data_offsets"];
    MINIDL_CHECK(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                     offsets[1].is_number_unsigned(),
                 op,
                 path << ": data_offsets of \"" << name
                      << "\" must be two non-negative integers, got " << offsets.dump());
    entry.begin = offsets[0].get<uint64_t>();
    entry.end = offsets[1].get<uint64_t>();
    MINIDL_CHECK(entry.begin <= entry.end && entry.end <= buffer_size, op,
                 path << ": data_offsets [" << entry.begin << ", " << entry.end << "] of \"" << name
                      << "\" are out of range for a data buffer of " << buffer_size << " bytes");
    uint64_t nbytes = absurd ? 0 : numel * element_size(entry.dtype);
    MINIDL_CHECK(!absurd && nbytes == entry.end - entry.begin, op,
                 path << ": tensor \"" << name << "\" of dtype " << dtype.get<std::string>()
                      << " and shape " << shape_str(entry.shape) << " needs "
                      << (absurd ? std::string("an absurd number of") : std::to_string(nbytes))
                      << " bytes, but its data_offsets span " << entry.end - entry.begin);
    header.entries.push_back(std::move(entry));
  }

  // The tensors must tile the buffer exactly, as the safetensors package requires.
  std::stable_sort(header.entries.begin(), header.entries.end(),
                   [](const Entry& a, const Entry& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                   });
  uint64_t cursor = 0;
  for (const Entry& e : header.entries) {
    MINIDL_CHECK(e.begin >= cursor, op,
                 path << ": tensor \"" << e.name << "\" (bytes [" << e.begin << ", " << e.end
                      << "]) overlaps the previous tensor, which ends at " << cursor);
    MINIDL_CHECK(e.begin == cursor, op,
                 path << ": the data buffer has a hole of bytes [" << cursor << ", " << e.begin
                      << "] before tensor \"" << e.name << "\"");
    cursor = e.end;
  }
  MINIDL_CHECK(cursor == buffer_size, op,
               path << ": the data buffer has " << buffer_size - cursor
                    << " trailing bytes after the last tensor (it holds " << buffer_size
                    << " bytes, the tensors cover " << cursor << ")");
  return header;
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes, const char* op) {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  MINIDL_CHECK(file != nullptr, op,
               path << ": cannot create " << temp << " (" << std::strerror(errno) << ")");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  ok = std::fflush(file) == 0 && ok;
  ok = ::fsync(::fileno(file)) == 0 && ok;
  int saved_errno = errno;
  ok = std::fclose(file) == 0 && ok;
  if (!ok) {
    std::remove(temp.c_str());
    MINIDL_FAIL(op,
                path << ": writing " << temp << " failed (" << std::strerror(saved_errno) << ")");
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    saved_errno = errno;
    std::remove(temp.c_str());
    MINIDL_FAIL(
        op, path << ": cannot rename " << temp << " to it (" << std::strerror(saved_errno) << ")");
  }
}

void save_safetensors(const std::string& path, const StateDict& tensors, const Metadata& metadata) {
  const char* op = "save_safetensors";
  json header = json::object();
  std::vector<Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    MINIDL_CHECK(!name.empty() && name != "__metadata__", op,
                 path << ": invalid tensor name \"" << name << "\"");
    MINIDL_CHECK(!header.contains(name), op, path << ": duplicate tensor name \"" << name << "\"");
    MINIDL_CHECK(tensor.defined(), op, path << ": tensor \"" << name << "\" is undefined");
    Tensor data = tensor.detach().contiguous();
    uint64_t nbytes = static_cast<uint64_t>(data.numel()) * data.element_size();
    header[name] = {{"dtype", safetensors_dtype(data.dtype())},
                    {"shape", data.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    contiguous.push_back(data);
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;

  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    MINIDL_FAIL(op, path << ": cannot encode the header (" << e.what() << ")");
  }
  // Pad with spaces so the data buffer starts 8-byte aligned, as the safetensors package does.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string bytes;
  bytes.reserve(8 + text.size() + offset);
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  bytes += text;
  for (const Tensor& t : contiguous)
    bytes.append(static_cast<const char*>(t.raw_data()), t.numel() * t.element_size());
  write_file_atomic(path, bytes, op);
}

StateDict load_safetensors(const std::string& path) {
  const char* op = "load_safetensors";
  std::ifstream in;
  Header header = read_header(in, path, op);
  StateDict out;
  for (const Entry& e : header.entries) {
    Tensor t = empty(e.shape, e.dtype);  // its size was checked against the file
    read_exact(in, header.data_start + e.begin, t.raw_data(), e.end - e.begin, path, op);
    if (e.dtype == DType::Bool) {
      // Any byte other than 0 is true (a C++ bool must hold exactly 0 or 1).
      unsigned char* bytes = static_cast<unsigned char*>(t.raw_data());
      for (int64_t i = 0; i < t.numel(); ++i) bytes[i] = bytes[i] != 0;
    }
    out.emplace_back(e.name, t);
  }
  return out;
}

Metadata load_safetensors_metadata(const std::string& path) {
  std::ifstream in;
  return read_header(in, path, "load_safetensors_metadata").metadata;
}

void save_state_dict(const Module& module, const std::string& path, const Metadata& metadata) {
  save_safetensors(path, module.state_dict(), metadata);
}

void load_state_dict(Module& module, const std::string& path, bool strict) {
  StateDict state = load_safetensors(path);
  try {
    module.load_state_dict(state, strict);
  } catch (const Error& e) {
    // Module::load_state_dict's message already names the op; add the file.
    std::string message = e.what();
    const std::string prefix = "load_state_dict: ";
    if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
    throw Error(prefix + path + ": " + message);
  }
}

}  // namespace minidl::nn
