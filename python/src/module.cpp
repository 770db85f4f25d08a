// mriotrace._core: the compiled layer of the Python package.
//
// Error mapping (the engine throws typed exceptions, error.hpp):
//   InputError   -> mriotrace.InputError(ValueError)    bad shapes, values, labels
//   NumericError -> mriotrace.NumericError(RuntimeError) singular / non-productive
//   FileError    -> mriotrace.FileError(OSError)         missing, truncated, foreign files
// The subclasses let callers catch the standard exception or ours.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <cstdint>

#include "common.hpp"
#include "mriotrace/error.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mriotrace::py {

void bind_core(nb::module_& m);
void bind_io(nb::module_& m);
void bind_tracing(nb::module_& m);
void bind_scenario(nb::module_& m);
void bind_batch(nb::module_& m);
void bind_datasets(nb::module_& m);

SparseMatrix csc_from_scipy(nb::handle obj, const char* what) {
  using F64 = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
  using I64 = nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
  if (!nb::hasattr(obj, "indptr") || !nb::hasattr(obj, "indices") || !nb::hasattr(obj, "data") ||
      !nb::hasattr(obj, "shape"))
    throw InputError(detail::concat(what, " must be a scipy.sparse CSC matrix (data, indices, indptr, shape); got ",
                                    nb::cast<std::string>(nb::str(obj.type()))));
  if (nb::hasattr(obj, "format") && nb::cast<std::string>(obj.attr("format")) != "csc")
    throw InputError(detail::concat(what, " must be in CSC format; got ",
                                    nb::cast<std::string>(obj.attr("format")), " (convert with .tocsc())"));
  nb::tuple shape = nb::cast<nb::tuple>(obj.attr("shape"));
  const Index rows = nb::cast<Index>(shape[0]), cols = nb::cast<Index>(shape[1]);
  F64 data;
  I64 indices, indptr;
  if (!nb::try_cast(obj.attr("data"), data, true))
    throw InputError(detail::concat(what, ".data must be a 1-D float64 array"));
  if (!nb::try_cast(obj.attr("indices"), indices, true) || !nb::try_cast(obj.attr("indptr"), indptr, true))
    throw InputError(detail::concat(what, ".indices and .indptr must be 1-D int64 arrays"));

  MRIOTRACE_CHECK(static_cast<Index>(indptr.shape(0)) == cols + 1, what, ".indptr has ", indptr.shape(0),
                  " entries; expected columns + 1 = ", cols + 1);
  const std::int64_t* p = indptr.data();
  const std::int64_t* idx = indices.data();
  MRIOTRACE_CHECK(p[0] == 0, what, ".indptr[0] is ", p[0], "; expected 0");
  const Index nnz = p[cols];
  MRIOTRACE_CHECK(static_cast<Index>(data.shape(0)) == nnz && static_cast<Index>(indices.shape(0)) == nnz, what,
                  " has ", data.shape(0), " values and ", indices.shape(0), " row indices; expected indptr[-1] = ",
                  nnz);
  for (Index j = 0; j < cols; ++j) {
    MRIOTRACE_CHECK(p[j] <= p[j + 1], what, ".indptr decreases at column ", j);
    for (Index q = p[j]; q < p[j + 1]; ++q) {
      MRIOTRACE_CHECK(idx[q] >= 0 && idx[q] < rows, what, " has row index ", idx[q], " in column ", j,
                      "; expected 0 <= row < ", rows);
      // Eigen needs sorted, duplicate-free columns (scipy: sum_duplicates()).
      MRIOTRACE_CHECK(q == p[j] || idx[q - 1] < idx[q], what, " has unsorted or duplicate row indices in column ",
                      j, "; call .sum_duplicates() and .sort_indices() first");
    }
  }
  return SparseMatrix(Eigen::Map<const SparseMatrix>(rows, cols, nnz, p, idx, data.data()));
}

nb::tuple csc_views(const SparseMatrix& m, nb::handle owner) {
  MRIOTRACE_CHECK(m.isCompressed(), "internal: sparse matrix is not compressed");
  const size_t nnz = static_cast<size_t>(m.nonZeros()), ptr = static_cast<size_t>(m.outerSize() + 1);
  nb::ndarray<nb::numpy, const double, nb::ndim<1>> data(m.valuePtr(), {nnz}, owner);
  nb::ndarray<nb::numpy, const std::int64_t, nb::ndim<1>> indices(m.innerIndexPtr(), {nnz}, owner);
  nb::ndarray<nb::numpy, const std::int64_t, nb::ndim<1>> indptr(m.outerIndexPtr(), {ptr}, owner);
  return nb::make_tuple(nb::make_tuple(m.rows(), m.cols()), data, indices, indptr);
}

nb::object to_numpy(Matrix&& m) { return nb::cast(std::move(m), nb::rv_policy::move); }
nb::object to_numpy(Vector&& v) { return nb::cast(std::move(v), nb::rv_policy::move); }

