// The preconditioned power series (block-Jacobi iteration)
// x <- M^-1 (b + A_T x), all right-hand sides of a batch in lockstep (the
// split and the batches: iterative.hpp). No analysis; refactor rebuilds the split.
#include <vector>

#include "iterative.hpp"

namespace mriotrace::iterative {

Result power_series(const Operator& op, const double* B, double* X, Index m, const Settings& s) {
  const Index n = op.n, N = n * m;
  const int threads = op.threads;
  Result res;
  const Targets t = targets(op, B, X, m, s.tolerance);
  std::vector<double> T(static_cast<size_t>(N)), R(static_cast<size_t>(N));
  Rate rate;
  for (;;) {
    // T = b + A_T x;  r = T - M x = b - (I - A) x;  x_next = M^-1 T
    auto t0 = Clock::now();
    kernels::spmm(*op.off, X, T.data(), m, threads);
    op.kernel_seconds += seconds_since(t0);
    t0 = Clock::now();
    op.M->multiply(X, R.data(), m, op.transposed, threads);
    op.preconditioner_seconds += seconds_since(t0);
    for_rows(n, threads, [&](Index i0, Index i1) {
      for (Index k = i0 * m; k < i1 * m; ++k) {
        T[static_cast<size_t>(k)] += B[k];
        R[static_cast<size_t>(k)] = T[static_cast<size_t>(k)] - R[static_cast<size_t>(k)];
      }
    });
    bool all_met = false;
    const double worst = worst_relative(column_norms(R.data(), n, m, threads), t, all_met);
    if (record_and_stop(res, rate, worst, all_met, s.max_iterations)) break;
    t0 = Clock::now();
    op.M->solve(T.data(), X, m, op.transposed, threads);
    op.preconditioner_seconds += seconds_since(t0);
    ++res.iterations;
  }
  res.backward_error = backward_error(op, B, X, R.data(), m);
  return res;
}

}  // namespace mriotrace::iterative

namespace mriotrace::solvers {
namespace {

class PowerSeries final : public SplitBackend {
 public:
  using SplitBackend::SplitBackend;
  SolverKind kind() const override { return SolverKind::PowerSeries; }
  std::unique_ptr<Backend> share_analysis() const override { return std::make_unique<PowerSeries>(options_); }

 protected:
  iterative::Result iterate(const iterative::Operator& op, const double* B, double* X, Index m,
                            const iterative::Settings& s, bool) const override {
    return iterative::power_series(op, B, X, m, s);
  }
  Index basis(Index restart, Index) const override { return restart; }
  double blocks_per_column(Index) const override { return 4.0; }
};

}  // namespace

std::unique_ptr<Backend> make_power_series(const SolverOptions& options) {
  return std::make_unique<PowerSeries>(options);
}

}  // namespace mriotrace::solvers
