// Synthetic-data tests: determinism, shapes and labels, the structural
// promises of the generator (column sums, densities, balance, positivity,
// mostly-domestic final demand), the China default system, bad options, and
// a large-scale smoke test that must stay fast.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/system.hpp"

using namespace mriotrace;
using datasets::GeneratorOptions;

namespace {

Vector column_sums(const SparseMatrix& A) {
  Vector s = Vector::Zero(A.cols());
  for (Index j = 0; j < A.outerSize(); ++j)
    for (SparseMatrix::InnerIterator it(A, j); it; ++it) s[j] += it.value();
  return s;
}

/// max_i |x - A x - Y 1|_i / x_i
double balance_error(const MrioSystem& s) {
  const Vector r = s.x() - s.A() * s.x() - s.Y().rowwise().sum();
  return (r.array().abs() / s.x().array()).maxCoeff();
}

bool same_sparse(const SparseMatrix& a, const SparseMatrix& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols() || a.nonZeros() != b.nonZeros()) return false;
  return std::equal(a.outerIndexPtr(), a.outerIndexPtr() + a.outerSize() + 1, b.outerIndexPtr()) &&
         std::equal(a.innerIndexPtr(), a.innerIndexPtr() + a.nonZeros(), b.innerIndexPtr()) &&
         std::equal(a.valuePtr(), a.valuePtr() + a.nonZeros(), b.valuePtr());
}

void expect_identical(const MrioSystem& a, const MrioSystem& b) {
  EXPECT_TRUE(same_sparse(a.A(), b.A()));
  EXPECT_EQ(a.x(), b.x());
  EXPECT_EQ(a.Y(), b.Y());
  EXPECT_EQ(a.S(), b.S());
  EXPECT_EQ(a.F_Y(), b.F_Y());
  EXPECT_EQ(a.v(), b.v());
}

GeneratorOptions sized(Index regions, Index sectors, Index categories = 2, Index stressors = 2) {
  GeneratorOptions o;
  o.regions = regions;
  o.sectors = sectors;
  o.fd_categories = categories;
  o.stressors = stressors;
  return o;
}

GeneratorOptions medium(double domestic, double trade) {
  GeneratorOptions o = sized(10, 50);
  o.domestic_density = domestic;
  o.trade_density = trade;
  return o;
}

/// Nonzero fractions of A's domestic blocks and of its trade blocks.
std::pair<double, double> block_densities(const MrioSystem& s) {
  const Index N = s.N(), R = s.R();
  double dom = 0, trade = 0;
  for (Index j = 0; j < s.n(); ++j)
    for (SparseMatrix::InnerIterator it(s.A(), j); it; ++it) (it.row() / N == j / N ? dom : trade) += 1;
  const double block = static_cast<double>(N) * static_cast<double>(N);
  return {dom / (static_cast<double>(R) * block), R > 1 ? trade / (static_cast<double>(R * (R - 1)) * block) : 0.0};
}

