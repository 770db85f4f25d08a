// Draw blocks: several Monte Carlo draws of one system solved side by side
// (API and formulas: montecarlo.hpp; guide: docs/hpc.md).
//
// Why: a draw's warm-started solve is a few Richardson iterations, each one
// product with the draw's A' and one solve with the base LU (kept in float:
// a preconditioner need not be exact, and it halves the bytes streamed). For one draw both
// are matrix-vector work: the n^2 doubles of the LU and the nonzeros of A are
// streamed from memory for a single right-hand side, and memory bandwidth is
// the limit. Side by side, kLanes draws share every byte of the LU and of A's
// values and pattern; only each draw's factors (a float per nonzero) are its
// own. On the EXIOBASE-scale benchmark that is ~6x less memory traffic per draw.
//
// Lanes: block vectors are n x kLanes row-major (X[i * kLanes + g]). Every
// kernel keeps lane g's arithmetic to itself, in a fixed order with explicit
// fused multiply-adds, so a lane's result is bitwise the same whatever the
// other lanes hold and whichever code path (AVX-512, AVX2+FMA, scalar) ran.
// That is what makes a draw's result independent of how draws are grouped
// (threads, MPI ranks, shards, resumed runs). This file is compiled with
// -ffp-contract=off so the compiler adds no fusions of its own.
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <limits>
#include <vector>

#include "kernels.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/montecarlo.hpp"
#include "montecarlo_detail.hpp"
#include "simd.hpp"

