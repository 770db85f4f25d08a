// refactor / refactored (solver.hpp): new coefficients on the same pattern
// reuse the symbolic analysis and give the answer of a fresh solver, for every
// backend, on sparse and dense systems, for 1 and 2 threads; a changed
// pattern is analysed afresh; a wrong shape is refused naming both; a
// singular A_new leaves a solver that says so.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"

using namespace mriotrace;

namespace {

MrioSystem make_system(Index R, Index N, double dd, double td, std::uint64_t seed) {
  datasets::GeneratorOptions o;
  o.regions = R;
  o.sectors = N;
  o.stressors = 1;
  o.domestic_density = dd;
  o.trade_density = td;
  o.seed = seed;
  o.threads = 1;
  return datasets::generate(o);
}

/// A's stored entries scaled by factors in [0.5, 1]: same pattern, still productive.
SparseMatrix rescaled(const SparseMatrix& A, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.5, 1.0);
  SparseMatrix B = A;
  B.makeCompressed();
  for (Index q = 0; q < B.nonZeros(); ++q) B.valuePtr()[q] *= u(rng);
  return B;
}

Matrix random_rhs(Index n, Index m, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Matrix B(n, m);
  for (Index j = 0; j < m; ++j)
    for (Index i = 0; i < n; ++i) B(i, j) = std::pow(10.0, 3.0 * u(rng));
  return B;
}

double max_elementwise_rel(const Matrix& a, const Matrix& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  double worst = 0;
  for (Index j = 0; j < a.cols(); ++j)
    for (Index i = 0; i < a.rows(); ++i)
      if (b(i, j) != 0) worst = std::max(worst, std::abs(a(i, j) - b(i, j)) / std::abs(b(i, j)));
  return worst;
}

struct Variant {
  SolverKind kind;
  bool blocks;  // block-Jacobi blocks of N (iterative)
};
const Variant kVariants[] = {{SolverKind::DenseLU, false}, {SolverKind::MixedLU, false},
                             {SolverKind::SparseLU, false}, {SolverKind::KLU, false},
                             {SolverKind::GMRES, true},    {SolverKind::GMRES, false},
                             {SolverKind::PowerSeries, true}};

SolverOptions options_for(const Variant& v, Index N, int threads) {
  SolverOptions o;
  o.kind = v.kind;
  o.threads = threads;
  o.block_size = v.blocks ? N : 0;
  return o;
}

bool has_analysis(SolverKind k) { return k == SolverKind::SparseLU || k == SolverKind::KLU; }

std::string name(const Variant& v) { return to_string(v.kind) + (v.blocks ? " (blocks)" : ""); }

}  // namespace

TEST(SolverRefactorTest, SamePatternGivesTheFreshSolversAnswerForEveryBackend) {
  struct Case {
    Index R, N;
    double dd, td;
  };
  // A sparse system (UMFPACK/KLU fill in little) and a fully dense one.
  for (const Case c : {Case{6, 25, 0.3, 0.1}, Case{4, 10, 1.0, 1.0}}) {
    const MrioSystem sys = make_system(c.R, c.N, c.dd, c.td, 3);
    const SparseMatrix A1 = rescaled(sys.A(), 5);
    const Matrix B = random_rhs(sys.n(), 4, 7);
    for (const Variant& v : kVariants) {
      const SolverOptions o = options_for(v, c.N, 1);
      const std::string what = name(v) + " n " + std::to_string(sys.n());
      const LeontiefSolver fresh(A1, o);
      const Matrix X = fresh.solve(B), Xt = fresh.solve_transposed(B);

      LeontiefSolver in_place(sys.A(), o);
      const Matrix X0 = in_place.solve(B);
      in_place.refactor(A1);
      EXPECT_LE(max_elementwise_rel(in_place.solve(B), X), 1e-12) << what;
      EXPECT_LE(max_elementwise_rel(in_place.solve_transposed(B), Xt), 1e-12) << what;
      EXPECT_GT(max_elementwise_rel(X0, X), 1e-3) << what << ": the new coefficients must change the answer";
      EXPECT_EQ(in_place.diagnostics().refactors, 1) << what;
      EXPECT_EQ(in_place.diagnostics().analysis_reused, has_analysis(v.kind)) << what;
      EXPECT_EQ(in_place.diagnostics().analyses, has_analysis(v.kind) ? 1 : 0) << what;  // the construction's only
      EXPECT_EQ(in_place.diagnostics().kind, v.kind) << what;

      const LeontiefSolver base(sys.A(), o);
      const LeontiefSolver copy = base.refactored(A1);
      EXPECT_LE(max_elementwise_rel(copy.solve(B), X), 1e-12) << what;
      EXPECT_LE(max_elementwise_rel(copy.solve_transposed(B), Xt), 1e-12) << what;
      EXPECT_EQ(copy.diagnostics().analyses, 0) << what;
      EXPECT_EQ(copy.diagnostics().analysis_reused, has_analysis(v.kind)) << what;
      // The source solver is unchanged.
      EXPECT_LE(max_elementwise_rel(base.solve(B), X0), 1e-13) << what;
      // A second refactor goes on reusing the same analysis.
      in_place.refactor(sys.A());
      EXPECT_LE(max_elementwise_rel(in_place.solve(B), X0), 1e-12) << what;
      EXPECT_EQ(in_place.diagnostics().refactors, 2) << what;
    }
  }
}

