// Shared helpers of the _core bindings: sparse matrices to and from SciPy's
// CSC arrays, Accounts to and from dicts of NumPy arrays.
//
// Ownership rules (zero copy where the engine allows it):
//   - dense inputs arrive as Eigen::Ref<const Matrix>: a Fortran-ordered
//     float64 array is read in place, anything else is converted once;
//   - dense results are Eigen matrices moved into NumPy (capsule-owned);
//   - arrays owned by a bound object (a system's A, x, Y, ...) are returned as
//     read-only views that keep that object alive.
#pragma once

#include <nanobind/eigen/dense.h>
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <string>
#include <vector>

#include "mriotrace/accounts.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace::py {

namespace nb = nanobind;

/// Copy a scipy.sparse CSC matrix (attributes shape, data, indices, indptr;
/// float64 data, int64 indices, sorted within columns) into an Eigen CSC
/// matrix. The structure is validated; errors name `what`. Needs the GIL.
SparseMatrix csc_from_scipy(nb::handle obj, const char* what);

/// (data, indices, indptr) of a compressed CSC matrix as read-only NumPy views
/// kept alive by `owner` (the Python object that owns the matrix).
nb::tuple csc_views(const SparseMatrix& m, nb::handle owner);

/// A dense result moved into a NumPy array (no copy; freed with the array).
nb::object to_numpy(Matrix&& m);
nb::object to_numpy(Vector&& v);

/// Accounts -> dict of NumPy arrays (moved, no copy). Q becomes a (k, R, R)
/// array with Q[s, p, r] = stressor s emitted in region p for final demand of
/// region r (a strided view of the engine's k x R*R matrix, column p*R + r).
nb::dict accounts_to_dict(Accounts&& acc);

/// The inverse of accounts_to_dict (copies), for writing results to files.
Accounts accounts_from_dict(nb::handle d);

/// The readers' warnings (io::CollectWarnings, e.g. a file without
/// checksums) as Python UserWarnings; call with the GIL held after the read.
void python_warnings(const std::vector<std::string>& messages);

}  // namespace mriotrace::py
