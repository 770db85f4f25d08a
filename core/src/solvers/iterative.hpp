// Iterative Leontief solves (private to the engine; see solver.hpp).
//
// Splitting I - A = M - A_T with M = I - A_D block-diagonal (each region's
// domestic block) and A_T the off-diagonal (trade) part. Blocks are n x m
// row-major (kernels.hpp). Every column has its own scalars; the sparse
// product is shared, so A_T is streamed once per sweep for all columns.
//
// SplitBackend is what GMRES (gmres.cpp) and the power series
// (power_series.cpp) share: the split, the operator, the column batches and
// the convergence report; each backend supplies its iteration.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "backend.hpp"
#include "kernels.hpp"

namespace mriotrace::iterative {

/// The operator of one direction: (I - A) (transposed = false) or (I - A)^T.
struct Operator {
  const kernels::Csr* off = nullptr;          ///< A_T, or A_T^T when transposed
  const kernels::BlockJacobi* M = nullptr;    ///< M = I - A_D
  bool transposed = false;
  int threads = 1;
  Index n = 0;
  double norm_IA = 1;                         ///< ||I - A||_inf (or ||(I - A)^T||_inf) bound, for the backward error
  mutable double kernel_seconds = 0;          ///< time in spmm
  mutable double preconditioner_seconds = 0;  ///< time in M^-1 and M products

  /// R = B - (I - A) X = B - M X + A_T X  (n x m row-major blocks).
  void residual(const double* B, const double* X, double* R, Index m, double* scratch) const;
};

struct Settings {
  double tolerance = 1e-13;  ///< per column ||r||_2 / ||b||_2
  Index max_iterations = 1000;
  Index restart = 30;
};

struct Result {
  bool converged = false;
  Index iterations = 0;        ///< preconditioned sweeps (Arnoldi steps or series terms)
  double relative_residual = 0;  ///< max over columns of the true ||r||_2 / ||b||_2 of the returned X
  double reduction_per_iteration = 0;  ///< convergence factor per iteration over the last restart cycle / term
  double backward_error = 0;   ///< max over columns of ||r||_inf / (||I-A||_inf ||x||_inf + ||b||_inf)
  std::string why;             ///< when not converged: what stopped it
};

/// max over columns of ||r||_inf / (norm_IA ||x||_inf + ||b||_inf); R = B - (I - A) X.
double backward_error(const Operator& op, const double* B, const double* X, const double* R, Index m);

/// Restarted right-preconditioned GMRES: (I - A) M^-1 u = b, x = M^-1 u, for
/// all m columns in lockstep. X holds the initial guess (zeros: none) and
/// receives the answer; `zero_start` skips the first residual sweep.
Result gmres(const Operator& op, const double* B, double* X, Index m, const Settings& s, bool zero_start);

/// Preconditioned power series (block-Jacobi iteration) x <- M^-1 (b + A_T x).
Result power_series(const Operator& op, const double* B, double* X, Index m, const Settings& s);

// ---- pieces shared by the two iterations (iterative.cpp) -------------------

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Rows per task of the elementwise loops.
constexpr Index kRowsPerTask = 256;

/// body(i0, i1) on disjoint ranges of rows, in parallel.
template <class Body>
void for_rows(Index n, int threads, Body&& body);

/// Per column ||u_c||_2 of an n x m row-major block (fixed summation order).
std::vector<double> column_norms(const double* U, Index n, Index m, int threads);

/// Per column: ||b||_2, and the residual norm to reach (tol ||b||_2). Columns
/// with b = 0 have the answer x = 0, set by targets().
struct Targets {
  std::vector<double> bnorm, target;
};
Targets targets(const Operator& op, const double* B, double* X, Index m, double tol);

/// Max over columns of ||r||/||b|| (0/0 = 0), and whether every column met its target.
double worst_relative(const std::vector<double>& rn, const Targets& t, bool& all_met);

/// Tracks the convergence factor over the latest stretch of iterations (the
/// asymptotic rate, not the average: early iterations remove the fast modes).
struct Rate {
  Index iters = -1;
  double residual = 0;
  void record(Result& r);
};

/// A sweep's residual is in: record it and say whether the loop stops here
/// (every column met its target, or the iterations are used up; res.why says
/// which when not converged).
bool record_and_stop(Result& res, Rate& rate, double worst, bool all_met, Index max_iterations);

}  // namespace mriotrace::iterative

namespace mriotrace::solvers {

/// The split I - A = M - A_T and everything GMRES and the power series share:
/// factor builds the split (refactor rebuilds it: nothing depends on the
/// pattern), solve runs the columns in batches within a memory budget,
/// checks each batch's backward error and reports an unconverged batch.
class SplitBackend : public Backend {
 public:
  using Backend::Backend;

  void factor(const Source& A) override;
  SolveReport solve(const Eigen::Ref<const Matrix>& B, const Matrix* X0, bool transposed, Matrix& X) const override;

  /// A as its split (for a direct backend taking over: no copy of A kept).
  Source source() const { return Source{n_, nullptr, &fwd_, &P_, norm_rows_, norm_cols_}; }
  /// The normwise backward error of an answer X of op(I - A) X = B.
  double backward_error(const Eigen::Ref<const Matrix>& B, const Matrix& X, bool transposed) const;
  /// The residual B - op(I - A) X (n x m), for checks on combinations of columns.
  Matrix residual(const Eigen::Ref<const Matrix>& B, const Matrix& X, bool transposed) const;
  /// Flops of one sweep per column (the sparse product and the two block products).
  double flops_per_sweep() const {
    return 2.0 * static_cast<double>(fwd_.nnz()) + 4.0 * static_cast<double>(n_) * static_cast<double>(P_.bs);
  }
  /// "block-Jacobi, 49 blocks of 200" or "none".
  std::string preconditioner() const;

 protected:
  /// Memory budget of one solve's work blocks (Krylov basis and scratch);
  /// wider blocks of right-hand sides are solved in column batches.
  static constexpr double kWorkBytes = 512.0 * 1024 * 1024;
  /// One batch: the backend's iteration on row-major n x m blocks.
  virtual iterative::Result iterate(const iterative::Operator& op, const double* B, double* X, Index m,
                                    const iterative::Settings& s, bool zero_start) const = 0;
  /// Krylov basis length the memory budget allows for m columns (GMRES); the power series keeps 0.
  virtual Index basis(Index restart, Index m) const = 0;
  /// Work blocks of n doubles per column besides B and X.
  virtual double blocks_per_column(Index restart) const = 0;

 private:
  iterative::Operator make_operator(bool transposed) const;
  const kernels::Csr& off(bool transposed) const;

  Index n_ = 0;
  double norm_rows_ = 0, norm_cols_ = 0;  // ||A||_inf, ||A||_1
  kernels::Csr fwd_;                      // A_T as CSR (rows of A_T)
  mutable kernels::Csr bwd_;              // A_T^T as CSR, built at the first transposed solve
  mutable std::mutex bwd_mutex_;
  mutable bool bwd_built_ = false;
  kernels::BlockJacobi P_;
};

}  // namespace mriotrace::solvers

// ---- template definitions ----------------------------------------------------
#include "mriotrace/parallel.hpp"

namespace mriotrace::iterative {

template <class Body>
void for_rows(Index n, int threads, Body&& body) {
  const Index tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  parallel_for(0, tasks, threads, [&](std::int64_t t) { body(t * kRowsPerTask, std::min(n, (t + 1) * kRowsPerTask)); });
}

}  // namespace mriotrace::iterative
