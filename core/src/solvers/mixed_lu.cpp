// Mixed-precision dense LU: I - A factored in single precision (LAPACK sgetrf:
// half the memory traffic and twice the SIMD lanes of dgetrf, so about half
// its time), every answer refined in double against the double I - A until
// each column's normwise backward error
//     ||b_j - op(I - A) x_j||_inf / (||op(I - A)||_inf ||x_j||_inf + ||b_j||_inf)
// is at most SolverOptions::tolerance (1e-13 by default, the bar of the
// iterative backends), at the cost of a few extra solves with the single
// factors and residual products with the double matrix (dgemm). Classic
// iterative refinement (Wilkinson; Moler 1967; Langou et al. 2006): each step
// shrinks the error by about kappa(I - A) * 2^-24, so a Leontief matrix
// (kappa of order 1 to 100) needs two or three steps. The last correction,
// when the observed rate predicts it lands far below the bar, is checked on
// random combinations of the columns instead of column by column (it saves a
// residual product; in practice that step lands near double round-off).
//
// Refinement that stops shrinking the error (I - A too ill-conditioned for
// single precision, or entries outside float's range) is reported as a
// failure (SolveReport::failure); the solver then finishes with double dense
// LU (solver.cpp), so an answer is never less accurate than double LU's.
//
// Memory: I - A in double (8 n^2 bytes, for the residuals) plus the single
// factors (4 n^2 bytes): 1.5 times dense LU's.
#include <algorithm>
#include <cfloat>
#include <chrono>
#include <climits>
#include <cmath>
#include <vector>

#include "backend.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"

extern "C" {
// LAPACK (Fortran interface, 32-bit integers: Debian's OpenBLAS build). The
// double products go through Eigen, which calls BLAS dgemm (EIGEN_USE_BLAS).
void sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void sgetrs_(const char* trans, const int* n, const int* nrhs, const float* a, const int* lda, const int* ipiv,
             float* b, const int* ldb, int* info, std::size_t trans_len);
void sgecon_(const char* norm, const int* n, const float* a, const int* lda, const float* anorm, float* rcond,
             float* work, int* iwork, int* info, std::size_t norm_len);
}

namespace mriotrace::solvers {
namespace {

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;

// Refinement steps before giving up (a Leontief matrix needs 2 or 3).
constexpr int kMaxSteps = 10;
// A step whose error is predicted below this fraction of the target is
// verified by probes rather than by a full residual product.
constexpr double kProbeMargin = 1e-2;
// Random column combinations of that check (as solver.cpp's for dense LU).
constexpr Index kProbes = 4;
// A step must shrink the worst backward error at least this much, else
// refinement has stalled (kappa * 2^-24 is near 1) and double LU takes over.
constexpr double kMinShrink = 0.5;

/// 2^-e with 2^e the power of two nearest above max |v| (1 for a zero
/// column): scales a column into float's range without rounding.
double column_scale(const double* v, Index n) {
  double big = 0;
  for (Index i = 0; i < n; ++i) big = std::max(big, std::abs(v[i]));
  if (!(big > 0) || !std::isfinite(big)) return 1.0;
  int e = 0;
  std::frexp(big, &e);
  return std::ldexp(1.0, -e);
}

class MixedLU final : public Backend {
 public:
  using Backend::Backend;
  SolverKind kind() const override { return SolverKind::MixedLU; }

  void factor(const Source& src) override {
    const Index n = src.n;
    MRIOTRACE_CHECK(n <= 46340, "dense LU of n = ", n, " exceeds LAPACK's 32-bit index range; use solver \"umfpack\"");
    D = Matrix::Identity(n, n);
    double biggest = 0;  // largest |a_ij|, for the range check below
    src.for_each([&](Index i, Index j, double v) {
      D(i, j) -= v;
      biggest = std::max(biggest, std::abs(v));
    });
    // The bounds 1 + ||A|| of ||I - A|| that solver.cpp's checks use too
    // (norms of the n x n array itself would cost a pass over it each).
    norm_inf = 1.0 + src.norm_rows;
    norm_1 = 1.0 + src.norm_cols;
    failure.clear();
    ThreadScope scope(options_.threads);
    // Entries beyond float's range would turn into inf: leave such systems to
    // double LU (which refuses them: kappa is then beyond 1e38 anyway).
    if (!(biggest + 1.0 < 0.5 * FLT_MAX)) {
      failure = detail::concat("an entry of I - A (", biggest, ") is outside single precision's range");
      lu.resize(0, 0);
      return;
    }
    lu.resize(n, n);
    parallel_for(0, n, options_.threads, [&](std::int64_t j) { lu.col(j) = D.col(j).cast<float>(); }, 64);
    const int ni = static_cast<int>(n);
    ipiv.resize(static_cast<size_t>(std::max<Index>(n, 1)));
    int info = 0;
    sgetrf_(&ni, &ni, lu.data(), &ni, ipiv.data(), &info);
    if (info < 0) throw NumericError(detail::concat("LAPACK sgetrf failed with info = ", info));
    if (info > 0) {
      // Singular in single precision need not mean singular: double LU decides.
      failure = detail::concat("I - A has a zero pivot in single precision (position ", info - 1, ")");
      return;
    }
    std::vector<float> work(4 * static_cast<size_t>(std::max<Index>(n, 1)));
    std::vector<int> iwork(static_cast<size_t>(std::max<Index>(n, 1)));
    const float anorm = static_cast<float>(norm_1);
    float rc = 0;
    sgecon_("1", &ni, lu.data(), &ni, &anorm, &rc, work.data(), iwork.data(), &info, 1);
    rcond_ = rc;
  }

