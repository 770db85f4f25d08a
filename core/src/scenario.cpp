// Scenario engine: solve edited systems against a base and report the changes.
//
// Low-rank path (Sherman-Morrison-Woodbury). dA is written as a sum of p
// outer products u_q v_q^T (a greedy cover of its nonzeros by rows and
// columns; rows whose edits are proportional, as in a relocation's
// "-theta a_ri" and "+theta a_ri", share one u = e_si - e_ri). Then
//   X' = Z + W (I_p - V^T W)^-1 V^T Z,   W = L U (p solves),  Z = X0 + L dYr,
// where L dYr reuses a column of W when dYr's rows are proportional to a u_q
// (a relocation moves final demand along the same direction). The plain
// formula this implements is X' = (I - A - dA)^-1 (Yr + dYr).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <map>
#include <optional>
#include <queue>
#include <unordered_map>

#include "mriotrace/accounts.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "mriotrace/scenario.hpp"
#include "lmdi.hpp"
#include "scenario_edit.hpp"

namespace mriotrace {
namespace {

using scenario_detail::Edits;
using SparseVec = std::vector<std::pair<Index, double>>;  // (index, value), sorted by index

/// One rank-one term u v^T of dA (or u d^T of dYr).
struct Line {
  SparseVec u, v;
};

/// Are b = c a for one c (same support, ratio equal to 1e-13 relative)? Returns c or NaN.
double proportional(const SparseVec& a, const SparseVec& b) {
  if (a.size() != b.size() || a.empty()) return NAN;
  const double c = b[0].second / a[0].second;
  for (size_t t = 0; t < a.size(); ++t) {
    if (a[t].first != b[t].first) return NAN;
    if (std::abs(b[t].second - c * a[t].second) > 1e-13 * std::abs(b[t].second)) return NAN;
  }
  return c;
}

/// Greedy cover of the nonzeros (row, col, delta) by rows and columns, then
/// rows with proportional entries merged: dA = sum_q u_q v_q^T.
std::vector<Line> low_rank_terms(const std::vector<Eigen::Triplet<double, Index>>& dA, Index n) {
  const size_t m = dA.size();
  std::vector<std::vector<size_t>> of_line(static_cast<size_t>(2 * n));  // line id: row i -> i, column j -> n + j
  std::vector<Index> count(static_cast<size_t>(2 * n), 0);
  for (size_t e = 0; e < m; ++e) {
    of_line[static_cast<size_t>(dA[e].row())].push_back(e);
    of_line[static_cast<size_t>(n + dA[e].col())].push_back(e);
  }
  std::priority_queue<std::pair<Index, Index>> heap;  // (count, -line): most entries first, ties by lowest id
  for (Index id = 0; id < 2 * n; ++id) {
    count[static_cast<size_t>(id)] = static_cast<Index>(of_line[static_cast<size_t>(id)].size());
    if (count[static_cast<size_t>(id)] > 0) heap.push({count[static_cast<size_t>(id)], -id});
  }
  std::vector<char> alive(m, 1);
  std::vector<Line> rows, cols;
  while (!heap.empty()) {
    auto [c, neg] = heap.top();
    heap.pop();
    const Index id = -neg;
    if (c != count[static_cast<size_t>(id)]) {
      if (count[static_cast<size_t>(id)] > 0) heap.push({count[static_cast<size_t>(id)], neg});
      continue;
    }
    Line line;
    SparseVec entries;
    for (size_t e : of_line[static_cast<size_t>(id)]) {
      if (!alive[e]) continue;
      alive[e] = 0;
      const bool is_row = id < n;
      const Index other = is_row ? n + dA[e].col() : dA[e].row();
      --count[static_cast<size_t>(other)];
      entries.emplace_back(is_row ? dA[e].col() : dA[e].row(), dA[e].value());
    }
    count[static_cast<size_t>(id)] = 0;
    std::sort(entries.begin(), entries.end());
    if (id < n) {
      line.u = {{id, 1.0}};
      line.v = std::move(entries);
      rows.push_back(std::move(line));
    } else {
      line.u = std::move(entries);
      line.v = {{id - n, 1.0}};
      cols.push_back(std::move(line));
    }
  }
  // Merge rows with proportional entries: e_i a^T + e_j (c a)^T = (e_i + c e_j) a^T.
  std::vector<Line> out;
  for (auto& line : rows) {
    bool merged = false;
    for (auto& kept : out) {
      const double c = proportional(kept.v, line.v);
      if (std::isnan(c)) continue;
      kept.u.emplace_back(line.u[0].first, c);
      std::sort(kept.u.begin(), kept.u.end());
      merged = true;
      break;
    }
    if (!merged) out.push_back(std::move(line));
  }
  for (auto& line : cols) out.push_back(std::move(line));
  return out;
}

/// k x R per-region sum over categories of F_Y (empty when the system has none).
Matrix fy_by_region(const MrioSystem& s) {
  if (!s.has_F_Y()) return Matrix::Zero(s.k(), s.R());
  Matrix out(s.k(), s.R());
  for (Index r = 0; r < s.R(); ++r) out.col(r) = s.F_Y().middleCols(r * s.c(), s.c()).rowwise().sum();
  return out;
}

/// Regional accounts from induced outputs X (n x R), the same definitions as
/// calc_accounts (accounts.hpp): Q[:, p*R + r] = S^(p) X_r^(p);
/// pba[:, p] = sum_r Q[:, p, r] + F_Y_p; cba[:, r] = sum_p Q[:, p, r] + F_Y_r.
void regional(const Matrix& S, const Matrix& X, const Matrix& FYr, Index R, Matrix& Q, Matrix& pba, Matrix& cba) {
  Accounts acc;
  regional_accounts(S, X, FYr, R, 1, acc);
  Q = std::move(acc.Q);
  pba = std::move(acc.D_pba_reg);
  cba = std::move(acc.D_cba_reg);
}

/// Positions (r, i) of the industrial sectors of region r (or of all regions when r == R).
std::vector<Index> industrial_positions(const std::vector<Index>& industry, Index r, Index R, Index N) {
  std::vector<Index> out;
  for (Index t = (r == R ? 0 : r); t < (r == R ? R : r + 1); ++t)
    for (Index i : industry) out.push_back(t * N + i);
  return out;
}

/// Intensity per industrial value added, k x (R+1): sum E / sum VA over the industrial sectors.
Matrix intensities(const Matrix& S, const Vector& x, const Vector& va, const std::vector<Index>& industry, Index R) {
  const Index k = S.rows(), N = x.size() / R;
  Matrix I(k, R + 1);
  for (Index r = 0; r <= R; ++r) {
    double V = 0;
    Vector E = Vector::Zero(k);
    for (Index c : industrial_positions(industry, r, R, N)) {
      V += va[c];
      E += S.col(c) * x[c];
    }
    I.col(r) = V > 0 ? Vector(E / V) : Vector::Constant(k, NAN);
  }
  return I;
}

/// LMDI-I (additive) split of dI, I = sum_i E_i / V = sum_i s_i e_i with s_i = V_i / V
/// (structure) and e_i = E_i / V_i (intensity), by the one LMDI implementation
/// (lmdi.hpp, shared with sda::lmdi; its zero / equal-value policy applies):
///   structure = sum_i Λ(I_i1, I_i0) ln(s_i1 / s_i0),  intensity = sum_i Λ(I_i1, I_i0) ln(e_i1 / e_i0).
/// A sector absent on one side (output <= 1e-9 of the other side's: a sector
/// split off in the scenario, padded with 0 in the base; the chemical sector a
/// split with split_share = 1 empties; a relocation with share 1) has s_i = 0
/// there, so its whole I_i change goes to the structure effect; a sector whose
/// stressor becomes 0 gives its whole change to the intensity effect. The two
/// effects sum to dI. NaN where undefined: no industrial value added, a
/// negative stressor or value added.
void lmdi(const Matrix& S0, const Vector& x0, const Vector& va0, const Matrix& S1, const Vector& x1,
          const Vector& va1, const std::vector<Index>& industry, Index R, Matrix& str, Matrix& inten) {
  const Index k = S0.rows(), N = x0.size() / R;
  str.resize(k, R + 1);
  inten.resize(k, R + 1);
  for (Index r = 0; r <= R; ++r) {
    const auto pos = industrial_positions(industry, r, R, N);
    const Index m = static_cast<Index>(pos.size());
    double V0 = 0, V1 = 0;
    for (Index c : pos) {
      V0 += va0[c];
      V1 += va1[c];
    }
    Matrix F[2] = {Matrix(2, m), Matrix(2, m)};  // rows: s_i, e_i
    for (Index s = 0; s < k; ++s) {
      bool ok = V0 > 0 && V1 > 0;
      for (Index q = 0; q < m && ok; ++q) {
        const Index c = pos[static_cast<size_t>(q)];
        const double E[2] = {S0(s, c) * x0[c], S1(s, c) * x1[c]}, va[2] = {va0[c], va1[c]}, V[2] = {V0, V1};
        if (E[0] == 0 && E[1] == 0) {  // nothing to attribute (also where v is not positive)
          F[0].col(q).setZero();
          F[1].col(q).setZero();
          continue;
        }
        const bool absent[2] = {x0[c] <= lmdi_detail::kAbsent * std::abs(x1[c]),
                                x1[c] <= lmdi_detail::kAbsent * std::abs(x0[c])};
        for (int t = 0; t < 2; ++t) {
          if (absent[t]) continue;
          if (E[t] < 0 || !(va[t] > 0)) ok = false;  // LMDI-I is undefined
          F[t](0, q) = va[t] / V[t];
          F[t](1, q) = E[t] / va[t];
        }
        for (int t = 0; t < 2 && ok; ++t)
          if (absent[t]) {
            // Entering or leaving the mix: s_i = 0 and the intensity of the
            // other side (its own would be 0 / 0), so only structure moves.
            F[t](0, q) = 0;
            F[t](1, q) = absent[1 - t] ? 0.0 : F[1 - t](1, q);
          }
      }
      Vector e;
      if (ok && lmdi_detail::effects(2, m, [&](int t, Index f, Index q) { return F[t](f, q); }, e).kind !=
                    lmdi_detail::Problem::Ok)
        ok = false;
      str(s, r) = ok ? e[0] : NAN;
      inten(s, r) = ok ? e[1] : NAN;
    }
  }
}

/// One target on its basis, with the baseline path (scenario.hpp, Target):
/// base and scenario sums of E and VA over the basis' cells, and the same
/// grown along the baseline to the target year.
TargetCheck check_target(const Target& tg, Index s, Index r, const MrioSystem& base, const Edits& edits,
                         const Matrix& S0, const Vector& x0, const Vector& va0, const Matrix& S1,
                         const ScenarioResult& res, const std::vector<Index>& industry) {
  const Labels& l = base.labels();
  const Index R = base.R(), N = base.N(), N1 = static_cast<Index>(res.sectors.size());
  TargetCheck tc;
  tc.target = tg;
  tc.stressor = s;
  std::vector<Index> set;
  if (tg.basis.empty() || tg.basis == "industrial value added") {
    set = industry;
    tc.basis = "industrial value added";
  } else if (tg.basis == "GDP") {
    for (Index i = 0; i < N1; ++i) set.push_back(i);
    tc.basis = "GDP";
  } else {
    set = scenario_detail::sector_indices(l, {tg.basis}, "basis");
    tc.basis = tg.basis;
  }
  // Annual rate of cell c: its sector's, else its region's, else "*", else 0.
  // A sector split off grows like the sector it comes from.
  auto rate = [&](const std::map<std::string, double>& rates, Index c) {
    if (rates.empty()) return 0.0;
    Index i = c % N1;
    if (i >= N) i = edits.split[static_cast<size_t>(i - N)].chemical;
    for (const std::string* key : {&l.sectors[static_cast<size_t>(i)], &l.regions[static_cast<size_t>(c / N1)]})
      if (auto it = rates.find(*key); it != rates.end()) return it->second;
    auto it = rates.find("*");
    return it == rates.end() ? 0.0 : it->second;
  };
  const double T = tg.target_year - tg.base_year;
  double E0 = 0, V0 = 0, E1 = 0, V1 = 0, E0T = 0, V0T = 0, E1T = 0, V1T = 0;
  for (Index c : industrial_positions(set, r, R, N1)) {
    const double g = std::pow(1 + rate(tg.va_growth, c), T), h = std::pow(1 + rate(tg.intensity_trend, c), T);
    const double e0 = S0(s, c) * x0[c], e1 = S1(s, c) * res.x[c];
    E0 += e0, V0 += va0[c], E1 += e1, V1 += res.va[c];
    E0T += e0 * h * g, V0T += va0[c] * g, E1T += e1 * h * g, V1T += res.va[c] * g;
  }
  tc.base = V0 > 0 ? E0 / V0 : NAN;
  tc.scenario = V1 > 0 ? E1 / V1 : NAN;
  tc.change = tc.scenario / tc.base - 1;
  if (tc.basis == "industrial value added") {
    tc.lmdi_structure = res.lmdi_structure(s, r);
    tc.lmdi_intensity = res.lmdi_intensity(s, r);
  } else {
    Matrix st, in;
    lmdi(S0, x0, va0, S1, res.x, res.va, set, R, st, in);
    tc.lmdi_structure = st(s, r);
    tc.lmdi_intensity = in(s, r);
  }
  if (!std::isnan(tg.baseline_change)) {
    // Given directly: the scenario's relative change acts on the baseline's
    // intensity; the target year's VA is not known, so the gap is per base-year VA.
    tc.baseline = tg.baseline_change;
    tc.total = (1 + tc.baseline) * (1 + tc.change) - 1;
    tc.gap = (tc.total - tg.change) * tc.base * V1;
  } else {
    tc.baseline = (E0T / V0T) / tc.base - 1;
    tc.total = (E1T / V1T) / tc.base - 1;
    tc.gap = E1T - (1 + tg.change) * tc.base * V1T;  // emissions above what the target allows
  }
  tc.contribution = tc.total - tc.baseline;
  tc.share = tg.change != 0 ? tc.contribution / tg.change : NAN;
  tc.total_share = tg.change != 0 ? tc.total / tg.change : NAN;
  tc.met = tc.total <= tg.change;
  return tc;
}

/// Value-added coefficients v / x (0 where x = 0); empty without value added.
Vector va_coefficients(const MrioSystem& s) {
  if (!s.has_value_added()) return {};
  Vector vc(s.n());
  for (Index j = 0; j < s.n(); ++j) vc[j] = s.x()[j] > 0 ? s.v()[j] / s.x()[j] : 0.0;
  return vc;
}

std::vector<Index> industry_of(const MrioSystem& base, const ScenarioOptions& o) {
  return scenario_detail::sector_indices(base.labels(), o.industry.empty() ? default_industry_sectors(base.labels())
                                                                           : o.industry,
                                         "industry");
}

/// One scenario between validation and report.
struct Prepared {
  const Scenario* scenario = nullptr;
  Edits edits;
  std::vector<std::pair<Index, Index>> targets;
  std::vector<Eigen::Triplet<double, Index>> dA;  // changed coefficients (row, col, delta)
  std::vector<Line> terms;                       // dA = sum u v^T (low-rank path)
  std::map<Index, RowVector> dYr;                // changed rows of Yr (R each); sparse: n x R per scenario adds up
  bool lowrank = true;
  std::optional<scenario_detail::Reshaped> reshaped;  // a split: the edited system in its own shape (full path)
  // Filled by the solve phase:
  Matrix rhs;                                    // n x q right-hand sides: U, then unmatched dYr
  std::vector<Index> dy_term;                    // dYr = sum_t U[:, dy_term[t]] dy_coef[t]; empty when solved whole
  std::vector<RowVector> dy_coef;
  bool dy_whole = false;                         // dYr solved as its own R right-hand sides
  Matrix solved;                                 // L rhs (low-rank) or X' (full)
};

Prepared prepare(const MrioSystem& base, const Scenario& sc, const ScenarioOptions& o, const Vector& colsums) {
  Prepared p;
  p.scenario = &sc;
  p.edits = scenario_detail::build_edits(base, sc, &colsums);
  p.targets = scenario_detail::resolve_targets(base, sc);
  const Index n = base.n(), R = base.R(), c = base.c();
  for (const auto& [cell, delta] : p.edits.dA)
    if (delta != 0) p.dA.emplace_back(cell.second, cell.first, delta);
  for (const auto& [row, dy] : p.edits.dY) {
    RowVector d(R);
    for (Index r = 0; r < R; ++r) d[r] = dy.segment(r * c, c).sum();
    if (!d.isZero(0)) p.dYr.emplace(row, d);
  }
  const std::string& method = o.method;
  MRIOTRACE_CHECK(method == "auto" || method == "lowrank" || method == "full", "method = \"", method,
                  "\"; expected \"auto\", \"lowrank\" or \"full\"");
  if (!p.edits.split.empty()) {
    // A new sector changes n: no update of the base factorisation applies.
    if (method == "lowrank")
      throw InputError(detail::concat("scenario \"", sc.name, "\" splits a sector off (\"", p.edits.split.front().label,
                                      "\"), so its system has n = ", R * (base.N() + static_cast<Index>(p.edits.split.size())),
                                      " instead of the base's ", n,
                                      ": method = \"lowrank\" cannot solve it; use \"auto\" or \"full\""));
    p.reshaped = scenario_detail::reshape(base, p.edits);
    p.lowrank = false;
    // dA against the base padded with the new sectors (for changed_coefficients and rank).
    const Index N = base.N(), N1 = p.reshaped->labels.N();
    std::vector<Eigen::Triplet<double, Index>> t;
    for (Index j = 0; j < n; ++j)
      for (SparseMatrix::InnerIterator it(base.A(), j); it; ++it)
        t.emplace_back(scenario_detail::reshaped_position(it.row(), N, N1),
                       scenario_detail::reshaped_position(j, N, N1), it.value());
    SparseMatrix A0(R * N1, R * N1);
    A0.setFromTriplets(t.begin(), t.end());
    SparseMatrix dA = p.reshaped->A - A0;
    dA.prune(0.0);
    p.dA.clear();
    for (Index j = 0; j < dA.outerSize(); ++j)
      for (SparseMatrix::InnerIterator it(dA, j); it; ++it) p.dA.emplace_back(it.row(), it.col(), it.value());
    p.dYr.clear();
    p.terms = low_rank_terms(p.dA, R * N1);
    return p;
  }
  const Index max_rank = o.max_rank > 0 ? o.max_rank : std::max<Index>(1, std::min<Index>(256, n / 2));
  p.terms = low_rank_terms(p.dA, n);
  p.lowrank = method == "lowrank" || (method == "auto" && static_cast<Index>(p.terms.size()) <= max_rank);
  return p;
}

/// Right-hand sides of a low-rank scenario: u_q, then the parts of dYr no u_q covers.
void build_rhs(Prepared& p, Index n, Index R) {
  std::vector<SparseVec> us;
  for (const auto& t : p.terms) us.push_back(t.u);
  if (!p.dYr.empty()) {
    // dYr rows as lines e_i d_i^T, merged when proportional, matched against the u's.
    std::vector<Line> dy;
    for (const auto& [i, d] : p.dYr) {
      Line l;
      l.u = {{i, 1.0}};
      for (Index r = 0; r < R; ++r)
        if (d[r] != 0) l.v.emplace_back(r, d[r]);
      bool merged = false;
      for (auto& kept : dy) {
        const double c = proportional(kept.v, l.v);
        if (std::isnan(c)) continue;
        kept.u.emplace_back(i, c);
        merged = true;
        break;
      }
      if (!merged) dy.push_back(std::move(l));
      if (static_cast<Index>(dy.size()) > R) break;
    }
    if (static_cast<Index>(dy.size()) > R) {
      p.dy_whole = true;
    } else {
      for (auto& l : dy) {
        // Scale u so its first entry is 1 when comparing with the A terms' u.
        Index match = -1;
        double c = NAN;
        for (size_t q = 0; q < us.size() && match < 0; ++q) {
          c = proportional(us[q], l.u);
          if (!std::isnan(c)) match = static_cast<Index>(q);
        }
        RowVector d = RowVector::Zero(R);
        for (const auto& [r, value] : l.v) d[r] = value;
        if (match >= 0) {
          p.dy_term.push_back(match);
          p.dy_coef.push_back(c * d);
        } else {
          p.dy_term.push_back(static_cast<Index>(us.size()));
          p.dy_coef.push_back(d);
          us.push_back(l.u);
        }
      }
    }
  }
  const Index q = static_cast<Index>(us.size()) + (p.dy_whole ? R : 0);
  p.rhs = Matrix::Zero(n, q);
  for (size_t t = 0; t < us.size(); ++t)
    for (const auto& [i, value] : us[t]) p.rhs(i, static_cast<Index>(t)) = value;
  if (p.dy_whole)
    for (const auto& [i, d] : p.dYr) p.rhs.row(i).tail(R) = d;
}

/// X' from the solves (low-rank: SMW with W = L U; full: already X').
Matrix scenario_outputs(const Prepared& p, const BaseResults& br) {
  if (!p.lowrank) return p.solved;
  const Index R = br.X.cols(), P = static_cast<Index>(p.terms.size());
  Matrix Z = br.X;
  if (p.dy_whole) Z += p.solved.rightCols(R);
  for (size_t t = 0; t < p.dy_term.size(); ++t) Z.noalias() += p.solved.col(p.dy_term[t]) * p.dy_coef[t];
  if (P == 0) return Z;
  const auto W = p.solved.leftCols(P);
  // V^T W (P x P) and V^T Z (P x R), V sparse.
  Matrix VtW = Matrix::Zero(P, P), VtZ = Matrix::Zero(P, R);
  for (Index q = 0; q < P; ++q)
    for (const auto& [j, value] : p.terms[static_cast<size_t>(q)].v) {
      VtW.row(q) += value * W.row(j);
      VtZ.row(q) += value * Z.row(j);
    }
  const Matrix K = Matrix::Identity(P, P) - VtW;
  Eigen::PartialPivLU<Matrix> lu(K);
  const double rcond = lu.rcond();
  if (!(rcond > 1e-13))
    throw NumericError(detail::concat("scenario \"", p.scenario->name,
                                      "\": the edited I - A' is (nearly) singular (SMW capacitance rcond ", rcond,
                                      "); the edited system is not productive"));
  Z.noalias() += W * lu.solve(VtZ);
  return Z;
}

/// Base vector (n) in a shape with N1 >= N sectors per region: the added sectors are 0.
Vector padded(const Vector& v, Index N, Index N1) {
  if (N1 == N) return v;
  Vector out = Vector::Zero(v.size() / N * N1);
  for (Index j = 0; j < v.size(); ++j) out[scenario_detail::reshaped_position(j, N, N1)] = v[j];
  return out;
}

ScenarioResult report(const MrioSystem& base, const BaseResults& br, const Prepared& p, Matrix X) {
  ScenarioResult res;
  const Scenario& sc = *p.scenario;
  const Index R = base.R(), k = base.k(), N = base.N();
  // A split scenario has its own shape (N1 > N sectors per region); the base
  // is compared with it padded, the new sectors present with zero.
  const scenario_detail::Reshaped* rs = p.reshaped ? &*p.reshaped : nullptr;
  const Index N1 = rs ? rs->labels.N() : N;
  res.name = sc.name;
  res.path = p.lowrank ? "lowrank" : "full";
  res.rank = static_cast<Index>(p.terms.size());
  res.changed_coefficients = static_cast<Index>(p.dA.size());
  res.notes = p.edits.notes;
  res.sectors = rs ? rs->labels.sectors : base.labels().sectors;
  res.x = X.rowwise().sum();
  {
    // A negative gross output is no economy: the edits ask for more than is
    // produced (final demand set below zero, more removed than made).
    const double floor = -1e-9 * (res.x.size() ? res.x.cwiseAbs().maxCoeff() : 0.0);
    for (Index j = 0; j < res.x.size(); ++j)
      if (!(res.x[j] >= floor)) {
        const Labels& l = rs ? rs->labels : base.labels();
        throw NumericError(detail::concat(
            "scenario \"", sc.name, "\": the gross output of sector \"", l.regions[static_cast<size_t>(j / N1)], "\" / \"",
            res.sectors[static_cast<size_t>(j % N1)], "\" would be ", res.x[j],
            " (negative): the edits ask for more than the economy produces (e.g. final demand set below zero); "
            "check the scenario's operations"));
      }
  }
  Matrix S1;
  if (rs) {
    S1 = rs->S;
  } else {
    S1 = base.S();
    for (const auto& [col, s] : p.edits.S) S1.col(col) = s;
  }
  // Additional electricity counted at a marginal intensity:
  // S'_el = S_el + (m - S_el) max(x'_el - x0_el, 0) / x'_el.
  for (const auto& m : p.edits.marginal) {
    const Index col = scenario_detail::reshaped_position(m.column, N, N1);
    const double x1 = res.x[col], dx = std::max(0.0, x1 - br.x[m.column]);
    if (x1 > 0)
      for (const auto& [s, mi] : m.intensity) S1(s, col) += (mi - S1(s, col)) * dx / x1;
  }
  Matrix Q;
  regional(S1, X, fy_by_region(base), R, Q, res.pba, res.cba);
  res.dpba = res.pba - br.pba;
  res.dcba = res.cba - br.cba;
  res.dQ = Q - br.Q;
  Matrix S0_padded;
  if (rs) {
    S0_padded = Matrix::Zero(k, R * N1);
    for (Index j = 0; j < base.n(); ++j) S0_padded.col(scenario_detail::reshaped_position(j, N, N1)) = base.S().col(j);
  }
  const Matrix& S0 = rs ? S0_padded : base.S();
  const Vector x0 = padded(br.x, N, N1);
  res.dF = S1 * res.x.asDiagonal();
  res.dF -= S0 * x0.asDiagonal();
  res.leakage = Vector::Constant(k, NAN);
  if (!p.edits.origins.empty())
    for (Index s = 0; s < k; ++s) {
      double origin = 0;
      for (Index r : p.edits.origins) origin += res.dpba(s, r);
      const double outside = res.dpba.row(s).sum() - origin;
      if (origin != 0) res.leakage[s] = outside / -origin;
    }
  if (base.has_value_added()) {
    if (rs) {
      res.va = res.x.cwiseProduct(rs->va_coefficients);
    } else {
      // v'_j = x'_j (v_j / x_j - sum_i dA_ij): other input rows keep their coefficients.
      Vector vc = va_coefficients(base);
      for (const auto& t : p.dA) vc[t.col()] -= t.value();
      res.va = res.x.cwiseProduct(vc);
    }
    const Vector va0 = padded(br.x.cwiseProduct(va_coefficients(base)), N, N1);
    // A split-off sector is industrial when the sector it comes from is.
    std::vector<Index> industry = br.industry;
    for (size_t q = 0; rs && q < p.edits.split.size(); ++q)
      if (std::find(br.industry.begin(), br.industry.end(), p.edits.split[q].chemical) != br.industry.end())
        industry.push_back(N + static_cast<Index>(q));
    res.intensity = intensities(S1, res.x, res.va, industry, R);
    lmdi(S0, x0, va0, S1, res.x, res.va, industry, R, res.lmdi_structure, res.lmdi_intensity);
    for (size_t t = 0; t < p.targets.size(); ++t)
      res.targets.push_back(check_target(sc.targets[t], p.targets[t].first, p.targets[t].second, base, p.edits, S0,
                                         x0, va0, S1, res, industry));
  }
  return res;
}

/// Solve phase for a group of prepared scenarios: one block solve for every
/// low-rank right-hand side, a refactorisation for each full-path scenario.
void solve_group(const MrioSystem& base, const LeontiefSolver& solver, std::vector<Prepared*>& group) {
  const Index n = base.n(), R = base.R();
  Index total = 0;
  for (Prepared* p : group)
    if (p->lowrank) {
      build_rhs(*p, n, R);
      total += p->rhs.cols();
    }
  if (total > 0) {
    Matrix B(n, total);
    Index at = 0;
    for (Prepared* p : group)
      if (p->lowrank) {
        B.middleCols(at, p->rhs.cols()) = p->rhs;
        at += p->rhs.cols();
      }
    const Matrix X = solver.solve(B);
    at = 0;
    for (Prepared* p : group)
      if (p->lowrank) {
        p->solved = X.middleCols(at, p->rhs.cols());
        at += p->rhs.cols();
      }
  }
  for (Prepared* p : group) {
    if (p->lowrank) continue;
    if (p->reshaped) {
      const auto& rs = *p->reshaped;
      const Index c = base.c();
      Matrix Yr(rs.Y.rows(), R);
      for (Index r = 0; r < R; ++r) Yr.col(r) = rs.Y.middleCols(r * c, c).rowwise().sum();
      // The base's preconditioner blocks cover whole regions: as many regions of the new shape.
      SolverOptions so = solver.options();
      so.block_size = so.block_size > 0 && so.block_size % base.N() == 0 ? so.block_size / base.N() * rs.labels.N() : 0;
      try {
        LeontiefSolver s1(rs.A, so);
        p->solved = s1.solve(Yr);
      } catch (const NumericError& e) {
        throw NumericError(detail::concat("scenario \"", p->scenario->name, "\": ", e.what()));
      }
      for (Index i : rs.zero_rows) p->solved.row(i).setZero();  // exact: nobody buys from them
      continue;
    }
    SparseMatrix dA(n, n);
    dA.setFromTriplets(p->dA.begin(), p->dA.end());
    // Not pruned: an input set to zero stays a stored (zero) entry, so A1 keeps
    // the base's pattern whenever the edits stay inside it and the base's
    // symbolic analysis is reused (refactored; a new pattern is analysed).
    SparseMatrix A1 = base.A() + dA;
    A1.makeCompressed();
    Matrix Yr = base.Y_by_region();
    for (const auto& [i, d] : p->dYr) Yr.row(i) += d;
    try {
      const LeontiefSolver s1 = solver.refactored(A1);
      p->solved = s1.solve(Yr);
    } catch (const NumericError& e) {
      throw NumericError(detail::concat("scenario \"", p->scenario->name, "\": ", e.what()));
    }
  }
}

}  // namespace

std::vector<std::string> default_industry_sectors(const Labels& labels) {
  std::vector<std::string> out;
  for (const auto& s : labels.sectors) {
    if (s.size() < 3 || !std::isdigit(static_cast<unsigned char>(s[0])) ||
        !std::isdigit(static_cast<unsigned char>(s[1])) || s[2] != ' ')
      continue;
    const int code = (s[0] - '0') * 10 + (s[1] - '0');
    if (code >= 2 && code <= 26) out.push_back(s);
  }
  return out.empty() ? labels.sectors : out;
}

BaseResults compute_base(const MrioSystem& base, const LeontiefSolver& solver, const ScenarioOptions& options) {
  MRIOTRACE_CHECK(solver.n() == base.n(), "the solver is for n = ", solver.n(), "; the system has n = ", base.n());
  MRIOTRACE_CHECK(base.Y().cols() > 0, "the system has no final demand; scenarios compare demand-driven accounts");
  BaseResults br;
  br.X = solver.solve(base.Y_by_region());
  br.x = br.X.rowwise().sum();
  br.industry = industry_of(base, options);
  regional(base.S(), br.X, fy_by_region(base), base.R(), br.Q, br.pba, br.cba);
  if (base.has_value_added()) {
    br.va = br.x.cwiseProduct(va_coefficients(base));
    br.intensity = intensities(base.S(), br.x, br.va, br.industry, base.R());
  }
  return br;
}

std::vector<std::string> split_sectors(const Scenario& scenario) {
  std::vector<std::string> out;
  for (const auto& op : scenario.operations) {
    if (op.kind != "integrate") continue;
    auto it = op.params.find("split");
    if (it != op.params.end())
      if (const auto* label = std::get_if<std::string>(&it->second)) out.push_back(*label);
  }
  return out;
}

MrioSystem apply_scenario(const MrioSystem& base, const Scenario& scenario, int threads) {
  const Edits e = scenario_detail::build_edits(base, scenario);
  if (!e.split.empty()) {
    // The new shape: x from a solve, exactly 0 where nobody buys; v'_j = x'_j vc'_j.
    scenario_detail::Reshaped rs = scenario_detail::reshape(base, e);
    Vector x = MrioSystem::from_A_Y(rs.labels, rs.A, rs.Y, rs.S, base.F_Y(), {}, threads).x();
    for (Index i : rs.zero_rows) x[i] = 0;
    Vector v = base.has_value_added() ? Vector(x.cwiseProduct(rs.va_coefficients)) : Vector();
    return MrioSystem::from_A_x(std::move(rs.labels), std::move(rs.A), std::move(x), std::move(rs.Y),
                                std::move(rs.S), base.F_Y(), std::move(v));
  }
  SparseMatrix A = base.A();
  {
    std::vector<Eigen::Triplet<double, Index>> t;
    for (const auto& [cell, value] : e.A) t.emplace_back(cell.second, cell.first, value - A.coeff(cell.second, cell.first));
    SparseMatrix dA(base.n(), base.n());
    dA.setFromTriplets(t.begin(), t.end());
    A = A + dA;
    A.prune(0.0);
    A.makeCompressed();
  }
  Matrix Y = base.Y(), S = base.S();
  for (const auto& [row, y] : e.Y) Y.row(row) = y;
  for (const auto& [col, s] : e.S) S.col(col) = s;
  Vector v;
  if (base.has_value_added()) {
    // Value-added coefficients follow the edits; levels follow the new outputs.
    Vector vc = va_coefficients(base);
    for (const auto& [cell, value] : e.A) vc[cell.first] -= value - base.A().coeff(cell.second, cell.first);
    MrioSystem tmp = MrioSystem::from_A_Y(base.labels(), A, Y, S, base.F_Y(), {}, threads);
    v = tmp.x().cwiseProduct(vc);
    return MrioSystem::from_A_x(base.labels(), A, tmp.x(), Y, S, base.F_Y(), v);
  }
  return MrioSystem::from_A_Y(base.labels(), A, Y, S, base.F_Y(), {}, threads);
}

/// Green-power parks' own footprints (ParkFootprint): multipliers S L of
/// the base (k transposed solves) and of the edited system (refactorised),
/// for scenarios with a green_power operation only.
void park_footprints(const MrioSystem& base, const LeontiefSolver& solver, const std::vector<Scenario>& scenarios,
                     std::vector<ScenarioResult>& results) {
  Matrix M0;  // k x n, computed on first use
  const Labels& l = base.labels();
  const Index N = base.N();
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const Scenario& sc = scenarios[i];
    ScenarioResult& res = results[i];
    Matrix M1;
    for (const Operation& op : sc.operations) {
      if (op.kind != "green_power") continue;
      if (M0.size() == 0) M0 = solver.solve_transposed(base.S().transpose()).transpose();
      if (M1.size() == 0) {
        const MrioSystem edited = apply_scenario(base, sc);
        // Same shape: the base's analysis is reused where the pattern allows.
        const LeontiefSolver s1 = edited.n() == base.n() ? solver.refactored(edited.A())
                                                         : LeontiefSolver(edited.A(), solver.options());
        M1 = s1.solve_transposed(edited.S().transpose()).transpose();
      }
      // Parameters were validated when the scenario was prepared.
      const std::string& region = std::get<std::string>(op.params.at("region"));
      std::vector<std::string> sectors;
      if (const auto* one = std::get_if<std::string>(&op.params.at("sectors"))) sectors = {*one};
      else sectors = std::get<std::vector<std::string>>(op.params.at("sectors"));
      const Index r = base.region_index(region), N1 = static_cast<Index>(res.sectors.size());
      ParkFootprint pf;
      pf.label = region + ":";
      pf.base = pf.scenario = Vector::Zero(base.k());
      for (const Index j : scenario_detail::sector_indices(l, sectors, "green_power sectors")) {
        const Index c0 = r * N + j, c1 = r * N1 + j;
        pf.label += (pf.cells.empty() ? " " : ", ") + l.sectors[static_cast<size_t>(j)];
        pf.cells.push_back(c1);
        pf.base += M0.col(c0) * base.x()[c0];
        pf.scenario += M1.col(c1) * res.x[c1];
        pf.base_output += base.x()[c0];
        pf.scenario_output += res.x[c1];
      }
      res.parks.push_back(std::move(pf));
    }
  }
}

