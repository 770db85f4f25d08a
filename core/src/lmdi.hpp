// The one LMDI-I implementation (Ang 2005), used by the public sda::lmdi and
// by the scenario engine's intensity split (scenario.cpp). Private header.
//
// Indicator V = sum_i V_i, V_i = prod_k x_{k,i} (K factors, I components),
// between period 0 and period 1:
//   effect_k = sum_i Λ(V_i^1, V_i^0) ln(x_{k,i}^1 / x_{k,i}^0),  Λ(a, b) = (a - b)/(ln a - ln b)
// which sums to V^1 - V^0.
//
// Zero / equal-value policy (one for every caller):
//  * Λ(a, a) = a, and Λ is evaluated without cancellation near a = b
//    (a = b(1 + d) with |d| < 1/2: Λ = b d / log1p(d)), so values that differ
//    only by rounding (1 ulp, 1e-15 relative) give Λ ≈ a, never inf or NaN,
//    and the effects are continuous in the inputs.
//  * A factor is *absent* in a period when it is <= kAbsent (1e-9) times its
//    value in the other period (exactly 0 included; e.g. a sector's output a
//    relocation with share = 1 empties comes out as ~1e-16 of the base, not as
//    an exact 0). A component with an absent factor in either period gives
//    its whole change V_i^1 - V_i^0 to its absent factors (in equal parts when
//    several): the limit of LMDI-I as the factor goes to 0 (Ang & Liu 2007;
//    the other factors' terms vanish like 1 / ln(factor)). No small-value
//    replacement, so the effects sum exactly to the change.
//  * A component with V_i = 0 in both periods contributes nothing.
//  * Factors must be finite and >= 0; otherwise the decomposition is undefined
//    (the caller reports it: an InputError in sda, NaN in a scenario report).
#pragma once

#include <cmath>
#include <vector>

#include "mriotrace/types.hpp"

namespace mriotrace::lmdi_detail {

inline constexpr double kAbsent = 1e-9;

/// Λ(a, b) for a, b >= 0: Λ(a, a) = a, Λ(a, 0) = Λ(0, b) = 0.
inline double log_mean(double a, double b) {
  if (a == b) return a;
  if (a == 0 || b == 0) return 0.0;
  const double d = (a - b) / b;  // a = b (1 + d); a - b is exact when a and b are close
  if (std::abs(d) < 0.5) return b * (d / std::log1p(d));
  return (a - b) / std::log(a / b);
}

/// Why a decomposition is undefined (kind == Ok: it is defined).
struct Problem {
  enum Kind { Ok, NotFinite, Negative } kind = Ok;
  Index factor = -1, component = -1;
  int period = 0;
};

/// LMDI-I effects into `effects` (K, zeroed here). factor(t, k, i) returns
/// x_{k,i} in period t (0 or 1). Returns the first problem found (effects
/// then hold no meaning).
template <class Factor>
Problem effects(Index K, Index I, const Factor& factor, Vector& effects) {
  effects = Vector::Zero(K);
  std::vector<double> x0(static_cast<size_t>(K)), x1(static_cast<size_t>(K));
  std::vector<Index> absent;
  for (Index i = 0; i < I; ++i) {
    double v0 = 1, v1 = 1;
    for (Index k = 0; k < K; ++k) {
      const double a = factor(0, k, i), b = factor(1, k, i);
      for (int t = 0; t < 2; ++t) {
        const double x = t ? b : a;
        if (!std::isfinite(x)) return {Problem::NotFinite, k, i, t};
        if (x < 0) return {Problem::Negative, k, i, t};
      }
      x0[static_cast<size_t>(k)] = a;
      x1[static_cast<size_t>(k)] = b;
      v0 *= a;
      v1 *= b;
    }
    if (v0 == 0 && v1 == 0) continue;
    absent.clear();
    for (Index k = 0; k < K; ++k) {
      const double a = x0[static_cast<size_t>(k)], b = x1[static_cast<size_t>(k)];
      if (a <= kAbsent * b || b <= kAbsent * a) absent.push_back(k);
    }
    if (!absent.empty()) {
      const double part = (v1 - v0) / static_cast<double>(absent.size());
      for (Index k : absent) effects[k] += part;
      continue;
    }
    const double w = log_mean(v1, v0);
    for (Index k = 0; k < K; ++k)
      effects[k] += w * std::log(x1[static_cast<size_t>(k)] / x0[static_cast<size_t>(k)]);
  }
  return {};
}

}  // namespace mriotrace::lmdi_detail
