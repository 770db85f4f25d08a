// Solver layer: every backend against dense LU on generated systems (plain and
// transposed), warm starts, thread-count determinism of the iterative path,
// the fallback on a nearly singular system, auto's choices and bad options.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "kernels.hpp"
#include "simd.hpp"
#include "mriotrace/accounts.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"

using namespace mriotrace;

namespace {

double max_rel_diff(const Matrix& a, const Matrix& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  const double scale = std::max(b.cwiseAbs().maxCoeff(), 1e-300);
  return (a - b).cwiseAbs().maxCoeff() / scale;
}

/// Largest elementwise relative difference |a - b| / |b| (b != 0).
double max_elementwise_rel(const Matrix& a, const Matrix& b) {
  double worst = 0;
  for (Index j = 0; j < a.cols(); ++j)
    for (Index i = 0; i < a.rows(); ++i)
      if (b(i, j) != 0) worst = std::max(worst, std::abs(a(i, j) - b(i, j)) / std::abs(b(i, j)));
  return worst;
}

MrioSystem make_system(Index R, Index N, double dd, double td, std::uint64_t seed = 7) {
  datasets::GeneratorOptions o;
  o.regions = R;
  o.sectors = N;
  o.stressors = 3;
  o.domestic_density = dd;
  o.trade_density = td;
  o.seed = seed;
  o.threads = 1;
  return datasets::generate(o);
}

/// Nonnegative right-hand sides spanning orders of magnitude, like final demand.
Matrix random_rhs(Index n, Index m, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Matrix B(n, m);
  for (Index j = 0; j < m; ++j)
    for (Index i = 0; i < n; ++i) B(i, j) = std::pow(10.0, 3.0 * u(rng));
  return B;
}

SolverOptions opts(SolverKind kind, int threads, Index block_size) {
  SolverOptions o;
  o.kind = kind;
  o.threads = threads;
  o.block_size = block_size;
  return o;
}

/// A = rho * (a column-stochastic random matrix): spectral radius exactly rho.
SparseMatrix near_singular(Index n, double rho) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Matrix A(n, n);
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < n; ++i) A(i, j) = u(rng) < 0.3 ? u(rng) : 0.0;
  for (Index j = 0; j < n; ++j) {
    A(j, j) += 0.1;
    A.col(j) *= rho / A.col(j).sum();
  }
  return A.sparseView();
}

