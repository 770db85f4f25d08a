// MrioSystem: an environmentally-extended multi-regional input-output system.
//
// Notation (../docs/methods.md): R regions, N sectors per region, n = R*N,
// c final-demand categories per region, k stressors, m indicators.
// Index order is region-major: row/column (r, i) sits at position r*N + i;
// final-demand column (r, f) at r*c + f.
//
// Stored (after construction, always consistent and validated):
//   A    n x n   sparse CSC   technical coefficients, A = Z diag(x)^-1
//   x    n                    gross output (monetary unit)
//   Y    n x R*c dense        final demand (monetary unit)
//   S    k x n   dense        direct stressor intensities (stressor unit per monetary unit)
//   F_Y  k x R*c dense        stressors emitted by final demand (may be 0 x 0: none)
//   v    n                    value added (may be empty: none)
//   C    m x k   dense        characterisation to indicators (may be 0 x 0: none)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mriotrace/error.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace {

/// Labels of every axis. Sectors are the same in every region.
struct Labels {
  std::vector<std::string> regions;          ///< R region names, unique
  std::vector<std::string> sectors;          ///< N sector names, unique
  std::vector<std::string> fd_categories;    ///< c final-demand categories per region
  std::vector<std::string> stressors;        ///< k stressor names, unique
  std::vector<std::string> stressor_units;   ///< k units (e.g. "kt CO2"); empty -> all ""
  std::vector<std::string> indicators;       ///< m indicator names (rows of C)
  std::vector<std::string> indicator_units;  ///< m units; empty -> all ""
  std::string monetary_unit;                 ///< unit of Z, Y, x, v (e.g. "M.EUR")

  Index R() const { return static_cast<Index>(regions.size()); }
  Index N() const { return static_cast<Index>(sectors.size()); }
  Index n() const { return R() * N(); }
  Index c() const { return static_cast<Index>(fd_categories.size()); }
  Index k() const { return static_cast<Index>(stressors.size()); }
  Index m() const { return static_cast<Index>(indicators.size()); }
};

/// Everything a system can be built from. Give either Z or A (not both);
/// either F (flows) or S (intensities), or neither (no stressors, k = 0).
/// Leave unused members empty (size 0).
struct SystemInput {
  Labels labels;
  SparseMatrix Z;  ///< n x n intermediate flows (seller row, buyer column)
  SparseMatrix A;  ///< n x n technical coefficients
  Vector x;        ///< n gross output; computed as Z1 + Y1 (from Z) or L Y1 (from A) when empty
  Matrix Y;        ///< n x R*c final demand
  Matrix F;        ///< k x n stressors of producing sectors (flows)
  Matrix S;        ///< k x n stressor intensities (F diag(x)^-1)
  Matrix F_Y;      ///< k x R*c stressors of final demand, or empty
  Vector v;        ///< n value added, or empty
  Matrix C;        ///< m x k characterisation factors, or empty
};

class MrioSystem {
 public:
  /// Build and validate. Throws InputError on inconsistent shapes, labels,
  /// NaN/Inf, negative gross output; NumericError on a non-productive system.
  /// `threads` is used only when x has to be computed from A (0 = environment).
  static MrioSystem build(SystemInput input, int threads = 0);

  /// From flows: x = Z1 + Y1, A = Z diag(x)^-1, S = F diag(x)^-1 (0 where x = 0).
  static MrioSystem from_Z(Labels labels, const SparseMatrix& Z, Matrix Y, Matrix F,
                           Matrix F_Y = {}, Vector v = {});
  /// From coefficients and final demand: x = (I - A)^-1 Y1 by a solve. S given.
  static MrioSystem from_A_Y(Labels labels, SparseMatrix A, Matrix Y, Matrix S,
                             Matrix F_Y = {}, Vector v = {}, int threads = 0);
  /// From coefficients and gross output (Y may be empty: no demand accounts). S given.
  static MrioSystem from_A_x(Labels labels, SparseMatrix A, Vector x, Matrix Y, Matrix S,
                             Matrix F_Y = {}, Vector v = {});

  const Labels& labels() const { return labels_; }
  const SparseMatrix& A() const { return A_; }
  const Vector& x() const { return x_; }
  const Matrix& Y() const { return Y_; }
  const Matrix& S() const { return S_; }
  const Matrix& F_Y() const { return F_Y_; }
  const Vector& v() const { return v_; }
  const Matrix& C() const { return C_; }
  bool has_F_Y() const { return F_Y_.size() > 0; }
  bool has_value_added() const { return v_.size() > 0; }
  bool has_indicators() const { return C_.size() > 0; }

  Index R() const { return labels_.R(); }
  Index N() const { return labels_.N(); }
  Index n() const { return labels_.n(); }
  Index c() const { return labels_.c(); }
  Index k() const { return labels_.k(); }

  /// k x n stressor flows F = S diag(x).
  Matrix F() const;
  /// n x n flows Z = A diag(x) (sparse; no dense n x n temporary).
  SparseMatrix Z() const;
  /// n x R final demand summed over each region's categories.
  Matrix Y_by_region() const;
  /// Index of a stressor by name; throws InputError naming the known stressors.
  Index stressor_index(const std::string& name) const;
  /// Index of a region by name; throws InputError.
  Index region_index(const std::string& name) const;
  /// Fraction of nonzero entries of A.
  double density() const;

 private:
  Labels labels_;
  SparseMatrix A_;
  Vector x_;
  Matrix Y_;
  Matrix S_;
  Matrix F_Y_;
  Vector v_;
  Matrix C_;
};

/// The solver of a system's I - A: block_size = 0 in `options` becomes the
/// system's N (each region's domestic block preconditions the iterative
/// solvers) when those blocks take at most 256 MB (2 n N doubles), else stays 0.
LeontiefSolver make_solver(const MrioSystem& system, SolverOptions options = {});

/// Productivity check of A: throws NumericError when the spectral radius of A
/// is >= 1 (column sums < 1 suffice; otherwise Collatz-Wielandt bounds from a
/// power iteration decide). Returns an upper bound of the spectral radius.
double check_productive(const SparseMatrix& A, const std::vector<std::string>* names = nullptr);

}  // namespace mriotrace
