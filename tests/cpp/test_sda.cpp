// Structural decomposition: exactness (effects sum to the change), hand
// computations, polar = exact where theory says so, LMDI-I, bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "mriotrace/accounts.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/sda.hpp"

namespace mriotrace {
namespace {

Matrix scalar(double v) { return Matrix::Constant(1, 1, v); }

/// V = prod_i x_i with x_i = a0[i] or a1[i] by bit i.
std::function<Matrix(std::uint32_t)> product_of(std::vector<double> a0, std::vector<double> a1) {
  return [a0, a1](std::uint32_t mask) {
    double v = 1;
    for (size_t i = 0; i < a0.size(); ++i) v *= (mask >> i & 1u) ? a1[i] : a0[i];
    return scalar(v);
  };
}

TEST(Sda, TwoFactorsMatchTheHandComputation) {
  // V = a b, a: 2 -> 3, b: 5 -> 7. Exact (and polar): effect_a = (Δa b0 + Δa b1)/2 = 6,
  // effect_b = (a0 Δb + a1 Δb)/2 = 5; 6 + 5 = 21 - 10.
  for (SdaMethod m : {SdaMethod::Exact, SdaMethod::Polar}) {
    const Decomposition d = decompose({"a", "b"}, product_of({2, 5}, {3, 7}), m);
    EXPECT_DOUBLE_EQ(d.effects[0](0, 0), 6.0);
    EXPECT_DOUBLE_EQ(d.effects[1](0, 0), 5.0);
    EXPECT_DOUBLE_EQ(d.change()(0, 0), 11.0);
  }
}

TEST(Sda, ThreeFactorsSumToTheChangeAndExactIsTheMeanOfAllOrderings) {
  const auto V = product_of({2, 5, 1.5}, {3, 7, 0.5});
  const Decomposition exact = decompose({"a", "b", "c"}, V, SdaMethod::Exact);
  const Decomposition polar = decompose({"a", "b", "c"}, V, SdaMethod::Polar);
  double se = 0, sp = 0;
  for (int i = 0; i < 3; ++i) {
    se += exact.effects[i](0, 0);
    sp += polar.effects[i](0, 0);
  }
  EXPECT_NEAR(se, exact.change()(0, 0), 1e-14);
  EXPECT_NEAR(sp, polar.change()(0, 0), 1e-14);
  // Brute force: average the sequential effect of a over all 6 orderings.
  const std::vector<std::vector<int>> orders = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  double brute_a = 0;
  for (const auto& ord : orders) {
    std::uint32_t mask = 0;
    for (int f : ord) {
      const double before = V(mask)(0, 0);
      mask |= 1u << f;
      if (f == 0) brute_a += V(mask)(0, 0) - before;
    }
  }
  EXPECT_NEAR(exact.effects[0](0, 0), brute_a / 6, 1e-14);
  EXPECT_GT(std::abs(exact.effects[0](0, 0) - polar.effects[0](0, 0)), 1e-6);  // differ in general
  // With factor c unchanged the problem is a two-factor one: polar == exact.
  const auto V2 = product_of({2, 5, 1.5}, {3, 7, 1.5});
  const Decomposition e2 = decompose({"a", "b", "c"}, V2, SdaMethod::Exact);
  const Decomposition p2 = decompose({"a", "b", "c"}, V2, SdaMethod::Polar);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(e2.effects[i](0, 0), p2.effects[i](0, 0), 1e-13);
  EXPECT_EQ(e2.effects[2](0, 0), 0.0);
}

TEST(Sda, SixFactorsSymmetricFactorsGetEqualShares) {
  // Factors 0 and 1 move identically: the exact method must give them equal effects.
  const auto V = product_of({2, 2, 1, 3, 0.5, 4}, {3, 3, 2, 1, 0.25, 5});
  const Decomposition d = decompose({"a", "b", "c", "d", "e", "f"}, V, SdaMethod::Exact);
  EXPECT_NEAR(d.effects[0](0, 0), d.effects[1](0, 0), 1e-12);
  double sum = 0;
  for (const auto& e : d.effects) sum += e(0, 0);
  EXPECT_NEAR(sum, d.change()(0, 0), 1e-12 * std::abs(d.change()(0, 0)));
  EXPECT_THROW(decompose({"a", "b", "c", "d", "e", "f", "g"}, product_of({1, 1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2, 2}),
                         SdaMethod::Exact),
               InputError);
  EXPECT_NO_THROW(decompose({"a", "b", "c", "d", "e", "f", "g"},
                            product_of({1, 1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2, 2}), SdaMethod::Polar));
}

MrioSystem year(std::uint64_t seed) {
  datasets::GeneratorOptions g;
  g.regions = 3;
  g.sectors = 6;
  g.seed = seed;
  g.threads = 1;
  return datasets::generate(g);
}

TEST(Sda, SystemsDecompositionSumsExactlyAndMatchesTheAccounts) {
  const MrioSystem s0 = year(1), s1 = year(2);
  for (bool split : {false, true})
    for (SdaMethod m : {SdaMethod::Exact, SdaMethod::Polar}) {
      SdaOptions o;
      o.method = m;
      o.split_demand = split;
      o.threads = 1;
      const Decomposition d = structural_decomposition(s0, s1, o);
      ASSERT_EQ(d.effects.size(), split ? 4u : 3u);
      Matrix sum = Matrix::Zero(d.E0.rows(), d.E0.cols());
      for (const auto& e : d.effects) sum += e;
      EXPECT_LT((sum - d.change()).cwiseAbs().maxCoeff(), 1e-12 * d.E1.cwiseAbs().maxCoeff());
      // E = f L y_r is D_cba_reg without the final-demand emissions.
      for (int t = 0; t < 2; ++t) {
        const MrioSystem& s = t ? s1 : s0;
        const Accounts acc = calc_accounts(s, LeontiefSolver(s.A()));
        Matrix fy = Matrix::Zero(s.k(), s.R());
        for (Index r = 0; r < s.R(); ++r) fy.col(r) = s.F_Y().middleCols(r * s.c(), s.c()).rowwise().sum();
        const Matrix& E = t ? d.E1 : d.E0;
        EXPECT_LT((E - (acc.D_cba_reg - fy)).cwiseAbs().maxCoeff(), 1e-10 * E.cwiseAbs().maxCoeff());
      }
    }
}

TEST(Sda, OnlyTheChangedFactorHasAnEffect) {
  // Period 1 = period 0 with A scaled by 0.9: the f and y effects are exactly 0.
  const MrioSystem s0 = year(1);
  SparseMatrix A1 = s0.A() * 0.9;
  const MrioSystem s1 = MrioSystem::from_A_x(s0.labels(), A1, s0.x(), s0.Y(), s0.S(), s0.F_Y(), s0.v());
  const Decomposition d = structural_decomposition(s0, s1, {});
  EXPECT_EQ(d.effects[0].cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(d.effects[2].cwiseAbs().maxCoeff(), 0.0);
  EXPECT_LT((d.effects[1] - d.change()).cwiseAbs().maxCoeff(), 1e-12 * d.E0.cwiseAbs().maxCoeff());
  EXPECT_LT(d.effects[1].maxCoeff(), 0.0);  // less intermediate demand -> lower footprints
}

TEST(Sda, LmdiSumsExactlyAndMatchesAHandComputation) {
  // One component V = x1 x2: 2*3 = 6 -> 4*2 = 8. Λ(8, 6) = 2 / ln(4/3).
  Matrix X0(2, 1), X1(2, 1);
  X0 << 2, 3;
  X1 << 4, 2;
  const Vector e = lmdi(X0, X1);
  const double L = 2.0 / std::log(8.0 / 6.0);
  EXPECT_NEAR(e[0], L * std::log(2.0), 1e-14);
  EXPECT_NEAR(e[1], L * std::log(2.0 / 3.0), 1e-14);
  EXPECT_NEAR(e.sum(), 2.0, 1e-14);
  // Energy = sum_i intensity_i * share_i * level (3 factors, 4 sectors).
  Matrix Y0(3, 4), Y1(3, 4);
  Y0 << 0.5, 1.2, 2.0, 0.1, 0.3, 0.2, 0.4, 0.1, 100, 100, 100, 100;
  Y1 << 0.4, 1.1, 2.2, 0.1, 0.25, 0.25, 0.3, 0.2, 120, 120, 120, 120;
  const Vector e3 = lmdi(Y0, Y1);
  const double V0 = Y0.colwise().prod().sum(), V1 = Y1.colwise().prod().sum();
  EXPECT_NEAR(e3.sum(), V1 - V0, 1e-12 * V1);
  EXPECT_NEAR(log_mean(3.0, 3.0), 3.0, 0);
  // A component absent in both periods is skipped; one entering (a factor 0
  // in period 0) gives its whole value to that factor (core/src/lmdi.hpp);
  // a negative factor is an error.
  Matrix Z0 = Y0, Z1 = Y1;
  Z0(0, 3) = Z1(0, 3) = 0;
  Matrix W0 = Z0.leftCols(3), W1 = Z1.leftCols(3);
  const Vector skipped = lmdi(Z0, Z1), without = lmdi(W0, W1);
  EXPECT_LE((skipped - without).cwiseAbs().maxCoeff(), 1e-15 * without.cwiseAbs().maxCoeff());
  Z1(0, 3) = 0.1;
  const Vector entering = lmdi(Z0, Z1);
  EXPECT_NEAR(entering[0] - without[0], 0.1 * 0.2 * 120, 1e-12);
  EXPECT_NEAR(entering[1], without[1], 1e-15 * std::abs(without[1]));
  EXPECT_NEAR(entering[2], without[2], 1e-15 * std::abs(without[2]));
  Z1(1, 3) = -0.2;
  EXPECT_THROW(lmdi(Z0, Z1), InputError);
  EXPECT_THROW(lmdi(Y0, Matrix::Ones(2, 4)), InputError);
  EXPECT_THROW(log_mean(-1, 2), InputError);
}

TEST(Sda, BadInputIsRejected) {
  datasets::GeneratorOptions g;
  g.regions = 2;
  g.sectors = 6;
  g.threads = 1;
  EXPECT_THROW(structural_decomposition(year(1), datasets::generate(g)), InputError);
  SdaOptions o;
  o.stressors = {7};
  EXPECT_THROW(structural_decomposition(year(1), year(2), o), InputError);
  EXPECT_THROW(sda_method_from_string("shapley"), InputError);
  EXPECT_EQ(sda_method_from_string("polar"), SdaMethod::Polar);
  EXPECT_THROW(decompose({}, product_of({}, {}), SdaMethod::Exact), InputError);
}

}  // namespace
}  // namespace mriotrace
