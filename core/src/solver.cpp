// Leontief solver backends: dense LU (LAPACK dgetrf/dgetrs through OpenBLAS),
// sparse LU (SuiteSparse UMFPACK) and the iterative ones (GMRES, power series;
// iterative.cpp) with a block-Jacobi preconditioner. Factor once, solve blocks
// of right-hand sides, plain or transposed; check every answer's residual.
#include "mriotrace/solver.hpp"

#include <klu.h>
#include <umfpack.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <mutex>
#include <random>
#include <vector>

#include "iterative.hpp"
#include "kernels.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "mriotrace/system.hpp"

extern "C" {
// LAPACK (Fortran interface, 32-bit integers: Debian's OpenBLAS build).
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda, const int* ipiv,
             double* b, const int* ldb, int* info, std::size_t trans_len);
void dgecon_(const char* norm, const int* n, const double* a, const int* lda, const double* anorm, double* rcond,
             double* work, int* iwork, int* info, std::size_t norm_len);
}

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

}  // namespace

SolverKind solver_kind_from_string(const std::string& name) {
  if (name == "auto") return SolverKind::Auto;
  if (name == "dense" || name == "lu" || name == "lapack") return SolverKind::DenseLU;
  if (name == "umfpack" || name == "sparse") return SolverKind::SparseLU;
  if (name == "klu") return SolverKind::KLU;
  if (name == "gmres") return SolverKind::GMRES;
  if (name == "power" || name == "power-series") return SolverKind::PowerSeries;
  throw InputError("unknown solver \"" + name + "\"; expected one of: auto, dense, umfpack, klu, gmres, power");
}

