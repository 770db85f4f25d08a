// LeontiefSolver: what every backend shares (solvers/backend.hpp has the
// backends' interface, one file per backend in solvers/): input checks,
// auto's choice, the backward-error check of every answer, the singularity
// threshold, the fallback of an unconverged iterative solve to a direct
// factorisation, refactor with the analysis reused, and the diagnostics.
#include "mriotrace/solver.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <random>
#include <vector>

#include "kernels.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "solvers/backend.hpp"
#include "solvers/iterative.hpp"

namespace mriotrace {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Below this reciprocal condition number I - A is treated as singular: a
// solve could not carry even a few correct digits.
constexpr double kSingularRcond = 1e-14;
// From this many right-hand sides on, a direct solve's residual is checked
// with the blocked sparse kernel (A streamed once per block of this many).
constexpr Index kBlockedCheckColumns = 64;
// A dense LU answer with more right-hand sides than this is checked on this
// many random combinations of its columns (probed_residual): checking every
// column costs 2 nnz(A) flops per column, about as much as dgetrs's 2 n^2 at
// MRIO densities, while LU with partial pivoting is backward stable anyway.
constexpr Index kProbeColumns = 4;
// Auto uses mixed-precision dense LU only above this size: below it a double
// factorisation takes milliseconds and its answers need no refinement.
constexpr Index kMixedMinN = 2000;

}  // namespace

SolverKind solver_kind_from_string(const std::string& name) {
  if (name == "auto") return SolverKind::Auto;
  if (name == "dense" || name == "lu" || name == "lapack") return SolverKind::DenseLU;
  if (name == "umfpack" || name == "sparse") return SolverKind::SparseLU;
  if (name == "klu") return SolverKind::KLU;
  if (name == "gmres") return SolverKind::GMRES;
  if (name == "power" || name == "power-series") return SolverKind::PowerSeries;
  if (name == "mixed" || name == "mixed-lu") return SolverKind::MixedLU;
  throw InputError("unknown solver \"" + name + "\"; expected one of: auto, dense, mixed, umfpack, klu, gmres, power");
}

std::string to_string(SolverKind kind) {
  switch (kind) {
    case SolverKind::Auto: return "auto";
    case SolverKind::DenseLU: return "dense";
    case SolverKind::SparseLU: return "umfpack";
    case SolverKind::GMRES: return "gmres";
    case SolverKind::PowerSeries: return "power";
    case SolverKind::KLU: return "klu";
    case SolverKind::MixedLU: return "mixed";
  }
  return "unknown";
}

SolverKind LeontiefSolver::choose(Index n, Index nnz) {
  // Dense LU costs 2/3 n^3 flops and n^2 doubles regardless of sparsity; it
  // wins on small systems and on dense-ish ones (EXIOBASE-like tables are
  // ~30 % nonzero, where sparse LU fill-in makes the factors dense anyway).
  // Sparse LU wins when A is sparse enough that the factors stay sparse.
  const double density = n > 0 ? static_cast<double>(nnz) / (static_cast<double>(n) * n) : 1.0;
  if (n <= 2000) return SolverKind::DenseLU;
  if (density >= 0.05 && n <= 20000) return SolverKind::DenseLU;
  return SolverKind::SparseLU;
}

SolverKind LeontiefSolver::choose(Index n, Index nnz, Index block_size, std::string* reason) {
  auto say = [&](const std::string& why) {
    if (reason) *reason = why;
  };
  if (n <= 2000) {
    say("auto: small system (n <= 2000): one dense LU is fast and exact");
    return SolverKind::DenseLU;
  }
  if (block_size > 0) {
    // An MRIO's trade coefficients are small, so M = I - A_D (domestic
    // blocks) is close to I - A: GMRES needs a few sweeps of O(nnz) for each
    // block of right-hand sides instead of an O(n^3) factorisation.
    say(detail::concat("auto: n = ", n, " > 2000 with region blocks of ", block_size,
                       ": block-Jacobi GMRES, O(nnz) per sweep (a direct factorisation takes over for blocks of "
                       "right-hand sides where it is cheaper)"));
    return SolverKind::GMRES;
  }
  if (n > 20000) {
    // Sparse LU's fill-in is unpredictable on large networks (a 250,000-firm
    // power-law network did not factor in minutes); GMRES costs O(nnz) per
    // sweep and falls back to UMFPACK if it does not converge.
    say(detail::concat("auto: n = ", n, " > 20000 without region blocks: GMRES (no preconditioner), ",
                       "UMFPACK as fallback"));
    return SolverKind::GMRES;
  }
  const SolverKind direct = choose(n, nnz);
  say(direct == SolverKind::DenseLU
          ? "auto: dense-ish system (>= 5 % nonzero, n <= 20000) without region blocks: dense LU"
          : "auto: sparse system without region blocks: sparse LU (UMFPACK)");
  return direct;
}

