// IDX files, the format of MNIST and Fashion-MNIST (train-images-idx3-ubyte.gz, ...), read
// through zlib so gzip'd and plain files both work.
//
// A file is: two zero bytes, a type byte (0x08 = unsigned byte, the only type MNIST uses), the
// number of dimensions d, then d sizes as big-endian 32-bit integers, then the row-major data.
//
// minidl has no uint8 dtype, so read_idx returns
//   - a 1-d file (labels) as int64 of shape [n], values 0..255;
//   - a file of 2 or more dims (images) as float32 of its shape (e.g. [10000, 28, 28]), with the
//     raw pixel values 0..255 (not scaled: divide by 255 to get [0, 1]).
// Bad magic, another type than 0x08, zero or more than 8 dims, absurd sizes, truncated or
// corrupt gzip data and trailing bytes are errors naming the file and the problem. Memory grows
// only with the data actually decompressed, never with what the header claims.
#pragma once

#include <string>

#include "core/tensor.h"

namespace minidl::nn {

// The tensor an IDX file (plain or gzip'd) holds: labels [n] int64, images float32 [n, rows,
// cols] with raw values 0..255. Errors name the file and the problem.
Tensor read_idx(const std::string& path);

}  // namespace minidl::nn
