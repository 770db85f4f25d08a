// Monte Carlo draws of a system and warm-started solves of each draw
// (formulas: montecarlo.hpp).
#include "mriotrace/montecarlo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "montecarlo_detail.hpp"
#include "stressor_rows.hpp"

namespace mriotrace {
namespace detail::mc {

std::pair<double, double> magnitude_range(const double* values, Index count) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (Index i = 0; i < count; ++i) {
    const double a = std::abs(values[i]);
    if (a > 0) {
      lo = std::min(lo, a);
      hi = std::max(hi, a);
    }
  }
  return {hi > 0 ? lo : 0.0, hi};
}

/// Columns in parallel (disjoint outputs).
void perturb_dense(Matrix& M, const CvSpec& spec, std::uint64_t key, int threads) {
  if (!spec.active() || M.size() == 0) return;
  const auto [lo, hi] = magnitude_range(M.data(), M.size());
  const FactorOf factor(spec, lo, hi);
  parallel_for(0, M.cols(), threads, [&](std::int64_t j) {
    for (Index i = 0; i < M.rows(); ++i) {
      double& v = M(i, j);
      if (v != 0) v *= factor(v, normal_quantile(entry_uniform(key, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(j))));
    }
  }, 64);
}

/// S restricted to the selected rows and F_Y summed per region (k x R, or empty).
std::pair<Matrix, Matrix> selected_rows(const Matrix& S, const Matrix& F_Y, const std::vector<Index>& rows, Index R,
                                        Index c) {
  const Index k = static_cast<Index>(rows.size());
  Matrix Ss(k, S.cols()), FYr;
  if (F_Y.size() > 0) FYr = Matrix::Zero(k, R);
  for (Index i = 0; i < k; ++i) {
    const Index row = rows[static_cast<size_t>(i)];
    Ss.row(i) = S.row(row);
    if (F_Y.size() > 0)
      for (Index r = 0; r < R; ++r) FYr(i, r) = F_Y.row(row).segment(r * c, c).sum();
  }
  return {std::move(Ss), std::move(FYr)};
}

/// n x R final demand per region from an n x R*c Y.
Matrix demand_by_region(const Matrix& Y, Index R, Index c) {
  Matrix Yr = Matrix::Zero(Y.rows(), R);
  for (Index r = 0; r < R; ++r) Yr.col(r) = Y.middleCols(r * c, c).rowwise().sum();
  return Yr;
}

Accounts draw_regional_accounts(const Matrix& S, const Matrix& FYr, const Matrix& Yr, const Matrix& Mt,
                                const Vector* x, const std::vector<Index>& stressors, Index N) {
  const Index k = S.rows(), R = Yr.cols();
  Accounts acc;
  acc.stressors = stressors;
  acc.regional = true;
  acc.D_cba_reg.noalias() = Mt.transpose() * Yr;
  if (x) {
    acc.x = *x;
    acc.D_pba_reg.resize(k, R);
    for (Index q = 0; q < R; ++q) acc.D_pba_reg.col(q).noalias() = S.middleCols(q * N, N) * x->segment(q * N, N);
  }
  if (FYr.size() > 0) {  // pymrio adds final-demand emissions to cba and pba only
    acc.D_cba_reg += FYr;
    if (acc.D_pba_reg.size() > 0) acc.D_pba_reg += FYr;
  }
  return acc;
}

namespace {

/// Index of the first entry of v below -1e-9 max|v| (a negative beyond
/// round-off), or -1.
Index first_negative(const Eigen::Ref<const Vector>& v) {
  const double floor = -1e-9 * (v.size() ? v.cwiseAbs().maxCoeff() : 0.0);
  for (Index i = 0; i < v.size(); ++i)
    if (v[i] < floor || std::isnan(v[i])) return i;
  return -1;
}

std::string sector_name(const MrioSystem& system, Index j) {
  const Labels& l = system.labels();
  const Index N = system.N();
  if (N <= 0 || static_cast<size_t>(j / N) >= l.regions.size() || static_cast<size_t>(j % N) >= l.sectors.size())
    return concat("row ", j);
  return concat("\"", l.regions[static_cast<size_t>(j / N)], "\" / \"", l.sectors[static_cast<size_t>(j % N)], "\"");
}

[[noreturn]] void not_productive(const std::string& what) {
  throw NumericError(concat("the draw's perturbed A is not productive (spectral radius >= 1): ", what,
                            ", though a productive A' has a nonnegative Leontief inverse; draw rejected"));
}

}  // namespace

void check_productive(const MrioSystem& system, const DrawBase& base, const Matrix& S, const Matrix* Mt,
                      const Vector* y, const Vector* x, const Matrix* Yr, const Matrix* X) {
  if (!base.a_nonnegative) return;
  if (Mt)
    for (Index s = 0; s < Mt->cols() && s < S.rows(); ++s) {
      if (S.row(s).minCoeff() < 0) continue;
      if (const Index j = first_negative(Mt->col(s)); j >= 0)
        not_productive(concat("the multiplier of stressor \"",
                              system.labels().stressors[static_cast<size_t>(base.stressors[static_cast<size_t>(s)])],
                              "\" in sector ", sector_name(system, j), " is ", (*Mt)(j, s)));
    }
  if (x && y && x->size() == y->size() && (y->size() == 0 || y->minCoeff() >= 0))
    if (const Index j = first_negative(*x); j >= 0)
      not_productive(concat("the gross output of sector ", sector_name(system, j), " is ", (*x)[j],
                            " for nonnegative final demand"));
  if (X && Yr)
    for (Index r = 0; r < X->cols() && r < Yr->cols(); ++r) {
      if (Yr->col(r).minCoeff() < 0) continue;
      if (const Index j = first_negative(X->col(r)); j >= 0)
        not_productive(concat("the output of sector ", sector_name(system, j), " induced by the final demand of \"",
                              system.labels().regions[static_cast<size_t>(r)], "\" is ", (*X)(j, r)));
    }
}

}  // namespace detail::mc