template <class F>
void expect_message(F&& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning: " << part;
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(SolverKernelsTest, PanelByPanelCsrEqualsTheGeneralBuild) {
  // n = 1,200 at ~30 % density: >= 8 panels, so offdiagonal_csr takes the
  // panel-by-panel build. The general (scatter) build of the same matrix is
  // the transpose of the transposed build; both must agree entry for entry.
  const MrioSystem sys = make_system(6, 200, 0.6, 0.3);
  const auto general = kernels::transpose(kernels::offdiagonal_csr(sys.A(), 200, true));
  const auto direct = kernels::offdiagonal_csr(sys.A(), 200, false, general.panel_width);
  ASSERT_GE(direct.panels, 8);
  ASSERT_EQ(general.panels, direct.panels);
  EXPECT_EQ(general.panel_width, direct.panel_width);
  EXPECT_TRUE(general.ptr == direct.ptr);
  EXPECT_TRUE(general.idx == direct.idx);
  EXPECT_TRUE(general.val == direct.val);
  EXPECT_GT(direct.nnz(), 0);
  EXPECT_LT(direct.nnz(), sys.A().nonZeros());  // the diagonal blocks are left out
}

/// Sets an environment variable for the scope (simd::level() reads it per call).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

/// The product's definition (kernels.hpp), written out: per panel segment,
/// even nonzeros into one fused multiply-add chain, odd into another, added.
std::vector<double> spmm_by_definition(const kernels::Csr& M, const std::vector<double>& X, Index m) {
  std::vector<double> Y(static_cast<size_t>(M.rows * m), 0.0);
  for (Index q = 0; q < M.panels; ++q)
    for (Index i = 0; i < M.rows; ++i)
      for (Index c = 0; c < m; ++c) {
        double a = q > 0 ? Y[static_cast<size_t>(i * m + c)] : 0.0, b = 0.0;
        const auto p0 = M.ptr[static_cast<size_t>(q * M.rows + i)], p1 = M.ptr[static_cast<size_t>(q * M.rows + i + 1)];
        for (auto p = p0; p < p1; ++p) {
          double& acc = (p - p0) % 2 == 0 ? a : b;
          acc = std::fma(M.val[static_cast<size_t>(p)], X[static_cast<size_t>(M.idx[static_cast<size_t>(p)] * m + c)], acc);
        }
        Y[static_cast<size_t>(i * m + c)] = a + b;
      }
  return Y;
}

TEST(SolverKernelsTest, SparseProductHasTheSameBitsOnEverySimdPathAndThreadCount) {
  // 1,200 rows, ~30 % dense: >= 8 column panels, so segments continue sums
  // across panels; widths cover every tile (64, 32, 16, 8, 4 and scalar tails).
  const MrioSystem sys = make_system(6, 200, 0.6, 0.3);
  const auto M = kernels::offdiagonal_csr(sys.A(), 200, false);
  ASSERT_GE(M.panels, 8);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (const Index m : {1, 3, 4, 7, 8, 13, 16, 29, 32, 64, 77, 100}) {
    std::vector<double> X(static_cast<size_t>(M.cols * m));
    for (double& v : X) v = u(rng);
    const std::vector<double> want = spmm_by_definition(M, X, m);
    for (const char* level : {"scalar", "avx2", "avx512"}) {
      const ScopedEnv env("MRIOTRACE_SIMD", level);
      EXPECT_LE(static_cast<int>(simd::level()), std::string(level) == "scalar" ? 0 : std::string(level) == "avx2" ? 1 : 2);
      for (const int threads : {1, 2}) {
        std::vector<double> Y(static_cast<size_t>(M.rows * m), -1.0);
        kernels::spmm(M, X.data(), Y.data(), m, threads);
        EXPECT_TRUE(Y == want) << "m = " << m << ", " << level << ", " << threads << " threads";
      }
    }
  }
  {
    const ScopedEnv env("MRIOTRACE_SIMD", "scalar");
    EXPECT_EQ(simd::level(), simd::Level::Scalar);
  }
  {
    const ScopedEnv env("MRIOTRACE_NO_AVX512", "1");
    EXPECT_NE(simd::level(), simd::Level::Avx512);
  }
}

TEST(SolverIterativeTest, ValueAddedWithTheStressorsEqualsSeparateAccounts) {
  const MrioSystem sys = make_system(5, 12, 0.6, 0.2);
  ASSERT_TRUE(sys.has_value_added());
  for (const char* kind : {"dense", "gmres"}) {
    SolverOptions o;
    o.kind = solver_kind_from_string(kind);
    const LeontiefSolver solver = make_solver(sys, o);
    AccountsOptions ao;
    ao.stressors = {2, 0};
    const auto [both, va] = calc_accounts_with_value_added(sys, solver, ao);
    const Accounts ref = calc_accounts(sys, solver, ao);
    const Accounts ref_va = calc_value_added_accounts(sys, solver, ao);
    EXPECT_EQ(both.stressors, ref.stressors);
    for (const auto& [a, b] : {std::pair{&both.Q, &ref.Q}, {&both.D_cba_reg, &ref.D_cba_reg},
                               {&both.D_pba_reg, &ref.D_pba_reg}, {&both.D_imp, &ref.D_imp}, {&both.M, &ref.M},
                               {&va.D_cba_reg, &ref_va.D_cba_reg}, {&va.Q, &ref_va.Q}, {&va.D_imp, &ref_va.D_imp},
                               {&va.M, &ref_va.M}}) {
      ASSERT_EQ(a->rows(), b->rows()) << kind;
      EXPECT_LT(max_rel_diff(*a, *b), 1e-11) << kind;
    }
    // Value added embodied in final demand adds up to total final demand (sum_r D_cba_reg = 1'Y 1).
    EXPECT_NEAR(va.D_cba_reg.sum(), sys.Y().sum(), 1e-9 * sys.Y().sum()) << kind;
  }
}

}  // namespace

