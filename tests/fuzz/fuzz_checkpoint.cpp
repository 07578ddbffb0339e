// libFuzzer harness: a training checkpoint's metadata as tools/train and tools/predict read it
// (models/common/training.h) -- model name, seed, data path, progress counters -- on arbitrary
// safetensors files.
#include "models/common/training.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = minidl::fuzz::write_input(data, size, ".safetensors");
  minidl::fuzz::expect_success_or_error([&] { minidl::models::read_checkpoint_config(path); });
  return 0;
}
