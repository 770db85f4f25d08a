// Private building blocks of the synthetic systems (generate() and china_synthetic()).
//
// Determinism: the engine is xoshiro256** seeded through splitmix64, and every
// transform (uniform, normal, lognormal, Bernoulli positions) is written here,
// not taken from <random>, whose distributions differ between standard
// libraries. The sparsity pattern depends only on integer arithmetic and exact
// comparisons of dyadic uniforms, except for the geometric gaps of very sparse
// blocks (std::log); values go through std::log/std::exp/std::sqrt. IEEE sqrt is
// exact; log/exp of the common libms agree to the last bit on nearly all inputs.
//
// Every random quantity draws from its own stream (Stream tag + an index), so
// e.g. the coefficients of column j do not depend on the thread that built
// them, on the number of stressors or on the final-demand split.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mriotrace/system.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace::datasets::detail {

/// Independent random streams of one seed.
enum class Stream : std::uint64_t {
  RegionSize = 1,
  SectorSize = 2,
  Output = 3,
  Coefficients = 4,  ///< one stream per column of A
  Demand = 5,
  CategoryWeights = 6,
  Intensities = 7,
  FinalDemandStressors = 8,
  FirmSize = 9,      ///< firm network: one stream per firm (size, degree)
  FirmSuppliers = 10,  ///< firm network: one stream per buyer column
};