TEST(SolverIterativeTest, EveryBackendMatchesDenseLUPlainAndTransposed) {
  struct Case {
    Index R, N;
    double dd, td;
  };
  for (const Case c : {Case{4, 10, 0.6, 0.1}, Case{6, 25, 0.3, 0.3}, Case{3, 40, 0.9, 0.02}, Case{10, 8, 1.0, 1.0}}) {
    const auto sys = make_system(c.R, c.N, c.dd, c.td);
    const Index n = sys.n();
    const Matrix B = random_rhs(n, 5, 3);
    const LeontiefSolver dense(sys.A(), opts(SolverKind::DenseLU, 1, 0));
    const Matrix X = dense.solve(B), Xt = dense.solve_transposed(B);
    struct Variant {
      SolverKind kind;
      Index bs;
    };
    for (const Variant v : {Variant{SolverKind::SparseLU, 0}, Variant{SolverKind::KLU, 0}, Variant{SolverKind::GMRES, c.N},
                            Variant{SolverKind::GMRES, 0}, Variant{SolverKind::PowerSeries, c.N},
                            Variant{SolverKind::PowerSeries, 0}}) {
      const LeontiefSolver s(sys.A(), opts(v.kind, 1, v.bs));
      const std::string what = to_string(v.kind) + " block_size " + std::to_string(v.bs) + " n " + std::to_string(n);
      EXPECT_LE(max_elementwise_rel(s.solve(B), X), 1e-10) << what;
      EXPECT_LE(max_elementwise_rel(s.solve_transposed(B), Xt), 1e-10) << what << " (transposed)";
      EXPECT_FALSE(s.diagnostics().fell_back) << what;
      EXPECT_EQ(s.diagnostics().last_kind, v.kind) << what;
      if (v.kind == SolverKind::GMRES || v.kind == SolverKind::PowerSeries) {
        EXPECT_GT(s.diagnostics().iterations, 0) << what;
        EXPECT_LE(s.diagnostics().last_relative_residual, 1e-13) << what;
      }
    }
  }
}

TEST(SolverIterativeTest, BlockJacobiCutsTheSweeps) {
  const auto sys = make_system(6, 30, 0.5, 0.2);
  const Matrix B = random_rhs(sys.n(), 3, 5);
  const LeontiefSolver plain(sys.A(), opts(SolverKind::PowerSeries, 1, 0));
  const LeontiefSolver blocks(sys.A(), opts(SolverKind::PowerSeries, 1, 30));
  plain.solve(B);
  blocks.solve(B);
  // Trade is small next to domestic coefficients: the preconditioned series
  // needs far fewer terms than the plain one.
  EXPECT_LT(2 * blocks.diagnostics().iterations, plain.diagnostics().iterations);
  EXPECT_EQ(blocks.diagnostics().preconditioner, "block-Jacobi, 6 blocks of 30");
  EXPECT_EQ(plain.diagnostics().preconditioner, "none");
}

TEST(SolverIterativeTest, AccountsThroughGmresMatchDenseLU) {
  const auto sys = make_system(5, 12, 0.6, 0.15);
  const LeontiefSolver dense(sys.A(), opts(SolverKind::DenseLU, 1, 0));
  const LeontiefSolver gmres = make_solver(sys, opts(SolverKind::GMRES, 1, 0));  // block_size from the system
  EXPECT_EQ(gmres.options().block_size, 12);
  const auto a = calc_accounts(sys, dense), b = calc_accounts(sys, gmres);
  EXPECT_LE(max_rel_diff(b.M, a.M), 1e-11);
  EXPECT_LE(max_rel_diff(b.D_cba, a.D_cba), 1e-11);
  EXPECT_LE(max_rel_diff(b.D_imp, a.D_imp), 1e-11);
  EXPECT_LE(max_rel_diff(b.Q, a.Q), 1e-11);
  EXPECT_LE(max_rel_diff(b.D_cba_reg, a.D_cba_reg), 1e-11);
}

