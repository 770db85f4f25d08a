// Sector-level accounts by both paths (SectorPath::Multipliers: R*k transposed
// solves; SectorPath::Demand: n forward solves) against pymrio's algorithm
// with the explicit Leontief inverse, for every backend; bit-identical for 1
// and 2 threads where docs/hpc.md promises it (sparse and iterative solvers).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "mriotrace/accounts.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"

using namespace mriotrace;

namespace {

MrioSystem random_system(Index R, Index N, Index k, std::uint64_t seed) {
  datasets::GeneratorOptions o;
  o.regions = R;
  o.sectors = N;
  o.stressors = k;
  o.domestic_density = 0.6;
  o.trade_density = 0.2;
  o.seed = seed;
  o.threads = 1;
  return datasets::generate(o);
}

/// Largest |a - b| relative to max(|b|, 1e-6 * max|b row|): bench/tools.py's max_rel_diff.
double rel_diff(const Matrix& a, const Matrix& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  double worst = 0;
  for (Index i = 0; i < b.rows(); ++i) {
    const double floor = 1e-6 * b.row(i).cwiseAbs().maxCoeff();
    for (Index j = 0; j < b.cols(); ++j)
      worst = std::max(worst, std::abs(a(i, j) - b(i, j)) / std::max({std::abs(b(i, j)), floor, 1e-300}));
  }
  return worst;
}

/// pymrio's calc_accounts on dense arrays: L = (I - A)^-1 (explicit, from a
/// separate Eigen LU), x_diag = L diag-by-sector(Y), D_cba = S x_diag,
/// D_imp = S x_trade (x_diag with the domestic blocks zeroed), M = S L.
struct Reference {
  Matrix M, D_cba, D_imp;
};
Reference pymrio_way(const MrioSystem& sys, const Matrix& S) {
  const Index n = sys.n(), R = sys.R(), N = sys.N();
  const Matrix IA = Matrix::Identity(n, n) - Matrix(sys.A());
  const Matrix L = IA.fullPivLu().inverse();
  const Matrix Yr = sys.Y_by_region();
  Matrix x_diag = Matrix::Zero(n, n);
  for (Index r = 0; r < R; ++r)
    for (Index o = 0; o < R; ++o)
      for (Index j = 0; j < N; ++j) x_diag.col(r * N + j) += L.col(o * N + j) * Yr(o * N + j, r);
  Reference ref;
  ref.M = S * L;
  ref.D_cba = S * x_diag;
  for (Index r = 0; r < R; ++r) x_diag.block(r * N, r * N, N, N).setZero();
  ref.D_imp = S * x_diag;
  return ref;
}

SolverOptions with(SolverKind kind, int threads) {
  SolverOptions o;
  o.kind = kind;
  o.threads = threads;
  return o;
}

AccountsOptions path(SectorPath p) {
  AccountsOptions o;
  o.sector_path = p;
  return o;
}

}  // namespace

TEST(SectorPathTest, BothPathsMatchPymriosAlgorithmForEveryBackend) {
  // k = 2 stressors, R = 5 regions of 8 sectors: R*k = 10 < n = 40, so auto takes Multipliers.
  const MrioSystem sys = random_system(5, 8, 2, 3);
  const Reference ref = pymrio_way(sys, sys.S());
  for (SolverKind kind : {SolverKind::DenseLU, SolverKind::MixedLU, SolverKind::SparseLU, SolverKind::KLU, SolverKind::GMRES,
                          SolverKind::PowerSeries, SolverKind::Auto}) {
    const LeontiefSolver solver = make_solver(sys, with(kind, 2));
    const Accounts auto_path = calc_accounts(sys, solver);
    EXPECT_EQ(auto_path.sector_path, SectorPath::Multipliers);
    for (SectorPath p : {SectorPath::Multipliers, SectorPath::Demand}) {
      const Accounts a = calc_accounts(sys, solver, path(p));
      const std::string what = to_string(kind) + (p == SectorPath::Demand ? " demand" : " multipliers");
      EXPECT_EQ(a.sector_path, p) << what;
      EXPECT_LE(rel_diff(a.M, ref.M), 1e-9) << what;
      EXPECT_LE(rel_diff(a.D_cba, ref.D_cba), 1e-9) << what;
      EXPECT_LE(rel_diff(a.D_imp, ref.D_imp), 1e-9) << what;
      // The other accounts do not depend on the path.
      EXPECT_LE(rel_diff(a.D_pba, auto_path.D_pba), 1e-12) << what;
      EXPECT_LE(rel_diff(a.D_exp, auto_path.D_exp), 1e-12) << what;
      EXPECT_LE(rel_diff(a.D_imp_reg, auto_path.D_imp_reg), 1e-12) << what;
      // D_imp summed over the products of each consuming region is D_imp_reg.
      for (Index r = 0; r < sys.R(); ++r)
        EXPECT_LE(rel_diff(a.D_imp.middleCols(r * sys.N(), sys.N()).rowwise().sum(), a.D_imp_reg.col(r)), 1e-11)
            << what;
    }
  }
}

