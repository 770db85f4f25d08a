// Block-Jacobi GMRES: restarted GMRES(restart), right-preconditioned by
// M = I - A_D, on all right-hand sides of a batch in lockstep (the split and
// the batches: iterative.hpp). No analysis; refactor rebuilds the split.
#include <algorithm>
#include <cmath>
#include <vector>

#include "iterative.hpp"

namespace mriotrace::iterative {

Result gmres(const Operator& op, const double* B, double* X, Index m, const Settings& s, bool zero_start) {
  const Index n = op.n, N = n * m;
  const int threads = op.threads;
  const Index restart = std::max<Index>(1, std::min(s.restart, s.max_iterations));
  const Index ldh = restart + 1;
  Result res;
  const Targets t = targets(op, B, X, m, s.tolerance);

  std::vector<double> V(static_cast<size_t>((restart + 1) * N)), R(static_cast<size_t>(N)),
      Z(static_cast<size_t>(N)), W(static_cast<size_t>(N));
  // Per column c: Hessenberg H (ldh x restart, rotated to upper triangular),
  // Givens rotations, the rotated right-hand side g, the Krylov dimension used.
  std::vector<double> H(static_cast<size_t>(m * ldh * restart)), cs(static_cast<size_t>(m * restart)),
      sn(static_cast<size_t>(m * restart)), g(static_cast<size_t>(m * ldh)), h(static_cast<size_t>(m)),
      scale(static_cast<size_t>(m));
  std::vector<Index> len(static_cast<size_t>(m));
  std::vector<char> active(static_cast<size_t>(m));
  auto Hc = [&](Index c, Index i, Index j) -> double& { return H[static_cast<size_t>((c * restart + j) * ldh + i)]; };
  double prev_worst = INFINITY;
  Rate rate;

  for (bool first_cycle = true;; first_cycle = false) {
    if (zero_start && first_cycle)
      std::copy(B, B + N, R.begin());  // X = 0: r = b without a sweep
    else
      op.residual(B, X, R.data(), m, W.data());
    const std::vector<double> rn = column_norms(R.data(), n, m, threads);
    bool all_met = false;
    const double worst = worst_relative(rn, t, all_met);
    if (record_and_stop(res, rate, worst, all_met, s.max_iterations)) break;
    if (!(worst < prev_worst)) {  // a whole restart cycle without progress: rounding floor or breakdown
      res.why = "stagnated (a restart cycle did not reduce the residual)";
      break;
    }
    prev_worst = worst;

    // V_0 = r / ||r|| for the columns still to converge (zero columns otherwise).
    for (Index c = 0; c < m; ++c) {
      const auto cu = static_cast<size_t>(c);
      active[cu] = rn[cu] > t.target[cu];
      scale[cu] = active[cu] ? 1.0 / rn[cu] : 0.0;
      std::fill(g.begin() + c * ldh, g.begin() + (c + 1) * ldh, 0.0);
      g[static_cast<size_t>(c * ldh)] = rn[cu];
      len[cu] = 0;
    }
    for_rows(n, threads, [&](Index i0, Index i1) {
      for (Index i = i0; i < i1; ++i)
        for (Index c = 0; c < m; ++c) V[static_cast<size_t>(i * m + c)] = R[static_cast<size_t>(i * m + c)] * scale[static_cast<size_t>(c)];
    });

    for (Index j = 0; j < restart && res.iterations < s.max_iterations; ++j) {
      const double* Vj = V.data() + j * N;
      // W = (I - A) M^-1 V_j = V_j - A_T (M^-1 V_j)
      auto t0 = Clock::now();
      op.M->solve(Vj, Z.data(), m, op.transposed, threads);
      op.preconditioner_seconds += seconds_since(t0);
      t0 = Clock::now();
      kernels::spmm(*op.off, Z.data(), W.data(), m, threads);
      op.kernel_seconds += seconds_since(t0);
      for_rows(n, threads, [&](Index i0, Index i1) {
        for (Index k = i0 * m; k < i1 * m; ++k) W[static_cast<size_t>(k)] = Vj[k] - W[static_cast<size_t>(k)];
      });
      ++res.iterations;
      // Modified Gram-Schmidt against V_0..V_j, per column.
      for (Index i = 0; i <= j; ++i) {
        const double* Vi = V.data() + i * N;
        kernels::column_dots(Vi, W.data(), n, m, threads, h.data());
        for (Index c = 0; c < m; ++c) {
          if (!active[static_cast<size_t>(c)]) h[static_cast<size_t>(c)] = 0;
          Hc(c, i, j) = h[static_cast<size_t>(c)];
        }
        for_rows(n, threads, [&](Index i0, Index i1) {
          for (Index r = i0; r < i1; ++r)
            for (Index c = 0; c < m; ++c) W[static_cast<size_t>(r * m + c)] -= h[static_cast<size_t>(c)] * Vi[r * m + c];
        });
      }
      const std::vector<double> hn = column_norms(W.data(), n, m, threads);
      bool any_active = false;
      for (Index c = 0; c < m; ++c) {
        const auto cu = static_cast<size_t>(c);
        scale[cu] = 0;
        if (!active[cu]) continue;
        Hc(c, j + 1, j) = hn[cu];
        // Rotate column j by the previous rotations, then annihilate H(j+1, j).
        for (Index i = 0; i < j; ++i) {
          const double a = Hc(c, i, j), b = Hc(c, i + 1, j);
          const double cc = cs[static_cast<size_t>(c * restart + i)], ss = sn[static_cast<size_t>(c * restart + i)];
          Hc(c, i, j) = cc * a + ss * b;
          Hc(c, i + 1, j) = -ss * a + cc * b;
        }
        const double a = Hc(c, j, j), b = Hc(c, j + 1, j);
        const double r = std::hypot(a, b);
        const double cc = r > 0 ? a / r : 1.0, ss = r > 0 ? b / r : 0.0;
        cs[static_cast<size_t>(c * restart + j)] = cc;
        sn[static_cast<size_t>(c * restart + j)] = ss;
        Hc(c, j, j) = r;
        Hc(c, j + 1, j) = 0;
        double& gj = g[static_cast<size_t>(c * ldh + j)];
        g[static_cast<size_t>(c * ldh + j + 1)] = -ss * gj;
        gj = cc * gj;
        len[cu] = j + 1;
        // Estimated residual |g_{j+1}|: stop this column a little below its
        // target so the true residual (checked next cycle) meets it too.
        if (std::abs(g[static_cast<size_t>(c * ldh + j + 1)]) <= 0.5 * t.target[cu] || !(hn[cu] > 0)) {
          active[cu] = 0;
        } else {
          scale[cu] = 1.0 / hn[cu];
          any_active = true;
        }
      }
      double* Vn = V.data() + (j + 1) * N;
      for_rows(n, threads, [&](Index i0, Index i1) {
        for (Index r = i0; r < i1; ++r)
          for (Index c = 0; c < m; ++c) Vn[r * m + c] = W[static_cast<size_t>(r * m + c)] * scale[static_cast<size_t>(c)];
      });
      if (!any_active) break;
    }

    // u = sum_i V_i y_i with H y = g (upper triangular, per column); x += M^-1 u.
    std::vector<double> y(static_cast<size_t>(m * restart), 0.0);
    for (Index c = 0; c < m; ++c) {
      double* yc = y.data() + c * restart;
      for (Index i = len[static_cast<size_t>(c)] - 1; i >= 0; --i) {
        double s_ = g[static_cast<size_t>(c * ldh + i)];
        for (Index k = i + 1; k < len[static_cast<size_t>(c)]; ++k) s_ -= Hc(c, i, k) * yc[k];
        yc[i] = Hc(c, i, i) != 0 ? s_ / Hc(c, i, i) : 0.0;
      }
    }
    for_rows(n, threads, [&](Index i0, Index i1) {
      for (Index r = i0; r < i1; ++r)
        for (Index c = 0; c < m; ++c) {
          double u = 0;
          for (Index i = 0; i < len[static_cast<size_t>(c)]; ++i) u += V[static_cast<size_t>(i * N + r * m + c)] * y[static_cast<size_t>(c * restart + i)];
          W[static_cast<size_t>(r * m + c)] = u;
        }
    });
    const auto t0 = Clock::now();
    op.M->solve(W.data(), Z.data(), m, op.transposed, threads);
    op.preconditioner_seconds += seconds_since(t0);
    for_rows(n, threads, [&](Index i0, Index i1) {
      for (Index k = i0 * m; k < i1 * m; ++k) X[k] += Z[static_cast<size_t>(k)];
    });
  }
  res.backward_error = backward_error(op, B, X, R.data(), m);
  return res;
}

}  // namespace mriotrace::iterative

