// Monte Carlo draws of a system and warm-started solves of each draw
// (formulas: montecarlo.hpp).
#include "mriotrace/montecarlo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "stressor_rows.hpp"

namespace mriotrace {
namespace {

// Matrix ids of the counter-based generator: part of every entry's key, so
// A, Y, F and F_Y draws are independent of each other.
constexpr std::uint32_t kMatrixA = 0, kMatrixY = 1, kMatrixF = 2, kMatrixFY = 3;

/// SplitMix64's finaliser: a bijective 64-bit mix with full avalanche.
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

/// Key of one (seed, draw, matrix): the per-entry hash adds the position.
inline std::uint64_t stream_key(std::uint64_t seed, std::uint64_t draw, std::uint32_t matrix_id) {
  std::uint64_t h = mix64(seed + kGolden);
  h = mix64(h ^ (draw * kGolden + 0x632be59bd9b4e019ULL));
  return mix64(h + (static_cast<std::uint64_t>(matrix_id) + 1) * 0xd1b54a32d192ed03ULL);
}

/// z of entry (row, col) for a stream key; rows and columns below 2^32.
inline double entry_normal(std::uint64_t key, std::uint64_t row, std::uint64_t col) {
  const std::uint64_t h = mix64(mix64(key ^ ((row << 32) | col)) + kGolden);
  // 53 random bits, centred in their cell: u in (0, 1), never 0 or 1.
  const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
  return normal_quantile(u);
}

/// The log-normal factor of an entry: exp(mu + sigma z) with sigma^2 = ln(1 + CV^2),
/// mu = -sigma^2/2 (mean one), CV constant or from the size rule.
class FactorOf {
 public:
  FactorOf(const CvSpec& spec, double min_abs, double max_abs) : spec_(spec) {
    if (spec.size_rule && max_abs > min_abs && min_abs > 0) {
      log_lo_ = std::log(min_abs);
      inv_span_ = 1.0 / (std::log(max_abs) - log_lo_);
    }
    set_cv(spec.size_rule ? spec.cv_small : spec.cv, mu0_, sigma0_);
  }
  double operator()(double value, double z) const {
    if (!spec_.size_rule || inv_span_ == 0) return sigma0_ > 0 ? std::exp(mu0_ + sigma0_ * z) : 1.0;
    // Size rule: t = (ln|v| - ln min) / (ln max - ln min), CV = cv_small + t (cv_large - cv_small).
    const double t = std::clamp((std::log(std::abs(value)) - log_lo_) * inv_span_, 0.0, 1.0);
    double mu = 0, sigma = 0;
    set_cv(spec_.cv_small + t * (spec_.cv_large - spec_.cv_small), mu, sigma);
    return sigma > 0 ? std::exp(mu + sigma * z) : 1.0;
  }

