// The thread pool behind parallel_for (the rules are in core/parallel.h).
//
// One region at a time owns the pool. Its chunks are claimed through one 64-bit atomic word,
// `claim_`: the region's number (epoch) in the high 32 bits, the next unclaimed chunk in the low
// 32. A thread claims by compare-and-swap, which fails if the region it read has ended and a
// new one begun -- so a worker that wakes late can never run a chunk of a region that is over,
// and the caller never has to wait for it. `remaining_` counts chunks not yet finished; the
// thread that finishes the last one wakes the caller if it went to sleep.
//
// Waiting (workers for the next region, the caller for chunks still running elsewhere): spin on
// the word for a few microseconds (pause), then sched_yield() until the spin budget is used --
// another runnable thread on this core (ours or not) gets the core -- then sleep on a futex.
#include "core/parallel.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace minidl {

namespace {

// ---------------------------------------------------------------- how many threads (rule 5)

// A positive integer from the environment, or 0. OMP_NUM_THREADS may be a list ("4,2"): its
// first entry is the outermost level's count.
int env_threads(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return 0;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  return n > 0 && n <= 1024 ? static_cast<int>(n) : 0;
}

int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return CPU_COUNT(&set);
}

// ceil(quota / period) of the tightest CPU quota on this process's cgroup path (cgroup v2's
// cpu.max, "max 100000" when unlimited; v1's cpu.cfs_quota_us / cpu.cfs_period_us), or 0.
int cgroup_cpus() {
  double best = 0;
  auto consider = [&](double quota, double period) {
    if (quota > 0 && period > 0) {
      const double cpus = quota / period;
      if (best == 0 || cpus < best) best = cpus;
    }
  };
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    // "0::/user.slice/..." (v2) or "4:cpu,cpuacct:/..." (v1)
    const size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    const bool v2 = controllers.empty();
    const bool v1_cpu = !v2 && ("," + controllers + ",").find(",cpu,") != std::string::npos;
    if (!v2 && !v1_cpu) continue;
    // Every ancestor's limit applies too.
    while (true) {
      if (v2) {
        std::ifstream max("/sys/fs/cgroup" + path + "/cpu.max");
        std::string quota;
        double period = 0;
        if (max >> quota >> period && quota != "max") consider(std::atof(quota.c_str()), period);
      } else {
        std::ifstream q("/sys/fs/cgroup/cpu" + path + "/cpu.cfs_quota_us");
        std::ifstream p("/sys/fs/cgroup/cpu" + path + "/cpu.cfs_period_us");
        double quota = 0, period = 0;
        if (q >> quota && p >> period) consider(quota, period);
      }
      if (path.empty() || path == "/") break;
      const size_t slash = path.rfind('/');
      path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    }
  }
  return best > 0 ? std::max(1, static_cast<int>(std::ceil(best - 1e-9))) : 0;
}

// ---------------------------------------------------------------- waiting (rule 4)

long futex(std::atomic<uint32_t>* word, int op, uint32_t value) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word layout");
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op | FUTEX_PRIVATE_FLAG, value,
                 nullptr, nullptr, 0);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// CPU time this thread has run, in microseconds.
double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec * 1e-3;
}

double now_us() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Microseconds a waiting thread keeps its core before it sleeps: first spinning, then yielding.
// MINIDL_SPIN_US overrides the total (0: sleep at once), for experiments.
struct SpinBudget {
  double spin_us = 5, total_us = 200;
  SpinBudget() {
    if (const char* env = std::getenv("MINIDL_SPIN_US"); env && *env) {
      total_us = std::max(0.0, std::atof(env));
      spin_us = std::min(spin_us, total_us);
    }
  }
};
const SpinBudget& spin_budget() {
  static const SpinBudget budget;
  return budget;
}

// Waits until `done()` holds, spinning then yielding within the budget, then sleeping on
// `word` (futex) while it still equals the value `sleep_value()` returns; `sleepers` counts the
// threads asleep so a waker makes a system call only when someone sleeps.
template <typename Done, typename SleepValue>
void wait_until(Done&& done, std::atomic<uint32_t>& word, SleepValue&& sleep_value,
                std::atomic<int>& sleepers) {
  if (done()) return;
  const SpinBudget& budget = spin_budget();
  const double start = now_us();
  for (int i = 0;; ++i) {
    if (done()) return;
    if ((i & 63) == 0) {
      const double waited = now_us() - start;
      if (waited >= budget.total_us) break;
      if (waited >= budget.spin_us) sched_yield();
    }
    cpu_relax();
  }
  while (!done()) {
    const uint32_t value = sleep_value();
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    if (!done() && word.load(std::memory_order_seq_cst) == value) futex(&word, FUTEX_WAIT, value);
    sleepers.fetch_sub(1, std::memory_order_seq_cst);
  }
}

// ---------------------------------------------------------------- the pool

thread_local bool t_in_region = false;

