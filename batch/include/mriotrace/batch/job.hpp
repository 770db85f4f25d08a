// The batch job file (TOML; keys and the guide: docs/hpc.md): what a job
// computes, parsed and validated before anything runs. The runner is
// mriotrace/batch/runner.hpp, the results file and checkpoint
// mriotrace/batch/store.hpp; the work items are core's mriotrace/batch.hpp.
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

namespace mriotrace::batch {

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

/// "OUT.h5" -> "OUT.shard-<i>-of-<N>.h5" (the default output of shard i).
std::string shard_output_path(const std::string& output, int index, int count);

/// One-line description of an item: "item 12 (system 2017, scenario base, draw 3)".
std::string describe_item(const BatchJob& job, Index id);

}  // namespace mriotrace::batch
