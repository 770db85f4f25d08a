// Supply-chain tracing: structural path analysis (SPA), production layers,
// hypothetical extraction, linkages and the Ghosh (supply-side) model.
//
// Notation (docs/tracing.md, ../shared/docs/METHODS.md "Supply-chain tracing"):
// A n x n CSC technical coefficients, s (n) one row of S (or any intensity
// vector, e.g. an indicator row C S), y (n) a demand vector, L = (I - A)^-1
// (never formed: every L product is a LeontiefSolver solve), m = s L (n) the
// total multipliers of s, total = s L y = m . y.
// Index order is the system's region-major r*N + i everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace {

// ---------------------------------------------------------------------------
// Structural path analysis
// ---------------------------------------------------------------------------

/// Limits of a structural path analysis. A path j_t <- ... <- j_1 <- j_0 (j_0 the
/// final product, j_t the emitter, t = depth = number of steps through A) has
/// value s_{j_t} a_{j_t j_{t-1}} ... a_{j_1 j_0} y_{j_0}; every path with
/// |value| >= threshold and depth <= max_depth is found (exact, see spa()).
struct SpaOptions {
  double tau = 1e-4;        ///< threshold: a fraction of |total| (default) or, with absolute, in the stressor unit; >= 0
  bool absolute = false;    ///< tau is an absolute value in the stressor's unit
  int max_depth = 8;        ///< longest path in steps through A, 0..kSpaMaxDepth; -1 = unlimited (needs tau > 0)
  Index max_paths = 10'000'000;  ///< stop cleanly (result.truncated) after this many paths; 0 = no limit
  Index keep = 100'000;     ///< paths kept in SpaResult::paths, best first; 0 = every path found (memory!)
  double time_budget = 0;   ///< seconds of search; 0 = no limit; when reached the result is truncated
  int threads = 0;          ///< 0 = OMP_NUM_THREADS or all cores; results do not depend on it
};

/// Largest finite max_depth accepted (deeper paths carry a vanishing share of any real footprint).
inline constexpr int kSpaMaxDepth = 100;

/// One path, emitter first: nodes[0] = j_t (where the stressor is emitted),
/// nodes[depth] = j_0 (the final product). nodes.size() = depth + 1.
struct SpaPath {
  std::vector<std::int32_t> nodes;  ///< system indices r*N + i, emitter first
  double value = 0;                 ///< s_{j_t} a_{j_t j_{t-1}} ... a_{j_1 j_0} y_{j_0}, stressor unit
  int depth() const { return static_cast<int>(nodes.size()) - 1; }
};

/// Receives every path the search records, in search order (deterministic:
/// final products in index order, depth-first below them, children by
/// decreasing bound), from one thread at a time. Used to stream millions of
/// paths to a file without holding them in memory (io/path_writer.hpp).
class PathSink {
 public:
  virtual ~PathSink() = default;
  /// Called once before the first write, with total = s L y and the absolute threshold.
  virtual void begin(double /*total*/, double /*threshold*/) {}
  /// nodes: depth + 1 indices, emitter first; value as in SpaPath.
  virtual void write(const std::int32_t* nodes, int depth, double value) = 0;
};

struct SpaResult {
  double total = 0;            ///< s L y, stressor unit (what the shares are relative to)
  double threshold = 0;        ///< absolute threshold used: tau * |total| or tau
  int max_depth = 0;           ///< depth limit used (kSpaDepthCap when unlimited was asked)
  std::vector<SpaPath> paths;  ///< kept paths sorted by |value| desc, ties by nodes lexicographically
  Index paths_found = 0;       ///< paths recorded (all passed to the sink); >= paths.size()
  Vector coverage_by_depth;    ///< (max_depth + 1): sum of recorded values at each depth / total
  double coverage = 0;         ///< sum of all recorded values / total
  Index nodes_expanded = 0;    ///< search-tree nodes visited
  double setup_seconds = 0;    ///< bounds (two solves) and the final products' sorted columns
  double search_seconds = 0;   ///< the tree search itself
  bool truncated = false;      ///< a limit (max_paths, time budget, depth cap) cut the search short
  std::string truncation;      ///< which limit, empty when complete
};