  std::unique_ptr<Backend> share_analysis() const override { return std::make_unique<MixedLU>(options_); }

  SolveReport solve(const Eigen::Ref<const Matrix>& B, const Matrix*, bool transposed, Matrix& X) const override {
    SolveReport report;
    const Index n = D.rows(), m = B.cols();
    if (!failure.empty()) {
      report.failure = failure;
      return report;
    }
    MRIOTRACE_CHECK(m <= INT_MAX, "too many right-hand sides (", m, ") for one LAPACK call");
    ThreadScope scope(options_.threads);
    // The same bar as the iterative backends' tolerance (1e-13 by default),
    // on each column's normwise backward error.
    const double target = options_.tolerance;
    X = Matrix::Zero(n, m);
    Matrix R = B;  // the residual of X = 0, whose backward error is 1
    std::vector<Index> active(static_cast<size_t>(m));
    for (Index j = 0; j < m; ++j) active[static_cast<size_t>(j)] = j;
    double worst_before = 1.0, done_worst = 0.0;
    bool by_probes = false;
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    for (int step = 0; step <= kMaxSteps; ++step) {
      auto t0 = Clock::now();
      correct(active, transposed, R, X);
      report.preconditioner_seconds += since(t0);
      report.iterations = step + 1;
      report.total_iterations += static_cast<Index>(active.size());
      if (by_probes) {
        // Predicted far below the target: verified on kProbes random
        // combinations of the columns instead of a full residual product.
        t0 = Clock::now();
        const double probed = probed_error(active, B, X, transposed);
        report.kernel_seconds += since(t0);
        if (probed <= target) {
          report.backward_error = std::max(done_worst, probed);
          return report;
        }
      }
      t0 = Clock::now();
      const std::vector<double> err = residual(active, B, X, transposed, R);
      report.kernel_seconds += since(t0);
      double worst = 0, still_worst = 0;
      std::vector<Index> still;
      for (size_t c = 0; c < active.size(); ++c) {
        const double e = std::isnan(err[c]) ? INFINITY : err[c];
        worst = std::max(worst, e);
        if (e > target) {
          still.push_back(active[c]);
          still_worst = std::max(still_worst, e);
        } else {
          done_worst = std::max(done_worst, e);
        }
      }
      report.backward_error = std::max(done_worst, worst);
      if (still.empty()) return report;
      if (!std::isfinite(worst) || worst > kMinShrink * worst_before) {
        report.failure = detail::concat("mixed-precision refinement stalled at backward error ", worst, " after ",
                                        step + 1, " steps (I - A too ill-conditioned for single precision; "
                                        "reciprocal condition estimate ", rcond_, ")");
        return report;
      }
      // Each step multiplies the error by about worst / worst_before.
      by_probes = still_worst * (worst / worst_before) <= kProbeMargin * target;
      worst_before = worst;
      active.swap(still);
    }
    report.failure = detail::concat("mixed-precision refinement did not reach backward error ", target, " in ",
                                    kMaxSteps + 1, " steps (reached ", report.backward_error, ")");
    return report;
  }

  double rcond() const override { return rcond_; }

 private:
  /// X[:, cols] += op(LU_single)^-1 R[:, cols]: each column scaled into
  /// float's range by a power of two (exact), solved by sgetrs, added in double.
  void correct(const std::vector<Index>& cols, bool transposed, const Matrix& R, Matrix& X) const {
    const Index n = D.rows(), k = static_cast<Index>(cols.size());
    MatrixF C(n, k);
    std::vector<double> scale(static_cast<size_t>(k));
    parallel_for(0, k, options_.threads, [&](std::int64_t c) {
      const double* r = R.col(cols[static_cast<size_t>(c)]).data();
      const double s = column_scale(r, n);
      scale[static_cast<size_t>(c)] = s;
      float* out = C.col(c).data();
      for (Index i = 0; i < n; ++i) out[i] = static_cast<float>(r[i] * s);
    }, 16);
    const int ni = static_cast<int>(n), ki = static_cast<int>(k);
    int info = 0;
    sgetrs_(transposed ? "T" : "N", &ni, &ki, lu.data(), &ni, ipiv.data(), C.data(), &ni, &info, 1);
    if (info != 0) throw NumericError(detail::concat("LAPACK sgetrs failed with info = ", info));
    parallel_for(0, k, options_.threads, [&](std::int64_t c) {
      const double inv = 1.0 / scale[static_cast<size_t>(c)];
      double* x = X.col(cols[static_cast<size_t>(c)]).data();
      const float* corr = C.col(c).data();
      for (Index i = 0; i < n; ++i) x[i] += static_cast<double>(corr[i]) * inv;
    }, 16);
  }