TEST(SolverIterativeTest, WarmStartNeedsFewerIterations) {
  const auto sys = make_system(5, 20, 0.5, 0.3);
  const Matrix B = random_rhs(sys.n(), 4, 9);
  Matrix B2 = B;
  B2.row(3) *= 1.01;  // a nearby scenario: one product's demand +1 %
  for (auto kind : {SolverKind::GMRES, SolverKind::PowerSeries}) {
    const LeontiefSolver s(sys.A(), opts(kind, 1, 20));
    const Matrix X = s.solve(B);
    s.solve(B2);
    const Index cold = s.diagnostics().iterations;
    const Matrix X2 = s.solve(B2, X);
    const Index warm = s.diagnostics().iterations;
    EXPECT_LT(warm, cold) << to_string(kind);
    const LeontiefSolver dense(sys.A(), opts(SolverKind::DenseLU, 1, 0));
    EXPECT_LE(max_elementwise_rel(X2, dense.solve(B2)), 1e-10) << to_string(kind);
    // The exact answer as the guess: no iteration at all.
    s.solve(B2, X2);
    EXPECT_EQ(s.diagnostics().iterations, 0) << to_string(kind);
    // Transposed warm start too.
    const Matrix Xt = s.solve_transposed(B);
    EXPECT_LE(max_elementwise_rel(s.solve_transposed(B, Xt), Xt), 1e-12) << to_string(kind);
  }
}

TEST(SolverIterativeTest, ThreadCountDoesNotChangeABit) {
  // n = 1200 rows: many parallel tasks for the kernels and the blocks.
  const auto sys = make_system(12, 100, 0.3, 0.05);
  const Matrix B = random_rhs(sys.n(), 7, 13);
  for (auto kind : {SolverKind::GMRES, SolverKind::PowerSeries}) {
    const LeontiefSolver s1(sys.A(), opts(kind, 1, 100)), s2(sys.A(), opts(kind, 2, 100));
    EXPECT_EQ(s2.diagnostics().threads, 2);
    const Matrix a = s1.solve(B), b = s2.solve(B);
    EXPECT_TRUE(a == b) << to_string(kind) << ": 1 vs 2 threads differ by " << max_rel_diff(a, b);
    const Matrix at = s1.solve_transposed(B), bt = s2.solve_transposed(B);
    EXPECT_TRUE(at == bt) << to_string(kind) << " transposed: 1 vs 2 threads differ by " << max_rel_diff(at, bt);
    EXPECT_EQ(s1.diagnostics().total_iterations, s2.diagnostics().total_iterations);
  }
}

TEST(SolverIterativeTest, NearlySingularFallsBackOrSaysWhy) {
  // Spectral radius 0.9999: the series would need ~300,000 terms.
  const SparseMatrix A = near_singular(60, 0.9999);
  const Matrix B = random_rhs(60, 2, 17);
  const LeontiefSolver dense(A, opts(SolverKind::DenseLU, 1, 0));
  const Matrix X = dense.solve(B);
  struct Variant {
    SolverKind kind;
    Index restart;
  };
  for (const Variant v : {Variant{SolverKind::PowerSeries, 30}, Variant{SolverKind::GMRES, 2}}) {
    SolverOptions o = opts(v.kind, 1, 0);
    o.max_iterations = 40;
    o.restart = v.restart;
    // fallback = true: the answer comes from a direct solver and says so.
    const LeontiefSolver fb(A, o);
    const Matrix Xf = fb.solve(B);
    EXPECT_LE(max_rel_diff(Xf, X), 1e-9) << to_string(v.kind);
    EXPECT_TRUE(fb.diagnostics().fell_back) << to_string(v.kind);
    EXPECT_NE(fb.diagnostics().last_kind, v.kind);
    EXPECT_NE(fb.diagnostics().fallback_reason.find("did not converge"), std::string::npos)
        << fb.diagnostics().fallback_reason;
    // fallback = false: NumericError naming the iterations, residual and why.
    o.fallback = false;
    const LeontiefSolver strict(A, o);
    try {
      strict.solve(B);
      ADD_FAILURE() << to_string(v.kind) << " returned an unconverged answer";
    } catch (const NumericError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(to_string(v.kind) + " did not converge"), std::string::npos) << msg;
      EXPECT_NE(msg.find("relative residual reached"), std::string::npos) << msg;
      if (v.kind == SolverKind::PowerSeries) {  // GMRES(2) stagnates before: "stagnated"
        EXPECT_NE(msg.find("iterations exhausted after 40 iterations"), std::string::npos) << msg;
        EXPECT_NE(msg.find("near 1"), std::string::npos) << msg;
      } else {
        EXPECT_NE(msg.find("stagnated"), std::string::npos) << msg;
      }
    }
  }
}

