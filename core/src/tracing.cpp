// Production layers, hypothetical extraction, linkages and the Ghosh model
// (tracing.hpp). Every L product is a solve with the base factorisation;
// extractions of small sets are Woodbury updates of it.
#include <algorithm>
#include <optional>

#include "mriotrace/accounts.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/tracing.hpp"

namespace mriotrace {
namespace {

void check_square(const SparseMatrix& A, const LeontiefSolver& solver) {
  MRIOTRACE_CHECK(A.rows() == solver.n() && A.cols() == solver.n(), "A is ", A.rows(), " x ", A.cols(),
                  "; expected the solver's n x n with n = ", solver.n());
}

void check_S(const Eigen::Ref<const Matrix>& S, Index n) {
  MRIOTRACE_CHECK(S.cols() == n, "S has ", S.cols(), " columns; expected n = ", n);
  check_finite(S, "S");
}

void check_vector(const Eigen::Ref<const Vector>& v, Index n, const char* what) {
  MRIOTRACE_CHECK(v.size() == n, what, " has ", v.size(), " entries; expected n = ", n);
  check_finite(v, what);
}

Vector solve1(const LeontiefSolver& solver, const Vector& b, bool transposed = false) {
  const Eigen::Map<const Matrix> B(b.data(), b.size(), 1);
  return (transposed ? solver.solve_transposed(B) : solver.solve(B)).col(0);
}

/// 1 / x, 0 where x = 0 (a sector without output has no coefficients).
Vector safe_inverse(const Eigen::Ref<const Vector>& x) {
  return x.unaryExpr([](double v) { return v == 0 ? 0.0 : 1.0 / v; });
}

}  // namespace

// --- production layers -------------------------------------------------------

ProductionLayers production_layers(const SparseMatrix& A, const LeontiefSolver& solver,
                                   const Eigen::Ref<const Matrix>& S, const Eigen::Ref<const Vector>& y, int T,
                                   Index R) {
  check_square(A, solver);
  const Index n = solver.n(), k = S.rows();
  check_S(S, n);
  check_vector(y, n, "demand vector y");
  MRIOTRACE_CHECK(T >= 0 && T <= kSpaMaxDepth, "T = ", T, " tiers; expected 0..", kSpaMaxDepth);
  MRIOTRACE_CHECK(R >= 1 && n % R == 0, "n = ", n, " is not a multiple of the number of regions R = ", R);
  const Index N = n / R, cols = T + 2;

  ProductionLayers out;
  out.output.resize(n, cols);
  // Tier t: A^t y (one sparse product per tier); remainder: L y - sum_t A^t y.
  Vector layer = y;
  Vector sum = Vector::Zero(n);
  for (int t = 0; t <= T; ++t) {
    out.output.col(t) = layer;
    sum += layer;
    if (t < T) layer = A * layer;
  }
  const Vector x = solve1(solver, Vector(y));
  out.output.col(T + 1) = x - sum;

  out.emissions = Matrix::Zero(k * cols, R);
  out.totals.resize(k, cols);
  for (Index s = 0; s < k; ++s)
    for (Index t = 0; t < cols; ++t) {
      for (Index r = 0; r < R; ++r)
        out.emissions(s * cols + t, r) = S.row(s).segment(r * N, N).dot(out.output.col(t).segment(r * N, N));
      out.totals(s, t) = out.emissions.row(s * cols + t).sum();
    }
  out.total = S * x;
  return out;
}

// --- hypothetical extraction ------------------------------------------------

ExtractionMode extraction_mode_from_string(const std::string& name) {
  if (name == "full") return ExtractionMode::Full;
  if (name == "backward") return ExtractionMode::Backward;
  if (name == "forward") return ExtractionMode::Forward;
  throw InputError("unknown extraction mode \"" + name + "\"; expected full, backward or forward");
}

std::string to_string(ExtractionMode mode) {
  switch (mode) {
    case ExtractionMode::Full: return "full";
    case ExtractionMode::Backward: return "backward";
    default: return "forward";
  }
}

ExtractionMethod extraction_method_from_string(const std::string& name) {
  if (name == "auto") return ExtractionMethod::Auto;
  if (name == "woodbury") return ExtractionMethod::Woodbury;
  if (name == "refactor") return ExtractionMethod::Refactor;
  throw InputError("unknown extraction method \"" + name + "\"; expected auto, woodbury or refactor");
}

namespace {

/// Validated sets (sorted, unique, in range): one result each with its
/// sectors, and their masks over the n positions.
void checked_sets(const std::vector<std::vector<Index>>& sets, Index n, std::vector<ExtractionResult>& out,
                  std::vector<std::vector<char>>& masks) {
  MRIOTRACE_CHECK(!sets.empty(), "no sector sets to extract; expected at least one");
  out.assign(sets.size(), {});
  masks.assign(sets.size(), {});
  for (size_t i = 0; i < sets.size(); ++i) {
    std::vector<Index> E = sets[i];
    MRIOTRACE_CHECK(!E.empty(), "sector set ", i, " is empty; expected at least one sector index");
    for (Index j : E)
      MRIOTRACE_CHECK(j >= 0 && j < n, "sector set ", i, " has index ", j, "; expected 0 <= index < n = ", n);
    std::sort(E.begin(), E.end());
    E.erase(std::unique(E.begin(), E.end()), E.end());
    masks[i].assign(static_cast<size_t>(n), 0);
    for (Index j : E) masks[i][static_cast<size_t>(j)] = 1;
    out[i].sectors = std::move(E);
  }
}

/// A* for a set E (the refactor path): E's rows and/or columns set to zero
/// but kept as stored entries, so A* has A's pattern and a solver of A (or
/// of another A*) refactors it with its symbolic analysis reused.
SparseMatrix extracted_A(const SparseMatrix& A, const std::vector<char>& in_E, ExtractionMode mode) {
  SparseMatrix B = A;
  B.makeCompressed();
  const bool rows = mode != ExtractionMode::Backward, cols = mode != ExtractionMode::Forward;
  for (Index j = 0; j < B.outerSize(); ++j)
    for (SparseMatrix::InnerIterator it(B, j); it; ++it)
      if ((rows && in_E[static_cast<size_t>(it.row())]) || (cols && in_E[static_cast<size_t>(j)])) it.valueRef() = 0;
  return B;
}

/// The low-rank factors of A - A* = U V^T (dense, n x rank).
///   backward: A[:, E] e_E^T                         U = A[:, E],  V = e_E
///   forward:  e_E A[E, :]                           U = e_E,      V = A[E, :]^T
///   full:     A[:, E] e_E^T + e_E A[E, :] D_notE    U = [A[:, E], e_E], V = [e_E, (A[E, :] D_notE)^T]
void low_rank_factors(const SparseMatrix& A, const std::vector<Index>& E, const std::vector<char>& in_E,
                      ExtractionMode mode, Matrix& U, Matrix& V) {
  const Index n = A.rows(), e = static_cast<Index>(E.size());
  const Index rank = mode == ExtractionMode::Full ? 2 * e : e;
  U = Matrix::Zero(n, rank);
  V = Matrix::Zero(n, rank);
  const SparseMatrix At = A.transpose();  // rows of A as CSC columns
  for (Index b = 0; b < e; ++b) {
    const Index j = E[static_cast<size_t>(b)];
    if (mode != ExtractionMode::Forward) {  // the column part
      for (SparseMatrix::InnerIterator it(A, j); it; ++it) U(it.row(), b) = it.value();
      V(j, b) = 1.0;
    }
    if (mode != ExtractionMode::Backward) {  // the row part (without E's columns in full mode)
      const Index c = mode == ExtractionMode::Full ? e + b : b;
      U(j, c) = 1.0;
      for (SparseMatrix::InnerIterator it(At, j); it; ++it)
        if (mode == ExtractionMode::Forward || !in_E[static_cast<size_t>(it.row())]) V(it.row(), c) = it.value();
    }
  }
}

}  // namespace

std::vector<ExtractionResult> hypothetical_extraction(const SparseMatrix& A, const LeontiefSolver& solver,
                                                      const Eigen::Ref<const Matrix>& S,
                                                      const Eigen::Ref<const Vector>& y,
                                                      const std::vector<std::vector<Index>>& sets,
                                                      ExtractionMode mode, ExtractionMethod method) {
  check_square(A, solver);
  const Index n = solver.n();
  check_S(S, n);
  check_vector(y, n, "demand vector y");
  MRIOTRACE_CHECK(!sets.empty(), "no sector sets to extract; expected at least one");

  std::vector<ExtractionResult> out;
  std::vector<std::vector<char>> masks;
  checked_sets(sets, n, out, masks);

  const Vector x = solve1(solver, Vector(y));
  const Index rank_limit = std::max<Index>(64, n / 20);
  auto rank_of = [&](const ExtractionResult& r) {
    return static_cast<Index>(r.sectors.size()) * (mode == ExtractionMode::Full ? 2 : 1);
  };
  auto demand_after = [&](size_t i) {
    Vector ys = y;
    if (mode == ExtractionMode::Full)
      for (Index j : out[i].sectors) ys[j] = 0;
    return ys;
  };

  // Woodbury sets: all their right-hand sides (y*, U) in one block solve.
  std::vector<size_t> wood;
  for (size_t i = 0; i < sets.size(); ++i) {
    const bool use = method == ExtractionMethod::Woodbury ||
                     (method == ExtractionMethod::Auto && rank_of(out[i]) <= rank_limit);
    if (use) wood.push_back(i);
  }
  if (!wood.empty()) {
    std::vector<Matrix> Us(wood.size()), Vs(wood.size());
    Index cols = 0;
    for (size_t w = 0; w < wood.size(); ++w) {
      low_rank_factors(A, out[wood[w]].sectors, masks[wood[w]], mode, Us[w], Vs[w]);
      cols += 1 + Us[w].cols();
    }
    Matrix rhs(n, cols);
    Index c = 0;
    for (size_t w = 0; w < wood.size(); ++w) {
      rhs.col(c++) = demand_after(wood[w]);
      rhs.middleCols(c, Us[w].cols()) = Us[w];
      c += Us[w].cols();
    }
    const Matrix sol = solver.solve(rhs);
    c = 0;
    for (size_t w = 0; w < wood.size(); ++w) {
      // (I - A + U V^T)^-1 y* = L y* - L U (I + V^T L U)^-1 V^T L y*
      const Index r = Us[w].cols();
      const Vector Ly = sol.col(c++);
      const auto LU = sol.middleCols(c, r);
      c += r;
      const Matrix K = Matrix::Identity(r, r) + Vs[w].transpose() * LU;
      const Eigen::FullPivLU<Matrix> lu(K);
      if (!lu.isInvertible() || lu.rcond() < 1e-13)
        throw NumericError(detail::concat("extracting sector set ", wood[w],
                                          " leaves I - A* singular (capacitance matrix rcond ", lu.rcond(), ")"));
      ExtractionResult& res = out[wood[w]];
      res.x_star = Ly - LU * lu.solve(Vs[w].transpose() * Ly);
      res.woodbury = true;
    }
  }
  for (size_t i = 0; i < sets.size(); ++i) {
    if (out[i].woodbury) continue;
    const LeontiefSolver refactored = solver.refactored(extracted_A(A, masks[i], mode));
    out[i].x_star = solve1(refactored, demand_after(i));
  }
  for (ExtractionResult& res : out) {
    res.x = x;
    const Vector dx = x - res.x_star;
    res.delta_D = S * dx.asDiagonal();
    res.delta_total = S * dx;
  }
  return out;
}

std::vector<ExtractionResult> ghosh_forward_extraction(const SparseMatrix& A, const Eigen::Ref<const Vector>& x,
                                                       const Eigen::Ref<const Matrix>& S,
                                                       const std::vector<std::vector<Index>>& sets,
                                                       const SolverOptions& options) {
  const Index n = A.rows();
  MRIOTRACE_CHECK(A.cols() == n, "A is ", A.rows(), " x ", A.cols(), "; expected square");
  check_S(S, n);
  check_vector(x, n, "gross output x");
  std::vector<ExtractionResult> out;
  std::vector<std::vector<char>> masks;
  checked_sets(sets, n, out, masks);
  // Primary-input coefficients of the table: 1 - column sums of A.
  Vector vc = Vector::Ones(n);
  for (Index j = 0; j < A.outerSize(); ++j)
    for (SparseMatrix::InnerIterator it(A, j); it; ++it) vc[it.col()] -= it.value();
  // One solver, refactored per set: every A* has A's pattern, so the
  // symbolic analysis of the first is reused by the others.
  std::optional<LeontiefSolver> extracted;
  for (size_t i = 0; i < sets.size(); ++i) {
    // x*^T (I - B*) = v^T  <=>  (I - A*)^T (x^-1 x*) = v / x,  A* = x B* x^-1 = A without E's rows.
    const SparseMatrix As = extracted_A(A, masks[i], ExtractionMode::Forward);
    if (extracted)
      extracted->refactor(As);
    else
      extracted.emplace(As, options);
    ExtractionResult& res = out[i];
    res.x = x;
    res.x_star = x.cwiseProduct(solve1(*extracted, vc, true));
    const Vector dx = x - res.x_star;
    res.delta_D = S * dx.asDiagonal();
    res.delta_total = S * dx;
  }
  return out;
}

// --- Ghosh model and linkages ---------------------------------------------

SparseMatrix ghosh_B(const SparseMatrix& A, const Eigen::Ref<const Vector>& x) {
  MRIOTRACE_CHECK(A.rows() == A.cols(), "A is ", A.rows(), " x ", A.cols(), "; expected square");
  check_vector(x, A.rows(), "gross output x");
  // B = x^-1 A x: b_ij = a_ij x_j / x_i.
  const Vector inv = safe_inverse(x);
  SparseMatrix B = inv.asDiagonal() * A * x.asDiagonal();
  B.makeCompressed();
  return B;
}

Matrix ghosh_G(const LeontiefSolver& solver, const Eigen::Ref<const Vector>& x) {
  check_vector(x, solver.n(), "gross output x");
  return safe_inverse(x).asDiagonal() * solver.leontief_inverse() * x.asDiagonal();
}

Matrix ghosh_M_down(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                    const Eigen::Ref<const Vector>& x) {
  const Index n = solver.n();
  check_S(S, n);
  check_vector(x, n, "gross output x");
  // M_down = S G^T = S x L^T x^-1  ->  M_down^T = x^-1 L (S x)^T: k solves.
  const Matrix Ft = (S * x.asDiagonal()).transpose();
  return (safe_inverse(x).asDiagonal() * solver.solve(Ft)).transpose();
}

Linkages linkages(const LeontiefSolver& solver, const Eigen::Ref<const Matrix>& S,
                  const Eigen::Ref<const Vector>& x) {
  const Index n = solver.n();
  check_S(S, n);
  check_vector(x, n, "gross output x");
  MRIOTRACE_CHECK((x.array() >= 0).all(), "gross output x has negative entries; expected x >= 0");
  Linkages out;
  auto normalise = [n](const Vector& v) {
    const double mean = v.sum() / static_cast<double>(n);
    return mean == 0 ? Vector(Vector::Zero(n)) : Vector(v / mean);
  };
  // Backward: 1^T L (one transposed solve); forward: G 1 = x^-1 L x (one solve).
  Matrix rhs(n, 2);
  rhs.col(0).setOnes();
  rhs.col(1) = x;
  out.backward_total = solver.solve_transposed(rhs.col(0)).col(0);
  out.forward_total = safe_inverse(x).cwiseProduct(solver.solve(rhs.col(1)).col(0));
  out.backward = normalise(out.backward_total);
  out.forward = normalise(out.forward_total);
  out.M = S.rows() > 0 ? calc_M(solver, S) : Matrix(0, n);
  out.environmental.resize(S.rows(), n);
  for (Index s = 0; s < S.rows(); ++s) out.environmental.row(s) = normalise(out.M.row(s).transpose()).transpose();
  return out;
}

}  // namespace mriotrace
