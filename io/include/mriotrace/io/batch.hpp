// Batch jobs: the TOML job file, the runner (threads on a node, MPI ranks
// across nodes, or --shard i/N), and merging shard outputs. Guide and file
// layout: docs/hpc.md.
//
// Work distribution is dynamic: the coordinator (rank 0) hands out the next
// pending item id to whichever worker (a thread of rank 0, or a request from
// another rank) asks, so slow items never stall the rest. Only rank 0 writes:
// every result is appended to the checkpoint journal and fsync'd before it
// counts as done (io/batch_store.hpp); a re-run of the same command skips the
// done items, so a killed job resumes and finishes with results identical, bit
// for bit, to an uninterrupted run.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mriotrace/batch.hpp"
#include "mriotrace/montecarlo.hpp"
#include "mriotrace/scenario.hpp"
#include "mriotrace/sda.hpp"

namespace mriotrace::io {

/// One system of a job (a year, or any labelled table).
struct BatchSystem {
  std::string name;   ///< label (default: the year, else the file's stem)
  std::string file;   ///< HDF5 system file, resolved against the job file's folder
  Index year = 0;     ///< 0 when not given
};

/// One SDA comparison of a job: `from` -> `to` (system names).
struct BatchSda {
  std::string name;   ///< "<from>-><to>" unless given
  Index from = 0, to = 0;
  SdaMethod method = SdaMethod::Exact;
  bool split_demand = false;
};

/// "P(target met)": per draw, the kept account `account` of `stressor`,
/// summed over `regions` (empty = all), compared with the base scenario of
/// the same draw (max_change: met when value / base - 1 <= max_change) or
/// with an absolute ceiling (max_value: met when value <= max_value).
struct BatchTarget {
  bool enabled = false;
  std::string account = "D_cba_reg";
  std::string stressor;
  std::vector<std::string> regions;
  std::optional<double> max_change;
  std::optional<double> max_value;
};

/// A parsed, validated job file.
/// Limits checked when a job is read: the most items one job may have (its
/// pending-item list alone takes 8 bytes per item), and the most worker threads.
constexpr Index kMaxJobItems = 100'000'000;
constexpr int kMaxJobThreads = 4096;

struct BatchJob {
  std::string path;              ///< the job file ("" when parsed from text)
  std::string text;              ///< its text, stored in the results file
  std::uint64_t hash = 0;        ///< fnv1a64 of the text (and the scenario file's): a changed job is refused on resume
  std::string output;            ///< results file (resolved)
  int threads = 0;               ///< worker threads per rank (0 = environment)
  std::vector<BatchSystem> systems;
  std::vector<std::string> scenarios{"base"};  ///< index 0 is the base, then the scenario file's, in order
  std::string scenario_file;     ///< scenario file (resolved), or ""
  std::string scenario_text;     ///< its text (stored in the results file)
  std::vector<Scenario> scenario_defs;  ///< scenarios 1.. (edits applied to every system)
  Index draws = 0;               ///< Monte Carlo draws (0 = deterministic only)
  UncertaintyOptions mc;         ///< CVs, Z or A, seed, solve tolerance
  std::vector<std::string> keep{"D_cba_reg", "D_pba_reg"};  ///< accounts kept per item
  std::vector<std::string> stressors;  ///< names; empty = all of the first system's
  std::vector<BatchSda> sda;
  BatchTarget target;

  ItemGrid grid() const;
  /// Q, D_imp_reg or D_exp_reg kept: every draw solves one system per region.
  bool with_Q() const;
};

/// Accounts a job may keep.
const std::vector<std::string>& batch_account_names();

/// Parse and validate a job file. Throws FileError (missing, unreadable) or
/// InputError (malformed TOML with line and column; unknown keys; bad values)
/// naming the file. Relative paths are resolved against the job file's folder.
BatchJob parse_job(const std::string& path);
/// The same from text; relative paths resolve against `base_dir`. With
/// `scenario_text`, the scenario file is not read: that text is used (results
/// files store it, so a merge needs no other file).
BatchJob parse_job_text(const std::string& text, const std::string& origin, const std::string& base_dir,
                        const std::string* scenario_text = nullptr);

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

/// "OUT.h5" -> "OUT.shard-<i>-of-<N>.h5" (the default output of shard i).
std::string shard_output_path(const std::string& output, int index, int count);

/// Merge shard outputs of one job into `output` (atomically). Throws FileError
/// when files belong to different jobs; InputError when an item is missing
/// (naming the first missing ids) unless allow_partial.
void merge_batch(const std::vector<std::string>& inputs, const std::string& output, bool allow_partial = false);

/// One-line description of an item: "item 12 (system 2017, scenario base, draw 3)".
std::string describe_item(const BatchJob& job, Index id);

}  // namespace mriotrace::io
