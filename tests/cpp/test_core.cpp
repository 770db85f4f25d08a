// Core engine tests: known answers (Miller & Blair), pymrio-identical small
// cases, identities on generated systems, backend agreement, thread-count
// determinism, and every bad-input path of MrioSystem and LeontiefSolver.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "mriotrace/accounts.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"
#include "test_util.hpp"

using namespace mriotrace;

namespace {

Matrix json_matrix(const nlohmann::json& j) {
  Matrix m(static_cast<Index>(j.size()), static_cast<Index>(j[0].size()));
  for (Index i = 0; i < m.rows(); ++i)
    for (Index k = 0; k < m.cols(); ++k) m(i, k) = j[static_cast<size_t>(i)][static_cast<size_t>(k)].get<double>();
  return m;
}

double max_rel_diff(const Matrix& a, const Matrix& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  const double scale = std::max(b.cwiseAbs().maxCoeff(), 1e-300);
  return (a - b).cwiseAbs().maxCoeff() / scale;
}

Labels two_by_two() {
  Labels l;
  l.regions = {"north", "south"};
  l.sectors = {"energy", "goods"};
  l.fd_categories = {"households"};
  l.stressors = {"CO2"};
  l.stressor_units = {"kt"};
  return l;
}

/// The 4-sector two-region system whose pymrio results are quoted below
/// (pymrio.tools.iomath.calc_accounts on the same Z, Y, F).
MrioSystem small_system() {
  Matrix Z(4, 4);
  Z << 10, 5, 2, 1, 3, 20, 1, 0, 2, 1, 15, 4, 0, 2, 3, 12;
  Matrix Y(4, 2);
  Y << 50, 5, 40, 3, 4, 60, 2, 45;
  Matrix F(1, 4);
  F << 7, 1, 3, 2;
  return MrioSystem::from_Z(two_by_two(), Z.sparseView(), Y, F);
}

}  // namespace

TEST(MillerBlairTest, CoefficientsAndLeontiefInverseExact) {
  MRIOTRACE_REQUIRE_DATA("textbook/miller_blair_2_3.json");
  std::ifstream in(mriotrace::testdata::data_dir() / "textbook/miller_blair_2_3.json");
  const auto j = nlohmann::json::parse(in);
  Labels l;
  l.regions = {"economy"};
  l.sectors = {"1", "2"};
  l.fd_categories = {"f"};
  const Matrix Z = json_matrix(j["Z"]);
  Matrix f(2, 1);
  f << j["f"][0].get<double>(), j["f"][1].get<double>();
  auto sys = MrioSystem::from_Z(l, Z.sparseView(), f, Matrix());
  EXPECT_NEAR(sys.x()[0], 1000.0, 1e-12);
  EXPECT_NEAR(sys.x()[1], 2000.0, 1e-12);
  EXPECT_LE(max_rel_diff(Matrix(sys.A()), json_matrix(j["expected"]["A"])), 1e-12);
  for (auto kind : {SolverKind::DenseLU, SolverKind::SparseLU, SolverKind::KLU}) {
    LeontiefSolver solver(sys.A(), {kind, 1});
    EXPECT_LE(max_rel_diff(solver.leontief_inverse(), json_matrix(j["expected"]["L"])), 1e-12) << to_string(kind);
    // The textbook's new-demand example: x_new = L f_new.
    Vector f_new(2);
    f_new << 600, 1500;
    const Matrix x_new = solver.solve(f_new);
    EXPECT_NEAR(x_new(0, 0), 1247.52475, 1e-5);
    EXPECT_NEAR(x_new(1, 0), 1841.58416, 1e-5);
  }
}

