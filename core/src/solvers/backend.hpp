// The interface every Leontief solver backend implements (private to the
// engine; the public class is LeontiefSolver, solver.hpp; guide: docs/solvers.md).
//
// SuiteSparse's phases, for I - A with A an n x n CSC matrix:
//
//   analyse(A)    pattern-only work: orderings and the symbolic factorisation
//                 (UMFPACK, KLU). Dense LU and the iterative backends have
//                 none: their work does not depend on where A's nonzeros are.
//   factor(A)     numeric work on the analysed pattern: the LU factors, or the
//                 iterative split I - A = M - A_T and the block inverses of M.
//   refactor(A)   new numbers, same pattern (same_pattern(A)): reuses the
//                 analysis. KLU keeps its pivot sequence (klu_refactor);
//                 UMFPACK refactors with the old Symbolic; the others factor.
//   solve(B, op)  X = (I - A)^-1 B or (I - A)^-T B for a block B (n x m).
//
// An analysis is immutable once made and shared (share_analysis) by every
// backend factored from it, so a const solver can hand out refactored copies
// to threads at once. Checks that concern every backend (input shapes,
// finiteness, the backward error of each answer, the singularity threshold,
// auto's choices, the fallback of an unconverged iterative solve and the
// diagnostics) live in solver.cpp, once.
//
// One file per backend: dense_lu.cpp, mixed_lu.cpp, umfpack.cpp, klu.cpp, gmres.cpp,
// power_series.cpp (the last two share the split of split.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace::solvers {

/// A given whole (n x n compressed CSC) or as the iterative split A = A_T + A_D
/// (A_T: trade, CSR; A_D: the diagonal blocks of the block-Jacobi
/// preconditioner). Exactly one of the two is set.
struct Source {
  Index n = 0;
  const SparseMatrix* A = nullptr;
  const kernels::Csr* off = nullptr;             ///< A_T when A is null
  const kernels::BlockJacobi* blocks = nullptr;  ///< A_D when A is null
  double norm_rows = 0, norm_cols = 0;           ///< ||A||_inf and ||A||_1 (max row / column abs sums)

  /// f(i, j, a_ij) for every stored entry, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    if (A) {
      for (Index j = 0; j < A->outerSize(); ++j)
        for (SparseMatrix::InnerIterator it(*A, j); it; ++it) f(it.row(), j, it.value());
      return;
    }
    off->for_each(f);
    for (Index b = 0; b < blocks->blocks; ++b) {
      const Matrix& D = blocks->D[static_cast<size_t>(b)];
      for (Index j = 0; j < blocks->bs; ++j)
        for (Index i = 0; i < blocks->bs; ++i)
          if (D(i, j) != 0) f(b * blocks->bs + i, b * blocks->bs + j, D(i, j));
    }
  }
  /// A as one CSC matrix (a copy built from the split when A is null).
  SparseMatrix whole() const;
};

/// What one solve of a block reports back (direct backends leave the defaults;
/// mixed-precision LU reports its refinement like an iterative backend).
struct SolveReport {
  Index iterations = 0;           ///< max sweeps over the column batches
  Index total_iterations = 0;     ///< sum of sweeps over the column batches
  double relative_residual = -1;  ///< iterative: max_j ||r_j||_2 / ||b_j||_2; -1: not measured
  double backward_error = -1;     ///< iterative: normwise backward error; -1: the caller measures it
  std::string failure;            ///< iterative: why it did not converge (empty: it did)
  double kernel_seconds = 0;
  double preconditioner_seconds = 0;
};

class Backend {
 public:
  explicit Backend(const SolverOptions& options) : options_(options) {}
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  virtual SolverKind kind() const = 0;
  /// Symbolic analysis of A's pattern. Default: nothing depends on the pattern.
  virtual void analyse(const SparseMatrix& A) { (void)A; }
  /// Whether A has the analysed pattern, so refactor(A) may reuse the analysis.
  virtual bool same_pattern(const SparseMatrix& A) const {
    (void)A;
    return true;
  }
  /// Numeric factorisation of I - A (after analyse, same pattern). Throws
  /// NumericError when I - A is singular.
  virtual void factor(const Source& A) = 0;
  /// New numbers on the analysed pattern (same_pattern(A) holds). Default: factor.
  virtual void refactor(const Source& A) { factor(A); }
  /// A new, unfactored backend of the same kind sharing this one's analysis.
  virtual std::unique_ptr<Backend> share_analysis() const = 0;
  /// X = op(I - A)^-1 B, B n x m column-major; X0 (n x m) the warm start of
  /// the iterative backends (null: none; direct ones ignore it). Thread-safe.
  virtual SolveReport solve(const Eigen::Ref<const Matrix>& B, const Matrix* X0, bool transposed,
                            Matrix& X) const = 0;
  /// Reciprocal condition estimate of the factorisation (-1: none).
  virtual double rcond() const { return -1; }
  /// The dense LU factors (dense backend only).
  virtual std::optional<LeontiefSolver::DenseLuView> dense_lu() const { return std::nullopt; }

 protected:
  SolverOptions options_;
};

/// The backend of a kind (not Auto), unanalysed and unfactored. One per file.
std::unique_ptr<Backend> make_dense_lu(const SolverOptions& options);
std::unique_ptr<Backend> make_mixed_lu(const SolverOptions& options);
std::unique_ptr<Backend> make_umfpack(const SolverOptions& options);
std::unique_ptr<Backend> make_klu(const SolverOptions& options);
std::unique_ptr<Backend> make_gmres(const SolverOptions& options);
std::unique_ptr<Backend> make_power_series(const SolverOptions& options);

/// Weights W (m x probes) that turn an answer X (n x m) of op(I - A) X = B
/// into `probes` random combinations whose residual estimates the worst
/// column's normwise backward error: column j is scaled by its own
/// denominator ||op(I - A)||_inf ||x_j||_inf + ||b_j||_inf (norm_IA: that norm, or
/// the bound 1 + ||op(A)||_inf) and weighted by g ~ N(0, 1) from a fixed seed, so
/// max |B W - op(I - A) X W| ~ max_j |g_j| e_j. Empty when a column is not finite
/// (no answer). Used by the dense backends' checks (solver.cpp, mixed_lu.cpp).
Matrix probe_weights(const Eigen::Ref<const Matrix>& B, const Eigen::Ref<const Matrix>& X, double norm_IA,
                     Index probes);
/// max |m_ij|, infinity when an entry is NaN.
double max_abs(const Matrix& M);

/// The pattern of I - A as 64-bit CSC arrays (what UMFPACK and KLU analyse),
/// and the values of I - A on it.
struct IminusA {
  std::vector<std::int64_t> Ap, Ai;
  std::vector<double> Ax;
};
IminusA i_minus(const SparseMatrix& A);

}  // namespace mriotrace::solvers
