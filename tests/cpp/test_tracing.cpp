// Supply-chain tracing tests: SPA against brute-force enumeration and the
// power series, exactness of the pruning, limits and truncation, thread-count
// determinism, production layers, hypothetical extraction (Woodbury vs
// refactoring vs a dense reference), linkages and the Ghosh model (Miller &
// Blair's two-sector example), and every bad-input case.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/path_writer.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/tracing.hpp"
#include "test_util.hpp"

using namespace mriotrace;

namespace {

MrioSystem small_random(std::uint64_t seed, Index R = 2, Index N = 4) {
  datasets::GeneratorOptions g;
  g.regions = R;
  g.sectors = N;
  g.domestic_density = 0.7;
  g.trade_density = 0.4;
  g.seed = seed;
  g.threads = 1;
  return datasets::generate(g);
}

/// A small random system, its factorisation, stressor 0's intensities and a region's demand.
struct Traced {
  MrioSystem sys;
  LeontiefSolver solver;
  Vector s, y;
  Traced(std::uint64_t seed, Index R, Index N, Index region)
      : sys(small_random(seed, R, N)),
        solver(sys.A(), {SolverKind::Auto, 1}),
        s(sys.S().row(0).transpose()),
        y(target_demand(sys, region)) {}
};

using PathKey = std::vector<std::int32_t>;  // emitter first

/// Every path up to `depth` with its value, by plain recursion over the dense A.
void brute_force(const Matrix& A, const Vector& s, const Vector& y, int depth, std::map<PathKey, double>& out) {
  const Index n = A.rows();
  std::vector<std::int32_t> stack;  // final product first
  std::function<void(Index, double, int)> go = [&](Index j, double w, int d) {
    stack.push_back(static_cast<std::int32_t>(j));
    const double v = s[j] * w;
    if (v != 0) out[PathKey(stack.rbegin(), stack.rend())] = v;
    if (d < depth)
      for (Index i = 0; i < n; ++i)
        if (A(i, j) != 0) go(i, w * A(i, j), d + 1);
    stack.pop_back();
  };
  for (Index j = 0; j < n; ++j)
    if (y[j] != 0) go(j, y[j], 0);
}

std::map<PathKey, double> as_map(const SpaResult& r) {
  std::map<PathKey, double> m;
  for (const auto& p : r.paths) m[p.nodes] = p.value;
  return m;
}

SpaOptions all_paths(int depth, int threads = 1) {
  SpaOptions o;
  o.tau = 0;
  o.max_depth = depth;
  o.max_paths = 0;
  o.keep = 0;
  o.threads = threads;
  return o;
}

struct CountingSink : PathSink {
  Index count = 0;
  double sum = 0;
  void write(const std::int32_t*, int, double value) override {
    ++count;
    sum += value;
  }
};

}  // namespace

TEST(SpaTest, AllPathsSumToPowerSeriesPerDepth) {
  const Traced t_(7, 2, 4, 0);
  const MrioSystem& sys = t_.sys;
  const LeontiefSolver& solver = t_.solver;
  const Vector &s = t_.s, &y = t_.y;
  const int depth = 4;
  const SpaResult r = spa(sys.A(), solver, s, y, all_paths(depth));
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.paths_found, static_cast<Index>(r.paths.size()));
  // sum over paths of depth t == s A^t y, to 1e-12 of the total.
  Vector layer = y;
  double series = 0;
  for (int t = 0; t <= depth; ++t) {
    const double expect = s.dot(layer);
    double got = 0;
    for (const auto& p : r.paths)
      if (p.depth() == t) got += p.value;
    EXPECT_NEAR(got, expect, 1e-12 * std::abs(r.total)) << "depth " << t;
    EXPECT_NEAR(r.coverage_by_depth[t] * r.total, expect, 1e-12 * std::abs(r.total));
    series += expect;
    layer = sys.A() * layer;
  }
  EXPECT_NEAR(r.coverage * r.total, series, 1e-12 * std::abs(r.total));
  EXPECT_NEAR(r.total, s.dot(solver.solve(y).col(0)), 1e-12 * std::abs(r.total));
  // With tau = 0 the enumeration is complete: the brute force has the same paths.
  std::map<PathKey, double> bf;
  brute_force(Matrix(sys.A()), s, y, depth, bf);
  EXPECT_EQ(bf.size(), r.paths.size());
  EXPECT_EQ(as_map(r).size(), r.paths.size()) << "duplicate paths";
}