namespace {

bool is_iterative(SolverKind k) { return k == SolverKind::GMRES || k == SolverKind::PowerSeries; }
/// Backends whose analysis depends on the pattern (the others have none to reuse).
bool analyses_pattern(SolverKind k) { return k == SolverKind::SparseLU || k == SolverKind::KLU; }

// Relative speeds of the two paths on a 2-core AVX2 machine (measured by
// bench/cpp, docs/solvers.md): LAPACK LU/solve flops run ~3x faster than the
// sparse x block kernel's. Only used by auto to decide when many right-hand
// sides make a dense factorisation cheaper than sweeps.
constexpr double kDenseSpeedup = 3.0;
// Sweeps assumed for auto's cost model before any iterative solve was seen.
constexpr double kAssumedSweeps = 12.0;
// The preconditioner stores 2 n block_size doubles; beyond this a block
// structure is not worth it (and a solver from a system leaves it off).
constexpr double kMaxPreconditionerBytes = 1024.0 * 1024 * 1024;

std::unique_ptr<solvers::Backend> make_backend(SolverKind kind, const SolverOptions& o) {
  switch (kind) {
    case SolverKind::DenseLU: return solvers::make_dense_lu(o);
    case SolverKind::SparseLU: return solvers::make_umfpack(o);
    case SolverKind::KLU: return solvers::make_klu(o);
    case SolverKind::GMRES: return solvers::make_gmres(o);
    case SolverKind::PowerSeries: return solvers::make_power_series(o);
    case SolverKind::MixedLU: return solvers::make_mixed_lu(o);
    case SolverKind::Auto: break;
  }
  throw InputError("solver kind auto has no backend of its own; expected a resolved kind");
}

}  // namespace

struct LeontiefSolver::Impl {
  SolverOptions options;
  Index n = 0;
  Index nnz = 0;
  double row_abs_sum_max = 0, col_abs_sum_max = 0;
  // Full A, for the direct backends and their residual checks. An iterative
  // solver keeps only its split (in the backend) and rebuilds A if a direct
  // solver is needed later (fallback, many right-hand sides): one copy of A less.
  SparseMatrix A;
  std::unique_ptr<solvers::Backend> primary;  // the backend of diag.kind
  bool factored = false;                      // false after a refactor that threw
  // Direct backend of an iterative solver, factored on first need.
  mutable std::unique_ptr<solvers::Backend> lazy_direct;
  mutable std::mutex direct_mutex;
  // Double dense LU behind a mixed-precision one whose refinement failed
  // (I - A too ill-conditioned for single precision), factored on first need.
  mutable std::unique_ptr<solvers::Backend> exact_direct;
  mutable std::mutex exact_mutex;
  // CSR copies of A and A^T for the residual check of large direct solves,
  // built at the first one (12 bytes per nonzero each).
  mutable kernels::Csr check_csr[2];
  mutable bool check_built[2] = {false, false};
  mutable std::mutex check_mutex;
  mutable Index iterative_solves = 0;

  mutable std::mutex diag_mutex;
  mutable SolveDiagnostics diag;

  bool iterative() const { return is_iterative(diag.kind); }
  const solvers::SplitBackend& split() const { return static_cast<const solvers::SplitBackend&>(*primary); }

  solvers::Source source(const SparseMatrix& M) const {
    return solvers::Source{n, &M, nullptr, nullptr, row_abs_sum_max, col_abs_sum_max};
  }

