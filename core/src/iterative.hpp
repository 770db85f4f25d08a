// Iterative Leontief solves (private to the engine; see solver.hpp).
//
// Splitting I - A = M - A_T with M = I - A_D block-diagonal (each region's
// domestic block) and A_T the off-diagonal (trade) part. Blocks are n x m
// row-major (kernels.hpp). Every column has its own scalars; the sparse
// product is shared, so A_T is streamed once per sweep for all columns.
#pragma once

#include <string>

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

}  // namespace mriotrace::iterative
