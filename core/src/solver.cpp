// Leontief solver backends: dense LU (LAPACK dgetrf/dgetrs through OpenBLAS)
// and sparse LU (SuiteSparse UMFPACK). Factor once, solve blocks of
// right-hand sides, plain or transposed; check every answer's residual.
#include "mriotrace/solver.hpp"

#include <umfpack.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <mutex>
#include <vector>

#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "mriotrace/system.hpp"

extern "C" {
// LAPACK (Fortran interface, 32-bit integers: Debian's OpenBLAS build).
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda, const int* ipiv,
             double* b, const int* ldb, int* info, std::size_t trans_len);
void dgecon_(const char* norm, const int* n, const double* a, const int* lda, const double* anorm, double* rcond,
             double* work, int* iwork, int* info, std::size_t norm_len);
}

namespace mriotrace {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Below this reciprocal condition number I - A is treated as singular: a
// solve could not carry even a few correct digits.
constexpr double kSingularRcond = 1e-14;

}  // namespace

SolverKind solver_kind_from_string(const std::string& name) {
  if (name == "auto") return SolverKind::Auto;
  if (name == "dense" || name == "lu" || name == "lapack") return SolverKind::DenseLU;
  if (name == "umfpack" || name == "sparse") return SolverKind::SparseLU;
  throw InputError("unknown solver \"" + name + "\"; expected one of: auto, dense, umfpack");
}

std::string to_string(SolverKind kind) {
  switch (kind) {
    case SolverKind::Auto: return "auto";
    case SolverKind::DenseLU: return "dense";
    case SolverKind::SparseLU: return "umfpack";
  }
  return "unknown";
}

SolverKind LeontiefSolver::choose(Index n, Index nnz) {
  // Dense LU costs 2/3 n^3 flops and n^2 doubles regardless of sparsity; it
  // wins on small systems and on dense-ish ones (EXIOBASE-like tables are
  // ~30 % nonzero, where sparse LU fill-in makes the factors dense anyway).
  // Sparse LU wins when A is sparse enough that the factors stay sparse.
  const double density = n > 0 ? static_cast<double>(nnz) / (static_cast<double>(n) * n) : 1.0;
  if (n <= 2000) return SolverKind::DenseLU;
  if (density >= 0.05 && n <= 20000) return SolverKind::DenseLU;
  return SolverKind::SparseLU;
}

struct LeontiefSolver::Impl {
  SolverOptions options;
  SparseMatrix A;  // kept for residual checks (and UMFPACK's iterative refinement via IminusA)
  Index n = 0;
  // Dense backend
  Matrix lu;
  std::vector<int> ipiv;
  // Sparse backend: I - A in CSC with 64-bit indices (SuiteSparse_long)
  SparseMatrix IminusA;
  void* numeric = nullptr;
  double control[UMFPACK_CONTROL];

  mutable std::mutex diag_mutex;
  mutable SolveDiagnostics diag;

  ~Impl() {
    if (numeric) umfpack_dl_free_numeric(&numeric);
  }

  void factor_dense() {
    MRIOTRACE_CHECK(n <= 46340, "dense LU of n = ", n, " exceeds LAPACK's 32-bit index range; use solver \"umfpack\"");
    lu = Matrix::Identity(n, n);
    lu -= Matrix(A);
    const int ni = static_cast<int>(n);
    // 1-norm of I - A for the condition estimate.
    const double anorm = lu.cwiseAbs().colwise().sum().maxCoeff();
    ipiv.resize(static_cast<size_t>(std::max<Index>(n, 1)));
    int info = 0;
    dgetrf_(&ni, &ni, lu.data(), &ni, ipiv.data(), &info);
    if (info > 0)
      throw NumericError(detail::concat("I - A is singular (zero pivot at position ", info - 1,
                                        " in its LU factorisation); the system is not productive"));
    if (info < 0) throw NumericError(detail::concat("LAPACK dgetrf failed with info = ", info));
    std::vector<double> work(4 * static_cast<size_t>(n));
    std::vector<int> iwork(static_cast<size_t>(n));
    double rcond = 0;
    dgecon_("1", &ni, lu.data(), &ni, &anorm, &rcond, work.data(), iwork.data(), &info, 1);
    diag.rcond_estimate = rcond;
  }

