// minidl::distributed over MPI (with MINIDL_WITH_MPI, from `make MPI=1`), or a world of one.
#include "nn/distributed/distributed.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/factories.h"
#include "core/shape.h"
#include "nn/module.h"

#ifdef MINIDL_WITH_MPI
#include <mpi.h>
#endif

namespace minidl::distributed {

namespace {

bool g_initialized = false;  // init() ran and finalize() has not
bool g_finalized = false;    // finalize() ended MPI (it cannot start again)
double g_timeout = 300;      // seconds a collective may wait (set_timeout)
int g_local_size = 1;        // ranks on this machine

// The timeout from MINIDL_DISTRIBUTED_TIMEOUT, if set (an error names a bad value).
void read_timeout_from_environment() {
  const char* text = std::getenv("MINIDL_DISTRIBUTED_TIMEOUT");
  if (!text || !*text) return;
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  MINIDL_CHECK(
      end && *end == 0 && seconds > 0, "distributed::init",
      "MINIDL_DISTRIBUTED_TIMEOUT must be a positive number of seconds, got \"" << text << "\"");
  g_timeout = seconds;
}

// A tensor a collective can work on in place: defined, contiguous, of one of `allowed` dtypes.
void check_tensor(const Tensor& t, const char* op, bool allow_int64) {
  MINIDL_CHECK(t.defined(), op, "got an undefined tensor");
  const DType d = t.dtype();
  const bool ok = d == kFloat32 || d == kFloat64 || (allow_int64 && d == kInt64);
  MINIDL_CHECK(ok, op,
               "needs a " << (allow_int64 ? "float32, float64 or int64" : "float32 or float64")
                          << " tensor, got " << d << " of shape " << shape_str(t.shape()));
  MINIDL_CHECK(t.is_contiguous(), op,
               "needs a contiguous tensor, got a strided view of shape "
                   << shape_str(t.shape()) << " (" << d
                   << "); reduce a .contiguous() copy and copy_ it back");
}

#ifdef MINIDL_WITH_MPI
// Turns an MPI return code into an exception naming the call and MPI's own message.
void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char message[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, message, &length);
  MINIDL_FAIL("distributed", call << " failed on rank " << rank() << ": "
                                  << std::string(message, static_cast<size_t>(length)));
}

MPI_Datatype mpi_type(DType d) {
  switch (d) {
    case DType::Float32:
      return MPI_FLOAT;
    case DType::Float64:
      return MPI_DOUBLE;
    case DType::Int64:
      return MPI_INT64_T;
    default:
      MINIDL_FAIL("distributed", "no MPI datatype for " << d);
  }
}

int mpi_count(const Tensor& t, const char* op) {
  MINIDL_CHECK(t.numel() <= 0x7fffffff, op,
               "a tensor of " << t.numel() << " elements is over MPI's int count limit");
  return static_cast<int>(t.numel());
}

// ---- the watchdog (see set_timeout in the header)
//
// Every collective gets a number, the same on every rank (they start collectives in the same
// order). A rank that has waited kAnnounceAfter seconds in collective #c sends c to every other
// rank on g_watch, a communicator of its own (so these messages never meet the program's). Each
// rank keeps one receive posted per peer and records the highest number heard: at the timeout,
// the peers last heard from in a collective before #c are the ones that never arrived.
constexpr double kAnnounceAfter = 1.0;
constexpr int kArrivalTag = 1;
MPI_Comm g_watch = MPI_COMM_NULL;
int64_t g_collectives = 0;               // collectives this rank has started
std::vector<int64_t> g_heard;            // per rank: the latest collective it said it waits in
std::vector<int64_t> g_inbox, g_outbox;  // per rank: receive / send buffers
std::vector<MPI_Request> g_receives, g_sends;

void post_receive(int peer) {
  MPI_Irecv(&g_inbox[peer], 1, MPI_INT64_T, peer, kArrivalTag, g_watch, &g_receives[peer]);
}

void start_watchdog() {
  const int n = world_size(), me = rank();
  MPI_Comm_dup(MPI_COMM_WORLD, &g_watch);
  g_heard.assign(n, -1);
  g_inbox.assign(n, 0);
  g_outbox.assign(n, 0);
  g_receives.assign(n, MPI_REQUEST_NULL);
  g_sends.assign(n, MPI_REQUEST_NULL);
  for (int peer = 0; peer < n; ++peer)
    if (peer != me) post_receive(peer);
}

// Records what the peers have said so far.
void poll_arrivals() {
  for (size_t peer = 0; peer < g_receives.size(); ++peer) {
    if (g_receives[peer] == MPI_REQUEST_NULL) continue;
    int done = 0;
    MPI_Test(&g_receives[peer], &done, MPI_STATUS_IGNORE);
    if (!done) continue;
    if (g_inbox[peer] > g_heard[peer]) g_heard[peer] = g_inbox[peer];
    post_receive(static_cast<int>(peer));
  }
}

// Tells every peer that this rank waits in collective `number`.
void announce(int64_t number) {
  const int n = world_size(), me = rank();
  for (int peer = 0; peer < n; ++peer) {
    if (peer == me) continue;
    int done = 1;
    if (g_sends[peer] != MPI_REQUEST_NULL) MPI_Test(&g_sends[peer], &done, MPI_STATUS_IGNORE);
    if (!done) continue;  // the last one has not left: that peer is not listening anyway
    g_outbox[peer] = number;
    MPI_Isend(&g_outbox[peer], 1, MPI_INT64_T, peer, kArrivalTag, g_watch, &g_sends[peer]);
  }
}

// Collective `number` (`call`) has waited past the timeout: names the ranks that never arrived
// and stops the run.
[[noreturn]] void stuck(int64_t number, const char* call, double waited) {
  poll_arrivals();
  std::string missing;
  int count = 0;
  for (size_t peer = 0; peer < g_heard.size(); ++peer) {
    if (static_cast<int>(peer) == rank() || g_heard[peer] >= number) continue;
    missing += (missing.empty() ? "" : ", ") + std::to_string(peer);
    ++count;
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.0f", waited);
  std::string why = std::string("waited ") + seconds + " s in " + call + " (collective #" +
                    std::to_string(number) + ") for the other ranks; ";
  why += count == 0 ? std::string("every rank said it was waiting too, so MPI itself is stuck")
                    : (count == 1 ? "rank " : "ranks ") + missing +
                          (count == 1 ? " never arrived: it hung, or died"
                                      : " never arrived: they hung, or died");
  why += " (the limit is MINIDL_DISTRIBUTED_TIMEOUT or distributed::set_timeout)";
  abort_all(75, why);
}

// Waits for a started collective, bounded by the timeout (see above). Open MPI moves a
// non-blocking collective forward only inside MPI calls, one step per MPI_Test, so it tests
// without pause: sleeping between tests made an 8 MiB all-reduce 25x slower (a step per
// sleep). After the first thousand tests each one also yields the core (sched_yield), so a
// rank that waits for a slower one gives way to any thread or rank that wants the core, and
// costs nothing when none does. The clock is read every 256 tests.
void wait_request(MPI_Request& request, int64_t number, const char* call) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  bool announced = false;
  for (uint64_t tests = 1;; ++tests) {
    int done = 0;
    check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), call);
    if (done) return;
    if (tests > 1024) sched_yield();
    if (tests % 256 != 0) continue;
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    if (!announced && waited >= std::min(kAnnounceAfter, g_timeout / 4)) {
      announce(number);
      announced = true;
    }
    if (announced) poll_arrivals();
    if (waited >= g_timeout) stuck(number, call, waited);
  }
}

