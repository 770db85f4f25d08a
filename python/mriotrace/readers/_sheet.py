"""Reading CSV files and workbook sheets as grids of cells, with errors that name file, sheet and cell.

Every reader in :mod:`mriotrace.readers` goes through :func:`read_grid` and
:func:`numbers`: a sheet is read once as text/objects (never letting pandas
guess missing values, so "Henan", "NA" or "nan" stay strings), and a block of
cells becomes float64 here, or fails with :class:`mriotrace.InputError` naming
the first bad cell as a spreadsheet address ("C17").
"""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pandas as pd

from .._core import FileError, InputError

#: cell texts read as 0 where a block allows blanks (the empty corners of NBS tables)
BLANKS = frozenset({"", "nan", "NaN", "-", "—"})


def cell_name(row: int, col: int) -> str:
    """Spreadsheet address of 0-based (row, col): (16, 2) -> "C17"."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def where(path, sheet=None, row=None, col=None) -> str:
    """'file.xlsx, sheet "2017", cell C17' (the parts that are known)."""
    out = os.fspath(path)
    if sheet is not None:
        out += f', sheet "{sheet}"'
    if row is not None and col is not None:
        out += f", cell {cell_name(row, col)}"
    elif row is not None:
        out += f", row {row + 1}"
    return out


def is_excel(path) -> bool:
    return os.fspath(path).lower().endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"))


def _open(path) -> pd.ExcelFile:
    try:
        return pd.ExcelFile(path, engine="calamine")
    except Exception as exc:  # calamine raises its own types for broken zips/XML
        raise FileError(f"{os.fspath(path)}: not a readable workbook ({type(exc).__name__}: {exc})") from None


def sheet_names(path) -> list[str]:
    """The sheet names of a workbook; FileError for a missing, truncated or foreign file."""
    _exists(path)
    with _open(path) as xf:
        return list(xf.sheet_names)


def resolve_sheet(path, sheet=None):
    """The sheet a reader will read: `sheet`, or the workbook's first; None for a CSV file."""
    if not is_excel(path):
        return None
    return sheet if sheet is not None else sheet_names(path)[0]


def read_grid(path, sheet=None) -> np.ndarray:
    """All cells of a CSV file or one workbook sheet as a 2-D object array (strings, numbers, "").

    Nothing is turned into NaN: empty cells are "", text stays text.
    Raises FileError (missing/unreadable file) and InputError (unknown sheet,
    naming the sheets that exist).
    """
    _exists(path)
    p = os.fspath(path)
    if not is_excel(p):
        try:
            df = pd.read_csv(p, header=None, dtype=str, keep_default_na=False, na_filter=False,
                             encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise FileError(f"{p}: not a readable CSV table ({exc})") from None
        return df.to_numpy(dtype=object)
    with _open(p) as xf:
        names = list(xf.sheet_names)
        if sheet is None:
            sheet = names[0]
        if sheet not in names:
            raise InputError(f'{p}: no sheet "{sheet}"; the workbook has {names}')
        try:
            df = pd.read_excel(xf, sheet_name=sheet, header=None, dtype=object, keep_default_na=False,
                               na_filter=False)
        except Exception as exc:
            raise FileError(f'{where(p, sheet)}: not readable ({type(exc).__name__}: {exc})') from None
    return df.to_numpy(dtype=object)


def text(value) -> str:
    """A label cell as a stripped string (numbers that are whole print without ".0")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def numbers(grid: np.ndarray, rows, cols, path, sheet=None, blank_ok: bool = False) -> np.ndarray:
    """float64 block grid[rows][:, cols]; InputError naming the first non-numeric cell.

    `rows`, `cols`: integer positions in the sheet (used for the cell names).
    With `blank_ok`, empty cells (and "nan", "-") read as 0.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    block = grid[np.ix_(rows, cols)]
    try:
        out = block.astype(np.float64)  # fast path: numbers, or numeric strings
    except (TypeError, ValueError):
        out = None
    if out is not None and np.isfinite(out).all():
        return out
    out = np.empty(block.shape)
    for (i, j), v in np.ndenumerate(block):
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[i, j] = float(v)
            if np.isfinite(out[i, j]):
                continue
            bad = f"{v}"
        else:
            s = str(v).strip()
            if blank_ok and s in BLANKS:
                out[i, j] = 0.0
                continue
            try:
                out[i, j] = float(s.replace(",", "")) if s else np.nan
            except ValueError:
                out[i, j] = np.nan
            if np.isfinite(out[i, j]):
                continue
            bad = f"text {s!r}" if s else "an empty cell"
        raise InputError(f"{where(path, sheet, int(rows[i]), int(cols[j]))}: {bad}; expected a number")
    return out


def _exists(path) -> None:
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileError(f"{p}: no such file")
    if is_excel(p) and p.lower().endswith((".xlsx", ".xlsm")) and not zipfile.is_zipfile(p):
        raise FileError(f"{p}: truncated or not an .xlsx workbook (not a valid zip archive)")