namespace mriotrace::solvers {
namespace {

class Gmres final : public SplitBackend {
 public:
  using SplitBackend::SplitBackend;
  SolverKind kind() const override { return SolverKind::GMRES; }
  std::unique_ptr<Backend> share_analysis() const override { return std::make_unique<Gmres>(options_); }

 protected:
  iterative::Result iterate(const iterative::Operator& op, const double* B, double* X, Index m,
                            const iterative::Settings& s, bool zero_start) const override {
    return iterative::gmres(op, B, X, m, s, zero_start);
  }
  Index basis(Index restart, Index m) const override {
    // A shorter basis (down to 10) before splitting the columns into
    // batches: a batch streams A once per sweep again, and the block-Jacobi
    // preconditioned iteration usually converges within 10-15 sweeps anyway.
    const double column_bytes = 8.0 * static_cast<double>(source().n);
    const auto fits =
        static_cast<Index>(kWorkBytes / (column_bytes * static_cast<double>((m + 3) / 4 * 4))) - 5;
    return std::min(restart, std::max<Index>(fits, 10));
  }
  double blocks_per_column(Index restart) const override { return static_cast<double>(restart + 5); }
};

}  // namespace

std::unique_ptr<Backend> make_gmres(const SolverOptions& options) { return std::make_unique<Gmres>(options); }

}  // namespace mriotrace::solvers