using namespace detail::mc;

namespace {

/// M's stored entries times their (float) factors: the draw's A (or Z).
void perturb_sparse(SparseMatrix& M, const CvSpec& spec, std::uint64_t key) {
  if (!spec.active() || M.nonZeros() == 0) return;
  std::vector<float> f(static_cast<size_t>(M.nonZeros()));
  const bool used = true;
  sparse_factors(M, spec, &key, &used, 1, f.data());
  double* values = M.valuePtr();
  for (Index q = 0; q < M.nonZeros(); ++q) values[q] *= static_cast<double>(f[static_cast<size_t>(q)]);
}

void check_cv(const CvSpec& s, const char* what) {
  auto ok = [](double v) { return std::isfinite(v) && v >= 0; };
  MRIOTRACE_CHECK(ok(s.cv), "CV of ", what, " is ", s.cv, "; expected a finite value >= 0");
  MRIOTRACE_CHECK(ok(s.cv_small) && ok(s.cv_large), "size-rule CVs of ", what, " are ", s.cv_small, " and ",
                  s.cv_large, "; expected finite values >= 0");
}

/// Y = op(A) X, op = identity or transpose; A CSC. The transposed product is a
/// dot product per column of A (parallel over columns, fixed order inside).
Matrix sparse_times(const SparseMatrix& A, const Matrix& X, bool transposed, int threads) {
  Matrix out(A.cols(), X.cols());
  if (!transposed) {
    // (A X)[:, c] for each right-hand side c; columns in parallel.
    Matrix Y = Matrix::Zero(A.rows(), X.cols());
    parallel_for(0, X.cols(), threads, [&](std::int64_t c) { Y.col(c) = A * X.col(c); });
    return Y;
  }
  const Index* outer = A.outerIndexPtr();
  const Index* inner = A.innerIndexPtr();
  const double* values = A.valuePtr();
  parallel_for(0, A.cols(), threads, [&](std::int64_t j) {
    for (Index c = 0; c < X.cols(); ++c) {
      double s = 0;
      for (Index q = outer[j]; q < outer[j + 1]; ++q) s += values[q] * X(inner[q], c);
      out(j, c) = s;
    }
  }, 256);
  return out;
}

}  // namespace