TEST(AccountsTest, MatchesPymrioOnSmallSystem) {
  // Reference values: pymrio 0.7 iomath.calc_accounts(S, L, Y) on the same table.
  const auto sys = small_system();
  LeontiefSolver solver(sys.A(), {SolverKind::DenseLU, 1});
  const auto acc = calc_accounts(sys, solver);
  Matrix cba(1, 4), imp(1, 4), exp(1, 4);
  cba << 5.909509, 1.542601, 3.443439, 2.104451;
  imp << 0.253308, 0.199141, 0.789319, 0.211019;
  exp << 0.909029, 0.091308, 0.294306, 0.158142;
  EXPECT_LE((acc.D_cba - cba).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_LE((acc.D_imp - imp).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_LE((acc.D_exp - exp).cwiseAbs().maxCoeff(), 1e-6);
  // Balanced table: D_pba = F exactly (up to round-off).
  EXPECT_LE(max_rel_diff(acc.D_pba, sys.F()), 1e-14);
}

TEST(AccountsTest, IdentitiesOnGeneratedSystems) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    datasets::GeneratorOptions o;
    o.regions = 5;
    o.sectors = 7;
    o.stressors = 3;
    o.seed = seed;
    const auto sys = datasets::generate(o);
    LeontiefSolver solver(sys.A(), {SolverKind::Auto, 1});
    const auto a = calc_accounts(sys, solver);
    const Index R = sys.R(), N = sys.N();
    // (I - A) x = y: the recomputed output reproduces the stored one.
    EXPECT_LE((a.x - sys.x()).cwiseAbs().maxCoeff() / sys.x().maxCoeff(), 1e-12);
    // D_cba_reg = D_pba_reg - D_exp_reg + D_imp_reg, per region and stressor.
    const Matrix lhs = a.D_cba_reg, rhs = a.D_pba_reg - a.D_exp_reg + a.D_imp_reg;
    EXPECT_LE(max_rel_diff(lhs, rhs), 1e-12);
    // Global CBA = global PBA.
    EXPECT_LE(std::abs(a.D_cba_reg.sum() - a.D_pba_reg.sum()) / a.D_pba_reg.sum(), 1e-12);
    // Sector-level accounts aggregate to the regional ones (F_Y enters cba/pba only).
    Matrix FYr = Matrix::Zero(sys.k(), R);
    for (Index r = 0; r < R; ++r) FYr.col(r) = sys.F_Y().middleCols(r * sys.c(), sys.c()).rowwise().sum();
    for (Index r = 0; r < R; ++r) {
      EXPECT_LE(max_rel_diff(a.D_cba.middleCols(r * N, N).rowwise().sum() + FYr.col(r), a.D_cba_reg.col(r)), 1e-12);
      EXPECT_LE(max_rel_diff(a.D_pba.middleCols(r * N, N).rowwise().sum() + FYr.col(r), a.D_pba_reg.col(r)), 1e-12);
      EXPECT_LE(max_rel_diff(a.D_imp.middleCols(r * N, N).rowwise().sum(), a.D_imp_reg.col(r)), 1e-12);
      EXPECT_LE(max_rel_diff(a.D_exp.middleCols(r * N, N).rowwise().sum(), a.D_exp_reg.col(r)), 1e-12);
    }
    // D_pba equals F when the table is balanced; M reproduces footprints: M y = S L y.
    EXPECT_LE(max_rel_diff(a.D_pba, sys.F()), 1e-12);
    EXPECT_LE(max_rel_diff(a.M * sys.Y().rowwise().sum(), sys.S() * a.x), 1e-12);
  }
}

TEST(AccountsTest, RegionalOnlyEqualsFullRun) {
  datasets::GeneratorOptions o;
  o.regions = 4;
  o.sectors = 6;
  const auto sys = datasets::generate(o);
  LeontiefSolver solver(sys.A());
  const auto full = calc_accounts(sys, solver);
  AccountsOptions regional;
  regional.sector_level = false;
  const auto reg = calc_accounts(sys, solver, regional);
  EXPECT_TRUE(reg.regional);
  EXPECT_FALSE(reg.sector_level);
  EXPECT_EQ(reg.M.size(), 0);
  EXPECT_EQ(reg.D_cba_reg, full.D_cba_reg);
  EXPECT_EQ(reg.Q, full.Q);
}

TEST(AccountsTest, ValueAddedAccounts) {
  datasets::GeneratorOptions o;
  o.regions = 3;
  o.sectors = 5;
  const auto sys = datasets::generate(o);
  ASSERT_TRUE(sys.has_value_added());
  LeontiefSolver solver(sys.A());
  const auto va = calc_value_added_accounts(sys, solver);
  // Every unit of final demand is, upstream, value added: sum of VA footprints = total final demand.
  EXPECT_NEAR(va.D_cba_reg.sum() / sys.Y().sum(), 1.0, 1e-12);
  EXPECT_LE(max_rel_diff(va.D_pba, sys.v().transpose()), 1e-12);
}

