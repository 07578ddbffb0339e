// Walking N strided operands in lockstep over one shape: the loop under every elementwise
// kernel, copy and reduction.
//
// StridedIter<N> takes a shape and, for each operand, its strides over that shape (a broadcast
// operand has stride 0 where it repeats). It first coalesces dimensions -- two adjacent dims
// merge when every operand steps over them as over one (stride[d] == stride[d+1] * size[d+1])
// -- so a contiguous tensor of any shape becomes a single 1-d run. A kernel then receives runs:
//
//   body(offsets, n, inner_strides)   // element offsets of the run's first element, per operand;
//                                     // n elements; each operand advances by inner_strides[k]
//
// and loops over the run itself, so when inner_strides are 1 the compiler vectorizes it.
// run() splits the linear element range across threads (core/parallel.h) when the work is large
// enough.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/parallel.h"
#include "core/shape.h"

namespace minidl {

// Iterates N operands' strides over one shape in coalesced runs (see above).
template <size_t N>
class StridedIter {
 public:
  StridedIter(const Shape& shape, const std::array<const Shape*, N>& strides) {
    numel_ = 1;
    for (int64_t s : shape)
      if (s == 0) numel_ = 0;
    if (numel_ == 0) {  // nothing to visit (the other dims may be huge: their products overflow)
      sizes_.push_back(0);
      for (size_t k = 0; k < N; ++k) strides_[k].push_back(0);
      return;
    }
    for (int64_t s : shape) numel_ *= s;  // fits: a non-empty tensor's element count does
    // Keep dims of size != 1 (size-1 dims contribute nothing), innermost last, merging where
    // the operands allow it.
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      bool merge = !sizes_.empty();
      for (size_t k = 0; k < N && merge; ++k)
        merge = strides_[k].back() == (*strides[k])[d] * shape[d];
      if (merge) {
        sizes_.back() *= shape[d];
        for (size_t k = 0; k < N; ++k) strides_[k].back() = (*strides[k])[d];
      } else {
        sizes_.push_back(shape[d]);
        for (size_t k = 0; k < N; ++k) strides_[k].push_back((*strides[k])[d]);
      }
    }
    if (sizes_.empty()) {  // 0-d or all-ones shape: one element
      sizes_.push_back(1);
      for (size_t k = 0; k < N; ++k) strides_[k].push_back(0);
    }
  }

  int64_t numel() const { return numel_; }
  int64_t ndim() const { return static_cast<int64_t>(sizes_.size()); }
  // The coalesced geometry (innermost dim last).
  const std::vector<int64_t>& sizes() const { return sizes_; }
  const std::vector<int64_t>& strides(size_t operand) const { return strides_[operand]; }

  // Calls body(offsets, n, inner_strides) over runs covering linear elements [begin, end).
  template <typename Body>
  void for_range(int64_t begin, int64_t end, Body&& body) const {
    if (begin >= end) return;
    const int64_t nd = ndim();
    std::array<int64_t, N> inner;
    for (size_t k = 0; k < N; ++k) inner[k] = strides_[k][nd - 1];
    // Multi-index of `begin`, innermost last, and the operands' offsets there.
    std::vector<int64_t> index(nd);
    std::array<int64_t, N> offsets{};
    int64_t rest = begin;
    for (int64_t d = nd - 1; d >= 0; --d) {
      index[d] = rest % sizes_[d];
      rest /= sizes_[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += index[d] * strides_[k][d];
    }
    int64_t position = begin;
    while (position < end) {
      int64_t n = std::min(sizes_[nd - 1] - index[nd - 1], end - position);
      body(offsets, n, inner);
      position += n;
      // Advance the multi-index past the run (carry into outer dims).
      index[nd - 1] += n;
      for (size_t k = 0; k < N; ++k) offsets[k] += n * inner[k];
      for (int64_t d = nd - 1; d > 0 && index[d] == sizes_[d]; --d) {
        for (size_t k = 0; k < N; ++k)
          offsets[k] += strides_[k][d - 1] - sizes_[d] * strides_[k][d];
        index[d] = 0;
        ++index[d - 1];
      }
    }
  }

  // All elements, split into chunks across threads when numel() > grain.
  template <typename Body>
  void run(Body&& body, int64_t grain = kParallelGrain) const {
    parallel_for(0, numel_, grain,
                 [&](int64_t begin, int64_t end) { for_range(begin, end, body); });
  }

 private:
  int64_t numel_ = 1;
  std::vector<int64_t> sizes_;
  std::array<std::vector<int64_t>, N> strides_;
};

}  // namespace minidl
