// The thread pool (core/parallel.h): every index exactly once, chunk boundaries, nesting,
// exceptions, slots, concurrent callers, deterministic sums, the thread count and its sources.
#include "core/parallel.h"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/factories.h"
#include "ops/linalg.h"
#include "tests/test_util.h"

using namespace minidl;

namespace {

// Restores the thread count a test changed.
struct ThreadCountGuard {
  int saved = get_num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

}  // namespace

TEST_CASE("parallel_for visits every index exactly once, in contiguous chunks", "[parallel]") {
  ThreadCountGuard guard;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (int64_t n : {0, 1, 7, 100, 4096, 100003}) {
      for (int64_t grain : {1, 16, 1000, 1 << 20}) {
        std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
        std::atomic<int64_t> calls{0}, empty_chunks{0};
        // (Catch2's assertions are not thread-safe: chunks only count, the test thread checks.)
        parallel_for(5, 5 + n, grain, [&](int64_t begin, int64_t end) {
          empty_chunks.fetch_add(begin >= end);
          calls.fetch_add(1);
          for (int64_t i = begin; i < end; ++i) seen[i - 5].fetch_add(1);
        });
        int64_t wrong = 0;
        for (auto& s : seen) wrong += s.load() != 1;
        INFO("threads " << threads << " n " << n << " grain " << grain);
        CHECK(wrong == 0);
        CHECK(empty_chunks.load() == 0);
        // At most a few chunks per thread, each of at least `grain` indices (but one chunk).
        CHECK(calls.load() <= std::max<int64_t>(1, 4 * threads));
        if (n > 0 && calls.load() > 1) CHECK(n / calls.load() >= grain);
        if (n > 0 && n <= grain) CHECK(calls.load() == 1);
      }
    }
  }
}

TEST_CASE("chunk_count depends only on the range, the grain and the thread count", "[parallel]") {
  ThreadCountGuard guard;
  set_num_threads(1);
  CHECK(detail::chunk_count(1000000, 1) == 1);
  set_num_threads(2);
  CHECK(detail::chunk_count(100, 100) == 1);  // not more than the grain: serial
  CHECK(detail::chunk_count(199, 100) == 1);  // chunks hold at least the grain
  CHECK(detail::chunk_count(200, 100) == 2);
  CHECK(detail::chunk_count(1000000, 1) == 8);  // capped at 4 chunks per thread
  set_num_threads(3);
  CHECK(detail::chunk_count(1000000, 1) == 12);
}

TEST_CASE("a parallel_for inside a chunk runs on that thread, in one piece", "[parallel]") {
  ThreadCountGuard guard;
  set_num_threads(2);
  CHECK_FALSE(in_parallel_region());
  std::atomic<int> inner_calls{0}, bad{0};
  parallel_for(0, 8, 1, [&](int64_t begin, int64_t end) {
    if (!in_parallel_region()) bad.fetch_add(1);
    const std::thread::id outer = std::this_thread::get_id();
    for (int64_t i = begin; i < end; ++i) {
      parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
        inner_calls.fetch_add(1);
        if (b != 0 || e != 1000 || std::this_thread::get_id() != outer) bad.fetch_add(1);
      });
    }
  });
  CHECK(bad.load() == 0);
  CHECK(inner_calls.load() == 8);
  CHECK_FALSE(in_parallel_region());
}

TEST_CASE("an exception in a chunk reaches the caller, and the pool keeps working", "[parallel]") {
  ThreadCountGuard guard;
  set_num_threads(2);
  for (int round = 0; round < 3; ++round) {
    std::atomic<int> ran{0};
    CHECK_THROWS_WITH(parallel_chunks(16,
                                      [&](int64_t chunk, int) {
                                        ran.fetch_add(1);
                                        if (chunk == 5) throw Error("kernel: chunk 5 failed");
                                      }),
                      "kernel: chunk 5 failed");
    CHECK(ran.load() >= 1);
    CHECK_FALSE(in_parallel_region());
    int64_t total = 0;
    std::mutex m;
    parallel_for(0, 1000, 10, [&](int64_t b, int64_t e) {
      std::lock_guard<std::mutex> lock(m);
      total += e - b;
    });
    CHECK(total == 1000);
  }
}