/// splitmix64 finaliser: a bijective 64-bit mix.
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// xoshiro256** with own transforms (see the file banner for why).
class Rng {
 public:
  /// Stream `index` of kind `stream` for `seed`.
  Rng(std::uint64_t seed, Stream stream, std::uint64_t index = 0) {
    std::uint64_t z = mix64(seed + 0x9E3779B97F4A7C15ULL) ^
                      mix64(static_cast<std::uint64_t>(stream) * 0xD1B54A32D192ED03ULL + 0x632BE59BD9B4E019ULL) ^
                      mix64(index * 0x9E3779B97F4A7C15ULL + 0x8CB92BA72F3D8DD7ULL);
    for (auto& s : s_) {  // splitmix64 sequence from z: never all-zero state
      z += 0x9E3779B97F4A7C15ULL;
      s = mix64(z);
    }
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform on [0, 1), multiples of 2^-53 (exact on every platform).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform on (0, 1): safe for log.
  double uniform_open() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  /// Uniform on [a, b).
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  /// Uniform integer in [0, m), m >= 1.
  Index below(Index m) {
    const auto k = static_cast<Index>(uniform() * static_cast<double>(m));
    return k < m ? k : m - 1;
  }
  /// Standard normal (Marsaglia's polar method; needs only log and sqrt).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  /// exp(mu + sigma * N(0, 1)).
  double lognormal(double mu, double sigma) { return std::exp(mu + sigma * normal()); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

/// Call f(t) for every t in [0, m) kept independently with probability p, in
/// increasing order. Cost O(m p + 1) for small p (geometric gaps), O(m) otherwise.
template <class F>
void bernoulli_positions(Rng& rng, Index m, double p, F&& f) {
  if (m <= 0 || p <= 0.0) return;
  if (p >= 1.0) {
    for (Index t = 0; t < m; ++t) f(t);
    return;
  }
  if (p > 0.2) {  // dense: one exact comparison per position
    for (Index t = 0; t < m; ++t)
      if (rng.uniform() < p) f(t);
    return;
  }
  // Gap to the next kept position ~ Geometric(p): floor(log U / log(1 - p)).
  const double log_q = std::log1p(-p);
  Index t = -1;
  for (;;) {
    const double gap = std::floor(std::log(rng.uniform_open()) / log_q);
    if (gap >= static_cast<double>(m - t - 1)) return;
    t += 1 + static_cast<Index>(gap);
    f(t);
  }
}

/// Everything that shapes a random economy. generate() fills it from
/// GeneratorOptions with random weights; china_synthetic() from its tables.
/// Vectors of length N are per sector (same in every region), of length R per region.
struct Blueprint {
  Index R = 1, N = 1, c = 1;
  std::uint64_t seed = 0;
  int threads = 0;

  Vector x;  ///< n gross output, chosen first: final demand follows from the balance y = x - A x

  // Coefficients A: column (s, j) gets a domestic part summing to
  // domestic_share * U(1 - share_spread, 1 + share_spread) and a trade part
  // summing to trade_share * U(...), capped so the column sum is <= max_column_sum.
  double domestic_density = 0.6;
  double trade_density = 0.1;
  double domestic_share = 0.45;
  double trade_share = 0.12;
  double share_spread = 0.5;
  double max_column_sum = 0.89;
  /// Entry weights: x of the supplying row x supplier_weight[i] x lognormal(0, value_sigma);
  /// the own-sector entry (diagonal) is multiplied by own_sector_boost (in real tables
  /// a sector's largest input is often its own product).
  std::vector<double> supplier_weight;  ///< N, > 0 (how much a sector sells as an input)
  std::vector<double> tradability;      ///< N, in [0, 1] (thins trade entries by supplier sector)
  double value_sigma = 1.0;
  double own_sector_boost = 3.0;
  /// Rows are scaled down where (A x)_i > (1 - min_final_share) x_i, so y >= min_final_share x.
  double min_final_share = 0.1;

  // Final demand Y: each row's y_i is split: U(domestic_fd_lo, domestic_fd_hi) to
  // the row's own region, the rest over up to max_partners other regions
  // (weights region_weight x lognormal), each region's part over its categories
  // by category_weight(i, f) x lognormal(0, 0.3).
  Matrix category_weight;             ///< N x c, >= 0, every row with a positive entry
  std::vector<double> region_weight;  ///< R, > 0
  double domestic_fd_lo = 0.8, domestic_fd_hi = 0.9;
  Index max_partners = 30;
};

/// A balanced economy: x = A x + Y 1 by construction (no solve needed).
struct Economy {
  SparseMatrix A;  ///< n x n CSC, column sums <= max_column_sum
  Vector x;        ///< n
  Matrix Y;        ///< n x R*c
};

/// Builds A column by column (in parallel, one stream per column), caps rows,
/// splits y = x - A x into Y. Needs bp.x filled (n, all > 0).
Economy random_economy(const Blueprint& bp);

/// The second half of random_economy for any coefficient matrix A (n x n CSC,
/// column sums < 1; taken over without a copy, A is left empty): caps rows so y >= min_final_share x, splits y = x - A x
/// into Y by bp's final-demand rules. Uses bp.x, R, N, c, seed, category_weight,
/// region_weight, min_final_share, domestic_fd_lo/hi, max_partners.
Economy balance_economy(const Blueprint& bp, SparseMatrix&& A);

/// Columns [begin, end) of a matrix under construction: rows (ascending within
/// a column) and values appended, end_column() after each column.
struct ColumnSink {
  std::vector<Index> rows;
  std::vector<double> vals;
  std::vector<Index> col_end;  ///< running nnz at the end of each column of the block
  void end_column() { col_end.push_back(static_cast<Index>(rows.size())); }
};
using ColumnBlockBuilder = std::function<void(Index begin, Index end, ColumnSink& sink)>;

/// An n x n CSC matrix built by `build` in fixed blocks of columns, in
/// parallel on `threads` (0 = environment); the result does not depend on the
/// thread count as long as each column depends only on its index.
/// expected_nnz sizes the one reservation of A's storage.
SparseMatrix assemble_columns(Index n, int threads, double expected_nnz, const ColumnBlockBuilder& build);

/// x[(r, i)] = region_weight[r] * sector_weight[i] * affinity(r, i) * lognormal(0, sigma):
/// the one place that turns sizes into gross outputs. affinity may be empty (all 1).
/// With normalise_per_sector, each sector's total over regions equals sector_weight[i].
Vector gross_output(const std::vector<double>& region_weight, const std::vector<double>& sector_weight,
                    const Matrix& affinity, double sigma, bool normalise_per_sector, std::uint64_t seed);

/// v = x - column sums of Z = x o (1 - column sums of A): positive since column sums < 1.
Vector value_added(const SparseMatrix& A, const Vector& x);

/// Direct stressor flows F = S diag(x) summed per region: k x R.
Matrix regional_production_flows(const Matrix& S, const Vector& x, Index R);

/// k x R*c final-demand stressors: per_region(s, r) placed in region r's first
/// category (households), zero elsewhere.
Matrix household_stressors(const Matrix& per_region, Index c);

/// Households' direct emissions of stressor 0 in each region: U(0.05, 0.15)
/// (stream FinalDemandStressors of `seed`) times the region's industrial
/// emissions S diag(x); k x R*c in the layout of household_stressors.
Matrix household_emissions(const Matrix& S, const Vector& x, Index R, Index c, std::uint64_t seed);

/// A blueprint with its size and seed set (everything else at its defaults).
Blueprint sized_blueprint(Index R, Index N, Index c, std::uint64_t seed, int threads);

/// N x c final-demand category weights: households (category 0) buy most,
/// (f == 0 ? 3 : 1) x lognormal(0, 0.8) from stream CategoryWeights of `seed`.
Matrix household_heavy_categories(Index N, Index c, std::uint64_t seed);

/// Labels of a generated system: regions R0.., sectors <sector_prefix>0..,
/// categories FD0.., stressors stressor0.. in kt, monetary unit "synthetic M.USD".
Labels synthetic_labels(Index R, Index N, Index c, Index k, const std::string& sector_prefix);

}  // namespace mriotrace::datasets::detail
