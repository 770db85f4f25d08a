"""pymrio's ``tools.iomath`` names on plain arrays, computed without the Leontief inverse.

Every function takes NumPy arrays (A, Z may be scipy.sparse) and returns NumPy
arrays (or scipy.sparse CSC where the input was sparse). Shapes: n = regions x
sectors, k stressors.

=====================  ===========================================  ==============================
function               formula                                      cost
=====================  ===========================================  ==============================
calc_x(Z, Y)           x = Z 1 + Y 1                                O(nnz)
calc_A(Z, x)           A = Z diag(x)^-1, zero column where x = 0    O(nnz)
calc_Z(A, x)           Z = A diag(x)                                O(nnz)
calc_S(F, x)           S = F diag(x)^-1, zero column where x = 0    O(k n)
calc_F(S, x)           F = S diag(x)                                O(k n)
calc_M(S, A)           M = S (I - A)^-1 from (I - A)^T M^T = S^T    one factorisation, k solves
calc_accounts(S, A,    D_cba, D_pba, D_imp, D_exp (pymrio layout)   one factorisation, R + k + R k
  Y, nr_regions)                                                    solves
calc_L(A)              L = (I - A)^-1, dense                        n solves, n^2 doubles: the
                                                                    expensive one, only on request
=====================  ===========================================  ==============================

Unlike pymrio, calc_M and calc_accounts take A, not L. Functions that factor
I - A first check that A is productive (spectral radius < 1; pass
``check=False`` to skip) and every solve checks its residual, so a singular or
non-productive system raises mriotrace.NumericError (a RuntimeError).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _core
from ._util import as_csc, as_dense, safe_reciprocal

__all__ = ["calc_x", "calc_A", "calc_Z", "calc_S", "calc_F", "calc_L", "calc_M", "calc_accounts"]


def _vector(x, name: str) -> np.ndarray:
    return as_dense(x, name, ndim=1)


def _scale_columns(T, d: np.ndarray, name: str):
    """T diag(d): sparse in -> CSC out, dense in -> ndarray out."""
    if sp.issparse(T):
        T = as_csc(T, name)
        if T.shape[1] != d.shape[0]:
            raise ValueError(f"{name} has {T.shape[1]} columns; expected {d.shape[0]} (one per entry of x)")
        return sp.csc_array(T @ sp.diags_array(d))
    T = as_dense(T, name)
    if T.shape[1] != d.shape[0]:
        raise ValueError(f"{name} has {T.shape[1]} columns; expected {d.shape[0]} (one per entry of x)")
    return T * d[None, :]


def calc_x(Z, Y) -> np.ndarray:
    """Gross output x = Z 1 + Y 1, shape (n,). Z: (n, n) dense or sparse; Y: (n, m).

    pymrio returns an (n, 1) column; this returns a flat (n,) vector (every
    function here accepts both).
    """
    Yd = as_dense(Y, "Y") if np.ndim(Y) == 2 or sp.issparse(Y) else as_dense(Y, "Y", ndim=1)[:, None]
    n = Yd.shape[0]
    Zs = as_csc(Z, "Z") if sp.issparse(Z) else as_dense(Z, "Z")
    if Zs.shape != (n, n):
        raise ValueError(f"Z has shape {Zs.shape}; expected ({n}, {n}) (Y has {n} rows)")
    return np.asarray(Zs.sum(axis=1)).ravel() + Yd.sum(axis=1)


def calc_A(Z, x):
    """Technical coefficients A = Z diag(x)^-1, (n, n); columns where x = 0 are zero (as pymrio)."""
    return _scale_columns(Z, safe_reciprocal(_vector(x, "x")), "Z")


def calc_Z(A, x):
    """Flows Z = A diag(x), (n, n)."""
    return _scale_columns(A, _vector(x, "x"), "A")


def calc_S(F, x):
    """Direct intensities S = F diag(x)^-1, (k, n); 0 where x = 0 (as pymrio)."""
    return _scale_columns(F, safe_reciprocal(_vector(x, "x")), "F")


def calc_F(S, x):
    """Stressor flows F = S diag(x), (k, n)."""
    return _scale_columns(S, _vector(x, "x"), "S")


def _factor(A, solver: str, threads: int, check: bool, block_size: int = 0):
    A = as_csc(A, "A")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A has shape {A.shape}; expected a square (n, n) matrix")
    if check:
        _core.check_productive(A)
    return _core.LeontiefSolver(A, solver=solver, threads=threads, block_size=block_size)


def calc_L(A, *, threads: int = 0, solver: str = "auto", check: bool = True) -> np.ndarray:
    """The Leontief inverse L = (I - A)^-1 as a dense (n, n) array.

    The expensive one: n solves and n^2 doubles. Nothing else here needs it.
    """
    return _factor(A, solver, threads, check).leontief_inverse()


def calc_M(S, A, *, threads: int = 0, solver: str = "auto", check: bool = True) -> np.ndarray:
    """Total multipliers M = S (I - A)^-1, (k, n), from k transposed solves (no L).

    Note the argument: A, where pymrio's calc_M takes L.
    """
    S = as_dense(S, "S")
    fac = _factor(A, solver, threads, check)
    if S.shape[1] != fac.n:
        raise ValueError(f"S has shape {S.shape}; expected (k, {fac.n}) (one column per sector of A)")
    return _core.calc_M(fac, S)


def calc_accounts(S, A, Y, nr_regions: int, *, threads: int = 0, solver: str = "auto", check: bool = True):
    """(D_cba, D_pba, D_imp, D_exp), each (k, n), in pymrio's layout, without L.

    S: (k, n) intensities; A: (n, n); Y: (n, nr_regions) final demand with one
    column per region (categories summed, as pymrio's calc_accounts expects),
    regions in the order of A's region-major rows. D_cba and D_imp column
    (r, j): caused by region r's final demand for product j; D_pba and D_exp
    column (p, i): emitted by producer (p, i). Final-demand emissions (F_Y)
    are not part of these (pymrio adds them to the _reg totals only).
    """
    S = as_dense(S, "S")
    Y = as_dense(Y, "Y")
    n_A = A.shape[0]
    # Regions known: their domestic blocks precondition the iterative solvers (docs/solvers.md).
    # (Same rule as a solver built from a system: the blocks, 2 n N doubles, within 256 MB.)
    blocks = n_A // nr_regions if nr_regions > 1 and n_A % nr_regions == 0 else 0
    blocks = blocks if 16 * n_A * blocks <= 256 * 2**20 else 0
    fac = _factor(A, solver, threads, check, block_size=blocks)
    n = fac.n
    if S.shape[1] != n:
        raise ValueError(f"S has shape {S.shape}; expected (k, {n})")
    if Y.shape != (n, nr_regions):
        raise ValueError(f"Y has shape {Y.shape}; expected ({n}, {nr_regions}) = (sectors of A, nr_regions): "
                         "one column per region, categories summed")
    acc = _core.calc_accounts(fac, S, Y, None, int(nr_regions), sector_level=True, regional=False)
    return acc["D_cba"], acc["D_pba"], acc["D_imp"], acc["D_exp"]
