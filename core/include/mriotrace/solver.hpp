// Leontief solver: factor (I - A) once, solve blocks of right-hand sides.
//
//   solve(B)            X = (I - A)^-1 B        B: n x m, X: n x m
//   solve_transposed(B) X = (I - A)^-T B        B: n x m, X: n x m
//
// Backends (docs/solvers.md):
//   DenseLU      LAPACK dgetrf/dgetrs (multi-threaded OpenBLAS): small or dense-ish
//                systems, many right-hand sides, L itself.
//   MixedLU      LAPACK sgetrf/sgetrs (single precision), every answer refined in
//                double until each column's backward error <= tolerance; a stalled
//                refinement finishes with DenseLU. Auto hands it blocks of fewer
//                than n / 15 right-hand sides (sector-level accounts).
//   SparseLU     SuiteSparse UMFPACK: sparse systems whose factors stay sparse.
//   KLU          SuiteSparse KLU (block triangular form + AMD ordering, no
//                BLAS): very sparse systems with little fill, on request
//                ("klu"); auto does not pick it (docs/solvers.md).
//   GMRES        restarted GMRES, right-preconditioned by block Jacobi M = I - A_D
//                (A_D: the diagonal blocks A_rr of size block_size, each region's
//                domestic block), all right-hand sides in lockstep so A is streamed
//                once per sweep for all of them.
//   PowerSeries  the preconditioned power series (block-Jacobi iteration)
//                x <- M^-1 (b + A_T x), A_T = A - A_D; with block_size = 0 the plain
//                series x = sum_k A^k b.
// Iterative solves stop when every column's relative residual
// ||b - (I-A)x||_2 / ||b||_2 <= tolerance, measured on the true residual; an
// unconverged answer is never returned: it falls back to a direct solver
// (fallback = true) or throws NumericError saying why.
// Every solve also checks the normwise backward error
// ||(I-A)X - B||_inf / (||I-A||_inf ||X||_inf + ||B||_inf) per column and throws
// NumericError when it exceeds `max_residual` (a singular or ill-conditioned
// I - A must never give a silently wrong answer). Dense LU answers with more
// than 4 columns are checked on 4 random combinations of the columns, each
// column scaled by its own denominator (docs/solvers.md).
// The Leontief inverse L is formed only when leontief_inverse() is called.
//
// Changed coefficients, same pattern (Monte Carlo draws, scenarios, SDA,
// extraction): refactor(A_new) / refactored(A_new) reuse the symbolic
// analysis (UMFPACK's Symbolic, KLU's ordering) and factor the new numbers
// only; a changed pattern is analysed afresh (diagnostics().analysis_reused
// says which). The backends, one per file, are in core/src/solvers/.
// A solver depends on A only; make_solver(system, options) (system.hpp)
// builds one for an MrioSystem with its region blocks.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "mriotrace/types.hpp"

namespace mriotrace {

enum class SolverKind { Auto, DenseLU, SparseLU, GMRES, PowerSeries, KLU, MixedLU };

/// "auto", "dense", "mixed", "umfpack", "klu", "gmres", "power" <-> SolverKind (aliases:
/// "lu", "lapack", "mixed-lu", "sparse", "power-series"). Throws InputError on an unknown name.
SolverKind solver_kind_from_string(const std::string& name);
std::string to_string(SolverKind kind);

struct SolverOptions {
  SolverKind kind = SolverKind::Auto;
  int threads = 0;              ///< 0 = respect OMP_NUM_THREADS / core count
  double max_residual = 1e-8;   ///< relative residual above which a solve fails (iterative: max(max_residual, tolerance))
  // Iterative solvers (GMRES, PowerSeries, and Auto when it picks one):
  double tolerance = 1e-13;     ///< per column ||b - (I-A)x||_2 / ||b||_2 to reach (> 0, < 1);
                                ///< MixedLU: the normwise backward error per column to reach
  Index max_iterations = 1000;  ///< sweeps over A per solve (over all restarts) before giving up (>= 1)
  /// Sectors per region: the diagonal blocks of the block-Jacobi preconditioner
  /// (must divide n; 0 = no preconditioner). Solvers built from an MrioSystem set N.
  /// Memory: 2 n block_size doubles (each block and its inverse), at most 1 GB.
  Index block_size = 0;
  bool fallback = true;         ///< unconverged iterative solve: true = finish with a direct
                                ///< solver (noted in diagnostics), false = throw NumericError
  Index restart = 30;           ///< GMRES restart length (Krylov basis size, >= 1)
};

/// Non-fatal diagnostics of the factorisation and the last solves.
struct SolveDiagnostics {
  SolverKind kind = SolverKind::Auto;  ///< backend actually used
  int threads = 1;                     ///< threads used
  double factor_seconds = 0;
  double solve_seconds = 0;            ///< cumulative over all solves
  Index rhs_solved = 0;                ///< cumulative number of right-hand sides
  double max_relative_residual = 0;    ///< worst residual seen so far
  double rcond_estimate = -1;          ///< reciprocal condition estimate (dense: LAPACK dgecon; sparse: UMFPACK rcond)
  // Added with the iterative solvers:
  std::string reason;                  ///< why `kind` was chosen (auto) or "requested"
  SolverKind last_kind = SolverKind::Auto;  ///< backend that produced the last solve's answer
  std::string preconditioner = "none"; ///< e.g. "block-Jacobi, 49 blocks of 200"
  Index iterations = 0;                ///< sweeps over A of the last iterative solve
  Index total_iterations = 0;          ///< cumulative sweeps over A
  double last_relative_residual = 0;   ///< last solve; iterative: max_j ||b_j - (I-A)x_j||_2 / ||b_j||_2,
                                       ///< direct: the normwise backward error (as max_relative_residual)
  bool fell_back = false;              ///< an iterative solve did not converge and a direct solver finished it
  std::string fallback_reason;         ///< why (iterations, residual reached, convergence factor)
  double kernel_seconds = 0;           ///< cumulative time in A x block products (iterative; mixed:
                                       ///< the double residual products)
  double preconditioner_seconds = 0;   ///< cumulative time applying M^-1 (iterative; mixed: the
                                       ///< single-precision corrections)
  // Added with refactor:
  Index analyses = 0;                  ///< symbolic analyses this solver ran (UMFPACK, KLU; 0 when it
                                       ///< reused another's, or for backends that need none)
  Index refactors = 0;                 ///< refactor() calls, plus 1 for a solver made by refactored()
  bool analysis_reused = false;        ///< the current factorisation reused an earlier analysis (same pattern)
};

class LeontiefSolver {
 public:
  /// Factor I - A. A: n x n CSC. Throws NumericError if I - A is singular.
  explicit LeontiefSolver(const SparseMatrix& A, SolverOptions options = {});
  ~LeontiefSolver();
  LeontiefSolver(LeontiefSolver&&) noexcept;
  LeontiefSolver& operator=(LeontiefSolver&&) noexcept;

