// NumPy .npy files for single tensors (numpy.save / numpy.load compatible).
//
// A file is the magic "\x93NUMPY", a version byte pair, the header length (2 bytes
// little-endian in version 1.0, 4 bytes in 2.0 and 3.0), then a Python dict literal padded with
// spaces and ending in '\n':
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// and the raw data. minidl reads and writes the dtypes it has: '<f4' float32, '<f8' float64,
// '<i8' int64, '|b1' bool.
//
// save_npy writes version 1.0 (2.0 only if the header would not fit), C order, atomically.
// load_npy reads versions 1.0, 2.0 and 3.0. A Fortran-order file (fortran_order: True, as
// numpy writes a transposed or np.asfortranarray array) is accepted: its data is read as the
// C-order array of the reversed shape and transposed into a contiguous tensor, so the values
// equal numpy's at every index. Truncated files, a header length past the end, bad magic,
// a malformed header, unknown dtypes (e.g. '>f4', '<i4'), sizes that do not match the data, and
// trailing bytes are errors naming the file and the problem; nothing is allocated from the
// header's claims before they are checked against the file size.
#pragma once

#include <string>

#include "core/tensor.h"

namespace minidl::nn {

// Writes `tensor` (float32 / float64 / int64 / bool, any shape) to path; load_npy reads it back
// with the file's shape and dtype. Errors name the file.
void save_npy(const std::string& path, const Tensor& tensor);
Tensor load_npy(const std::string& path);

}  // namespace minidl::nn
