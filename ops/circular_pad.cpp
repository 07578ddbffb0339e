// circular_pad (see ops/circular_pad.h): narrow views and one cat per padded dim, so the
// backward is theirs (cat splits the gradient, each view scatters its piece back).
#include "ops/circular_pad.h"

#include "core/shape.h"
#include "ops/conv.h"
#include "ops/shape_ops.h"

namespace minidl {

Tensor circular_pad(const Tensor& x, const std::vector<int64_t>& pad) {
  MINIDL_CHECK(x.defined(), "circular_pad", "input is undefined");
  MINIDL_CHECK(pad.size() == 2 || pad.size() == 4 || pad.size() == 6, "circular_pad",
               "expects 2, 4 or 6 pad values (a pair per padded dim), got " << pad.size() << ": "
                                                                            << tuple_str(pad));
  int64_t padded_dims = static_cast<int64_t>(pad.size() / 2);
  MINIDL_CHECK(x.dim() == padded_dims + 2, "circular_pad",
               "padding " << padded_dims << " dim(s) needs a " << padded_dims + 2
                          << "-d input [N, C, ...], got shape " << shape_str(x.shape()));
  Tensor y = x;
  for (int64_t i = 0; i < padded_dims; ++i) {
    int64_t dim = x.dim() - 1 - i;
    int64_t left = pad[2 * i], right = pad[2 * i + 1];
    int64_t size = y.size(dim);
    // Crop first: negative pads remove elements from that end.
    int64_t begin = left < 0 ? -left : 0, end = right < 0 ? size + right : size;
    MINIDL_CHECK(end - begin >= 0, "circular_pad",
                 "pads (" << left << ", " << right << ") crop more than dim " << dim << " of shape "
                          << shape_str(x.shape()) << " holds");
    y = y.narrow(dim, begin, end - begin);
    int64_t core = end - begin;
    int64_t wrap_left = left > 0 ? left : 0, wrap_right = right > 0 ? right : 0;
    MINIDL_CHECK(wrap_left <= core && wrap_right <= core, "circular_pad",
                 "pads (" << left << ", " << right << ") wrap around dim " << dim << " of shape "
                          << shape_str(x.shape()) << " more than once");
    if (wrap_left == 0 && wrap_right == 0) continue;
    std::vector<Tensor> pieces;
    if (wrap_left > 0) pieces.push_back(y.narrow(dim, core - wrap_left, wrap_left));
    pieces.push_back(y);
    if (wrap_right > 0) pieces.push_back(y.narrow(dim, 0, wrap_right));
    y = cat(pieces, dim);
  }
  return y;
}

}  // namespace minidl
