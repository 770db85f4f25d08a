// What GMRES and the power series share (iterative.hpp): the operator, the
// residual bookkeeping, and the split backend that runs either on batches of
// right-hand sides.
#include "iterative.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"

namespace mriotrace::iterative {

std::vector<double> column_norms(const double* U, Index n, Index m, int threads) {
  std::vector<double> out(static_cast<size_t>(m));
  kernels::column_dots(U, U, n, m, threads, out.data());
  for (double& v : out) v = std::sqrt(v);
  return out;
}

Targets targets(const Operator& op, const double* B, double* X, Index m, double tol) {
  Targets t;
  t.bnorm = column_norms(B, op.n, m, op.threads);
  t.target.resize(static_cast<size_t>(m));
  for (Index c = 0; c < m; ++c) {
    t.target[static_cast<size_t>(c)] = tol * t.bnorm[static_cast<size_t>(c)];
    if (t.bnorm[static_cast<size_t>(c)] == 0)
      for (Index i = 0; i < op.n; ++i) X[i * m + c] = 0;
  }
  return t;
}

double worst_relative(const std::vector<double>& rn, const Targets& t, bool& all_met) {
  double worst = 0;
  all_met = true;
  for (size_t c = 0; c < rn.size(); ++c) {
    const double rel = t.bnorm[c] > 0 ? rn[c] / t.bnorm[c] : (rn[c] > 0 ? INFINITY : 0.0);
    worst = std::max(worst, std::isnan(rel) ? INFINITY : rel);
    if (!(rn[c] <= t.target[c])) all_met = false;
  }
  return worst;
}

void Rate::record(Result& r) {
  if (iters >= 0 && r.iterations > iters && residual > 0 && r.relative_residual > 0)
    r.reduction_per_iteration =
        std::pow(r.relative_residual / residual, 1.0 / static_cast<double>(r.iterations - iters));
  iters = r.iterations;
  residual = r.relative_residual;
}

bool record_and_stop(Result& res, Rate& rate, double worst, bool all_met, Index max_iterations) {
  res.relative_residual = worst;
  rate.record(res);
  if (all_met) {
    res.converged = true;
    return true;
  }
  if (res.iterations >= max_iterations) {
    res.why = "iterations exhausted";
    return true;
  }
  return false;
}

double backward_error(const Operator& op, const double* B, const double* X, const double* R, Index m) {
  // Max-norms: order-independent, so a plain per-task max is deterministic.
  const Index n = op.n;
  const Index tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  std::vector<double> part(static_cast<size_t>(3 * tasks * m), 0.0);
  parallel_for(0, tasks, op.threads, [&](std::int64_t t) {
    double* rr = part.data() + 3 * t * m;
    for (Index i = t * kRowsPerTask; i < std::min(n, (t + 1) * kRowsPerTask); ++i)
      for (Index c = 0; c < m; ++c) {
        rr[c] = std::max(rr[c], std::abs(R[i * m + c]));
        rr[m + c] = std::max(rr[m + c], std::abs(X[i * m + c]));
        rr[2 * m + c] = std::max(rr[2 * m + c], std::abs(B[i * m + c]));
      }
  });
  double worst = 0;
  for (Index c = 0; c < m; ++c) {
    double rmax = 0, xmax = 0, bmax = 0;
    for (Index t = 0; t < tasks; ++t) {
      rmax = std::max(rmax, part[static_cast<size_t>(3 * t * m + c)]);
      xmax = std::max(xmax, part[static_cast<size_t>(3 * t * m + m + c)]);
      bmax = std::max(bmax, part[static_cast<size_t>(3 * t * m + 2 * m + c)]);
    }
    const double scale = op.norm_IA * xmax + bmax;
    const double e = scale > 0 ? rmax / scale : rmax;
    worst = std::max(worst, std::isnan(e) ? INFINITY : e);
  }
  return worst;
}

void Operator::residual(const double* B, const double* X, double* R, Index m, double* scratch) const {
  auto t0 = Clock::now();
  kernels::spmm(*off, X, scratch, m, threads);  // scratch = A_T X
  kernel_seconds += seconds_since(t0);
  t0 = Clock::now();
  M->multiply(X, R, m, transposed, threads);  // R = M X
  preconditioner_seconds += seconds_since(t0);
  for_rows(n, threads, [&](Index i0, Index i1) {
    for (Index k = i0 * m; k < i1 * m; ++k) R[k] = B[k] - R[k] + scratch[k];
  });
}

}  // namespace mriotrace::iterative