ScenarioResult run_scenario(const MrioSystem& base, const LeontiefSolver& solver, const BaseResults& base_results,
                            const Scenario& scenario, const ScenarioOptions& options) {
  return std::move(run_scenarios(base, solver, base_results, {scenario}, options).front());
}

std::vector<ScenarioResult> run_scenarios(const MrioSystem& base, const LeontiefSolver& solver,
                                          const BaseResults& base_results, const std::vector<Scenario>& scenarios,
                                          const ScenarioOptions& options) {
  using Clock = std::chrono::steady_clock;
  MRIOTRACE_CHECK(options.threads >= 0, "threads = ", options.threads, "; expected >= 0");
  MRIOTRACE_CHECK(solver.n() == base.n(), "the solver is for n = ", solver.n(), "; the system has n = ", base.n());
  MRIOTRACE_CHECK(base_results.X.rows() == base.n() && base_results.X.cols() == base.R(),
                  "base results have X of shape ", base_results.X.rows(), " x ", base_results.X.cols(),
                  "; expected n x R (compute them with compute_base for this system)");
  const int threads = resolve_threads(options.threads);
  const size_t m = scenarios.size();
  std::vector<Prepared> prepared(m);
  std::vector<double> seconds(m, 0);
  const Vector colsums = scenario_detail::column_sums(base.A());
  {
    // Validation and edits of every scenario before any solve (no BLAS inside).
    // The first bad scenario (in input order) is reported, whatever the threads.
    std::vector<std::exception_ptr> errors(m);
    parallel_for(0, static_cast<std::int64_t>(m), threads, [&](std::int64_t i) {
      const auto t0 = Clock::now();
      try {
        prepared[static_cast<size_t>(i)] = prepare(base, scenarios[static_cast<size_t>(i)], options, colsums);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
      }
      seconds[static_cast<size_t>(i)] += std::chrono::duration<double>(Clock::now() - t0).count();
    });
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
  std::vector<ScenarioResult> results(m);
  // Groups bound the memory of the block of right-hand sides: 128 MB of
  // columns (1,700 at n = 9,800; at least 64). One wide block rather than
  // several narrow ones lets an auto solver see the whole batch: its cost
  // model then hands 1,000 relocation columns to one dense LU (factor once,
  // solve all) where 4 blocks of 256 each stayed iterative (docs/solvers.md).
  constexpr double kGroupBytes = 128.0 * 1024 * 1024;
  const Index group_columns =
      std::max<Index>(64, static_cast<Index>(kGroupBytes / (8.0 * static_cast<double>(std::max<Index>(base.n(), 1)))));
  size_t start = 0;
  while (start < m) {
    std::vector<Prepared*> group;
    Index cols = 0;
    size_t end = start;
    while (end < m && (group.empty() || cols < group_columns)) {
      group.push_back(&prepared[end]);
      cols += static_cast<Index>(prepared[end].terms.size()) + 1;
      ++end;
    }
    const auto t0 = Clock::now();
    solve_group(base, solver, group);
    const double per = std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(group.size());
    {
      SerialBlas serial_blas;  // parallel over scenarios, BLAS inside each stays serial
      parallel_for(static_cast<std::int64_t>(start), static_cast<std::int64_t>(end), threads, [&](std::int64_t i) {
        const auto t1 = Clock::now();
        Prepared& p = prepared[static_cast<size_t>(i)];
        results[static_cast<size_t>(i)] = report(base, base_results, p, scenario_outputs(p, base_results));
        p.solved = Matrix();
        p.rhs = Matrix();
        results[static_cast<size_t>(i)].seconds =
            seconds[static_cast<size_t>(i)] + per + std::chrono::duration<double>(Clock::now() - t1).count();
      });
    }
    start = end;
  }
  park_footprints(base, solver, scenarios, results);
  // Portfolios: every measure (operation) alone, in one more batch; the
  // interaction is the whole minus the sum of the measures alone.
  std::vector<Scenario> alone;
  std::vector<std::pair<size_t, size_t>> owner;  // (scenario, operation)
  for (size_t i = 0; i < m; ++i)
    if (scenarios[i].portfolio && scenarios[i].operations.size() > 1)
      for (size_t j = 0; j < scenarios[i].operations.size(); ++j) {
        Scenario one{detail::concat(scenarios[i].name, ", measure ", j + 1), "", {scenarios[i].operations[j]},
                     scenarios[i].targets, false};
        alone.push_back(std::move(one));
        owner.emplace_back(i, j);
      }
  if (!alone.empty()) {
    const std::vector<ScenarioResult> parts = run_scenarios(base, solver, base_results, alone, options);
    for (size_t q = 0; q < parts.size(); ++q) {
      auto& res = results[owner[q].first];
      MeasureEffect me;
      me.label = detail::concat(owner[q].second + 1, " ", scenarios[owner[q].first].operations[owner[q].second].kind);
      me.dpba = parts[q].dpba.rowwise().sum();
      for (const auto& t : parts[q].targets) me.target_contribution.push_back(t.contribution);
      res.measures.push_back(std::move(me));
    }
    for (size_t i = 0; i < m; ++i) {
      auto& res = results[i];
      if (res.measures.empty()) continue;
      MeasureEffect inter;
      inter.label = "interaction";
      inter.dpba = res.dpba.rowwise().sum();
      for (const auto& t : res.targets) inter.target_contribution.push_back(t.contribution);
      for (const auto& me : res.measures) {
        inter.dpba -= me.dpba;
        for (size_t t = 0; t < inter.target_contribution.size(); ++t)
          inter.target_contribution[t] -= me.target_contribution[t];
      }
      res.measures.push_back(std::move(inter));
    }
  }
  return results;
}

}  // namespace mriotrace
