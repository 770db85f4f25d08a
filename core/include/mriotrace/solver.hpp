// Leontief solver: factor (I - A) once, solve blocks of right-hand sides.
//
//   solve(B)            X = (I - A)^-1 B        B: n x m, X: n x m
//   solve_transposed(B) X = (I - A)^-T B        B: n x m, X: n x m
//
// Backends: dense LU (LAPACK dgetrf/dgetrs, multi-threaded OpenBLAS) for small
// or dense-ish systems, sparse LU (SuiteSparse UMFPACK) for sparse ones.
// Every solve checks its relative residual ||(I-A)X - B||_inf / ||B||_inf and
// throws NumericError when it exceeds `max_residual` (a singular or
// ill-conditioned I - A must never give a silently wrong answer).
// The Leontief inverse L is formed only when leontief_inverse() is called.
#pragma once

#include <memory>
#include <string>

#include "mriotrace/types.hpp"

namespace mriotrace {

enum class SolverKind { Auto, DenseLU, SparseLU };

/// "auto", "dense", "umfpack" <-> SolverKind. Throws InputError on an unknown name.
SolverKind solver_kind_from_string(const std::string& name);
std::string to_string(SolverKind kind);

struct SolverOptions {
  SolverKind kind = SolverKind::Auto;
  int threads = 0;              ///< 0 = respect OMP_NUM_THREADS / core count
  double max_residual = 1e-8;   ///< relative residual above which a solve fails
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
};

class LeontiefSolver {
 public:
  /// Factor I - A. A: n x n CSC. Throws NumericError if I - A is singular.
  explicit LeontiefSolver(const SparseMatrix& A, SolverOptions options = {});
  ~LeontiefSolver();
  LeontiefSolver(LeontiefSolver&&) noexcept;
  LeontiefSolver& operator=(LeontiefSolver&&) noexcept;

  Index n() const;
  /// X = (I - A)^-1 B. B: n x m column-major.
  Matrix solve(const Eigen::Ref<const Matrix>& B) const;
  /// X = (I - A)^-T B. B: n x m column-major.
  Matrix solve_transposed(const Eigen::Ref<const Matrix>& B) const;
  /// The dense n x n Leontief inverse. Costs n^2 doubles: only on explicit request.
  Matrix leontief_inverse() const;

  const SolveDiagnostics& diagnostics() const;
  const SolverOptions& options() const;

  /// Which backend `Auto` picks for an n x n system with `nnz` nonzeros.
  static SolverKind choose(Index n, Index nnz);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mriotrace