TEST_CASE("slots name the executing thread: within range, never shared at once", "[parallel]") {
  ThreadCountGuard guard;
  for (int threads : {1, 2, 4}) {
    set_num_threads(threads);
    std::vector<std::atomic<int>> busy(threads);
    std::atomic<int> bad{0};
    parallel_chunks(64, [&](int64_t, int slot) {
      if (slot < 0 || slot >= threads) {
        bad.fetch_add(1);
        return;
      }
      if (busy[slot].fetch_add(1) != 0) bad.fetch_add(1);
      volatile double x = 0;
      for (int i = 0; i < 20000; ++i) x = x + i;
      busy[slot].fetch_sub(1);
    });
    INFO("threads " << threads);
    CHECK(bad.load() == 0);
  }
}

TEST_CASE("back-to-back regions of different sizes each run every chunk once", "[parallel]") {
  // Regions follow each other faster than a worker wakes: a late worker must never claim a
  // chunk of a region that is over (once it did, running the next region's chunk 7 of 7).
  ThreadCountGuard guard;
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    int64_t expected = 0, wrong = 0;
    std::atomic<int64_t> total{0};
    for (int64_t region = 0; region < 20000; ++region) {
      const int64_t chunks = 2 + region % 7;
      std::vector<std::atomic<int>> runs(chunks);
      parallel_chunks(chunks, [&](int64_t chunk, int) {
        runs[chunk].fetch_add(1);
        total.fetch_add(1);
      });
      for (auto& r : runs) wrong += r.load() != 1;
      expected += chunks;
    }
    INFO("threads " << threads);
    CHECK(wrong == 0);
    CHECK(total.load() == expected);
  }
}

