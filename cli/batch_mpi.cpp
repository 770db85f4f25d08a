// MPI transport of the batch runner: rank 0 answers item requests and
// receives results; worker ranks ask, compute, send. Messages (MPI_COMM_WORLD):
//   tag 1 request  worker -> 0  (empty)
//   tag 2 reply    0 -> worker  (int64 item ids: one work unit; none = no more work)
//   tag 3 result   worker -> 0  (encoded ItemResult record)
//   tag 4 bye      worker -> 0  (empty; after the worker's last result)
// MPI preserves message order between two ranks, so a worker's results
// always arrive before its bye.
#include "batch_mpi.hpp"

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>

#include "util.hpp"

#ifdef MRIOTRACE_WITH_MPI
// Only the C API (the deprecated C++ bindings would need libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace mriotrace::cli {
namespace {

/// Ranks the launcher announced (Open MPI, PMIx, PMI/Slurm), or 0 when not launched by one.
int launcher_size() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "SLURM_NTASKS"}) {
    if (std::string(var) == "SLURM_NTASKS" && !std::getenv("PMI_RANK") && !std::getenv("PMIX_RANK")) continue;
    if (const char* v = std::getenv(var); v && *v) return std::atoi(v);
  }
  return std::getenv("PMIX_RANK") || std::getenv("PMI_RANK") ? 1 : 0;
}

#ifdef MRIOTRACE_WITH_MPI
constexpr int kRequest = 1, kReply = 2, kResult = 3, kBye = 4;

class MpiTransport : public batch::BatchTransport {
 public:
  MpiTransport(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::optional<Message> poll() override {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag) return std::nullopt;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    Message m{Kind::Request, st.MPI_SOURCE, std::vector<char>(static_cast<size_t>(count))};
    MPI_Recv(m.payload.data(), count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    m.kind = st.MPI_TAG == kResult ? Kind::Result : st.MPI_TAG == kBye ? Kind::Bye : Kind::Request;
    return m;
  }
  void reply(int to, const std::vector<Index>& items) override {
    const std::vector<std::int64_t> v(items.begin(), items.end());
    MPI_Send(v.data(), static_cast<int>(v.size()), MPI_INT64_T, to, kReply, MPI_COMM_WORLD);
  }
  std::vector<Index> request() override {
    std::lock_guard<std::mutex> lock(mutex_);  // SERIALIZED: one MPI call at a time
    MPI_Send(nullptr, 0, MPI_BYTE, 0, kRequest, MPI_COMM_WORLD);
    MPI_Status st;
    MPI_Probe(0, kReply, MPI_COMM_WORLD, &st);
    int count = 0;
    MPI_Get_count(&st, MPI_INT64_T, &count);
    std::vector<std::int64_t> v(static_cast<size_t>(count));
    MPI_Recv(v.data(), count, MPI_INT64_T, 0, kReply, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return {v.begin(), v.end()};
  }
  void send_result(const std::vector<char>& record) override {
    if (record.size() > static_cast<size_t>(INT32_MAX))
      throw std::runtime_error("an item's result exceeds 2 GiB; keep fewer accounts per item");
    std::lock_guard<std::mutex> lock(mutex_);
    MPI_Send(record.data(), static_cast<int>(record.size()), MPI_BYTE, 0, kResult, MPI_COMM_WORLD);
  }
  void bye() override {
    std::lock_guard<std::mutex> lock(mutex_);
    MPI_Send(nullptr, 0, MPI_BYTE, 0, kBye, MPI_COMM_WORLD);
  }

 private:
  int rank_, size_;
  std::mutex mutex_;
};
#endif

}  // namespace

MpiSession::MpiSession() {
  const int announced = launcher_size();
#ifdef MRIOTRACE_WITH_MPI
  if (announced == 0) return;  // a plain run: no MPI at all
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (size_ > 1 && provided < MPI_THREAD_SERIALIZED)
    abort("the MPI library does not provide MPI_THREAD_SERIALIZED, which the batch runner needs", 1);
  if (size_ > 1) transport_ = std::make_unique<MpiTransport>(rank_, size_);
#else
  if (announced > 1)
    throw UsageError("started by an MPI launcher with " + std::to_string(announced) +
                     " ranks, but this mriotrace was built without MPI (each rank would run the whole job); "
                     "rebuild with Open MPI (libopenmpi-dev) or use --shard i/N");
#endif
}

MpiSession::~MpiSession() {
#ifdef MRIOTRACE_WITH_MPI
  if (initialised_) MPI_Finalize();
#endif
}

void MpiSession::abort(const std::string& message, int code) {
  std::cerr << "mriotrace: error" << (size_ > 1 ? " (rank " + std::to_string(rank_) + ")" : std::string())
            << ": " << message << std::endl;
#ifdef MRIOTRACE_WITH_MPI
  if (initialised_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace mriotrace::cli
