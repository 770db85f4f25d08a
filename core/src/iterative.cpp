// GMRES and the power series on blocks of right-hand sides (iterative.hpp).
#include "iterative.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"

namespace mriotrace::iterative {
namespace {

using Clock = std::chrono::steady_clock;

constexpr Index kRowsPerTask = 256;

/// body(i0, i1) on disjoint ranges of rows, in parallel.
template <class Body>
void for_rows(Index n, int threads, Body&& body) {
  const Index tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  parallel_for(0, tasks, threads, [&](std::int64_t t) {
    body(t * kRowsPerTask, std::min(n, (t + 1) * kRowsPerTask));
  });
}

std::vector<double> column_norms(const double* U, Index n, Index m, int threads) {
  std::vector<double> out(static_cast<size_t>(m));
  kernels::column_dots(U, U, n, m, threads, out.data());
  for (double& v : out) v = std::sqrt(v);
  return out;
}

/// Per column: ||b||_2, and the residual norm to reach (tol ||b||_2). Columns
/// with b = 0 have the answer x = 0, set here.
struct Targets {
  std::vector<double> bnorm, target;
};
Targets targets(const Operator& op, const double* B, double* X, Index m, double tol) {
  Targets t;
  t.bnorm = column_norms(B, op.n, m, op.threads);
  t.target.resize(static_cast<size_t>(m));
  for (Index c = 0; c < m; ++c) {
    t.target[static_cast<size_t>(c)] = tol * t.bnorm[static_cast<size_t>(c)];
    if (t.bnorm[static_cast<size_t>(c)] == 0)
      for (Index i = 0; i < op.n; ++i) X[i * m + c] = 0;
  }
  return t;
}

/// Max over columns of ||r||/||b|| (0/0 = 0), and whether every column met its target.
double worst_relative(const std::vector<double>& rn, const Targets& t, bool& all_met) {
  double worst = 0;
  all_met = true;
  for (size_t c = 0; c < rn.size(); ++c) {
    const double rel = t.bnorm[c] > 0 ? rn[c] / t.bnorm[c] : (rn[c] > 0 ? INFINITY : 0.0);
    worst = std::max(worst, std::isnan(rel) ? INFINITY : rel);
    if (!(rn[c] <= t.target[c])) all_met = false;
  }
  return worst;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Convergence factor and the normwise backward error of the returned X, whose
/// residual is in R (both loops stop right after computing it).
/// Tracks the convergence factor over the latest stretch of iterations (the
/// asymptotic rate, not the average: early iterations remove the fast modes).
struct Rate {
  Index iters = -1;
  double residual = 0;
  void record(Result& r) {
    if (iters >= 0 && r.iterations > iters && residual > 0 && r.relative_residual > 0)
      r.reduction_per_iteration =
          std::pow(r.relative_residual / residual, 1.0 / static_cast<double>(r.iterations - iters));
    iters = r.iterations;
    residual = r.relative_residual;
  }
};

/// A sweep's residual is in: record it and say whether the loop stops here
/// (every column met its target, or the iterations are used up; res.why says
/// which when not converged). Shared by GMRES and the power series.
bool record_and_stop(Result& res, Rate& rate, double worst, bool all_met, Index max_iterations) {
  res.relative_residual = worst;
  rate.record(res);
  if (all_met) {
    res.converged = true;
    return true;
  }
  if (res.iterations >= max_iterations) {
    res.why = "iterations exhausted";
    return true;
  }
  return false;
}

void finish(Result& r, const Operator& op, const double* B, const double* X, const double* R, Index m) {
  r.backward_error = backward_error(op, B, X, R, m);
}

}  // namespace

double backward_error(const Operator& op, const double* B, const double* X, const double* R, Index m) {
  // Max-norms: order-independent, so a plain per-task max is deterministic.
  const Index n = op.n;
  const Index tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  std::vector<double> part(static_cast<size_t>(3 * tasks * m), 0.0);
  parallel_for(0, tasks, op.threads, [&](std::int64_t t) {
    double* rr = part.data() + 3 * t * m;
    for (Index i = t * kRowsPerTask; i < std::min(n, (t + 1) * kRowsPerTask); ++i)
      for (Index c = 0; c < m; ++c) {
        rr[c] = std::max(rr[c], std::abs(R[i * m + c]));
        rr[m + c] = std::max(rr[m + c], std::abs(X[i * m + c]));
        rr[2 * m + c] = std::max(rr[2 * m + c], std::abs(B[i * m + c]));
      }
  });
  double worst = 0;
  for (Index c = 0; c < m; ++c) {
    double rmax = 0, xmax = 0, bmax = 0;
    for (Index t = 0; t < tasks; ++t) {
      rmax = std::max(rmax, part[static_cast<size_t>(3 * t * m + c)]);
      xmax = std::max(xmax, part[static_cast<size_t>(3 * t * m + m + c)]);
      bmax = std::max(bmax, part[static_cast<size_t>(3 * t * m + 2 * m + c)]);
    }
    const double scale = op.norm_IA * xmax + bmax;
    const double e = scale > 0 ? rmax / scale : rmax;
    worst = std::max(worst, std::isnan(e) ? INFINITY : e);
  }
  return worst;
}

void Operator::residual(const double* B, const double* X, double* R, Index m, double* scratch) const {
  auto t0 = Clock::now();
  kernels::spmm(*off, X, scratch, m, threads);  // scratch = A_T X
  kernel_seconds += seconds_since(t0);
  t0 = Clock::now();
  M->multiply(X, R, m, transposed, threads);  // R = M X
  preconditioner_seconds += seconds_since(t0);
  for_rows(n, threads, [&](Index i0, Index i1) {
    for (Index k = i0 * m; k < i1 * m; ++k) R[k] = B[k] - R[k] + scratch[k];
  });
}

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
  finish(res, op, B, X, R.data(), m);
  return res;
}

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
  finish(res, op, B, X, R.data(), m);
  return res;
}

}  // namespace mriotrace::iterative
