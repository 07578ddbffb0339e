// distributed::DistributedSampler: pure logic, no MPI needed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "nn/data/distributed_sampler.h"

using minidl::distributed::DistributedSampler;

namespace {

std::vector<size_t> drain(DistributedSampler& s, size_t batch) {
  std::vector<size_t> out;
  while (auto b = s.next(batch)) out.insert(out.end(), b->begin(), b->end());
  return out;
}

}  // namespace

TEST_CASE("DistributedSampler shards without shuffling by striding", "[distributed][sampler]") {
  DistributedSampler r0(10, 3, 0, false), r1(10, 3, 1, false), r2(10, 3, 2, false);
  // 10 -> padded to 12 with 0, 1; rank r takes r, r + 3, ...
  CHECK(drain(r0, 2) == std::vector<size_t>{0, 3, 6, 9});
  CHECK(drain(r1, 3) == std::vector<size_t>{1, 4, 7, 0});
  CHECK(drain(r2, 4) == std::vector<size_t>{2, 5, 8, 1});
  CHECK(r0.num_samples() == 4);
}

TEST_CASE("DistributedSampler drop_last cuts to a multiple of the replicas",
          "[distributed][sampler]") {
  DistributedSampler r0(10, 3, 0, false, 0, true), r2(10, 3, 2, false, 0, true);
  CHECK(drain(r0, 8) == std::vector<size_t>{0, 3, 6});
  CHECK(drain(r2, 8) == std::vector<size_t>{2, 5, 8});
  CHECK(r0.num_samples() == 3);
}

TEST_CASE("DistributedSampler pads a dataset smaller than the replicas by repeating",
          "[distributed][sampler]") {
  for (size_t r = 0; r < 5; ++r) {
    DistributedSampler s(2, 5, r, false);
    CHECK(drain(s, 4) == std::vector<size_t>{r % 2});
  }
  DistributedSampler empty(0, 2, 1, true);
  CHECK(!empty.next(3));
}

TEST_CASE("DistributedSampler shuffles by seed + epoch, the same on every rank",
          "[distributed][sampler]") {
  const size_t size = 103, n = 4;
  for (uint64_t epoch : {0u, 1u}) {
    std::multiset<size_t> seen;
    std::vector<std::vector<size_t>> shards;
    for (size_t r = 0; r < n; ++r) {
      DistributedSampler s(size, n, r, true, 42);
      s.set_epoch(epoch);
      shards.push_back(drain(s, 5));
      CHECK(shards.back().size() == 26);
      seen.insert(shards.back().begin(), shards.back().end());
    }
    // Every index at least once; exactly 1 padding index (104 - 103) appears twice.
    for (size_t i = 0; i < size; ++i) CHECK(seen.count(i) >= 1);
    CHECK(seen.size() == 104);
    // Rank r's step-s batch of B is the r-th stride of positions [s n B, (s + 1) n B) of the
    // one-replica order: a single process with batch n B sees the same examples per step.
    DistributedSampler whole(size, 1, 0, true, 42);
    whole.set_epoch(epoch);
    const auto all = drain(whole, 7);
    for (size_t r = 0; r < n; ++r)
      for (size_t k = 0; k < 25; ++k) CHECK(shards[r][k] == all[r + k * n]);
  }
  DistributedSampler a(50, 2, 0, true, 42), b(50, 2, 0, true, 42), c(50, 2, 0, true, 43);
  b.set_epoch(1);
  CHECK(a.indices() != b.indices());
  CHECK(a.indices() != c.indices());
  std::vector<size_t> sorted = a.indices();
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
}

TEST_CASE("DistributedSampler restarts the epoch on reset and checks its arguments",
          "[distributed][sampler]") {
  DistributedSampler s(8, 2, 1, true, 5);
  const auto first = drain(s, 3);
  CHECK(!s.next(3));
  s.reset();
  CHECK(drain(s, 2) == first);
  s.reset(20);
  CHECK(s.num_samples() == 10);
  CHECK_THROWS_WITH(DistributedSampler(8, 2, 2), Catch::Contains("rank 2 is out of range"));
  CHECK_THROWS_WITH(DistributedSampler(8, 0, 0), Catch::Contains("num_replicas"));
  CHECK_THROWS_WITH(s.next(0), Catch::Contains("batch_size"));
}
