// Kernels of the iterative solvers (private to the engine; see solver.hpp).
//
// Blocks of right-hand sides are stored ROW-major here (n x m, leading
// dimension m): row i holds entry i of every column, so one pass over a sparse
// row of A reads each needed row of the block as m contiguous doubles and A is
// streamed once per sweep for all m columns.
//
// Every kernel writes disjoint outputs per task and sums in a fixed order, so
// results are bitwise identical for any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "mriotrace/types.hpp"

namespace mriotrace::kernels {

/// Compressed sparse rows with 32-bit column indices: 12 bytes per nonzero
/// (Eigen's CSC with 64-bit indices takes 16), i.e. less to stream per sweep.
///
/// Split into column panels of `panel_width` columns, stored panel after
/// panel: the product visits one panel at a time, so the rows of X it reads
/// (panel_width x m doubles) stay in the L2 cache instead of being fetched
/// from L3/memory once per nonzero. Row i of panel q is the range
/// ptr[q * rows + i] .. ptr[q * rows + i + 1]. Sparse matrices get one panel.
struct Csr {
  Index rows = 0, cols = 0;
  Index panels = 1, panel_width = 0;
  std::vector<std::int64_t> ptr;  ///< panels * rows + 1 offsets into idx/val
  std::vector<std::int32_t> idx;  ///< column of each nonzero, increasing within a row
  std::vector<double> val;
  Index nnz() const { return static_cast<Index>(idx.size()); }
  double bytes() const { return 12.0 * static_cast<double>(idx.size()) + 8.0 * static_cast<double>(ptr.size()); }
  /// Calls f(row, col, value) for every nonzero.
  template <class F>
  void for_each(F&& f) const {
    for (Index q = 0; q < panels; ++q)
      for (Index i = 0; i < rows; ++i)
        for (Index p = ptr[static_cast<size_t>(q * rows + i)]; p < ptr[static_cast<size_t>(q * rows + i + 1)]; ++p)
          f(i, static_cast<Index>(idx[static_cast<size_t>(p)]), val[static_cast<size_t>(p)]);
  }
};

/// Panels for a rows x cols matrix with nnz nonzeros: `width` columns each
/// (0: 128, so a 128 x 64 block of X is 64 KB, near L1), but fewer (wider)
/// while rows would average < 32 nonzeros per panel: each row segment loads
/// and stores its m accumulators. Networks (a few nonzeros per row) get one.
Index choose_panels(Index cols, Index rows, Index nnz, Index width = 0);

/// The CSR of A (transpose = false) or of A^T (transpose = true), A an n x n CSC,
/// without the entries of the diagonal blocks of size block_size (0: keep all).
/// That is A_T = A - A_D, the trade part of an MRIO when block_size = N.
/// panel_width: columns per panel (0: choose_panels' default).
Csr offdiagonal_csr(const SparseMatrix& A, Index block_size, bool transpose, Index panel_width = 0);

/// The transpose of a CSR (a CSR of M^T); rows of the result are sorted.
Csr transpose(const Csr& M);

/// Y = M X. X: M.cols x m row-major, Y: M.rows x m row-major (no aliasing).
/// Plain formula, per row i and column c:  Y[i,c] = sum_p val[p] * X[idx[p], c]
/// over the row's nonzeros in stored order, as two fused multiply-add chains
/// (even and odd nonzeros of each panel's segment, then added): the same bits
/// on every SIMD path (simd.hpp) and for any thread count.
void spmm(const Csr& M, const double* X, double* Y, Index m, int threads);

/// out[c] = sum_i U[i,c] * W[i,c] for n x m row-major U, W (U may equal W).
/// Rows are summed in fixed chunks whose partial sums are added in chunk order.
void column_dots(const double* U, const double* W, Index n, Index m, int threads, double* out);

/// Block-Jacobi preconditioner M = I - A_D, A_D = the diagonal blocks A_rr of
/// A (size bs). Holds each block and its inverse (2 n bs doubles). bs = 0: M = I.
struct BlockJacobi {
  Index n = 0, bs = 0, blocks = 0;
  std::vector<Matrix> D;    ///< A_rr, bs x bs
  std::vector<Matrix> Inv;  ///< (I - A_rr)^-1, bs x bs

  /// Throws NumericError if some I - A_rr is singular (A is then not productive).
  static BlockJacobi build(const SparseMatrix& A, Index bs);
  /// Z = M^-1 W (or M^-T W). W, Z: n x m row-major; may alias when bs = 0.
  void solve(const double* W, double* Z, Index m, bool transposed, int threads) const;
  /// Y = M X = X - A_D X (or M^T X). X, Y: n x m row-major, no aliasing.
  void multiply(const double* X, double* Y, Index m, bool transposed, int threads) const;
};

}  // namespace mriotrace::kernels
