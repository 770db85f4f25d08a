// Structural decomposition analysis (METHODS.md "Structural decomposition").
//
// Additive SDA of E = f L y between period 0 and period 1: the change
// E1 - E0 is split into one effect per factor, with effects that sum exactly
// (to rounding) to the change:
//   exact   the mean over all n! orderings of the factors (Dietzenbacher & Los
//           1998), computed from the 2^n values V(mask) (bit i set = factor i
//           at its period-1 value) with Shapley weights:
//             effect_i = sum_{T not containing i} |T|! (n - |T| - 1)! / n! [V(T + i) - V(T)]
//   polar   the average of the two polar decompositions
//             effect_i = V(bits >= i) - V(bits > i)   (first: Δf L1 y1 + f0 ΔL y1 + f0 L0 Δy)
//             effect_i = V(bits <= i) - V(bits < i)   (mirror)
//           equal to `exact` for two factors.
// ΔL is never formed: every V(mask) is f_a (I - A_b)^-1 y_c by a solve with
// the factorisation of period b, so f0 ΔL y1 = f0 L1 y1 - f0 L0 y1.
//
// LMDI-I (Ang 2005) for an indicator V = sum_i prod_k x_{k,i}:
//   ΔV_k = sum_i Λ(V_i^1, V_i^0) ln(x_{k,i}^1 / x_{k,i}^0),  Λ(a, b) = (a - b)/(ln a - ln b), Λ(a, a) = a
// which sums exactly to V^1 - V^0 (zero / equal-value policy: core/src/lmdi.hpp,
// shared with the scenario engine's intensity split).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mriotrace/system.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace {

enum class SdaMethod { Exact, Polar };

/// "exact" / "polar" <-> SdaMethod; throws InputError naming the known methods.
SdaMethod sda_method_from_string(const std::string& name);
std::string to_string(SdaMethod method);

/// The most factors `decompose` accepts with SdaMethod::Exact (2^6 = 64 values).
inline constexpr int kMaxExactFactors = 6;

/// Result of an additive decomposition: every matrix has the shape of V.
struct Decomposition {
  std::vector<std::string> factors;  ///< n factor names
  std::vector<Matrix> effects;       ///< n effects, each the shape of V
  Matrix E0, E1;                     ///< V(all at period 0), V(all at period 1)
  Matrix change() const { return E1 - E0; }
};

/// Additive decomposition of any V(mask) over n = names.size() factors
/// (1 <= n <= 6 for Exact, <= 30 for Polar). `value(mask)` returns V with
/// factor i at period 1 iff bit i of mask is set; all calls must return the
/// same shape. Each mask is evaluated at most once.
Decomposition decompose(const std::vector<std::string>& names, const std::function<Matrix(std::uint32_t)>& value,
                        SdaMethod method);

struct SdaOptions {
  SdaMethod method = SdaMethod::Exact;
  std::vector<Index> stressors;   ///< rows of S; empty = all
  /// false: factors f (S), L (A), y (final demand per region).
  /// true:  f, L, y_mix (y_r / 1'y_r: composition and origin), y_level (1'y_r: total demand of region r).
  bool split_demand = false;
  int threads = 0;
};

/// SDA of the consumption-based accounts E[s, r] = f_s L y_r (k x R: stressor
/// s caused by final demand of region r, F_Y excluded) between two systems with
/// the same labels (two years, or base and scenario). Two factorisations, no L.
/// Throws InputError when the systems' regions, sectors or stressors differ.
Decomposition structural_decomposition(const MrioSystem& period0, const MrioSystem& period1,
                                       const SdaOptions& options = {});

/// LMDI-I effects of V = sum_i prod_k X[k, i] between X0 and X1 (K x I,
/// finite, entries >= 0). Returns K effects summing to V1 - V0. Zero and
/// equal values follow the one policy of core/src/lmdi.hpp: a component with
/// V_i = 0 in both periods contributes nothing; a factor absent in one period
/// (<= 1e-9 times its other-period value, 0 included) takes the component's
/// whole change (the LMDI-I limit); values equal to rounding give finite,
/// continuous effects. Throws InputError naming the first negative entry.
Vector lmdi(const Eigen::Ref<const Matrix>& X0, const Eigen::Ref<const Matrix>& X1);

/// Logarithmic mean Λ(a, b) = (a - b)/(ln a - ln b), Λ(a, a) = a, Λ(a, 0) = 0;
/// a, b >= 0 (accurate when a and b differ only by rounding).
double log_mean(double a, double b);

}  // namespace mriotrace