TEST(SolverRefactorTest, RefactoredAnswersAreIdenticalForOneAndTwoThreads) {
  // n = 200: the kernels' rows and UMFPACK's columns run in parallel. Dense
  // LU is compared at n = 80, where OpenBLAS's dgetrf runs serially: beyond,
  // multi-threaded OpenBLAS sums in an order that depends on its thread
  // count (as for any dense solve; DeterminismTest uses small n too).
  const MrioSystem big = make_system(8, 25, 0.4, 0.1, 11), small = make_system(4, 20, 0.4, 0.1, 11);
  for (const Variant& v : kVariants) {
    const MrioSystem& sys = v.kind == SolverKind::DenseLU ? small : big;
    const SparseMatrix A1 = rescaled(sys.A(), 13);
    const Matrix B = random_rhs(sys.n(), 6, 17);
    const LeontiefSolver base(sys.A(), options_for(v, sys.N(), 2));
    const LeontiefSolver one = base.refactored(A1, 1), two = base.refactored(A1, 2);
    EXPECT_EQ(one.diagnostics().threads, 1);
    EXPECT_EQ(two.diagnostics().threads, 2);
    EXPECT_TRUE(one.solve(B) == two.solve(B)) << name(v);
    EXPECT_TRUE(one.solve_transposed(B) == two.solve_transposed(B)) << name(v) << " transposed";
  }
}

TEST(SolverRefactorTest, ChangedPatternIsAnalysedAfresh) {
  const MrioSystem sys = make_system(5, 12, 0.3, 0.1, 19);
  const Index n = sys.n();
  // A new input where A had none, and one input removed (not stored at all).
  Matrix dense = Matrix(sys.A());
  Index added_i = -1, added_j = -1;
  for (Index j = 0; j < n && added_i < 0; ++j)
    for (Index i = 0; i < n; ++i)
      if (i != j && dense(i, j) == 0) {
        added_i = i;
        added_j = j;
        break;
      }
  ASSERT_GE(added_i, 0);
  dense(added_i, added_j) = 0.01;
  for (Index i = 0; i < n; ++i)
    if (dense(i, 3) != 0 && i != 3) {
      dense(i, 3) = 0;
      break;
    }
  const SparseMatrix A1 = dense.sparseView();
  ASSERT_NE(A1.nonZeros(), 0);
  const Matrix B = random_rhs(n, 3, 23);
  for (const Variant& v : kVariants) {
    const SolverOptions o = options_for(v, 12, 1);
    const LeontiefSolver fresh(A1, o);
    LeontiefSolver s(sys.A(), o);
    s.refactor(A1);
    EXPECT_LE(max_elementwise_rel(s.solve(B), fresh.solve(B)), 1e-12) << name(v);
    EXPECT_LE(max_elementwise_rel(s.solve_transposed(B), fresh.solve_transposed(B)), 1e-12) << name(v);
    EXPECT_FALSE(s.diagnostics().analysis_reused) << name(v);
    EXPECT_EQ(s.diagnostics().analyses, has_analysis(v.kind) ? 2 : 0) << name(v);
  }
}