void validate(const UncertaintyOptions& o) {
  check_cv(o.A, o.perturb_Z ? "Z" : "A");
  check_cv(o.Y, "Y");
  check_cv(o.F, "F");
  MRIOTRACE_CHECK(o.tolerance > 0 && o.tolerance <= 1e-6, "Monte Carlo solve tolerance is ", o.tolerance,
                  "; expected a value in (0, 1e-6]");
  MRIOTRACE_CHECK(o.max_iterations >= 1, "max_iterations is ", o.max_iterations, "; expected >= 1");
}

double normal_quantile(double p) {
  MRIOTRACE_CHECK(p > 0 && p < 1, "normal_quantile(", p, "): expected 0 < p < 1");
  return quantile_in_tail(p) ? quantile_tail(p) : quantile_central(p);
}

double draw_normal(std::uint64_t seed, std::uint64_t draw, std::uint32_t matrix_id, std::uint64_t row,
                   std::uint64_t col) {
  MRIOTRACE_CHECK(row < (1ULL << 32) && col < (1ULL << 32), "draw_normal: row ", row, " or column ", col,
                  " >= 2^32");
  return normal_quantile(entry_uniform(stream_key(seed, draw, matrix_id), row, col));
}

PerturbedSystem perturb(const MrioSystem& system, const UncertaintyOptions& o, std::uint64_t draw, int threads) {
  validate(o);
  MRIOTRACE_CHECK(system.n() < (Index(1) << 32) && system.Y().cols() < (Index(1) << 32),
                  "perturb: the system has ", system.n(), " rows; expected fewer than 2^32");
  PerturbedSystem out;
  out.Y = system.Y();
  perturb_dense(out.Y, o.Y, stream_key(o.seed, draw, kMatrixY), threads);
  out.F_Y = system.F_Y();
  perturb_dense(out.F_Y, o.F, stream_key(o.seed, draw, kMatrixFY), threads);
  if (!o.perturb_Z) {
    out.A = system.A();
    perturb_sparse(out.A, o.A, stream_key(o.seed, draw, kMatrixA));
    // Perturbing F at the base x is perturbing S by the same factors.
    out.S = system.S();
    perturb_dense(out.S, o.F, stream_key(o.seed, draw, kMatrixF), threads);
    return out;
  }
  // Z mode: Z' = Z o eps, F' = F o eps, x' = Z'1 + Y'1, A' = Z' diag(x')^-1, S' = F' diag(x')^-1.
  SparseMatrix Z = system.Z();
  perturb_sparse(Z, o.A, stream_key(o.seed, draw, kMatrixA));
  Matrix F = system.F();
  perturb_dense(F, o.F, stream_key(o.seed, draw, kMatrixF), threads);
  Vector x = Z * Vector::Ones(Z.cols());
  if (out.Y.cols() > 0) x += out.Y.rowwise().sum();
  Vector inv_x(x.size());
  for (Index j = 0; j < x.size(); ++j) {
    MRIOTRACE_CHECK(std::isfinite(x[j]) && x[j] >= 0, "draw ", draw, ": perturbed gross output of sector ", j,
                    " is ", x[j], "; expected >= 0 (negative final demand outweighs Z)");
    inv_x[j] = x[j] > 0 ? 1.0 / x[j] : 0.0;
  }
  out.A = Z * inv_x.asDiagonal();
  out.S = F * inv_x.asDiagonal();
  return out;
}

