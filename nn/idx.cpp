#include "nn/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace minidl::nn {

namespace {

// Owns a gzFile.
struct GzFile {
  explicit GzFile(const std::string& path) : file(gzopen(path.c_str(), "rb")) {}
  ~GzFile() {
    if (file) gzclose(file);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  gzFile file;
};

constexpr uint64_t kMaxElements = uint64_t(1) << 34;  // 16 GiB of bytes: far past any dataset
constexpr unsigned kChunk = 1u << 20;

// Reads up to `n` bytes; returns how many arrived (fewer only at the end of the data).
uint64_t read_some(GzFile& gz, unsigned char* dst, uint64_t n, const std::string& path) {
  uint64_t done = 0;
  while (done < n) {
    unsigned want = static_cast<unsigned>(std::min<uint64_t>(n - done, kChunk));
    int got = gzread(gz.file, dst + done, want);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(gz.file, &code);
      MINIDL_FAIL("read_idx", path << ": corrupt gzip data (" << message << ")");
    }
    if (got == 0) break;
    done += static_cast<uint64_t>(got);
  }
  // A gzip stream cut short reads as a short read plus an error flag.
  int code = 0;
  const char* message = gzerror(gz.file, &code);
  MINIDL_CHECK(code == Z_OK || code == Z_STREAM_END, "read_idx",
               path << ": truncated or corrupt gzip data (" << message << ")");
  return done;
}

}  // namespace

Tensor read_idx(const std::string& path) {
  const char* op = "read_idx";
  GzFile gz(path);
  MINIDL_CHECK(gz.file != nullptr, op,
               path << ": cannot open for reading (" << std::strerror(errno) << ")");
  unsigned char magic[4];
  MINIDL_CHECK(read_some(gz, magic, 4, path) == 4, op,
               path << ": truncated file (shorter than the 4-byte IDX magic)");
  MINIDL_CHECK(magic[0] == 0 && magic[1] == 0, op,
               path << ": bad magic (an IDX file starts with two zero bytes, got " << int(magic[0])
                    << " " << int(magic[1]) << ")");
  MINIDL_CHECK(magic[2] == 0x08, op,
               path << ": unsupported IDX element type 0x" << std::hex << int(magic[2]) << std::dec
                    << " (minidl reads 0x08, unsigned byte)");
  int ndim = magic[3];
  MINIDL_CHECK(ndim >= 1 && ndim <= 8, op,
               path << ": unsupported number of dimensions " << ndim << " (1 to 8)");
  std::vector<unsigned char> dims_bytes(4 * ndim);
  MINIDL_CHECK(read_some(gz, dims_bytes.data(), dims_bytes.size(), path) == dims_bytes.size(), op,
               path << ": truncated file (the header promises " << ndim << " sizes)");
  Shape shape;
  uint64_t numel = 1;
  for (int d = 0; d < ndim; ++d) {
    uint64_t size = (uint64_t(dims_bytes[4 * d]) << 24) | (uint64_t(dims_bytes[4 * d + 1]) << 16) |
                    (uint64_t(dims_bytes[4 * d + 2]) << 8) | uint64_t(dims_bytes[4 * d + 3]);
    shape.push_back(static_cast<int64_t>(size));
    MINIDL_CHECK(size == 0 || numel <= kMaxElements / size, op,
                 path << ": absurd size " << shape_str(shape) << "... in the header");
    numel *= size;
  }

  // An empty array can still have sizes whose strides do not fit: [0, 2^32 - 1, ...].
  MINIDL_CHECK(try_contiguous_strides(shape).has_value(), op,
               path << ": shape " << shape_str(shape)
                    << " in the header is too large to index (its strides overflow 64-bit "
                       "integers)");

  // Grow with the data that actually arrives, then ask for one more byte to detect excess.
  std::vector<unsigned char> data;
  while (data.size() < numel) {
    size_t before = data.size();
    data.resize(before + std::min<uint64_t>(numel - before, uint64_t(kChunk) * 16));
    uint64_t got = read_some(gz, data.data() + before, data.size() - before, path);
    data.resize(before + got);
    MINIDL_CHECK(got > 0, op,
                 path << ": truncated file: the header " << shape_str(shape) << " promises "
                      << numel << " bytes of data, the file holds " << data.size());
  }
  unsigned char extra;
  MINIDL_CHECK(read_some(gz, &extra, 1, path) == 0, op,
               path << ": unexpected trailing bytes after the " << numel << " bytes of data of "
                    << shape_str(shape));

  Tensor out = empty(shape, ndim == 1 ? kInt64 : kFloat32);
  if (ndim == 1) {
    int64_t* dst = out.data_ptr<int64_t>();
    for (uint64_t i = 0; i < numel; ++i) dst[i] = data[i];
  } else {
    float* dst = out.data_ptr<float>();
    for (uint64_t i = 0; i < numel; ++i) dst[i] = static_cast<float>(data[i]);
  }
  return out;
}

}  // namespace minidl::nn