/// Depth at which an unlimited search (max_depth = -1) stops and reports truncation.
inline constexpr int kSpaDepthCap = 1000;

/// Structural path analysis of total = s L y.
///   A: n x n CSC (the solver's matrix), s: n intensities, y: n demand.
/// Pruning: a search node with weight w (product of coefficients times demand)
/// at sector j holds at most |w| mbar_j in its whole subtree, mbar = |s| (I - |A|)^-1
/// (= m when s, A >= 0: one transposed solve; otherwise a second one, and a
/// factorisation of I - |A| when A has negative entries). Nodes with
/// |w| mbar_j < threshold are never visited, so the search is exact. The
/// column of a sector is prepared when the search first reaches it: only the
/// a_ij with |a_ij| mbar_i xbar_j >= threshold, xbar = (I - |A|)^-1 |y| (one
/// more solve), sorted by |a_ij| mbar_i.
/// Parallel over the subtrees below the first step; output identical for any
/// thread count. Throws InputError for bad shapes, non-finite input, tau < 0,
/// tau = 0 with unlimited depth, max_depth outside [-1, kSpaMaxDepth], keep < 0.
SpaResult spa(const SparseMatrix& A, const LeontiefSolver& solver, const Eigen::Ref<const Vector>& s,
              const Eigen::Ref<const Vector>& y, const SpaOptions& options = {}, PathSink* sink = nullptr);

/// The option checks of spa() alone (InputError naming the bad option), for
/// front ends that want to fail before loading or factoring anything.
void check_spa_options(const SpaOptions& options);

/// Per-step detail of a path, emitter first: intensities[t] = s at nodes[t]
/// (depth + 1 values), coefficients[t] = A(nodes[t], nodes[t+1]) (depth values).
struct SpaPathDetail {
  std::vector<double> intensities;
  std::vector<double> coefficients;
};
SpaPathDetail spa_path_detail(const SparseMatrix& A, const Eigen::Ref<const Vector>& s, const std::int32_t* nodes,
                              int depth);

/// Demand vector of a target: `region` >= 0 selects that region's final
/// demand (its categories summed, Y_by_region column), -1 all regions;
/// `product` >= 0 keeps only that product's entry (system index r*N + i).
/// Throws InputError for out-of-range indices or a system without Y.
Vector target_demand(const MrioSystem& system, Index region, Index product = -1);

// ---------------------------------------------------------------------------
// Production layers
// ---------------------------------------------------------------------------

/// The footprint split into tiers: s L y = sum_t s A^t y.
struct ProductionLayers {
  Matrix output;     ///< n x (T+2): column t = A^t y (t = 0..T), column T+1 = L y - sum_t A^t y (remainder)
  Matrix emissions;  ///< k*(T+2) x R: row s*(T+2) + t = stressor s emitted in each region in tier t (T+1: remainder)
  Matrix totals;     ///< k x (T+2): per stressor and tier, summed over regions
  Vector total;      ///< k: S L y
};
/// S: k x n, y: n, T >= 0 tiers (A^t y by T sparse products; L y by one solve).
ProductionLayers production_layers(const SparseMatrix& A, const LeontiefSolver& solver,
                                   const Eigen::Ref<const Matrix>& S, const Eigen::Ref<const Vector>& y, int T,
                                   Index R);

// ---------------------------------------------------------------------------
// Hypothetical extraction
// ---------------------------------------------------------------------------

/// full: rows and columns of E zeroed in A and y_E = 0 (the sectors vanish);
/// backward: columns of E zeroed (E buys nothing from the system);
/// forward: rows of E zeroed (nobody buys E's output as input); y unchanged.
enum class ExtractionMode { Full, Backward, Forward };
/// "full", "backward", "forward" <-> ExtractionMode; InputError on an unknown name.
ExtractionMode extraction_mode_from_string(const std::string& name);
std::string to_string(ExtractionMode mode);

enum class ExtractionMethod { Auto, Woodbury, Refactor };
/// "auto", "woodbury", "refactor"; InputError on an unknown name.
ExtractionMethod extraction_method_from_string(const std::string& name);

