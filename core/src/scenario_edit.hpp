// Private: the edits a scenario makes, collected on top of an untouched base.
//
// Operations never modify the base system; they write new values into sparse
// overlays (A cells, Y rows, S columns). The overlays are turned into dA, dY,
// dS once every operation has been applied and checked, so a failing scenario
// leaves nothing behind. Changes are also kept as the operations state them
// (a relocation's -theta a and +theta a exactly), not as new - old, so
// proportional rows stay exactly proportional for the low-rank path.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mriotrace/scenario.hpp"

namespace mriotrace::scenario_detail {

/// Electricity from (region, sector) whose additional output is counted at a
/// marginal intensity instead of the sector's average (applied after the solve).
struct MarginalSupply {
  Index column = -1;                 ///< (region, electricity sector) position
  std::map<Index, double> intensity; ///< stressor -> intensity per monetary unit
};

/// A sector split off by `integrate` with `split` (scenario_ops.cpp): appended
/// after the last sector in every region, with output only in `region`. The
/// column is stated on the base positions, where row (region, chemical) means
/// "chemicals of region r", bought from the chemical sector and the new one in
/// the ratio (1 - share) : share like every other buyer's (reshape() splits it).
struct SplitSector {
  std::string label;
  Index region = -1, chemical = -1;
  double share = 1;                           ///< s: part of (region, chemical) that is integrated
  std::vector<std::pair<Index, double>> column;  ///< input coefficients (base row positions, sorted)
  Vector intensity;                           ///< k direct intensities
  double va_coefficient = 0;                  ///< value added per unit of output (0 without v)
};

struct Edits {
  std::map<std::pair<Index, Index>, double> A;  ///< (column, row) -> new coefficient
  std::map<std::pair<Index, Index>, double> dA; ///< (column, row) -> change, accumulated as the operations state it
  std::map<Index, RowVector> Y;                 ///< row -> new final-demand row (R*c)
  std::map<Index, RowVector> dY;                ///< row -> change of the final-demand row
  std::map<Index, Vector> S;                    ///< column -> new intensities (k)
  std::vector<MarginalSupply> marginal;
  std::set<Index> origins;                      ///< regions that relocations move supply out of
  std::vector<std::string> notes;
  std::vector<SplitSector> split;               ///< at most one (a split is the scenario's last operation)
};

/// The edited system in the scenario's own shape: the base's N sectors plus
/// the split-off ones (appended in every region; zero outside their region).
/// Built only for scenarios that split (full path).
struct Reshaped {
  Labels labels;        ///< N' = N + split.size() sectors
  SparseMatrix A;       ///< n' x n'
  Matrix Y;             ///< n' x R*c
  Matrix S;             ///< k x n'
  Vector va_coefficients;  ///< n' value added per unit of output (empty without v)
  std::vector<Index> zero_rows;  ///< positions nobody buys from (x' = 0 exactly)
};

/// Position of base position `p` in a system with N1 >= N sectors per region.
inline Index reshaped_position(Index p, Index N, Index N1) { return (p / N) * N1 + p % N; }

/// Apply the overlays of `e` to `base` and split the sectors of e.split off.
Reshaped reshape(const MrioSystem& base, const Edits& e);

/// Column sums of A (n).
Vector column_sums(const SparseMatrix& A);

/// Apply a scenario's operations to overlays of `base` (all-or-nothing; throws
/// InputError naming scenario, operation and parameter). base_column_sums =
/// column_sums(base.A()) when the caller has them (computed here otherwise).
Edits build_edits(const MrioSystem& base, const Scenario& scenario, const Vector* base_column_sums = nullptr);

/// Check the targets of a scenario against the system's labels; returns the
/// stressor row and region column (R = all regions) of each.
std::vector<std::pair<Index, Index>> resolve_targets(const MrioSystem& base, const Scenario& scenario);

/// Indices of the named sectors; throws InputError naming `what`.
std::vector<Index> sector_indices(const Labels& labels, const std::vector<std::string>& names, const std::string& what);

}  // namespace mriotrace::scenario_detail
