// Monte Carlo uncertainty of MRIO accounts (../docs/hpc.md, METHODS.md "Uncertainty").
//
// Every draw multiplies each nonzero entry of A (or Z), Y and F by an
// independent log-normal factor with mean 1:
//   a' = a * exp(mu + sigma z),  z ~ N(0, 1),  sigma^2 = ln(1 + CV^2),  mu = -sigma^2 / 2
// so E[a'] = a and sd(a') = CV |a| (the sign of a is kept; zeros stay zero).
// CV is either global or follows the size rule: it falls log-linearly with
// |a| from cv_small (at the matrix's smallest nonzero magnitude) to cv_large
// (at its largest).
//
// Reproducibility: z of an entry is a pure function of (job seed, draw id,
// matrix, row, column): a counter-based generator (SplitMix64 finaliser as the
// hash, Acklam's inverse normal CDF), so a draw is the same whoever computes it,
// in any order, on any rank or shard, and an entry keeps its z when a scenario
// edits other entries (base and scenario see the same draws).
//
// Solving a draw: (I - A') x = b is solved warm-started from the base solution
// with the base factorisation as preconditioner (preconditioned Richardson):
//   r_k = b - (I - A') x_k,   x_{k+1} = x_k + (I - A0)^-1 r_k
// which converges at the rate of ||(I - A0)^-1 (A' - A0)|| (small for moderate
// CVs) and stops when the true relative residual ||r_k||_inf / ||b||_inf is
// below the tolerance. A draw that does not converge falls back to a fresh
// factorisation of I - A' (or fails with NumericError if that is singular).
//
// Non-productive draws. Perturbing a base A whose spectral radius is close to
// 1 can give an A' with radius >= 1: I - A' may still be invertible, and the
// solves converge, but (I - A')^-1 has negative entries and the "accounts"
// (negative outputs and emissions) mean nothing. For A' >= 0, productive means
// (I - A')^-1 >= 0, so every solution a draw computes from a nonnegative
// right-hand side must be nonnegative: x' = L'y' (y' >= 0), X'_r = L'y'_r
// (y'_r >= 0) and the multipliers S'_s L' (S'_s >= 0). A draw in which one of
// them has an entry below -1e-9 times its largest magnitude is rejected with a
// NumericError (the batch records it as a failed item). When y' > 0 in every
// sector, x' >= 0 is also sufficient: A'x' = x' - y' < x' with x' > 0 bounds
// the spectral radius below 1 (Collatz-Wielandt). For a base A with negative
// entries the rule does not apply and no draw is checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mriotrace/accounts.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace {

/// Coefficient of variation of one matrix's entries.
struct CvSpec {
  double cv = 0.0;          ///< global CV (>= 0); used unless size_rule
  bool size_rule = false;   ///< CV from cv_small (smallest |entry|) to cv_large (largest), log-linear
  double cv_small = 0.5;
  double cv_large = 0.1;
  bool active() const { return size_rule ? (cv_small > 0 || cv_large > 0) : cv > 0; }
};

/// What is perturbed and how.
struct UncertaintyOptions {
  bool perturb_Z = false;   ///< false: perturb A (x follows from the solve); true: perturb Z and
                            ///< rebuild x = Z'1 + Y'1, A' = Z' diag(x')^-1, S' = F' diag(x')^-1
  CvSpec A;                 ///< CV of A (or of Z when perturb_Z)
  CvSpec Y;                 ///< CV of final demand Y
  CvSpec F;                 ///< CV of stressor flows F (equivalently of S at fixed x)
  std::uint64_t seed = 0;   ///< job seed
  /// Warm-started solves: stop when the relative residual is below this.
  double tolerance = 1e-10;
  int max_iterations = 30;  ///< then fall back to a fresh factorisation
};

/// Throws InputError for negative or non-finite CVs, a tolerance outside (0, 1e-6], or max_iterations < 1.
void validate(const UncertaintyOptions& options);

/// Standard normal quantile Phi^-1(p), p in (0, 1) (Acklam's rational
/// approximation, relative error < 1.2e-9).
double normal_quantile(double p);

/// The standard normal z of entry (row, col) of matrix `matrix_id` in draw
/// `draw` of a job with seed `seed` (counter-based: no state, any order).
double draw_normal(std::uint64_t seed, std::uint64_t draw, std::uint32_t matrix_id, std::uint64_t row,
                   std::uint64_t col);

/// The perturbed pieces of one draw (same shapes as the system's).
struct PerturbedSystem {
  SparseMatrix A;   ///< n x n CSC, same pattern as the base A
  Matrix Y;         ///< n x R*c
  Matrix S;         ///< k x n
  Matrix F_Y;       ///< k x R*c (perturbed with F's CV), or empty
};

/// Draw `draw` of `system` under `options`. Deterministic for (options.seed,
/// draw), independent of `threads`. With every CV zero it returns the base
/// matrices exactly.
PerturbedSystem perturb(const MrioSystem& system, const UncertaintyOptions& options, std::uint64_t draw,
                        int threads = 0);

/// Diagnostics of a warm-started solve.
struct WarmSolveInfo {
  int iterations = 0;             ///< preconditioned Richardson iterations taken
  double relative_residual = 0;   ///< final ||b - (I - A')x||_inf / ||b||_inf
  bool refactored = false;        ///< fell back to a fresh factorisation of I - A'
};

