// Synthetic firm-level supply network: 250,000 firms and about 1.1 million
// supplier -> buyer links by default (the benchmark's largest workload, far
// beyond what a dense Leontief inverse can hold: 250,000^2 doubles = 500 GB).
//
// How it is built (everything SYNTHETIC, deterministic for a seed):
//   1. per firm i (own stream): size s_i ~ Pareto with tail index 1.2 (Zipf-like
//      firm sizes), gross output x_i = 10 s_i, supplier weight w_i = s_i^0.8
//      (out-degree ~ w, so out-degrees are power-law with density exponent
//      1 + 1.2/0.8 = 2.5), raw in-degree ~ Pareto(exponent);
//   2. in-degrees d_j = round(raw_j * scale), clamped to [1, d_cap = n / 20], the
//      scale chosen so the total is within 0.2 % of links;
//   3. column j (own stream): d_j distinct suppliers != j, each from the buyer's
//      region with probability domestic_link_share, else from anywhere, drawn
//      with probability w_i / sum w by binary search in the prefix sums of w;
//      values lognormal, rescaled to a column sum U(0.2, 0.7);
//   4. rows capped and final demand split as in generate() (balance_economy),
//      stressor intensities lognormal, households' emissions F_Y, v = x - 1'Z.
// Memory O(nnz + n R c); no n x n object.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "synth.hpp"

