// HDF5 storage of systems and results (layout: docs/file-format.md).
//
// Files are plain HDF5 (readable with h5py and no mriotrace code): labels as
// UTF-8 fixed-length string datasets, sparse A as CSC arrays, every dataset
// chunked with a Fletcher32 checksum, large ones gzip-compressed. Every write goes to a temporary file in the
// same directory, which is then renamed over the target: a reader never sees
// a half-written file. Readers check the format name and version and throw
// FileError (-> Python OSError) naming the file and what was wrong for a
// missing, truncated or foreign file.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mriotrace/accounts.hpp"
#include "mriotrace/system.hpp"

namespace mriotrace::io {

/// Version of the layout written by this build; readers accept <= this.
/// 2: every dataset carries a Fletcher32 checksum, the file's metadata
/// checksums (HDF5 1.10 format), labels are fixed-length strings. Version 1
/// files still open, with a warning that damage in them would go unnoticed.
inline constexpr int kFormatVersion = 2;

/// Where warnings of the readers go (e.g. "written before checksums"): by
/// default one line "mriotrace: warning: ..." on stderr. While a
/// CollectWarnings object lives on a thread, that thread's warnings are
/// collected into it instead (the Python module turns them into Python warnings).
void warn(const std::string& message);
class CollectWarnings {
 public:
  CollectWarnings();
  ~CollectWarnings();
  CollectWarnings(const CollectWarnings&) = delete;
  CollectWarnings& operator=(const CollectWarnings&) = delete;
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::vector<std::string> messages_;
  std::vector<std::string>* previous_;
};

/// One set of accounts stored under /results/<name> (e.g. "stressors", "value_added").
struct NamedAccounts {
  std::string name;
  Accounts accounts;
};

/// Write `system` (group /system) and optionally results (group /results) to `path`, atomically.
void save(const std::string& path, const MrioSystem& system,
          const std::vector<NamedAccounts>& results = {});

/// Write only labels (/system/labels) and results, without the system matrices
/// (a results file, e.g. from `mriotrace footprint -o out.h5`), atomically.
void save_results(const std::string& path, const Labels& labels,
                  const std::vector<NamedAccounts>& results);

/// Read the system stored in `path`. Throws FileError if the file is absent,
/// unreadable, not an mriotrace file, of a newer format version, or lacks /system.
MrioSystem load_system(const std::string& path);

/// Read the system stored in a file image: `size` bytes of an .h5 file held in
/// memory (e.g. a file embedded in the program, datasets::china_demo), opened
/// with HDF5's core driver without touching the disk. `name` stands for the
/// file in error messages. Same checks and errors as load_system.
MrioSystem load_system_image(const void* image, size_t size, const std::string& name);

/// Read all result sets stored in `path` (empty if none).
std::vector<NamedAccounts> load_results(const std::string& path);

/// Summary of a file without reading the matrices.
struct FileInfo {
  int format_version = 0;
  std::string created_by;           ///< e.g. "mriotrace 0.1.0"
  bool has_system = false;
  Labels labels;
  Index nnz_A = 0;                  ///< nonzeros of A (0 if no system)
  std::vector<std::string> result_names;
  Index spa_paths = -1;             ///< paths in /tracing/spa (a `spa -o x.h5` file), -1 if none
};
FileInfo inspect(const std::string& path);

/// The root attribute "format" of an HDF5 file: "mriotrace" (systems and
/// results), "mriotrace-batch" (batch results, io/batch_store.hpp), another
/// tool's name, or "" when there is none. Read under the same guard as every
/// read; FileError for a missing, non-HDF5 or damaged file. Tells the kinds
/// of file apart before the matching reader checks its version.
std::string file_format(const std::string& path);

}  // namespace mriotrace::io
