// torch::nn::functional::cosine_similarity with libtorch's CosineSimilarityFuncOptions
// (dim = 1, eps = 1e-8), forwarding to ops/similarity.h.
#pragma once

#include <cstdint>

#include "core/arg.h"
#include "ops/similarity.h"

namespace minidl::nn::functional {

// dim (1) and eps (1e-8, the smallest norm).
struct CosineSimilarityFuncOptions {
  MINIDL_ARG(int64_t, dim) = 1;
  MINIDL_ARG(double, eps) = 1e-8;
};

// x1, x2 broadcast (floating, one dtype) -> the broadcast shape without `dim`.
inline Tensor cosine_similarity(const Tensor& x1, const Tensor& x2,
                                const CosineSimilarityFuncOptions& options = {}) {
  return minidl::cosine_similarity(x1, x2, options.dim(), options.eps());
}

}  // namespace minidl::nn::functional
