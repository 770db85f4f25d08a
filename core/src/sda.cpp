// Structural decomposition: exact (all orderings) and polar additive SDA,
// LMDI-I. Formulas: sda.hpp.
#include "mriotrace/sda.hpp"

#include <bit>
#include <cmath>
#include <map>
#include <optional>

#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "mriotrace/solver.hpp"
#include "lmdi.hpp"
#include "stressor_rows.hpp"

namespace mriotrace {

SdaMethod sda_method_from_string(const std::string& name) {
  if (name == "exact") return SdaMethod::Exact;
  if (name == "polar") return SdaMethod::Polar;
  throw InputError("unknown SDA method \"" + name + "\"; expected one of: exact, polar");
}

std::string to_string(SdaMethod method) { return method == SdaMethod::Exact ? "exact" : "polar"; }

Decomposition decompose(const std::vector<std::string>& names, const std::function<Matrix(std::uint32_t)>& value,
                        SdaMethod method) {
  const int n = static_cast<int>(names.size());
  MRIOTRACE_CHECK(n >= 1, "decompose: no factors; expected at least one");
  if (method == SdaMethod::Exact)
    MRIOTRACE_CHECK(n <= kMaxExactFactors, "exact SDA over ", n, " factors; at most ", kMaxExactFactors,
                    " are supported (", n, "! orderings); use the polar method");
  MRIOTRACE_CHECK(n <= 30, "SDA over ", n, " factors; at most 30 are supported");
  std::map<std::uint32_t, Matrix> cache;
  auto V = [&](std::uint32_t mask) -> const Matrix& {
    auto it = cache.find(mask);
    if (it != cache.end()) return it->second;
    Matrix m = value(mask);
    if (!cache.empty())
      MRIOTRACE_CHECK(m.rows() == cache.begin()->second.rows() && m.cols() == cache.begin()->second.cols(),
                      "decompose: V(mask ", mask, ") is ", m.rows(), " x ", m.cols(), "; expected ",
                      cache.begin()->second.rows(), " x ", cache.begin()->second.cols(), " like the others");
    return cache.emplace(mask, std::move(m)).first->second;
  };
  const std::uint32_t all = n == 32 ? ~0u : ((1u << n) - 1);
  Decomposition d;
  d.factors = names;
  d.E0 = V(0);
  d.E1 = V(all);
  for (int i = 0; i < n; ++i) d.effects.push_back(Matrix::Zero(d.E0.rows(), d.E0.cols()));
  if (method == SdaMethod::Polar) {
    for (int i = 0; i < n; ++i) {
      const std::uint32_t bit = 1u << i, below = bit - 1, above = all & ~(below | bit);
      // First polar: later factors at period 1; mirror: earlier factors at period 1.
      d.effects[i] = 0.5 * ((V(above | bit) - V(above)) + (V(below | bit) - V(below)));
    }
    return d;
  }
  // Shapley weights w(s) = s! (n - s - 1)! / n!, s = |T| other factors at period 1.
  std::vector<double> fact(static_cast<size_t>(n) + 1, 1.0);
  for (int i = 1; i <= n; ++i) fact[static_cast<size_t>(i)] = fact[static_cast<size_t>(i) - 1] * i;
  for (int i = 0; i < n; ++i) {
    const std::uint32_t bit = 1u << i;
    for (std::uint32_t T = 0; T <= all; ++T) {
      if (T & bit) continue;
      const int s = std::popcount(T);
      const double w = fact[static_cast<size_t>(s)] * fact[static_cast<size_t>(n - s - 1)] / fact[static_cast<size_t>(n)];
      d.effects[i] += w * (V(T | bit) - V(T));
    }
  }
  return d;
}

namespace {

void require_same_labels(const MrioSystem& a, const MrioSystem& b) {
  const Labels &la = a.labels(), &lb = b.labels();
  MRIOTRACE_CHECK(la.regions == lb.regions, "SDA: the two systems have different regions (", la.R(), " vs ",
                  lb.R(), " or different names); expected the same regions in the same order");
  MRIOTRACE_CHECK(la.sectors == lb.sectors, "SDA: the two systems have different sectors (", la.N(), " vs ",
                  lb.N(), " or different names); expected the same sectors in the same order");
  MRIOTRACE_CHECK(la.stressors == lb.stressors, "SDA: the two systems have different stressors (", la.k(),
                  " vs ", lb.k(), " or different names); expected the same stressors in the same order");
  MRIOTRACE_CHECK(a.Y().cols() > 0 && b.Y().cols() > 0, "SDA: a system has no final demand Y; E = f L y needs Y");
}

}  // namespace

Decomposition structural_decomposition(const MrioSystem& s0, const MrioSystem& s1, const SdaOptions& o) {
  require_same_labels(s0, s1);
  const std::vector<Index> rows = detail::stressor_rows(o.stressors, s0.k(), "SDA");
  const Index k = static_cast<Index>(rows.size()), R = s0.R();
  const MrioSystem* sys[2] = {&s0, &s1};
  Matrix S[2], Yr[2], mix[2];
  RowVector level[2];
  for (int t = 0; t < 2; ++t) {
    S[t].resize(k, s0.n());
    for (Index i = 0; i < k; ++i) S[t].row(i) = sys[t]->S().row(rows[static_cast<size_t>(i)]);
    Yr[t] = sys[t]->Y_by_region();
    if (o.split_demand) {
      // y_r = level_r * mix_r, level_r = 1'y_r (needs level_r > 0 in both periods).
      level[t] = Yr[t].colwise().sum();
      mix[t] = Yr[t];
      for (Index r = 0; r < R; ++r) {
        MRIOTRACE_CHECK(level[t][r] > 0, "SDA with split demand: total final demand of region ",
                        s0.labels().regions[static_cast<size_t>(r)], " in period ", t, " is ", level[t][r],
                        "; expected > 0");
        mix[t].col(r) /= level[t][r];
      }
    }
  }
  SolverOptions so;
  so.threads = o.threads;
  ThreadScope scope(resolve_threads(o.threads));
  const LeontiefSolver solver0(s0.A(), so);
  // Period 1's A: same n; the analysis of period 0 is reused when the pattern is the same.
  const LeontiefSolver solver1 = solver0.refactored(s1.A());
  const LeontiefSolver* solver[2] = {&solver0, &solver1};

  // Factor bits: 0 = f, 1 = L, 2 = y (or 2 = y_mix, 3 = y_level).
  std::vector<std::string> names = {"f", "L"};
  if (o.split_demand) {
    names.push_back("y_mix");
    names.push_back("y_level");
  } else {
    names.push_back("y");
  }
  // X(b, demand) = (I - A_b)^-1 y(demand): one block solve per (period of L, demand variant).
  std::map<std::uint32_t, Matrix> X;
  auto value = [&](std::uint32_t mask) -> Matrix {
    const int f = mask & 1u, b = (mask >> 1) & 1u;
    const std::uint32_t demand = mask >> 2;  // y: 1 bit; split: mix bit, level bit
    const std::uint32_t key = (demand << 1) | static_cast<std::uint32_t>(b);
    auto it = X.find(key);
    if (it == X.end()) {
      Matrix Y;
      if (o.split_demand) {
        const int m = demand & 1u, l = (demand >> 1) & 1u;
        Y = mix[m] * level[l].asDiagonal();
      } else {
        Y = Yr[demand & 1u];
      }
      it = X.emplace(key, solver[b]->solve(Y)).first;
    }
    return S[f] * it->second;
  };
  return decompose(names, value, o.method);
}

double log_mean(double a, double b) {
  MRIOTRACE_CHECK(a >= 0 && b >= 0 && std::isfinite(a) && std::isfinite(b), "log_mean(", a, ", ", b,
                  "): expected finite arguments >= 0");
  return lmdi_detail::log_mean(a, b);
}

Vector lmdi(const Eigen::Ref<const Matrix>& X0, const Eigen::Ref<const Matrix>& X1) {
  MRIOTRACE_CHECK(X0.rows() == X1.rows() && X0.cols() == X1.cols(), "LMDI: period-0 factors are ", X0.rows(),
                  " x ", X0.cols(), " but period-1 factors are ", X1.rows(), " x ", X1.cols(),
                  "; expected the same K x I shape");
  MRIOTRACE_CHECK(X0.rows() >= 1, "LMDI: no factors; expected K >= 1 rows");
  check_finite(X0, "LMDI period-0 factors");
  check_finite(X1, "LMDI period-1 factors");
  Vector effects;
  const auto p = lmdi_detail::effects(
      X0.rows(), X0.cols(), [&](int t, Index k, Index i) { return t ? X1(k, i) : X0(k, i); }, effects);
  MRIOTRACE_CHECK(p.kind == lmdi_detail::Problem::Ok, "LMDI: factor ", p.factor, " of component ", p.component,
                  " is ", p.period ? X1(p.factor, p.component) : X0(p.factor, p.component), " in period ", p.period,
                  "; expected >= 0 (LMDI-I needs logarithms)");
  return effects;
}

}  // namespace mriotrace
