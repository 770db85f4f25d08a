// Monte Carlo draws: generator quality, reproducibility, CV = 0 identity,
// warm-started solves against direct factorisations, unbiasedness, statistics.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include <cmath>
#include <cstdlib>

#include "mriotrace/accounts.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/montecarlo.hpp"

namespace mriotrace {
namespace {

MrioSystem small_system(std::uint64_t seed = 7) {
  datasets::GeneratorOptions g;
  g.regions = 3;
  g.sectors = 5;
  g.seed = seed;
  g.threads = 1;
  return datasets::generate(g);
}

UncertaintyOptions global_cv(double cv, std::uint64_t seed = 11) {
  UncertaintyOptions o;
  o.A.cv = o.Y.cv = o.F.cv = cv;
  o.seed = seed;
  return o;
}

double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

TEST(MonteCarlo, NormalQuantileInvertsTheNormalCdf) {
  for (double p : {1e-12, 1e-6, 0.001, 0.02, 0.02425, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97575, 0.99, 0.999999}) {
    const double x = normal_quantile(p);
    // Reference: Newton steps on Phi(x) = p from x (quadratic convergence).
    double ref = x;
    for (int i = 0; i < 3; ++i) ref -= (Phi(ref) - p) * std::sqrt(2 * M_PI) * std::exp(0.5 * ref * ref);
    EXPECT_NEAR(x, ref, 1.2e-9 * std::abs(ref) + 1e-15) << "p = " << p;
  }
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  EXPECT_THROW(normal_quantile(0.0), InputError);
  EXPECT_THROW(normal_quantile(1.0), InputError);
}

TEST(MonteCarlo, DrawNormalHasStandardMomentsAndIsReproducible) {
  const int m = 200000;
  double sum = 0, sum2 = 0, below = 0;
  for (int i = 0; i < m; ++i) {
    const double z = draw_normal(5, 3, 0, static_cast<std::uint64_t>(i % 400), static_cast<std::uint64_t>(i / 400));
    sum += z;
    sum2 += z * z;
    below += z < -1.959963984540054;
  }
  EXPECT_NEAR(sum / m, 0.0, 4.0 / std::sqrt(m));
  EXPECT_NEAR(sum2 / m, 1.0, 4.0 * std::sqrt(2.0 / m));
  EXPECT_NEAR(below / m, 0.025, 4.0 * std::sqrt(0.025 * 0.975 / m));
  EXPECT_EQ(draw_normal(5, 3, 0, 17, 4), draw_normal(5, 3, 0, 17, 4));
  EXPECT_NE(draw_normal(5, 3, 0, 17, 4), draw_normal(5, 4, 0, 17, 4));  // other draw
  EXPECT_NE(draw_normal(5, 3, 0, 17, 4), draw_normal(6, 3, 0, 17, 4));  // other seed
  EXPECT_NE(draw_normal(5, 3, 0, 17, 4), draw_normal(5, 3, 1, 17, 4));  // other matrix
  EXPECT_NE(draw_normal(5, 3, 0, 17, 4), draw_normal(5, 3, 0, 4, 17));  // transposed position
}

TEST(MonteCarlo, ZeroCvReturnsTheBaseExactly) {
  const MrioSystem sys = small_system();
  const PerturbedSystem p = perturb(sys, global_cv(0.0), 9, 1);
  EXPECT_TRUE((Matrix(p.A) - Matrix(sys.A())).cwiseAbs().maxCoeff() == 0);
  EXPECT_TRUE(p.Y == sys.Y());
  EXPECT_TRUE(p.S == sys.S());
  EXPECT_TRUE(p.F_Y == sys.F_Y());

  const LeontiefSolver solver(sys.A());
  for (bool with_Q : {false, true}) {
    DrawAccountsOptions dopt;
    dopt.with_Q = with_Q;
    const DrawBase base = prepare_draws(sys, solver, dopt);
    const Accounts a0 = draw_accounts(sys, solver, base, perturb(sys, global_cv(0.0), 0, 1), global_cv(0.0));
    const Accounts a9 = draw_accounts(sys, solver, base, p, global_cv(0.0));
    EXPECT_TRUE(a0.D_cba_reg == a9.D_cba_reg);
    EXPECT_TRUE(a0.D_pba_reg == a9.D_pba_reg);
    // And both agree with the engine's accounts.
    const Accounts ref = calc_accounts(sys, solver);
    EXPECT_LT((a0.D_cba_reg - ref.D_cba_reg).cwiseAbs().maxCoeff(), 1e-10 * ref.D_cba_reg.cwiseAbs().maxCoeff());
    EXPECT_LT((a0.D_pba_reg - ref.D_pba_reg).cwiseAbs().maxCoeff(), 1e-10 * ref.D_pba_reg.cwiseAbs().maxCoeff());
    if (with_Q) {
      EXPECT_LT((a0.Q - ref.Q).cwiseAbs().maxCoeff(), 1e-10 * ref.Q.cwiseAbs().maxCoeff());
      EXPECT_LT((a0.D_imp_reg - ref.D_imp_reg).cwiseAbs().maxCoeff(), 1e-10 * ref.Q.cwiseAbs().maxCoeff());
    }
  }
}

TEST(MonteCarlo, DrawsDoNotDependOnThreadsAndDiffer) {
  const MrioSystem sys = small_system();
  const auto o = global_cv(0.2);
  const PerturbedSystem p1 = perturb(sys, o, 42, 1), p2 = perturb(sys, o, 42, 2), p3 = perturb(sys, o, 43, 2);
  EXPECT_TRUE((Matrix(p1.A) - Matrix(p2.A)).cwiseAbs().maxCoeff() == 0);
  EXPECT_TRUE(p1.Y == p2.Y && p1.S == p2.S);
  EXPECT_GT((Matrix(p1.A) - Matrix(p3.A)).cwiseAbs().maxCoeff(), 0);
  // Same sparsity pattern and signs; values moved.
  EXPECT_EQ(p1.A.nonZeros(), sys.A().nonZeros());
  EXPECT_GT((Matrix(p1.A) - Matrix(sys.A())).cwiseAbs().maxCoeff(), 0);
  EXPECT_TRUE(((p1.Y.array() * sys.Y().array()) >= 0).all());
}

TEST(MonteCarlo, WarmSolveMatchesADirectFactorisation) {
  const MrioSystem sys = small_system();
  const LeontiefSolver base(sys.A());
  const PerturbedSystem p = perturb(sys, global_cv(0.15), 3, 1);
  const LeontiefSolver direct(p.A);
  const Matrix B = sys.Y_by_region();
  for (bool transposed : {false, true}) {
    const Matrix X0 = transposed ? base.solve_transposed(B) : base.solve(B);
    WarmSolveInfo info;
    const Matrix X = warm_solve(base, p.A, B, X0, transposed, global_cv(0.15), &info, 2);
    const Matrix ref = transposed ? direct.solve_transposed(B) : direct.solve(B);
    EXPECT_LT((X - ref).cwiseAbs().maxCoeff(), 1e-9 * ref.cwiseAbs().maxCoeff());
    EXPECT_FALSE(info.refactored);
    EXPECT_GE(info.iterations, 1);
    EXPECT_LE(info.relative_residual, 1e-10);
    // Forced fallback: one iteration allowed and a tolerance it cannot meet.
    auto strict = global_cv(0.15);
    strict.max_iterations = 1;
    strict.tolerance = 1e-300;
    WarmSolveInfo info2;
    const Matrix Xf = warm_solve(base, p.A, B, X0, transposed, strict, &info2, 1);
    EXPECT_TRUE(info2.refactored);
    EXPECT_LT((Xf - ref).cwiseAbs().maxCoeff(), 1e-9 * ref.cwiseAbs().maxCoeff());
  }
}

TEST(MonteCarlo, SampleMeanConvergesToTheFirstOrderExpectation) {
  // D_cba_reg = s' L y' is linear in S and in Y with independent mean-one
  // factors, so E[D_cba_reg] is exactly the base value when only F and Y vary;
  // with A varying too the bias is second order (O(CV^2) = 0.25 % here).
  const MrioSystem sys = small_system(3);
  const LeontiefSolver solver(sys.A());
  const DrawBase base = prepare_draws(sys, solver, {});
  const Accounts ref = calc_accounts(sys, solver);
  for (bool vary_A : {false, true}) {
    UncertaintyOptions o;
    o.Y.cv = o.F.cv = 0.2;
    o.A.cv = vary_A ? 0.05 : 0.0;
    o.seed = 99;
    const int D = 400;
    Matrix draws(D, ref.D_cba_reg.size());
    for (int d = 0; d < D; ++d) {
      const Accounts a = draw_accounts(sys, solver, base, perturb(sys, o, static_cast<std::uint64_t>(d), 1), o);
      draws.row(d) = Eigen::Map<const RowVector>(a.D_cba_reg.data(), a.D_cba_reg.size());
    }
    const RowVector mean = draws.colwise().mean();
    const RowVector sd = ((draws.rowwise() - mean).array().square().colwise().sum() / (D - 1)).sqrt();
    const RowVector expected = Eigen::Map<const RowVector>(ref.D_cba_reg.data(), ref.D_cba_reg.size());
    for (Index j = 0; j < mean.size(); ++j) {
      const double se = sd[j] / std::sqrt(static_cast<double>(D));
      EXPECT_NEAR(mean[j], expected[j], 4 * se + (vary_A ? 0.005 * std::abs(expected[j]) : 0.0))
          << "entry " << j << (vary_A ? " (A varies)" : "");
      EXPECT_GT(sd[j], 0);
    }
  }
}

TEST(MonteCarlo, SizeRuleGivesLargeEntriesTheSmallCv) {
  const MrioSystem sys = small_system();
  UncertaintyOptions o;
  o.Y.size_rule = true;
  o.Y.cv_small = 0.5;
  o.Y.cv_large = 0.1;
  // Largest and smallest nonzero |Y| entries.
  Index imax = 0, imin = 0;
  for (Index i = 0; i < sys.Y().size(); ++i) {
    const double a = std::abs(sys.Y().data()[i]);
    if (a > std::abs(sys.Y().data()[imax])) imax = i;
    if (a > 0 && (sys.Y().data()[imin] == 0 || a < std::abs(sys.Y().data()[imin]))) imin = i;
  }
  const int D = 3000;
  Vector big(D), small(D);
  for (int d = 0; d < D; ++d) {
    const PerturbedSystem p = perturb(sys, o, static_cast<std::uint64_t>(d), 1);
    big[d] = p.Y.data()[imax] / sys.Y().data()[imax];
    small[d] = p.Y.data()[imin] / sys.Y().data()[imin];
  }
  auto cv = [](const Vector& v) { return std::sqrt((v.array() - v.mean()).square().sum() / (v.size() - 1)) / v.mean(); };
  EXPECT_NEAR(big.mean(), 1.0, 0.01);
  EXPECT_NEAR(small.mean(), 1.0, 0.05);
  EXPECT_NEAR(cv(big), 0.1, 0.01);
  EXPECT_NEAR(cv(small), 0.5, 0.06);
}

TEST(MonteCarlo, ZModeRebuildsAAndSFromPerturbedFlows) {
  const MrioSystem sys = small_system();
  UncertaintyOptions o;
  o.perturb_Z = true;
  const PerturbedSystem p0 = perturb(sys, o, 1, 1);  // CV 0: A and S back up to rounding
  EXPECT_LT((Matrix(p0.A) - Matrix(sys.A())).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((p0.S - sys.S()).cwiseAbs().maxCoeff(), 1e-12 * sys.S().cwiseAbs().maxCoeff());
  o.A.cv = o.Y.cv = 0.1;
  const PerturbedSystem p = perturb(sys, o, 1, 1);
  // x' = Z'1 + Y'1 and A' = Z' diag(x')^-1  =>  (I - A') x' = Y'1.
  const LeontiefSolver s(p.A);
  const Vector x = s.solve(p.Y.rowwise().sum()).col(0);
  const Vector x_rows = (Matrix(p.A) * x.asDiagonal()).rowwise().sum() + p.Y.rowwise().sum();
  EXPECT_LT((x - x_rows).cwiseAbs().maxCoeff(), 1e-9 * x.cwiseAbs().maxCoeff());
}

TEST(MonteCarlo, SummaryStatisticsKnownAnswers) {
  Matrix draws(6, 2);
  draws << 1, -1,  //
      2, -2,       //
      3, 3,        //
      4, 4,        //
      5, 5,        //
      std::nan(""), 100;  // a failed draw: its row is ignored
  const DrawSummary s = summarize_draws(draws);
  EXPECT_EQ(s.draws, 5);
  EXPECT_DOUBLE_EQ(s.mean[0], 3.0);
  EXPECT_DOUBLE_EQ(s.median[0], 3.0);
  EXPECT_DOUBLE_EQ(s.p2_5[0], 1.1);    // 1 + 0.025 * 4 * (2 - 1)
  EXPECT_DOUBLE_EQ(s.p97_5[0], 4.9);
  EXPECT_DOUBLE_EQ(s.p_negative[1], 0.4);
  EXPECT_DOUBLE_EQ(s.median[1], 3.0);
}

TEST(MonteCarlo, BadInputIsRejected) {
  const MrioSystem sys = small_system();
  EXPECT_THROW(perturb(sys, global_cv(-0.1), 0), InputError);
  EXPECT_THROW(perturb(sys, global_cv(std::nan("")), 0), InputError);
  auto o = global_cv(0.1);
  o.tolerance = 0;
  EXPECT_THROW(perturb(sys, o, 0), InputError);
  o = global_cv(0.1);
  o.max_iterations = 0;
  EXPECT_THROW(validate(o), InputError);
  const LeontiefSolver solver(sys.A());
  const Matrix B = Matrix::Ones(sys.n(), 2);
  EXPECT_THROW(warm_solve(solver, sys.A(), B, Matrix::Ones(sys.n(), 3), false, global_cv(0.1)), InputError);
  EXPECT_THROW(warm_solve(solver, sys.A(), Matrix::Ones(3, 2), B, false, global_cv(0.1)), InputError);
  DrawAccountsOptions bad;
  bad.stressors = {99};
  EXPECT_THROW(prepare_draws(sys, solver, bad), InputError);
}

// ---- Draw blocks (draw_accounts_block) ----

/// Sets an environment variable for the scope (the draw kernels read MRIOTRACE_SIMD per call).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

double max_abs(const Matrix& M) { return M.size() ? M.cwiseAbs().maxCoeff() : 0.0; }

TEST(MonteCarlo, DrawBlockMatchesDrawByDrawAndLanesAreIndependent) {
  for (const auto& [regions, sectors] : {std::pair<Index, Index>{3, 5}, {4, 7}, {10, 12}}) {
    datasets::GeneratorOptions g;
    g.regions = regions;
    g.sectors = sectors;
    g.stressors = 2;
    g.seed = 5;
    g.threads = 1;
    const MrioSystem sys = datasets::generate(g);
    SolverOptions so;
    so.kind = SolverKind::DenseLU;
    const LeontiefSolver solver(sys.A(), so);
    const DrawBase base = prepare_draws(sys, solver, {});  // all stressors, with production
    const auto o = global_cv(0.1);
    ASSERT_TRUE(draw_block_supported(solver, base, o));
    std::vector<std::uint64_t> draws;
    for (std::uint64_t d = 0; d < 11; ++d) draws.push_back(d);  // 22 transposed lanes, 11 plain: partial blocks
    std::vector<WarmSolveInfo> info;
    const std::vector<Accounts> block = draw_accounts_block(sys, solver, base, draws, o, &info);
    ASSERT_EQ(block.size(), draws.size());
    ASSERT_EQ(info.size(), draws.size());
    for (size_t d = 0; d < draws.size(); ++d) {
      // The draw-by-draw path (checked against fresh factorisations above).
      const Accounts ref = draw_accounts(sys, solver, base, perturb(sys, o, draws[d], 1), o);
      EXPECT_LT(max_abs(block[d].D_cba_reg - ref.D_cba_reg), 1e-9 * max_abs(ref.D_cba_reg)) << "draw " << d;
      EXPECT_LT(max_abs(block[d].D_pba_reg - ref.D_pba_reg), 1e-9 * max_abs(ref.D_pba_reg)) << "draw " << d;
      EXPECT_LT((block[d].x - ref.x).cwiseAbs().maxCoeff(), 1e-9 * ref.x.cwiseAbs().maxCoeff());
      EXPECT_GE(info[d].iterations, 1);
      EXPECT_LE(info[d].relative_residual, o.tolerance);
      EXPECT_FALSE(info[d].refactored);
      EXPECT_GT(max_abs(block[d].D_cba_reg - block[(d + 1) % draws.size()].D_cba_reg), 0);  // draws differ
    }
    // A draw's bits do not depend on its company in the block ...
    const auto alone = draw_accounts_block(sys, solver, base, {7}, o);
    const auto mixed = draw_accounts_block(sys, solver, base, {3, 7, 100}, o);
    EXPECT_TRUE(alone[0].D_cba_reg == block[7].D_cba_reg);
    EXPECT_TRUE(alone[0].D_pba_reg == block[7].D_pba_reg);
    EXPECT_TRUE(mixed[1].D_cba_reg == block[7].D_cba_reg);
    EXPECT_TRUE(mixed[0].x == block[3].x);
    // ... nor on the vector code that ran.
    for (const char* level : {"scalar", "avx2"}) {
      const ScopedEnv env("MRIOTRACE_SIMD", level);
      const auto again = draw_accounts_block(sys, solver, base, draws, o);
      for (size_t d = 0; d < draws.size(); ++d) {
        EXPECT_TRUE(again[d].D_cba_reg == block[d].D_cba_reg) << level << ", draw " << d;
        EXPECT_TRUE(again[d].x == block[d].x) << level << ", draw " << d;
      }
    }
  }
}

TEST(MonteCarlo, DrawBlockZeroCvIsTheBaseAndStalledLanesRefactor) {
  const MrioSystem sys = small_system();
  const LeontiefSolver solver(sys.A());
  const DrawBase base = prepare_draws(sys, solver, {});
  ASSERT_TRUE(draw_block_supported(solver, base, global_cv(0.0)));
  const auto zero = draw_accounts_block(sys, solver, base, {0, 5}, global_cv(0.0));
  const Accounts ref0 = draw_accounts(sys, solver, base, perturb(sys, global_cv(0.0), 0, 1), global_cv(0.0));
  EXPECT_TRUE(zero[0].D_cba_reg == ref0.D_cba_reg && zero[1].D_cba_reg == ref0.D_cba_reg);
  EXPECT_TRUE(zero[0].D_pba_reg == ref0.D_pba_reg);
  // One iteration allowed and a tolerance it cannot meet: every lane refactors.
  auto strict = global_cv(0.15);
  strict.max_iterations = 1;
  strict.tolerance = 1e-300;
  std::vector<WarmSolveInfo> info;
  const auto forced = draw_accounts_block(sys, solver, base, {2, 4}, strict, &info);
  for (size_t d = 0; d < 2; ++d) {
    EXPECT_TRUE(info[d].refactored);
    const std::uint64_t draw = d == 0 ? 2 : 4;
    const PerturbedSystem p = perturb(sys, strict, draw, 1);
    const LeontiefSolver direct(p.A);
    const Matrix Mt = direct.solve_transposed(p.S.transpose());
    Matrix Yr = Matrix::Zero(sys.n(), sys.R());
    for (Index r = 0; r < sys.R(); ++r) Yr.col(r) = p.Y.middleCols(r * sys.c(), sys.c()).rowwise().sum();
    const Matrix expected = Mt.transpose() * Yr;
    Matrix FYr = Matrix::Zero(sys.k(), sys.R());
    if (p.F_Y.size() > 0)
      for (Index r = 0; r < sys.R(); ++r) FYr.col(r) = p.F_Y.middleCols(r * sys.c(), sys.c()).rowwise().sum();
    EXPECT_LT(max_abs(forced[d].D_cba_reg - (expected + FYr)), 1e-9 * max_abs(expected));
  }
}

TEST(MonteCarlo, DrawBlockGoesDrawByDrawWhereItCannotBlock) {
  const MrioSystem sys = small_system();
  const LeontiefSolver solver(sys.A());
  DrawAccountsOptions with_q;
  with_q.with_Q = true;
  const DrawBase base_q = prepare_draws(sys, solver, with_q);
  const auto o = global_cv(0.1);
  EXPECT_FALSE(draw_block_supported(solver, base_q, o));
  const auto block = draw_accounts_block(sys, solver, base_q, {1, 2}, o);
  const Accounts ref = draw_accounts(sys, solver, base_q, perturb(sys, o, 2, 1), o);
  EXPECT_TRUE(block[1].Q == ref.Q && block[1].D_cba_reg == ref.D_cba_reg);
  SolverOptions gm;
  gm.kind = SolverKind::GMRES;
  const LeontiefSolver iterative = make_solver(sys, gm);
  EXPECT_FALSE(draw_block_supported(iterative, prepare_draws(sys, iterative, {}), o));
}


double spectral_radius(const SparseMatrix& A) {
  const Matrix dense(A);
  return Eigen::EigenSolver<Matrix>(dense, false).eigenvalues().cwiseAbs().maxCoeff();
}

// A base close to the productivity limit (spectral radius 0.99) and large
// CVs: some draws have rho(A') >= 1. Exactly those are rejected, with y > 0
// everywhere (so x' >= 0 is also sufficient: the rule is exact here), on the
// draw-by-draw path and in blocks, and with Q.
TEST(MonteCarlo, NonProductiveDrawsAreRejectedExactly) {
  datasets::GeneratorOptions g;
  g.regions = 3;
  g.sectors = 5;
  g.seed = 3;
  g.threads = 1;
  const MrioSystem gen = datasets::generate(g);
  const double scale = 0.99 / spectral_radius(gen.A());
  const SparseMatrix A = gen.A() * scale;
  const MrioSystem sys = MrioSystem::from_A_Y(gen.labels(), A, gen.Y(), gen.S(), gen.F_Y(), {}, 1);
  ASSERT_NEAR(spectral_radius(sys.A()), 0.99, 1e-12);
  ASSERT_GT(sys.Y().rowwise().sum().minCoeff(), 0);
  SolverOptions so;
  so.kind = SolverKind::DenseLU;
  const LeontiefSolver solver(sys.A(), so);
  const DrawBase base = prepare_draws(sys, solver, {});
  DrawAccountsOptions with_q;
  with_q.with_Q = true;
  const DrawBase base_q = prepare_draws(sys, solver, with_q);
  const auto o = global_cv(0.3, 5);
  int rejected = 0, accepted = 0;
  std::vector<std::uint64_t> good, bad;
  for (std::uint64_t d = 0; d < 120; ++d) {
    const PerturbedSystem p = perturb(sys, o, d, 1);
    const double rho = spectral_radius(p.A);
    if (std::abs(rho - 1) < 1e-9) continue;  // undecidable in floating point
    bool threw = false, threw_q = false;
    try {
      const Accounts a = draw_accounts(sys, solver, base, p, o);
      EXPECT_GE(a.x.minCoeff(), 0) << "draw " << d;
    } catch (const NumericError& e) {
      threw = true;
      EXPECT_NE(std::string(e.what()).find("not productive"), std::string::npos) << e.what();
    }
    try {
      draw_accounts(sys, solver, base_q, p, o);
    } catch (const NumericError&) {
      threw_q = true;
    }
    EXPECT_EQ(threw, rho >= 1) << "draw " << d << ", spectral radius " << rho;
    EXPECT_EQ(threw_q, rho >= 1) << "draw " << d << " (with Q), spectral radius " << rho;
    (rho >= 1 ? rejected : accepted)++;
    (rho >= 1 ? bad : good).push_back(d);
  }
  EXPECT_GT(rejected, 5);  // the test exercises both sides
  EXPECT_GT(accepted, 5);
  ASSERT_TRUE(draw_block_supported(solver, base, o));
  std::vector<std::uint64_t> productive(good.begin(), good.begin() + 8);
  EXPECT_NO_THROW(draw_accounts_block(sys, solver, base, productive, o));
  productive.back() = bad.front();
  EXPECT_THROW(draw_accounts_block(sys, solver, base, productive, o), NumericError);
}
}  // namespace
}  // namespace mriotrace
