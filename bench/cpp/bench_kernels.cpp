// Micro-benchmarks of the iterative solver's kernels on an EXIOBASE-like
// generated system (default 49 regions x 200 sectors, ~30 % of A nonzero;
// MRIOTRACE_BENCH_REGIONS / _SECTORS / _DENSITY change it):
//   Spmm           A_T x block (n x m row-major): GFLOP/s and bytes of A per second
//   StreamCopy     a plain copy of 512 MB: the machine's memory bandwidth to compare with
//   BlockJacobi    M^-1 applied to a block
//   Solve          a whole LeontiefSolver solve of m right-hand sides (GMRES / dense LU)
// Run: build/bench/bench/mriotrace_microbench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/solver.hpp"

using namespace mriotrace;

namespace {

Index env_int(const char* name, Index fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

const MrioSystem& system_under_test() {
  static const MrioSystem sys = [] {
    datasets::GeneratorOptions o;
    o.regions = env_int("MRIOTRACE_BENCH_REGIONS", 49);
    o.sectors = env_int("MRIOTRACE_BENCH_SECTORS", 200);
    const double density = std::getenv("MRIOTRACE_BENCH_DENSITY") ? std::atof(std::getenv("MRIOTRACE_BENCH_DENSITY")) : 0.30;
    // overall density = (dd + (R - 1) td) / R with dd = 2 td (capped at 1)
    const double R = static_cast<double>(o.regions);
    o.trade_density = std::min(1.0, density * R / (R + 1.0));
    o.domestic_density = std::min(1.0, 2.0 * o.trade_density);
    o.stressors = 10;
    return datasets::generate(o);
  }();
  return sys;
}

std::vector<double> random_block(Index n, Index m) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> x(static_cast<size_t>(n * m));
  for (double& v : x) v = u(rng);
  return x;
}

// Args: m (columns), threads, panel width (0 = default)
void Spmm(benchmark::State& state) {
  const auto& sys = system_under_test();
  const Index m = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const kernels::Csr M = kernels::offdiagonal_csr(sys.A(), sys.N(), false, state.range(2));
  const auto X = random_block(sys.n(), m);
  std::vector<double> Y(X.size());
  for (auto _ : state) {
    kernels::spmm(M, X.data(), Y.data(), m, threads);
    benchmark::DoNotOptimize(Y.data());
  }
  const double it = static_cast<double>(state.iterations());
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * static_cast<double>(M.nnz()) * static_cast<double>(m) * it / 1e9,
                                                benchmark::Counter::kIsRate);
  state.counters["A_GBs"] = benchmark::Counter(M.bytes() * it / 1e9, benchmark::Counter::kIsRate);
  state.counters["panels"] = static_cast<double>(M.panels);
  state.counters["nnz"] = static_cast<double>(M.nnz());
}

void StreamCopy(benchmark::State& state) {
  const size_t n = 64u << 20;  // 64 Mi doubles = 512 MB per array
  std::vector<double> a(n, 1.0), b(n, 0.0);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), n * sizeof(double));
    benchmark::DoNotOptimize(b.data());
  }
  // Bytes moved: read a + write b.
  state.counters["GBs"] = benchmark::Counter(2.0 * 8.0 * static_cast<double>(n) * static_cast<double>(state.iterations()) / 1e9,
                                             benchmark::Counter::kIsRate);
}

void BlockJacobi(benchmark::State& state) {
  const auto& sys = system_under_test();
  const Index m = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const auto P = kernels::BlockJacobi::build(sys.A(), sys.N());
  const auto W = random_block(sys.n(), m);
  std::vector<double> Z(W.size());
  for (auto _ : state) {
    P.solve(W.data(), Z.data(), m, false, threads);
    benchmark::DoNotOptimize(Z.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * static_cast<double>(sys.n() * sys.N() * m) *
                                                    static_cast<double>(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}

// Args: m, threads, kind (0 GMRES, 1 power series, 2 dense LU)
void Solve(benchmark::State& state) {
  const auto& sys = system_under_test();
  const Index m = state.range(0);
  SolverOptions o;
  o.threads = static_cast<int>(state.range(1));
  o.kind = state.range(2) == 0 ? SolverKind::GMRES : state.range(2) == 1 ? SolverKind::PowerSeries : SolverKind::DenseLU;
  const LeontiefSolver solver = make_solver(sys, o);
  const Matrix B = sys.Y_by_region().leftCols(std::min<Index>(m, sys.R()));
  for (auto _ : state) benchmark::DoNotOptimize(solver.solve(B).data());
  const auto& d = solver.diagnostics();
  state.counters["iterations"] = static_cast<double>(d.iterations);
  state.counters["kernel_s"] = d.kernel_seconds / static_cast<double>(state.iterations());
  state.counters["precond_s"] = d.preconditioner_seconds / static_cast<double>(state.iterations());
  state.counters["factor_s"] = d.factor_seconds;
  state.SetLabel(to_string(d.kind));
}

}  // namespace

BENCHMARK(StreamCopy)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(Spmm)
    ->ArgsProduct({{8, 52, 60}, {1, 2}, {0}})
    ->Args({52, 1, 32})
    ->Args({52, 1, 64})
    ->Args({52, 1, 256})
    ->Args({52, 1, 100000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BlockJacobi)->ArgsProduct({{52}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(Solve)->ArgsProduct({{49}, {2}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK_MAIN();
