// Matrix types shared by the whole engine.
//
// Dense matrices are Eigen column-major (Fortran order), so NumPy arrays in
// Fortran order and LAPACK see the same memory. Sparse matrices are CSC with
// 64-bit indices, the layout UMFPACK's *_dl_* routines and scipy.sparse.csc_array
// (int64 indices) use.
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <cstdint>

namespace mriotrace {

using Index = std::int64_t;
using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using Vector = Eigen::VectorXd;
using RowVector = Eigen::RowVectorXd;
using SparseMatrix = Eigen::SparseMatrix<double, Eigen::ColMajor, Index>;

}  // namespace mriotrace
