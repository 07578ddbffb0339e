// libFuzzer harness: nn/idx.h's read_idx on arbitrary bytes, raw and gzip'd (the reader
// decompresses when the input starts with gzip's magic).
#include "nn/idx.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = minidl::fuzz::write_input(data, size, ".idx");
  minidl::fuzz::expect_success_or_error([&] {
    minidl::Tensor t = minidl::nn::read_idx(path);
    if (t.numel() > 0) t.contiguous();
  });
  return 0;
}