  Index n() const;

  /// Factor I - A_new in place of I - A (A_new: n x n CSC, same n). Same
  /// backend and options (auto keeps the backend it chose). When A_new has the
  /// pattern of A (the same stored entries; explicit zeros count as entries),
  /// the symbolic analysis is reused: UMFPACK factors with the old Symbolic,
  /// KLU refactors with the old pivot sequence (klu_refactor; a fresh pivot
  /// search if the pivots got much worse). Dense LU and the iterative
  /// backends have no analysis: refactor factors (iterative: rebuilds the
  /// split and the block-Jacobi preconditioner). A changed pattern is
  /// analysed afresh (diagnostics().analysis_reused = false), never refused.
  /// Throws InputError when A_new is not n x n (naming both shapes and nnz),
  /// NumericError when I - A_new is singular. Not thread-safe: solves of this
  /// solver must not run meanwhile; dense_lu() views are invalidated.
  void refactor(const SparseMatrix& A_new);
  /// A new solver for A_new sharing this one's analysis (refactor's rules);
  /// this solver is unchanged, so a const solver can serve many threads at once.
  /// threads: the new solver's thread setting (default: this solver's).
  LeontiefSolver refactored(const SparseMatrix& A_new, std::optional<int> threads = std::nullopt) const;

  /// X = (I - A)^-1 B. B: n x m column-major.
  Matrix solve(const Eigen::Ref<const Matrix>& B) const;
  /// X = (I - A)^-T B. B: n x m column-major.
  Matrix solve_transposed(const Eigen::Ref<const Matrix>& B) const;
  /// Warm starts: X0 (n x m) is the initial guess of the iterative solvers (a
  /// previous solution of a nearby system); direct solvers ignore it.
  Matrix solve(const Eigen::Ref<const Matrix>& B, const Eigen::Ref<const Matrix>& X0) const;
  Matrix solve_transposed(const Eigen::Ref<const Matrix>& B, const Eigen::Ref<const Matrix>& X0) const;
  /// The dense n x n Leontief inverse. Costs n^2 doubles: only on explicit request.
  Matrix leontief_inverse() const;

  const SolveDiagnostics& diagnostics() const;
  const SolverOptions& options() const;

  /// Read-only view of a dense factorisation P (I - A) = L U in LAPACK dgetrf
  /// layout: `lu` is n x n column-major with L (unit lower, diagonal not
  /// stored) below the diagonal and U on and above it; `ipiv` holds n 1-based
  /// row interchanges, applied in order. For kernels that stream the factors
  /// themselves (Monte Carlo draw blocks). Valid while the solver lives.
  struct DenseLuView {
    Index n = 0;
    const double* lu = nullptr;
    const int* ipiv = nullptr;
  };
  /// The view when the solver factored I - A densely at construction (or
  /// refactor); empty otherwise.
  std::optional<DenseLuView> dense_lu() const;

  /// Which direct backend `Auto` picks for an n x n system with `nnz` nonzeros
  /// and no block structure.
  static SolverKind choose(Index n, Index nnz);
  /// Which backend `Auto` picks at construction, given the block size of the
  /// preconditioner (0 = none). `reason` (if not null) receives why.
  /// Under Auto an iterative solver still hands a solve with many right-hand
  /// sides (e.g. leontief_inverse) to a direct factorisation when that is cheaper.
  static SolverKind choose(Index n, Index nnz, Index block_size, std::string* reason = nullptr);

 private:
  struct Impl;
  explicit LeontiefSolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mriotrace