TEST(SpaTest, PruningIsExactAgainstBruteForce) {
  for (std::uint64_t seed : {1, 2, 3}) {
    const MrioSystem sys = small_random(seed, 2, 4);
    const LeontiefSolver solver(sys.A(), {SolverKind::Auto, 1});
    const Vector s = sys.S().row(seed % 2).transpose();
    const Vector y = target_demand(sys, 1);
    std::map<PathKey, double> bf;
    brute_force(Matrix(sys.A()), s, y, 6, bf);
    for (double tau : {1e-2, 1e-3, 1e-4}) {
      SpaOptions o;
      o.tau = tau;
      o.max_depth = 6;
      o.threads = 1;
      const SpaResult r = spa(sys.A(), solver, s, y, o);
      const auto got = as_map(r);
      Index expected = 0;
      for (const auto& [path, v] : bf) {
        if (std::abs(v) < r.threshold) continue;
        ++expected;
        auto it = got.find(path);
        ASSERT_NE(it, got.end()) << "SPA missed a path of value " << v << " >= " << r.threshold;
        EXPECT_NEAR(it->second, v, 1e-13 * std::abs(v));
      }
      EXPECT_EQ(static_cast<Index>(got.size()), expected) << "SPA recorded a path below the threshold";
      EXPECT_GT(expected, 0);
      // Sorted by |value| descending.
      for (size_t i = 1; i < r.paths.size(); ++i)
        EXPECT_GE(std::abs(r.paths[i - 1].value), std::abs(r.paths[i].value));
    }
  }
}

TEST(SpaTest, NegativeCoefficientsAndIntensitiesStayExact) {
  // A negative coefficient and a negative intensity: the bound must use |A|, |s|.
  Matrix A(3, 3);
  A << 0.1, 0.3, 0.0, -0.05, 0.2, 0.25, 0.2, 0.0, 0.1;
  const SparseMatrix As = A.sparseView();
  const LeontiefSolver solver(As, {SolverKind::DenseLU, 1});
  Vector s(3), y(3);
  s << 1.0, -0.5, 2.0;
  y << 10, -2, 5;
  std::map<PathKey, double> bf;
  brute_force(A, s, y, 7, bf);
  SpaOptions o;
  o.tau = 1e-3;
  o.max_depth = 7;
  const SpaResult r = spa(As, solver, s, y, o);
  const auto got = as_map(r);
  Index expected = 0;
  for (const auto& [path, v] : bf)
    if (std::abs(v) >= r.threshold) {
      ++expected;
      ASSERT_TRUE(got.count(path)) << "missed a path of value " << v;
    }
  EXPECT_EQ(static_cast<Index>(got.size()), expected);
}

TEST(SpaTest, NegativeIntensitiesAndDemandWithNonnegativeA) {
  // Only s and y have negative entries: the bound uses |s| L (a second transposed solve, same factorisation).
  const MrioSystem sys = small_random(21, 2, 3);
  const LeontiefSolver solver(sys.A(), {SolverKind::Auto, 1});
  Vector s = sys.S().row(0).transpose(), y = target_demand(sys, 0);
  s[1] = -s[1];
  y[4] = -y[4];
  std::map<PathKey, double> bf;
  brute_force(Matrix(sys.A()), s, y, 5, bf);
  SpaOptions o;
  o.tau = 1e-3;
  o.max_depth = 5;
  const SpaResult r = spa(sys.A(), solver, s, y, o);
  const auto got = as_map(r);
  Index expected = 0;
  for (const auto& [path, v] : bf)
    if (std::abs(v) >= r.threshold) {
      ++expected;
      ASSERT_TRUE(got.count(path)) << "missed a path of value " << v;
    }
  EXPECT_EQ(static_cast<Index>(got.size()), expected);
  EXPECT_NEAR(r.total, s.dot(solver.solve(y).col(0)), 1e-12 * std::abs(r.total));
}