  void check_options(const SparseMatrix& A_in, const SolverOptions& opts) const {
    MRIOTRACE_CHECK(A_in.rows() == A_in.cols(), "A has shape ", A_in.rows(), " x ", A_in.cols(),
                    "; expected a square matrix");
    MRIOTRACE_CHECK(opts.max_residual > 0, "max_residual = ", opts.max_residual, "; expected > 0");
    MRIOTRACE_CHECK(opts.tolerance > 0 && opts.tolerance < 1, "tolerance = ", opts.tolerance,
                    "; expected 0 < tolerance < 1 (a relative residual, e.g. 1e-13)");
    MRIOTRACE_CHECK(opts.max_iterations >= 1, "max_iterations = ", opts.max_iterations, "; expected >= 1");
    MRIOTRACE_CHECK(opts.restart >= 1, "restart = ", opts.restart, "; expected >= 1 (GMRES Krylov basis size)");
    MRIOTRACE_CHECK(opts.block_size >= 0 && opts.block_size <= std::max<Index>(A_in.rows(), 1) &&
                        (opts.block_size == 0 || A_in.rows() % opts.block_size == 0),
                    "block_size = ", opts.block_size, " does not divide n = ", A_in.rows(),
                    "; expected the number of sectors per region (a divisor of n), or 0 for no preconditioner");
    const double block_bytes = 16.0 * static_cast<double>(A_in.rows()) * static_cast<double>(opts.block_size);
    MRIOTRACE_CHECK(block_bytes <= kMaxPreconditionerBytes, "block_size = ", opts.block_size,
                    " would need 2 n block_size doubles = ", block_bytes / 1e9,
                    " GB for the block-Jacobi preconditioner; expected at most ",
                    kMaxPreconditionerBytes / 1e9, " GB (smaller blocks, or 0 for none)");
  }

  void init(const SparseMatrix& A_in, const SolverOptions& opts) {
    check_options(A_in, opts);
    check_finite(A_in, "A");
    options = opts;
    if (opts.kind == SolverKind::Auto) {
      diag.kind = choose(A_in.rows(), A_in.nonZeros(), opts.block_size, &diag.reason);
    } else {
      diag.kind = opts.kind;
      diag.reason = "requested";
    }
    factor_all(A_in, nullptr);
  }

  /// A_new for refactor / refactored: the solver's n, finite.
  void check_new(const SparseMatrix& A_new) const {
    MRIOTRACE_CHECK(A_new.rows() == n && A_new.cols() == n, "refactor: A_new is ", A_new.rows(), " x ",
                    A_new.cols(), " with ", A_new.nonZeros(), " stored entries; expected ", n, " x ", n,
                    " like the A this solver was built for (", nnz, " stored entries)");
    check_finite(A_new, "A_new");
  }

  /// Factor I - A_in with the backend of diag.kind. `from`: a backend whose
  /// analysis is reused when A_in has its pattern (this solver's own for
  /// refactor, another solver's for refactored), or null for a fresh one.
  void factor_all(const SparseMatrix& A_in, const solvers::Backend* from) {
    factored = false;
    n = A_in.rows();
    nnz = A_in.nonZeros();
    Vector rows = Vector::Zero(n), cols = Vector::Zero(n);
    for (Index j = 0; j < A_in.outerSize(); ++j)
      for (SparseMatrix::InnerIterator it(A_in, j); it; ++it) {
        rows[it.row()] += std::abs(it.value());
        cols[j] += std::abs(it.value());
      }
    row_abs_sum_max = n ? rows.maxCoeff() : 0;
    col_abs_sum_max = n ? cols.maxCoeff() : 0;
    lazy_direct.reset();
    exact_direct.reset();
    {
      std::lock_guard<std::mutex> lock(check_mutex);
      check_csr[0] = check_csr[1] = kernels::Csr();
      check_built[0] = check_built[1] = false;
    }
    ThreadScope scope(options.threads);
    diag.threads = scope.threads();
    const bool in_place = from != nullptr && from == primary.get();
    const auto t0 = Clock::now();
    if (iterative()) {
      // Nothing of the split depends on the pattern: factor builds it anew.
      if (!in_place) primary = from ? from->share_analysis() : make_backend(diag.kind, options);
      primary->factor(source(A_in));
      diag.preconditioner = split().preconditioner();
      diag.factor_seconds += seconds_since(t0);
      diag.analysis_reused = false;
      factored = true;
      return;
    }
    A = A_in;
    A.makeCompressed();
    const bool reuse = from != nullptr && from->same_pattern(A);
    if (!in_place) primary = reuse ? from->share_analysis() : make_backend(diag.kind, options);
    if (n > 0) {
      if (reuse) {
        primary->refactor(source(A));
      } else {
        primary->analyse(A);
        if (analyses_pattern(diag.kind)) ++diag.analyses;
        primary->factor(source(A));
      }
    }
    diag.factor_seconds += seconds_since(t0);
    diag.rcond_estimate = primary->rcond();
    diag.analysis_reused = reuse && analyses_pattern(diag.kind);
    check_rcond();
    factored = true;
  }