namespace mriotrace::solvers {
namespace {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

void SplitBackend::factor(const Source& src) {
  MRIOTRACE_CHECK(src.A, "the iterative solvers are built from A itself");
  // The split I - A = M - A_T: only A_T's rows (12 bytes per nonzero) and
  // the diagonal blocks are kept. (The kernels read the CSC arrays directly.)
  SparseMatrix compressed;
  if (!src.A->isCompressed()) {
    compressed = *src.A;
    compressed.makeCompressed();
  }
  const SparseMatrix& Ac = src.A->isCompressed() ? *src.A : compressed;
  n_ = src.n;
  norm_rows_ = src.norm_rows;
  norm_cols_ = src.norm_cols;
  P_ = kernels::BlockJacobi::build(Ac, options_.block_size);
  fwd_ = kernels::offdiagonal_csr(Ac, options_.block_size, false);
  std::lock_guard<std::mutex> lock(bwd_mutex_);
  bwd_ = kernels::Csr();
  bwd_built_ = false;
}

std::string SplitBackend::preconditioner() const {
  return options_.block_size > 0 ? detail::concat("block-Jacobi, ", P_.blocks, " blocks of ", P_.bs)
                                 : std::string("none");
}

const kernels::Csr& SplitBackend::off(bool transposed) const {
  if (!transposed) return fwd_;
  std::lock_guard<std::mutex> lock(bwd_mutex_);
  if (!bwd_built_) {
    bwd_ = kernels::transpose(fwd_);
    bwd_built_ = true;
  }
  return bwd_;
}

iterative::Operator SplitBackend::make_operator(bool transposed) const {
  iterative::Operator op;
  op.off = &off(transposed);
  op.M = &P_;
  op.transposed = transposed;
  op.threads = options_.threads;
  op.n = n_;
  op.norm_IA = 1.0 + (transposed ? norm_cols_ : norm_rows_);
  return op;
}

double SplitBackend::backward_error(const Eigen::Ref<const Matrix>& B, const Matrix& X, bool transposed) const {
  const RowMat Bb = B, Xb = X;
  RowMat R(n_, B.cols()), scratch(n_, B.cols());
  const iterative::Operator op = make_operator(transposed);
  op.residual(Bb.data(), Xb.data(), R.data(), B.cols(), scratch.data());
  return iterative::backward_error(op, Bb.data(), Xb.data(), R.data(), B.cols());
}

Matrix SplitBackend::residual(const Eigen::Ref<const Matrix>& B, const Matrix& X, bool transposed) const {
  const RowMat Bb = B, Xb = X;
  RowMat R(n_, B.cols()), scratch(n_, B.cols());
  make_operator(transposed).residual(Bb.data(), Xb.data(), R.data(), B.cols(), scratch.data());
  return R;
}

SolveReport SplitBackend::solve(const Eigen::Ref<const Matrix>& B, const Matrix* X0, bool transposed,
                                Matrix& X) const {
  const Index n = n_, m = B.cols();
  const iterative::Operator op = make_operator(transposed);
  iterative::Settings st{options_.tolerance, options_.max_iterations, options_.restart};
  // Row-major work blocks (kernels.hpp); columns in batches within the memory budget.
  const double column_bytes = 8.0 * static_cast<double>(n);
  st.restart = basis(st.restart, m);
  const double per_column = column_bytes * blocks_per_column(st.restart);
  const Index batch = std::clamp<Index>(static_cast<Index>(kWorkBytes / per_column), 1, std::max<Index>(m, 1));
  X.resize(n, m);
  SolveReport report;
  report.relative_residual = 0;
  report.backward_error = 0;
  for (Index c0 = 0; c0 < m; c0 += batch) {
    const Index mb = std::min(batch, m - c0);
    // Padded to a multiple of 4 columns with zeros (answer 0, converged at
    // once): the kernel's rows are then whole SIMD vectors.
    const Index mp = (mb + 3) / 4 * 4;
    RowMat Bb = RowMat::Zero(n, mp), Xb = RowMat::Zero(n, mp);
    Bb.leftCols(mb) = B.middleCols(c0, mb);
    if (X0) Xb.leftCols(mb) = X0->middleCols(c0, mb);
    const iterative::Result r = iterate(op, Bb.data(), Xb.data(), mp, st, X0 == nullptr);
    report.iterations = std::max(report.iterations, r.iterations);
    report.total_iterations += r.iterations;
    if (!r.converged) {
      report.failure = detail::concat(
          to_string(kind()), " did not converge: ", r.why, " after ", r.iterations, " iterations (max_iterations ",
          options_.max_iterations, "); relative residual reached ", r.relative_residual, " > tolerance ",
          options_.tolerance, "; residual reduction per iteration ", r.reduction_per_iteration,
          r.reduction_per_iteration > 0.99 ? " (near 1: the spectral radius of the iteration is near 1, I - A is "
                                             "nearly singular)"
                                           : "");
      break;
    }
    // A looser tolerance than max_residual is the user's explicit choice.
    const double allowed = std::max(options_.max_residual, options_.tolerance);
    if (!(r.backward_error <= allowed))
      throw NumericError(detail::concat("Leontief solve is inaccurate: relative residual ", r.backward_error,
                                        " exceeds ", allowed, " although ", to_string(kind()),
                                        " reached its tolerance; I - A is (nearly) singular"));
    X.middleCols(c0, mb) = Xb.leftCols(mb);
    report.relative_residual = std::max(report.relative_residual, r.relative_residual);
    report.backward_error = std::max(report.backward_error, r.backward_error);
  }
  report.kernel_seconds = op.kernel_seconds;
  report.preconditioner_seconds = op.preconditioner_seconds;
  return report;
}

}  // namespace mriotrace::solvers