TEST(SpaTest, SameResultWithOneAndTwoThreads) {
  const Traced t_(11, 3, 6, -1);
  const MrioSystem& sys = t_.sys;
  const LeontiefSolver& solver = t_.solver;
  const Vector &s = t_.s, &y = t_.y;
  SpaOptions o;
  o.tau = 1e-5;
  o.max_depth = 6;
  o.threads = 1;
  const SpaResult a = spa(sys.A(), solver, s, y, o);
  o.threads = 2;
  const SpaResult b = spa(sys.A(), solver, s, y, o);
  ASSERT_EQ(a.paths.size(), b.paths.size());
  EXPECT_GT(a.paths.size(), 100u);
  for (size_t i = 0; i < a.paths.size(); ++i) {
    EXPECT_EQ(a.paths[i].nodes, b.paths[i].nodes);
    EXPECT_EQ(a.paths[i].value, b.paths[i].value);  // bit for bit
  }
  EXPECT_EQ(a.coverage, b.coverage);
  EXPECT_EQ(a.nodes_expanded, b.nodes_expanded);
  for (Index d = 0; d <= 6; ++d) EXPECT_EQ(a.coverage_by_depth[d], b.coverage_by_depth[d]);
}

TEST(SpaTest, KeepReturnsTheTopPathsAndSinkGetsAll) {
  const Traced t_(5, 2, 5, 0);
  const MrioSystem& sys = t_.sys;
  const LeontiefSolver& solver = t_.solver;
  const Vector &s = t_.s, &y = t_.y;
  SpaOptions o;
  o.tau = 1e-4;
  o.max_depth = 5;
  const SpaResult all = spa(sys.A(), solver, s, y, o);
  o.keep = 10;
  o.threads = 2;
  CountingSink sink;
  const SpaResult top = spa(sys.A(), solver, s, y, o, &sink);
  ASSERT_EQ(top.paths.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(top.paths[i].nodes, all.paths[i].nodes);
    EXPECT_EQ(top.paths[i].value, all.paths[i].value);
  }
  EXPECT_EQ(top.paths_found, all.paths_found);
  EXPECT_EQ(sink.count, all.paths_found);
  EXPECT_NEAR(sink.sum, all.coverage * all.total, 1e-12 * std::abs(all.total));
}

TEST(SpaTest, MaxPathsStopsCleanlyAndFlagsTruncation) {
  const Traced t_(5, 2, 5, 0);
  const MrioSystem& sys = t_.sys;
  const LeontiefSolver& solver = t_.solver;
  const Vector &s = t_.s, &y = t_.y;
  SpaOptions o = all_paths(6, 2);
  o.max_paths = 25;
  const SpaResult r = spa(sys.A(), solver, s, y, o);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.truncation, "max_paths");
  EXPECT_EQ(r.paths_found, 25);
  EXPECT_EQ(r.paths.size(), 25u);
  EXPECT_GT(r.coverage, 0);
  EXPECT_LT(r.coverage, 1);
  // A tiny time budget on a large enumeration stops too (flagged).
  SpaOptions t = all_paths(12, 2);
  t.time_budget = 1e-4;
  t.keep = 5;
  const SpaResult rt = spa(sys.A(), solver, s, y, t);
  EXPECT_TRUE(rt.truncated);
  EXPECT_EQ(rt.truncation, "time_budget");
}

TEST(SpaTest, UnlimitedDepthTerminatesWithPositiveTau) {
  const Traced t_(3, 2, 3, 0);
  const MrioSystem& sys = t_.sys;
  const LeontiefSolver& solver = t_.solver;
  const Vector &s = t_.s, &y = t_.y;
  SpaOptions o;
  o.tau = 1e-4;
  o.max_depth = -1;
  const SpaResult r = spa(sys.A(), solver, s, y, o);
  EXPECT_FALSE(r.truncated);
  o.max_depth = kSpaMaxDepth;
  const SpaResult r100 = spa(sys.A(), solver, s, y, o);
  EXPECT_EQ(r.paths_found, r100.paths_found);
  EXPECT_NEAR(r.coverage, r100.coverage, 1e-14);
}