// Before a blocking collective: every rank meets in a non-blocking barrier, waited for with the
// timeout (so a rank that never comes is named), and only then does the blocking call run --
// at the full speed of Open MPI's tuned algorithms (its non-blocking all-reduce took 1.7x as
// long for 8 MiB, 2 us instead of 1.2 for 1 KiB). Between the barrier and the call a rank can
// only die, which mpirun notices.
void arrive(const char* call) {
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier");
  wait_request(request, g_collectives++, call);
}

void stop_watchdog() {
  if (g_watch == MPI_COMM_NULL) return;
  for (MPI_Request& r : g_sends)
    if (r != MPI_REQUEST_NULL) MPI_Wait(&r, MPI_STATUS_IGNORE);
  for (MPI_Request& r : g_receives) {
    if (r == MPI_REQUEST_NULL) continue;
    MPI_Cancel(&r);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
  }
  MPI_Comm_free(&g_watch);
}

void start_mpi(int* argc, char*** argv) {
  MINIDL_CHECK(!g_finalized, "distributed::init", "MPI was finalized and cannot start again");
  read_timeout_from_environment();
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  g_initialized = true;
  MPI_Comm local = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &g_local_size);
  MPI_Comm_free(&local);
  start_watchdog();
}
#else
void start_mpi(int*, char***) {
  read_timeout_from_environment();
  const long size = launcher_world_size();
  MINIDL_CHECK(size <= 1, "distributed::init",
               "this program was launched as one of "
                   << size
                   << " processes, but minidl was built without MPI, so it cannot join them; "
                      "install Open MPI (tools/install_deps.sh --mpi) and rebuild with "
                      "`make MPI=1`");
  g_initialized = true;
}
#endif

}  // namespace

