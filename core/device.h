// Devices and layouts, spelled like libtorch's (torch::Device, torch::kCUDA, torch::kStrided), so
// that device-aware libtorch programs compile. minidl runs on the CPU with strided tensors only:
// a CUDA device can be named (Device("cuda"), Device(kCUDA, 1)) -- programs build one behind
// `cuda::is_available()` -- but creating or moving a tensor to it is an error saying so.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "core/error.h"

namespace minidl {

enum class DeviceType : int8_t { CPU, CUDA };
constexpr DeviceType kCPU = DeviceType::CPU;
constexpr DeviceType kCUDA = DeviceType::CUDA;

// A device: the CPU (the only one that holds data here) or a CUDA device index.
class Device {
 public:
  // index -1 means "the current device of that type" (libtorch's convention).
  Device(DeviceType type, int64_t index = -1) : type_(type), index_(index) {  // NOLINT: implicit
    MINIDL_CHECK(index >= -1, "Device", "device index must be -1 or non-negative, got " << index);
    MINIDL_CHECK(type != DeviceType::CPU || index <= 0, "Device",
                 "the CPU device has index 0 (or -1), got " << index);
  }
  // "cpu", "cuda", "cuda:1" (libtorch's device strings).
  Device(const std::string& spec);                         // NOLINT: implicit, as libtorch's
  Device(const char* spec) : Device(std::string(spec)) {}  // NOLINT

  DeviceType type() const { return type_; }
  int64_t index() const { return index_; }
  bool has_index() const { return index_ != -1; }
  bool is_cpu() const { return type_ == DeviceType::CPU; }
  bool is_cuda() const { return type_ == DeviceType::CUDA; }
  // "cpu", "cuda", "cuda:1".
  std::string str() const;
  bool operator==(const Device& other) const {
    return type_ == other.type_ && index_ == other.index_;
  }
  bool operator!=(const Device& other) const { return !(*this == other); }

  // Throws, naming `op`, unless tensors can live on this device (the CPU).
  void check_usable(const char* op) const {
    MINIDL_CHECK(is_cpu(), op,
                 "device '" << str() << "' requested, but minidl runs on the CPU only (check "
                            << "cuda::is_available(), which is false)");
  }

 private:
  DeviceType type_;
  int64_t index_;
};

inline Device::Device(const std::string& spec) : type_(DeviceType::CPU), index_(-1) {
  const size_t colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  if (name == "cpu") {
    type_ = DeviceType::CPU;
  } else if (name == "cuda") {
    type_ = DeviceType::CUDA;
  } else {
    MINIDL_FAIL("Device", "unknown device type in '" << spec << "' (expected cpu or cuda)");
  }
  if (colon != std::string::npos) {
    const std::string digits = spec.substr(colon + 1);
    MINIDL_CHECK(!digits.empty() && digits.size() < 10 &&
                     digits.find_first_not_of("0123456789") == std::string::npos,
                 "Device", "bad device index in '" << spec << "'");
    index_ = std::stoll(digits);
  }
  MINIDL_CHECK(type_ != DeviceType::CPU || index_ <= 0, "Device",
               "the CPU device has index 0, got '" << spec << "'");
}

inline std::string Device::str() const {
  std::string s = is_cpu() ? "cpu" : "cuda";
  if (has_index()) s += ":" + std::to_string(index_);
  return s;
}

inline std::ostream& operator<<(std::ostream& os, const Device& device) {
  return os << device.str();
}
inline std::ostream& operator<<(std::ostream& os, DeviceType type) {
  return os << (type == DeviceType::CPU ? "cpu" : "cuda");
}

// How elements are arranged: minidl has dense strided tensors only (libtorch's kStrided).
enum class Layout : int8_t { Strided, Sparse };
constexpr Layout kStrided = Layout::Strided;
constexpr Layout kSparse = Layout::Sparse;

// What libtorch's torch::cuda answers on a machine without a GPU.
namespace cuda {
// false / 0: minidl has no CUDA.
inline bool is_available() {
  return false;
}
inline int64_t device_count() {
  return 0;
}
}  // namespace cuda

}  // namespace minidl
