// Dense LU: LAPACK dgetrf / dgetrs / dgecon through (multi-threaded) OpenBLAS.
// No analysis (the work does not depend on A's pattern); refactor = factor.
#include <algorithm>
#include <climits>
#include <vector>

#include "backend.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"

extern "C" {
// LAPACK (Fortran interface, 32-bit integers: Debian's OpenBLAS build).
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda, const int* ipiv,
             double* b, const int* ldb, int* info, std::size_t trans_len);
void dgecon_(const char* norm, const int* n, const double* a, const int* lda, const double* anorm, double* rcond,
             double* work, int* iwork, int* info, std::size_t norm_len);
}

namespace mriotrace::solvers {
namespace {

class DenseLU final : public Backend {
 public:
  using Backend::Backend;
  SolverKind kind() const override { return SolverKind::DenseLU; }

  void factor(const Source& src) override {
    const Index n = src.n;
    MRIOTRACE_CHECK(n <= 46340, "dense LU of n = ", n, " exceeds LAPACK's 32-bit index range; use solver \"umfpack\"");
    // lu = I - A, written in place (no dense copy of A): from A itself, or
    // from the iterative split A = A_T + A_D when only that is kept.
    lu = Matrix::Identity(n, n);
    src.for_each([&](Index i, Index j, double v) { lu(i, j) -= v; });
    const int ni = static_cast<int>(n);
    // 1-norm of I - A for the condition estimate.
    const double anorm = n > 0 ? lu.cwiseAbs().colwise().sum().maxCoeff() : 0.0;
    ipiv.resize(static_cast<size_t>(std::max<Index>(n, 1)));
    int info = 0;
    dgetrf_(&ni, &ni, lu.data(), &ni, ipiv.data(), &info);
    if (info > 0)
      throw NumericError(detail::concat("I - A is singular (zero pivot at position ", info - 1,
                                        " in its LU factorisation); the system is not productive"));
    if (info < 0) throw NumericError(detail::concat("LAPACK dgetrf failed with info = ", info));
    std::vector<double> work(4 * static_cast<size_t>(std::max<Index>(n, 1)));
    std::vector<int> iwork(static_cast<size_t>(std::max<Index>(n, 1)));
    rcond_ = 0;
    dgecon_("1", &ni, lu.data(), &ni, &anorm, &rcond_, work.data(), iwork.data(), &info, 1);
  }

  std::unique_ptr<Backend> share_analysis() const override { return std::make_unique<DenseLU>(options_); }

  SolveReport solve(const Eigen::Ref<const Matrix>& B, const Matrix*, bool transposed, Matrix& X) const override {
    const Index n = lu.rows(), m = B.cols();
    X = B;
    ThreadScope scope(options_.threads);
    const int ni = static_cast<int>(n);
    MRIOTRACE_CHECK(m <= INT_MAX, "too many right-hand sides (", m, ") for one LAPACK call");
    const int mi = static_cast<int>(m);
    int info = 0;
    dgetrs_(transposed ? "T" : "N", &ni, &mi, lu.data(), &ni, ipiv.data(), X.data(), &ni, &info, 1);
    if (info != 0) throw NumericError(detail::concat("LAPACK dgetrs failed with info = ", info));
    return {};
  }

  double rcond() const override { return rcond_; }

  std::optional<LeontiefSolver::DenseLuView> dense_lu() const override {
    if (lu.size() == 0) return std::nullopt;
    return LeontiefSolver::DenseLuView{lu.rows(), lu.data(), ipiv.data()};
  }

 private:
  Matrix lu;
  std::vector<int> ipiv;
  double rcond_ = -1;
};

}  // namespace

std::unique_ptr<Backend> make_dense_lu(const SolverOptions& options) { return std::make_unique<DenseLU>(options); }

}  // namespace mriotrace::solvers