TEST(SolverTest, BackendsAgreeAndTransposedSolvesAreExact) {
  datasets::GeneratorOptions o;
  o.regions = 6;
  o.sectors = 10;
  const auto sys = datasets::generate(o);
  LeontiefSolver dense(sys.A(), {SolverKind::DenseLU, 1});
  LeontiefSolver sparse(sys.A(), {SolverKind::SparseLU, 1});
  EXPECT_EQ(dense.diagnostics().kind, SolverKind::DenseLU);
  EXPECT_EQ(sparse.diagnostics().kind, SolverKind::SparseLU);
  const Matrix B = Matrix::Random(sys.n(), 5);
  const Matrix Xd = dense.solve(B), Xs = sparse.solve(B);
  EXPECT_LE(max_rel_diff(Xd, Xs), 1e-12);
  const Matrix Td = dense.solve_transposed(B), Ts = sparse.solve_transposed(B);
  EXPECT_LE(max_rel_diff(Td, Ts), 1e-12);
  // (I - A)^T T = B.
  const SparseMatrix& A = sys.A();
  EXPECT_LE((Td - Matrix(A.transpose()) * Td - B).cwiseAbs().maxCoeff(), 1e-12);
  const Matrix L = dense.leontief_inverse();
  EXPECT_LE((L - Matrix(A) * L - Matrix::Identity(sys.n(), sys.n())).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT(dense.diagnostics().max_relative_residual, 1e-14);
  EXPECT_EQ(dense.diagnostics().rhs_solved, 5 + 5 + sys.n());
}

TEST(SolverTest, AutoPicksBySizeAndDensity) {
  EXPECT_EQ(LeontiefSolver::choose(100, 5000), SolverKind::DenseLU);
  EXPECT_EQ(LeontiefSolver::choose(9800, 9800LL * 9800 * 3 / 10), SolverKind::DenseLU);
  EXPECT_EQ(LeontiefSolver::choose(40000, 40000LL * 400), SolverKind::SparseLU);
  EXPECT_EQ(solver_kind_from_string("umfpack"), SolverKind::SparseLU);
  EXPECT_EQ(solver_kind_from_string("klu"), SolverKind::KLU);
  EXPECT_EQ(to_string(SolverKind::KLU), "klu");
  EXPECT_THROW(solver_kind_from_string("magic"), InputError);
}

TEST(DeterminismTest, SameResultsWithOneAndTwoThreads) {
  datasets::GeneratorOptions o;
  o.regions = 8;
  o.sectors = 12;
  o.stressors = 3;
  const auto sys = datasets::generate(o);
  for (auto kind : {SolverKind::DenseLU, SolverKind::SparseLU, SolverKind::KLU}) {
    LeontiefSolver s1(sys.A(), {kind, 1}), s2(sys.A(), {kind, 2});
    const auto a1 = calc_accounts(sys, s1), a2 = calc_accounts(sys, s2);
    // Every kernel writes disjoint outputs in a fixed order: bit-for-bit equal.
    EXPECT_EQ(a1.M, a2.M) << to_string(kind);
    EXPECT_EQ(a1.D_cba, a2.D_cba) << to_string(kind);
    EXPECT_EQ(a1.D_imp, a2.D_imp) << to_string(kind);
    EXPECT_EQ(a1.D_exp, a2.D_exp) << to_string(kind);
    EXPECT_EQ(a1.Q, a2.Q) << to_string(kind);
    EXPECT_EQ(a1.D_cba_reg, a2.D_cba_reg) << to_string(kind);
  }
}

TEST(SystemTest, BuildRoutesAgree) {
  const auto z = small_system();
  const auto ay = MrioSystem::from_A_Y(z.labels(), z.A(), z.Y(), z.S());
  const auto ax = MrioSystem::from_A_x(z.labels(), z.A(), z.x(), z.Y(), z.S());
  EXPECT_LE((ay.x() - z.x()).cwiseAbs().maxCoeff() / z.x().maxCoeff(), 1e-14);
  EXPECT_EQ(ax.x(), z.x());
  EXPECT_LE((Matrix(z.Z()) - Matrix(ax.Z())).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_EQ(z.stressor_index("CO2"), 0);
  EXPECT_EQ(z.region_index("south"), 1);
}

TEST(SystemTest, ZeroOutputSectorGetsZeroColumnAsPymrio) {
  Matrix Z(4, 4);
  Z << 10, 5, 0, 1, 3, 20, 0, 0, 0, 0, 0, 0, 0, 2, 0, 12;  // sector (south, energy) produces nothing
  Matrix Y(4, 2);
  Y << 50, 5, 40, 3, 0, 0, 2, 45;
  Matrix F(1, 4);
  F << 7, 1, 0, 2;
  const auto sys = MrioSystem::from_Z(two_by_two(), Z.sparseView(), Y, F);
  EXPECT_EQ(sys.x()[2], 0.0);
  EXPECT_EQ(Matrix(sys.A()).col(2).cwiseAbs().sum(), 0.0);
  EXPECT_EQ(sys.S()(0, 2), 0.0);
  LeontiefSolver solver(sys.A());
  const auto acc = calc_accounts(sys, solver);
  EXPECT_TRUE(acc.D_cba.allFinite() && acc.D_pba.allFinite() && acc.M.allFinite());
  // Column 2 is (south, energy): nothing is produced there, so nothing is
  // emitted there and its multiplier is zero (A's column is zero, S is zero).
  // D_cba's column 2 is south's *demand* for energy (bought from north): nonzero.
  EXPECT_EQ(acc.M(0, 2), 0.0);
  EXPECT_EQ(acc.D_pba(0, 2), 0.0);
  EXPECT_EQ(acc.D_exp(0, 2), 0.0);
  EXPECT_GT(acc.D_cba(0, 2), 0.0);
}

TEST(BadInputTest, ShapesLabelsAndValues) {
  const auto l = two_by_two();
  Matrix Z = Matrix::Constant(4, 4, 1.0), Y = Matrix::Constant(4, 2, 10.0), F = Matrix::Constant(1, 4, 1.0);
  auto expect_msg = [](auto&& fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no exception; expected one mentioning \"" << needle << "\"";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_msg([&] { MrioSystem::from_Z(l, Z.sparseView(), Matrix::Constant(3, 2, 1.0), F); }, "Y has shape 3 x 2");
  expect_msg([&] { MrioSystem::from_Z(l, Matrix::Constant(3, 3, 1.0).sparseView(), Y, F); }, "Z has shape 3 x 3");
  expect_msg([&] { MrioSystem::from_Z(l, Z.sparseView(), Y, Matrix::Constant(2, 4, 1.0)); }, "F has shape 2 x 4");
  Matrix Znan = Z;
  Znan(1, 2) = std::numeric_limits<double>::quiet_NaN();
  expect_msg([&] { MrioSystem::from_Z(l, Znan.sparseView(), Y, F); }, "Z contains nan");
  Matrix Finf = F;
  Finf(0, 3) = std::numeric_limits<double>::infinity();
  expect_msg([&] { MrioSystem::from_Z(l, Z.sparseView(), Y, Finf); }, "F contains inf");
  Matrix Yneg = Y;
  Yneg.row(3).setConstant(-100);
  expect_msg([&] { MrioSystem::from_Z(l, Z.sparseView(), Yneg, F); }, "gross output x is negative");
  auto dup = l;
  dup.regions = {"north", "north"};
  expect_msg([&] { MrioSystem::from_Z(dup, Z.sparseView(), Y, F); }, "contains \"north\" twice");
  auto units = l;
  units.stressor_units = {"kt", "t"};
  expect_msg([&] { MrioSystem::from_Z(units, Z.sparseView(), Y, F); }, "stressor_units has 2 entries");
  const auto sys = small_system();
  expect_msg([&] { sys.stressor_index("methane"); }, "known stressors: \"CO2\"");
  expect_msg([&] { LeontiefSolver(sys.A(), {SolverKind::Auto, -1}); }, "threads = -1");
  LeontiefSolver solver(sys.A());
  expect_msg([&] { solver.solve(Matrix::Ones(3, 1)); }, "right-hand side has 3 rows");
  AccountsOptions bad;
  bad.stressors = {5};
  expect_msg([&] { calc_accounts(sys, solver, bad); }, "stressor index 5 is out of range");
}

TEST(BadInputTest, NonProductiveAndSingularSystems) {
  Labels l;
  l.regions = {"r"};
  l.sectors = {"a", "b"};
  l.fd_categories = {"f"};
  Matrix A(2, 2);
  A << 0.5, 1.2, 0.6, 0.3;  // spectral radius 1.25
  try {
    MrioSystem::from_A_x(l, A.sparseView(), Vector::Ones(2), Matrix(), Matrix());
    ADD_FAILURE() << "a non-productive system was accepted";
  } catch (const NumericError& e) {
    EXPECT_NE(std::string(e.what()).find("not productive"), std::string::npos) << e.what();
  }
  Matrix closed(2, 2);
  closed << 0.5, 0.5, 0.5, 0.5;  // column sums exactly 1: I - A singular
  EXPECT_THROW(MrioSystem::from_A_x(l, closed.sparseView(), Vector::Ones(2), Matrix(), Matrix()), NumericError);
  for (auto kind : {SolverKind::DenseLU, SolverKind::SparseLU, SolverKind::KLU})
    EXPECT_THROW(LeontiefSolver(closed.sparseView(), {kind, 1}), NumericError) << to_string(kind);
  // Column sums >= 1 but spectral radius sqrt(0.15) < 1: productive, accepted.
  Matrix skewed(2, 2);
  skewed << 0.0, 1.5, 0.1, 0.0;
  const auto ok = MrioSystem::from_A_x(l, skewed.sparseView(), Vector::Ones(2), Matrix(), Matrix());
  EXPECT_LT(check_productive(ok.A()), 1.0);
}