struct ExtractionResult {
  std::vector<Index> sectors;  ///< the extracted set E (system indices, sorted, unique)
  Vector x;                    ///< n: L y (base)
  Vector x_star;               ///< n: L* y* (after extraction)
  Matrix delta_D;              ///< k x n: S o (x - x_star), loss per emitting sector
  Vector delta_total;          ///< k: S (x - x_star)
  bool woodbury = false;       ///< solved by a low-rank update of the base factorisation
};

/// Extract each set in `sets` (sector indices; duplicates removed), with
/// S: k x n and demand y: n. Woodbury: I - A* = (I - A) + U V^T with U, V of
/// rank |E| (backward, forward) or 2|E| (full), so
///   x* = L y* - L U (I + V^T L U)^-1 V^T L y*,
/// with all sets' L U computed in one block solve. `Auto` uses it while the
/// rank is <= max(64, n/20), otherwise (or with Refactor) I - A* is factored anew.
std::vector<ExtractionResult> hypothetical_extraction(const SparseMatrix& A, const LeontiefSolver& solver,
                                                      const Eigen::Ref<const Matrix>& S,
                                                      const Eigen::Ref<const Vector>& y,
                                                      const std::vector<std::vector<Index>>& sets,
                                                      ExtractionMode mode,
                                                      ExtractionMethod method = ExtractionMethod::Auto);

/// Ghosh-based forward extraction (Dietzenbacher, van der Linden & Steenge
/// 1993), beside the Leontief-row definition (ExtractionMode::Forward, demand
/// fixed): the rows of B = x^-1 A x of each set E are zeroed (E supplies no
/// intermediate inputs) with primary inputs v fixed, x*^T = v^T (I - B*)^-1.
/// Solved as x* = x o q with (I - A*)^T q = v / x, A* = A with E's rows
/// zeroed (one factorisation of I - A* per set, a transposed solve), where
/// v / x = 1 - column sums of A: the table's primary-input coefficients, so
/// that q = 1 without extraction. Returns, per set, x (base), x_star, and the
/// stressor losses S o (x - x_star) (delta_D) and S (x - x_star) (delta_total).
/// Throws InputError on bad sets or shapes.
std::vector<ExtractionResult> ghosh_forward_extraction(const SparseMatrix& A, const Eigen::Ref<const Vector>& x,
                                                       const Eigen::Ref<const Matrix>& S,
                                                       const std::vector<std::vector<Index>>& sets,
                                                       const SolverOptions& options = {});

// ---------------------------------------------------------------------------
// Linkages and the Ghosh model
// ---------------------------------------------------------------------------

/// Ghosh (supply-side) model, B = x^-1 Z = x^-1 A x, G = (I - B)^-1 = x^-1 L x
/// (sectors with x = 0 get zero rows and columns).
/// B: n x n CSC from A and x, no solve.
SparseMatrix ghosh_B(const SparseMatrix& A, const Eigen::Ref<const Vector>& x);
/// G: n x n dense. Forms L: only on explicit request.
Matrix ghosh_G(const LeontiefSolver& solver, const Eigen::Ref<const Vector>& x);
/// Supply-side (downstream) multipliers M_down = S G^T, k x n: stressor emitted
/// downstream per unit of primary input of sector i, M_down[:, i] = sum_j S[:, j] G[i, j].
/// Computed as M_down^T = x^-1 L (S x)^T: k solves. Identity: M_down v = S x
/// when v = x - Z^T 1 (the Ghosh balance).
Matrix ghosh_M_down(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                    const Eigen::Ref<const Vector>& x);

struct Linkages {
  Vector backward;        ///< n: Rasmussen BL_j = (1^T L)_j / mean(1^T L)   (1 transposed solve)
  Vector forward;         ///< n: Ghosh FL_i = (G 1)_i / mean(G 1), G 1 = x^-1 L x (1 solve); 0 where x = 0
  Vector backward_total;  ///< n: 1^T L (output multipliers)
  Vector forward_total;   ///< n: G 1 (input multipliers)
  Matrix environmental;   ///< k x n: M_j / mean(M) per stressor row (rows of zeros when mean(M) = 0)
  Matrix M;               ///< k x n: S L
};
/// S: k x n (may have k = 0), x: n gross output.
Linkages linkages(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                  const Eigen::Ref<const Vector>& x);

}  // namespace mriotrace