TEST(SpaTest, PathDetailGivesIntensitiesAndCoefficients) {
  const Traced t_(9, 2, 4, 0);
  const MrioSystem& sys = t_.sys;
  const LeontiefSolver& solver = t_.solver;
  const Vector &s = t_.s, &y = t_.y;
  SpaOptions o;
  o.tau = 1e-3;
  o.max_depth = 4;
  const SpaResult r = spa(sys.A(), solver, s, y, o);
  for (const auto& p : r.paths) {
    const auto d = spa_path_detail(sys.A(), s, p.nodes.data(), p.depth());
    ASSERT_EQ(d.intensities.size(), p.nodes.size());
    ASSERT_EQ(static_cast<int>(d.coefficients.size()), p.depth());
    double v = d.intensities[0] * y[p.nodes.back()];
    for (double a : d.coefficients) v *= a;
    EXPECT_NEAR(v, p.value, 1e-14 * std::abs(p.value));
  }
}

TEST(SpaTest, BadInputIsRejected) {
  const Traced t_(1, 2, 4, 0);
  const MrioSystem& sys = t_.sys;
  const LeontiefSolver& solver = t_.solver;
  const Vector &s = t_.s, &y = t_.y;
  auto run = [&](SpaOptions o) { return spa(sys.A(), solver, s, y, o); };
  SpaOptions o;
  o.tau = 0;
  o.max_depth = -1;
  EXPECT_THROW(run(o), InputError);  // tau = 0 with unlimited depth
  o = {};
  o.tau = -1e-3;
  EXPECT_THROW(run(o), InputError);
  o.tau = std::nan("");
  EXPECT_THROW(run(o), InputError);
  o = {};
  o.tau = 2;  // a fraction above 1
  EXPECT_THROW(run(o), InputError);
  o = {};
  o.max_depth = kSpaMaxDepth + 1;
  EXPECT_THROW(run(o), InputError);
  o.max_depth = -2;
  EXPECT_THROW(run(o), InputError);
  o = {};
  o.keep = -1;
  EXPECT_THROW(run(o), InputError);
  o = {};
  o.max_paths = -5;
  EXPECT_THROW(run(o), InputError);
  o = {};
  o.time_budget = -1;
  EXPECT_THROW(run(o), InputError);
  EXPECT_THROW(spa(sys.A(), solver, s, Vector::Ones(3), {}), InputError);  // wrong demand length
  EXPECT_THROW(spa(sys.A(), solver, Vector::Ones(3), y, {}), InputError);
  Vector bad = y;
  bad[0] = std::numeric_limits<double>::infinity();
  EXPECT_THROW(spa(sys.A(), solver, s, bad, {}), InputError);
  EXPECT_THROW(target_demand(sys, sys.R()), InputError);  // unknown region
  EXPECT_THROW(target_demand(sys, 0, sys.n()), InputError);  // unknown product
  EXPECT_THROW(sys.stressor_index("no such stressor"), InputError);
}

TEST(ProductionLayersTest, TiersSumToFootprintAndMatchPowers) {
  const MrioSystem sys = small_random(4, 3, 4);
  const LeontiefSolver solver(sys.A(), {SolverKind::Auto, 1});
  const Vector y = target_demand(sys, 2);
  const int T = 3;
  const ProductionLayers pl = production_layers(sys.A(), solver, sys.S(), y, T, sys.R());
  const Vector total = sys.S() * solver.solve(y).col(0);
  ASSERT_EQ(pl.totals.cols(), T + 2);
  for (Index s = 0; s < sys.k(); ++s) {
    EXPECT_NEAR(pl.totals.row(s).sum(), total[s], 1e-12 * std::abs(total[s]));
    EXPECT_NEAR(pl.total[s], total[s], 1e-12 * std::abs(total[s]));
    Vector layer = y;
    for (int t = 0; t <= T; ++t) {
      EXPECT_NEAR(pl.totals(s, t), sys.S().row(s).dot(layer), 1e-12 * std::abs(total[s]));
      layer = sys.A() * layer;
    }
    EXPECT_GT(pl.totals(s, T + 1), 0);  // the remainder of a nonnegative system
    for (Index t = 0; t < T + 2; ++t)
      EXPECT_NEAR(pl.emissions.row(s * (T + 2) + t).sum(), pl.totals(s, t), 1e-12 * std::abs(total[s]));
  }
  EXPECT_THROW(production_layers(sys.A(), solver, sys.S(), y, -1, sys.R()), InputError);
  EXPECT_THROW(production_layers(sys.A(), solver, sys.S(), Vector::Ones(2), 2, sys.R()), InputError);
}

