// MrioSystem construction and validation.
//
// Everything is checked once, at the boundary, before any work: shapes
// against the labels, finiteness, signs, productivity. After build() the
// members are consistent, so the solvers and accounts need not re-check.
#include "mriotrace/system.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "mriotrace/error.hpp"

namespace mriotrace {
namespace {

void check_unique(const std::vector<std::string>& names, const char* what) {
  std::set<std::string> seen;
  for (const auto& s : names)
    MRIOTRACE_CHECK(seen.insert(s).second, "labels.", what, " contains \"", s, "\" twice; expected unique names");
}

void check_units(std::vector<std::string>& units, Index count, const char* what, const char* of) {
  if (units.empty()) units.assign(static_cast<size_t>(count), "");
  MRIOTRACE_CHECK(static_cast<Index>(units.size()) == count, "labels.", what, " has ", units.size(),
                  " entries; expected one per ", of, " (", count, ")");
}

bool given(const Matrix& m) { return m.size() > 0 || m.rows() > 0 || m.cols() > 0; }
bool given(const SparseMatrix& m) { return m.rows() > 0 || m.cols() > 0; }
bool given(const Vector& v) { return v.size() > 0; }

void check_shape(Index rows, Index cols, Index want_rows, Index want_cols, const char* what,
                 const char* expected) {
  MRIOTRACE_CHECK(rows == want_rows && cols == want_cols, what, " has shape ", rows, " x ", cols,
                  "; expected ", want_rows, " x ", want_cols, " (", expected, ")");
}

std::string position_label(const Labels& l, Index j) {
  const Index N = l.N();
  return "(" + l.regions[static_cast<size_t>(j / N)] + ", " + l.sectors[static_cast<size_t>(j % N)] + ")";
}

/// 1/x with 0 where x == 0 (pymrio's convention for zero-output sectors).
Vector safe_reciprocal(const Vector& x) {
  Vector r(x.size());
  for (Index i = 0; i < x.size(); ++i) r[i] = x[i] == 0.0 ? 0.0 : 1.0 / x[i];
  return r;
}

}  // namespace

void check_finite(const Eigen::Ref<const Matrix>& m, const char* what) {
  for (Index j = 0; j < m.cols(); ++j)
    for (Index i = 0; i < m.rows(); ++i)
      if (!std::isfinite(m(i, j)))
        throw InputError(detail::concat(what, " contains ", m(i, j), " at row ", i, ", column ", j,
                                        "; expected finite numbers (no NaN or Inf)"));
}

void check_finite(const SparseMatrix& m, const char* what) {
  for (Index j = 0; j < m.outerSize(); ++j)
    for (SparseMatrix::InnerIterator it(m, j); it; ++it)
      if (!std::isfinite(it.value()))
        throw InputError(detail::concat(what, " contains ", it.value(), " at row ", it.row(), ", column ",
                                        it.col(), "; expected finite numbers (no NaN or Inf)"));
}

double check_productive(const SparseMatrix& A, const std::vector<std::string>* names) {
  const Index n = A.cols();
  // rho(A) <= rho(|A|) <= max column sum of |A|: the common case ends here.
  Vector colsum = Vector::Zero(n);
  bool nonnegative = true;
  for (Index j = 0; j < n; ++j)
    for (SparseMatrix::InnerIterator it(A, j); it; ++it) {
      colsum[j] += std::abs(it.value());
      nonnegative = nonnegative && it.value() >= 0;
    }
  const double max_colsum = n > 0 ? colsum.maxCoeff() : 0.0;
  if (max_colsum < 1.0) return max_colsum;

  // Some column sums are >= 1 (negative value added happens in real tables).
  // For A >= 0, Collatz-Wielandt bounds from a power iteration on a positive
  // vector bracket the Perron root: min_i (Az)_i/z_i <= rho <= max_i (Az)_i/z_i.
  SparseMatrix absA = A.cwiseAbs();
  Vector z = Vector::Ones(n);
  double lower = 0, upper = max_colsum;
  for (int it = 0; it < 200; ++it) {
    Vector w = absA * z;
    double lo = INFINITY, hi = 0;
    for (Index i = 0; i < n; ++i) {
      const double ratio = w[i] / z[i];
      lo = std::min(lo, ratio);
      hi = std::max(hi, ratio);
    }
    lower = std::max(lower, lo);
    upper = std::min(upper, hi);
    if (upper < 1.0 || lower >= 1.0 || upper - lower < 1e-12) break;
    // Keep z strictly positive so the bounds stay valid for reducible A.
    z = w / w.maxCoeff() + Vector::Constant(n, 1e-300);
  }
  if (upper < 1.0) return upper;
  const double estimate = 0.5 * (lower + upper);
  if (nonnegative && (lower >= 1.0 || estimate >= 1.0)) {
    Index worst = 0;
    colsum.maxCoeff(&worst);
    std::ostringstream os;
    os << "the system is not productive: the spectral radius of A is about " << estimate
       << " (>= 1), so (I - A)^-1 has no meaningful non-negative solution; the largest column sum of A is "
       << max_colsum << " at column " << worst;
    if (names && static_cast<Index>(names->size()) == n) os << " " << (*names)[static_cast<size_t>(worst)];
    os << "; expected column sums below 1 (positive value added)";
    throw NumericError(os.str());
  }
  // A with negative entries and |A| not provably productive: the LU residual
  // check of the solver is the safeguard.
  return estimate;
}

MrioSystem MrioSystem::build(SystemInput in, int threads) {
  Labels& l = in.labels;
  MRIOTRACE_CHECK(l.R() >= 1, "labels.regions is empty; expected at least one region");
  MRIOTRACE_CHECK(l.N() >= 1, "labels.sectors is empty; expected at least one sector");
  check_unique(l.regions, "regions");
  check_unique(l.sectors, "sectors");
  check_unique(l.stressors, "stressors");
  check_unique(l.fd_categories, "fd_categories");
  check_units(l.stressor_units, l.k(), "stressor_units", "stressor");
  check_units(l.indicator_units, l.m(), "indicator_units", "indicator");
  const Index n = l.n(), R = l.R(), k = l.k();

  const bool hasZ = given(in.Z), hasA = given(in.A);
  MRIOTRACE_CHECK(hasZ != hasA, hasZ ? "both Z and A were given; expected exactly one"
                                     : "neither Z nor A was given; expected exactly one");
  const SparseMatrix& T = hasZ ? in.Z : in.A;
  check_shape(T.rows(), T.cols(), n, n, hasZ ? "Z" : "A", "n x n, n = regions x sectors");
  check_finite(T, hasZ ? "Z" : "A");

  const bool hasY = given(in.Y) && in.Y.cols() > 0;
  if (hasY) {
    MRIOTRACE_CHECK(l.c() >= 1, "labels.fd_categories is empty but Y was given; expected at least one category");
    check_shape(in.Y.rows(), in.Y.cols(), n, R * l.c(), "Y", "n x regions*fd_categories");
    check_finite(in.Y, "Y");
  } else {
    in.Y = Matrix::Zero(n, 0);
  }
  if (given(in.x)) {
    MRIOTRACE_CHECK(in.x.size() == n, "x has ", in.x.size(), " entries; expected n = ", n);
    check_finite(in.x, "x");
  }

  MrioSystem s;
  if (hasZ) {
    if (!given(in.x)) {
      MRIOTRACE_CHECK(hasY, "x cannot be computed from Z without Y; give Y or x");
      // x = Z1 + Y1: column-major sparse, so accumulate row sums column by column.
      in.x = in.Y.rowwise().sum();
      for (Index j = 0; j < n; ++j)
        for (SparseMatrix::InnerIterator it(in.Z, j); it; ++it) in.x[it.row()] += it.value();
    }
  } else if (!given(in.x)) {
    MRIOTRACE_CHECK(hasY, "x cannot be computed from A without Y; give Y or x");
    check_productive(in.A);
    LeontiefSolver solver(in.A, SolverOptions{SolverKind::Auto, threads});
    in.x = solver.solve(in.Y.rowwise().sum());
  }
  for (Index j = 0; j < n; ++j) {
    // Round-off in a computed x can leave -1e-17 where the true output is 0.
    if (in.x[j] < 0 && in.x[j] > -1e-12 * std::max(1.0, in.x.cwiseAbs().maxCoeff())) in.x[j] = 0;
    MRIOTRACE_CHECK(in.x[j] >= 0, "gross output x is negative (", in.x[j], ") at ", position_label(l, j),
                    "; expected x >= 0");
  }

  const Vector recix = safe_reciprocal(in.x);
  if (hasZ) {
    s.A_ = in.Z * recix.asDiagonal();  // A = Z diag(x)^-1, zero column where x = 0
    s.A_.prune(0.0);
  } else {
    s.A_.swap(in.A);  // Eigen 3.4 sparse matrices have no move constructor: std::move would copy
    s.A_.prune(0.0);
  }
  s.A_.makeCompressed();
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(n));
  for (Index j = 0; j < n; ++j) names.push_back(position_label(l, j));
  check_productive(s.A_, &names);

