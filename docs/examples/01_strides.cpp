// 01_strides -- a tensor is a view: (storage, offset, shape, strides).
//
// Goes with docs/internals.md, "Storage, strides, views and contiguous".
// Run: build/examples/01_strides
//
// A minidl Tensor (core/tensor.h, TensorImpl) does not own an array laid out as its shape says.
// It holds a flat, shared buffer (the Storage) and four numbers that say how to read it:
//   offset   where element [0, 0, ...] lives in the buffer
//   shape    the size of each dim
//   strides  how many buffer elements to step to move by one along each dim
// so element [i, j] of a 2-d tensor is  storage[offset + i * strides[0] + j * strides[1]].
// Transpose, slice, select and expand compute a new (offset, shape, strides) and share the
// storage: no element is copied. Each claim below is checked; a wrong one exits with status 1.
#include <cstdio>
#include <cstdlib>

#include "minidl.h"

using namespace minidl;

static void check(bool ok, const char* claim) {
  std::printf("  %s %s\n", ok ? "ok:" : "FAILED:", claim);
  if (!ok) std::exit(1);
}

static void show(const char* name, const Tensor& t) {
  std::printf("%-26s shape %-9s strides %-9s offset %lld  contiguous %s\n", name,
              shape_str(t.shape()).c_str(), shape_str(t.strides()).c_str(),
              static_cast<long long>(t.storage_offset()), t.is_contiguous() ? "yes" : "no");
}

int main() {
  // A fresh tensor is contiguous and row-major: the last dim moves fastest (stride 1), and one
  // step along dim 0 skips a whole row of 3.
  Tensor x = arange(6.0, kFloat32).reshape({2, 3});  // [[0, 1, 2], [3, 4, 5]]
  show("x", x);
  check(x.strides() == Shape{3, 1}, "a fresh [2, 3] tensor has strides [3, 1]");
  const float* buffer = x.data_ptr<float>();  // points at element [0, 0] = storage + offset
  check(buffer[1 * x.stride(0) + 2 * x.stride(1)] == 5.0f, "x[1][2] = buffer[1*3 + 2*1] = 5");

  // transpose swaps two entries of shape AND of strides: xt[j][i] reads the same slot as x[i][j].
  Tensor xt = x.t();
  show("x.t()", xt);
  check(xt.strides() == Shape{1, 3}, "x.t() has strides [1, 3]: the same buffer, read by column");
  check(xt.data_ptr<float>() == x.data_ptr<float>() && !xt.is_contiguous(),
        "x.t() starts at the same data pointer, and is not contiguous (not row-major)");

  // slice with a step multiplies the stride; select drops a dim and moves the offset.
  Tensor even_cols = x.slice(1, 0, 3, 2);  // x[:, ::2] = [[0, 2], [3, 5]]
  Tensor row1 = x.select(0, 1);            // x[1]     = [3, 4, 5]
  Tensor col1 = x.select(1, 1);            // x[:, 1]  = [1, 4]
  show("x.slice(1, 0, 3, 2)", even_cols);
  show("x.select(0, 1)", row1);
  show("x.select(1, 1)", col1);
  check(even_cols.strides() == Shape{3, 2} && row1.storage_offset() == 3 &&
            col1.storage_offset() == 1 && col1.strides() == Shape{3},
        "x[:, ::2] has strides [3, 2]; x[1] starts at offset 3; x[:, 1] at 1, stepping 3");

  // expand repeats a size-1 dim with stride 0: four rows that are all the same three floats.
  Tensor rows = x.select(0, 0).unsqueeze(0).expand({4, 3});
  show("x[0].unsqueeze(0).expand", rows);
  check(rows.strides() == Shape{0, 1} && rows.shares_storage(x) && xt.shares_storage(x),
        "expand to [4, 3] gives stride 0 on the repeated dim; every view shares x's storage");

  // contiguous() copies a non-contiguous view into a fresh row-major buffer (and returns the
  // tensor itself when it is contiguous already).
  Tensor packed = xt.contiguous();
  show("x.t().contiguous()", packed);
  check(!packed.shares_storage(x) &&
            packed.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5},
        "x.t().contiguous() is a new buffer holding x's columns one after the other");
  check(x.contiguous().is_same(x), "x.contiguous() is x itself: nothing to copy");

  // A write through a view lands in the shared buffer: every other view sees it, and the
  // storage's version counter (what the tape checks, see 03_tape) counts the write.
  xt[2][1].fill_(50.0);  // xt[2][1] is x[1][2]
  check(x[1][2].item<float>() == 50.0f && x._version() == 1 && xt._version() == 1,
        "writing xt[2][1] changed x[1][2]; x and its view share one version counter");

  // view() never copies, so it refuses strides that cannot be read as the new shape;
  // reshape() falls back to a copy.
  try {
    xt.view({6});
    check(false, "x.t().view({6}) should have failed");
  } catch (const Error& e) {
    std::printf("x.t().view({6}) -> minidl::Error: %s\n", e.what());
  }
  check(!xt.reshape({6}).shares_storage(x) && x.view({6}).shares_storage(x),
        "x.t().reshape({6}) copies instead; x.view({6}) of the contiguous x is a view");
  std::printf("01_strides: all checks passed\n");
  return 0;
}