TEST(SolverIterativeTest, AutoChoosesByStructureAndRightHandSides) {
  std::string why;
  EXPECT_EQ(LeontiefSolver::choose(1000, 300000, 10, &why), SolverKind::DenseLU);
  EXPECT_NE(why.find("small system"), std::string::npos) << why;
  EXPECT_EQ(LeontiefSolver::choose(9800, 9800LL * 2940, 200, &why), SolverKind::GMRES);
  EXPECT_NE(why.find("block-Jacobi GMRES"), std::string::npos) << why;
  EXPECT_EQ(LeontiefSolver::choose(9800, 9800LL * 2940, 0), SolverKind::DenseLU);
  EXPECT_EQ(LeontiefSolver::choose(15000, 15000LL * 100, 0), SolverKind::SparseLU);
  EXPECT_EQ(LeontiefSolver::choose(250000, 1100000, 0, &why), SolverKind::GMRES);  // a firm network
  EXPECT_NE(why.find("UMFPACK as fallback"), std::string::npos) << why;
  // The two-argument form (direct backends only) is unchanged.
  EXPECT_EQ(LeontiefSolver::choose(9800, 9800LL * 2940), SolverKind::DenseLU);

  // n = 2100 > 2000 with region blocks: auto runs GMRES for a few right-hand
  // sides and hands the n columns of L to a dense LU (cheaper there).
  const auto sys = make_system(3, 700, 0.05, 0.01);
  const LeontiefSolver s = make_solver(sys, opts(SolverKind::Auto, 0, 0));
  EXPECT_EQ(s.diagnostics().kind, SolverKind::GMRES);
  EXPECT_NE(s.diagnostics().reason.find("region blocks of 700"), std::string::npos) << s.diagnostics().reason;
  const Matrix B = random_rhs(sys.n(), 3, 1);
  const Matrix X = s.solve(B);
  EXPECT_EQ(s.diagnostics().last_kind, SolverKind::GMRES);
  const Matrix L = s.leontief_inverse();
  EXPECT_EQ(s.diagnostics().last_kind, SolverKind::DenseLU);
  EXPECT_LE(max_elementwise_rel(Matrix(L * B), X), 1e-10);
}

TEST(SolverIterativeTest, BadOptionsAreRejectedWithTheReason) {
  const auto sys = make_system(2, 10, 0.6, 0.2);
  const SparseMatrix& A = sys.A();
  auto with = [&](auto&& set) {
    SolverOptions o = opts(SolverKind::GMRES, 1, 10);
    set(o);
    return o;
  };
  expect_message([&] { LeontiefSolver(A, with([](SolverOptions& o) { o.tolerance = 0; })); }, "tolerance = 0");
  expect_message([&] { LeontiefSolver(A, with([](SolverOptions& o) { o.tolerance = -1e-12; })); },
                 "expected 0 < tolerance < 1");
  expect_message([&] { LeontiefSolver(A, with([](SolverOptions& o) { o.tolerance = 1; })); }, "tolerance = 1");
  expect_message([&] { LeontiefSolver(A, with([](SolverOptions& o) { o.max_iterations = 0; })); },
                 "max_iterations = 0; expected >= 1");
  expect_message([&] { LeontiefSolver(A, with([](SolverOptions& o) { o.restart = 0; })); }, "restart = 0");
  expect_message([&] { LeontiefSolver(A, with([](SolverOptions& o) { o.block_size = 7; })); },
                 "block_size = 7 does not divide n = 20");
  expect_message([&] { LeontiefSolver(A, with([](SolverOptions& o) { o.block_size = -1; })); }, "block_size = -1");
  expect_message([&] { LeontiefSolver(A, with([](SolverOptions& o) { o.block_size = 40; })); }, "block_size = 40");
  // Blocks too big to store densely: refused with the memory they would need.
  SparseMatrix big(100000, 100000);
  big.makeCompressed();
  expect_message([&] { LeontiefSolver(big, with([](SolverOptions& o) { o.block_size = 50000; })); },
                 "block_size = 50000 would need 2 n block_size doubles = 80 GB");
  EXPECT_THROW(LeontiefSolver(A, with([](SolverOptions& o) { o.tolerance = 0; })), InputError);
  expect_message([] { solver_kind_from_string("cg"); }, "expected one of: auto, dense, mixed, umfpack, klu, gmres, power");
  EXPECT_EQ(solver_kind_from_string("gmres"), SolverKind::GMRES);
  EXPECT_EQ(solver_kind_from_string("power"), SolverKind::PowerSeries);
  EXPECT_EQ(solver_kind_from_string("power-series"), SolverKind::PowerSeries);
  EXPECT_EQ(to_string(SolverKind::PowerSeries), "power");

  const LeontiefSolver s(A, opts(SolverKind::GMRES, 1, 10));
  const Matrix B = random_rhs(20, 2, 2);
  expect_message([&] { s.solve(B, Matrix::Zero(20, 3)); }, "initial guess X0 has shape 20 x 3");
  Matrix bad = Matrix::Zero(20, 2);
  bad(4, 1) = std::nan("");
  expect_message([&] { s.solve(B, bad); }, "initial guess X0");
  expect_message([&] { s.solve_transposed(Matrix::Ones(19, 1)); }, "right-hand side has 19 rows");
  // A zero right-hand side column has the answer 0.
  Matrix B0 = B;
  B0.col(1).setZero();
  EXPECT_TRUE(s.solve(B0).col(1).isZero(0));
}