nb::dict accounts_to_dict(Accounts&& acc) {
  nb::dict d;
  const auto regions = static_cast<size_t>(acc.D_cba_reg.cols());  // read before D_cba_reg is moved out
  d["stressors"] = nb::cast(acc.stressors);
  d["sector_level"] = acc.sector_level;
  d["regional"] = acc.regional;
  d["x"] = to_numpy(std::move(acc.x));
  auto put = [&](const char* key, Matrix& m, bool filled) {
    d[key] = filled ? to_numpy(std::move(m)) : nb::none();
  };
  put("M", acc.M, acc.sector_level);
  put("D_cba", acc.D_cba, acc.sector_level);
  put("D_pba", acc.D_pba, acc.sector_level);
  put("D_imp", acc.D_imp, acc.sector_level);
  put("D_exp", acc.D_exp, acc.sector_level);
  put("D_cba_reg", acc.D_cba_reg, acc.regional);
  put("D_pba_reg", acc.D_pba_reg, acc.regional);
  put("D_imp_reg", acc.D_imp_reg, acc.regional);
  put("D_exp_reg", acc.D_exp_reg, acc.regional);
  if (acc.regional) {
    const size_t k = static_cast<size_t>(acc.Q.rows()), R = regions;
    // Column-major k x R*R, column p*R + r  ->  element strides (1, k*R, k) for [s, p, r].
    auto* q = new Matrix(std::move(acc.Q));
    nb::capsule owner(q, [](void* ptr) noexcept { delete static_cast<Matrix*>(ptr); });
    const size_t shape[3] = {k, R, R};
    const std::int64_t strides[3] = {1, static_cast<std::int64_t>(k * R), static_cast<std::int64_t>(k)};
    d["Q"] = nb::ndarray<nb::numpy, double, nb::ndim<3>>(q->data(), 3, shape, owner, strides).cast();
  } else {
    d["Q"] = nb::none();
  }
  return d;
}

Accounts accounts_from_dict(nb::handle h) {
  nb::dict d = nb::cast<nb::dict>(h);
  Accounts acc;
  auto get = [&](const char* key, Matrix& out) {
    if (d.contains(key) && !d[key].is_none()) out = nb::cast<Matrix>(d[key]);
  };
  if (d.contains("stressors")) acc.stressors = nb::cast<std::vector<Index>>(d["stressors"]);
  if (d.contains("x") && !d["x"].is_none()) acc.x = nb::cast<Vector>(d["x"]);
  acc.sector_level = d.contains("D_cba") && !d["D_cba"].is_none();
  acc.regional = d.contains("D_cba_reg") && !d["D_cba_reg"].is_none();
  for (auto [key, mat] : {std::pair<const char*, Matrix*>{"M", &acc.M}, {"D_cba", &acc.D_cba}, {"D_pba", &acc.D_pba},
                          {"D_imp", &acc.D_imp}, {"D_exp", &acc.D_exp}, {"D_cba_reg", &acc.D_cba_reg},
                          {"D_pba_reg", &acc.D_pba_reg}, {"D_imp_reg", &acc.D_imp_reg},
                          {"D_exp_reg", &acc.D_exp_reg}})
    get(key, *mat);
  if (d.contains("Q") && !d["Q"].is_none()) {
    using Q3 = nb::ndarray<const double, nb::ndim<3>, nb::device::cpu>;
    Q3 q;
    if (!nb::try_cast(d["Q"], q, true)) throw InputError("accounts Q must be a float64 array of shape (k, R, R)");
    const Index k = static_cast<Index>(q.shape(0)), R = static_cast<Index>(q.shape(1));
    MRIOTRACE_CHECK(static_cast<Index>(q.shape(2)) == R, "accounts Q has shape (", k, ", ", R, ", ", q.shape(2),
                    "); expected (k, R, R)");
    auto v = q.view();
    acc.Q.resize(k, R * R);
    for (Index p = 0; p < R; ++p)
      for (Index r = 0; r < R; ++r)
        for (Index s = 0; s < k; ++s) acc.Q(s, p * R + r) = v(s, p, r);
  }
  return acc;
}

}  // namespace mriotrace::py

NB_MODULE(_core, m) {
  m.doc() = "mriotrace compiled core (nanobind): thin bindings of the C++ engine. Use the `mriotrace` package.";
  m.attr("__version__") = MRIOTRACE_VERSION;

  nb::exception<mriotrace::InputError>(m, "InputError", PyExc_ValueError);
  nb::exception<mriotrace::NumericError>(m, "NumericError", PyExc_RuntimeError);
  nb::exception<mriotrace::FileError>(m, "FileError", PyExc_OSError);

  mriotrace::py::bind_core(m);
  mriotrace::py::bind_io(m);
  mriotrace::py::bind_tracing(m);
  mriotrace::py::bind_scenario(m);
  mriotrace::py::bind_batch(m);
  mriotrace::py::bind_datasets(m);
}