namespace mriotrace::datasets {
namespace {

constexpr double kSizeTail = 1.2;        ///< Pareto tail index of firm sizes
constexpr double kWeightPower = 0.8;     ///< supplier weight = size^0.8
constexpr double kMaxSize = 1e6;         ///< cap of s_i (keeps x finite and ratios sane)
constexpr double kShareLo = 0.2, kShareHi = 0.7;  ///< buyer's intermediate-input share (column sum)

void validate(const FirmNetworkOptions& o) {
  MRIOTRACE_CHECK(o.firms >= 2, "firms = ", o.firms, "; expected at least 2");
  MRIOTRACE_CHECK(o.firms <= 200'000'000, "firms = ", o.firms, "; expected at most 200,000,000");
  MRIOTRACE_CHECK(o.regions >= 1, "regions = ", o.regions, "; expected at least 1");
  MRIOTRACE_CHECK(o.firms % o.regions == 0, "firms = ", o.firms, " is not a multiple of regions = ", o.regions,
                  "; expected firms = regions x firms per region");
  MRIOTRACE_CHECK(o.links >= o.firms, "links = ", o.links, "; expected at least firms = ", o.firms,
                  " (every firm has at least one supplier)");
  const double max_links = static_cast<double>(o.firms) * static_cast<double>(o.firms - 1) / 20.0;
  MRIOTRACE_CHECK(static_cast<double>(o.links) <= std::max(max_links, static_cast<double>(o.firms)), "links = ",
                  o.links, "; expected at most firms x (firms - 1) / 20 = ", max_links,
                  " (a supply network is sparse: use generate() for dense tables)");
  MRIOTRACE_CHECK(o.exponent > 2.0 && o.exponent <= 5.0, "exponent = ", o.exponent,
                  "; expected a power-law exponent in (2, 5] (finite mean degree)");
  MRIOTRACE_CHECK(o.domestic_link_share >= 0.0 && o.domestic_link_share <= 1.0, "domestic_link_share = ",
                  o.domestic_link_share, "; expected a fraction in [0, 1]");
  MRIOTRACE_CHECK(o.fd_categories >= 1, "fd_categories = ", o.fd_categories, "; expected at least 1");
  MRIOTRACE_CHECK(o.stressors >= 1, "stressors = ", o.stressors, "; expected at least 1");
  MRIOTRACE_CHECK(o.threads >= 0, "threads = ", o.threads, "; expected 0 (use the environment) or a positive count");
  const double y_entries =
      static_cast<double>(o.firms) * static_cast<double>(o.regions) * static_cast<double>(o.fd_categories);
  MRIOTRACE_CHECK(y_entries <= 4294967296.0, "final demand Y would have ", y_entries,
                  " dense entries (firms x regions x fd_categories); expected at most 2^32 (32 GB)");
}

/// Up to d distinct suppliers of buyer j (ascending), drawn by weight.
/// cum: prefix sums of the supplier weights, size n + 1.
void draw_suppliers(detail::Rng& rng, const std::vector<double>& cum, Index j, Index N, Index d,
                    double domestic_share, std::vector<Index>& out) {
  const Index n = static_cast<Index>(cum.size()) - 1, r = j / N;
  // Candidates available: the region's firms (minus j) for domestic draws.
  const Index pool = domestic_share >= 1.0 ? N - 1 : n - 1;
  d = std::min(d, pool);
  out.clear();
  auto draw = [&]() {
    const bool domestic = domestic_share >= 1.0 || (domestic_share > 0.0 && rng.uniform() < domestic_share);
    const Index lo = domestic ? r * N : 0, hi = domestic ? (r + 1) * N : n;
    const double t = cum[static_cast<size_t>(lo)] + rng.uniform() * (cum[static_cast<size_t>(hi)] - cum[static_cast<size_t>(lo)]);
    // First firm i in [lo, hi) with cum[i + 1] > t.
    const auto it = std::upper_bound(cum.begin() + lo + 1, cum.begin() + hi + 1, t);
    return std::clamp<Index>(static_cast<Index>(it - cum.begin()) - 1, lo, hi - 1);
  };
  // Draw in rounds until d distinct suppliers (hubs repeat often); the round
  // limit keeps pathological weight distributions from looping for long.
  for (int round = 0; round < 16 && static_cast<Index>(out.size()) < d; ++round) {
    const Index missing = d - static_cast<Index>(out.size());
    for (Index t = 0; t < missing; ++t) {
      const Index i = draw();
      if (i != j) out.push_back(i);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
  if (static_cast<Index>(out.size()) > d) out.resize(static_cast<size_t>(d));
}

}  // namespace

MrioSystem firm_network(const FirmNetworkOptions& o) {
  validate(o);
  using namespace detail;
  const Index n = o.firms, R = o.regions, N = n / R, c = o.fd_categories, k = o.stressors;

  // 1. Sizes, supplier weights and raw in-degrees, one stream per firm.
  Vector x(n);
  std::vector<double> cum(static_cast<size_t>(n) + 1, 0.0), raw(static_cast<size_t>(n));
  const double inv_tail = 1.0 / kSizeTail, inv_deg = 1.0 / (o.exponent - 1.0);
  for (Index i = 0; i < n; ++i) {
    Rng rng(o.seed, Stream::FirmSize, static_cast<std::uint64_t>(i));
    const double s = std::min(kMaxSize, std::pow(rng.uniform_open(), -inv_tail));
    x[i] = 10.0 * s;
    cum[static_cast<size_t>(i) + 1] = cum[static_cast<size_t>(i)] + std::pow(s, kWeightPower);
    raw[static_cast<size_t>(i)] = std::pow(rng.uniform_open(), -inv_deg);
  }
  // 2. In-degrees scaled to the target number of links. Clamping to [1, d_cap]
  // moves the total, so the scale is corrected a few times (sums in fixed order).
  const Index d_cap = std::max<Index>(1, std::min<Index>(n - 1, n / 20));
  auto degree = [&](double r, double scale) { return std::clamp<Index>(std::llround(r * scale), 1, d_cap); };
  double raw_sum = 0;
  for (double v : raw) raw_sum += v;
  double scale = static_cast<double>(o.links) / raw_sum;
  for (int it = 0; it < 8; ++it) {
    double total = 0;
    for (double v : raw) total += static_cast<double>(degree(v, scale));
    if (std::abs(total - static_cast<double>(o.links)) <= 0.002 * static_cast<double>(o.links)) break;
    scale *= static_cast<double>(o.links) / total;
  }

  // 3. Columns: distinct suppliers by weight, lognormal values, column sum U(0.2, 0.7).
  SparseMatrix A = assemble_columns(
      n, o.threads, static_cast<double>(o.links), [&](Index begin, Index end, ColumnSink& sink) {
        std::vector<Index> suppliers;
        for (Index j = begin; j < end; ++j) {
          Rng rng(o.seed, Stream::FirmSuppliers, static_cast<std::uint64_t>(j));
          const Index d = degree(raw[static_cast<size_t>(j)], scale);
          draw_suppliers(rng, cum, j, N, d, R > 1 ? o.domestic_link_share : 1.0, suppliers);
          const double share = rng.uniform(kShareLo, kShareHi);
          const size_t first = sink.vals.size();
          double sum = 0;
          for (Index i : suppliers) {
            const double v = rng.lognormal(0.0, 1.0);
            sink.rows.push_back(i);
            sink.vals.push_back(v);
            sum += v;
          }
          for (size_t p = first; p < sink.vals.size(); ++p) sink.vals[p] *= share / sum;
          sink.end_column();
        }
      });

  // 4. Balance (rows capped, y = x - A x split over regions and categories).
  Blueprint bp = sized_blueprint(R, N, c, o.seed, o.threads);
  bp.x = std::move(x);
  bp.region_weight.assign(static_cast<size_t>(R), 0.0);
  for (Index i = 0; i < n; ++i) bp.region_weight[static_cast<size_t>(i / N)] += bp.x[i];
  bp.category_weight = household_heavy_categories(N, c, o.seed);
  Economy e = balance_economy(bp, std::move(A));

  // Intensities (kt per M.USD): stressor 0 about 0.3 on average, firm effects sigma 1.5.
  Matrix S(k, n);
  for (Index s = 0; s < k; ++s) {
    Rng ri(o.seed, Stream::Intensities, static_cast<std::uint64_t>(s));
    const double mu = std::log(0.3) + (s == 0 ? 0.0 : 1.5 * ri.normal());
    for (Index i = 0; i < n; ++i) S(s, i) = std::exp(mu + 1.5 * ri.normal());
  }
  Matrix F_Y = household_emissions(S, e.x, R, c, o.seed);
  Vector v = value_added(e.A, e.x);
  return MrioSystem::from_A_x(synthetic_labels(R, N, c, k, "F"), std::move(e.A), std::move(e.x), std::move(e.Y),
                              std::move(S), std::move(F_Y), std::move(v));
}

}  // namespace mriotrace::datasets