TEST(SolverIterativeTest, SingularDomesticBlockIsNotProductive) {
  Matrix A = Matrix::Zero(4, 4);
  A << 0.5, 0.5, 0.0, 0.0,  //
      0.5, 0.5, 0.0, 0.0,   //  region 0's block has column sums 1
      0.0, 0.0, 0.2, 0.1,   //
      0.0, 0.0, 0.1, 0.2;
  for (auto kind : {SolverKind::GMRES, SolverKind::PowerSeries})
    expect_message([&] { LeontiefSolver(A.sparseView(), opts(kind, 1, 2)); },
                   "diagonal block 0 (rows 0..1) of I - A is singular");
}

TEST(SolverIterativeTest, SystemBlocksOnlyWhenTheyFit) {
  // 2 regions x 3000 "sectors" (a firm network's shape): dense blocks would take
  // 2 n N doubles = 288 MB > 256 MB, so a solver from the system uses none.
  Labels l;
  l.regions = {"a", "b"};
  for (int i = 0; i < 3000; ++i) l.sectors.push_back("s" + std::to_string(i));
  l.fd_categories = {"f"};
  const Index n = 6000;
  SparseMatrix A(n, n);
  A.setIdentity();
  A *= 0.1;
  const auto big = MrioSystem::from_A_x(l, A, Vector::Ones(n), Matrix(), Matrix());
  const LeontiefSolver s = make_solver(big, opts(SolverKind::GMRES, 1, 0));
  EXPECT_EQ(s.options().block_size, 0);
  EXPECT_EQ(s.diagnostics().preconditioner, "none");
  EXPECT_LE(max_rel_diff(s.solve(Matrix::Ones(n, 1)), Matrix::Constant(n, 1, 1.0 / 0.9)), 1e-13);
  // A system with small regions gets its domestic blocks.
  const auto sys = make_system(3, 10, 0.6, 0.2);
  EXPECT_EQ(make_solver(sys, opts(SolverKind::GMRES, 1, 0)).options().block_size, 10);
}