 private:
  static void set_cv(double cv, double& mu, double& sigma) {
    const double s2 = cv > 0 ? std::log1p(cv * cv) : 0.0;
    sigma = std::sqrt(s2);
    mu = -0.5 * s2;
  }
  CvSpec spec_;
  double log_lo_ = 0, inv_span_ = 0, mu0_ = 0, sigma0_ = 0;
};

/// Smallest and largest nonzero |entry| of a value array.
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

/// Multiply every nonzero of a dense rows x cols matrix (column-major) by its
/// log-normal factor; columns in parallel (disjoint outputs).
void perturb_dense(Matrix& M, const CvSpec& spec, std::uint64_t key, int threads) {
  if (!spec.active() || M.size() == 0) return;
  const auto [lo, hi] = magnitude_range(M.data(), M.size());
  const FactorOf factor(spec, lo, hi);
  parallel_for(0, M.cols(), threads, [&](std::int64_t j) {
    for (Index i = 0; i < M.rows(); ++i) {
      double& v = M(i, j);
      if (v != 0) v *= factor(v, entry_normal(key, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(j)));
    }
  }, 64);
}

void perturb_sparse(SparseMatrix& M, const CvSpec& spec, std::uint64_t key, int threads) {
  if (!spec.active() || M.nonZeros() == 0) return;
  const auto [lo, hi] = magnitude_range(M.valuePtr(), M.nonZeros());
  const FactorOf factor(spec, lo, hi);
  const Index* outer = M.outerIndexPtr();
  const Index* inner = M.innerIndexPtr();
  double* values = M.valuePtr();
  parallel_for(0, M.cols(), threads, [&](std::int64_t j) {
    for (Index q = outer[j]; q < outer[j + 1]; ++q)
      if (values[q] != 0)
        values[q] *= factor(values[q], entry_normal(key, static_cast<std::uint64_t>(inner[q]),
                                                   static_cast<std::uint64_t>(j)));
  }, 64);
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
  // Acklam's rational approximations: a central one and one for each tail.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double p_low = 0.02425;
  if (p < p_low || p > 1 - p_low) {
    const double q = std::sqrt(-2 * std::log(p < p_low ? p : 1 - p));
    const double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                     ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < p_low ? x : -x;
  }
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double draw_normal(std::uint64_t seed, std::uint64_t draw, std::uint32_t matrix_id, std::uint64_t row,
                   std::uint64_t col) {
  MRIOTRACE_CHECK(row < (1ULL << 32) && col < (1ULL << 32), "draw_normal: row ", row, " or column ", col,
                  " >= 2^32");
  return entry_normal(stream_key(seed, draw, matrix_id), row, col);
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
    perturb_sparse(out.A, o.A, stream_key(o.seed, draw, kMatrixA), threads);
    // Perturbing F at the base x is perturbing S by the same factors.
    out.S = system.S();
    perturb_dense(out.S, o.F, stream_key(o.seed, draw, kMatrixF), threads);
    return out;
  }
  // Z mode: Z' = Z o eps, F' = F o eps, x' = Z'1 + Y'1, A' = Z' diag(x')^-1, S' = F' diag(x')^-1.
  SparseMatrix Z = system.Z();
  perturb_sparse(Z, o.A, stream_key(o.seed, draw, kMatrixA), threads);
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
  SolverOptions so = base.options();
  so.kind = SolverKind::Auto;
  LeontiefSolver direct(Ap, so);  // throws NumericError if I - A' is singular
  d.refactored = true;
  Matrix Xd = transposed ? direct.solve_transposed(B) : direct.solve(B);
  d.relative_residual = direct.diagnostics().max_relative_residual;
  return Xd;
}

namespace {

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
  const auto [S, FYr] = selected_rows(system.S(), Matrix(), b.stressors, system.R(), system.c());
  if (b.with_Q) {
    b.X = solver.solve(system.Y_by_region());
  } else {
    b.Mt = solver.solve_transposed(S.transpose());
    if (b.production) b.x = solver.solve(system.Y().rowwise().sum());
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
  const Index k = S.rows();
  const Matrix Yr = demand_by_region(p.Y, R, c);
  WarmSolveInfo total, one;
  Accounts acc;
  acc.stressors = base.stressors;
  acc.regional = true;
  if (base.with_Q) {
    // X'_r = (I - A')^-1 y'_r;  Q[:, p R + r] = S'^(p) X'^(p)_r.
    const Matrix X = warm_solve(solver, p.A, Yr, base.X, false, options, &one, threads);
    merge_info(total, one);
    acc.x = X.rowwise().sum();
    regional_accounts(S, X, Matrix(), R, 1, acc);  // F_Y is added below, for both branches
  } else {
    // M'^T = (I - A')^-T S'^T;  x' = (I - A')^-1 Y' 1.
    const Matrix Mt = warm_solve(solver, p.A, S.transpose(), base.Mt, true, options, &one, threads);
    merge_info(total, one);
    acc.D_cba_reg.noalias() = Mt.transpose() * Yr;
    if (base.production) {
      const Matrix x = warm_solve(solver, p.A, p.Y.rowwise().sum(), base.x, false, options, &one, threads);
      merge_info(total, one);
      acc.x = x.col(0);
      acc.D_pba_reg.resize(k, R);
      for (Index q = 0; q < R; ++q) acc.D_pba_reg.col(q).noalias() = S.middleCols(q * N, N) * acc.x.segment(q * N, N);
    }
  }
  if (FYr.size() > 0) {  // pymrio adds final-demand emissions to cba and pba only
    acc.D_cba_reg += FYr;
    if (acc.D_pba_reg.size() > 0) acc.D_pba_reg += FYr;
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