void expect_input_error(GeneratorOptions o, const std::string& names) {
  try {
    datasets::generate(o);
    ADD_FAILURE() << "no InputError for bad " << names;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(names), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(GeneratorTest, SameSeedGivesIdenticalSystemsDifferentSeedDoesNot) {
  GeneratorOptions o = medium(0.3, 0.05);
  o.stressors = 3;
  o.seed = 7;
  const auto a = datasets::generate(o), b = datasets::generate(o);
  expect_identical(a, b);
  // The thread count only changes who builds which columns, never the numbers.
  o.threads = 1;
  const auto one = datasets::generate(o);
  o.threads = 3;
  const auto three = datasets::generate(o);
  expect_identical(a, one);
  expect_identical(a, three);

  o.seed = 8;
  const auto c = datasets::generate(o);
  EXPECT_FALSE(same_sparse(a.A(), c.A()));
  EXPECT_GT((a.x() - c.x()).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_GT((a.S() - c.S()).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_GT((a.Y() - c.Y()).cwiseAbs().maxCoeff(), 0.0);
}

TEST(GeneratorTest, ShapesLabelsAndUnits) {
  const auto s = datasets::generate(sized(3, 4, 2, 3));
  EXPECT_EQ(s.R(), 3);
  EXPECT_EQ(s.N(), 4);
  EXPECT_EQ(s.n(), 12);
  EXPECT_EQ(s.A().rows(), 12);
  EXPECT_EQ(s.A().cols(), 12);
  EXPECT_EQ(s.Y().rows(), 12);
  EXPECT_EQ(s.Y().cols(), 6);
  EXPECT_EQ(s.S().rows(), 3);
  EXPECT_EQ(s.S().cols(), 12);
  EXPECT_EQ(s.F_Y().rows(), 3);
  EXPECT_EQ(s.F_Y().cols(), 6);
  EXPECT_EQ(s.v().size(), 12);
  const Labels& l = s.labels();
  EXPECT_EQ(l.regions, (std::vector<std::string>{"R0", "R1", "R2"}));
  EXPECT_EQ(l.sectors, (std::vector<std::string>{"S0", "S1", "S2", "S3"}));
  EXPECT_EQ(l.fd_categories, (std::vector<std::string>{"FD0", "FD1"}));
  EXPECT_EQ(l.stressors, (std::vector<std::string>{"stressor0", "stressor1", "stressor2"}));
  EXPECT_EQ(l.stressor_units, (std::vector<std::string>{"kt", "kt", "kt"}));
  EXPECT_EQ(l.monetary_unit, "synthetic M.USD");
}

TEST(GeneratorTest, ColumnSumsBetweenZeroAndPointNine) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    GeneratorOptions o = medium(0.6, 0.1);
    o.seed = seed;
    o.domestic_share = 0.55;  // with the +-50 % spread, raw shares reach 1.2: the cap must hold
    o.trade_share = 0.25;
    const auto s = datasets::generate(o);
    const Vector cs = column_sums(s.A());
    EXPECT_GT(cs.minCoeff(), 0.0);
    EXPECT_LE(cs.maxCoeff(), 0.9);
    EXPECT_GE(s.A().coeffs().minCoeff(), 0.0);
    // Columns vary: the shares are random per column, not constant.
    EXPECT_GT(cs.maxCoeff() - cs.minCoeff(), 0.1);
  }
}

TEST(GeneratorTest, DensitiesCloseToRequested) {
  // Dense path (per-position draws) and sparse path (geometric gaps).
  for (auto [dom, trade] : {std::pair{0.6, 0.1}, std::pair{0.3, 0.05}, std::pair{0.08, 0.01}}) {
    const auto s = datasets::generate(medium(dom, trade));
    const auto [d, t] = block_densities(s);
    // 25,000 domestic and 225,000 trade positions: about 5 standard deviations.
    EXPECT_NEAR(d, dom, 5 * std::sqrt(dom * (1 - dom) / 25000) + 1e-9) << "domestic " << dom;
    EXPECT_NEAR(t, trade, 5 * std::sqrt(trade * (1 - trade) / 225000) + 1e-9) << "trade " << trade;
    // The diagonal is always present.
    for (Index j = 0; j < s.n(); ++j) EXPECT_GT(s.A().coeff(j, j), 0.0);
  }
  // A domestic density below 1/N keeps only the diagonal.
  const auto s = datasets::generate(medium(0.001, 0.01));
  EXPECT_NEAR(block_densities(s).first, 1.0 / 50, 1e-12);
}

TEST(GeneratorTest, OutputsPositiveBalancedAndValueAddedConsistent) {
  GeneratorOptions o = medium(0.3, 0.05);
  o.fd_categories = 3;
  const auto s = datasets::generate(o);
  EXPECT_GT(s.x().minCoeff(), 0.0);
  ASSERT_TRUE(s.has_value_added());
  EXPECT_GT(s.v().minCoeff(), 0.0);
  EXPECT_GE(s.Y().minCoeff(), 0.0);
  EXPECT_GT(s.Y().rowwise().sum().minCoeff(), 0.0);
  EXPECT_LT(balance_error(s), 1e-10);
  // v = x - column sums of Z = x - 1'A diag(x).
  const Vector v = s.x() - (column_sums(s.A()).array() * s.x().array()).matrix();
  EXPECT_LT(((v - s.v()).array().abs() / s.x().array()).maxCoeff(), 1e-12);
  // Every row keeps at least 10 % of its output for final demand.
  EXPECT_GE((s.Y().rowwise().sum().array() / s.x().array()).minCoeff(), 0.1 - 1e-12);
  // Intensities span orders of magnitude across sectors.
  EXPECT_GT(s.S().row(0).maxCoeff() / s.S().row(0).minCoeff(), 100.0);
  EXPECT_GT(s.S().minCoeff(), 0.0);
}

TEST(GeneratorTest, FinalDemandMostlyDomesticAndSparseForManyRegions) {
  const auto s = datasets::generate(sized(5, 6));
  const Index N = s.N(), c = s.c();
  for (Index row = 0; row < s.n(); ++row) {
    const double total = s.Y().row(row).sum();
    const double own = s.Y().row(row).segment((row / N) * c, c).sum();
    EXPECT_GE(own / total, 0.8 - 1e-12);
    EXPECT_LE(own / total, 0.9 + 1e-12);
  }
  // With 40 regions each row sells to final demand in its own and at most 30 others.
  const auto big = datasets::generate(sized(40, 3, 1));
  for (Index row = 0; row < big.n(); ++row) {
    const Index used = (big.Y().row(row).array() > 0).count();
    EXPECT_EQ(used, 31) << "row " << row;
  }
  EXPECT_LT(balance_error(big), 1e-10);
}

TEST(GeneratorTest, FinalDemandStressorsAndOptionalParts) {
  GeneratorOptions o = sized(4, 5);
  const auto s = datasets::generate(o);
  ASSERT_TRUE(s.has_F_Y());
  const Matrix F = s.F();
  for (Index r = 0; r < s.R(); ++r) {
    // Households (first category) emit 5-15 % of the region's industrial stressor 0.
    const double industry = F.row(0).segment(r * s.N(), s.N()).sum();
    EXPECT_GE(s.F_Y()(0, r * 2), 0.05 * industry * (1 - 1e-12));
    EXPECT_LE(s.F_Y()(0, r * 2), 0.15 * industry * (1 + 1e-12));
    EXPECT_EQ(s.F_Y()(0, r * 2 + 1), 0.0);
    EXPECT_EQ(s.F_Y()(1, r * 2), 0.0);
  }
  o.final_demand_stressors = false;
  o.value_added = false;
  const auto bare = datasets::generate(o);
  EXPECT_FALSE(bare.has_F_Y());
  EXPECT_FALSE(bare.has_value_added());
  // The economy itself does not depend on these switches.
  EXPECT_TRUE(same_sparse(s.A(), bare.A()));
  EXPECT_EQ(s.x(), bare.x());
}

TEST(GeneratorTest, SingleRegionAndSingleSector) {
  const auto s = datasets::generate(sized(1, 1, 1, 1));
  EXPECT_EQ(s.A().nonZeros(), 1);
  EXPECT_GT(s.A().coeff(0, 0), 0.0);
  EXPECT_LE(s.A().coeff(0, 0), 0.9);
  EXPECT_LT(balance_error(s), 1e-12);
}

TEST(GeneratorTest, BadOptionsThrowInputErrorNamingTheOption) {
  auto with = [](auto change) {
    GeneratorOptions o;
    change(o);
    return o;
  };
  expect_input_error(with([](auto& o) { o.regions = 0; }), "regions");
  expect_input_error(with([](auto& o) { o.sectors = -2; }), "sectors");
  expect_input_error(with([](auto& o) { o.fd_categories = 0; }), "fd_categories");
  expect_input_error(with([](auto& o) { o.stressors = 0; }), "stressors");
  expect_input_error(with([](auto& o) { o.domestic_density = 0; }), "domestic_density");
  expect_input_error(with([](auto& o) { o.domestic_density = 1.5; }), "domestic_density");
  expect_input_error(with([](auto& o) { o.trade_density = std::numeric_limits<double>::quiet_NaN(); }),
                     "trade_density");
  expect_input_error(with([](auto& o) { o.trade_density = -0.1; }), "trade_density");
  expect_input_error(with([](auto& o) { o.domestic_share = 0; }), "domestic_share");
  expect_input_error(with([](auto& o) { o.trade_share = -0.1; }), "trade_share");
  expect_input_error(with([](auto& o) {
                       o.domestic_share = 0.6;
                       o.trade_share = 0.35;
                     }),
                     "domestic_share + trade_share");
  expect_input_error(with([](auto& o) { o.threads = -1; }), "threads");
  // Sizes whose dense final demand could never be allocated are refused before any work.
  expect_input_error(with([](auto& o) {
                       o.regions = 100000;
                       o.sectors = 100000;
                     }),
                     "regions");
}

TEST(GeneratorTest, LargeSparseSystemIsFast) {
  // n = 20,000 at 1 % density (4 million nonzeros): built without any n x n
  // dense object; not solved here.
  GeneratorOptions o = sized(10, 2000, 1);
  o.domestic_density = 0.01;
  o.trade_density = 0.01;
  const auto start = std::chrono::steady_clock::now();
  const auto s = datasets::generate(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(s.n(), 20000);
  EXPECT_NEAR(s.density(), 0.01, 0.0005);
  EXPECT_LE(column_sums(s.A()).maxCoeff(), 0.9);
  EXPECT_LT(balance_error(s), 1e-10);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(seconds, 5.0) << "generate() for n = 20,000 at 1 % took " << seconds << " s";
#else
  (void)seconds;  // unoptimised or sanitised builds: correctness only
#endif
}

TEST(ChinaSyntheticTest, ShapesAndRealNames) {
  const auto s = datasets::china_synthetic();
  EXPECT_EQ(s.R(), 31);
  EXPECT_EQ(s.N(), 42);
  EXPECT_EQ(s.c(), 3);
  EXPECT_EQ(s.k(), 2);
  const Labels& l = s.labels();
  EXPECT_EQ(l.regions.front(), "Beijing");
  EXPECT_EQ(l.regions.back(), "Xinjiang");
  for (const char* p : {"Jilin", "Zhejiang", "Inner Mongolia", "Tibet", "Guangdong", "Ningxia"})
    EXPECT_NE(std::find(l.regions.begin(), l.regions.end(), p), l.regions.end()) << p;
  EXPECT_EQ(l.sectors[0], "01 Agriculture, forestry, animal husbandry and fishery");
  EXPECT_EQ(l.sectors[23], "24 Production and supply of electric power and heat power");
  EXPECT_EQ(l.sectors[41], "42 Public administration, social security, and social organizations");
  for (Index i = 0; i < 42; ++i) {
    char code[4];
    std::snprintf(code, sizeof code, "%02d ", static_cast<int>(i + 1));
    EXPECT_EQ(l.sectors[static_cast<size_t>(i)].rfind(code, 0), 0u) << l.sectors[static_cast<size_t>(i)];
  }
  EXPECT_EQ(l.fd_categories,
            (std::vector<std::string>{"Household consumption", "Government consumption", "Gross capital formation"}));
  EXPECT_EQ(l.stressors, (std::vector<std::string>{"CO2", "Energy"}));
  EXPECT_EQ(l.stressor_units, (std::vector<std::string>{"Mt CO2 (synthetic)", "Mtce (synthetic)"}));
  EXPECT_EQ(l.monetary_unit, "10^4 CNY (synthetic)");
}

TEST(ChinaSyntheticTest, DeterministicForTheSeed) {
  const auto a = datasets::china_synthetic(), b = datasets::china_synthetic(2017);
  expect_identical(a, b);
  const auto c = datasets::china_synthetic(1);
  EXPECT_GT((a.x() - c.x()).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_FALSE(same_sparse(a.A(), c.A()));
}

TEST(ChinaSyntheticTest, BalancedProductiveAndPositive) {
  const auto s = datasets::china_synthetic();
  EXPECT_LT(balance_error(s), 1e-10);
  EXPECT_LE(column_sums(s.A()).maxCoeff(), 0.9);
  EXPECT_GT(s.x().minCoeff(), 0.0);
  EXPECT_GT(s.v().minCoeff(), 0.0);
  EXPECT_GT(s.S().minCoeff(), 0.0);
  EXPECT_GE(s.Y().minCoeff(), 0.0);
}

TEST(ChinaSyntheticTest, PlausibleSizesAndIntensities) {
  const auto s = datasets::china_synthetic();
  const Index N = s.N();
  auto output = [&](const char* p) { return s.x().segment(s.region_index(p) * N, N).sum(); };
  EXPECT_GT(output("Guangdong"), 20 * output("Tibet"));
  EXPECT_GT(output("Jiangsu"), 10 * output("Qinghai"));
  EXPECT_GT(output("Shandong"), 5 * output("Ningxia"));
  // National gross output of the order of China's (about 2.2e10 x 10^4 CNY).
  EXPECT_GT(s.x().sum(), 1e10);
  EXPECT_LT(s.x().sum(), 5e10);

  const Index co2 = s.stressor_index("CO2");
  // 24 electric power vs the services 28 and 30..42 (29 transport burns fuel: not a low emitter).
  constexpr Index power = 23;
  auto intensity = [&](const char* p, Index i) { return s.S()(co2, s.region_index(p) * N + i); };
  for (Index r = 0; r < s.R(); ++r)
    for (Index i = 27; i < N; ++i) {
      if (i == 28) continue;
      EXPECT_GT(s.S()(co2, r * N + power), 2 * s.S()(co2, r * N + i))
          << s.labels().regions[static_cast<size_t>(r)] << ", " << s.labels().sectors[static_cast<size_t>(i)];
    }
  // Coal-based grids emit more per unit of power than hydro-based ones.
  EXPECT_GT(intensity("Shanxi", power), 3 * intensity("Sichuan", power));
  EXPECT_GT(intensity("Inner Mongolia", power), 3 * intensity("Yunnan", power));
  // Energy-intensive industry above services in the national mean.
  auto national = [&](Index i) {
    double e = 0, x = 0;
    for (Index r = 0; r < s.R(); ++r) {
      e += s.S()(co2, r * N + i) * s.x()[r * N + i];
      x += s.x()[r * N + i];
    }
    return e / x;
  };
  for (Index heavy : {23, 13, 12, 10, 11})  // power, metals, non-metallic minerals, petroleum, chemicals
    EXPECT_GT(national(heavy), 5 * national(31)) << s.labels().sectors[static_cast<size_t>(heavy)];
  // Calibrated totals: 9,600 Mt from industry + 400 Mt from households; 4,500 + 520 Mtce.
  EXPECT_NEAR(s.F().row(co2).sum() + s.F_Y().row(co2).sum(), 10000.0, 1e-6);
  EXPECT_NEAR(s.F().row(1).sum() + s.F_Y().row(1).sum(), 5020.0, 1e-6);
}

// The embedded real system (datasets/china_national/china_2018_153.h5): the
// exact numbers are checked against the sources in tests/python/test_demo_real.py.
TEST(ChinaDemoTest, EmbeddedRealSystemLoads) {
  const auto s = datasets::china_demo();
  EXPECT_EQ(s.labels().regions, std::vector<std::string>{"China"});
  EXPECT_EQ(s.N(), 153);
  EXPECT_EQ(s.labels().stressors, std::vector<std::string>{"CO2"});
  EXPECT_EQ(s.labels().stressor_units, std::vector<std::string>{"Mt CO2"});
  EXPECT_EQ(s.labels().monetary_unit, "10^4 CNY");
  const auto& sec = s.labels().sectors;
  for (const char* name : {"Smelting of steel", "Smelting of non-ferrous metals and manufacture of alloys",
                           "Processing of petroleum and nuclear fuel", "Processing of coking"})
    EXPECT_NE(std::find(sec.begin(), sec.end(), name), sec.end()) << name;
  // CEADs 2018 Scope-1 national total, industry + households (Mt CO2).
  EXPECT_NEAR(s.F().sum() + s.F_Y().sum(), 9621.12, 0.005);
}