/// X = (I - A')^-1 B (transposed: (I - A')^-T B) for a perturbed A' (n x n,
/// CSC), warm-started from X0 (n x m; the base solution) and preconditioned by
/// `base` (the factorisation of the base I - A0). B, X0: n x m column-major.
/// Falls back to a direct factorisation after options.max_iterations or when
/// the residual grows; throws NumericError if that fails too.
Matrix warm_solve(const LeontiefSolver& base, const SparseMatrix& A_perturbed, const Eigen::Ref<const Matrix>& B,
                  const Eigen::Ref<const Matrix>& X0, bool transposed, const UncertaintyOptions& options,
                  WarmSolveInfo* info = nullptr, int threads = 0);

/// Which regional accounts a draw computes.
struct DrawAccountsOptions {
  std::vector<Index> stressors;  ///< rows of S; empty = all
  /// false: D_cba_reg and D_pba_reg from k transposed solves and 1 solve;
  /// true: also Q, D_imp_reg, D_exp_reg from R solves (one per region's demand).
  bool with_Q = false;
  /// Without Q: also x' and D_pba_reg (one more solve per draw); false keeps
  /// only D_cba_reg (x left empty).
  bool production = true;
};

/// Base solutions of a system: the warm starts of every draw.
struct DrawBase {
  std::vector<Index> stressors;  ///< k selected stressors
  bool with_Q = false;
  bool production = true;
  Matrix Mt;  ///< n x k   (I - A)^-T S^T (S restricted to the selected rows)
  Vector x;   ///< n       (I - A)^-1 Y 1                     (without Q, with production)
  Matrix X;   ///< n x R   (I - A)^-1 Y_r, one column per region (with Q)
  /// The base's dense LU factors rounded to float (n x n, LAPACK layout) and
  /// its row interchanges: the preconditioner of draw blocks (half the bytes
  /// to stream per iteration; the warm-started iteration still converges to
  /// the full-precision residual, measured with A' in double). Empty when the
  /// solver has no dense factorisation or with Q.
  std::vector<float> lu32;
  std::vector<int> ipiv;
  /// Every entry of the base A is >= 0, so draws are checked for productivity
  /// (see "Non-productive draws" above).
  bool a_nonnegative = true;
};
/// Solve the base once (the solver holds the factorisation of the system's I - A).
DrawBase prepare_draws(const MrioSystem& system, const LeontiefSolver& solver, const DrawAccountsOptions& options);

/// Regional accounts (Accounts::regional members; x; stressors) of one draw
/// `p` of `system`, warm-started from `base`:
///   without Q:  M' = S' L' (transposed solves), x' = L' Y' 1,
///               D_cba_reg = M' Y'_r + F_Y'_r,  D_pba_reg[:, p] = S'^(p) x'^(p) + F_Y'_p
///   with Q:     X'_r = L' y'_r, Q[:, p R + r] = S'^(p) X'_r^(p), D_*_reg from Q (as calc_accounts)
/// The unperturbed draw (all CVs 0) returns the base accounts bit for bit.
Accounts draw_accounts(const MrioSystem& system, const LeontiefSolver& solver, const DrawBase& base,
                       const PerturbedSystem& p, const UncertaintyOptions& options, WarmSolveInfo* info = nullptr,
                       int threads = 1);

/// Draws solved side by side by draw_accounts_block (one SIMD register of doubles).
constexpr int kDrawLanes = 8;

/// Whether draw_accounts_block solves draws side by side for this setup: A
/// perturbed (not Z), no Q, and a dense base factorisation (the solver chose
/// or was given "dense"; base.lu32 is set). Otherwise it goes draw by draw.
bool draw_block_supported(const LeontiefSolver& solver, const DrawBase& base, const UncertaintyOptions& options);

/// Regional accounts of several draws of `system` (as draw_accounts on
/// perturb(system, options, draws[i])), solved side by side: up to kDrawLanes
/// warm-started solves share each pass over the base LU and over A, whose
/// perturbed entries a_q * f_q are formed on the fly from per-draw float
/// factors (4 bytes per nonzero and draw) instead of copies of A.
///
/// Each draw's result is bitwise independent of which other draws share its
/// block, of the block size and of the CPU's vector width: every lane's
/// arithmetic is its own, in a fixed order, with explicit fused multiply-adds.
/// So batch jobs give the same bits however draws are grouped (threads, MPI
/// ranks, shards, resumes). Single-threaded (callers run blocks side by side).
/// `info` (optional) receives one WarmSolveInfo per draw.
std::vector<Accounts> draw_accounts_block(const MrioSystem& system, const LeontiefSolver& solver, const DrawBase& base,
                                          const std::vector<std::uint64_t>& draws, const UncertaintyOptions& options,
                                          std::vector<WarmSolveInfo>* info = nullptr);

/// Summary statistics over draws, entry by entry. `draws`: D x p (row d =
/// draw d's values flattened). Percentiles by linear interpolation between
/// order statistics (NumPy's default). Rows with NaN are ignored (failed draws).
struct DrawSummary {
  Vector mean, median, p2_5, p97_5;   ///< p each
  Vector p_negative;                  ///< P(value < 0) (for differences: P(delta < 0)); p each
  Index draws = 0;                    ///< draws used (finite rows)
};
DrawSummary summarize_draws(const Eigen::Ref<const Matrix>& draws);

}  // namespace mriotrace
