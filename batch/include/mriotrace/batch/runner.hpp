// The batch runner: threads on a node, MPI ranks across nodes, or --shard
// i/N, and merging shard outputs. Guide and file layout: docs/hpc.md.
//
// Work distribution is dynamic: the coordinator (rank 0) hands out the next
// pending item id to whichever worker (a thread of rank 0, or a request from
// another rank) asks, so slow items never stall the rest. Only rank 0 writes:
// every result is appended to the checkpoint journal and fsync'd before it
// counts as done (mriotrace/batch/store.hpp); a re-run of the same command
// skips the done items, so a killed job resumes and finishes with results
// identical, bit for bit, to an uninterrupted run.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mriotrace/batch/job.hpp"

namespace mriotrace::batch {

/// Progress of a run (callback and stderr line).
struct BatchProgress {
  Index total = 0;        ///< items of this run (this shard)
  Index done = 0;         ///< done so far, including those done by earlier runs
  Index resumed = 0;      ///< done by earlier runs (skipped)
  Index failed = 0;       ///< failed items among `done`
  double seconds = 0;     ///< wall time of this run
  double items_per_second = 0;  ///< of this run's computed items
  double eta_seconds = -1;      ///< -1 while unknown
};

/// Messages between the coordinator (rank 0) and worker ranks. Implemented
/// over MPI by the CLI (cli/batch_mpi.cpp); nullptr = a single process.
class BatchTransport {
 public:
  virtual ~BatchTransport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  enum class Kind { Request, Result, Bye };
  struct Message {
    Kind kind;
    int from;
    std::vector<char> payload;  ///< encoded ItemResult for Result
  };
  /// Rank 0: the next message from any worker rank, without blocking.
  virtual std::optional<Message> poll() = 0;
  /// Rank 0: answer a Request with one work unit (item ids computed together,
  /// e.g. a block of Monte Carlo draws), or an empty list = no more work.
  virtual void reply(int to, const std::vector<Index>& items) = 0;
  /// Worker ranks (thread-safe): ask rank 0 for a work unit (empty = done).
  virtual std::vector<Index> request() = 0;
  /// Worker ranks (thread-safe): send one encoded result to rank 0.
  virtual void send_result(const std::vector<char>& record) = 0;
  /// Worker ranks: all results sent, this rank is finished.
  virtual void bye() = 0;
};

struct BatchRunOptions {
  int threads = -1;              ///< worker threads per rank; -1 = the job's setting
  int shard_index = 0;           ///< this run does the items with id % shard_count == shard_index
  int shard_count = 1;
  std::string output;            ///< overrides the job's output ("" = job's; shards add ".shard-i-of-N")
  bool restart = false;          ///< discard an earlier partial run of this job instead of resuming
  bool quiet = false;            ///< no progress lines on stderr
  double progress_seconds = 2;   ///< at most one progress line per this many seconds
  double snapshot_seconds = 30;  ///< rewrite the (always valid) results file at most this often
  std::function<void(const BatchProgress&)> on_progress;  ///< called on rank 0 after each item
};

struct BatchRunSummary {
  std::string output;            ///< the results file
  Index total = 0, resumed = 0, computed = 0, failed = 0;
  double seconds = 0;            ///< wall time of this run
  double setup_seconds = 0;      ///< of which loading systems and factorising them
  double seconds_per_item = 0;   ///< wall time per item of this run (all workers together)
  bool complete = false;         ///< every item of this shard is done
  std::vector<std::string> failures;  ///< "item 12 (system 2017, base, draw 3): reason", first 20
};

/// Run (or resume) a job. With a transport of size > 1, rank 0 coordinates and
/// writes, other ranks compute; every rank returns (only rank 0's summary is
/// meaningful). Throws FileError when the output belongs to another or a
/// changed job (unless restart), or cannot be written.
BatchRunSummary run_batch(const BatchJob& job, const BatchRunOptions& options = {},
                          BatchTransport* transport = nullptr);

/// Merge shard outputs of one job into `output` (atomically). Throws FileError
/// when files belong to different jobs; InputError when an item is missing
/// (naming the first missing ids) unless allow_partial.
void merge_batch(const std::vector<std::string>& inputs, const std::string& output, bool allow_partial = false);

}  // namespace mriotrace::batch
