// libFuzzer harness: nn/safetensors.h's readers on arbitrary bytes (header JSON, offsets, shapes,
// dtypes, truncated data).
#include "nn/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = minidl::fuzz::write_input(data, size, ".safetensors");
  minidl::fuzz::expect_success_or_error([&] { minidl::nn::load_safetensors_metadata(path); });
  minidl::fuzz::expect_success_or_error([&] {
    for (auto& [name, tensor] : minidl::nn::load_safetensors(path)) {
      // the tensor must be fully readable: its size was checked against the file
      if (tensor.numel() > 0) tensor.contiguous();
    }
  });
  return 0;
}