TEST(SectorPathTest, DemandPathWhenStressorsOutnumberSectors) {
  // k = 30 stressors, R = 4 regions of 6 sectors: R*k = 120 > n + 2k + R/2 = 86 (EXIOBASE's shape:
  // ~1,100 stressors, 9,800 sectors).
  const MrioSystem sys = random_system(4, 6, 30, 5);
  const Reference ref = pymrio_way(sys, sys.S());
  for (SolverKind kind : {SolverKind::DenseLU, SolverKind::GMRES}) {
    const LeontiefSolver solver = make_solver(sys, with(kind, 2));
    const Accounts a = calc_accounts(sys, solver);
    EXPECT_EQ(a.sector_path, SectorPath::Demand) << to_string(kind);
    EXPECT_LE(rel_diff(a.M, ref.M), 1e-9) << to_string(kind);
    EXPECT_LE(rel_diff(a.D_cba, ref.D_cba), 1e-9) << to_string(kind);
    EXPECT_LE(rel_diff(a.D_imp, ref.D_imp), 1e-9) << to_string(kind);
  }
}

TEST(SectorPathTest, AutoChoosesByTheNumberOfSolves) {
  EXPECT_EQ(choose_sector_path(9800, 49, 11), SectorPath::Multipliers);    // L: 539 solves vs 9,846
  EXPECT_EQ(choose_sector_path(9800, 49, 1105), SectorPath::Demand);       // EXIOBASE: 54,145 vs 12,034
  EXPECT_EQ(choose_sector_path(19680, 164, 11), SectorPath::Multipliers);  // XL: 1,804 vs 19,784
  EXPECT_EQ(choose_sector_path(100, 1, 500), SectorPath::Multipliers);     // one region: nothing abroad
}

TEST(SectorPathTest, OneRegionHasNoImports) {
  const MrioSystem sys = random_system(1, 12, 2, 9);
  const Reference ref = pymrio_way(sys, sys.S());
  for (SectorPath p : {SectorPath::Multipliers, SectorPath::Demand}) {
    const Accounts a = calc_accounts(sys, make_solver(sys, with(SolverKind::DenseLU, 1)), path(p));
    EXPECT_EQ(a.D_imp.cwiseAbs().maxCoeff(), 0.0);
    EXPECT_LE(rel_diff(a.D_cba, ref.D_cba), 1e-9);
    EXPECT_LE(rel_diff(a.M, ref.M), 1e-9);
  }
}

// docs/hpc.md: sparse and iterative solvers give the same bits for any thread
// count; so must both paths built on them (their products run per region on
// one thread each).
TEST(SectorPathTest, SameBitsForOneAndTwoThreads) {
  const MrioSystem sys = random_system(6, 20, 3, 11);
  for (SolverKind kind : {SolverKind::SparseLU, SolverKind::GMRES, SolverKind::PowerSeries})
    for (SectorPath p : {SectorPath::Multipliers, SectorPath::Demand}) {
      const Accounts a1 = calc_accounts(sys, make_solver(sys, with(kind, 1)), path(p));
      const Accounts a2 = calc_accounts(sys, make_solver(sys, with(kind, 2)), path(p));
      const std::string what = to_string(kind) + (p == SectorPath::Demand ? " demand" : " multipliers");
      EXPECT_EQ(a1.M, a2.M) << what;
      EXPECT_EQ(a1.D_cba, a2.D_cba) << what;
      EXPECT_EQ(a1.D_imp, a2.D_imp) << what;
      EXPECT_EQ(a1.D_exp, a2.D_exp) << what;
      EXPECT_EQ(a1.Q, a2.Q) << what;
    }
}