TEST(ExtractionTest, WoodburyMatchesRefactorAndDenseReference) {
  const MrioSystem sys = small_random(8, 3, 4);
  const LeontiefSolver solver(sys.A(), {SolverKind::Auto, 1});
  const Vector y = target_demand(sys, -1);
  const std::vector<std::vector<Index>> sets{{0}, {3, 5}, {7, 1, 7}, {2, 6, 9, 10}};
  for (auto mode : {ExtractionMode::Full, ExtractionMode::Backward, ExtractionMode::Forward}) {
    const auto wood = hypothetical_extraction(sys.A(), solver, sys.S(), y, sets, mode, ExtractionMethod::Woodbury);
    const auto ref = hypothetical_extraction(sys.A(), solver, sys.S(), y, sets, mode, ExtractionMethod::Refactor);
    for (size_t i = 0; i < sets.size(); ++i) {
      EXPECT_TRUE(wood[i].woodbury);
      EXPECT_FALSE(ref[i].woodbury);
      // Dense reference: zero rows/columns of E, solve.
      Matrix As = Matrix(sys.A());
      Vector ys = y;
      for (Index j : wood[i].sectors) {
        if (mode != ExtractionMode::Forward) As.col(j).setZero();
        if (mode != ExtractionMode::Backward) As.row(j).setZero();
        if (mode == ExtractionMode::Full) ys[j] = 0;
      }
      const Vector xs = (Matrix::Identity(sys.n(), sys.n()) - As).partialPivLu().solve(ys);
      EXPECT_LT((wood[i].x_star - xs).cwiseAbs().maxCoeff(), 1e-10 * xs.cwiseAbs().maxCoeff()) << to_string(mode);
      EXPECT_LT((ref[i].x_star - xs).cwiseAbs().maxCoeff(), 1e-10 * xs.cwiseAbs().maxCoeff());
      const Vector dtot = sys.S() * (wood[i].x - xs);
      for (Index s = 0; s < sys.k(); ++s) {
        EXPECT_NEAR(wood[i].delta_total[s], dtot[s], 1e-9 * std::abs(dtot[s]));
        EXPECT_NEAR(wood[i].delta_D.row(s).sum(), dtot[s], 1e-9 * std::abs(dtot[s]));
      }
      if (mode == ExtractionMode::Full)
        for (Index j : wood[i].sectors) EXPECT_NEAR(wood[i].x_star[j], 0, 1e-9 * xs.cwiseAbs().maxCoeff());
    }
  }
  EXPECT_EQ(hypothetical_extraction(sys.A(), solver, sys.S(), y, {{7, 1, 7}}, ExtractionMode::Full)[0].sectors,
            (std::vector<Index>{1, 7}));
  EXPECT_THROW(hypothetical_extraction(sys.A(), solver, sys.S(), y, {{sys.n()}}, ExtractionMode::Full), InputError);
  EXPECT_THROW(hypothetical_extraction(sys.A(), solver, sys.S(), y, {{}}, ExtractionMode::Full), InputError);
  EXPECT_THROW(hypothetical_extraction(sys.A(), solver, sys.S(), y, {}, ExtractionMode::Full), InputError);
  EXPECT_THROW(extraction_mode_from_string("sideways"), InputError);
  EXPECT_THROW(extraction_method_from_string("magic"), InputError);
}