class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool();  // never destroyed: workers may outlive static destructors
    return *pool;
  }

  int threads() {
    const int requested = requested_.load(std::memory_order_relaxed);
    return requested > 0 ? requested : default_threads();
  }

  static int default_threads() {
    static const int n = [] {
      int explicit_request = env_threads("MINIDL_NUM_THREADS");
      if (!explicit_request) explicit_request = env_threads("OMP_NUM_THREADS");
      if (explicit_request) return explicit_request;
      int cpus = affinity_cpus();
      if (cpus <= 0) cpus = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
      const int quota = cgroup_cpus();
      return quota > 0 ? std::min(cpus, quota) : cpus;
    }();
    return n;
  }

  void set_threads(int n) { requested_.store(n, std::memory_order_relaxed); }

  void run(int64_t chunks, detail::ChunkFn fn, void* context) {
    // Rule 6: a nested region, or a second caller while another owns the pool, runs here.
    bool expected = false;
    if (t_in_region || chunks == 1 ||
        !owner_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      run_serially(chunks, fn, context);
      return;
    }
    struct Release {
      std::atomic<bool>& owner;
      ~Release() { owner.store(false, std::memory_order_release); }
    } release{owner_};
    ensure_workers(threads() - 1);
    // Rule 8: after a stall the calling thread runs regions alone for a while (the same
    // chunks, in order: results do not change).
    const double start = now_us();
    if (workers_.empty() || chunks > INT32_MAX || start < solo_until_us_) {
      run_serially(chunks, fn, context);
      return;
    }

    // Publish the region: close the claim word to the previous region first (a worker that
    // read its last value can then no longer claim a chunk with fields it may read from this
    // one), then the fields, then open the claim word, then wake the workers.
    const uint32_t epoch = epoch_.load(std::memory_order_relaxed) + 1;
    claim_.store((static_cast<uint64_t>(epoch) << 32) | kClosed, std::memory_order_seq_cst);
    fn_.store(fn, std::memory_order_relaxed);
    context_.store(context, std::memory_order_relaxed);
    chunks_.store(chunks, std::memory_order_relaxed);
    failed_.store(false, std::memory_order_relaxed);
    preempted_.store(false, std::memory_order_relaxed);
    error_ = nullptr;
    remaining_.store(static_cast<uint32_t>(chunks), std::memory_order_relaxed);
    claim_.store(static_cast<uint64_t>(epoch) << 32, std::memory_order_release);
    epoch_.store(epoch, std::memory_order_seq_cst);
    if (worker_sleepers_.load(std::memory_order_seq_cst) > 0) futex(&epoch_, FUTEX_WAKE, INT_MAX);

    work(epoch, 0);
    const double own_done = now_us();
    wait_until([&] { return remaining_.load(std::memory_order_acquire) == 0; }, remaining_,
               [&] { return remaining_.load(std::memory_order_acquire); }, caller_sleepers_);
    note_stall(now_us() - own_done, own_done - start);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  Pool() = default;

  static void run_serially(int64_t chunks, detail::ChunkFn fn, void* context) {
    const bool outer = t_in_region;
    t_in_region = true;
    struct Restore {
      bool value;
      ~Restore() { t_in_region = value; }
    } restore{outer};
    for (int64_t c = 0; c < chunks; ++c) fn(context, c, 0);
  }

  // Rule 8. A stall: the caller waited for a chunk whose thread spent more than kStallUs of it
  // off its core (preempted by another process), and the wait was more than kStallUs and more
  // than a quarter of the caller's own work in the region (a long region's last chunk may keep
  // it waiting a while, preempted or not, at little cost). The machine is busy, and the next
  // regions would stall the same way: the caller runs them alone for a back-off time that
  // doubles while stalls keep coming (a probe region after each), and drops back once
  // kCleanRegions parallel regions in a row ran without one.
  void note_stall(double waited_us, double worked_us) {
    if (!backoff_enabled_) return;
    if (waited_us > kStallUs && waited_us > worked_us / 4 &&
        preempted_.load(std::memory_order_relaxed)) {
      solo_until_us_ = now_us() + backoff_us_;
      backoff_us_ = std::min(backoff_us_ * 2, kMaxBackoffUs);
      clean_regions_ = 0;
    } else if (++clean_regions_ >= kCleanRegions) {
      backoff_us_ = kMinBackoffUs;
    }
  }

  // Claims and runs chunks of region `epoch` until none is left (or the region is over). A
  // worker measures each chunk's wall and CPU time (from before its claim) to tell when it was
  // preempted while holding one (rule 8).
  void work(uint32_t epoch, int slot) {
    t_in_region = true;
    const bool timed = slot > 0 && backoff_enabled_;
    double wall_start = 0, cpu_start = 0;
    uint64_t claim = claim_.load(std::memory_order_acquire);
    while (true) {
      if (timed) {
        wall_start = now_us();
        cpu_start = thread_cpu_us();
      }
      if (static_cast<uint32_t>(claim >> 32) != epoch) break;
      // Read the region's fields before claiming; a successful claim proves they were this
      // region's (the next region closes the claim word before it writes its fields).
      const int64_t chunks = chunks_.load(std::memory_order_relaxed);
      const detail::ChunkFn fn = fn_.load(std::memory_order_relaxed);
      void* const context = context_.load(std::memory_order_relaxed);
      const int64_t chunk = static_cast<int64_t>(claim & 0xffffffffu);
      if (chunk >= chunks) break;
      if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        continue;
      if (!failed_.load(std::memory_order_relaxed)) {
        try {
          fn(context, chunk, slot);
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mutex_);
          if (!error_) error_ = std::current_exception();
          failed_.store(true, std::memory_order_relaxed);
        }
      }
      if (timed && (now_us() - wall_start) - (thread_cpu_us() - cpu_start) > kStallUs)
        preempted_.store(true, std::memory_order_relaxed);
      if (remaining_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
          caller_sleepers_.load(std::memory_order_seq_cst) > 0)
        futex(&remaining_, FUTEX_WAKE, INT_MAX);
      claim = claim_.load(std::memory_order_acquire);
    }
    t_in_region = false;
  }

  void worker_loop(int slot, uint32_t seen) {
    while (true) {
      wait_until(
          [&] {
            return epoch_.load(std::memory_order_acquire) != seen ||
                   stop_.load(std::memory_order_relaxed);
          },
          epoch_, [&] { return seen; }, worker_sleepers_);
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = epoch_.load(std::memory_order_acquire);
      work(seen, slot);
    }
  }

  // Starts or stops workers so that `count` run (called by the pool's owner only).
  void ensure_workers(int count) {
    count = std::max(0, count);
    if (static_cast<int>(workers_.size()) == count) return;
    if (!workers_.empty()) {
      stop_.store(true, std::memory_order_relaxed);
      epoch_.fetch_add(1, std::memory_order_seq_cst);
      futex(&epoch_, FUTEX_WAKE, INT_MAX);
      for (std::thread& t : workers_) t.join();
      workers_.clear();
      stop_.store(false, std::memory_order_relaxed);
    }
    const uint32_t seen = epoch_.load(std::memory_order_relaxed);
    for (int k = 1; k <= count; ++k)
      workers_.emplace_back([this, k, seen] { worker_loop(k, seen); });
  }

  static constexpr uint64_t kClosed = 0xffffffffu;  // a claim index above every chunk count
  static constexpr double kStallUs = 300;
  static constexpr double kMinBackoffUs = 20000, kMaxBackoffUs = 1000000;
  static constexpr int kCleanRegions = 64;
  // MINIDL_BACKOFF=0 switches rule 8 off, for measuring what it does.
  const bool backoff_enabled_ = [] {
    const char* env = std::getenv("MINIDL_BACKOFF");
    return !(env && std::string(env) == "0");
  }();
  // Owned by the pool's current owner (the caller of run()).
  double solo_until_us_ = 0, backoff_us_ = kMinBackoffUs;
  int clean_regions_ = 0;
  std::atomic<bool> preempted_{false};

  std::atomic<int> requested_{0};
  std::atomic<bool> owner_{false};
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_{false};

  std::atomic<uint32_t> epoch_{0};
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint32_t> remaining_{0};
  std::atomic<detail::ChunkFn> fn_{nullptr};
  std::atomic<void*> context_{nullptr};
  std::atomic<int64_t> chunks_{0};
  std::atomic<bool> failed_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
  std::atomic<int> worker_sleepers_{0}, caller_sleepers_{0};
};

}  // namespace

int get_num_threads() {
  return Pool::instance().threads();
}

void set_num_threads(int threads) {
  MINIDL_CHECK(threads >= 1, "set_num_threads", "expected at least 1 thread, got " << threads);
  Pool::instance().set_threads(threads);
}

int default_num_threads() {
  return Pool::default_threads();
}

bool in_parallel_region() {
  return t_in_region;
}

namespace detail {

// A few chunks per thread, so a thread that falls behind (preempted, or woken late) holds back
// at most a small part of the region while the others take the rest.
constexpr int64_t kChunksPerThread = 4;

int64_t chunk_count(int64_t n, int64_t grain) {
  if (n <= std::max<int64_t>(1, grain) || t_in_region) return 1;
  const int threads = get_num_threads();
  if (threads <= 1) return 1;
  const int64_t by_grain = n / std::max<int64_t>(1, grain);  // every chunk >= grain indices
  return std::min<int64_t>(by_grain, threads * kChunksPerThread);
}

void run_chunks(int64_t chunks, ChunkFn fn, void* context) {
  if (chunks <= 0) return;
  Pool::instance().run(chunks, fn, context);
}

}  // namespace detail

}  // namespace minidl