int launcher_world_size() noexcept {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"}) {
    if (const char* value = std::getenv(name))
      return static_cast<int>(std::strtol(value, nullptr, 10));
  }
  return 0;
}

bool built_with_mpi() noexcept {
#ifdef MINIDL_WITH_MPI
  return true;
#else
  return false;
#endif
}

void init(int& argc, char**& argv) {
  if (!g_initialized) start_mpi(&argc, &argv);
}

void init() {
  if (!g_initialized) start_mpi(nullptr, nullptr);
}

void finalize() {
  if (!g_initialized) return;
#ifdef MINIDL_WITH_MPI
  int done = 0;
  MPI_Finalized(&done);
  if (!done) {
    // Every rank is past its last collective before the watchdog's receives are cancelled, so
    // no announcement is left in flight (and a rank that is missing is named, not waited for).
    barrier();
    stop_watchdog();
    MPI_Finalize();
  }
#endif
  g_initialized = false;
  g_finalized = true;
}

bool is_initialized() noexcept {
  return g_initialized;
}

Guard::Guard(int& argc, char**& argv) {
  init(argc, argv);
}
Guard::Guard() {
  init();
}
Guard::~Guard() {
  if (std::uncaught_exceptions() == 0) finalize();
}

int rank() noexcept {
#ifdef MINIDL_WITH_MPI
  if (!g_initialized) return 0;
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
#else
  return 0;
#endif
}

int world_size() noexcept {
#ifdef MINIDL_WITH_MPI
  if (!g_initialized) return 1;
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
#else
  return 1;
#endif
}

int local_world_size() noexcept {
  return g_initialized ? g_local_size : 1;
}

void set_timeout(double seconds) {
  MINIDL_CHECK(seconds > 0 && seconds < 1e9, "distributed::set_timeout",
               "the timeout must be a positive number of seconds, got " << seconds);
  g_timeout = seconds;
}

double timeout() noexcept {
  return g_timeout;
}