  void check_rcond() const {
    if (n > 0 && diag.rcond_estimate >= 0 && diag.rcond_estimate < kSingularRcond)
      throw NumericError(detail::concat("I - A is numerically singular (reciprocal condition estimate ",
                                        diag.rcond_estimate, "); the system is not productive"));
  }

  /// The direct backend of an iterative solver, factored on first need from
  /// the split (`kind` applies only to the first call).
  const solvers::Backend& ensure_direct(SolverKind kind) const {
    std::lock_guard<std::mutex> lock(direct_mutex);
    if (lazy_direct) return *lazy_direct;
    auto backend = make_backend(kind, options);
    ThreadScope scope(options.threads);
    const auto t0 = Clock::now();
    const solvers::Source parts = split().source();
    if (kind == SolverKind::DenseLU || kind == SolverKind::MixedLU) {
      backend->factor(parts);  // I - A written into the dense array from the split, no copy of A
    } else {
      const SparseMatrix whole = parts.whole();  // UMFPACK and KLU need A (not kept after)
      backend->analyse(whole);
      if (analyses_pattern(kind)) {
        std::lock_guard<std::mutex> dlock(diag_mutex);
        ++diag.analyses;
      }
      backend->factor(source(whole));
    }
    record_factor(*backend, t0);
    lazy_direct = std::move(backend);
    return *lazy_direct;
  }

  /// A lazily built backend's factorisation into the diagnostics (its time,
  /// its condition estimate), refused when that says I - A is singular.
  void record_factor(const solvers::Backend& backend, Clock::time_point t0) const {
    {
      std::lock_guard<std::mutex> dlock(diag_mutex);
      diag.factor_seconds += seconds_since(t0);
      diag.rcond_estimate = backend.rcond();
    }
    check_rcond();
  }

  /// The double dense LU that finishes what mixed precision could not refine.
  const solvers::Backend& ensure_exact() const {
    std::lock_guard<std::mutex> lock(exact_mutex);
    if (exact_direct) return *exact_direct;
    auto backend = make_backend(SolverKind::DenseLU, options);
    ThreadScope scope(options.threads);
    const auto t0 = Clock::now();
    backend->factor(A.rows() == n ? source(A) : split().source());
    record_factor(*backend, t0);
    exact_direct = std::move(backend);
    return *exact_direct;
  }

  /// Which dense backend auto builds for blocks of m right-hand sides: mixed
  /// precision halves the factorisation (1/3 n^3 flops' time instead of 2/3)
  /// but its refinement costs two residual products and three single
  /// solves, about 7 n^2 a column against dense's 2 n^2 (measured on L,
  /// docs/solvers.md), so it wins while m < n / 15.
  SolverKind dense_kind_for(Index m) const {
    return n > kMixedMinN && 15 * m < n ? SolverKind::MixedLU : SolverKind::DenseLU;
  }

  /// The direct backend that answers, or null (an iterative solver before any need).
  const solvers::Backend* direct() const {
    if (!iterative()) return primary.get();
    std::lock_guard<std::mutex> lock(direct_mutex);
    return lazy_direct.get();
  }

  /// Whether auto should hand m right-hand sides to dense LU rather than sweeps.
  bool prefer_direct(Index m) const {
    if (options.kind != SolverKind::Auto || !iterative()) return false;
    if (n > 20000) return false;  // n^2 doubles would not fit the memory budget; sweeps stay O(nnz)
    double sweeps = kAssumedSweeps;
    {
      std::lock_guard<std::mutex> lock(diag_mutex);
      if (iterative_solves > 0)
        sweeps = 2.0 + static_cast<double>(diag.total_iterations) / static_cast<double>(iterative_solves);
    }
    const double nd = static_cast<double>(n), md = static_cast<double>(m);
    const double iterative_flops = sweeps * split().flops_per_sweep() * md;
    const solvers::Backend* d = direct();
    const SolverKind kind = d ? d->kind() : dense_kind_for(m);
    if (kind != SolverKind::DenseLU && kind != SolverKind::MixedLU) return false;  // a sparse fallback: keep sweeping
    const bool mixed = kind == SolverKind::MixedLU;
    const double factor_flops = d ? 0.0 : (mixed ? 1.0 / 3.0 : 2.0 / 3.0) * nd * nd * nd;
    const double dense_flops = (factor_flops + (mixed ? 7.0 : 2.0) * nd * nd * md) / kDenseSpeedup;
    return dense_flops < iterative_flops;
  }

