// libFuzzer harness: nn/npy.h's load_npy on arbitrary bytes (magic, versions, the header dict,
// shapes, Fortran order, truncated data).
#include "nn/npy.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = minidl::fuzz::write_input(data, size, ".npy");
  minidl::fuzz::expect_success_or_error([&] {
    minidl::Tensor t = minidl::nn::load_npy(path);
    if (t.numel() > 0) t.contiguous();
  });
  return 0;
}
