// Synthetic MRIO systems: the random economy shared by generate() and
// china_synthetic(), and generate() itself.
//
// How a system is built (everything here is SYNTHETIC):
//   1. gross output x, lognormal by region size and sector size;
//   2. A column by column: a dense-ish domestic block (diagonal always kept)
//      and sparse trade blocks, entries weighted by the supplier's output,
//      rescaled to a random domestic and trade share per column (column sums
//      <= 0.89, so value added is positive and I - A is productive);
//   3. rows whose intermediate sales A x would leave too little for final
//      demand are scaled down, then y = x - A x is split over the regions'
//      final-demand columns, mostly to the row's own region;
//   4. stressor intensities S lognormal with sector effects spanning orders of
//      magnitude, household emissions F_Y, value added v = x - 1'Z.
// Choosing x first makes the system balanced by construction (x = A x + Y 1)
// without any solve, so even n = 250,000 tables are built in seconds with
// O(nnz + n R c) memory: no n x n dense object is ever formed.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "synth.hpp"

namespace mriotrace::datasets {
namespace detail {
namespace {

/// Scratch of one column: (row, weight) pairs of the domestic and the trade part.
struct ColumnScratch {
  std::vector<Index> dom_rows, trade_rows;
  std::vector<double> dom_w, trade_w;
};

/// Sparsity probabilities that do not change from column to column.
struct ColumnPlan {
  double p_offdiag = 0;   ///< off-diagonal probability in a domestic block
  double p_trade = 0;     ///< candidate probability in the trade blocks (before thinning)
  double trad_max = 1;    ///< max tradability (thinning reference)
};

ColumnPlan plan_columns(const Blueprint& bp) {
  ColumnPlan plan;
  // The diagonal is always present, so the off-diagonal probability is set for
  // an expected block density of exactly domestic_density (when >= 1/N).
  if (bp.N > 1)
    plan.p_offdiag = std::clamp((bp.domestic_density * static_cast<double>(bp.N) - 1.0) /
                                    static_cast<double>(bp.N - 1), 0.0, 1.0);
  plan.trad_max = bp.tradability.empty() ? 1.0 : *std::max_element(bp.tradability.begin(), bp.tradability.end());
  plan.p_trade = std::min(1.0, bp.trade_density * plan.trad_max);
  return plan;
}

/// Append column `col` of A (rows ascending) to rows/vals.
void build_column(const Blueprint& bp, const ColumnPlan& plan, Index col, ColumnScratch& w,
                  std::vector<Index>& rows, std::vector<double>& vals) {
  const Index N = bp.N, R = bp.R;
  const Index s = col / N, j = col % N;
  Rng rng(bp.seed, Stream::Coefficients, static_cast<std::uint64_t>(col));
  const double spread = bp.share_spread;
  double dshare = bp.domestic_share * rng.uniform(1.0 - spread, 1.0 + spread);
  double tshare = R > 1 ? bp.trade_share * rng.uniform(1.0 - spread, 1.0 + spread) : 0.0;

  auto supplier = [&](Index i) { return bp.supplier_weight.empty() ? 1.0 : bp.supplier_weight[static_cast<size_t>(i)]; };
  w.dom_rows.clear();
  w.dom_w.clear();
  w.trade_rows.clear();
  w.trade_w.clear();
  auto add_domestic = [&](Index i, double boost) {
    const Index row = s * N + i;
    w.dom_rows.push_back(row);
    w.dom_w.push_back(boost * supplier(i) * bp.x[row] * rng.lognormal(0.0, bp.value_sigma));
  };
  // Off-diagonal positions t in [0, N-1) map to sectors skipping j; the
  // diagonal is slotted in at its place to keep rows ascending.
  bool diag_done = false;
  bernoulli_positions(rng, N - 1, plan.p_offdiag, [&](Index t) {
    const Index i = t < j ? t : t + 1;
    if (!diag_done && i > j) {
      add_domestic(j, bp.own_sector_boost);
      diag_done = true;
    }
    add_domestic(i, 1.0);
  });
  if (!diag_done) add_domestic(j, bp.own_sector_boost);

  if (R > 1) {
    // Positions t in [0, (R-1) N) over the other regions, region-major, skipping region s.
    bernoulli_positions(rng, (R - 1) * N, plan.p_trade, [&](Index t) {
      Index r = t / N;
      const Index i = t % N;
      if (r >= s) ++r;
      if (!bp.tradability.empty()) {
        // Thinning: keep with probability tradability[i] / trad_max.
        const double keep = bp.tradability[static_cast<size_t>(i)] / plan.trad_max;
        if (keep < 1.0 && rng.uniform() >= keep) return;
      }
      const Index row = r * N + i;
      w.trade_rows.push_back(row);
      w.trade_w.push_back(supplier(i) * bp.x[row] * rng.lognormal(0.0, bp.value_sigma));
    });
  }
  if (w.trade_rows.empty()) tshare = 0.0;
  if (dshare + tshare > bp.max_column_sum) {
    const double f = bp.max_column_sum / (dshare + tshare);
    dshare *= f;
    tshare *= f;
  }
  double dsum = 0, tsum = 0;
  for (double v : w.dom_w) dsum += v;
  for (double v : w.trade_w) tsum += v;
  const double dscale = dshare / dsum, tscale = tsum > 0 ? tshare / tsum : 0.0;

  // Merge: trade rows above region s, the domestic block, trade rows below it.
  const Index block_begin = s * N;
  size_t t = 0;
  for (; t < w.trade_rows.size() && w.trade_rows[t] < block_begin; ++t) {
    rows.push_back(w.trade_rows[t]);
    vals.push_back(w.trade_w[t] * tscale);
  }
  for (size_t d = 0; d < w.dom_rows.size(); ++d) {
    rows.push_back(w.dom_rows[d]);
    vals.push_back(w.dom_w[d] * dscale);
  }
  for (; t < w.trade_rows.size(); ++t) {
    rows.push_back(w.trade_rows[t]);
    vals.push_back(w.trade_w[t] * tscale);
  }
}

/// A as CSC for the blueprint's block structure (see build_column).
SparseMatrix random_coefficients(const Blueprint& bp) {
  const Index n = bp.R * bp.N;
  const ColumnPlan plan = plan_columns(bp);
  const double per_column = 1.0 + plan.p_offdiag * static_cast<double>(bp.N - 1) +
                            plan.p_trade * static_cast<double>((bp.R - 1) * bp.N);
  return assemble_columns(n, bp.threads, per_column * static_cast<double>(n),
                          [&](Index begin, Index end, ColumnSink& sink) {
                            ColumnScratch scratch;
                            for (Index j = begin; j < end; ++j) {
                              build_column(bp, plan, j, scratch, sink.rows, sink.vals);
                              sink.end_column();
                            }
                          });
}

/// Split y (n) into Y (n x R*c), see Blueprint.
Matrix split_final_demand(const Blueprint& bp, const Vector& y) {
  const Index R = bp.R, N = bp.N, c = bp.c, n = R * N;
  Matrix Y = Matrix::Zero(n, R * c);
  Rng rng(bp.seed, Stream::Demand);
  std::vector<double> cw(static_cast<size_t>(c));
  std::vector<Index> partners;
  std::vector<double> pw;
  auto to_categories = [&](Index row, Index i, Index r, double amount) {
    double sum = 0;
    for (Index f = 0; f < c; ++f) {
      const double base = bp.category_weight(i, f);
      cw[static_cast<size_t>(f)] = base > 0 ? base * rng.lognormal(0.0, 0.3) : 0.0;
      sum += cw[static_cast<size_t>(f)];
    }
    for (Index f = 0; f < c; ++f) Y(row, r * c + f) += amount * cw[static_cast<size_t>(f)] / sum;
  };
  const Index others = R - 1;
  const Index P = std::min(others, bp.max_partners);
  for (Index row = 0; row < n; ++row) {
    const Index o = row / N, i = row % N;
    const double dom = R > 1 ? rng.uniform(bp.domestic_fd_lo, bp.domestic_fd_hi) : 1.0;
    to_categories(row, i, o, y[row] * dom);
    if (R == 1) continue;
    partners.clear();
    if (others <= bp.max_partners) {
      for (Index r = 0; r < R; ++r)
        if (r != o) partners.push_back(r);
    } else {
      // Large R: each row sells to final demand in only P other regions (sparser Y).
      while (static_cast<Index>(partners.size()) < P) {
        Index r = rng.below(others);
        if (r >= o) ++r;
        if (std::find(partners.begin(), partners.end(), r) == partners.end()) partners.push_back(r);
      }
    }
    pw.resize(partners.size());
    double psum = 0;
    for (size_t q = 0; q < partners.size(); ++q) {
      pw[q] = bp.region_weight[static_cast<size_t>(partners[q])] * rng.lognormal(0.0, 0.5);
      psum += pw[q];
    }
    for (size_t q = 0; q < partners.size(); ++q) to_categories(row, i, partners[q], y[row] * (1.0 - dom) * pw[q] / psum);
  }
  return Y;
}

}  // namespace

SparseMatrix assemble_columns(Index n, int threads, double expected_nnz, const ColumnBlockBuilder& build) {
  // Fixed blocks of columns, so results do not depend on the thread count.
  // Blocks are generated a wave at a time into reused buffers and appended to
  // A's storage, which is reserved once for the expected nnz: peak memory is
  // about nnz plus one wave, and no fresh pages are touched twice.
  constexpr Index kBlock = 256;
  const Index nblocks = (n + kBlock - 1) / kBlock;
  const Index wave = 4 * static_cast<Index>(resolve_threads(threads));
  std::vector<ColumnSink> buffers(static_cast<size_t>(std::min(wave, nblocks)));

  SparseMatrix A(n, n);
  A.data().reserve(static_cast<Index>(expected_nnz * 1.02) + 1024);
  Index* outer = A.outerIndexPtr();
  outer[0] = 0;
  Index offset = 0, col = 0;
  for (Index first = 0; first < nblocks; first += wave) {
    const Index last = std::min(nblocks, first + wave);
    parallel_for(first, last, threads, [&](std::int64_t b) {
      ColumnSink& sink = buffers[static_cast<size_t>(b - first)];
      sink.rows.clear();
      sink.vals.clear();
      sink.col_end.clear();
      const Index begin = b * kBlock, end = std::min(n, begin + kBlock);
      build(begin, end, sink);
      MRIOTRACE_CHECK(static_cast<Index>(sink.col_end.size()) == end - begin,
                      "internal: a column builder produced ", sink.col_end.size(), " columns; expected ", end - begin);
    });
    for (Index b = first; b < last; ++b) {
      const ColumnSink& sink = buffers[static_cast<size_t>(b - first)];
      const auto len = static_cast<Index>(sink.rows.size());
      A.data().resize(offset + len, 0.1);  // grows (rarely) past the reservation
      std::copy(sink.rows.begin(), sink.rows.end(), A.innerIndexPtr() + offset);
      std::copy(sink.vals.begin(), sink.vals.end(), A.valuePtr() + offset);
      for (Index e : sink.col_end) outer[++col] = offset + e;
      offset += len;
    }
  }
  return A;
}

Economy random_economy(const Blueprint& bp) {
  const Index n = bp.R * bp.N;
  MRIOTRACE_CHECK(bp.x.size() == n && (bp.x.array() > 0).all(), "internal: blueprint x must have n positive entries");
  return balance_economy(bp, random_coefficients(bp));
}

Economy balance_economy(const Blueprint& bp, SparseMatrix&& A) {
  const Index n = bp.R * bp.N;
  MRIOTRACE_CHECK(bp.x.size() == n && (bp.x.array() > 0).all(), "internal: blueprint x must have n positive entries");
  MRIOTRACE_CHECK(A.rows() == n && A.cols() == n, "internal: A must be n x n");
  MRIOTRACE_CHECK(bp.category_weight.rows() == bp.N && bp.category_weight.cols() == bp.c,
                  "internal: blueprint category_weight must be N x c");
  MRIOTRACE_CHECK(static_cast<Index>(bp.region_weight.size()) == bp.R, "internal: blueprint region_weight must have R entries");
  Economy e;
  e.x = bp.x;
  e.A.swap(A);  // Eigen 3.4's SparseMatrix has no move constructor: std::move would copy

  // Cap the intermediate sales of each row: (A x)_i <= (1 - min_final_share) x_i.
  // Scaling row i only lowers column sums, so A stays productive.
  Vector ax = e.A * e.x;
  Vector row_factor = Vector::Ones(n);
  bool capped = false;
  for (Index i = 0; i < n; ++i) {
    const double limit = (1.0 - bp.min_final_share) * e.x[i];
    if (ax[i] > limit) {
      row_factor[i] = limit / ax[i];
      capped = true;
    }
  }
  if (capped) {
    double* values = e.A.valuePtr();
    const Index* inner = e.A.innerIndexPtr();
    for (Index p = 0; p < e.A.nonZeros(); ++p) values[p] *= row_factor[inner[p]];
    ax = e.A * e.x;
  }
  const Vector y = e.x - ax;  // >= min_final_share * x > 0
  e.Y = split_final_demand(bp, y);
  return e;
}

Vector gross_output(const std::vector<double>& region_weight, const std::vector<double>& sector_weight,
                    const Matrix& affinity, double sigma, bool normalise_per_sector, std::uint64_t seed) {
  const Index R = static_cast<Index>(region_weight.size()), N = static_cast<Index>(sector_weight.size());
  Vector x(R * N);
  Rng rng(seed, Stream::Output);
  for (Index r = 0; r < R; ++r)
    for (Index i = 0; i < N; ++i) {
      const double aff = affinity.size() > 0 ? affinity(r, i) : 1.0;
      x[r * N + i] = region_weight[static_cast<size_t>(r)] * sector_weight[static_cast<size_t>(i)] * aff *
                     rng.lognormal(0.0, sigma);
    }
  if (normalise_per_sector)
    for (Index i = 0; i < N; ++i) {
      double total = 0;
      for (Index r = 0; r < R; ++r) total += x[r * N + i];
      for (Index r = 0; r < R; ++r) x[r * N + i] *= sector_weight[static_cast<size_t>(i)] / total;
    }
  return x;
}

Vector value_added(const SparseMatrix& A, const Vector& x) {
  Vector v(x.size());
  for (Index j = 0; j < A.outerSize(); ++j) {
    double colsum = 0;
    for (SparseMatrix::InnerIterator it(A, j); it; ++it) colsum += it.value();
    v[j] = x[j] * (1.0 - colsum);
  }
  return v;
}

Matrix regional_production_flows(const Matrix& S, const Vector& x, Index R) {
  const Index N = x.size() / R;
  Matrix out(S.rows(), R);
  for (Index r = 0; r < R; ++r) out.col(r) = S.middleCols(r * N, N) * x.segment(r * N, N);
  return out;
}

Matrix household_emissions(const Matrix& S, const Vector& x, Index R, Index c, std::uint64_t seed) {
  const Matrix prod = regional_production_flows(S, x, R);
  Matrix per_region = Matrix::Zero(S.rows(), R);
  Rng rf(seed, Stream::FinalDemandStressors);
  for (Index r = 0; r < R; ++r) per_region(0, r) = rf.uniform(0.05, 0.15) * prod(0, r);
  return household_stressors(per_region, c);
}

Blueprint sized_blueprint(Index R, Index N, Index c, std::uint64_t seed, int threads) {
  Blueprint bp;
  bp.R = R;
  bp.N = N;
  bp.c = c;
  bp.seed = seed;
  bp.threads = threads;
  return bp;
}

Matrix household_heavy_categories(Index N, Index c, std::uint64_t seed) {
  Matrix w(N, c);
  Rng rc(seed, Stream::CategoryWeights);
  for (Index i = 0; i < N; ++i)
    for (Index f = 0; f < c; ++f) w(i, f) = (f == 0 ? 3.0 : 1.0) * rc.lognormal(0.0, 0.8);
  return w;
}

Labels synthetic_labels(Index R, Index N, Index c, Index k, const std::string& sector_prefix) {
  // Appending (rather than "R" + std::to_string(r)) avoids GCC 12's false -Wrestrict alarm.
  auto name = [](const std::string& prefix, Index i) {
    std::string s = prefix;
    s += std::to_string(i);
    return s;
  };
  Labels labels;
  for (Index r = 0; r < R; ++r) labels.regions.push_back(name("R", r));
  for (Index i = 0; i < N; ++i) labels.sectors.push_back(name(sector_prefix, i));
  for (Index f = 0; f < c; ++f) labels.fd_categories.push_back(name("FD", f));
  for (Index s = 0; s < k; ++s) {
    labels.stressors.push_back(name("stressor", s));
    labels.stressor_units.push_back("kt");
  }
  labels.monetary_unit = "synthetic M.USD";
  return labels;
}

Matrix household_stressors(const Matrix& per_region, Index c) {
  Matrix F_Y = Matrix::Zero(per_region.rows(), per_region.cols() * c);
  for (Index r = 0; r < per_region.cols(); ++r) F_Y.col(r * c) = per_region.col(r);
  return F_Y;
}

}  // namespace detail

namespace {

void validate(const GeneratorOptions& o) {
  MRIOTRACE_CHECK(o.regions >= 1, "regions = ", o.regions, "; expected at least 1");
  MRIOTRACE_CHECK(o.sectors >= 1, "sectors = ", o.sectors, "; expected at least 1");
  MRIOTRACE_CHECK(o.fd_categories >= 1, "fd_categories = ", o.fd_categories, "; expected at least 1");
  MRIOTRACE_CHECK(o.stressors >= 1, "stressors = ", o.stressors, "; expected at least 1");
  MRIOTRACE_CHECK(o.domestic_density > 0 && o.domestic_density <= 1, "domestic_density = ", o.domestic_density,
                  "; expected a fraction in (0, 1]");
  MRIOTRACE_CHECK(o.trade_density > 0 && o.trade_density <= 1, "trade_density = ", o.trade_density,
                  "; expected a fraction in (0, 1]");
  MRIOTRACE_CHECK(o.domestic_share > 0 && o.domestic_share < 0.9, "domestic_share = ", o.domestic_share,
                  "; expected a column-sum share in (0, 0.9)");
  MRIOTRACE_CHECK(o.trade_share >= 0 && o.trade_share < 0.9, "trade_share = ", o.trade_share,
                  "; expected a column-sum share in [0, 0.9)");
  MRIOTRACE_CHECK(o.domestic_share + o.trade_share < 0.9, "domestic_share + trade_share = ",
                  o.domestic_share + o.trade_share, "; expected below 0.9 (column sums of A must stay below 0.9)");
  MRIOTRACE_CHECK(o.threads >= 0, "threads = ", o.threads, "; expected 0 (use the environment) or a positive count");
  // Size arithmetic in floating point before any allocation.
  const double R = static_cast<double>(o.regions), N = static_cast<double>(o.sectors);
  const double n = R * N;
  MRIOTRACE_CHECK(n <= 2147483647.0, "regions x sectors = ", n, " is too large; expected n below 2^31");
  const double y_entries = n * R * static_cast<double>(o.fd_categories);
  MRIOTRACE_CHECK(y_entries <= 4294967296.0, "final demand Y would have ", y_entries,
                  " dense entries (n x regions x fd_categories); expected at most 2^32 (32 GB)");
  const double nnz = n * (o.domestic_density * N + o.trade_density * (R - 1) * N);
  MRIOTRACE_CHECK(nnz <= 4294967296.0, "A would have about ", nnz,
                  " nonzeros (n x (domestic_density x sectors + trade_density x (regions - 1) x sectors)); "
                  "expected at most 2^32: lower the densities");
}

}  // namespace

MrioSystem generate(const GeneratorOptions& o) {
  validate(o);
  using namespace detail;
  const Index R = o.regions, N = o.sectors, c = o.fd_categories, k = o.stressors, n = R * N;

  Blueprint bp = sized_blueprint(R, N, c, o.seed, o.threads);
  bp.domestic_density = o.domestic_density;
  bp.trade_density = o.trade_density;
  bp.domestic_share = o.domestic_share;
  bp.trade_share = o.trade_share;

  // Economy sizes vary by about an order of magnitude between regions and sectors.
  std::vector<double> region_size(static_cast<size_t>(R)), sector_size(static_cast<size_t>(N));
  Rng rr(o.seed, Stream::RegionSize), rs(o.seed, Stream::SectorSize);
  for (auto& w : region_size) w = rr.lognormal(0.0, 1.0);
  for (auto& w : sector_size) w = rs.lognormal(0.0, 1.0);
  bp.x = 1000.0 * gross_output(region_size, sector_size, Matrix(), 0.5, false, o.seed);  // ~1000 M.USD per cell
  bp.region_weight = region_size;
  // Households (category 0) buy most final demand; the split varies by sector.
  bp.category_weight = household_heavy_categories(N, c, o.seed);

  Economy e = random_economy(bp);

  // Intensities (kt per M.USD): stressor 0 is CO2-like, about 0.3 kt/M.USD on
  // average; sector effects (sigma 1.5) span about three orders of magnitude.
  Matrix S(k, n);
  Rng ri(o.seed, Stream::Intensities);
  std::vector<double> sector_effect(static_cast<size_t>(N)), region_effect(static_cast<size_t>(R));
  for (Index s = 0; s < k; ++s) {
    const double mu = std::log(0.3) + (s == 0 ? 0.0 : 1.5 * ri.normal());
    for (auto& v : sector_effect) v = 1.5 * ri.normal();
    for (auto& v : region_effect) v = 0.3 * ri.normal();
    for (Index col = 0; col < n; ++col)
      S(s, col) = std::exp(mu + sector_effect[static_cast<size_t>(col % N)] +
                           region_effect[static_cast<size_t>(col / N)] + 0.3 * ri.normal());
  }

  // Households' direct emissions of stressor 0: 5-15 % of the region's industrial emissions.
  Matrix F_Y = o.final_demand_stressors ? household_emissions(S, e.x, R, c, o.seed) : Matrix();
  Vector v = o.value_added ? value_added(e.A, e.x) : Vector();
  return MrioSystem::from_A_x(synthetic_labels(R, N, c, k, "S"), std::move(e.A), std::move(e.x), std::move(e.Y), std::move(S),
                              std::move(F_Y), std::move(v));
}

}  // namespace mriotrace::datasets