Matrix warm_solve(const LeontiefSolver& base, const SparseMatrix& Ap, const Eigen::Ref<const Matrix>& B,
                  const Eigen::Ref<const Matrix>& X0, bool transposed, const UncertaintyOptions& o,
                  WarmSolveInfo* info, int threads) {
  validate(o);
  const Index n = base.n();
  MRIOTRACE_CHECK(Ap.rows() == n && Ap.cols() == n, "perturbed A is ", Ap.rows(), " x ", Ap.cols(),
                  "; expected ", n, " x ", n, " like the base system");
  MRIOTRACE_CHECK(B.rows() == n, "right-hand side has ", B.rows(), " rows; expected n = ", n);
  MRIOTRACE_CHECK(X0.rows() == n && X0.cols() == B.cols(), "warm start is ", X0.rows(), " x ", X0.cols(),
                  "; expected ", n, " x ", B.cols(), " like the right-hand side");
  WarmSolveInfo local;
  WarmSolveInfo& d = info ? *info : local;
  d = {};
  const double bnorm = B.cwiseAbs().maxCoeff();
  if (B.size() == 0 || bnorm == 0) return Matrix::Zero(n, B.cols());
  Matrix X = X0;
  double previous = std::numeric_limits<double>::infinity();
  for (int it = 0;; ++it) {
    // r = b - (I - A') x = b - x + op(A') x
    Matrix R = B - X + sparse_times(Ap, X, transposed, threads);
    const double residual = R.cwiseAbs().maxCoeff() / bnorm;
    d.iterations = it;
    d.relative_residual = residual;
    if (!std::isfinite(residual)) break;
    if (residual <= o.tolerance) return X;
    // Stalled (the draw is too far from the base) or out of iterations: refactor.
    if (it >= o.max_iterations || residual > 0.5 * previous) break;
    previous = residual;
    X += transposed ? base.solve_transposed(R) : base.solve(R);
  }
  // The draw's own factorisation; its pattern is the base's, so the base's
  // symbolic analysis is reused (throws NumericError if I - A' is singular).
  const LeontiefSolver direct = base.refactored(Ap);
  d.refactored = true;
  Matrix Xd = transposed ? direct.solve_transposed(B) : direct.solve(B);
  d.relative_residual = direct.diagnostics().max_relative_residual;
  return Xd;
}

namespace {

void merge_info(WarmSolveInfo& total, const WarmSolveInfo& one) {
  total.iterations = std::max(total.iterations, one.iterations);
  total.relative_residual = std::max(total.relative_residual, one.relative_residual);
  total.refactored = total.refactored || one.refactored;
}

}  // namespace

DrawBase prepare_draws(const MrioSystem& system, const LeontiefSolver& solver, const DrawAccountsOptions& options) {
  MRIOTRACE_CHECK(solver.n() == system.n(), "solver is for n = ", solver.n(), " but the system has n = ",
                  system.n());
  MRIOTRACE_CHECK(system.Y().cols() > 0, "the system has no final demand Y; Monte Carlo accounts need Y");
  DrawBase b;
  b.stressors = detail::stressor_rows(options.stressors, system.k(), "Monte Carlo");
  b.with_Q = options.with_Q;
  b.production = options.production || options.with_Q;
  {
    const SparseMatrix& A = system.A();
    b.a_nonnegative = std::all_of(A.valuePtr(), A.valuePtr() + A.nonZeros(), [](double v) { return v >= 0; });
  }
  const auto [S, FYr] = selected_rows(system.S(), Matrix(), b.stressors, system.R(), system.c());
  if (b.with_Q) {
    b.X = solver.solve(system.Y_by_region());
  } else {
    b.Mt = solver.solve_transposed(S.transpose());
    if (b.production) b.x = solver.solve(system.Y().rowwise().sum());
    if (const auto lu = solver.dense_lu()) {
      const size_t n = static_cast<size_t>(lu->n);
      b.lu32.assign(lu->lu, lu->lu + n * n);
      b.ipiv.assign(lu->ipiv, lu->ipiv + n);
    }
  }
  return b;
}