  const bool hasF = given(in.F), hasS = given(in.S);
  MRIOTRACE_CHECK(!(hasF && hasS), "both F and S were given; expected at most one");
  if (hasF) {
    check_shape(in.F.rows(), in.F.cols(), k, n, "F", "stressors x n");
    check_finite(in.F, "F");
    s.S_ = in.F * recix.asDiagonal();
  } else if (hasS) {
    check_shape(in.S.rows(), in.S.cols(), k, n, "S", "stressors x n");
    check_finite(in.S, "S");
    s.S_ = std::move(in.S);
  } else {
    MRIOTRACE_CHECK(k == 0, "labels.stressors has ", k, " names but neither F nor S was given");
    s.S_ = Matrix::Zero(0, n);
  }
  if (given(in.F_Y)) {
    MRIOTRACE_CHECK(hasY, "F_Y was given without Y; expected Y to define the final-demand columns");
    check_shape(in.F_Y.rows(), in.F_Y.cols(), k, R * l.c(), "F_Y", "stressors x regions*fd_categories");
    check_finite(in.F_Y, "F_Y");
    s.F_Y_ = std::move(in.F_Y);
  }
  if (given(in.v)) {
    MRIOTRACE_CHECK(in.v.size() == n, "v (value added) has ", in.v.size(), " entries; expected n = ", n);
    check_finite(in.v, "v");
    s.v_ = std::move(in.v);
  }
  if (given(in.C)) {
    check_shape(in.C.rows(), in.C.cols(), l.m(), k, "C", "indicators x stressors");
    check_finite(in.C, "C");
    s.C_ = std::move(in.C);
  } else {
    MRIOTRACE_CHECK(l.m() == 0, "labels.indicators has ", l.m(), " names but no characterisation matrix C was given");
  }
  s.x_ = std::move(in.x);
  s.Y_ = std::move(in.Y);
  s.labels_ = std::move(in.labels);
  return s;
}