  /// X = op(I - A)^-1 B from a direct backend. A mixed-precision backend that
  /// cannot refine to double accuracy hands the block to double dense LU
  /// (noted in the diagnostics as a fallback). `used`: the backend that
  /// answered; `residual`: its backward error when the backend measured it
  /// (mixed precision does, on every column), else 0.
  Matrix direct_solve(const solvers::Backend& backend, const Eigen::Ref<const Matrix>& B, bool transposed,
                      SolverKind& used, double& residual, Index& iterations) const {
    Matrix X;
    const solvers::SolveReport r = backend.solve(B, nullptr, transposed, X);
    used = backend.kind();
    residual = 0;
    iterations = 0;
    if (!r.failure.empty()) {
      if (!options.fallback)
        throw NumericError(r.failure + "; not returning an unrefined answer (use solver \"dense\", or enable "
                                       "fallback)");
      {
        std::lock_guard<std::mutex> lock(diag_mutex);
        diag.fell_back = true;
        diag.fallback_reason = r.failure;
      }
      const solvers::Backend& exact = ensure_exact();
      exact.solve(B, nullptr, transposed, X);
      used = exact.kind();
    } else if (used == SolverKind::MixedLU) {
      residual = r.backward_error;
      iterations = r.iterations;
      std::lock_guard<std::mutex> lock(diag_mutex);
      diag.kernel_seconds += r.kernel_seconds;                  // residual products in double
      diag.preconditioner_seconds += r.preconditioner_seconds;  // single-precision corrections
    }
    return X;
  }

  Matrix solve(const Eigen::Ref<const Matrix>& B, const Eigen::Ref<const Matrix>* X0, bool transposed) const {
    if (!factored)
      throw NumericError("the solver's last refactor failed, so it holds no factorisation; refactor again with a "
                         "productive A or build a new solver");
    MRIOTRACE_CHECK(B.rows() == n, "right-hand side has ", B.rows(), " rows; expected n = ", n);
    check_finite(B, "right-hand side");
    const Index m = B.cols();
    Matrix guess;
    if (X0) {
      MRIOTRACE_CHECK(X0->rows() == n && X0->cols() == m, "initial guess X0 has shape ", X0->rows(), " x ",
                      X0->cols(), "; expected the shape of the right-hand side, ", n, " x ", m);
      check_finite(*X0, "initial guess X0");
      guess = *X0;
    }
    if (m == 0 || n == 0) return B;
    const auto t0 = Clock::now();
    ThreadScope scope(options.threads);
    Matrix X;
    SolverKind used = diag.kind;
    double rel2 = -1, residual = 0;
    Index iterations = 0;
    if (iterative() && !prefer_direct(m)) {
      const solvers::SolveReport r = primary->solve(B, X0 ? &guess : nullptr, transposed, X);
      {
        std::lock_guard<std::mutex> lock(diag_mutex);
        diag.total_iterations += r.total_iterations;
        diag.kernel_seconds += r.kernel_seconds;
        diag.preconditioner_seconds += r.preconditioner_seconds;
        ++iterative_solves;
      }
      iterations = r.iterations;
      rel2 = r.relative_residual;
      residual = r.backward_error;
      if (!r.failure.empty()) {
        if (!options.fallback)
          throw NumericError(r.failure + "; not returning an unconverged answer (use a direct solver, e.g. "
                                         "solver \"dense\" or \"umfpack\", or enable fallback)");
        // Finish with a direct solver: an unconverged answer is never returned.
        const solvers::Backend& d = ensure_direct(choose(n, nnz));
        {
          std::lock_guard<std::mutex> lock(diag_mutex);
          diag.fell_back = true;
          diag.fallback_reason = r.failure;
        }
        X = direct_solve(d, B, transposed, used, residual, iterations);
        rel2 = -1;  // measured below
      }
    } else {
      // auto: many right-hand sides go to dense LU (mixed precision while they are few)
      const solvers::Backend& d = iterative() ? ensure_direct(dense_kind_for(m)) : *primary;
      X = direct_solve(d, B, transposed, used, residual, iterations);
    }
    // Iterative answers were checked on their own true residual (computed
    // with the split I - A = M - A_T), mixed-precision ones by their
    // refinement (every column, against the double I - A); the others here.
    if (!is_iterative(used) && used != SolverKind::MixedLU) {
      // Dense LU answers with many columns: checked on kProbeColumns random
      // combinations (probed_residual); everything else column by column.
      residual = used == SolverKind::DenseLU && m > kProbeColumns ? probed_residual(B, X, transposed)
                 : iterative()                                    ? split().backward_error(B, X, transposed)
                                                                  : relative_residual(B, X, transposed);
      if (!(residual <= options.max_residual))
        throw NumericError(detail::concat("Leontief solve is inaccurate: relative residual ", residual,
                                          " exceeds ", options.max_residual,
                                          "; I - A is (nearly) singular (reciprocal condition estimate ",
                                          diag.rcond_estimate, ")"));
    } else if (used == SolverKind::MixedLU && !(residual <= options.max_residual)) {
      throw NumericError(detail::concat("Leontief solve is inaccurate: backward error ", residual, " exceeds ",
                                        options.max_residual, " after mixed-precision refinement"));
    }
    std::lock_guard<std::mutex> lock(diag_mutex);
    diag.solve_seconds += seconds_since(t0);
    diag.rhs_solved += m;
    diag.last_kind = used;
    diag.iterations = is_iterative(used) || used == SolverKind::MixedLU ? iterations : 0;
    diag.last_relative_residual = rel2 >= 0 ? rel2 : residual;
    diag.max_relative_residual = std::max(diag.max_relative_residual, residual);
    return X;
  }

