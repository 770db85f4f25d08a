// Sparse LU: SuiteSparse UMFPACK. analyse = umfpack_dl_symbolic (column
// ordering, frontal-matrix tree) on the pattern of I - A; factor = refactor =
// umfpack_dl_numeric with that Symbolic object, which UMFPACK only reads, so
// one analysis serves every factorisation of the same pattern (refactored
// solvers on several threads at once included). Solves run the columns of a
// block in parallel, each with its own workspace.
#include <umfpack.h>

#include <algorithm>

#include "backend.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"

namespace mriotrace::solvers {
namespace {

/// The Symbolic object and the pattern it was computed for (immutable).
struct Analysis {
  std::vector<std::int64_t> Ap, Ai;  // pattern of I - A
  void* symbolic = nullptr;
  double control[UMFPACK_CONTROL];
  ~Analysis() {
    if (symbolic) umfpack_dl_free_symbolic(&symbolic);
  }
};

class Umfpack final : public Backend {
 public:
  Umfpack(const SolverOptions& options, std::shared_ptr<const Analysis> analysis)
      : Backend(options), analysis_(std::move(analysis)) {}
  ~Umfpack() override {
    if (numeric) umfpack_dl_free_numeric(&numeric);
  }
  SolverKind kind() const override { return SolverKind::SparseLU; }

  void analyse(const SparseMatrix& A) override {
    IminusA m = i_minus(A);
    auto a = std::make_shared<Analysis>();
    umfpack_dl_defaults(a->control);
    double info[UMFPACK_INFO];
    const Index n = A.rows();
    const int status = umfpack_dl_symbolic(n, n, m.Ap.data(), m.Ai.data(), m.Ax.data(), &a->symbolic, a->control, info);
    if (status != UMFPACK_OK)
      throw NumericError(detail::concat("UMFPACK symbolic analysis of I - A failed (status ", status, ")"));
    a->Ap = std::move(m.Ap);
    a->Ai = std::move(m.Ai);
    analysis_ = std::move(a);
    Ax = std::move(m.Ax);  // the values are those of this A: factor() need not rebuild them
    values_of = &A;
  }

  bool same_pattern(const SparseMatrix& A) const override {
    if (!analysis_) return false;
    const IminusA m = i_minus(A);
    return m.Ap == analysis_->Ap && m.Ai == analysis_->Ai;
  }

  void factor(const Source& src) override {
    MRIOTRACE_CHECK(analysis_, "UMFPACK: factor() before analyse()");
    if (values_of != src.A || Ax.empty()) {
      const SparseMatrix whole = src.A ? SparseMatrix() : src.whole();
      Ax = i_minus(src.A ? *src.A : whole).Ax;
    }
    values_of = nullptr;
    MRIOTRACE_CHECK(Ax.size() == analysis_->Ai.size(), "UMFPACK: I - A has ", Ax.size(),
                    " stored entries; the analysed pattern has ", analysis_->Ai.size());
    if (numeric) umfpack_dl_free_numeric(&numeric);
    double info[UMFPACK_INFO];
    int status;
    {
      // Serial BLAS inside UMFPACK: multi-threaded OpenBLAS changes the
      // summation order in the frontal-matrix updates, so the factors (and
      // every answer) would differ in the last bit between thread counts.
      SerialBlas serial_blas;
      status = umfpack_dl_numeric(analysis_->Ap.data(), analysis_->Ai.data(), Ax.data(), analysis_->symbolic, &numeric,
                                  analysis_->control, info);
    }
    if (status == UMFPACK_WARNING_singular_matrix)
      throw NumericError("I - A is singular (UMFPACK found a zero pivot); the system is not productive");
    if (status == UMFPACK_ERROR_out_of_memory)
      throw NumericError("UMFPACK ran out of memory factoring I - A; the factors fill in too much");
    if (status != UMFPACK_OK)
      throw NumericError(detail::concat("UMFPACK numeric factorisation of I - A failed (status ", status, ")"));
    rcond_ = info[UMFPACK_RCOND];
  }

  std::unique_ptr<Backend> share_analysis() const override { return std::make_unique<Umfpack>(options_, analysis_); }

  SolveReport solve(const Eigen::Ref<const Matrix>& B, const Matrix*, bool transposed, Matrix& X) const override {
    const Index n = B.rows(), m = B.cols();
    X = B;
    ThreadScope scope(options_.threads);
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
        const int status = umfpack_dl_wsolve(sys, analysis_->Ap.data(), analysis_->Ai.data(), Ax.data(),
                                             X.col(col).data(), B.col(col).data(), numeric, analysis_->control, info,
                                             Wi.data(), W.data());
        if (status != UMFPACK_OK) throw NumericError(detail::concat("UMFPACK solve failed (status ", status, ")"));
      }
    });
    return {};
  }

  double rcond() const override { return rcond_; }

 private:
  std::shared_ptr<const Analysis> analysis_;
  std::vector<double> Ax;                  // values of I - A on the analysed pattern
  const SparseMatrix* values_of = nullptr;  // the A whose values Ax holds since analyse()
  void* numeric = nullptr;
  double rcond_ = -1;
};

}  // namespace

std::unique_ptr<Backend> make_umfpack(const SolverOptions& options) { return std::make_unique<Umfpack>(options, nullptr); }

}  // namespace mriotrace::solvers
