// libFuzzer harness: shape, broadcast and view arithmetic. The input is a program: a small tensor
// whose sizes come from the first bytes, then a sequence of view and shape ops whose arguments
// are raw 64-bit values from the input (huge, negative, -1 ...). Every op must either give a
// tensor whose every element is readable (checked by summing a contiguous copy, under ASan) or
// throw minidl::Error. Materialising ops only run below a size cap, so a valid but huge result
// (a legitimate allocation) is not mistaken for a finding.
#include <cstdio>
#include <cstdlib>

#include "minidl.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // Mostly small values, sometimes any 64-bit value (overflow paths).
  int64_t value() {
    const uint8_t kind = byte();
    if (kind < 200) return static_cast<int64_t>(kind % 9) - 2;  // -2 .. 6
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return static_cast<int64_t>(v);
  }
  std::vector<int64_t> values() {
    std::vector<int64_t> out(byte() % 6);
    for (int64_t& v : out) v = value();
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

constexpr int64_t kMaterializeCap = 1 << 16;

int64_t numel_or_cap(const minidl::Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape)
    if (s < 0 || __builtin_mul_overflow(n, s, &n)) return kMaterializeCap + 1;
  return n;
}

void touch(const minidl::Tensor& t) {
  if (t.numel() <= kMaterializeCap) t.contiguous().sum();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace minidl;
  // MINIDL_FUZZ_TRACE=1 ./fuzz_shapes INPUT prints each step: how a finding is read.
  static const bool trace = std::getenv("MINIDL_FUZZ_TRACE") != nullptr;
  Input in(data, size);
  Shape shape(in.byte() % 5);
  for (int64_t& s : shape) s = in.byte() % 5;
  Tensor t = arange(0, static_cast<double>(shape_numel(shape))).reshape(shape);
  for (int step = 0; step < 16 && !in.done(); ++step) {
    uint8_t op = in.byte() % 16;
    // A huge view (an expanded size-1 dim) only takes more views: the ops that may copy (reshape,
    // flatten, broadcast add, repeat, cat, sum) would do real work of that size.
    const bool copies = op == 1 || op == 10 || op == 11 || op == 12 || op == 13 || op == 15;
    if (copies && t.numel() > kMaterializeCap) op = 8;
    fuzz::expect_success_or_error([&] {
      Tensor next;
      switch (op) {
        case 0:
          next = t.view(in.values());
          break;
        case 1:
          next = t.reshape(in.values());
          break;
        case 2:
          next = t.expand(in.values());
          break;
        case 3:
          next = t.transpose(in.value(), in.value());
          break;
        case 4: {
          std::vector<int64_t> dims = in.values();
          next = t.permute(dims);
          break;
        }
        case 5:
          next = t.narrow(in.value(), in.value(), in.value());
          break;
        case 6:
          next = t.slice(in.value(), in.value(), in.value(), in.value());
          break;
        case 7:
          next = t.select(in.value(), in.value());
          break;
        case 8:
          next = t.unsqueeze(in.value());
          break;
        case 9:
          next = t.squeeze(in.value());
          break;
        case 10:
          next = t.flatten(in.value(), in.value());
          break;
        case 11: {
          const Shape other = in.values();
          const Shape out = broadcast_shapes(t.shape(), other, "fuzz");
          if (numel_or_cap(out) <= kMaterializeCap && numel_or_cap(other) <= kMaterializeCap)
            next = t + zeros(other);
          break;
        }
        case 12: {
          const std::vector<int64_t> repeats = in.values();
          int64_t total = numel_or_cap(t.shape());
          for (int64_t r : repeats) total = numel_or_cap({total, r < 0 ? 0 : r});
          if (total <= kMaterializeCap) next = repeat(t, repeats);
          break;
        }
        case 13:
          next = cat({t, t}, in.value());
          break;
        case 14: {
          const int64_t split_size = in.value(), dim = in.value();
          // Millions of pieces are legitimate but slow: split only into a few thousand.
          if (split_size > 0 && t.dim() > 0 && dim >= -t.dim() && dim < t.dim() &&
              t.shape()[dim < 0 ? dim + t.dim() : dim] / split_size > 4096)
            break;
          std::vector<Tensor> parts = split(t, split_size, dim);
          if (!parts.empty()) next = parts[in.byte() % parts.size()];
          break;
        }
        default: {
          // A sum over an empty dim gives zeros of the other dims' size, which may be huge:
          // summed only when that result is small.
          const int64_t dim = in.value();
          Shape reduced = t.shape();
          if (dim >= -t.dim() && dim < t.dim())
            reduced.erase(reduced.begin() + (dim < 0 ? dim + t.dim() : dim));
          if (numel_or_cap(reduced) <= kMaterializeCap) next = t.sum(std::vector<int64_t>{dim});
          break;
        }
      }
      if (trace)
        std::fprintf(stderr, "op %d on %s (strides %s) -> %s\n", op, shape_str(t.shape()).c_str(),
                     shape_str(t.strides()).c_str(),
                     next.defined() ? shape_str(next.shape()).c_str() : "(skipped)");
      if (next.defined()) {
        touch(next);
        t = next;
      }
    });
  }
  return 0;
}
