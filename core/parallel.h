// minidl's threading: one pool, one way to run a loop in parallel, and the rules every kernel
// follows. docs/threading.md tells the same story with the measurements behind it.
//
// Why not OpenMP's parallel regions. On a shared machine (a browser, a compile, a second
// training beside ours) a thread of ours is regularly off its core for a whole time slice
// (milliseconds). OpenMP's fork/join ends every region with a barrier that waits for *every*
// thread of the team, including one that has not even woken up yet, and libgomp's waiting
// threads spin for milliseconds on a core the preempted thread or the other process needs. On
// 2 cores with one busy process that made a training 16x slower. So kernels never use
// `#pragma omp parallel` (only `omp simd`), OpenBLAS runs every call on the calling thread
// (ops/linalg.cpp: large products are cut into blocks here instead), and all parallelism goes
// through parallel_for below, whose rules are:
//
//  1. Work is split into chunks that threads *claim* (an atomic counter), the calling thread
//     included. A region ends when every chunk is done -- not when every thread has arrived: a
//     thread that is late (not yet woken, preempted) simply claims nothing, and the caller never
//     waits for it. The only wait is for a chunk some thread is executing right now.
//  2. A region must be worth it: below its grain a loop runs on the calling thread. Grains are
//     chosen so a region's work is at least tens of microseconds (kParallelGrain elements of a
//     cheap elementwise op), far more than the few hundred nanoseconds a chunk claim costs.
//  3. No barrier inside a recurrence: a loop over time steps is parallelized over independent
//     rows (batch-parallel), each chunk running every step of its rows, never step by step.
//  4. Waiting is polite: a waiting thread spins briefly (a region usually follows within
//     microseconds while training), then yields its core, then sleeps on a futex. A sleeping
//     thread lets the kernel move a preempted one onto the freed core.
//  5. The thread count respects the machine: MINIDL_NUM_THREADS, else OMP_NUM_THREADS, else the
//     CPUs in the affinity mask, capped by the cgroup CPU quota; set_num_threads() changes it.
//  6. Nested calls (parallel_for inside a chunk) and calls from a second user thread while the
//     pool is busy run on the calling thread: never oversubscribe, never deadlock.
//  7. Results do not depend on which thread ran a chunk: a reduction combines per-chunk partial
//     results in chunk order, and chunk boundaries depend only on the range, grain and thread
//     count, so a run is bitwise reproducible however the machine is loaded.
//  8. Back off when the machine is busy: when the caller had to wait for a chunk whose thread
//     was preempted (its wall time exceeded its CPU time), the next regions run on the calling
//     thread alone -- the same chunks in the same order -- for a back-off time that doubles
//     while stalls recur, probing with one parallel region in between. A thread that runs alone
//     runs at one core's speed, the most one can expect when another process holds a core.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace minidl {

// Threads minidl's kernels use, the calling thread included (>= 1).
int get_num_threads();
// Sets that count (libtorch's torch::set_num_threads); >= 1, else minidl::Error. Resizes the pool
// once no region is running.
void set_num_threads(int threads);
// What get_num_threads() is without set_num_threads(): the environment, affinity mask and
// cgroup quota as rule 5 says. Exposed for tests and diagnostics.
int default_num_threads();

// True on a thread that is executing a chunk of a parallel region.
bool in_parallel_region();

// Below this many elements, an elementwise kernel runs on the calling thread: a region costs a
// few microseconds (more when a thread must be woken), more than the work itself.
constexpr int64_t kParallelGrain = 32768;

namespace detail {

// A chunk body: fn(context, chunk index, slot). `slot` in [0, get_num_threads()) names the thread
// executing the chunk (0 = the calling thread), for per-thread scratch buffers.
using ChunkFn = void (*)(void* context, int64_t chunk, int slot);

// Runs fn(context, c, slot) for every c in [0, chunks), on the pool when it is free and there
// is more than one chunk, else on the calling thread. Rethrows the first exception of a chunk
// after every chunk has finished or been skipped.
void run_chunks(int64_t chunks, ChunkFn fn, void* context);

// How many chunks parallel_for cuts `n` indices of at least `grain` into (1 = run serially).
int64_t chunk_count(int64_t n, int64_t grain);

}  // namespace detail

// body(chunk, slot) for chunk in [0, chunks): for kernels that cut their work themselves (one
// GEMM tile, one batch row group, one attention block per chunk).
template <typename Body>
void parallel_chunks(int64_t chunks, Body&& body) {
  using B = std::remove_reference_t<Body>;
  if (chunks <= 0) return;
  detail::run_chunks(
      chunks,
      [](void* context, int64_t chunk, int slot) { (*static_cast<B*>(context))(chunk, slot); },
      const_cast<void*>(static_cast<const void*>(&body)));
}

// body(chunk_begin, chunk_end, slot) over [begin, end) cut into at most a few chunks per thread
// of at least `grain` indices each, `slot` naming the executing thread; serially (one call with
// the whole range, slot 0) when end - begin <= grain. Chunk c covers
// [begin + n*c/chunks, begin + n*(c+1)/chunks).
template <typename Body>
void parallel_for_slots(int64_t begin, int64_t end, int64_t grain, Body&& body) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int64_t chunks = detail::chunk_count(n, grain);
  if (chunks <= 1) {
    body(begin, end, 0);
    return;
  }
  parallel_chunks(chunks, [&](int64_t chunk, int slot) {
    body(begin + n * chunk / chunks, begin + n * (chunk + 1) / chunks, slot);
  });
}

// The same without the slot: body(chunk_begin, chunk_end).
template <typename Body>
void parallel_for(int64_t begin, int64_t end, int64_t grain, Body&& body) {
  parallel_for_slots(begin, end, grain, [&](int64_t chunk_begin, int64_t chunk_end, int) {
    body(chunk_begin, chunk_end);
  });
}

// A deterministic parallel sum over [begin, end): partial(chunk_begin, chunk_end) per chunk,
// combined in chunk order (rule 7).
template <typename T, typename Partial>
T parallel_sum(int64_t begin, int64_t end, int64_t grain, Partial&& partial) {
  const int64_t n = end - begin;
  if (n <= 0) return T(0);
  const int64_t chunks = detail::chunk_count(n, grain);
  if (chunks <= 1) return partial(begin, end);
  T partials[64];
  const int64_t used = std::min<int64_t>(chunks, 64);
  parallel_chunks(used, [&](int64_t chunk, int) {
    partials[chunk] = partial(begin + n * chunk / used, begin + n * (chunk + 1) / used);
  });
  T total = partials[0];
  for (int64_t c = 1; c < used; ++c) total += partials[c];
  return total;
}

}  // namespace minidl