void abort_all(int exit_code, const std::string& why) noexcept {
  std::fflush(stdout);
  std::fprintf(stderr, "\nminidl distributed: rank %d of %d: %s; stopping every process\n", rank(),
               world_size(), why.c_str());
  std::fflush(stderr);
#ifdef MINIDL_WITH_MPI
  if (world_size() > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
  std::_Exit(exit_code);
}

// Every collective below waits for the other ranks through wait_request (arrive, or a Work), so
// that none waits past the timeout.
void barrier() {
#ifdef MINIDL_WITH_MPI
  if (world_size() == 1) return;
  arrive("barrier");
#endif
}

void all_reduce_sum(const Tensor& tensor) {
  check_tensor(tensor, "distributed::all_reduce_sum", false);
#ifdef MINIDL_WITH_MPI
  if (world_size() == 1 || tensor.numel() == 0) return;
  arrive("all_reduce_sum");
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, tensor.raw_data(),
                          mpi_count(tensor, "distributed::all_reduce_sum"),
                          mpi_type(tensor.dtype()), MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
#endif
}

void all_reduce_mean(const Tensor& tensor) {
  check_tensor(tensor, "distributed::all_reduce_mean", false);
  const int n = world_size();
  if (n == 1) return;
  all_reduce_sum(tensor);
  tensor.detach().div_(static_cast<double>(n));
}

// ---------------------------------------------------------------- Work

struct Work::Impl {
#ifdef MINIDL_WITH_MPI
  MPI_Request request = MPI_REQUEST_NULL;
  int64_t number = 0;  // the collective's number (the watchdog's)
#endif
};

Work::Work() = default;
Work::Work(Work&& other) noexcept = default;
Work::Work(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Work& Work::operator=(Work&& other) {
  if (this != &other) {
    wait();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Work::~Work() {
  try {
    wait();
  } catch (...) {  // a destructor cannot throw; the MPI error already ends the run
  }
}

bool Work::test() {
#ifdef MINIDL_WITH_MPI
  if (!impl_ || impl_->request == MPI_REQUEST_NULL) return true;
  int done = 0;
  check_mpi(MPI_Test(&impl_->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
  return done != 0;
#else
  return true;
#endif
}

void Work::wait() {
#ifdef MINIDL_WITH_MPI
  if (!impl_ || impl_->request == MPI_REQUEST_NULL) return;
  wait_request(impl_->request, impl_->number, "all_reduce_sum_async (MPI_Iallreduce)");
#endif
}

Work all_reduce_sum_async(const Tensor& tensor) {
  check_tensor(tensor, "distributed::all_reduce_sum_async", false);
  auto impl = std::make_unique<Work::Impl>();
#ifdef MINIDL_WITH_MPI
  if (world_size() > 1 && tensor.numel() > 0) {
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, tensor.raw_data(),
                             mpi_count(tensor, "distributed::all_reduce_sum_async"),
                             mpi_type(tensor.dtype()), MPI_SUM, MPI_COMM_WORLD, &impl->request),
              "MPI_Iallreduce");
    impl->number = g_collectives++;
  }
#endif
  return Work(std::move(impl));
}

// ---------------------------------------------------------------- broadcast

void broadcast(const Tensor& tensor, int root) {
  check_tensor(tensor, "distributed::broadcast", true);
  const int n = world_size();
  MINIDL_CHECK(root >= 0 && root < n, "distributed::broadcast",
               "root " << root << " is not a rank of a world of " << n);
#ifdef MINIDL_WITH_MPI
  if (n == 1 || tensor.numel() == 0) return;
  arrive("broadcast");
  check_mpi(MPI_Bcast(tensor.raw_data(), mpi_count(tensor, "distributed::broadcast"),
                      mpi_type(tensor.dtype()), root, MPI_COMM_WORLD),
            "MPI_Bcast");
#endif
}

void broadcast_parameters(nn::Module& module, int root) {
  const int n = world_size();
  MINIDL_CHECK(root >= 0 && root < n, "distributed::broadcast_parameters",
               "root " << root << " is not a rank of a world of " << n);
  if (n == 1) return;
  std::vector<Tensor> tensors;
  for (const auto& entry : module.named_parameters()) tensors.push_back(entry.value());
  for (const auto& entry : module.named_buffers()) tensors.push_back(entry.value());
  int64_t elements = 0;
  for (const Tensor& t : tensors) elements += t.numel();
  // Every rank compares its module with root's: a mismatch anywhere stops every rank (a rank
  // that went on to broadcast alone would wait forever).
  Tensor signature =
      minidl::tensor<int64_t>({static_cast<int64_t>(tensors.size()), elements}, kInt64);
  const Tensor mine = signature.clone();
  broadcast(signature, root);
  const bool same = signature.to_vector<int64_t>() == mine.to_vector<int64_t>();
  Tensor bad_rank = minidl::tensor<double>({same ? -1.0 : static_cast<double>(rank())}, kFloat64);
#ifdef MINIDL_WITH_MPI
  arrive("broadcast_parameters");
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, bad_rank.raw_data(), 1, MPI_DOUBLE, MPI_MAX,
                          MPI_COMM_WORLD),
            "MPI_Allreduce");
#endif
  const auto root_sig = signature.to_vector<int64_t>();
  MINIDL_CHECK(bad_rank.item<double>() < 0, "distributed::broadcast_parameters",
               "rank " << static_cast<int>(bad_rank.item<double>())
                       << "'s module differs from root " << root << "'s (" << root_sig[0]
                       << " parameters and buffers, " << root_sig[1]
                       << " elements); every rank must build the same model");
  for (const Tensor& t : tensors) {
    if (t.is_contiguous()) {
      broadcast(t, root);
    } else {
      Tensor copy = t.contiguous();
      broadcast(copy, root);
      t.detach().copy_(copy);
    }
  }
}

}  // namespace minidl::distributed