TEST(LinkagesTest, MillerBlairTwoSectorValues) {
  MRIOTRACE_REQUIRE_DATA("textbook/miller_blair_2_3.json");
  std::ifstream in(mriotrace::testdata::data_dir() / "textbook/miller_blair_2_3.json");
  const auto j = nlohmann::json::parse(in);
  Matrix A(2, 2), L(2, 2);
  Vector x(2);
  for (Index r = 0; r < 2; ++r) {
    x[r] = j["x"][static_cast<size_t>(r)].get<double>();
    for (Index c = 0; c < 2; ++c) {
      A(r, c) = j["expected"]["A"][static_cast<size_t>(r)][static_cast<size_t>(c)].get<double>();
      L(r, c) = j["expected"]["L"][static_cast<size_t>(r)][static_cast<size_t>(c)].get<double>();
    }
  }
  const LeontiefSolver solver(A.sparseView(), {SolverKind::DenseLU, 1});
  Matrix S(1, 2);
  S << 0.3, 0.1;
  const Linkages lk = linkages(solver, S, x);
  // Output multipliers: column sums of L (1.518152, 1.452145).
  const Vector colsum = L.colwise().sum().transpose();
  EXPECT_NEAR(lk.backward_total[0], colsum[0], 1e-12);
  EXPECT_NEAR(lk.backward_total[1], colsum[1], 1e-12);
  EXPECT_NEAR(lk.backward[0], colsum[0] / colsum.mean(), 1e-12);
  EXPECT_NEAR(lk.backward.mean(), 1.0, 1e-14);
  // G = x^-1 L x; forward = G 1 normalised.
  const Matrix G = x.cwiseInverse().asDiagonal() * L * x.asDiagonal();
  const Vector g1 = G.rowwise().sum();
  EXPECT_NEAR(lk.forward_total[0], g1[0], 1e-12);
  EXPECT_NEAR(lk.forward_total[1], g1[1], 1e-12);
  EXPECT_NEAR(lk.forward[1], g1[1] / g1.mean(), 1e-12);
  const RowVector M = S * L;
  EXPECT_NEAR(lk.M(0, 1), M[1], 1e-12);
  EXPECT_NEAR(lk.environmental(0, 0), M[0] / M.mean(), 1e-12);
  // Ghosh: B = x^-1 A x; G = (I - B)^-1 = x^-1 L x.
  const Matrix B = Matrix(ghosh_B(A.sparseView(), x));
  EXPECT_NEAR(B(0, 1), 0.25 * 2000 / 1000, 1e-14);
  EXPECT_NEAR(B(1, 0), 0.20 * 1000 / 2000, 1e-14);
  EXPECT_LT((ghosh_G(solver, x) - G).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT(((Matrix::Identity(2, 2) - B).inverse() - G).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(LinkagesTest, GhoshBalanceAndDownstreamMultipliers) {
  const MrioSystem sys = small_random(12, 3, 4);
  const LeontiefSolver solver(sys.A(), {SolverKind::Auto, 2});
  const Vector x = sys.x();
  const Matrix Md = ghosh_M_down(solver, sys.S(), x);
  ASSERT_EQ(Md.rows(), sys.k());
  // Ghosh balance: primary inputs v = x - Z^T 1 give back every emission: M_down v = S x.
  const Vector colsum = SparseMatrix(sys.A().transpose()) * Vector::Ones(sys.n());
  const Vector v = x - x.cwiseProduct(colsum);  // v_j = x_j - sum_i z_ij
  const Vector lhs = Md * v, rhs = sys.S() * x;
  for (Index s = 0; s < sys.k(); ++s) EXPECT_NEAR(lhs[s], rhs[s], 1e-10 * std::abs(rhs[s]));
  // M_down = S G^T with the dense G.
  const Matrix G = ghosh_G(solver, x);
  EXPECT_LT((Md - sys.S() * G.transpose()).cwiseAbs().maxCoeff(), 1e-10 * Md.cwiseAbs().maxCoeff());
  const Linkages lk = linkages(solver, sys.S(), x);
  EXPECT_LT((lk.forward_total - G.rowwise().sum()).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_THROW(linkages(solver, sys.S(), Vector::Ones(3)), InputError);
  EXPECT_THROW(ghosh_M_down(solver, Matrix::Ones(1, 3), x), InputError);
}

TEST(PathWriterTest, CsvStreamsEveryPathAndIsAtomic) {
  const Traced t(5, 2, 4, 0);
  const auto dir = std::filesystem::temp_directory_path() / ("mriotrace_tracing_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "paths.csv").string();
  SpaOptions o;
  o.tau = 1e-3;
  o.keep = 3;
  {
    io::CsvPathWriter w(path, t.sys.labels(), t.sys.A(), t.s);
    spa(t.sys.A(), t.solver, t.s, t.y, o, &w);
    // Destroyed without finish(): no file, no temporary left behind.
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  io::CsvPathWriter w(path, t.sys.labels(), t.sys.A(), t.s);
  const SpaResult r = spa(t.sys.A(), t.solver, t.s, t.y, o, &w);
  w.finish();
  std::ifstream in(path);
  std::string line;
  Index rows = -1;  // minus the header
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, r.paths_found);
  EXPECT_GT(rows, 3);
  EXPECT_THROW(io::CsvPathWriter((dir / "no_such_dir" / "p.csv").string(), t.sys.labels(), t.sys.A(), t.s),
               FileError);
  EXPECT_THROW(io::CsvPathWriter(path, t.sys.labels(), t.sys.A(), Vector::Ones(2)), InputError);
  EXPECT_EQ(io::csv_quote("a, b"), "\"a, b\"");
  EXPECT_EQ(io::csv_quote("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(io::csv_quote("plain"), "plain");
  std::filesystem::remove_all(dir);
}

TEST(ExtractionTest, GhoshForwardExtractionMillerBlairByHand) {
  // Miller & Blair 2.3: Z = [[150, 500], [200, 100]], x = (1000, 2000), so
  // v = x - Z'1 = (650, 1400) and B = x^-1 Z = [[0.15, 0.5], [0.1, 0.05]].
  // Extracting sector 1 forward (Dietzenbacher): B* = [[0, 0], [0.1, 0.05]],
  // x*' (I - B*) = v':  0.95 x2* = 1400,  x1* - 0.1 x2* = 650.
  MRIOTRACE_REQUIRE_DATA("textbook/miller_blair_2_3.json");
  std::ifstream in(mriotrace::testdata::data_dir() / "textbook/miller_blair_2_3.json");
  const auto j = nlohmann::json::parse(in);
  Matrix Z(2, 2);
  Vector x(2);
  for (Index r = 0; r < 2; ++r) {
    x[r] = j["x"][static_cast<size_t>(r)].get<double>();
    for (Index c = 0; c < 2; ++c) Z(r, c) = j["Z"][static_cast<size_t>(r)][static_cast<size_t>(c)].get<double>();
  }
  const Matrix A = Z * x.cwiseInverse().asDiagonal();
  Matrix S(1, 2);
  S << 0.3, 0.1;
  const auto res = ghosh_forward_extraction(A.sparseView(), x, S, {{0}, {1}, {0, 1}});
  const double x2 = 1400 / 0.95, x1 = 650 + 0.1 * x2;
  EXPECT_NEAR(res[0].x_star[0], x1, 1e-10);
  EXPECT_NEAR(res[0].x_star[1], x2, 1e-10);
  EXPECT_NEAR(res[0].delta_total[0], 0.3 * (1000 - x1) + 0.1 * (2000 - x2), 1e-10);
  // Sector 2 extracted: B* = [[0.15, 0.5], [0, 0]]: 0.85 x1* = 650, x2* = 0.5 x1* + 1400.
  EXPECT_NEAR(res[1].x_star[0], 650 / 0.85, 1e-10);
  EXPECT_NEAR(res[1].x_star[1], 0.5 * 650 / 0.85 + 1400, 1e-10);
  // Both: only primary inputs remain, x* = v.
  EXPECT_NEAR(res[2].x_star[0], 650, 1e-10);
  EXPECT_NEAR(res[2].x_star[1], 1400, 1e-10);
  // It differs from the Leontief-row definition (demand fixed).
  const LeontiefSolver solver(A.sparseView(), {SolverKind::DenseLU, 1});
  const Vector f = (Vector(2) << 350, 1700).finished();
  const auto leontief = hypothetical_extraction(A.sparseView(), solver, S, f, {{0}}, ExtractionMode::Forward);
  EXPECT_GT(std::abs(leontief[0].x_star[0] - res[0].x_star[0]), 1.0);
  EXPECT_THROW(ghosh_forward_extraction(A.sparseView(), x, S, {{2}}), InputError);
  EXPECT_THROW(ghosh_forward_extraction(A.sparseView(), x, S, {}), InputError);
}
