// Accounts without n x n work: R solves for the regional accounts and Q;
// for the sector-level ones k + R*k transposed solves, or k transposed and n
// forward solves when that is fewer (SectorPath, see accounts.hpp).
#include "mriotrace/accounts.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"

namespace mriotrace {
namespace {

/// out[:, (r,j)] = sum_o W[:, (o,j)] * Yr[(o,j), r] for one region r: the
/// footprint of region r's demand for product j, with W a k x n multiplier
/// matrix (pymrio: W L diagonalize_columns_to_sectors(Y), never formed).
void product_footprint(const Matrix& W, const Eigen::Ref<const Matrix>& Yr, Index r, Index R, Index N,
                       Eigen::Ref<Matrix> out) {
  out.setZero();
  for (Index o = 0; o < R; ++o)
    out.noalias() += W.middleCols(o * N, N) * Yr.col(r).segment(o * N, N).asDiagonal();
}

/// Right-hand-side blocks stay within this many doubles (256 MB), however large R, k and n grow.
constexpr Index kBatchDoubles = 32'000'000;

/// M, D_cba and D_imp from k + R*k transposed solves (SectorPath::Multipliers).
/// M's k columns ride in the first block.
void sector_by_multipliers(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                           const Eigen::Ref<const Matrix>& Yr, Index R, int threads, Accounts& acc) {
  const Index n = S.cols(), k = S.rows(), N = n / R;
  // D_imp[:, (r,j)] uses M^(-r) = S^(-r) L, S^(-r) = S with region r's columns
  // zeroed (emissions abroad). Computed directly rather than as D_cba minus
  // the domestic part, which would cancel digits when imports are small.
  // With one region nothing is abroad: D_imp = 0 and no solves.
  const Index regions = R > 1 ? R : 0;
  const Index per_batch = std::clamp<Index>(kBatchDoubles / std::max<Index>(n * std::max<Index>(k, 1), 1), 1,
                                            std::max<Index>(regions, 1));
  if (regions == 0) acc.D_imp.setZero();
  for (Index r0 = 0; r0 < std::max<Index>(regions, 1); r0 += per_batch) {
    const Index nb = regions == 0 ? 0 : std::min(per_batch, regions - r0);
    const Index lead = r0 == 0 ? k : 0;  // S^T for M in the first block
    Matrix rhs(n, lead + nb * k);
    if (lead) rhs.leftCols(k) = S.transpose();
    for (Index b = 0; b < nb; ++b) {
      rhs.middleCols(lead + b * k, k) = S.transpose();
      rhs.block((r0 + b) * N, lead + b * k, N, k).setZero();
    }
    const Matrix Mt = solver.solve_transposed(rhs);  // n x (lead + nb*k)
    if (lead) acc.M = Mt.leftCols(k).transpose();
    parallel_for(0, nb, threads, [&](std::int64_t b) {
      const Matrix M_abroad = Mt.middleCols(lead + b * k, k).transpose();
      product_footprint(M_abroad, Yr, r0 + b, R, N, acc.D_imp.middleCols((r0 + b) * N, N));
    });
  }
  parallel_for(0, R, threads, [&](std::int64_t r) {
    product_footprint(acc.M, Yr, r, R, N, acc.D_cba.middleCols(r * N, N));
  });
}

/// D_cba and D_imp from n forward solves, region by region (SectorPath::Demand);
/// returns X = (I - A)^-1 Yr (n x R), solved with the first block.
Matrix sector_by_demand(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                        const Eigen::Ref<const Matrix>& Yr, Index R, int threads, Accounts& acc) {
  const Index n = S.cols(), N = n / R;
  const Index per_batch = std::clamp<Index>(kBatchDoubles / std::max<Index>(n * N, 1), 1, R);
  Matrix X;
  for (Index r0 = 0; r0 < R; r0 += per_batch) {
    const Index nb = std::min(per_batch, R - r0);
    const Index lead = r0 == 0 ? R : 0;  // Yr for X in the first block
    // Column (r, j): y_(r,j)[(o,j)] = Yr[(o,j), r] for every origin o, 0 elsewhere.
    Matrix rhs = Matrix::Zero(n, lead + nb * N);
    if (lead) rhs.leftCols(R) = Yr;
    for (Index b = 0; b < nb; ++b)
      for (Index o = 0; o < R; ++o)
        for (Index j = 0; j < N; ++j) rhs(o * N + j, lead + b * N + j) = Yr(o * N + j, r0 + b);
    const Matrix Xd = solver.solve(rhs);  // n x (lead + nb*N): pymrio's x_diag, region by region
    if (lead) X = Xd.leftCols(R);
    parallel_for(0, nb, threads, [&](std::int64_t b) {
      // Serial BLAS, also when the loop runs on the calling thread: the same
      // bits for any thread count (regions run in parallel instead).
      const SerialBlas serial;
      const Index r = r0 + b;
      const auto xr = Xd.middleCols(lead + b * N, N);
      acc.D_cba.middleCols(r * N, N).noalias() = S * xr;
      Matrix x_trade = xr;  // output abroad: the consuming region's own rows zeroed
      x_trade.middleRows(r * N, N).setZero();
      acc.D_imp.middleCols(r * N, N).noalias() = S * x_trade;
    });
  }
  return X;
}

}  // namespace

SectorPath choose_sector_path(Index n, Index R, Index k) {
  // Every solve costs the same (2 n^2 flops with a dense LU, a few sweeps
  // over A iteratively), so count them: Multipliers R*k, Demand n plus its
  // products S x_diag (4 k n^2 flops) and the demand columns (R n^2), i.e.
  // about 2k + R/2 solves' worth.
  const double multipliers = static_cast<double>(R) * static_cast<double>(k);
  const double demand = static_cast<double>(n) + 2.0 * static_cast<double>(k) + 0.5 * static_cast<double>(R);
  return R > 1 && demand < multipliers ? SectorPath::Demand : SectorPath::Multipliers;
}

void regional_accounts(const Eigen::Ref<const Matrix>& S, const Eigen::Ref<const Matrix>& X,
                       const Eigen::Ref<const Matrix>& F_Y_r, Index R, int threads, Accounts& acc) {
  const Index n = X.rows(), k = S.rows();
  MRIOTRACE_CHECK(R >= 1 && n % R == 0 && X.cols() == R && S.cols() == n, "regional accounts need S (k x n) and X (n x R); got S ",
                  S.rows(), " x ", S.cols(), ", X ", X.rows(), " x ", X.cols(), ", R = ", R);
  MRIOTRACE_CHECK(F_Y_r.size() == 0 || (F_Y_r.rows() == k && F_Y_r.cols() == R), "F_Y per region has shape ",
                  F_Y_r.rows(), " x ", F_Y_r.cols(), "; expected k x R = ", k, " x ", R);
  const Index N = n / R;
  // Q[:, p*R + r] = S^(p) X_r^(p): emitted in p for final demand of r.
  acc.Q.resize(k, R * R);
  parallel_for(0, R, threads, [&](std::int64_t p) {
    acc.Q.middleCols(p * R, R).noalias() = S.middleCols(p * N, N) * X.middleRows(p * N, N);
  });
  acc.D_cba_reg = Matrix::Zero(k, R);
  acc.D_pba_reg = Matrix::Zero(k, R);
  acc.D_imp_reg = Matrix::Zero(k, R);
  acc.D_exp_reg = Matrix::Zero(k, R);
  for (Index p = 0; p < R; ++p)
    for (Index r = 0; r < R; ++r) {
      const auto q = acc.Q.col(p * R + r);
      acc.D_cba_reg.col(r) += q;
      acc.D_pba_reg.col(p) += q;
      if (p != r) {
        acc.D_imp_reg.col(r) += q;
        acc.D_exp_reg.col(p) += q;
      }
    }
  if (F_Y_r.size() > 0) {  // pymrio adds final-demand emissions to cba and pba, not to imp/exp
    acc.D_cba_reg += F_Y_r;
    acc.D_pba_reg += F_Y_r;
  }
  acc.regional = true;
}

Matrix calc_M(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S) {
  MRIOTRACE_CHECK(S.cols() == solver.n(), "S has ", S.cols(), " columns; expected n = ", solver.n());
  // (I - A)^T M^T = S^T: k transposed solves, no L.
  return solver.solve_transposed(S.transpose()).transpose();
}

Accounts calc_accounts(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                       const Eigen::Ref<const Matrix>& Yr, const Eigen::Ref<const Matrix>& F_Y_r, Index R,
                       const AccountsOptions& options) {
  const Index n = solver.n(), k = S.rows();
  MRIOTRACE_CHECK(R >= 1 && n % R == 0, "n = ", n, " is not a multiple of the number of regions R = ", R);
  const Index N = n / R;
  MRIOTRACE_CHECK(S.cols() == n, "S has shape ", k, " x ", S.cols(), "; expected k x n with n = ", n);
  MRIOTRACE_CHECK(Yr.rows() == n && Yr.cols() == R, "final demand per region has shape ", Yr.rows(), " x ",
                  Yr.cols(), "; expected n x R = ", n, " x ", R);
  const bool hasFY = F_Y_r.size() > 0;
  if (hasFY)
    MRIOTRACE_CHECK(F_Y_r.rows() == k && F_Y_r.cols() == R, "F_Y per region has shape ", F_Y_r.rows(), " x ",
                    F_Y_r.cols(), "; expected k x R = ", k, " x ", R);
  check_finite(S, "S");
  check_finite(Yr, "Y");
  const int threads = solver.options().threads;

  Accounts acc;
  Matrix X;  // n x R, X_r = (I - A)^-1 y_r: output induced by each region's final demand
  if (options.sector_level) {
    // The sector-level solves come first, in wide blocks that include X (or
    // M): an auto solver then sees the whole count at once and, when a dense
    // LU is cheaper, factors once and serves every later solve from it.
    acc.sector_path = options.sector_path == SectorPath::Auto ? choose_sector_path(n, R, k) : options.sector_path;
    acc.D_cba.resize(k, n);
    acc.D_imp.resize(k, n);
    if (acc.sector_path == SectorPath::Multipliers)
      sector_by_multipliers(solver, S, Yr, R, threads, acc);
    else
      X = sector_by_demand(solver, S, Yr, R, threads, acc);
  }
  if (X.size() == 0) X = solver.solve(Yr);
  acc.x = X.rowwise().sum();

  if (options.regional) regional_accounts(S, X, F_Y_r, R, threads, acc);

  if (options.sector_level) {
    if (acc.M.size() == 0) acc.M = calc_M(solver, S);
    // D_pba = S o x (pymrio: calc_F(S, x_tot), x recomputed from L and y).
    acc.D_pba = S * acc.x.asDiagonal();
    // D_exp = S o x_exp, x_exp[(p,i)] = sum_{r != p} X[(p,i), r].
    Vector x_exp(n);
    for (Index p = 0; p < R; ++p)
      x_exp.segment(p * N, N) = X.middleRows(p * N, N).rowwise().sum() - X.block(p * N, p, N, 1);
    acc.D_exp = S * x_exp.asDiagonal();
    acc.sector_level = true;
  }
  return acc;
}

namespace {

std::vector<Index> selected_stressors(const MrioSystem& system, const AccountsOptions& options) {
  std::vector<Index> rows = options.stressors;
  if (rows.empty())
    for (Index i = 0; i < system.k(); ++i) rows.push_back(i);
  for (Index i : rows)
    MRIOTRACE_CHECK(i >= 0 && i < system.k(), "stressor index ", i, " is out of range; the system has ",
                    system.k(), " stressors");
  return rows;
}

/// The first rows.size() rows of S (k' x n) and FYr (k' x R, or empty): the
/// selected stressors' intensities and final-demand stressors per region.
void stressor_rows_into(const MrioSystem& system, const std::vector<Index>& rows, Matrix& S, Matrix& FYr) {
  const Index R = system.R(), c = system.c();
  for (size_t i = 0; i < rows.size(); ++i) {
    S.row(static_cast<Index>(i)) = system.S().row(rows[i]);
    if (FYr.size() > 0)
      for (Index r = 0; r < R; ++r) FYr(static_cast<Index>(i), r) = system.F_Y().row(rows[i]).segment(r * c, c).sum();
  }
}

void require_demand(const MrioSystem& system) {
  MRIOTRACE_CHECK(system.Y().cols() > 0, "the system has no final demand Y; demand-based accounts need Y");
}

/// An account that overflowed (inf) or is NaN is no answer: refuse it,
/// naming the array and the entry by its labels (rows: the stressors in
/// `rows`; columns: regions, (region, sector), or Q's (region, region)).
void check_accounts_finite(const Accounts& a, const MrioSystem& system, const std::vector<Index>& rows) {
  const Labels& l = system.labels();
  const Index R = system.R(), N = system.N();
  auto row_name = [&](Index i) {
    return i < static_cast<Index>(rows.size()) && static_cast<size_t>(rows[static_cast<size_t>(i)]) < l.stressors.size()
               ? "\"" + l.stressors[static_cast<size_t>(rows[static_cast<size_t>(i)])] + "\""
               : std::string("\"value added\"");
  };
  auto check = [&](const Matrix& M, const char* name, int kind) {  // kind 0: regions, 1: sectors, 2: Q
    for (Index j = 0; j < M.cols(); ++j)
      for (Index i = 0; i < M.rows(); ++i)
        if (!std::isfinite(M(i, j))) {
          std::string col;
          if (kind == 0) col = "\"" + l.regions[static_cast<size_t>(j)] + "\"";
          else if (kind == 1) col = "\"" + l.regions[static_cast<size_t>(j / N)] + "\" / \"" + l.sectors[static_cast<size_t>(j % N)] + "\"";
          else col = "emitted in \"" + l.regions[static_cast<size_t>(j / R)] + "\" for \"" + l.regions[static_cast<size_t>(j % R)] + "\"";
          throw NumericError(detail::concat(name, "[", row_name(i), ", ", col, "] is ", M(i, j),
                                            ": the accounts overflow double precision; check the units and magnitudes "
                                            "of the stressors (S, F) and of final demand (Y)"));
        }
  };
  check(a.D_cba_reg, "D_cba_reg", 0);
  check(a.D_pba_reg, "D_pba_reg", 0);
  check(a.D_imp_reg, "D_imp_reg", 0);
  check(a.D_exp_reg, "D_exp_reg", 0);
  check(a.Q, "Q", 2);
  check(a.M, "M", 1);
  check(a.D_cba, "D_cba", 1);
  check(a.D_pba, "D_pba", 1);
  check(a.D_imp, "D_imp", 1);
  check(a.D_exp, "D_exp", 1);
}

}  // namespace

Accounts calc_accounts(const MrioSystem& system, const LeontiefSolver& solver, const AccountsOptions& options) {
  MRIOTRACE_CHECK(solver.n() == system.n(), "solver is for n = ", solver.n(), " but the system has n = ",
                  system.n());
  require_demand(system);
  const auto rows = selected_stressors(system, options);
  const Index k = static_cast<Index>(rows.size()), R = system.R();
  Matrix S(k, system.n());
  Matrix FYr;
  if (system.has_F_Y()) FYr = Matrix::Zero(k, R);
  stressor_rows_into(system, rows, S, FYr);
  Accounts acc = calc_accounts(solver, S, system.Y_by_region(), FYr, R, options);
  acc.stressors = rows;
  check_accounts_finite(acc, system, rows);
  return acc;
}

namespace {

/// Value-added intensity v / x (0 where x = 0): a 1 x n extension.
Matrix value_added_intensity(const MrioSystem& system) {
  Matrix S(1, system.n());
  for (Index j = 0; j < system.n(); ++j) S(0, j) = system.x()[j] == 0 ? 0.0 : system.v()[j] / system.x()[j];
  return S;
}

/// Rows [first, first + count) of every k-row member (x is shared).
Accounts take_rows(const Accounts& a, Index first, Index count) {
  Accounts out;
  out.x = a.x;
  out.sector_level = a.sector_level;
  out.regional = a.regional;
  out.sector_path = a.sector_path;
  const auto rows = [&](const Matrix& M) { return M.size() ? Matrix(M.middleRows(first, count)) : Matrix(); };
  out.M = rows(a.M);
  out.D_cba = rows(a.D_cba);
  out.D_pba = rows(a.D_pba);
  out.D_imp = rows(a.D_imp);
  out.D_exp = rows(a.D_exp);
  out.D_cba_reg = rows(a.D_cba_reg);
  out.D_pba_reg = rows(a.D_pba_reg);
  out.D_imp_reg = rows(a.D_imp_reg);
  out.D_exp_reg = rows(a.D_exp_reg);
  out.Q = rows(a.Q);
  return out;
}

}  // namespace

Accounts calc_value_added_accounts(const MrioSystem& system, const LeontiefSolver& solver,
                                   const AccountsOptions& options) {
  MRIOTRACE_CHECK(system.has_value_added(), "the system has no value added v; value-added accounts need v");
  require_demand(system);
  const Matrix S = value_added_intensity(system);
  AccountsOptions opts = options;
  opts.stressors.clear();
  return calc_accounts(solver, S, system.Y_by_region(), Matrix(), system.R(), opts);
}

std::pair<Accounts, Accounts> calc_accounts_with_value_added(const MrioSystem& system, const LeontiefSolver& solver,
                                                             const AccountsOptions& options) {
  MRIOTRACE_CHECK(solver.n() == system.n(), "solver is for n = ", solver.n(), " but the system has n = ",
                  system.n());
  MRIOTRACE_CHECK(system.has_value_added(), "the system has no value added v; value-added accounts need v");
  require_demand(system);
  const auto rows = selected_stressors(system, options);
  const Index k = static_cast<Index>(rows.size()), R = system.R();
  // [S of the selected stressors; v / x], and F_Y per region with a zero row for value added.
  Matrix S(k + 1, system.n());
  Matrix FYr;
  if (system.has_F_Y()) FYr = Matrix::Zero(k + 1, R);
  stressor_rows_into(system, rows, S, FYr);
  S.row(k) = value_added_intensity(system);
  const Accounts both = calc_accounts(solver, S, system.Y_by_region(), FYr, R, options);
  check_accounts_finite(both, system, rows);
  Accounts stressors = take_rows(both, 0, k), va = take_rows(both, k, 1);
  stressors.stressors = rows;
  return {std::move(stressors), std::move(va)};
}

DemandFootprint calc_demand_footprint(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                                      const Eigen::Ref<const Matrix>& M, const Eigen::Ref<const Vector>& y) {
  const Index n = solver.n();
  MRIOTRACE_CHECK(y.size() == n, "demand vector has ", y.size(), " entries; expected n = ", n);
  MRIOTRACE_CHECK(S.cols() == n && M.cols() == n && S.rows() == M.rows(), "S (", S.rows(), " x ", S.cols(),
                  ") and M (", M.rows(), " x ", M.cols(), ") must both be k x n with n = ", n);
  check_finite(y, "demand vector");
  DemandFootprint out;
  out.x = solver.solve(y);
  out.final_ = M * y.asDiagonal();
  out.direct = S * out.x.asDiagonal();
  return out;
}

}  // namespace mriotrace