// A direct solve of many right-hand sides is checked with the blocked kernel
// (A streamed once per 64 columns). The check must be a real residual: it
// agrees with the per-column one, and a bound no answer can meet is refused.
TEST(SolverDirectTest, BlockedResidualCheckIsReal) {
  const MrioSystem sys = make_system(6, 20, 0.5, 0.1);
  const Index n = sys.n();
  const Matrix B = random_rhs(n, 150, 3);
  for (SolverKind kind : {SolverKind::DenseLU, SolverKind::SparseLU, SolverKind::KLU})
    for (bool transposed : {false, true}) {
      LeontiefSolver blocked(sys.A(), opts(kind, 2, 0));
      const Matrix X = transposed ? blocked.solve_transposed(B) : blocked.solve(B);
      const double r_blocked = blocked.diagnostics().max_relative_residual;
      LeontiefSolver single(sys.A(), opts(kind, 2, 0));
      double r_single = 0;
      for (Index j = 0; j < B.cols(); ++j) {
        const Matrix xj = transposed ? single.solve_transposed(B.col(j)) : single.solve(B.col(j));
        // (dense: LAPACK takes another path for one column, so not bitwise)
        EXPECT_LE(max_rel_diff(xj, X.col(j)), 1e-13) << to_string(kind);
        r_single = std::max(r_single, single.diagnostics().max_relative_residual);
      }
      EXPECT_GT(r_blocked, 0.0);
      EXPECT_LT(r_blocked, 1e-14);
      if (kind == SolverKind::DenseLU) {
        // Dense LU checks 4 random combinations of the 150 columns (probed_residual):
        // round-off adds up to about sqrt(150) times a column's.
        EXPECT_LE(r_blocked, 4.0 * std::sqrt(150.0) * r_single) << (transposed ? " transposed" : "");
      } else {
        // Same residual up to the summation order of A x.
        EXPECT_NEAR(r_blocked, r_single, 4e-16) << to_string(kind) << (transposed ? " transposed" : "");
      }
      SolverOptions strict = opts(kind, 2, 0);
      strict.max_residual = 1e-300;
      LeontiefSolver refuse(sys.A(), strict);
      expect_message([&] { (void)(transposed ? refuse.solve_transposed(B) : refuse.solve(B)); },
                     "relative residual");
    }
}

// Mixed-precision dense LU (solvers/mixed_lu.cpp): single-precision factors,
// answers refined in double to the tolerance on every column.
TEST(SolverMixedTest, RefinedAnswersMatchDoubleLuPlainAndTransposedForOneAndTwoThreads) {
  const MrioSystem sys = make_system(6, 50, 0.5, 0.2);
  const Matrix B = random_rhs(sys.n(), 40, 5);
  const LeontiefSolver dense(sys.A(), opts(SolverKind::DenseLU, 1, 0));
  const Matrix X = dense.solve(B), Xt = dense.solve_transposed(B);
  Matrix first;
  for (int threads : {1, 2}) {
    const LeontiefSolver mixed(sys.A(), opts(SolverKind::MixedLU, threads, 0));
    EXPECT_EQ(mixed.diagnostics().kind, SolverKind::MixedLU);
    EXPECT_GT(mixed.diagnostics().rcond_estimate, 0.0);
    const Matrix Xm = mixed.solve(B);
    EXPECT_EQ(mixed.diagnostics().last_kind, SolverKind::MixedLU);
    EXPECT_FALSE(mixed.diagnostics().fell_back);
    // Single precision alone gives ~1e-7; refinement needs at least one step more.
    EXPECT_GE(mixed.diagnostics().iterations, 2);
    EXPECT_LE(mixed.diagnostics().last_relative_residual, 1e-13);
    EXPECT_LE(max_elementwise_rel(Xm, X), 1e-12) << threads << " threads";
    EXPECT_LE(max_elementwise_rel(mixed.solve_transposed(B), Xt), 1e-12) << threads << " threads";
    if (threads == 1)
      first = Xm;
    else  // OpenBLAS's threaded sgetrf may round differently; refinement brings both to the tolerance
      EXPECT_LE(max_elementwise_rel(Xm, first), 1e-12);
  }
  // One column and the columns one by one: the same answers.
  const LeontiefSolver mixed(sys.A(), opts(SolverKind::MixedLU, 1, 0));
  for (Index j : {0, 17, 39}) EXPECT_LE(max_elementwise_rel(mixed.solve(B.col(j)), X.col(j)), 1e-12);
  // A tighter tolerance is met too (it costs another step).
  SolverOptions tight = opts(SolverKind::MixedLU, 1, 0);
  tight.tolerance = 1e-15;
  const LeontiefSolver strict(sys.A(), tight);
  EXPECT_LE(max_elementwise_rel(strict.solve(B), X), 1e-13);
  EXPECT_LE(strict.diagnostics().last_relative_residual, 1e-15);
}