std::string to_string(SolverKind kind) {
  switch (kind) {
    case SolverKind::Auto: return "auto";
    case SolverKind::DenseLU: return "dense";
    case SolverKind::SparseLU: return "umfpack";
    case SolverKind::GMRES: return "gmres";
    case SolverKind::PowerSeries: return "power";
    case SolverKind::KLU: return "klu";
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

// Memory budget of one iterative solve's work blocks (Krylov basis and
// scratch); wider blocks of right-hand sides are solved in column batches.
constexpr double kIterativeWorkBytes = 512.0 * 1024 * 1024;

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

}  // namespace

struct LeontiefSolver::Impl {
  SolverOptions options;
  Index n = 0;
  Index nnz = 0;
  double row_abs_sum_max = 0, col_abs_sum_max = 0;
  // Full A, for the direct backends and their residual checks. An iterative
  // solver keeps only its split (fwd, P) and rebuilds A if a direct solver is
  // needed later (fallback, many right-hand sides): one copy of A less.
  SparseMatrix A;
  // Direct backend (factored at construction, or lazily for an iterative solver)
  SolverKind direct = SolverKind::Auto;  // Auto: none yet
  Matrix lu;
  std::vector<int> ipiv;
  SparseMatrix IminusA;  // CSC with 64-bit indices (SuiteSparse_long)
  void* numeric = nullptr;
  double control[UMFPACK_CONTROL];
  klu_l_common klu_common;
  klu_l_symbolic* klu_symbolic = nullptr;
  klu_l_numeric* klu_numeric = nullptr;
  mutable std::mutex klu_mutex;  // KLU's solves use workspace inside the Numeric object
  mutable std::mutex direct_mutex;
  // Iterative backend: I - A = M - A_T, M = I - A_D (block Jacobi)
  bool iterative = false;
  kernels::Csr fwd;              // A_T as CSR (rows of A_T)
  mutable kernels::Csr bwd;      // A_T^T as CSR, built at the first transposed solve
  mutable std::once_flag bwd_once;
  // CSR copies of A and A^T for the residual check of large direct solves,
  // built at the first one (12 bytes per nonzero each).
  mutable kernels::Csr check_csr[2];
  mutable std::once_flag check_once[2];
  kernels::BlockJacobi P;
  mutable Index iterative_solves = 0;

  mutable std::mutex diag_mutex;
  mutable SolveDiagnostics diag;

  ~Impl() {
    if (numeric) umfpack_dl_free_numeric(&numeric);
    if (klu_numeric) klu_l_free_numeric(&klu_numeric, &klu_common);
    if (klu_symbolic) klu_l_free_symbolic(&klu_symbolic, &klu_common);
  }

  void factor_dense() {
    MRIOTRACE_CHECK(n <= 46340, "dense LU of n = ", n, " exceeds LAPACK's 32-bit index range; use solver \"umfpack\"");
    // lu = I - A, written in place (no dense copy of A): from A itself, or
    // from the iterative split A = A_T + A_D when only that is kept.
    lu = Matrix::Identity(n, n);
    if (A.rows() == n) {
      for (Index j = 0; j < A.outerSize(); ++j)
        for (SparseMatrix::InnerIterator it(A, j); it; ++it) lu(it.row(), j) -= it.value();
    } else {
      fwd.for_each([&](Index i, Index j, double v) { lu(i, j) -= v; });
      for (Index b = 0; b < P.blocks; ++b) lu.block(b * P.bs, b * P.bs, P.bs, P.bs) -= P.D[static_cast<size_t>(b)];
    }
    const int ni = static_cast<int>(n);
    // 1-norm of I - A for the condition estimate.
    const double anorm = lu.cwiseAbs().colwise().sum().maxCoeff();
    ipiv.resize(static_cast<size_t>(std::max<Index>(n, 1)));
    int info = 0;
    dgetrf_(&ni, &ni, lu.data(), &ni, ipiv.data(), &info);
    if (info > 0)
      throw NumericError(detail::concat("I - A is singular (zero pivot at position ", info - 1,
                                        " in its LU factorisation); the system is not productive"));
    if (info < 0) throw NumericError(detail::concat("LAPACK dgetrf failed with info = ", info));
    std::vector<double> work(4 * static_cast<size_t>(n));
    std::vector<int> iwork(static_cast<size_t>(n));
    double rcond = 0;
    dgecon_("1", &ni, lu.data(), &ni, &anorm, &rcond, work.data(), iwork.data(), &info, 1);
    diag.rcond_estimate = rcond;
  }

  void build_IminusA() {
    SparseMatrix I(n, n);
    I.setIdentity();
    IminusA = I - A;
    IminusA.makeCompressed();
  }

  void factor_klu() {
    build_IminusA();
    klu_l_defaults(&klu_common);
    auto* Ap = reinterpret_cast<SuiteSparse_long*>(IminusA.outerIndexPtr());
    auto* Ai = reinterpret_cast<SuiteSparse_long*>(IminusA.innerIndexPtr());
    klu_symbolic = klu_l_analyze(n, Ap, Ai, &klu_common);
    if (!klu_symbolic)
      throw NumericError(detail::concat("KLU symbolic analysis of I - A failed (status ", klu_common.status, ")"));
    klu_numeric = klu_l_factor(Ap, Ai, IminusA.valuePtr(), klu_symbolic, &klu_common);
    if (!klu_numeric || klu_common.status == KLU_SINGULAR)
      throw NumericError(klu_common.status == KLU_SINGULAR
                             ? std::string("I - A is singular (KLU found a zero pivot); the system is not productive")
                         : klu_common.status == KLU_OUT_OF_MEMORY
                             ? std::string("KLU ran out of memory factoring I - A; the factors fill in too much")
                             : detail::concat("KLU numeric factorisation of I - A failed (status ", klu_common.status, ")"));
    // KLU's cheap estimate min |U_ii| / max |U_ii| (klu_l_condest would cost solves).
    klu_l_rcond(klu_symbolic, klu_numeric, &klu_common);
    diag.rcond_estimate = klu_common.rcond;
  }

  void factor_sparse() {
    build_IminusA();
    umfpack_dl_defaults(control);
    double info[UMFPACK_INFO];
    void* symbolic = nullptr;
    const auto* Ap = reinterpret_cast<const SuiteSparse_long*>(IminusA.outerIndexPtr());
    const auto* Ai = reinterpret_cast<const SuiteSparse_long*>(IminusA.innerIndexPtr());
    int status = umfpack_dl_symbolic(n, n, Ap, Ai, IminusA.valuePtr(), &symbolic, control, info);
    if (status != UMFPACK_OK)
      throw NumericError(detail::concat("UMFPACK symbolic analysis of I - A failed (status ", status, ")"));
    {
      // Serial BLAS inside UMFPACK: multi-threaded OpenBLAS changes the
      // summation order in the frontal-matrix updates, so the factors (and
      // every answer) would differ in the last bit between thread counts.
      SerialBlas serial_blas;
      status = umfpack_dl_numeric(Ap, Ai, IminusA.valuePtr(), symbolic, &numeric, control, info);
    }
    umfpack_dl_free_symbolic(&symbolic);
    if (status == UMFPACK_WARNING_singular_matrix)
      throw NumericError("I - A is singular (UMFPACK found a zero pivot); the system is not productive");
    if (status == UMFPACK_ERROR_out_of_memory)
      throw NumericError("UMFPACK ran out of memory factoring I - A; the factors fill in too much");
    if (status != UMFPACK_OK)
      throw NumericError(detail::concat("UMFPACK numeric factorisation of I - A failed (status ", status, ")"));
    diag.rcond_estimate = info[UMFPACK_RCOND];
  }

  /// Factor I - A with a direct backend now (construction) or on first need.
  void ensure_direct(SolverKind kind) const {
    std::lock_guard<std::mutex> lock(direct_mutex);
    if (direct != SolverKind::Auto) return;
    auto& self = const_cast<Impl&>(*this);
    if ((kind == SolverKind::SparseLU || kind == SolverKind::KLU) && self.A.rows() != n)
      self.A = rebuild_A();  // UMFPACK and KLU need A
    ThreadScope scope(options.threads);
    const auto t0 = Clock::now();
    if (kind == SolverKind::DenseLU)
      self.factor_dense();
    else if (kind == SolverKind::KLU)
      self.factor_klu();
    else
      self.factor_sparse();
    self.direct = kind;
    {
      std::lock_guard<std::mutex> dlock(diag_mutex);
      diag.factor_seconds += seconds_since(t0);
    }
    if (n > 0 && diag.rcond_estimate >= 0 && diag.rcond_estimate < kSingularRcond)
      throw NumericError(detail::concat("I - A is numerically singular (reciprocal condition estimate ",
                                        diag.rcond_estimate, "); the system is not productive"));
  }

  /// A = A_T + A_D from the iterative split (the direct backends need it whole).
  SparseMatrix rebuild_A() const {
    std::vector<Eigen::Triplet<double, Index>> t;
    t.reserve(static_cast<size_t>(fwd.nnz() + P.blocks * P.bs * P.bs));
    fwd.for_each([&](Index i, Index j, double v) { t.emplace_back(i, j, v); });
    for (Index b = 0; b < P.blocks; ++b)
      for (Index j = 0; j < P.bs; ++j)
        for (Index i = 0; i < P.bs; ++i)
          if (const double v = P.D[static_cast<size_t>(b)](i, j); v != 0) t.emplace_back(b * P.bs + i, b * P.bs + j, v);
    SparseMatrix out(n, n);
    out.setFromTriplets(t.begin(), t.end());
    out.makeCompressed();
    return out;
  }

  /// X = (I - A)^-1 B or (I - A)^-T B with the direct factorisation.
  Matrix direct_solve(const Eigen::Ref<const Matrix>& B, bool transposed) const {
    const Index m = B.cols();
    Matrix X = B;
    ThreadScope scope(options.threads);
    if (direct == SolverKind::DenseLU) {
      const int ni = static_cast<int>(n);
      MRIOTRACE_CHECK(m <= INT_MAX, "too many right-hand sides (", m, ") for one LAPACK call");
      const int mi = static_cast<int>(m);
      int info = 0;
      dgetrs_(transposed ? "T" : "N", &ni, &mi, lu.data(), &ni, ipiv.data(), X.data(), &ni, &info, 1);
      if (info != 0) throw NumericError(detail::concat("LAPACK dgetrs failed with info = ", info));
    } else if (direct == SolverKind::KLU) {
      // All columns in one call (KLU works through them four at a time); serial,
      // so the answer does not depend on the thread count.
      std::lock_guard<std::mutex> lock(klu_mutex);
      klu_l_common c = klu_common;
      const auto ok = transposed ? klu_l_tsolve(klu_symbolic, klu_numeric, n, m, X.data(), &c)
                                 : klu_l_solve(klu_symbolic, klu_numeric, n, m, X.data(), &c);
      if (!ok) throw NumericError(detail::concat("KLU solve failed (status ", c.status, ")"));
    } else {
      const auto* Ap = reinterpret_cast<const SuiteSparse_long*>(IminusA.outerIndexPtr());
      const auto* Ai = reinterpret_cast<const SuiteSparse_long*>(IminusA.innerIndexPtr());
      const int sys = transposed ? UMFPACK_At : UMFPACK_A;
      const int workers = scope.threads();
      // UMFPACK's solve calls BLAS-2 kernels. We parallelise over columns, so
      // BLAS runs single-threaded inside: no nested oversubscription, and each
      // column's arithmetic (hence its last bit) does not depend on the thread
      // count (multi-threaded OpenBLAS dgemv splits its sums differently).
      SerialBlas serial_blas;
      // One chunk of columns per thread, each with its own workspace: the
      // Numeric object is only read by wsolve, so the solves are independent.
      const Index chunks = std::min<Index>(workers, m);
      parallel_for(0, chunks, workers, [&](std::int64_t chunk) {
        std::vector<SuiteSparse_long> Wi(static_cast<size_t>(n));
        std::vector<double> W(5 * static_cast<size_t>(n));
        double info[UMFPACK_INFO];
        for (Index col = chunk; col < m; col += chunks) {
          int status = umfpack_dl_wsolve(sys, Ap, Ai, IminusA.valuePtr(), X.col(col).data(), B.col(col).data(),
                                         numeric, control, info, Wi.data(), W.data());
          if (status != UMFPACK_OK)
            throw NumericError(detail::concat("UMFPACK solve failed (status ", status, ")"));
        }
      });
    }
    return X;
  }

  /// Whether auto should hand m right-hand sides to dense LU rather than sweeps.
  bool prefer_direct(Index m) const {
    if (options.kind != SolverKind::Auto || !iterative) return false;
    if (n > 20000) return false;  // n^2 doubles would not fit the memory budget; sweeps stay O(nnz)
    double sweeps = kAssumedSweeps;
    {
      std::lock_guard<std::mutex> lock(diag_mutex);
      if (iterative_solves > 0)
        sweeps = 2.0 + static_cast<double>(diag.total_iterations) / static_cast<double>(iterative_solves);
    }
    const double nd = static_cast<double>(n), md = static_cast<double>(m);
    const double per_sweep = 2.0 * static_cast<double>(fwd.nnz()) + 4.0 * nd * static_cast<double>(P.bs);
    const double iterative_flops = sweeps * per_sweep * md;
    const double dense_flops = ((direct == SolverKind::DenseLU ? 0.0 : 2.0 / 3.0 * nd * nd * nd) + 2.0 * nd * nd * md) /
                               kDenseSpeedup;
    return dense_flops < iterative_flops;
  }

  iterative::Operator make_operator(bool transposed) const {
    iterative::Operator op;
    op.off = &off(transposed);
    op.M = &P;
    op.transposed = transposed;
    op.threads = options.threads;
    op.n = n;
    op.norm_IA = 1.0 + (transposed ? col_abs_sum_max : row_abs_sum_max);
    return op;
  }

  /// The backward error of a direct answer when only the iterative split of A is kept.
  double split_residual(const Eigen::Ref<const Matrix>& B, const Matrix& X, bool transposed) const {
    using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const RowMat Bb = B, Xb = X;
    RowMat R(n, B.cols()), scratch(n, B.cols());
    const iterative::Operator op = make_operator(transposed);
    op.residual(Bb.data(), Xb.data(), R.data(), B.cols(), scratch.data());
    return iterative::backward_error(op, Bb.data(), Xb.data(), R.data(), B.cols());
  }

  const kernels::Csr& off(bool transposed) const {
    if (!transposed) return fwd;
    std::call_once(bwd_once, [&] { bwd = kernels::transpose(fwd); });
    return bwd;
  }

  /// Iterative solve of one batch; throws or falls back per options. X0 may be null.
  Matrix iterative_solve(const Eigen::Ref<const Matrix>& B, const Matrix* X0, bool transposed, SolverKind& used,
                         double& worst_relative, double& backward, Index& iterations) const {
    const Index m = B.cols();
    const iterative::Operator op = make_operator(transposed);
    iterative::Settings st{options.tolerance, options.max_iterations, options.restart};
    const SolverKind kind = diag.kind;
    // Row-major work blocks (kernels.hpp); columns in batches within the memory budget.
    // A shorter GMRES basis (down to 10) before splitting the columns into
    // batches: a batch streams A once per sweep again, and the block-Jacobi
    // preconditioned iteration usually converges within 10-15 sweeps anyway.
    const double column_bytes = 8.0 * static_cast<double>(n);
    if (kind == SolverKind::GMRES) {
      const auto fits = static_cast<Index>(kIterativeWorkBytes / (column_bytes * static_cast<double>((m + 3) / 4 * 4))) - 5;
      st.restart = std::min(st.restart, std::max<Index>(fits, 10));
    }
    const double per_column = column_bytes * static_cast<double>(kind == SolverKind::GMRES ? st.restart + 5 : 4);
    const Index batch = std::clamp<Index>(static_cast<Index>(kIterativeWorkBytes / per_column), 1, std::max<Index>(m, 1));
    Matrix X(n, m);
    iterations = 0;
    worst_relative = 0;
    backward = 0;
    used = kind;
    std::string failure;
    for (Index c0 = 0; c0 < m; c0 += batch) {
      const Index mb = std::min(batch, m - c0);
      using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      // Padded to a multiple of 4 columns with zeros (answer 0, converged at
      // once): the kernel's rows are then whole SIMD vectors.
      const Index mp = (mb + 3) / 4 * 4;
      RowMat Bb = RowMat::Zero(n, mp), Xb = RowMat::Zero(n, mp);
      Bb.leftCols(mb) = B.middleCols(c0, mb);
      if (X0) Xb.leftCols(mb) = X0->middleCols(c0, mb);
      const iterative::Result r =
          kind == SolverKind::GMRES ? iterative::gmres(op, Bb.data(), Xb.data(), mp, st, X0 == nullptr)
                                    : iterative::power_series(op, Bb.data(), Xb.data(), mp, st);
      iterations = std::max(iterations, r.iterations);
      {
        std::lock_guard<std::mutex> lock(diag_mutex);
        diag.total_iterations += r.iterations;
      }
      if (!r.converged) {
        failure = detail::concat(
            to_string(kind), " did not converge: ", r.why, " after ", r.iterations, " iterations (max_iterations ",
            options.max_iterations, "); relative residual reached ", r.relative_residual, " > tolerance ",
            options.tolerance, "; residual reduction per iteration ", r.reduction_per_iteration,
            r.reduction_per_iteration > 0.99 ? " (near 1: the spectral radius of the iteration is near 1, I - A is "
                                               "nearly singular)"
                                             : "");
        break;
      }
      // A looser tolerance than max_residual is the user's explicit choice.
      const double allowed = std::max(options.max_residual, options.tolerance);
      if (!(r.backward_error <= allowed))
        throw NumericError(detail::concat("Leontief solve is inaccurate: relative residual ", r.backward_error,
                                          " exceeds ", allowed, " although ", to_string(kind),
                                          " reached its tolerance; I - A is (nearly) singular"));
      X.middleCols(c0, mb) = Xb.leftCols(mb);
      worst_relative = std::max(worst_relative, r.relative_residual);
      backward = std::max(backward, r.backward_error);
    }
    {
      std::lock_guard<std::mutex> lock(diag_mutex);
      diag.kernel_seconds += op.kernel_seconds;
      diag.preconditioner_seconds += op.preconditioner_seconds;
      ++iterative_solves;
    }
    if (failure.empty()) return X;
    if (!options.fallback)
      throw NumericError(failure + "; not returning an unconverged answer (use a direct solver, e.g. "
                                   "solver \"dense\" or \"umfpack\", or enable fallback)");
    // Finish with a direct solver: an unconverged answer is never returned.
    const SolverKind d = choose(n, nnz);
    ensure_direct(d);
    {
      std::lock_guard<std::mutex> lock(diag_mutex);
      diag.fell_back = true;
      diag.fallback_reason = failure;
    }
    used = direct;
    Matrix Xd = direct_solve(B, transposed);
    worst_relative = -1;  // measured by the caller
    backward = -1;
    return Xd;
  }

  Matrix solve(const Eigen::Ref<const Matrix>& B, const Eigen::Ref<const Matrix>* X0, bool transposed) const {
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
    SolverKind used = direct;
    double rel2 = -1, residual = 0;
    Index iterations = 0;
    if (iterative && !prefer_direct(m)) {
      X = iterative_solve(B, X0 ? &guess : nullptr, transposed, used, rel2, residual, iterations);
    } else {
      if (iterative) ensure_direct(SolverKind::DenseLU);  // auto: many right-hand sides
      used = direct;
      X = direct_solve(B, transposed);
    }
    // Iterative answers were checked on their own true residual (computed
    // with the split I - A = M - A_T); direct ones here.
    if (!is_iterative(used)) {
      residual = used == SolverKind::DenseLU && m > kProbeColumns ? probed_residual(B, X, transposed)
                 : A.rows() == n                                  ? relative_residual(B, X, transposed)
                                                                  : split_residual(B, X, transposed);
      if (!(residual <= options.max_residual))
        throw NumericError(detail::concat("Leontief solve is inaccurate: relative residual ", residual,
                                          " exceeds ", options.max_residual,
                                          "; I - A is (nearly) singular (reciprocal condition estimate ",
                                          diag.rcond_estimate, ")"));
    }
    std::lock_guard<std::mutex> lock(diag_mutex);
    diag.solve_seconds += seconds_since(t0);
    diag.rhs_solved += m;
    diag.last_kind = used;
    diag.iterations = is_iterative(used) ? iterations : 0;
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
    const Index m = B.cols();
    const double norm_IA = 1.0 + (transposed ? col_abs_sum_max : row_abs_sum_max);
    Matrix W(m, kProbeColumns);
    std::mt19937_64 rng(20261203);
    std::normal_distribution<double> gauss;
    for (Index j = 0; j < m; ++j) {
      const double scale = norm_IA * X.col(j).cwiseAbs().maxCoeff() + B.col(j).cwiseAbs().maxCoeff();
      if (!std::isfinite(scale)) return INFINITY;  // an overflowed or NaN column is no answer
      for (Index p = 0; p < kProbeColumns; ++p) W(j, p) = scale > 0 ? gauss(rng) / scale : 0.0;
    }
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
      using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const RowMat Bb = Bp, Xb = Xp;
      RowMat R(n, kProbeColumns), scratch(n, kProbeColumns);
      make_operator(transposed).residual(Bb.data(), Xb.data(), R.data(), kProbeColumns, scratch.data());
      Rp = R;
    }
    double worst = 0;
    for (Index i = 0; i < Rp.size(); ++i) worst = std::max(worst, std::isnan(Rp.data()[i]) ? INFINITY : std::abs(Rp.data()[i]));
    return worst;
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
      std::call_once(check_once[t], [&] { check_csr[t] = kernels::offdiagonal_csr(A, 0, transposed); });
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

  void init(const SparseMatrix& A_in, const SolverOptions& opts) {
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
    check_finite(A_in, "A");
    options = opts;
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
    if (opts.kind == SolverKind::Auto) {
      diag.kind = choose(n, nnz, opts.block_size, &diag.reason);
    } else {
      diag.kind = opts.kind;
      diag.reason = "requested";
    }
    iterative = is_iterative(diag.kind);
    ThreadScope scope(opts.threads);
    diag.threads = scope.threads();
    const auto t0 = Clock::now();
    if (iterative) {
      // The split I - A = M - A_T: only A_T's rows (12 bytes per nonzero) and
      // the diagonal blocks are kept. (The kernels read the CSC arrays directly.)
      SparseMatrix compressed;
      if (!A_in.isCompressed()) {
        compressed = A_in;
        compressed.makeCompressed();
      }
      const SparseMatrix& Ac = A_in.isCompressed() ? A_in : compressed;
      P = kernels::BlockJacobi::build(Ac, opts.block_size);
      fwd = kernels::offdiagonal_csr(Ac, opts.block_size, false);
      diag.preconditioner = opts.block_size > 0 ? detail::concat("block-Jacobi, ", P.blocks, " blocks of ", P.bs)
                                                : std::string("none");
      diag.factor_seconds = seconds_since(t0);
    } else if (n > 0) {
      A = A_in;
      A.makeCompressed();
      ensure_direct(diag.kind);
    }
  }
};

LeontiefSolver::LeontiefSolver(const SparseMatrix& A, SolverOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->init(A, options);
}

LeontiefSolver::LeontiefSolver(const MrioSystem& system, SolverOptions options) : impl_(std::make_unique<Impl>()) {
  // Each region's domestic block preconditions the iterative solvers, unless
  // the blocks are too big to store densely (e.g. a firm network's regions).
  if (options.block_size == 0 && system.R() > 1 &&
      16.0 * static_cast<double>(system.n()) * static_cast<double>(system.N()) <= kMaxPreconditionerBytes / 4)
    options.block_size = system.N();
  impl_->init(system.A(), options);
}

LeontiefSolver::~LeontiefSolver() = default;
LeontiefSolver::LeontiefSolver(LeontiefSolver&&) noexcept = default;
LeontiefSolver& LeontiefSolver::operator=(LeontiefSolver&&) noexcept = default;

Index LeontiefSolver::n() const { return impl_->n; }

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
  // Only a factorisation made at construction: a lazily built one (iterative
  // solvers' fallback) could appear while another thread reads.
  if (impl_->iterative || impl_->direct != SolverKind::DenseLU || impl_->lu.size() == 0) return std::nullopt;
  return DenseLuView{impl_->n, impl_->lu.data(), impl_->ipiv.data()};
}

}  // namespace mriotrace