namespace mriotrace {
namespace detail::mc {
namespace {

/// e^x for the log-normal factors, from the IEEE operations below only (no
/// libm), so the vectorised and scalar loops give the same bits. Range
/// reduction x = k ln2 + r, |r| <= ln2/2 (+ rounding), then Taylor to degree 12
/// (truncation < 3e-16 relative); the factor is rounded to float anyway.
[[gnu::always_inline]] inline double exp_det(double x) {
  x = std::max(-708.0, std::min(709.0, x));  // keeps k in the exponent range
  // k = round(x / ln 2) by the 1.5 * 2^52 shift (no floor: it would block vectorisation).
  const double k = (x * 1.4426950408889634 + 0x1.8p52) - 0x1.8p52;
  double r = std::fma(-k, 6.93147180369123816490e-01, x);  // ln 2, high part
  r = std::fma(-k, 1.90821492927058770002e-10, r);         // ln 2, low part
  double p = 1.0 / 479001600;
  p = std::fma(p, r, 1.0 / 39916800);
  p = std::fma(p, r, 1.0 / 3628800);
  p = std::fma(p, r, 1.0 / 362880);
  p = std::fma(p, r, 1.0 / 40320);
  p = std::fma(p, r, 1.0 / 5040);
  p = std::fma(p, r, 1.0 / 720);
  p = std::fma(p, r, 1.0 / 120);
  p = std::fma(p, r, 1.0 / 24);
  p = std::fma(p, r, 1.0 / 6);
  p = std::fma(p, r, 0.5);
  p = std::fma(p, r, 1.0);
  p = std::fma(p, r, 1.0);
  const std::uint64_t bits = static_cast<std::uint64_t>(static_cast<std::int64_t>(k) + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/// Factors of one column's entries for L lanes (stream keys `keys`),
/// interleaved: out[i * L + g] for entry i of the column (rows `rows`),
/// constant (mu, sigma). The lanes are the vector dimension (same row and
/// column, other key), so the results go out as contiguous runs. Chunks of
/// 64 values go through vectorisable loops; the ~5 % of u in the quantile's
/// tails are redone with the scalar tail formula.
template <int L>
[[gnu::always_inline]] inline void column_factors(const std::uint64_t* keys, const Index* rows, Index count,
                                                  std::uint64_t col, double mu, double sigma, float* out) {
  constexpr Index kEntries = 64 / L;  // entries per chunk
  alignas(64) double u[64], z[64];
  for (Index base = 0; base < count; base += kEntries) {
    const Index m = std::min(kEntries, count - base) * L;
    for (Index i = 0; i < m / L; ++i) {
      const std::uint64_t row = static_cast<std::uint64_t>(rows[base + i]);
      for (int g = 0; g < L; ++g) u[i * L + g] = entry_uniform(keys[g], row, col);
    }
    for (Index t = 0; t < m; ++t) z[t] = quantile_central(u[t]);
    for (Index t = 0; t < m; ++t)
      if (quantile_in_tail(u[t])) z[t] = quantile_tail(u[t]);
    float* o = out + base * L;
    for (Index t = 0; t < m; ++t) o[t] = static_cast<float>(exp_det(mu + sigma * z[t]));
  }
}

/// Factors of `lanes` draws (stream keys; used[g] false: an unused lane,
/// factor 0), interleaved: out[q * lanes + g], column by column.
template <int L>
[[gnu::always_inline]] inline void factors_lanes(const SparseMatrix& M, const FactorOf& factor,
                                                 const std::uint64_t* keys, const bool* used, float* out) {
  const Index* outer = M.outerIndexPtr();
  const Index* inner = M.innerIndexPtr();
  const double* values = M.valuePtr();
  double mu0 = 0, sigma0 = 0;
  factor.params(1.0, mu0, sigma0);
  for (Index j = 0; j < M.outerSize(); ++j) {
    const Index q0 = outer[j], count = outer[j + 1] - q0;
    float* o = out + q0 * L;
    if (factor.constant()) {
      column_factors<L>(keys, inner + q0, count, static_cast<std::uint64_t>(j), mu0, sigma0, o);
    } else {
      for (Index i = 0; i < count; ++i) {  // size rule: (mu, sigma) per entry
        double mu = 0, sigma = 0;
        factor.params(values[q0 + i], mu, sigma);
        for (int g = 0; g < L; ++g) {
          const double u = entry_uniform(keys[g], static_cast<std::uint64_t>(inner[q0 + i]), static_cast<std::uint64_t>(j));
          const double z = quantile_in_tail(u) ? quantile_tail(u) : quantile_central(u);
          o[i * L + g] = static_cast<float>(exp_det(mu + sigma * z));
        }
      }
    }
    for (int g = 0; g < L; ++g)
      if (!used[g])
        for (Index i = 0; i < count; ++i) o[i * L + g] = 0.0f;
  }
}

[[gnu::always_inline]] inline void factors_impl(const SparseMatrix& M, const FactorOf& factor,
                                                const std::uint64_t* keys, const bool* used, Index lanes, float* out) {
  if (lanes == kDrawLanes) return factors_lanes<kDrawLanes>(M, factor, keys, used, out);
  MRIOTRACE_CHECK(lanes == 1, "sparse_factors: ", lanes, " lanes; expected 1 or ", kDrawLanes);
  factors_lanes<1>(M, factor, keys, used, out);
}

/// The factor loops are plain C++; compiled once per instruction set, the
/// compiler vectorises them (the same IEEE operations on every path).
template <class Isa>
[[gnu::always_inline]] inline void factors_isa(const SparseMatrix& M, const FactorOf& f, const std::uint64_t* keys,
                                               const bool* used, Index lanes, float* out) {
  factors_impl(M, f, keys, used, lanes, out);
}
MRIOTRACE_SIMD_LOOP_VARIANTS(void, factors, factors_isa,
                        (const SparseMatrix& M, const FactorOf& f, const std::uint64_t* keys, const bool* used,
                         Index lanes, float* out),
                        (M, f, keys, used, lanes, out))

}  // namespace

void sparse_factors(const SparseMatrix& M, const CvSpec& spec, const std::uint64_t* keys, const bool* used,
                    Index lanes, float* out) {
  MRIOTRACE_CHECK(M.isCompressed(), "sparse_factors: expected a compressed matrix");
  const Index nnz = M.nonZeros();
  if (!spec.active()) {
    for (Index q = 0; q < nnz; ++q)
      for (Index g = 0; g < lanes; ++g) out[q * lanes + g] = used[g] ? 1.0f : 0.0f;
    return;
  }
  // The size rule needs the magnitude range; a global CV does not (one pass over the values less).
  const auto [lo, hi] = spec.size_rule ? magnitude_range(M.valuePtr(), nnz) : std::pair<double, double>{0.0, 0.0};
  const FactorOf factor(spec, lo, hi);
  simd::pick(simd::level(), factors_avx512, factors_avx2, factors_scalar)(M, factor, keys, used, lanes, out);
}

}  // namespace detail::mc

namespace {

using namespace detail::mc;
constexpr int kLanes = kDrawLanes;

// ---------------------------------------------------------------------------
// Kernels on n x kLanes blocks. Every lane is an independent computation.
//
// A lane vector V (the SIMD layer's Isa::V8, simd.hpp) holds kLanes = 8
// doubles: one AVX-512 register, two AVX2 registers, or a plain array. Its
// operations are exact IEEE operations per lane, so all three give the same bits.

static_assert(kLanes == 8, "the lane vectors hold 8 doubles");

/// R = B - X + op(A') X with A'_q = a_q * f[q * kLanes + g] for lane g;
/// `inner`: A's row indices as 32-bit integers (4 bytes less to stream per nonzero).
template <class V>
[[gnu::always_inline]] inline void residual_impl(const SparseMatrix& A, const std::int32_t* inner, const float* f,
                                                 const double* B, const double* X, double* R, bool transposed) {
  const Index n = A.cols();
  const Index* outer = A.outerIndexPtr();
  const double* val = A.valuePtr();
  if (transposed) {
    // Column j of A' is row j of A'^T: a dot product per lane, rows in stored
    // order. Two columns at a time: two independent accumulator chains.
    Index j = 0;
    for (; j + 2 <= n; j += 2) {
      V acc0 = V::set1(0.0), acc1 = V::set1(0.0);
      for (Index q = outer[j]; q < outer[j + 1]; ++q)
        acc0 = V::fmadd(V::set1(val[q]) * V::loadf(f + q * kLanes), V::load(X + Index(inner[q]) * kLanes), acc0);
      for (Index q = outer[j + 1]; q < outer[j + 2]; ++q)
        acc1 = V::fmadd(V::set1(val[q]) * V::loadf(f + q * kLanes), V::load(X + Index(inner[q]) * kLanes), acc1);
      ((V::load(B + j * kLanes) - V::load(X + j * kLanes)) + acc0).store(R + j * kLanes);
      ((V::load(B + (j + 1) * kLanes) - V::load(X + (j + 1) * kLanes)) + acc1).store(R + (j + 1) * kLanes);
    }
    for (; j < n; ++j) {
      V acc = V::set1(0.0);
      for (Index q = outer[j]; q < outer[j + 1]; ++q)
        acc = V::fmadd(V::set1(val[q]) * V::loadf(f + q * kLanes), V::load(X + Index(inner[q]) * kLanes), acc);
      ((V::load(B + j * kLanes) - V::load(X + j * kLanes)) + acc).store(R + j * kLanes);
    }
    return;
  }
  // A' X: column j of A' scaled by x_j added into the rows it touches; each
  // output row receives its terms in column order.
  std::fill(R, R + n * kLanes, 0.0);
  for (Index j = 0; j < n; ++j) {
    const V xj = V::load(X + j * kLanes);
    for (Index q = outer[j]; q < outer[j + 1]; ++q) {
      double* r = R + Index(inner[q]) * kLanes;
      V::fmadd(V::set1(val[q]) * V::loadf(f + q * kLanes), xj, V::load(r)).store(r);
    }
  }
  for (Index i = 0; i < n; ++i)
    ((V::load(B + i * kLanes) - V::load(X + i * kLanes)) + V::load(R + i * kLanes)).store(R + i * kLanes);
}

/// In place: X <- (I - A0)^-T X with P (I - A0) = L U, i.e. U^T y = x,
/// L^T w = y, x = P^T w. Dot-product form (U^T's rows are U's columns,
/// contiguous), four rows at a time for independent chains; each row sums
/// its terms in a fixed order (U^T: k ascending; L^T: k descending).
template <class V, class T>
[[gnu::always_inline]] inline void lu_solve_t_impl(const T* lu, const int* ipiv, Index n, double* X) {
  const auto c = [](T v) { return V::set1(static_cast<double>(v)); };
  // U^T y = x.
  Index i = 0;
  for (; i + 4 <= n; i += 4) {
    const T *c0 = lu + i * n, *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;  // U[k, i + t] = c_t[k]
    V a0 = V::load(X + i * kLanes), a1 = V::load(X + (i + 1) * kLanes), a2 = V::load(X + (i + 2) * kLanes),
      a3 = V::load(X + (i + 3) * kLanes);
    for (Index k = 0; k < i; ++k) {
      const V y = V::load(X + k * kLanes);
      a0 = V::fnmadd(c(c0[k]), y, a0);
      a1 = V::fnmadd(c(c1[k]), y, a1);
      a2 = V::fnmadd(c(c2[k]), y, a2);
      a3 = V::fnmadd(c(c3[k]), y, a3);
    }
    a0 = a0 / c(c0[i]);
    a1 = V::fnmadd(c(c1[i]), a0, a1) / c(c1[i + 1]);
    a2 = V::fnmadd(c(c2[i + 1]), a1, V::fnmadd(c(c2[i]), a0, a2)) / c(c2[i + 2]);
    a3 = V::fnmadd(c(c3[i + 2]), a2, V::fnmadd(c(c3[i + 1]), a1, V::fnmadd(c(c3[i]), a0, a3))) / c(c3[i + 3]);
    a0.store(X + i * kLanes);
    a1.store(X + (i + 1) * kLanes);
    a2.store(X + (i + 2) * kLanes);
    a3.store(X + (i + 3) * kLanes);
  }
  for (; i < n; ++i) {
    const T* ci = lu + i * n;
    V a = V::load(X + i * kLanes);
    for (Index k = 0; k < i; ++k) a = V::fnmadd(c(ci[k]), V::load(X + k * kLanes), a);
    (a / c(ci[i])).store(X + i * kLanes);
  }
  // L^T w = y (unit diagonal), rows from the bottom.
  Index top = n - 1;
  for (; top >= 3; top -= 4) {
    const T *c0 = lu + top * n, *c1 = c0 - n, *c2 = c1 - n, *c3 = c2 - n;  // L[k, top - t] = c_t[k]
    V a0 = V::load(X + top * kLanes), a1 = V::load(X + (top - 1) * kLanes), a2 = V::load(X + (top - 2) * kLanes),
      a3 = V::load(X + (top - 3) * kLanes);
    for (Index k = n - 1; k > top; --k) {
      const V w = V::load(X + k * kLanes);
      a0 = V::fnmadd(c(c0[k]), w, a0);
      a1 = V::fnmadd(c(c1[k]), w, a1);
      a2 = V::fnmadd(c(c2[k]), w, a2);
      a3 = V::fnmadd(c(c3[k]), w, a3);
    }
    a1 = V::fnmadd(c(c1[top]), a0, a1);
    a2 = V::fnmadd(c(c2[top - 1]), a1, V::fnmadd(c(c2[top]), a0, a2));
    a3 = V::fnmadd(c(c3[top - 2]), a2, V::fnmadd(c(c3[top - 1]), a1, V::fnmadd(c(c3[top]), a0, a3)));
    a0.store(X + top * kLanes);
    a1.store(X + (top - 1) * kLanes);
    a2.store(X + (top - 2) * kLanes);
    a3.store(X + (top - 3) * kLanes);
  }
  for (; top >= 0; --top) {
    const T* ct = lu + top * n;
    V a = V::load(X + top * kLanes);
    for (Index k = n - 1; k > top; --k) a = V::fnmadd(c(ct[k]), V::load(X + k * kLanes), a);
    a.store(X + top * kLanes);
  }
  // x = P^T w: the interchanges in reverse order.
  for (Index r = n - 1; r >= 0; --r) {
    const Index p = ipiv[r] - 1;
    if (p != r)
      for (int g = 0; g < kLanes; ++g) std::swap(X[r * kLanes + g], X[p * kLanes + g]);
  }
}

/// In place: X <- (I - A0)^-1 X: P x, then L y = P x and U z = y in column
/// (axpy) form, four columns at a time; each entry receives its terms in a
/// fixed order (L: k ascending; U: k descending).
template <class V, class T>
[[gnu::always_inline]] inline void lu_solve_n_impl(const T* lu, const int* ipiv, Index n, double* X) {
  const auto c = [](T v) { return V::set1(static_cast<double>(v)); };
  for (Index r = 0; r < n; ++r) {
    const Index p = ipiv[r] - 1;
    if (p != r)
      for (int g = 0; g < kLanes; ++g) std::swap(X[r * kLanes + g], X[p * kLanes + g]);
  }
  // L y = P x (unit lower).
  Index k = 0;
  for (; k + 4 <= n; k += 4) {
    const T *c0 = lu + k * n, *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;  // L[i, k + t] = c_t[i]
    const V y0 = V::load(X + k * kLanes);
    const V y1 = V::fnmadd(c(c0[k + 1]), y0, V::load(X + (k + 1) * kLanes));
    const V y2 = V::fnmadd(c(c1[k + 2]), y1, V::fnmadd(c(c0[k + 2]), y0, V::load(X + (k + 2) * kLanes)));
    const V y3 = V::fnmadd(c(c2[k + 3]), y2,
                           V::fnmadd(c(c1[k + 3]), y1, V::fnmadd(c(c0[k + 3]), y0, V::load(X + (k + 3) * kLanes))));
    y1.store(X + (k + 1) * kLanes);
    y2.store(X + (k + 2) * kLanes);
    y3.store(X + (k + 3) * kLanes);
    for (Index i = k + 4; i < n; ++i) {
      double* y = X + i * kLanes;
      V::fnmadd(c(c3[i]), y3, V::fnmadd(c(c2[i]), y2, V::fnmadd(c(c1[i]), y1, V::fnmadd(c(c0[i]), y0, V::load(y)))))
          .store(y);
    }
  }
  for (; k < n; ++k) {
    const T* ck = lu + k * n;
    const V yk = V::load(X + k * kLanes);
    for (Index i = k + 1; i < n; ++i) V::fnmadd(c(ck[i]), yk, V::load(X + i * kLanes)).store(X + i * kLanes);
  }
  // U z = y, columns from the right.
  Index top = n - 1;
  for (; top >= 3; top -= 4) {
    const T *c0 = lu + top * n, *c1 = c0 - n, *c2 = c1 - n, *c3 = c2 - n;  // U[i, top - t] = c_t[i]
    const V z0 = V::load(X + top * kLanes) / c(c0[top]);
    const V z1 = V::fnmadd(c(c0[top - 1]), z0, V::load(X + (top - 1) * kLanes)) / c(c1[top - 1]);
    const V z2 = V::fnmadd(c(c1[top - 2]), z1, V::fnmadd(c(c0[top - 2]), z0, V::load(X + (top - 2) * kLanes))) /
                 c(c2[top - 2]);
    const V z3 = V::fnmadd(c(c2[top - 3]), z2,
                           V::fnmadd(c(c1[top - 3]), z1,
                                     V::fnmadd(c(c0[top - 3]), z0, V::load(X + (top - 3) * kLanes)))) /
                 c(c3[top - 3]);
    z0.store(X + top * kLanes);
    z1.store(X + (top - 1) * kLanes);
    z2.store(X + (top - 2) * kLanes);
    z3.store(X + (top - 3) * kLanes);
    for (Index i = 0; i + 3 < top; ++i) {
      double* y = X + i * kLanes;
      V::fnmadd(c(c3[i]), z3, V::fnmadd(c(c2[i]), z2, V::fnmadd(c(c1[i]), z1, V::fnmadd(c(c0[i]), z0, V::load(y)))))
          .store(y);
    }
  }
  for (; top >= 0; --top) {
    const T* ct = lu + top * n;
    const V z = V::load(X + top * kLanes) / c(ct[top]);
    z.store(X + top * kLanes);
    for (Index i = 0; i < top; ++i) V::fnmadd(c(ct[i]), z, V::load(X + i * kLanes)).store(X + i * kLanes);
  }
}

struct Kernels {
  void (*residual)(const SparseMatrix&, const std::int32_t*, const float*, const double*, const double*, double*, bool);
  void (*lu_solve_t)(const float*, const int*, Index, double*);
  void (*lu_solve_n)(const float*, const int*, Index, double*);
};

template <class Isa>
[[gnu::always_inline]] inline void residual_isa(const SparseMatrix& A, const std::int32_t* inner, const float* f,
                                                const double* B, const double* X, double* R, bool t) {
  residual_impl<typename Isa::V8>(A, inner, f, B, X, R, t);
}
template <class Isa>
[[gnu::always_inline]] inline void lu_solve_t_isa(const float* lu, const int* ipiv, Index n, double* X) {
  lu_solve_t_impl<typename Isa::V8>(lu, ipiv, n, X);
}
template <class Isa>
[[gnu::always_inline]] inline void lu_solve_n_isa(const float* lu, const int* ipiv, Index n, double* X) {
  lu_solve_n_impl<typename Isa::V8>(lu, ipiv, n, X);
}
MRIOTRACE_SIMD_VARIANTS(void, residual, residual_isa,
                        (const SparseMatrix& A, const std::int32_t* inner, const float* f, const double* B,
                         const double* X, double* R, bool t),
                        (A, inner, f, B, X, R, t))
MRIOTRACE_SIMD_VARIANTS(void, lu_solve_t, lu_solve_t_isa, (const float* lu, const int* ipiv, Index n, double* X),
                        (lu, ipiv, n, X))
MRIOTRACE_SIMD_VARIANTS(void, lu_solve_n, lu_solve_n_isa, (const float* lu, const int* ipiv, Index n, double* X),
                        (lu, ipiv, n, X))

Kernels kernels_for_cpu() {
  const simd::Level l = simd::level();
  return {simd::pick(l, residual_avx512, residual_avx2, residual_scalar),
          simd::pick(l, lu_solve_t_avx512, lu_solve_t_avx2, lu_solve_t_scalar),
          simd::pick(l, lu_solve_n_avx512, lu_solve_n_avx2, lu_solve_n_scalar)};
}

// ---------------------------------------------------------------------------
// Warm-started solves of a block (the per-lane logic of warm_solve).

/// One lane's right-hand side and warm start (n each), and where its factors come from.
struct Lane {
  Index draw = -1;        ///< index into the block's draws; -1 = unused lane
  const double* b = nullptr;
  const double* x0 = nullptr;
};

/// X (n x kLanes) = op(I - A'_g)^-1 b_g for every used lane, warm-started,
/// preconditioned by the base LU in float (Richardson, as warm_solve). A lane that
/// stalls or runs out of iterations is finished with a fresh factorisation of
/// its own I - A' (refactor). `f`: the lanes' factors, nnz x kLanes.
void solve_lanes(const LeontiefSolver& base, const DrawBase& db, const SparseMatrix& A,
                 const std::int32_t* inner, const float* f, const std::array<Lane, kLanes>& lanes, bool transposed,
                 const UncertaintyOptions& o, Matrix& X, std::array<WarmSolveInfo, kLanes>& info) {
  const Index n = A.cols();
  const Kernels k = kernels_for_cpu();
  std::vector<double> B(static_cast<size_t>(n * kLanes), 0.0), R(static_cast<size_t>(n * kLanes));
  X.setZero(kLanes, n);  // row-major n x kLanes == column-major kLanes x n
  std::array<double, kLanes> bnorm{}, previous{};
  std::array<bool, kLanes> active{}, refactor{};
  for (int g = 0; g < kLanes; ++g) {
    info[static_cast<size_t>(g)] = {};
    const Lane& l = lanes[static_cast<size_t>(g)];
    if (l.draw < 0) continue;
    double m = 0;
    for (Index i = 0; i < n; ++i) {
      B[static_cast<size_t>(i * kLanes + g)] = l.b[i];
      X(g, i) = l.x0[i];
      m = std::max(m, std::abs(l.b[i]));
    }
    bnorm[static_cast<size_t>(g)] = m;
    previous[static_cast<size_t>(g)] = std::numeric_limits<double>::infinity();
    active[static_cast<size_t>(g)] = m > 0;
    if (m == 0)
      for (Index i = 0; i < n; ++i) X(g, i) = 0;  // b = 0: x = 0 exactly
  }
  for (int it = 0;; ++it) {
    bool any = false;
    for (int g = 0; g < kLanes; ++g) any = any || active[static_cast<size_t>(g)];
    if (!any) break;
    k.residual(A, inner, f, B.data(), X.data(), R.data(), transposed);
    for (int g = 0; g < kLanes; ++g) {
      const size_t gs = static_cast<size_t>(g);
      if (!active[gs]) {
        for (Index i = 0; i < n; ++i) R[static_cast<size_t>(i * kLanes + g)] = 0;
        continue;
      }
      double m = 0;
      for (Index i = 0; i < n; ++i) m = std::max(m, std::abs(R[static_cast<size_t>(i * kLanes + g)]));
      const double residual = m / bnorm[gs];
      info[gs].iterations = it;
      info[gs].relative_residual = residual;
      bool stop = false;
      if (!std::isfinite(residual)) stop = refactor[gs] = true;
      else if (residual <= o.tolerance) stop = true;
      else if (it >= o.max_iterations || residual > 0.5 * previous[gs]) stop = refactor[gs] = true;
      previous[gs] = residual;
      if (stop) {
        active[gs] = false;
        for (Index i = 0; i < n; ++i) R[static_cast<size_t>(i * kLanes + g)] = 0;
      }
    }
    (transposed ? k.lu_solve_t : k.lu_solve_n)(db.lu32.data(), db.ipiv.data(), n, R.data());
    for (int g = 0; g < kLanes; ++g)
      if (active[static_cast<size_t>(g)])
        for (Index i = 0; i < n; ++i) X(g, i) += R[static_cast<size_t>(i * kLanes + g)];
  }
  for (int g = 0; g < kLanes; ++g) {
    const size_t gs = static_cast<size_t>(g);
    if (!refactor[gs]) continue;
    // As warm_solve: the draw is too far from the base; factor its own I - A'.
    SparseMatrix Ap = A;
    double* v = Ap.valuePtr();
    for (Index q = 0; q < Ap.nonZeros(); ++q) v[q] *= static_cast<double>(f[q * kLanes + g]);
    // Same pattern as the base: its analysis is reused. One thread, so the
    // draw's answer does not depend on where the block runs.
    const LeontiefSolver direct = base.refactored(Ap, 1);  // throws NumericError if I - A' is singular
    const Eigen::Map<const Vector> b(lanes[gs].b, n);
    const Matrix x = transposed ? direct.solve_transposed(b) : direct.solve(b);
    X.row(g) = x.col(0).transpose();
    info[gs].refactored = true;
    info[gs].relative_residual = direct.diagnostics().max_relative_residual;
  }
}

}  // namespace

bool draw_block_supported(const LeontiefSolver& solver, const DrawBase& base, const UncertaintyOptions& options) {
  return !options.perturb_Z && !base.with_Q && !base.lu32.empty() &&
         static_cast<Index>(base.ipiv.size()) == solver.n();
}

std::vector<Accounts> draw_accounts_block(const MrioSystem& system, const LeontiefSolver& solver, const DrawBase& base,
                                          const std::vector<std::uint64_t>& draws, const UncertaintyOptions& o,
                                          std::vector<WarmSolveInfo>* info) {
  validate(o);
  MRIOTRACE_CHECK(solver.n() == system.n(), "solver is for n = ", solver.n(), " but the system has n = ", system.n());
  const size_t D = draws.size();
  std::vector<Accounts> out(D);
  std::vector<WarmSolveInfo> infos(D);
  if (!draw_block_supported(solver, base, o)) {
    for (size_t d = 0; d < D; ++d) out[d] = draw_accounts(system, solver, base, perturb(system, o, draws[d], 1), o,
                                                          &infos[d], 1);
    if (info) *info = std::move(infos);
    return out;
  }
  const Index n = system.n(), R = system.R(), N = system.N(), c = system.c();
  const SparseMatrix& A = system.A();
  const Index nnz = A.nonZeros();
  const Index k = static_cast<Index>(base.stressors.size());
  MRIOTRACE_CHECK(n < (Index(1) << 31) && system.Y().cols() < (Index(1) << 32), "draw blocks: the system has ", n,
                  " rows; expected fewer than 2^31");

  // The small pieces of every draw: Y', S' (selected rows), F_Y' per region.
  struct Small {
    Matrix S, FYr, Yr;
    Vector y;  // Y' 1
  };
  std::vector<Small> small(D);
  for (size_t d = 0; d < D; ++d) {
    Matrix Y = system.Y(), F_Y = system.F_Y(), S = system.S();
    perturb_dense(Y, o.Y, stream_key(o.seed, draws[d], kMatrixY), 1);
    perturb_dense(F_Y, o.F, stream_key(o.seed, draws[d], kMatrixFY), 1);
    perturb_dense(S, o.F, stream_key(o.seed, draws[d], kMatrixF), 1);
    auto [Ss, FYr] = selected_rows(S, F_Y, base.stressors, R, c);
    small[d].S = std::move(Ss);
    small[d].FYr = std::move(FYr);
    small[d].Yr = demand_by_region(Y, R, c);
    if (base.production) small[d].y = Y.rowwise().sum();
  }

  // Lanes: (draw, stressor) pairs for the transposed solves, then one per draw
  // for x' (with production). Factors are generated once per block of lanes.
  struct Task {
    Index draw, column;  // column: stressor index, or -1 for x'
  };
  std::vector<Task> tasks;
  for (size_t d = 0; d < D; ++d)
    for (Index s = 0; s < k; ++s) tasks.push_back({static_cast<Index>(d), s});
  const size_t transposed_tasks = tasks.size();
  if (base.production)
    for (size_t d = 0; d < D; ++d) tasks.push_back({static_cast<Index>(d), -1});

  std::vector<Matrix> Mt(D, Matrix(n, k));
  std::vector<Vector> x(D);
  // The lanes' factors (nnz x kLanes floats, ~1 GB at EXIOBASE scale): kept
  // per thread between calls, so a batch worker does not fault in fresh pages
  // for every block.
  thread_local std::vector<float> f;
  f.resize(static_cast<size_t>(nnz * kLanes));
  thread_local std::vector<std::int32_t> inner;
  inner.assign(A.innerIndexPtr(), A.innerIndexPtr() + nnz);  // n < 2^31, checked above
  std::array<Index, kLanes> factor_draw;
  factor_draw.fill(-2);  // which draw's factors each lane of f holds (-2: not generated yet)
  Matrix X;
  std::array<WarmSolveInfo, kLanes> lane_info;
  for (size_t t0 = 0; t0 < tasks.size();) {
    // A block: up to kLanes tasks of one kind (transposed or not).
    const bool transposed = t0 < transposed_tasks;
    const size_t t1 = std::min(t0 + kLanes, transposed ? transposed_tasks : tasks.size());
    std::array<Lane, kLanes> lanes{};
    for (size_t t = t0; t < t1; ++t) {
      const int g = static_cast<int>(t - t0);
      const Task& task = tasks[t];
      const size_t d = static_cast<size_t>(task.draw);
      Lane& l = lanes[static_cast<size_t>(g)];
      l.draw = task.draw;
      if (transposed) {
        Mt[d].col(task.column) = small[d].S.row(task.column).transpose();  // b, overwritten by the answer below
        l.b = Mt[d].col(task.column).data();
        l.x0 = base.Mt.col(task.column).data();
      } else {
        l.b = small[d].y.data();
        l.x0 = base.x.data();
      }
    }
    // The lanes' factors, unless the lanes hold the same draws as for the last block.
    std::array<Index, kLanes> want;
    for (int g = 0; g < kLanes; ++g) want[static_cast<size_t>(g)] = lanes[static_cast<size_t>(g)].draw;
    if (want != factor_draw) {
      std::uint64_t keys[kLanes];
      bool used[kLanes];
      for (int g = 0; g < kLanes; ++g) {
        const Index d = want[static_cast<size_t>(g)];
        used[g] = d >= 0;
        keys[g] = d >= 0 ? stream_key(o.seed, draws[static_cast<size_t>(d)], kMatrixA) : 0;
      }
      sparse_factors(A, o.A, keys, used, kLanes, f.data());
      factor_draw = want;
    }
    solve_lanes(solver, base, A, inner.data(), f.data(), lanes, transposed, o, X, lane_info);
    for (size_t t = t0; t < t1; ++t) {
      const int g = static_cast<int>(t - t0);
      const Task& task = tasks[t];
      const size_t d = static_cast<size_t>(task.draw);
      if (transposed) Mt[d].col(task.column) = X.row(g).transpose();
      else x[d] = X.row(g).transpose();
      WarmSolveInfo& total = infos[d];
      const WarmSolveInfo& one = lane_info[static_cast<size_t>(g)];
      total.iterations = std::max(total.iterations, one.iterations);
      total.relative_residual = std::max(total.relative_residual, one.relative_residual);
      total.refactored = total.refactored || one.refactored;
    }
    t0 = t1;
  }
  for (size_t d = 0; d < D; ++d)
    check_productive(system, base, small[d].S, &Mt[d], base.production ? &small[d].y : nullptr,
                     base.production ? &x[d] : nullptr, nullptr, nullptr);
  for (size_t d = 0; d < D; ++d)
    out[d] = draw_regional_accounts(small[d].S, small[d].FYr, small[d].Yr, Mt[d], base.production ? &x[d] : nullptr,
                                    base.stressors, N);
  if (info) *info = std::move(infos);
  return out;
}

}  // namespace mriotrace
