// Sparse LU without BLAS: SuiteSparse KLU (block triangular form, AMD
// ordering, left-looking LU with partial pivoting). analyse = klu_l_analyze
// on the pattern of I - A; factor = klu_l_factor with that Symbolic object;
// refactor = klu_l_refactor, which keeps the pivot sequence of the last
// factorisation (the expensive search skipped) and falls back to a fresh
// klu_l_factor when the new pivots are much worse. Serial, so results do not
// depend on the thread count.
#include <klu.h>

#include <mutex>
#include <type_traits>

#include "backend.hpp"
#include "mriotrace/error.hpp"

namespace mriotrace::solvers {
namespace {

static_assert(std::is_same_v<SuiteSparse_long, std::int64_t>, "KLU's 64-bit index type is std::int64_t here");

/// After klu_refactor, pivots whose reciprocal condition estimate fell below
/// this fraction of the last full factorisation's are replaced by a fresh
/// factorisation with partial pivoting (same analysis).
constexpr double kRepivotRatio = 1e-3;

/// The Symbolic object and the pattern it was computed for. KLU's calls take
/// it by non-const pointer, so every call that reads it holds the mutex (KLU
/// runs serially anyway).
struct Analysis {
  std::vector<std::int64_t> Ap, Ai;  // pattern of I - A
  klu_l_common common;
  klu_l_symbolic* symbolic = nullptr;
  mutable std::mutex mutex;
  ~Analysis() {
    if (symbolic) klu_l_free_symbolic(&symbolic, &common);
  }
};

class Klu final : public Backend {
 public:
  Klu(const SolverOptions& options, std::shared_ptr<Analysis> analysis)
      : Backend(options), analysis_(std::move(analysis)) {}
  ~Klu() override {
    if (numeric) {
      std::lock_guard<std::mutex> lock(analysis_->mutex);
      klu_l_free_numeric(&numeric, &common);
    }
  }
  SolverKind kind() const override { return SolverKind::KLU; }

  void analyse(const SparseMatrix& A) override {
    IminusA m = i_minus(A);
    auto a = std::make_shared<Analysis>();
    klu_l_defaults(&a->common);
    a->symbolic = klu_l_analyze(A.rows(), m.Ap.data(), m.Ai.data(), &a->common);
    if (!a->symbolic)
      throw NumericError(detail::concat("KLU symbolic analysis of I - A failed (status ", a->common.status, ")"));
    a->Ap = std::move(m.Ap);
    a->Ai = std::move(m.Ai);
    if (numeric) {  // factored for another analysis: free it with that one
      std::lock_guard<std::mutex> lock(analysis_->mutex);
      klu_l_free_numeric(&numeric, &common);
    }
    analysis_ = std::move(a);
  }

  bool same_pattern(const SparseMatrix& A) const override {
    if (!analysis_) return false;
    const IminusA m = i_minus(A);
    return m.Ap == analysis_->Ap && m.Ai == analysis_->Ai;
  }

  void factor(const Source& src) override {
    MRIOTRACE_CHECK(analysis_, "KLU: factor() before analyse()");
    std::vector<double> Ax = values(src);
    std::lock_guard<std::mutex> lock(analysis_->mutex);
    full_factor(Ax);
  }

  void refactor(const Source& src) override {
    MRIOTRACE_CHECK(analysis_, "KLU: refactor() before analyse()");
    std::vector<double> Ax = values(src);
    std::lock_guard<std::mutex> lock(analysis_->mutex);
    if (!numeric) return full_factor(Ax);
    const auto ok = klu_l_refactor(analysis_->Ap.data(), analysis_->Ai.data(), Ax.data(), analysis_->symbolic, numeric,
                                   &common);
    if (ok) klu_l_rcond(analysis_->symbolic, numeric, &common);
    if (!ok || !(common.rcond >= kRepivotRatio * pivoted_rcond_)) return full_factor(Ax);
    rcond_ = common.rcond;
  }

  std::unique_ptr<Backend> share_analysis() const override { return std::make_unique<Klu>(options_, analysis_); }

  SolveReport solve(const Eigen::Ref<const Matrix>& B, const Matrix*, bool transposed, Matrix& X) const override {
    const Index n = B.rows(), m = B.cols();
    X = B;
    // All columns in one call (KLU works through them four at a time); serial,
    // so the answer does not depend on the thread count. KLU's solves use
    // workspace inside the Numeric object: one at a time.
    std::lock_guard<std::mutex> lock(analysis_->mutex);
    klu_l_common c = common;
    const auto ok = transposed ? klu_l_tsolve(analysis_->symbolic, numeric, n, m, X.data(), &c)
                               : klu_l_solve(analysis_->symbolic, numeric, n, m, X.data(), &c);
    if (!ok) throw NumericError(detail::concat("KLU solve failed (status ", c.status, ")"));
    return {};
  }

  double rcond() const override { return rcond_; }

 private:
  std::vector<double> values(const Source& src) const {
    IminusA m = src.A ? i_minus(*src.A) : i_minus(src.whole());
    MRIOTRACE_CHECK(m.Ap == analysis_->Ap && m.Ai == analysis_->Ai,
                    "KLU: I - A does not have the analysed pattern (", m.Ai.size(), " stored entries; analysed ",
                    analysis_->Ai.size(), ")");
    return std::move(m.Ax);
  }

  /// klu_l_factor with partial pivoting (the analysis' mutex held).
  void full_factor(std::vector<double>& Ax) {
    if (numeric) klu_l_free_numeric(&numeric, &common);
    common = analysis_->common;
    numeric = klu_l_factor(analysis_->Ap.data(), analysis_->Ai.data(), Ax.data(), analysis_->symbolic, &common);
    if (!numeric || common.status == KLU_SINGULAR)
      throw NumericError(common.status == KLU_SINGULAR
                             ? std::string("I - A is singular (KLU found a zero pivot); the system is not productive")
                         : common.status == KLU_OUT_OF_MEMORY
                             ? std::string("KLU ran out of memory factoring I - A; the factors fill in too much")
                             : detail::concat("KLU numeric factorisation of I - A failed (status ", common.status, ")"));
    // KLU's cheap estimate min |U_ii| / max |U_ii| (klu_l_condest would cost solves).
    klu_l_rcond(analysis_->symbolic, numeric, &common);
    rcond_ = pivoted_rcond_ = common.rcond;
  }

  std::shared_ptr<Analysis> analysis_;
  klu_l_common common;  // this factorisation's settings and statistics
  klu_l_numeric* numeric = nullptr;
  double rcond_ = -1, pivoted_rcond_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_klu(const SolverOptions& options) { return std::make_unique<Klu>(options, nullptr); }

}  // namespace mriotrace::solvers