TEST_CASE("two user threads can run regions at the same time", "[parallel]") {
  ThreadCountGuard guard;
  set_num_threads(2);
  std::atomic<int> wrong{0};
  auto work = [&] {
    for (int round = 0; round < 200; ++round) {
      std::vector<int> hits(5000, 0);
      parallel_for(0, 5000, 100, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) ++hits[i];
      });
      for (int h : hits) wrong += h != 1;
    }
  };
  std::thread first(work), second(work);
  first.join();
  second.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("parallel_sum adds chunk results in chunk order: the same bits every run", "[parallel]") {
  ThreadCountGuard guard;
  set_num_threads(2);
  std::vector<float> values(200000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 1.0f / static_cast<float>(i + 1);
  auto partial = [&](int64_t b, int64_t e) {
    float s = 0;
    for (int64_t i = b; i < e; ++i) s += values[i];
    return s;
  };
  const int64_t n = static_cast<int64_t>(values.size());
  // The serial sum of the same chunks, in order.
  const int64_t chunks = detail::chunk_count(n, 1000);
  REQUIRE(chunks == 8);
  float expected = 0;
  for (int64_t c = 0; c < chunks; ++c) expected += partial(n * c / chunks, n * (c + 1) / chunks);
  for (int run = 0; run < 20; ++run) CHECK(parallel_sum<float>(0, n, 1000, partial) == expected);
}

TEST_CASE("set_num_threads: the count kernels use; bad counts are refused", "[parallel]") {
  ThreadCountGuard guard;
  set_num_threads(3);
  CHECK(get_num_threads() == 3);
  CHECK_THROWS_WITH(set_num_threads(0), Catch::Contains("set_num_threads") &&
                                            Catch::Contains("at least 1 thread, got 0"));
  CHECK_THROWS_AS(set_num_threads(-2), Error);
  CHECK(get_num_threads() == 3);
}

TEST_CASE("the default thread count follows the environment, else the affinity mask",
          "[parallel]") {
  const int n = default_num_threads();
  CHECK(n >= 1);
  const char* minidl_env = std::getenv("MINIDL_NUM_THREADS");
  const char* omp_env = std::getenv("OMP_NUM_THREADS");
  if (minidl_env && std::atoi(minidl_env) > 0) {
    CHECK(n == std::atoi(minidl_env));
  } else if (omp_env && std::atoi(omp_env) > 0) {
    CHECK(n == std::atoi(omp_env));  // make test sets OMP_NUM_THREADS=2
  } else {
    cpu_set_t set;
    CPU_ZERO(&set);
    REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
    CHECK(n <= CPU_COUNT(&set));
  }
}

// Run by the test below in a fresh process (the default is computed once per process).
TEST_CASE("(child process) print the default thread count", "[.parallel-child]") {
  std::cout << "DEFAULT_THREADS " << default_num_threads() << std::endl;
  CHECK(default_num_threads() >= 1);
}

namespace {

// This test binary re-executed with `cpus` CPUs in its affinity mask and `env` as its whole
// environment, running the case above; the count it printed, or -1.
int default_threads_in_child(int cpus, const std::vector<std::string>& env) {
  int out[2];
  if (pipe(out) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c = 0; c < cpus; ++c) CPU_SET(c, &set);
    sched_setaffinity(0, sizeof set, &set);
    std::vector<char*> envp;
    for (const std::string& kv : env) envp.push_back(const_cast<char*>(kv.c_str()));
    envp.push_back(nullptr);
    char exe[] = "/proc/self/exe", tag[] = "[.parallel-child]";
    char* argv[] = {exe, tag, nullptr};
    execve(exe, argv, envp.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buffer[256];
  ssize_t got;
  while ((got = read(out[0], buffer, sizeof buffer)) > 0) text.append(buffer, got);
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const size_t at = text.find("DEFAULT_THREADS ");
  return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 16);
}

}  // namespace

TEST_CASE("the default thread count: MINIDL_NUM_THREADS, OMP_NUM_THREADS, else the affinity mask",
          "[parallel]") {
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
  const int cpus = CPU_COUNT(&set);
  CHECK(default_threads_in_child(1, {}) == 1);  // taskset -c 0: one thread, not the machine's
  if (cpus >= 2) CHECK(default_threads_in_child(2, {}) == 2);
  CHECK(default_threads_in_child(1, {"OMP_NUM_THREADS=3"}) == 3);    // asked for explicitly
  CHECK(default_threads_in_child(1, {"OMP_NUM_THREADS=4,2"}) == 4);  // the outer level
  CHECK(default_threads_in_child(1, {"MINIDL_NUM_THREADS=5", "OMP_NUM_THREADS=3"}) == 5);
  CHECK(default_threads_in_child(1, {"OMP_NUM_THREADS=zero"}) == 1);  // not a count: ignored
}

TEST_CASE("OpenBLAS stays single-threaded; large products are cut into blocks by the pool",
          "[parallel]") {
  ThreadCountGuard guard;
  set_num_threads(2);
  Tensor a = randn({300, 200}, kFloat64), b = randn({200, 500}, kFloat64);
  parallel_for(0, 2, 1, [](int64_t, int64_t) {});  // the pool now has its one worker
  auto thread_count = [] {
    int64_t tasks = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
      (void)entry;
      ++tasks;
    }
    return tasks;
  };
  // (Counted before and after rather than expected to be 2: a sanitizer runtime has a thread.)
  const int64_t before = thread_count();
  Tensor c = matmul(a, b);  // 30M multiply-adds: cut into blocks of C's columns
  // No new thread: OpenBLAS started no team of its own.
  CHECK(thread_count() == before);
  set_num_threads(1);
  Tensor serial = matmul(a, b);
  CHECK(testing::allclose(c, serial, 1e-12, 1e-12));
  // Transposed operands read through BLAS's flags, cut along either side.
  set_num_threads(2);
  Tensor at = randn({200, 300}, kFloat64).t(), bt = randn({500, 200}, kFloat64).t();
  Tensor tall = randn({900, 40}, kFloat64);
  set_num_threads(1);
  Tensor want1 = matmul(at, bt), want2 = matmul(tall, bt.narrow(0, 0, 40));
  set_num_threads(2);
  CHECK(testing::allclose(matmul(at, bt), want1, 1e-12, 1e-12));
  CHECK(testing::allclose(matmul(tall, bt.narrow(0, 0, 40)), want2, 1e-12, 1e-12));
}