TEST(SolverRefactorTest, ExplicitZerosKeepThePattern) {
  // An extracted sector's column set to 0 but still stored: the analysis is
  // reused, and the answer is that of the pruned matrix.
  const MrioSystem sys = make_system(4, 15, 0.4, 0.2, 29);
  SparseMatrix A1 = sys.A();
  A1.makeCompressed();
  for (SparseMatrix::InnerIterator it(A1, 7); it; ++it) it.valueRef() = 0;
  SparseMatrix pruned = A1;
  pruned.prune(0.0);
  ASSERT_LT(pruned.nonZeros(), A1.nonZeros());
  const Matrix B = random_rhs(sys.n(), 2, 31);
  for (SolverKind kind : {SolverKind::SparseLU, SolverKind::KLU}) {
    const LeontiefSolver base(sys.A(), {kind, 1});
    const LeontiefSolver s = base.refactored(A1);
    EXPECT_TRUE(s.diagnostics().analysis_reused) << to_string(kind);
    EXPECT_LE(max_elementwise_rel(s.solve(B), LeontiefSolver(pruned, {kind, 1}).solve(B)), 1e-12) << to_string(kind);
  }
}

TEST(SolverRefactorTest, WrongShapeIsRefusedNamingBoth) {
  const MrioSystem sys = make_system(2, 10, 0.6, 0.2, 37);
  const MrioSystem other = make_system(3, 7, 0.6, 0.2, 37);
  for (const Variant& v : kVariants) {
    LeontiefSolver s(sys.A(), options_for(v, 10, 1));
    try {
      s.refactor(other.A());
      ADD_FAILURE() << name(v) << ": a 21 x 21 A_new was accepted by a solver for n = 20";
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(detail::concat("A_new is 21 x 21 with ", other.A().nonZeros(), " stored entries")),
                std::string::npos)
          << msg;
      EXPECT_NE(msg.find(detail::concat("expected 20 x 20 like the A this solver was built for (",
                                        sys.A().nonZeros(), " stored entries)")),
                std::string::npos)
          << msg;
    }
    EXPECT_THROW((void)s.refactored(other.A()), InputError) << name(v);
    // The solver is untouched by a refused refactor.
    EXPECT_EQ(s.solve(Matrix::Ones(20, 1)).rows(), 20);
  }
}

TEST(SolverRefactorTest, SingularNewCoefficientsLeaveASolverThatSaysSo) {
  const MrioSystem sys = make_system(2, 10, 0.6, 0.2, 41);
  // Column 0 of A_new sums to 1 in one region with no trade: I - A_new is singular.
  Matrix closed = Matrix::Zero(20, 20);
  closed.topLeftCorner(10, 10).setConstant(0.1);
  closed.bottomRightCorner(10, 10) = Matrix(sys.A()).bottomRightCorner(10, 10);
  const SparseMatrix bad = closed.sparseView();
  for (SolverKind kind : {SolverKind::DenseLU, SolverKind::SparseLU, SolverKind::KLU}) {
    LeontiefSolver s(sys.A(), {kind, 1});
    EXPECT_THROW(s.refactor(bad), NumericError) << to_string(kind);
    try {
      s.solve(Matrix::Ones(20, 1));
      ADD_FAILURE() << to_string(kind) << ": solved after a failed refactor";
    } catch (const NumericError& e) {
      EXPECT_NE(std::string(e.what()).find("last refactor failed"), std::string::npos) << e.what();
    }
    s.refactor(sys.A());  // a good A again: usable
    const LeontiefSolver fresh(sys.A(), {kind, 1});
    EXPECT_LE(max_elementwise_rel(s.solve(Matrix::Ones(20, 1)), fresh.solve(Matrix::Ones(20, 1))), 1e-12);
  }
}
