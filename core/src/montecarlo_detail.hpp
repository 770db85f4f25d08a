// Internals shared by the Monte Carlo draws (montecarlo.cpp) and the
// draw blocks (draw_block.cpp). Not installed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "mriotrace/montecarlo.hpp"

namespace mriotrace::detail::mc {

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

/// u in (0, 1) of entry (row, col) for a stream key (rows and columns below
/// 2^32): 53 random bits, centred in their cell, so never 0 or 1.
inline double entry_uniform(std::uint64_t key, std::uint64_t row, std::uint64_t col) {
  const std::uint64_t h = mix64(mix64(key ^ ((row << 32) | col)) + kGolden);
  return (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
}

/// Acklam's rational approximation of the standard normal quantile: the
/// central part (0.02425 <= p <= 0.97575) and the tails. Relative error < 1.2e-9.
constexpr double kQuantileLow = 0.02425;
inline bool quantile_in_tail(double p) { return p < kQuantileLow || p > 1 - kQuantileLow; }
inline double quantile_central(double p) {
  constexpr double a0 = -3.969683028665376e+01, a1 = 2.209460984245205e+02, a2 = -2.759285104469687e+02,
                   a3 = 1.383577518672690e+02, a4 = -3.066479806614716e+01, a5 = 2.506628277459239e+00;
  constexpr double b0 = -5.447609879822406e+01, b1 = 1.615858368580409e+02, b2 = -1.556989798598866e+02,
                   b3 = 6.680131188771972e+01, b4 = -1.328068155288572e+01;
  const double q = p - 0.5, r = q * q;
  return (((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q /
         (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}
inline double quantile_tail(double p) {
  constexpr double c0 = -7.784894002430293e-03, c1 = -3.223964580411365e-01, c2 = -2.400758277161838e+00,
                   c3 = -2.549732539343734e+00, c4 = 4.374664141464968e+00, c5 = 2.938163982698783e+00;
  constexpr double d0 = 7.784695709041462e-03, d1 = 3.224671290700398e-01, d2 = 2.445134137142996e+00,
                   d3 = 3.754408661907416e+00;
  const double q = std::sqrt(-2 * std::log(p < kQuantileLow ? p : 1 - p));
  const double x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
                   ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  return p < kQuantileLow ? x : -x;
}

/// Parameters of the log-normal factor exp(mu + sigma z) of an entry:
/// sigma^2 = ln(1 + CV^2), mu = -sigma^2/2 (mean one), CV constant or from the
/// size rule.
class FactorOf {
 public:
  FactorOf(const CvSpec& spec, double min_abs, double max_abs) : spec_(spec) {
    if (spec.size_rule && max_abs > min_abs && min_abs > 0) {
      log_lo_ = std::log(min_abs);
      inv_span_ = 1.0 / (std::log(max_abs) - log_lo_);
    }
    set_cv(spec.size_rule ? spec.cv_small : spec.cv, mu0_, sigma0_);
  }
  /// Same (mu, sigma) for every entry (no size rule)?
  bool constant() const { return !spec_.size_rule || inv_span_ == 0; }
  /// (mu, sigma) of an entry of this value.
  void params(double value, double& mu, double& sigma) const {
    if (constant()) {
      mu = mu0_;
      sigma = sigma0_;
      return;
    }
    // Size rule: t = (ln|v| - ln min) / (ln max - ln min), CV = cv_small + t (cv_large - cv_small).
    const double t = std::clamp((std::log(std::abs(value)) - log_lo_) * inv_span_, 0.0, 1.0);
    set_cv(spec_.cv_small + t * (spec_.cv_large - spec_.cv_small), mu, sigma);
  }
  /// The factor in double precision (dense matrices: Y, S, F, F_Y).
  double operator()(double value, double z) const {
    double mu = 0, sigma = 0;
    params(value, mu, sigma);
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
std::pair<double, double> magnitude_range(const double* values, Index count);

/// The log-normal factors of every stored entry of a sparse matrix (A or Z)
/// for `lanes` (1 or kDrawLanes) draws with stream keys `keys` (lanes with
/// used[g] false get 0),
/// rounded to float and interleaved: out[q * lanes + g] for entry q (CSC
/// order). A perturbed entry is value[q] * double(factor) wherever it is
/// used, so a draw is defined by these floats. With an inactive spec every
/// factor is 1. Vectorised (AVX-512 / AVX2) with the same IEEE operations as
/// the scalar code (simd.hpp's one dispatch): the floats do not depend on the CPU.
void sparse_factors(const SparseMatrix& M, const CvSpec& spec, const std::uint64_t* keys, const bool* used,
                    Index lanes, float* out);

/// Multiply every nonzero of a dense matrix by its log-normal factor (double).
void perturb_dense(Matrix& M, const CvSpec& spec, std::uint64_t key, int threads);

/// S restricted to the selected rows and F_Y summed per region (k x R, or empty).
std::pair<Matrix, Matrix> selected_rows(const Matrix& S, const Matrix& F_Y, const std::vector<Index>& rows, Index R,
                                        Index c);

/// n x R final demand per region from an n x R*c Y.
Matrix demand_by_region(const Matrix& Y, Index R, Index c);

/// Regional accounts of a draw without Q from its solves: D_cba_reg = Mt^T Yr
/// (+ FYr), and with x (not null) D_pba_reg[:, r] = S^(r) x^(r) (+ FYr).
/// S: k x n, FYr: k x R or empty, Yr: n x R, Mt: n x k, x: n.
Accounts draw_regional_accounts(const Matrix& S, const Matrix& FYr, const Matrix& Yr, const Matrix& Mt,
                                const Vector* x, const std::vector<Index>& stressors, Index N);

/// Throws NumericError when a draw's solutions show that its A' is not
/// productive (montecarlo.hpp, "Non-productive draws"). Any pointer may be
/// null (not computed). S: k x n (selected rows), Mt: n x k multipliers',
/// y: n total final demand and x = L'y, Yr: n x R and X = L'Yr.
void check_productive(const MrioSystem& system, const DrawBase& base, const Matrix& S, const Matrix* Mt,
                      const Vector* y, const Vector* x, const Matrix* Yr, const Matrix* X);

}  // namespace mriotrace::detail::mc
