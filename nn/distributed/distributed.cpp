// minidl::distributed over MPI (with MINIDL_WITH_MPI, from `make MPI=1`), or a world of one.
#include "nn/distributed/distributed.h"

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

void start_mpi(int* argc, char*** argv) {
  MINIDL_CHECK(!g_finalized, "distributed::init", "MPI was finalized and cannot start again");
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  g_initialized = true;
}
#else
// A launcher's world size from its environment (0 when there is none).
long launcher_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"}) {
    if (const char* value = std::getenv(name)) return std::strtol(value, nullptr, 10);
  }
  return 0;
}

void start_mpi(int*, char***) {
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
  g_initialized = false;
  g_finalized = true;
#ifdef MINIDL_WITH_MPI
  int done = 0;
  MPI_Finalized(&done);
  if (!done) MPI_Finalize();
#endif
}

bool is_initialized() noexcept { return g_initialized; }

Guard::Guard(int& argc, char**& argv) { init(argc, argv); }
Guard::Guard() { init(); }
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

void barrier() {
#ifdef MINIDL_WITH_MPI
  if (world_size() > 1) check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

void all_reduce_sum(const Tensor& tensor) {
  check_tensor(tensor, "distributed::all_reduce_sum", false);
#ifdef MINIDL_WITH_MPI
  if (world_size() == 1 || tensor.numel() == 0) return;
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
  check_mpi(MPI_Wait(&impl_->request, MPI_STATUS_IGNORE), "MPI_Wait");
#endif
}

Work all_reduce_sum_async(const Tensor& tensor) {
  check_tensor(tensor, "distributed::all_reduce_sum_async", false);
  auto impl = std::make_unique<Work::Impl>();
#ifdef MINIDL_WITH_MPI
  if (world_size() > 1 && tensor.numel() > 0)
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, tensor.raw_data(),
                             mpi_count(tensor, "distributed::all_reduce_sum_async"),
                             mpi_type(tensor.dtype()), MPI_SUM, MPI_COMM_WORLD, &impl->request),
              "MPI_Iallreduce");
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
  Tensor signature = minidl::tensor<int64_t>({static_cast<int64_t>(tensors.size()), elements}, kInt64);
  const Tensor mine = signature.clone();
  broadcast(signature, root);
  const bool same = signature.to_vector<int64_t>() == mine.to_vector<int64_t>();
  Tensor bad_rank = minidl::tensor<double>({same ? -1.0 : static_cast<double>(rank())}, kFloat64);
#ifdef MINIDL_WITH_MPI
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