  void factor_sparse() {
    SparseMatrix I(n, n);
    I.setIdentity();
    IminusA = I - A;
    IminusA.makeCompressed();
    umfpack_dl_defaults(control);
    double info[UMFPACK_INFO];
    void* symbolic = nullptr;
    const auto* Ap = reinterpret_cast<const SuiteSparse_long*>(IminusA.outerIndexPtr());
    const auto* Ai = reinterpret_cast<const SuiteSparse_long*>(IminusA.innerIndexPtr());
    int status = umfpack_dl_symbolic(n, n, Ap, Ai, IminusA.valuePtr(), &symbolic, control, info);
    if (status != UMFPACK_OK)
      throw NumericError(detail::concat("UMFPACK symbolic analysis of I - A failed (status ", status, ")"));
    {
      // Serial BLAS inside UMFPACK: multi-threaded OpenBLAS changes the
      // summation order in the frontal-matrix updates, so the factors (and
      // every answer) would differ in the last bit between thread counts.
      ThreadScope serial_blas(1);
      status = umfpack_dl_numeric(Ap, Ai, IminusA.valuePtr(), symbolic, &numeric, control, info);
    }
    umfpack_dl_free_symbolic(&symbolic);
    if (status == UMFPACK_WARNING_singular_matrix)
      throw NumericError("I - A is singular (UMFPACK found a zero pivot); the system is not productive");
    if (status == UMFPACK_ERROR_out_of_memory)
      throw NumericError("UMFPACK ran out of memory factoring I - A; the factors fill in too much");
    if (status != UMFPACK_OK)
      throw NumericError(detail::concat("UMFPACK numeric factorisation of I - A failed (status ", status, ")"));
    diag.rcond_estimate = info[UMFPACK_RCOND];
  }

  Matrix solve(const Eigen::Ref<const Matrix>& B, bool transposed) const {
    MRIOTRACE_CHECK(B.rows() == n, "right-hand side has ", B.rows(), " rows; expected n = ", n);
    check_finite(B, "right-hand side");
    const Index m = B.cols();
    Matrix X = B;
    if (m == 0 || n == 0) return X;
    const auto t0 = Clock::now();
    ThreadScope scope(options.threads);
    if (diag.kind == SolverKind::DenseLU) {
      const int ni = static_cast<int>(n);
      MRIOTRACE_CHECK(m <= INT_MAX, "too many right-hand sides (", m, ") for one LAPACK call");
      const int mi = static_cast<int>(m);
      int info = 0;
      dgetrs_(transposed ? "T" : "N", &ni, &mi, lu.data(), &ni, ipiv.data(), X.data(), &ni, &info, 1);
      if (info != 0) throw NumericError(detail::concat("LAPACK dgetrs failed with info = ", info));
    } else {
      const auto* Ap = reinterpret_cast<const SuiteSparse_long*>(IminusA.outerIndexPtr());
      const auto* Ai = reinterpret_cast<const SuiteSparse_long*>(IminusA.innerIndexPtr());
      const int sys = transposed ? UMFPACK_At : UMFPACK_A;
      const int workers = scope.threads();
      // UMFPACK's solve calls BLAS-2 kernels. We parallelise over columns, so
      // BLAS runs single-threaded inside: no nested oversubscription, and each
      // column's arithmetic (hence its last bit) does not depend on the thread
      // count (multi-threaded OpenBLAS dgemv splits its sums differently).
      ThreadScope serial_blas(1);
      // One chunk of columns per thread, each with its own workspace: the
      // Numeric object is only read by wsolve, so the solves are independent.
      const Index chunks = std::min<Index>(workers, m);
      parallel_for(0, chunks, workers, [&](std::int64_t chunk) {
        std::vector<SuiteSparse_long> Wi(static_cast<size_t>(n));
        std::vector<double> W(5 * static_cast<size_t>(n));
        double info[UMFPACK_INFO];
        for (Index col = chunk; col < m; col += chunks) {
          int status = umfpack_dl_wsolve(sys, Ap, Ai, IminusA.valuePtr(), X.col(col).data(), B.col(col).data(),
                                         numeric, control, info, Wi.data(), W.data());
          if (status != UMFPACK_OK)
            throw NumericError(detail::concat("UMFPACK solve failed (status ", status, ")"));
        }
      });
    }
    const double residual = relative_residual(B, X, transposed);
    {
      std::lock_guard<std::mutex> lock(diag_mutex);
      diag.solve_seconds += seconds_since(t0);
      diag.rhs_solved += m;
      diag.max_relative_residual = std::max(diag.max_relative_residual, residual);
    }
    if (!(residual <= options.max_residual))
      throw NumericError(detail::concat("Leontief solve is inaccurate: relative residual ", residual,
                                        " exceeds ", options.max_residual,
                                        "; I - A is (nearly) singular (reciprocal condition estimate ",
                                        diag.rcond_estimate, ")"));
    return X;
  }

