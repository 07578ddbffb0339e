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