TEST(SolverMixedTest, IllConditionedSystemFallsBackToDoubleLuOrSaysWhy) {
  // Spectral radius 1 - 1e-9: kappa ~ 1e9 is beyond single precision, so the
  // refinement cannot shrink the error and double LU must answer.
  const SparseMatrix A = near_singular(60, 1.0 - 1e-9);
  const Matrix B = random_rhs(60, 8, 17);
  const LeontiefSolver dense(A, opts(SolverKind::DenseLU, 1, 0));
  const Matrix X = dense.solve(B);
  const LeontiefSolver mixed(A, opts(SolverKind::MixedLU, 1, 0));
  const Matrix Xm = mixed.solve(B);
  EXPECT_TRUE(mixed.diagnostics().fell_back);
  EXPECT_EQ(mixed.diagnostics().last_kind, SolverKind::DenseLU);
  EXPECT_NE(mixed.diagnostics().fallback_reason.find("mixed-precision refinement"), std::string::npos)
      << mixed.diagnostics().fallback_reason;
  EXPECT_LE(max_rel_diff(Xm, X), 1e-9);
  SolverOptions no_fallback = opts(SolverKind::MixedLU, 1, 0);
  no_fallback.fallback = false;
  const LeontiefSolver refuse(A, no_fallback);
  expect_message([&] { (void)refuse.solve(B); }, "not returning an unrefined answer");
}

TEST(SolverMixedTest, EntriesBeyondSinglePrecisionAreNeverAnsweredInSingle) {
  // Upper triangular (its eigenvalues are the zero diagonal) with one
  // coefficient beyond float's range: single-precision factors would hold
  // inf. Double LU decides instead, and refuses it as dense LU does (kappa ~ 1e78).
  Matrix Ad = Matrix::Zero(3, 3);
  Ad(0, 1) = 1e39;
  Ad(1, 2) = 0.5;
  const SparseMatrix A = Ad.sparseView();
  expect_message([&] { LeontiefSolver dense(A, opts(SolverKind::DenseLU, 1, 0)); }, "numerically singular");
  const LeontiefSolver mixed(A, opts(SolverKind::MixedLU, 1, 0));
  expect_message([&] { (void)mixed.solve(Matrix::Ones(3, 2)); }, "numerically singular");
  EXPECT_TRUE(mixed.diagnostics().fell_back);
  EXPECT_NE(mixed.diagnostics().fallback_reason.find("outside single precision's range"), std::string::npos)
      << mixed.diagnostics().fallback_reason;
}

TEST(SolverMixedTest, AutoHandsAHundredColumnsToMixedAndMoreToDoubleLu) {
  // n = 2100 > 2000, 30 % dense, region blocks: a hundred right-hand sides
  // are cheaper by a dense factorisation than by sweeps; below n / 15 of them,
  // by the single-precision one.
  const auto sys = make_system(7, 300, 0.5, 0.3);
  const LeontiefSolver s = make_solver(sys, opts(SolverKind::Auto, 0, 0));
  ASSERT_EQ(s.diagnostics().kind, SolverKind::GMRES);
  const Matrix B = random_rhs(sys.n(), 120, 9);
  const Matrix X = s.solve_transposed(B);
  EXPECT_EQ(s.diagnostics().last_kind, SolverKind::MixedLU);
  const LeontiefSolver dense(sys.A(), opts(SolverKind::DenseLU, 0, 0));
  EXPECT_LE(max_elementwise_rel(X, dense.solve_transposed(B)), 1e-12);
  // Many columns: a double LU (7 n^2 flops a column of refinement would cost more).
  const LeontiefSolver t = make_solver(sys, opts(SolverKind::Auto, 0, 0));
  const Matrix L = t.leontief_inverse();
  EXPECT_EQ(t.diagnostics().last_kind, SolverKind::DenseLU);
  EXPECT_LE(max_elementwise_rel(Matrix(L.transpose() * B), X), 1e-10);
  EXPECT_EQ(solver_kind_from_string("mixed"), SolverKind::MixedLU);
  EXPECT_EQ(solver_kind_from_string("mixed-lu"), SolverKind::MixedLU);
  EXPECT_EQ(to_string(SolverKind::MixedLU), "mixed");
}