  /// R[:, cols] = B[:, cols] - op(I - A) X[:, cols] with the double matrix
  /// (one dgemm), and each column's normwise backward error.
  std::vector<double> residual(const std::vector<Index>& cols, const Eigen::Ref<const Matrix>& B, const Matrix& X,
                               bool transposed, Matrix& R) const {
    const Index n = D.rows(), k = static_cast<Index>(cols.size());
    const bool all = k == X.cols();
    Matrix Xa, Ra;
    if (!all)
      gather(cols, B, X, Ra, Xa);
    else
      R = B;
    const Matrix& Xk = all ? X : Xa;
    Matrix& Rk = all ? R : Ra;
    subtract_product(Xk, transposed, Rk);
    const double norm = transposed ? norm_1 : norm_inf;  // ||op(I - A)||_inf
    std::vector<double> err(static_cast<size_t>(k));
    parallel_for(0, k, options_.threads, [&](std::int64_t c) {
      const Index j = cols[static_cast<size_t>(c)];
      const double denom = norm * Xk.col(c).cwiseAbs().maxCoeff() + B.col(j).cwiseAbs().maxCoeff();
      const double r = Rk.col(c).cwiseAbs().maxCoeff();
      err[static_cast<size_t>(c)] = denom > 0 ? r / denom : (r > 0 ? INFINITY : 0.0);
      if (!all) R.col(j) = Rk.col(c);
    }, 16);
    return err;
  }

  /// The normwise backward error of X[:, cols] estimated on kProbes random
  /// combinations of the columns (probe_weights, backend.hpp): 4 n^2 flops a
  /// probe instead of 2 n^2 a column.
  double probed_error(const std::vector<Index>& cols, const Eigen::Ref<const Matrix>& B, const Matrix& X,
                      bool transposed) const {
    const Index k = static_cast<Index>(cols.size()), m = X.cols();
    Matrix Bk, Xk;  // the columns of cols (B and X themselves when that is all)
    if (k < m) gather(cols, B, X, Bk, Xk);
    const Eigen::Ref<const Matrix> Bc = k < m ? Eigen::Ref<const Matrix>(Bk) : B;
    const Eigen::Ref<const Matrix> Xc = k < m ? Eigen::Ref<const Matrix>(Xk) : Eigen::Ref<const Matrix>(X);
    const Matrix W = probe_weights(Bc, Xc, transposed ? norm_1 : norm_inf, kProbes);
    if (W.size() == 0) return INFINITY;
    const Matrix Xp = Xc * W;
    Matrix Rp = Bc * W;
    subtract_product(Xp, transposed, Rp);
    return max_abs(Rp);
  }

  /// Bk, Xk = the columns `cols` of B and X, in that order.
  void gather(const std::vector<Index>& cols, const Eigen::Ref<const Matrix>& B, const Matrix& X, Matrix& Bk,
              Matrix& Xk) const {
    const Index n = D.rows(), k = static_cast<Index>(cols.size());
    Bk.resize(n, k);
    Xk.resize(n, k);
    parallel_for(0, k, options_.threads, [&](std::int64_t c) {
      Bk.col(c) = B.col(cols[static_cast<size_t>(c)]);
      Xk.col(c) = X.col(cols[static_cast<size_t>(c)]);
    }, 16);
  }

  /// R -= op(I - A) X with the double I - A (one dgemm).
  void subtract_product(const Matrix& X, bool transposed, Matrix& R) const {
    if (transposed)
      R.noalias() -= D.transpose() * X;
    else
      R.noalias() -= D * X;
  }

  Matrix D;   // I - A in double: the residuals' matrix
  MatrixF lu; // single-precision LU factors (sgetrf layout)
  std::vector<int> ipiv;
  double norm_inf = 0, norm_1 = 0;  // ||I - A||_inf, ||I - A||_1
  double rcond_ = -1;
  std::string failure;  // why this factorisation cannot answer (non-empty: double LU takes over)
};

}  // namespace

std::unique_ptr<Backend> make_mixed_lu(const SolverOptions& options) { return std::make_unique<MixedLU>(options); }

}  // namespace mriotrace::solvers
