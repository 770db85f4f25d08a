// Sparse x block products, column dot products and the block-Jacobi
// preconditioner of the iterative solvers (see kernels.hpp).
#include "kernels.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include "mriotrace/error.hpp"
#include "mriotrace/parallel.hpp"
#include "simd.hpp"

namespace mriotrace::kernels {
namespace {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows per task: enough work to amortise scheduling and, with column panels,
// to reuse each panel of X over many rows; small enough to balance the threads.
constexpr Index kRowsPerTask = 64;
constexpr Index kRowsPerPanelTask = 256;
constexpr Index kPanelWidth = 128;
// Nonzeros per row and panel, on average, below which panels are made wider:
// each row segment loads and stores its accumulators (m doubles), which must
// stay small next to the segment's reads of X.
constexpr Index kMinRowSegment = 32;
// Rows per partial sum of column_dots. Fixed (not per thread), so the order of
// the additions, hence every bit of the result, is the same for any thread count.
constexpr Index kDotChunk = 4096;

// ---- Y = M X, one range of rows ---------------------------------------------
// Written once over the SIMD layer's lane types (simd.hpp). Per row segment
// (one row of one panel, nonzeros p0 .. p1 in stored order) and column c:
//
//   a = (first panel ? 0 : y[c]),  b = 0
//   a = fma(val[p0], X[idx[p0], c], a),  b = fma(val[p0+1], X[idx[p0+1], c], b),
//   a = fma(val[p0+2], ...), ...          (even nonzeros into a, odd into b)
//   y[c] = a + b
//
// Two chains hide the FMA latency when few columns are in flight. The order
// is the same for every column whichever tile (or instruction set) computes
// it, so the product gives the same bits on every path and thread count.

template <class V, int K>
[[gnu::always_inline]] inline void tile(const Csr& M, const double* X, double* y, Index m, Index c, Index p0, Index p1,
                                        bool add) {
  constexpr int W = V::width;
  V a[K], b[K];
  for (int k = 0; k < K; ++k) {
    a[k] = add ? V::load(y + c + W * k) : V::zero();  // add: continue the row's sum over earlier panels
    b[k] = V::zero();
  }
  Index p = p0;
  for (; p + 1 < p1; p += 2) {
    const V va = V::set1(M.val[static_cast<size_t>(p)]), vb = V::set1(M.val[static_cast<size_t>(p + 1)]);
    const double* xa = X + static_cast<Index>(M.idx[static_cast<size_t>(p)]) * m + c;
    const double* xb = X + static_cast<Index>(M.idx[static_cast<size_t>(p + 1)]) * m + c;
    for (int k = 0; k < K; ++k) {
      a[k] = V::fmadd(va, V::load(xa + W * k), a[k]);
      b[k] = V::fmadd(vb, V::load(xb + W * k), b[k]);
    }
  }
  if (p < p1) {
    const V va = V::set1(M.val[static_cast<size_t>(p)]);
    const double* xa = X + static_cast<Index>(M.idx[static_cast<size_t>(p)]) * m + c;
    for (int k = 0; k < K; ++k) a[k] = V::fmadd(va, V::load(xa + W * k), a[k]);
  }
  for (int k = 0; k < K; ++k) (a[k] + b[k]).store(y + c + W * k);
}

/// Widest tiles per instruction set: K 8-double vectors = 2K accumulators
/// (AVX-512: 16 of 32 registers; AVX2: 2 registers per vector, so 8 of 16).
template <class Isa>
constexpr int kWidestTile = std::is_same_v<Isa, simd::Avx512> ? 8 : 2;

template <class Isa>
[[gnu::always_inline]] inline void spmm_rows_impl(const Csr& M, const double* X, double* Y, Index m, Index r0,
                                                  Index r1) {
  using V8 = typename Isa::V8;
  using V4 = typename Isa::V4;
  constexpr int K = kWidestTile<Isa>;
  for (Index q = 0; q < M.panels; ++q) {
    const std::int64_t* ptr = M.ptr.data() + q * M.rows;
    for (Index i = r0; i < r1; ++i) {
      const Index p0 = ptr[i], p1 = ptr[i + 1];
      double* y = Y + i * m;
      const bool add = q > 0;
      Index c = 0;
      for (; c + 8 * K <= m; c += 8 * K) tile<V8, K>(M, X, y, m, c, p0, p1, add);
      if constexpr (K > 4)
        if (c + 32 <= m) tile<V8, 4>(M, X, y, m, c, p0, p1, add), c += 32;
      if constexpr (K > 2)
        if (c + 16 <= m) tile<V8, 2>(M, X, y, m, c, p0, p1, add), c += 16;
      if constexpr (K > 1)
        if (c + 8 <= m) tile<V8, 1>(M, X, y, m, c, p0, p1, add), c += 8;
      if (c + 4 <= m) tile<V4, 1>(M, X, y, m, c, p0, p1, add), c += 4;
      for (; c < m; ++c) tile<simd::VScalar<1>, 1>(M, X, y, m, c, p0, p1, add);
    }
  }
}

MRIOTRACE_SIMD_VARIANTS(void, spmm_rows, spmm_rows_impl,
                        (const Csr& M, const double* X, double* Y, Index m, Index r0, Index r1),
                        (M, X, Y, m, r0, r1))

/// One paneled CSR from buckets (panel, row): count, prefix-sum, fill, with
/// the source split into kBuildChunks chunks counted and filled in parallel.
/// for_chunk(c, emit) visits chunk c's entries; every bucket must receive its
/// entries in increasing column order when the chunks are taken in order, so
/// each row of each panel comes out sorted, the same for any thread count.
constexpr Index kBuildChunks = 8;

template <class ForChunk>
Csr fill_csr(Index rows, Index cols, Index panels, ForChunk&& for_chunk) {
  MRIOTRACE_CHECK(cols <= std::numeric_limits<std::int32_t>::max(), "matrix has ", cols,
                  " columns; the iterative kernels support at most 2^31 - 1");
  Csr out;
  out.rows = rows;
  out.cols = cols;
  out.panels = panels;
  out.panel_width = (cols + panels - 1) / std::max<Index>(panels, 1);
  const Index w = std::max<Index>(out.panel_width, 1);
  const Index buckets = panels * rows;
  const auto bucket = [&](Index r, Index c) { return static_cast<size_t>((c / w) * rows + r); };
  // cursor[c][b]: where chunk c writes its next entry of bucket b.
  std::vector<std::vector<std::int64_t>> cursor(static_cast<size_t>(kBuildChunks));
  parallel_for(0, kBuildChunks, 0, [&](std::int64_t c) {
    auto& cnt = cursor[static_cast<size_t>(c)];
    cnt.assign(static_cast<size_t>(buckets), 0);
    for_chunk(c, [&](Index r, Index col, double) { ++cnt[bucket(r, col)]; });
  });
  out.ptr.assign(static_cast<size_t>(buckets + 1), 0);
  std::int64_t running = 0;
  for (Index b = 0; b < buckets; ++b) {
    out.ptr[static_cast<size_t>(b)] = running;
    for (Index c = 0; c < kBuildChunks; ++c) {
      auto& slot = cursor[static_cast<size_t>(c)][static_cast<size_t>(b)];
      const std::int64_t count = slot;
      slot = running;
      running += count;
    }
  }
  out.ptr[static_cast<size_t>(buckets)] = running;
  out.idx.resize(static_cast<size_t>(running));
  out.val.resize(static_cast<size_t>(running));
  parallel_for(0, kBuildChunks, 0, [&](std::int64_t c) {
    auto& next = cursor[static_cast<size_t>(c)];
    for_chunk(c, [&](Index r, Index col, double v) {
      const auto q = static_cast<size_t>(next[bucket(r, col)]++);
      out.idx[q] = static_cast<std::int32_t>(col);
      out.val[q] = v;
    });
  });
  return out;
}

/// [begin, end) of chunk c of kBuildChunks over 0..total.
std::pair<Index, Index> chunk_range(Index c, Index total) {
  return {c * total / kBuildChunks, (c + 1) * total / kBuildChunks};
}

}  // namespace

Index choose_panels(Index cols, Index rows, Index nnz, Index width) {
  const Index by_width = std::max<Index>(1, cols / (width > 0 ? width : kPanelWidth));
  const Index by_fill = std::max<Index>(1, nnz / std::max<Index>(kMinRowSegment * rows, 1));
  return std::min(by_width, by_fill);
}

namespace {

/// offdiagonal_csr without transposing, one task per panel: a panel's columns
/// are a contiguous range of A's CSC columns, so each task reads only its
/// columns and writes only its panel's part of idx/val (a few MB, in cache),
/// instead of scattering every entry across the whole output. Same result as
/// fill_csr: in each row of a panel, the entries in increasing column order.
Csr offdiagonal_csr_by_panel(const SparseMatrix& A, Index panels, Index block_size) {
  const Index n = A.rows();
  MRIOTRACE_CHECK(n <= std::numeric_limits<std::int32_t>::max(), "matrix has ", n,
                  " columns; the iterative kernels support at most 2^31 - 1");
  Csr out;
  out.rows = out.cols = n;
  out.panels = panels;
  out.panel_width = (n + panels - 1) / panels;
  const Index w = out.panel_width;
  const auto keep = [block_size](Index r, Index c) { return block_size == 0 || r / block_size != c / block_size; };
  const Index* outer = A.outerIndexPtr();
  const Index* inner = A.innerIndexPtr();
  const double* values = A.valuePtr();
  // Pass 1: entries per (panel, row), stored in ptr shifted by one.
  out.ptr.assign(static_cast<size_t>(panels * n + 1), 0);
  parallel_for(0, panels, 0, [&](std::int64_t q) {
    std::int64_t* count = out.ptr.data() + q * n + 1;
    for (Index j = q * w; j < std::min(n, (q + 1) * w); ++j)
      for (Index p = outer[j]; p < outer[j + 1]; ++p)
        if (values[p] != 0 && keep(inner[p], j)) ++count[inner[p]];
  });
  for (size_t b = 1; b < out.ptr.size(); ++b) out.ptr[b] += out.ptr[b - 1];
  out.idx.resize(static_cast<size_t>(out.ptr.back()));
  out.val.resize(static_cast<size_t>(out.ptr.back()));
  // Pass 2: fill each panel, columns in order.
  parallel_for(0, panels, 0, [&](std::int64_t q) {
    std::vector<std::int64_t> next(out.ptr.begin() + q * n, out.ptr.begin() + (q + 1) * n);
    for (Index j = q * w; j < std::min(n, (q + 1) * w); ++j)
      for (Index p = outer[j]; p < outer[j + 1]; ++p)
        if (values[p] != 0 && keep(inner[p], j)) {
          const auto at = static_cast<size_t>(next[static_cast<size_t>(inner[p])]++);
          out.idx[at] = static_cast<std::int32_t>(j);
          out.val[at] = values[p];
        }
  });
  return out;
}

}  // namespace

Csr offdiagonal_csr(const SparseMatrix& A, Index block_size, bool transpose, Index panel_width) {
  const Index n = A.rows();
  const Index panels = choose_panels(n, n, A.nonZeros(), panel_width);
  // Enough panels to share among threads: build panel by panel (cache-local).
  if (!transpose && A.isCompressed() && panels >= 8) return offdiagonal_csr_by_panel(A, panels, block_size);
  const auto keep = [block_size](Index r, Index c) { return block_size == 0 || r / block_size != c / block_size; };
  // Columns of A in order, rows increasing within: each (panel, row) bucket
  // receives its entries in increasing column order either way.
  return fill_csr(n, n, panels, [&](Index chunk, auto&& emit) {
    const auto [j0, j1] = chunk_range(chunk, A.outerSize());
    for (Index j = j0; j < j1; ++j)
      for (SparseMatrix::InnerIterator it(A, j); it; ++it)
        if (it.value() != 0 && keep(it.row(), j)) {
          if (transpose)
            emit(j, it.row(), it.value());
          else
            emit(it.row(), j, it.value());
        }
  });
}

Csr transpose(const Csr& M) {
  // Old column j lies in one old panel, whose rows are visited in order: the
  // entries of each new (panel, row) bucket arrive in increasing column order.
  const Index panels = choose_panels(M.rows, M.cols, M.nnz(), M.panel_width);
  return fill_csr(M.cols, M.rows, panels, [&](Index chunk, auto&& emit) {
    const auto [i0, i1] = chunk_range(chunk, M.rows);
    for (Index q = 0; q < M.panels; ++q)
      for (Index i = i0; i < i1; ++i)
        for (Index p = M.ptr[static_cast<size_t>(q * M.rows + i)]; p < M.ptr[static_cast<size_t>(q * M.rows + i + 1)]; ++p)
          emit(static_cast<Index>(M.idx[static_cast<size_t>(p)]), i, M.val[static_cast<size_t>(p)]);
  });
}

void spmm(const Csr& M, const double* X, double* Y, Index m, int threads) {
  const auto rows = simd::pick(simd::level(), spmm_rows_avx512, spmm_rows_avx2, spmm_rows_scalar);
  const Index per_task = M.panels > 1 ? kRowsPerPanelTask : kRowsPerTask;
  const Index tasks = (M.rows + per_task - 1) / per_task;
  parallel_for(0, tasks, threads, [&](std::int64_t t) {
    const Index r0 = t * per_task, r1 = std::min(M.rows, r0 + per_task);
    rows(M, X, Y, m, r0, r1);
  });
}

void column_dots(const double* U, const double* W, Index n, Index m, int threads, double* out) {
  const Index chunks = std::max<Index>(1, (n + kDotChunk - 1) / kDotChunk);
  std::vector<double> partial(static_cast<size_t>(chunks * m), 0.0);
  parallel_for(0, chunks, threads, [&](std::int64_t ch) {
    double* acc = partial.data() + ch * m;
    const Index i1 = std::min(n, (ch + 1) * kDotChunk);
    for (Index i = ch * kDotChunk; i < i1; ++i) {
      const double* u = U + i * m;
      const double* w = W + i * m;
      for (Index c = 0; c < m; ++c) acc[c] += u[c] * w[c];
    }
  });
  std::fill(out, out + m, 0.0);
  for (Index ch = 0; ch < chunks; ++ch)
    for (Index c = 0; c < m; ++c) out[c] += partial[static_cast<size_t>(ch * m + c)];
}

BlockJacobi BlockJacobi::build(const SparseMatrix& A, Index bs) {
  BlockJacobi P;
  P.bs = bs;
  P.n = A.rows();
  if (bs == 0) return P;
  const Index n = A.rows();
  P.blocks = n / bs;
  P.D.resize(static_cast<size_t>(P.blocks));
  P.Inv.resize(static_cast<size_t>(P.blocks));
  std::vector<double> rcond(static_cast<size_t>(P.blocks));
  const Index* inner = A.innerIndexPtr();
  const Index* outer = A.outerIndexPtr();
  // The blocks are factorised in parallel: BLAS inside must be serial, or
  // every block's small LU spawns BLAS threads that fight over the cores.
  SerialBlas serial_blas;
  parallel_for(0, P.blocks, 0, [&](std::int64_t b) {
    // A_bb: in each column of the block, the rows inside the block (CSC rows
    // are sorted: one binary search per column).
    Matrix& D = P.D[static_cast<size_t>(b)];
    D = Matrix::Zero(bs, bs);
    for (Index j = b * bs; j < (b + 1) * bs; ++j) {
      const Index* first = std::lower_bound(inner + outer[j], inner + outer[j + 1], b * bs);
      for (const Index* r = first; r < inner + outer[j + 1] && *r < (b + 1) * bs; ++r)
        D(*r - b * bs, j - b * bs) = A.valuePtr()[r - inner];
    }
    const Matrix IminusD = Matrix::Identity(bs, bs) - P.D[static_cast<size_t>(b)];
    Eigen::PartialPivLU<Matrix> lu(IminusD);
    rcond[static_cast<size_t>(b)] = lu.rcond();
    P.Inv[static_cast<size_t>(b)] = lu.inverse();
  });
  for (Index b = 0; b < P.blocks; ++b)
    if (!(rcond[static_cast<size_t>(b)] > 1e-14) || !P.Inv[static_cast<size_t>(b)].allFinite())
      throw NumericError(detail::concat("diagonal block ", b, " (rows ", b * bs, "..", (b + 1) * bs - 1,
                                        ") of I - A is singular (reciprocal condition estimate ",
                                        rcond[static_cast<size_t>(b)], "); the system is not productive"));
  return P;
}

void BlockJacobi::solve(const double* W, double* Z, Index m, bool transposed, int threads) const {
  if (bs == 0) {  // M = I
    if (Z != W) std::copy(W, W + n * m, Z);
    return;
  }
  // Serial BLAS inside: the blocks run in parallel, and each product's
  // summation order must not depend on how many threads BLAS would use.
  SerialBlas serial_blas;
  parallel_for(0, blocks, threads, [&](std::int64_t b) {
    Eigen::Map<const RowMat> w(W + b * bs * m, bs, m);
    Eigen::Map<RowMat> z(Z + b * bs * m, bs, m);
    // z = (I - A_rr)^-1 w, or (I - A_rr)^-T w
    if (transposed)
      z.noalias() = Inv[static_cast<size_t>(b)].transpose() * w;
    else
      z.noalias() = Inv[static_cast<size_t>(b)] * w;
  });
}

void BlockJacobi::multiply(const double* X, double* Y, Index m, bool transposed, int threads) const {
  if (bs == 0) {  // M = I
    std::copy(X, X + n * m, Y);
    return;
  }
  SerialBlas serial_blas;
  parallel_for(0, blocks, threads, [&](std::int64_t b) {
    Eigen::Map<const RowMat> x(X + b * bs * m, bs, m);
    Eigen::Map<RowMat> y(Y + b * bs * m, bs, m);
    // y = x - A_rr x, or x - A_rr^T x
    y = x;
    if (transposed)
      y.noalias() -= D[static_cast<size_t>(b)].transpose() * x;
    else
      y.noalias() -= D[static_cast<size_t>(b)] * x;
  });
}

}  // namespace mriotrace::kernels