  /// The backward error of a dense LU answer, checked on kProbeColumns random
  /// combinations of its columns instead of on each: with column j scaled by
  /// its own denominator s_j = ||I - A||_inf ||x_j||_inf + ||b_j||_inf and
  /// weighted by g_pj ~ N(0, 1) (fixed seed), probe p's residual is
  /// r_p = sum_j g_pj (b_j - (I - A) x_j) / s_j and the estimate is
  /// max_p ||r_p||_inf. One column with backward error e shows up as |g_pj| e
  /// (all four |g_pj| < 0.01 with probability 4e-9), round-off of m columns as
  /// about sqrt(m) times theirs. Costs 4 sparse products instead of m.
  double probed_residual(const Eigen::Ref<const Matrix>& B, const Matrix& X, bool transposed) const {
    const Matrix W = solvers::probe_weights(B, X, 1.0 + (transposed ? col_abs_sum_max : row_abs_sum_max), kProbeColumns);
    if (W.size() == 0) return INFINITY;
    const Matrix Bp = B * W, Xp = X * W;
    Matrix Rp = Bp - Xp;
    if (A.rows() == n) {
      // Straight from A's CSC arrays: no CSR copy to build (it cost more than
      // the probes), no transposed copy (what Eigen's A^T * X would make).
      if (transposed) {  // (A^T Xp)[j, p] = A[:, j] . Xp[:, p], columns in parallel
        parallel_for(0, n, options.threads, [&](std::int64_t j) {
          for (SparseMatrix::InnerIterator it(A, j); it; ++it)
            for (Index p = 0; p < kProbeColumns; ++p) Rp(j, p) += it.value() * Xp(it.row(), p);
        }, 256);
      } else {
        Rp.noalias() += A * Xp;
      }
    } else {  // only the iterative split I - A = M - A_T is kept
      Rp = split().residual(Bp, Xp, transposed);
    }
    return solvers::max_abs(Rp);
  }