MrioSystem MrioSystem::from_Z(Labels labels, const SparseMatrix& Z, Matrix Y, Matrix F, Matrix F_Y, Vector v) {
  SystemInput in;
  in.labels = std::move(labels);
  in.Z = Z;
  in.Y = std::move(Y);
  in.F = std::move(F);
  in.F_Y = std::move(F_Y);
  in.v = std::move(v);
  return build(std::move(in));
}

MrioSystem MrioSystem::from_A_Y(Labels labels, SparseMatrix A, Matrix Y, Matrix S, Matrix F_Y, Vector v,
                                int threads) {
  MRIOTRACE_CHECK(given(Y) && Y.cols() > 0, "from_A_Y needs final demand Y; it is empty");
  SystemInput in;
  in.labels = std::move(labels);
  in.A = std::move(A);
  in.Y = std::move(Y);
  in.S = std::move(S);
  in.F_Y = std::move(F_Y);
  in.v = std::move(v);
  return build(std::move(in), threads);
}

MrioSystem MrioSystem::from_A_x(Labels labels, SparseMatrix A, Vector x, Matrix Y, Matrix S, Matrix F_Y,
                                Vector v) {
  MRIOTRACE_CHECK(x.size() > 0, "from_A_x needs gross output x; it is empty");
  SystemInput in;
  in.labels = std::move(labels);
  in.A = std::move(A);
  in.x = std::move(x);
  in.Y = std::move(Y);
  in.S = std::move(S);
  in.F_Y = std::move(F_Y);
  in.v = std::move(v);
  return build(std::move(in));
}

Matrix MrioSystem::F() const { return S_ * x_.asDiagonal(); }

SparseMatrix MrioSystem::Z() const {
  SparseMatrix Z = A_ * x_.asDiagonal();
  Z.makeCompressed();
  return Z;
}

Matrix MrioSystem::Y_by_region() const {
  const Index R = this->R(), c = this->c(), n = this->n();
  Matrix Yr = Matrix::Zero(n, R);
  if (Y_.cols() == 0) return Yr;
  for (Index r = 0; r < R; ++r) Yr.col(r) = Y_.middleCols(r * c, c).rowwise().sum();
  return Yr;
}

Index MrioSystem::stressor_index(const std::string& name) const {
  const auto& s = labels_.stressors;
  auto it = std::find(s.begin(), s.end(), name);
  if (it != s.end()) return static_cast<Index>(it - s.begin());
  std::ostringstream os;
  os << "unknown stressor \"" << name << "\"; known stressors: ";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << '"' << s[i] << '"';
  throw InputError(os.str());
}

Index MrioSystem::region_index(const std::string& name) const {
  const auto& r = labels_.regions;
  auto it = std::find(r.begin(), r.end(), name);
  if (it != r.end()) return static_cast<Index>(it - r.begin());
  std::ostringstream os;
  os << "unknown region \"" << name << "\"; known regions: ";
  for (size_t i = 0; i < r.size(); ++i) os << (i ? ", " : "") << '"' << r[i] << '"';
  throw InputError(os.str());
}

double MrioSystem::density() const {
  const double n = static_cast<double>(this->n());
  return n > 0 ? static_cast<double>(A_.nonZeros()) / (n * n) : 0.0;
}

LeontiefSolver make_solver(const MrioSystem& system, SolverOptions options) {
  // Each region's domestic block preconditions the iterative solvers, unless
  // the blocks are too big to store densely (e.g. a firm network's regions).
  constexpr double kMaxSystemBlockBytes = 256.0 * 1024 * 1024;
  if (options.block_size == 0 && system.R() > 1 &&
      16.0 * static_cast<double>(system.n()) * static_cast<double>(system.N()) <= kMaxSystemBlockBytes)
    options.block_size = system.N();
  return LeontiefSolver(system.A(), options);
}

}  // namespace mriotrace
