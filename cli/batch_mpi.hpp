// MPI for `mriotrace batch run` (optional: MRIOTRACE_WITH_MPI). Without MPI,
// or when not started by mpirun/srun, a session has one rank and no transport.
#pragma once

#include <memory>

#include "mriotrace/batch/job.hpp"
#include "mriotrace/batch/runner.hpp"

namespace mriotrace::cli {

class MpiSession {
 public:
  /// Initialises MPI (thread level SERIALIZED) when the process was started by
  /// an MPI launcher. Throws UsageError when started by mpirun with several
  /// ranks but built without MPI (each rank would run the whole job).
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// The message layer between ranks, or nullptr for a single rank.
  batch::BatchTransport* transport() { return transport_.get(); }
  /// Print `message` (rank-tagged) and end every rank (MPI_Abort) with `code`.
  [[noreturn]] void abort(const std::string& message, int code);

 private:
  int rank_ = 0, size_ = 1;
  bool initialised_ = false;
  std::unique_ptr<batch::BatchTransport> transport_;
};

}  // namespace mriotrace::cli
