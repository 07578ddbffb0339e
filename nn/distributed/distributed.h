// minidl::distributed: several processes training one model, over MPI (Open MPI's mpirun), as
// torch.distributed with the MPI backend.
//
//   int main(int argc, char** argv) {
//     distributed::Guard mpi(argc, argv);            // init() now, finalize() at scope exit
//     auto model = make_model();
//     distributed::broadcast_parameters(*model);     // every rank starts from rank 0's weights
//     ...   // DistributedDataParallel (nn/distributed/data_parallel.h) averages the gradients
//   }
//   $ mpirun -np 2 build/my_program
//
// MPI is optional at compile time: `make MPI=1` compiles this file against Open MPI (its
// mpicxx flags) and defines MINIDL_WITH_MPI (tools/install_deps.sh --mpi installs Open MPI).
// Without it the API is the same on one process: world_size() is 1, rank() is 0, every
// collective leaves its tensor unchanged, and init() under a launcher asking for more processes
// (mpirun -np 2) is an error that says how to rebuild. Before init() (or after finalize()) a
// program is a world of one as well, so library code may call these functions unconditionally.
//
// Collectives work on a contiguous float32 or float64 tensor in place (broadcast also takes
// int64, for buffers such as BatchNorm's num_batches_tracked); every rank must call the same
// collectives in the same order with tensors of the same shape and dtype, as in MPI. Only the
// thread that called init() may call them (MPI_THREAD_FUNNELED). MPI errors become
// minidl::Error exceptions (MPI_ERRORS_RETURN) naming the call and MPI's message.
#pragma once

#include <memory>
#include <string>

#include "core/tensor.h"

namespace minidl::nn {
class Module;
}

namespace minidl::distributed {

// True if this library was built with MPI (make MPI=1, or Open MPI found by make).
bool built_with_mpi() noexcept;
// How many processes a launcher (mpirun: OMPI_COMM_WORLD_SIZE, or PMI_SIZE / PMIX_SIZE) started
// this program among, from its environment; 0 when the program was started directly. A tool
// that only needs MPI under mpirun checks it before init(): starting MPI in a lone process
// (a "singleton") costs Open MPI about 0.3 s.
int launcher_world_size() noexcept;

// Starts MPI (MPI_Init_thread, FUNNELED) once per process; later calls do nothing. argc/argv
// as main received them (MPI may remove its own arguments). Without MPI: checks that no
// launcher asked for more than one process (Open MPI's OMPI_COMM_WORLD_SIZE, MPICH's PMI_SIZE)
// and leaves a world of one.
void init(int& argc, char**& argv);
// The same without the command line (MPI_Init with null arguments).
void init();
// Ends MPI (MPI_Finalize) if init() started it; waits for nothing, so call it after the last
// collective on every rank. Later calls do nothing; init() cannot start MPI again (an MPI rule).
void finalize();
// True between init() and finalize().
bool is_initialized() noexcept;

// init() in its constructor, finalize() in its destructor (unless the scope is left by an
// exception, when the process is about to end anyway and finalize could wait on other ranks).
class Guard {
 public:
  Guard(int& argc, char**& argv);
  Guard();
  ~Guard();
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
};

// This process's number, 0 .. world_size() - 1 (0 outside an MPI world).
int rank() noexcept;
// How many processes train together (1 outside an MPI world).
int world_size() noexcept;
// How many of the ranks run on this machine (this one included; 1 outside an MPI world): they
// share its cores, so each should use about its share of threads.
int local_world_size() noexcept;
// Waits until every rank has called barrier().
void barrier();

// Faults. A collective waits at most timeout() seconds for the other ranks (300 by default, or
// the environment variable MINIDL_DISTRIBUTED_TIMEOUT read by init()). Past it, the rank prints
// which ranks never arrived at that collective -- it hung, or died in a way mpirun has not
// noticed yet -- and stops every process of the run (MPI_Abort), so no rank waits forever. To
// know whom to name, a rank that has waited a second tells the others which collective it is
// in (an 8-byte message each, on a communicator of its own). A rank that dies is noticed by
// mpirun, which ends the others and names it.
void set_timeout(double seconds);
double timeout() noexcept;
// Stops every process of the run at once (MPI_Abort) with this exit code, after printing
// "rank R: <why>" to stderr; for a rank that hit an error the others cannot know about (they
// would wait for it in the next collective). Outside an MPI world: prints and exits.
[[noreturn]] void abort_all(int exit_code, const std::string& why) noexcept;

// tensor := the elementwise sum of every rank's tensor (MPI_Allreduce, MPI_SUM), in place.
// tensor: any shape, contiguous, float32 or float64, the same shape and dtype on every rank.
void all_reduce_sum(const Tensor& tensor);
// tensor := the elementwise mean over the ranks (the sum divided by world_size()), in place.
void all_reduce_mean(const Tensor& tensor);

// A collective started and not yet finished (torch's async_op=True handle). The tensor it was
// started on must stay alive and untouched until wait() returns. Destroying an unfinished Work
// waits for it (MPI forbids dropping a request that is still running).
class Work {
 public:
  Work();
  Work(Work&& other) noexcept;
  Work& operator=(Work&& other);
  ~Work();
  // True once the collective has finished; also lets MPI progress it (Open MPI moves a
  // non-blocking collective forward only inside MPI calls, so poll this during other work).
  bool test();
  // Blocks until the collective has finished. A Work that was never started is finished.
  void wait();

  struct Impl;  // the MPI request (nn/distributed/distributed.cpp)
  explicit Work(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Starts tensor := sum over ranks (MPI_Iallreduce) and returns at once; wait() finishes it.
// The same requirements as all_reduce_sum. On one process it is already finished.
Work all_reduce_sum_async(const Tensor& tensor);

// tensor := root's tensor on every rank, in place (MPI_Bcast). tensor: contiguous float32,
// float64 or int64, the same shape and dtype on every rank; root in 0 .. world_size() - 1.
void broadcast(const Tensor& tensor, int root = 0);
// Copies root's parameters and buffers into every rank's module (registration order), so that
// all replicas start identical. First checks that every rank's module has the same number of
// tensors and elements as root's (an error naming this rank otherwise).
void broadcast_parameters(nn::Module& module, int root = 0);

}  // namespace minidl::distributed