  /// Normwise backward error max_j ||b_j - (I - A) x_j||_inf / (||I - A||_inf ||x_j||_inf + ||b_j||_inf).
  double relative_residual(const Eigen::Ref<const Matrix>& B, const Matrix& X, bool transposed) const {
    const Index m = B.cols();
    std::vector<double> per_col(static_cast<size_t>(m), 0.0);
    const double norm_IA = 1.0 + (transposed ? col_abs_sum_max : row_abs_sum_max);
    parallel_for(0, m, options.threads, [&](std::int64_t j) {
      Vector Ax = transposed ? Vector(A.transpose() * X.col(j)) : Vector(A * X.col(j));
      const double r = (B.col(j) - X.col(j) + Ax).cwiseAbs().maxCoeff();
      const double scale = norm_IA * X.col(j).cwiseAbs().maxCoeff() + B.col(j).cwiseAbs().maxCoeff();
      per_col[static_cast<size_t>(j)] = scale > 0 ? r / scale : r;
    });
    double worst = 0;
    for (double r : per_col) worst = std::max(worst, std::isnan(r) ? INFINITY : r);
    return worst;
  }

  double row_abs_sum_max = 0, col_abs_sum_max = 0;
};

LeontiefSolver::LeontiefSolver(const SparseMatrix& A, SolverOptions options) : impl_(std::make_unique<Impl>()) {
  MRIOTRACE_CHECK(A.rows() == A.cols(), "A has shape ", A.rows(), " x ", A.cols(), "; expected a square matrix");
  MRIOTRACE_CHECK(options.max_residual > 0, "max_residual = ", options.max_residual, "; expected > 0");
  check_finite(A, "A");
  auto& d = *impl_;
  d.options = options;
  d.n = A.rows();
  d.A = A;
  d.A.makeCompressed();
  Vector rows = Vector::Zero(d.n), cols = Vector::Zero(d.n);
  for (Index j = 0; j < d.n; ++j)
    for (SparseMatrix::InnerIterator it(d.A, j); it; ++it) {
      rows[it.row()] += std::abs(it.value());
      cols[j] += std::abs(it.value());
    }
  d.row_abs_sum_max = d.n ? rows.maxCoeff() : 0;
  d.col_abs_sum_max = d.n ? cols.maxCoeff() : 0;
  d.diag.kind = options.kind == SolverKind::Auto ? choose(d.n, d.A.nonZeros()) : options.kind;
  ThreadScope scope(options.threads);
  d.diag.threads = scope.threads();
  const auto t0 = Clock::now();
  if (d.n > 0) {
    if (d.diag.kind == SolverKind::DenseLU)
      d.factor_dense();
    else
      d.factor_sparse();
  }
  d.diag.factor_seconds = seconds_since(t0);
  if (d.n > 0 && d.diag.rcond_estimate >= 0 && d.diag.rcond_estimate < kSingularRcond)
    throw NumericError(detail::concat("I - A is numerically singular (reciprocal condition estimate ",
                                      d.diag.rcond_estimate, "); the system is not productive"));
}

LeontiefSolver::~LeontiefSolver() = default;
LeontiefSolver::LeontiefSolver(LeontiefSolver&&) noexcept = default;
LeontiefSolver& LeontiefSolver::operator=(LeontiefSolver&&) noexcept = default;

Index LeontiefSolver::n() const { return impl_->n; }

Matrix LeontiefSolver::solve(const Eigen::Ref<const Matrix>& B) const { return impl_->solve(B, false); }

Matrix LeontiefSolver::solve_transposed(const Eigen::Ref<const Matrix>& B) const {
  return impl_->solve(B, true);
}

Matrix LeontiefSolver::leontief_inverse() const { return solve(Matrix::Identity(impl_->n, impl_->n)); }

const SolveDiagnostics& LeontiefSolver::diagnostics() const { return impl_->diag; }
const SolverOptions& LeontiefSolver::options() const { return impl_->options; }

}  // namespace mriotrace
