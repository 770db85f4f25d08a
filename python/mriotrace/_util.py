"""Array conversions at the boundary to the compiled core.

The core takes float64 arrays (Fortran order is read without a copy) and
scipy.sparse CSC matrices with int64 indices, sorted and duplicate-free.
Everything that reaches ``mriotrace._core`` goes through these helpers, so
wrong input fails here with a ValueError naming the argument.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def as_dense(a, name: str, ndim: int = 2) -> np.ndarray:
    """float64 array (Fortran order for 2-D, so the core reads it in place)."""
    if isinstance(a, (pd.DataFrame, pd.Series)):
        a = a.to_numpy()
    if sp.issparse(a):
        a = a.toarray()
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {type(a).__name__} ({exc})") from None
    if ndim == 1 and arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)  # accept pymrio's (n, 1) column vectors
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional; got shape {arr.shape}")
    return np.asfortranarray(arr) if ndim == 2 else np.ascontiguousarray(arr)


def as_csc(a, name: str) -> sp.csc_array:
    """scipy.sparse CSC, float64 values, int64 indices, sorted and duplicate-free."""
    if isinstance(a, pd.DataFrame):
        a = a.to_numpy()
    if sp.issparse(a):
        m = sp.csc_array(a, dtype=np.float64)
        if m is a:  # never modify the caller's matrix in place below
            m = m.copy()
    else:
        dense = as_dense(a, name)
        m = sp.csc_array(dense)
    if m.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional; got shape {m.shape}")
    m.sum_duplicates()  # also sorts the indices
    # scipy picks int32 indices when they fit; the core's CSC uses int64.
    m.indices = m.indices.astype(np.int64, copy=False)
    m.indptr = m.indptr.astype(np.int64, copy=False)
    return m


def check_shape(arr, expected: tuple, name: str, meaning: str) -> None:
    """ValueError naming `name` when arr.shape != expected."""
    if tuple(arr.shape) != tuple(expected):
        raise ValueError(f"{name} has shape {tuple(arr.shape)}; expected {tuple(expected)} ({meaning})")


def check_finite(arr, name: str, index=None, columns=None) -> None:
    """ValueError naming the first NaN/Inf entry of `arr`, by label when labels are given."""
    values = arr.data if sp.issparse(arr) else np.asarray(arr)
    if np.isfinite(values).all():
        return
    if sp.issparse(arr):
        coo = sp.coo_array(arr)
        k = int(np.flatnonzero(~np.isfinite(coo.data))[0])
        pos = (int(coo.row[k]), int(coo.col[k]))
        bad = coo.data[k]
    else:
        pos = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        bad = values[pos]
    where = f"position {pos}"
    if index is not None and len(pos) >= 1:
        where = f"row {index[pos[0]]!r}" + (f", column {columns[pos[1]]!r}" if columns is not None and len(pos) == 2 else "")
    raise ValueError(f"{name} contains {bad} at {where}; expected finite numbers (no NaN or Inf)")


def safe_reciprocal(x: np.ndarray) -> np.ndarray:
    """1/x with 0 where x == 0 (pymrio's rule for zero-output sectors)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    np.divide(1.0, x, out=out, where=x != 0)
    return out


def cli_parser(command: str):
    """argparse.ArgumentParser class for the Python side of `mriotrace COMMAND` (importers,
    datasets): errors as one line and exit code 2, like the C++ front end."""
    import argparse
    import sys

    class _Parser(argparse.ArgumentParser):
        def error(self, message):
            sys.stderr.write(f"mriotrace: error: {message} (see mriotrace {command} --help)\n")
            sys.exit(2)

    return _Parser
