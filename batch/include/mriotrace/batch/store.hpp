// Results and checkpoint of a batch job (layout: docs/hpc.md).
//
// Two files beside each other:
//   OUT.h5          the results: plain HDF5, rewritten atomically (temporary
//                   file, fsync, rename, fsync of the folder) from the done
//                   items, so it always opens and lists only complete items;
//   OUT.h5.journal  the checkpoint: an append-only log of item records (tag,
//                   length, payload, checksum), each written and fsync'd
//                   before the item counts as done. A record torn by a kill or
//                   a full disk fails its checksum and is cut off on resume.
// The journal is removed once the final results file (attribute complete = 1)
// is in place. Items are stored in id order whatever order they finished in,
// so any run, resumed run, MPI run or merge of shards writes the same numbers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mriotrace/batch.hpp"
#include "mriotrace/batch/job.hpp"
#include "mriotrace/system.hpp"

namespace mriotrace::batch {

/// Format name and version of batch results files. 2: every dataset carries
/// a Fletcher32 checksum, the 1.10 file format (checksummed metadata),
/// fixed-length strings; version 1 files still open, with a warning.
inline constexpr const char* kBatchFormat = "mriotrace-batch";
inline constexpr int kBatchFormatVersion = 2;

/// A float64 array as stored: row-major values and their shape.
struct StoredArray {
  std::string name;                  ///< path below its group, e.g. "D_cba_reg/median", "target/p_met"
  std::vector<std::uint64_t> dims;
  std::vector<double> values;
};

/// Everything a batch results file holds (read back by merge, tests, Python).
/// The fields after `items` are filled by read_batch_file only (the writer
/// derives them from the job and the items).
struct BatchFileContents {
  std::string job_text;
  std::string scenario_text;      ///< the job's scenario file, or ""
  std::uint64_t job_hash = 0;
  Index total_items = 0;          ///< items of the whole job
  int shard_index = 0, shard_count = 1;
  bool complete = false;          ///< every item of the shard (or job) is present
  std::vector<std::string> regions, sectors, stressors, systems, scenarios;
  std::vector<ItemResult> items;  ///< sorted by id, arrays as computed
  int format_version = 0;         ///< of the file read
  std::string created_by;         ///< "mriotrace <version>"
  std::vector<std::string> accounts;  ///< kept accounts (/labels/accounts)
  std::vector<std::int64_t> years;    ///< per system (/labels/years; 0 = not given)
  std::vector<StoredArray> summary;   ///< /summary/*: [S, C, account dims], target [S, C], draws_used [S*C]
};

/// Read a batch results file, in a guarded child process (io/h5.hpp: a damaged
/// or hostile file never takes this process down). Every checksum is
/// verified and every shape checked against the labels. Throws FileError
/// naming the file (and the dataset) when it is missing, not a batch file, of
/// a newer format version, damaged or inconsistent.
BatchFileContents read_batch_file(const std::string& path);

/// Write a results file atomically from items sorted by id (with summaries
/// when `complete` and the job has draws).
void write_batch_file(const std::string& path, const BatchJob& job, const BatchFileContents& header,
                      const std::vector<const ItemResult*>& items);

/// The checkpoint of one run (rank 0 only). Thread-safe.
class BatchStore {
 public:
  /// Open for `job` writing `output` (shard i of N). Resumes from the journal
  /// (or from an incomplete results file of the same job); throws FileError
  /// when either belongs to another or a changed job, unless `restart`, which
  /// discards them. `labels`: regions, sectors and the job's selected stressors.
  BatchStore(const BatchJob& job, std::string output, int shard_index, int shard_count, bool restart,
             const Labels& labels);
  ~BatchStore();
  BatchStore(const BatchStore&) = delete;
  BatchStore& operator=(const BatchStore&) = delete;

  bool is_done(Index id) const;
  Index done_count() const;
  Index failed_count() const;
  Index resumed_count() const { return resumed_; }
  const std::string& output() const { return output_; }

  /// Append `result` to the journal and fsync it; then it is done. On a write
  /// error (disk full) the journal is cut back to its last complete record and
  /// FileError is thrown: nothing committed earlier is lost.
  void commit(ItemResult result);
  /// Rewrite the results file from the done items (atomic).
  void snapshot();
  /// The final results file; removes the journal when every item is done.
  /// Returns whether the shard is complete.
  bool finish();
  /// Failed items (id, message), in id order.
  std::vector<std::pair<Index, std::string>> failures() const;

 private:
  void append(const std::vector<char>& record);
  void write_locked(bool final);

  const BatchJob& job_;
  std::string output_, journal_;
  int shard_index_, shard_count_;
  Index shard_items_ = 0;
  Index resumed_ = 0;
  BatchFileContents header_;
  std::map<Index, ItemResult> done_;
  int fd_ = -1;
  mutable std::mutex mutex_;
};

}  // namespace mriotrace::batch
