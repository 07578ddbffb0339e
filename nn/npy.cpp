#include "nn/npy.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <sstream>

#include "nn/safetensors.h"

namespace minidl::nn {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// numpy.load refuses headers above 10000 bytes by default; allow more, but bounded.
constexpr uint64_t kMaxHeaderBytes = 1u << 20;

const char* npy_descr(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return "<f4";
    case DType::Float64:
      return "<f8";
    case DType::Int64:
      return "<i8";
    case DType::Bool:
      return "|b1";
  }
  return "?";
}

// The header dict, parsed from its Python literal: string keys; values a string, True/False or
// a tuple of integers (all that numpy writes there).
struct HeaderValue {
  enum class Kind { String, Bool, Tuple } kind;
  std::string text;
  bool flag = false;
  Shape tuple;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : text_(text), path_(path) {}

  std::map<std::string, HeaderValue> parse_dict() {
    std::map<std::string, HeaderValue> dict;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      std::string key = parse_string();
      MINIDL_CHECK(!dict.count(key), "load_npy",
                   path_ << ": the header repeats the key '" << key << "'");
      expect(':');
      dict[key] = parse_value();
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      MINIDL_CHECK(peek() == '}', "load_npy", path_ << ": " << where("',' or '}'"));
    }
    ++pos_;
    skip_space();
    MINIDL_CHECK(
        pos_ == text_.size(), "load_npy",
        path_ << ": unexpected text after the header dict: \"" << text_.substr(pos_) << "\"");
    return dict;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  std::string where(const char* wanted) const {
    std::ostringstream os;
    os << "malformed header: expected " << wanted << " at character " << pos_ << " of \"" << text_
       << "\"";
    return os.str();
  }
  void expect(char c) {
    skip_space();
    MINIDL_CHECK(peek() == c, "load_npy", path_ << ": " << where(std::string(1, c).c_str()));
    ++pos_;
  }
  std::string parse_string() {
    skip_space();
    char quote = peek();
    MINIDL_CHECK(quote == '\'' || quote == '"', "load_npy", path_ << ": " << where("a string"));
    size_t end = text_.find(quote, pos_ + 1);
    MINIDL_CHECK(end != std::string::npos, "load_npy", path_ << ": " << where("a closing quote"));
    std::string s = text_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return s;
  }
  HeaderValue parse_value() {
    skip_space();
    HeaderValue v;
    if (peek() == '\'' || peek() == '"') {
      v.kind = HeaderValue::Kind::String;
      v.text = parse_string();
    } else if (text_.compare(pos_, 4, "True") == 0 || text_.compare(pos_, 5, "False") == 0) {
      v.kind = HeaderValue::Kind::Bool;
      v.flag = text_[pos_] == 'T';
      pos_ += v.flag ? 4 : 5;
    } else if (peek() == '(') {
      v.kind = HeaderValue::Kind::Tuple;
      ++pos_;
      while (true) {
        skip_space();
        if (peek() == ')') break;
        v.tuple.push_back(parse_size());
        skip_space();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        MINIDL_CHECK(peek() == ')', "load_npy", path_ << ": " << where("',' or ')'"));
      }
      ++pos_;
    } else {
      MINIDL_FAIL("load_npy", path_ << ": " << where("a string, True, False or a tuple"));
    }
    return v;
  }
  int64_t parse_size() {
    size_t start = pos_;
    uint64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      MINIDL_CHECK(value <= (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - 9) / 10,
                   "load_npy", path_ << ": absurd size in the shape of \"" << text_ << "\"");
      value = value * 10 + static_cast<uint64_t>(peek() - '0');
      ++pos_;
    }
    MINIDL_CHECK(pos_ > start, "load_npy", path_ << ": " << where("a non-negative integer"));
    if (peek() == 'L') ++pos_;  // Python 2's long suffix, still seen in old files
    return static_cast<int64_t>(value);
  }

  const std::string& text_;
  const std::string& path_;
  size_t pos_ = 0;
};

}  // namespace

