// Pieces shared by the backends (backend.hpp).
#include "backend.hpp"

#include <cmath>
#include <random>
#include <utility>

namespace mriotrace::solvers {

SparseMatrix Source::whole() const {
  if (A) return *A;
  std::vector<Eigen::Triplet<double, Index>> t;
  t.reserve(static_cast<size_t>(off->nnz() + blocks->blocks * blocks->bs * blocks->bs));
  for_each([&](Index i, Index j, double v) { t.emplace_back(i, j, v); });
  SparseMatrix out(n, n);
  out.setFromTriplets(t.begin(), t.end());
  out.makeCompressed();
  return out;
}

Matrix probe_weights(const Eigen::Ref<const Matrix>& B, const Eigen::Ref<const Matrix>& X, double norm_IA,
                     Index probes) {
  const Index m = B.cols();
  Matrix W(m, probes);
  std::mt19937_64 rng(20261203);
  std::normal_distribution<double> gauss;
  for (Index j = 0; j < m; ++j) {
    const double scale = norm_IA * X.col(j).cwiseAbs().maxCoeff() + B.col(j).cwiseAbs().maxCoeff();
    if (!std::isfinite(scale)) return Matrix();  // an overflowed or NaN column is no answer
    for (Index p = 0; p < probes; ++p) W(j, p) = scale > 0 ? gauss(rng) / scale : 0.0;
  }
  return W;
}

double max_abs(const Matrix& M) {
  double worst = 0;
  for (Index i = 0; i < M.size(); ++i)
    worst = std::max(worst, std::isnan(M.data()[i]) ? INFINITY : std::abs(M.data()[i]));
  return worst;
}

IminusA i_minus(const SparseMatrix& A) {
  // Column by column: A's entries (rows increasing) merged with the diagonal 1.
  // Every stored entry of A keeps its place, explicit zeros included, so a
  // pattern with zeros in it (an extracted sector, a scenario's removed
  // input) stays the pattern that was analysed.
  const Index n = A.cols();
  IminusA out;
  out.Ap.assign(static_cast<size_t>(n + 1), 0);
  out.Ai.reserve(static_cast<size_t>(A.nonZeros() + n));
  out.Ax.reserve(static_cast<size_t>(A.nonZeros() + n));
  for (Index j = 0; j < n; ++j) {
    bool diagonal = false;
    for (SparseMatrix::InnerIterator it(A, j); it; ++it) {
      if (!diagonal && it.row() > j) {
        out.Ai.push_back(j);
        out.Ax.push_back(1.0);
        diagonal = true;
      }
      out.Ai.push_back(it.row());
      out.Ax.push_back(it.row() == j ? 1.0 - it.value() : -it.value());
      diagonal = diagonal || it.row() == j;
    }
    if (!diagonal) {
      out.Ai.push_back(j);
      out.Ax.push_back(1.0);
    }
    out.Ap[static_cast<size_t>(j + 1)] = static_cast<std::int64_t>(out.Ai.size());
  }
  return out;
}

}  // namespace mriotrace::solvers