  /// Normwise backward error max_j ||b_j - (I - A) x_j||_inf / (||I - A||_inf ||x_j||_inf + ||b_j||_inf).
  double relative_residual(const Eigen::Ref<const Matrix>& B, const Matrix& X, bool transposed) const {
    const Index m = B.cols();
    const double norm_IA = 1.0 + (transposed ? col_abs_sum_max : row_abs_sum_max);
    std::vector<double> per_col(static_cast<size_t>(m), 0.0);
    auto column_error = [&](Index j, const Eigen::Ref<const Vector>& Ax) {
      const double r = (B.col(j) - X.col(j) + Ax).cwiseAbs().maxCoeff();
      const double scale = norm_IA * X.col(j).cwiseAbs().maxCoeff() + B.col(j).cwiseAbs().maxCoeff();
      per_col[static_cast<size_t>(j)] = scale > 0 ? r / scale : r;
    };
    if (m < kBlockedCheckColumns) {
      // Few columns: one sparse product per column, no extra copy of A.
      parallel_for(0, m, options.threads, [&](std::int64_t j) {
        column_error(j, transposed ? Vector(A.transpose() * X.col(j)) : Vector(A * X.col(j)));
      });
    } else {
      // Many columns (scenario batches, D_imp): the per-column products would
      // stream A once per column; the panel kernel streams it once per block.
      const int t = transposed ? 1 : 0;
      {
        std::lock_guard<std::mutex> lock(check_mutex);
        if (!check_built[t]) {
          check_csr[t] = kernels::offdiagonal_csr(A, 0, transposed);
          check_built[t] = true;
        }
      }
      using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      for (Index c0 = 0; c0 < m; c0 += kBlockedCheckColumns) {
        const Index mb = std::min(kBlockedCheckColumns, m - c0);
        const RowMat Xb = X.middleCols(c0, mb);
        RowMat AXb(n, mb);
        kernels::spmm(check_csr[t], Xb.data(), AXb.data(), mb, options.threads);
        const Matrix AX = AXb;  // back to columns for the per-column norms
        parallel_for(0, mb, options.threads, [&](std::int64_t b) { column_error(c0 + b, AX.col(b)); });
      }
    }
    double worst = 0;
    for (double r : per_col) worst = std::max(worst, std::isnan(r) ? INFINITY : r);
    return worst;
  }
};

LeontiefSolver::LeontiefSolver(const SparseMatrix& A, SolverOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->init(A, options);
}

LeontiefSolver::LeontiefSolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LeontiefSolver::~LeontiefSolver() = default;
LeontiefSolver::LeontiefSolver(LeontiefSolver&&) noexcept = default;
LeontiefSolver& LeontiefSolver::operator=(LeontiefSolver&&) noexcept = default;

Index LeontiefSolver::n() const { return impl_->n; }

void LeontiefSolver::refactor(const SparseMatrix& A_new) {
  impl_->check_new(A_new);
  impl_->factor_all(A_new, impl_->primary.get());
  ++impl_->diag.refactors;
}

LeontiefSolver LeontiefSolver::refactored(const SparseMatrix& A_new, std::optional<int> threads) const {
  const Impl& self = *impl_;
  self.check_new(A_new);
  auto impl = std::make_unique<Impl>();
  impl->options = self.options;
  if (threads) impl->options.threads = *threads;
  resolve_threads(impl->options.threads);  // throws InputError on a negative count
  impl->diag.kind = self.diag.kind;
  impl->diag.reason = self.diag.reason;
  impl->factor_all(A_new, self.primary.get());
  impl->diag.refactors = 1;
  return LeontiefSolver(std::move(impl));
}

Matrix LeontiefSolver::solve(const Eigen::Ref<const Matrix>& B) const { return impl_->solve(B, nullptr, false); }

Matrix LeontiefSolver::solve_transposed(const Eigen::Ref<const Matrix>& B) const {
  return impl_->solve(B, nullptr, true);
}

Matrix LeontiefSolver::solve(const Eigen::Ref<const Matrix>& B, const Eigen::Ref<const Matrix>& X0) const {
  return impl_->solve(B, &X0, false);
}

Matrix LeontiefSolver::solve_transposed(const Eigen::Ref<const Matrix>& B, const Eigen::Ref<const Matrix>& X0) const {
  return impl_->solve(B, &X0, true);
}

Matrix LeontiefSolver::leontief_inverse() const { return solve(Matrix::Identity(impl_->n, impl_->n)); }

const SolveDiagnostics& LeontiefSolver::diagnostics() const { return impl_->diag; }
const SolverOptions& LeontiefSolver::options() const { return impl_->options; }

std::optional<LeontiefSolver::DenseLuView> LeontiefSolver::dense_lu() const {
  // Only a factorisation made at construction (or refactor): a lazily built
  // one (iterative solvers' fallback) could appear while another thread reads.
  if (impl_->iterative() || !impl_->factored) return std::nullopt;
  return impl_->primary->dense_lu();
}

}  // namespace mriotrace