void save_npy(const std::string& path, const Tensor& tensor) {
  MINIDL_CHECK(tensor.defined(), "save_npy", path << ": the tensor is undefined");
  Tensor data = tensor.detach().contiguous();
  std::ostringstream dict;
  dict << "{'descr': '" << npy_descr(data.dtype()) << "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < data.shape().size(); ++i) dict << (i ? ", " : "") << data.shape()[i];
  dict << (data.dim() == 1 ? ",), }" : "), }");
  std::string header = dict.str();
  // Pad with spaces to a multiple of 64 bytes including magic, version, length and '\n'.
  size_t prefix = kMagicSize + 2 + 2;
  bool version2 = prefix + header.size() + 1 > 65535;
  if (version2) prefix += 2;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');

  std::string bytes(kMagic, kMagicSize);
  bytes.push_back(static_cast<char>(version2 ? 2 : 1));
  bytes.push_back(0);
  uint64_t length = header.size();
  for (int i = 0; i < (version2 ? 4 : 2); ++i)
    bytes.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  bytes += header;
  bytes.append(static_cast<const char*>(data.raw_data()), data.numel() * data.element_size());
  write_file_atomic(path, bytes, "save_npy");
}

Tensor load_npy(const std::string& path) {
  const char* op = "load_npy";
  std::ifstream in(path, std::ios::binary);
  MINIDL_CHECK(in.is_open(), op,
               path << ": cannot open for reading (" << std::strerror(errno) << ")");
  in.seekg(0, std::ios::end);
  std::streamoff signed_size = in.tellg();
  MINIDL_CHECK(in && signed_size >= 0, op, path << ": cannot determine the file size");
  uint64_t file_size = static_cast<uint64_t>(signed_size);
  in.seekg(0, std::ios::beg);

  MINIDL_CHECK(file_size >= kMagicSize + 4, op,
               path << ": truncated file of " << file_size << " bytes (not an .npy file)");
  unsigned char prefix[kMagicSize + 6] = {};
  in.read(reinterpret_cast<char*>(prefix), kMagicSize + 2);
  MINIDL_CHECK(in && std::memcmp(prefix, kMagic, kMagicSize) == 0, op,
               path << ": bad magic (an .npy file starts with \\x93NUMPY)");
  int major = prefix[kMagicSize], minor = prefix[kMagicSize + 1];
  MINIDL_CHECK((major >= 1 && major <= 3) && minor == 0, op,
               path << ": unsupported .npy format version " << major << "." << minor
                    << " (minidl reads 1.0, 2.0, 3.0)");
  size_t length_bytes = major == 1 ? 2 : 4;
  MINIDL_CHECK(file_size >= kMagicSize + 2 + length_bytes, op,
               path << ": truncated file of " << file_size << " bytes");
  in.read(reinterpret_cast<char*>(prefix + kMagicSize + 2),
          static_cast<std::streamsize>(length_bytes));
  MINIDL_CHECK(in, op, path << ": read error in the header length");
  uint64_t header_length = 0;
  for (size_t i = length_bytes; i-- > 0;)
    header_length = (header_length << 8) | prefix[kMagicSize + 2 + i];
  uint64_t data_start = kMagicSize + 2 + length_bytes + header_length;
  MINIDL_CHECK(data_start <= file_size, op,
               path << ": header length " << header_length << " is larger than the "
                    << file_size - (kMagicSize + 2 + length_bytes)
                    << " bytes that follow it (truncated or corrupt file)");
  MINIDL_CHECK(header_length <= kMaxHeaderBytes, op,
               path << ": header length " << header_length << " exceeds the limit of "
                    << kMaxHeaderBytes << " bytes");
  std::string text(header_length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_length));
  MINIDL_CHECK(in, op, path << ": read error in the header");

  auto dict = HeaderParser(text, path).parse_dict();
  for (const auto& [key, value] : dict)
    MINIDL_CHECK(key == "descr" || key == "fortran_order" || key == "shape", op,
                 path << ": the header has an unknown key '" << key << "'");
  MINIDL_CHECK(dict.count("descr") && dict.count("fortran_order") && dict.count("shape"), op,
               path << ": the header needs the keys 'descr', 'fortran_order' and 'shape', got \""
                    << text << "\"");
  const HeaderValue& descr = dict["descr"];
  MINIDL_CHECK(descr.kind == HeaderValue::Kind::String, op,
               path << ": 'descr' must be a string in \"" << text << "\"");
  MINIDL_CHECK(dict["fortran_order"].kind == HeaderValue::Kind::Bool, op,
               path << ": 'fortran_order' must be True or False in \"" << text << "\"");
  MINIDL_CHECK(dict["shape"].kind == HeaderValue::Kind::Tuple, op,
               path << ": 'shape' must be a tuple in \"" << text << "\"");
  DType dtype = DType::Float32;
  bool known = false;
  for (DType d : {DType::Float32, DType::Float64, DType::Int64, DType::Bool})
    if (descr.text == npy_descr(d) || (d == DType::Bool && descr.text == "<b1")) {
      dtype = d;
      known = true;
    }
  MINIDL_CHECK(known, op,
               path << ": unsupported dtype '" << descr.text
                    << "' (minidl reads '<f4', '<f8', '<i8', '|b1')");
  bool fortran_order = dict["fortran_order"].flag;
  Shape shape = dict["shape"].tuple;

  // Check the size against the file before allocating anything.
  uint64_t available = file_size - data_start;
  bool has_zero = std::find(shape.begin(), shape.end(), 0) != shape.end();
  uint64_t numel = has_zero ? 0 : 1;
  for (int64_t s : shape) {
    if (has_zero) break;
    MINIDL_CHECK(numel <= available / static_cast<uint64_t>(s), op,
                 path << ": shape " << shape_str(shape) << " of dtype '" << descr.text
                      << "' needs more bytes than the " << available
                      << " of data in the file (truncated file or corrupt header)");
    numel *= static_cast<uint64_t>(s);
  }
  uint64_t nbytes = numel * element_size(dtype);
  MINIDL_CHECK(nbytes <= available, op,
               path << ": shape " << shape_str(shape) << " of dtype '" << descr.text << "' needs "
                    << nbytes << " bytes of data, the file has " << available
                    << " (truncated file)");
  MINIDL_CHECK(nbytes == available, op,
               path << ": " << available - nbytes << " unexpected trailing bytes after the "
                    << nbytes << " bytes of data of shape " << shape_str(shape));

  // Fortran order: the bytes are the C-order array of the reversed shape.
  Shape stored = shape;
  if (fortran_order) std::reverse(stored.begin(), stored.end());
  // An empty array can still have sizes whose strides do not fit: (0, 2**62, 2**62).
  MINIDL_CHECK(try_contiguous_strides(stored).has_value(), op,
               path << ": shape " << shape_str(shape)
                    << " is too large to index (its strides overflow 64-bit integers)");
  Tensor out = empty(stored, dtype);
  if (nbytes > 0) {
    in.read(static_cast<char*>(out.raw_data()), static_cast<std::streamsize>(nbytes));
    MINIDL_CHECK(in, op, path << ": read error in the data");
  }
  if (dtype == DType::Bool) {
    unsigned char* bytes = static_cast<unsigned char*>(out.raw_data());
    for (uint64_t i = 0; i < numel; ++i) bytes[i] = bytes[i] != 0;
  }
  if (fortran_order && out.dim() > 1) {
    std::vector<int64_t> reversed(out.dim());
    std::iota(reversed.rbegin(), reversed.rend(), 0);
    out = out.permute(reversed).contiguous();
  }
  return out;
}

}  // namespace minidl::nn