Accounts draw_accounts(const MrioSystem& system, const LeontiefSolver& solver, const DrawBase& base,
                       const PerturbedSystem& p, const UncertaintyOptions& options, WarmSolveInfo* info,
                       int threads) {
  const Index n = system.n(), R = system.R(), N = system.N(), c = system.c();
  MRIOTRACE_CHECK(p.A.rows() == n && p.Y.rows() == n && p.Y.cols() == R * c && p.S.cols() == n &&
                      p.S.rows() == system.k(),
                  "perturbed system does not match the base system's shapes (n = ", n, ", R*c = ", R * c,
                  ", k = ", system.k(), ")");
  const auto [S, FYr] = selected_rows(p.S, p.F_Y, base.stressors, R, c);
  const Matrix Yr = demand_by_region(p.Y, R, c);
  WarmSolveInfo total, one;
  Accounts acc;
  if (base.with_Q) {
    acc.stressors = base.stressors;
    acc.regional = true;
    // X'_r = (I - A')^-1 y'_r;  Q[:, p R + r] = S'^(p) X'^(p)_r.
    const Matrix X = warm_solve(solver, p.A, Yr, base.X, false, options, &one, threads);
    merge_info(total, one);
    check_productive(system, base, S, nullptr, nullptr, nullptr, &Yr, &X);
    acc.x = X.rowwise().sum();
    regional_accounts(S, X, Matrix(), R, 1, acc);
    if (FYr.size() > 0) {  // pymrio adds final-demand emissions to cba and pba only
      acc.D_cba_reg += FYr;
      acc.D_pba_reg += FYr;
    }
  } else {
    // M'^T = (I - A')^-T S'^T;  x' = (I - A')^-1 Y' 1.
    const Matrix Mt = warm_solve(solver, p.A, S.transpose(), base.Mt, true, options, &one, threads);
    merge_info(total, one);
    Vector x;
    const Vector y = p.Y.rowwise().sum();
    if (base.production) {
      x = warm_solve(solver, p.A, y, base.x, false, options, &one, threads).col(0);
      merge_info(total, one);
    }
    check_productive(system, base, S, &Mt, &y, base.production ? &x : nullptr, nullptr, nullptr);
    acc = draw_regional_accounts(S, FYr, Yr, Mt, base.production ? &x : nullptr, base.stressors, N);
  }
  if (info) *info = total;
  return acc;
}

DrawSummary summarize_draws(const Eigen::Ref<const Matrix>& draws) {
  const Index D = draws.rows(), p = draws.cols();
  DrawSummary s;
  s.mean = s.median = s.p2_5 = s.p97_5 = s.p_negative = Vector::Constant(p, std::numeric_limits<double>::quiet_NaN());
  std::vector<char> finite_row(static_cast<size_t>(D), 1);
  for (Index d = 0; d < D; ++d) finite_row[static_cast<size_t>(d)] = draws.row(d).allFinite();
  s.draws = std::count(finite_row.begin(), finite_row.end(), 1);
  if (s.draws == 0) return s;
  std::vector<double> column;
  for (Index j = 0; j < p; ++j) {
    column.clear();
    double sum = 0;
    Index negative = 0;
    for (Index d = 0; d < D; ++d)
      if (finite_row[static_cast<size_t>(d)]) {
        column.push_back(draws(d, j));
        sum += draws(d, j);
        negative += draws(d, j) < 0;
      }
    std::sort(column.begin(), column.end());
    // NumPy's default percentile: linear between order statistics at q (m - 1).
    auto pct = [&](double q) {
      const double pos = q * static_cast<double>(column.size() - 1);
      const size_t lo = static_cast<size_t>(std::floor(pos));
      const size_t hi = std::min(lo + 1, column.size() - 1);
      return column[lo] + (pos - static_cast<double>(lo)) * (column[hi] - column[lo]);
    };
    s.mean[j] = sum / static_cast<double>(column.size());
    s.median[j] = pct(0.5);
    s.p2_5[j] = pct(0.025);
    s.p97_5[j] = pct(0.975);
    s.p_negative[j] = static_cast<double>(negative) / static_cast<double>(column.size());
  }
  return s;
}

}  // namespace mriotrace
