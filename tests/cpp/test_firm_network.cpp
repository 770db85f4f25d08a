// Firm network generator: size and link count, power-law degrees, column
// sums, balance, determinism over seeds and thread counts, the regional share
// of links, and each bad option. Sizes stay small except one default-size
// smoke test (about a second).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/system.hpp"

using namespace mriotrace;
using datasets::FirmNetworkOptions;

namespace {

FirmNetworkOptions small(Index firms = 4000, Index links = 18000, Index regions = 4) {
  FirmNetworkOptions o;
  o.firms = firms;
  o.links = links;
  o.regions = regions;
  return o;
}

std::vector<Index> in_degrees(const SparseMatrix& A) {
  std::vector<Index> d(static_cast<size_t>(A.cols()));
  for (Index j = 0; j < A.cols(); ++j) d[static_cast<size_t>(j)] = A.outerIndexPtr()[j + 1] - A.outerIndexPtr()[j];
  return d;
}

std::vector<Index> out_degrees(const SparseMatrix& A) {
  std::vector<Index> d(static_cast<size_t>(A.rows()), 0);
  for (Index p = 0; p < A.nonZeros(); ++p) ++d[static_cast<size_t>(A.innerIndexPtr()[p])];
  return d;
}

bool same_system(const MrioSystem& a, const MrioSystem& b) {
  const SparseMatrix &A = a.A(), &B = b.A();
  return A.nonZeros() == B.nonZeros() &&
         std::equal(A.outerIndexPtr(), A.outerIndexPtr() + A.outerSize() + 1, B.outerIndexPtr()) &&
         std::equal(A.innerIndexPtr(), A.innerIndexPtr() + A.nonZeros(), B.innerIndexPtr()) &&
         std::equal(A.valuePtr(), A.valuePtr() + A.nonZeros(), B.valuePtr()) && a.x() == b.x() && a.Y() == b.Y() &&
         a.S() == b.S() && a.F_Y() == b.F_Y() && a.v() == b.v();
}

void expect_input_error(const FirmNetworkOptions& o, const std::string& names) {
  try {
    datasets::firm_network(o);
    ADD_FAILURE() << "no InputError for bad " << names;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(names), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(FirmNetworkTest, ShapesLabelsAndLinkCount) {
  const auto s = datasets::firm_network(small());
  EXPECT_EQ(s.n(), 4000);
  EXPECT_EQ(s.R(), 4);
  EXPECT_EQ(s.N(), 1000);
  EXPECT_EQ(s.k(), 3);
  EXPECT_EQ(s.Y().cols(), 4);
  EXPECT_EQ(s.labels().sectors.front(), "F0");
  EXPECT_EQ(s.labels().regions.back(), "R3");
  EXPECT_EQ(s.labels().monetary_unit, "synthetic M.USD");
  // Within 10 % of the requested links (rounding, clamping, duplicate hubs).
  EXPECT_NEAR(static_cast<double>(s.A().nonZeros()), 18000.0, 1800.0);
  for (Index j = 0; j < s.n(); ++j)
    for (SparseMatrix::InnerIterator it(s.A(), j); it; ++it) {
      EXPECT_NE(it.row(), j) << "self-link at firm " << j;
      EXPECT_GT(it.value(), 0.0);
    }
}

TEST(FirmNetworkTest, DegreesAreHeavyTailed) {
  const auto s = datasets::firm_network(small(20000, 88000, 10));
  const auto din = in_degrees(s.A()), dout = out_degrees(s.A());
  const double mean = static_cast<double>(s.A().nonZeros()) / 20000.0;
  // A power law has hubs far above the mean and most firms below it; a
  // Poisson graph with mean 4.4 would have a maximum around 15.
  const Index max_in = *std::max_element(din.begin(), din.end());
  const Index max_out = *std::max_element(dout.begin(), dout.end());
  EXPECT_GT(static_cast<double>(max_in), 20 * mean);
  EXPECT_GT(static_cast<double>(max_out), 20 * mean);
  const auto below = std::count_if(din.begin(), din.end(), [&](Index d) { return static_cast<double>(d) < mean; });
  EXPECT_GT(static_cast<double>(below) / 20000.0, 0.6);
  // Tail: P(d >= 4 m) / P(d >= m) ~ 4^-(exponent - 1) = 1/8 for exponent 2.5;
  // an exponential tail would give far less. Accept [1/20, 1/4].
  const Index m = 6;
  const double ge_m = static_cast<double>(std::count_if(din.begin(), din.end(), [&](Index d) { return d >= m; }));
  const double ge_4m =
      static_cast<double>(std::count_if(din.begin(), din.end(), [&](Index d) { return d >= 4 * m; }));
  EXPECT_GT(ge_4m / ge_m, 1.0 / 20.0);
  EXPECT_LT(ge_4m / ge_m, 1.0 / 4.0);
}

TEST(FirmNetworkTest, ColumnSumsBelowOneAndBalanced) {
  const auto s = datasets::firm_network(small());
  Vector cs = Vector::Zero(s.n());
  for (Index j = 0; j < s.n(); ++j)
    for (SparseMatrix::InnerIterator it(s.A(), j); it; ++it) cs[j] += it.value();
  EXPECT_LE(cs.maxCoeff(), 0.7 + 1e-12);
  EXPECT_GT(cs.maxCoeff(), 0.5);
  const Vector r = s.x() - s.A() * s.x() - s.Y().rowwise().sum();
  EXPECT_LT((r.array().abs() / s.x().array()).maxCoeff(), 1e-12);
  EXPECT_GT(s.Y().minCoeff(), -1e-12);
  EXPECT_GT(s.v().minCoeff(), 0.0);
  EXPECT_GT(s.S().minCoeff(), 0.0);
}

TEST(FirmNetworkTest, DomesticLinkShare) {
  for (double share : {0.0, 0.7, 1.0}) {
    FirmNetworkOptions o = small();
    o.domestic_link_share = share;
    const auto s = datasets::firm_network(o);
    double dom = 0;
    for (Index j = 0; j < s.n(); ++j)
      for (SparseMatrix::InnerIterator it(s.A(), j); it; ++it) dom += (it.row() / s.N() == j / s.N()) ? 1 : 0;
    const double frac = dom / static_cast<double>(s.A().nonZeros());
    // Non-domestic draws still land in the own region 1/R of the time.
    EXPECT_NEAR(frac, share + (1 - share) / 4.0, 0.05) << "share " << share;
  }
}

TEST(FirmNetworkTest, DeterministicForSeedAndThreads) {
  FirmNetworkOptions o = small();
  o.threads = 1;
  const auto one = datasets::firm_network(o);
  o.threads = 2;
  const auto two = datasets::firm_network(o);
  EXPECT_TRUE(same_system(one, two));
  o.seed = 43;
  const auto other = datasets::firm_network(o);
  EXPECT_FALSE(same_system(one, other));
}

TEST(FirmNetworkTest, DefaultSizeIsFastAndNearTarget) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto s = datasets::firm_network(FirmNetworkOptions{});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(s.n(), 250000);
  EXPECT_NEAR(static_cast<double>(s.A().nonZeros()), 1.1e6, 0.05 * 1.1e6);
  EXPECT_LT(seconds, 20.0);  // about 1 s alone; generous for a loaded 2-core machine
}

TEST(FirmNetworkTest, BadOptionsNameTheOption) {
  auto with = [](auto set) {
    FirmNetworkOptions o = small();
    set(o);
    return o;
  };
  expect_input_error(with([](auto& o) { o.firms = 1; }), "firms");
  expect_input_error(with([](auto& o) { o.regions = 0; }), "regions");
  expect_input_error(with([](auto& o) { o.regions = 3; }), "not a multiple of regions");
  expect_input_error(with([](auto& o) { o.links = 10; }), "links");
  expect_input_error(with([](auto& o) { o.links = 4000LL * 4000LL; }), "links");
  expect_input_error(with([](auto& o) { o.exponent = 2.0; }), "exponent");
  expect_input_error(with([](auto& o) { o.exponent = 7.0; }), "exponent");
  expect_input_error(with([](auto& o) { o.domestic_link_share = 1.5; }), "domestic_link_share");
  expect_input_error(with([](auto& o) { o.domestic_link_share = -0.1; }), "domestic_link_share");
  expect_input_error(with([](auto& o) { o.fd_categories = 0; }), "fd_categories");
  expect_input_error(with([](auto& o) { o.stressors = 0; }), "stressors");
  expect_input_error(with([](auto& o) { o.threads = -1; }), "threads");
}
