// Shape arithmetic (core/shape.cpp) and the strided walker (core/strided.h).
#include "core/strided.h"
#include "tests/test_util.h"

using namespace minidl;

TEST_CASE("broadcast_shapes follows NumPy's rules", "[shape]") {
  CHECK(broadcast_shapes({3, 1}, {1, 4}, "op") == Shape{3, 4});
  CHECK(broadcast_shapes({2, 3, 4}, {4}, "op") == Shape{2, 3, 4});
  CHECK(broadcast_shapes({}, {2}, "op") == Shape{2});
  CHECK(broadcast_shapes({0, 1}, {1, 5}, "op") == Shape{0, 5});
  CHECK_THROWS_WITH(broadcast_shapes({2, 3}, {4, 3}, "add"),
                    Catch::Contains("add: shapes [2, 3] and [4, 3] cannot be broadcast"));
}

TEST_CASE("broadcast_strides puts zeros where a dim repeats", "[shape]") {
  CHECK(broadcast_strides({3, 1}, {1, 1}, {2, 3, 4}) == Shape{0, 1, 0});
}

TEST_CASE("contiguous_strides and numel", "[shape]") {
  CHECK(contiguous_strides({2, 3, 4}) == Shape{12, 4, 1});
  CHECK(contiguous_strides({}) == Shape{});
  CHECK(shape_numel({}) == 1);
  CHECK(shape_numel({2, 0}) == 0);
  CHECK_THROWS_WITH(shape_numel({2, -3}, "zeros"), Catch::Contains("zeros: negative dimension -3"));
}

TEST_CASE("sizes that overflow 64 bits are errors, never wrapped products", "[shape]") {
  const int64_t big = int64_t(1) << 62;
  CHECK(checked_mul(big, 1, "op", "elements") == big);
  CHECK_THROWS_WITH(checked_mul(big, 4, "empty", "bytes"),
                    Catch::Contains("empty: the bytes overflow 64-bit integers"));
  CHECK_THROWS_WITH(checked_add(INT64_MAX, 1, "cat", "sizes"),
                    Catch::Contains("cat: the sizes overflow"));
  CHECK_THROWS_WITH(shape_numel({int64_t(1) << 32, int64_t(1) << 32}, "zeros"),
                    Catch::Contains("zeros: shape [4294967296, 4294967296] has more elements"));
  CHECK(shape_numel({0, big, big}) == 0);  // empty, whatever the other sizes
  CHECK(shape_numel({big, big, 0}) == 0);  // (the zero last: the product overflowed first)
  CHECK_THROWS_WITH(contiguous_strides({0, big, big}, "empty"),
                    Catch::Contains("empty: the strides of shape [0, 4611686018427387904"));
  CHECK_FALSE(try_contiguous_strides({0, big, big}).has_value());
  CHECK(*try_contiguous_strides({big, 2}) == Shape{2, 1});  // only the strides must fit
  // What used to wrap: 2^62 floats (2^64 bytes) allocated 0 bytes and crashed on the first write;
  // 2^64 elements counted as 0 and summed to 0.
  CHECK_THROWS_WITH(zeros({big}), Catch::Contains("empty: the bytes overflow"));
  CHECK_THROWS_WITH(zeros({int64_t(1) << 32, int64_t(1) << 32}),
                    Catch::Contains("has more elements than a 64-bit count holds"));
  CHECK_THROWS_WITH(ones({int64_t(1) << 31, int64_t(1) << 31, 4}),
                    Catch::Contains("has more elements"));
  CHECK_THROWS_WITH(one_hot(tensor({int64_t(1)}), big), Catch::Contains("overflow"));
  CHECK_THROWS(empty({0, big, big}));
  // A view whose reach overflows is refused, not wrapped into the storage's range.
  Tensor base = zeros({4});
  CHECK_THROWS_WITH(make_view(base, {3, 3}, {big, big}, 0),
                    Catch::Contains("view: the element offsets overflow"));
  // Far beyond memory but not overflowing: a clear allocation error, not a crash.
  CHECK_THROWS_WITH(zeros({int64_t(1) << 50}), Catch::Contains("cannot allocate"));
}

TEST_CASE("wrap_dim and normalize_dims", "[shape]") {
  CHECK(wrap_dim(-1, 3, "op") == 2);
  CHECK(wrap_dim(0, 0, "op") == 0);
  CHECK_THROWS_WITH(wrap_dim(3, 3, "sum"), Catch::Contains("sum: dimension 3 out of range"));
  CHECK(normalize_dims({-1, 0}, 3, "op") == std::vector<int64_t>{0, 2});
  CHECK(normalize_dims({}, 2, "op") == std::vector<int64_t>{0, 1});
  CHECK_THROWS_WITH(normalize_dims({1, -2}, 3, "mean"),
                    Catch::Contains("mean") && Catch::Contains("twice"));
}

TEST_CASE("StridedIter coalesces and visits every element once", "[shape]") {
  // A transposed 3x4 view: element (i, j) at j*3 + i.
  Shape shape{4, 3}, strides{1, 4};
  StridedIter<1> it(shape, {&strides});
  std::vector<int64_t> seen;
  it.for_range(0, 12,
               [&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
                 for (int64_t e = 0; e < n; ++e) seen.push_back(off[0] + e * st[0]);
               });
  CHECK(seen == std::vector<int64_t>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  // A contiguous [2, 3, 4] collapses into one run.
  Shape s3{2, 3, 4}, c3{12, 4, 1};
  StridedIter<1> flat(s3, {&c3});
  CHECK(flat.ndim() == 1);
  // A partial range starts in the middle of a row.
  std::vector<int64_t> part;
  it.for_range(5, 8,
               [&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
                 for (int64_t e = 0; e < n; ++e) part.push_back(off[0] + e * st[0]);
               });
  CHECK(part == std::vector<int64_t>{9, 2, 6});
}
