"""The National Bureau of Statistics (NBS) input-output tables of China.

Layout (the CSVs in ``shared/data/china/nbs`` and workbooks with the same
layout): a header row ``Code, Description, DescriptionInChinese, [Origin],
<sector codes>, TIU, <final-use columns>, EX, [TFU], [IM], GO``; then one row
per sector (the 42-sector tables: one per sector and origin, Domestic then
Imports), then TII, value-added rows VA001..VA004, TVA and TI. Unit 10^4 CNY.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._core import InputError
from ._sheet import numbers, read_grid, resolve_sheet, text, where

MONETARY_UNIT = "10^4 CNY"

#: final-use codes -> category labels of the system
FINAL_USE_NAMES = {
    "FU101": "Rural household consumption", "FU102": "Urban household consumption",
    "THC": "Household consumption", "FU103": "Government consumption", "TC": "Final consumption",
    "FU201": "Gross fixed capital formation", "FU202": "Changes in inventories",
    "GCF": "Gross capital formation", "EX": "Exports",
}
#: aggregate final-use columns and the components that make them redundant
_AGGREGATES = {"THC": ("FU101", "FU102"), "TC": ("THC", "FU101", "FU102", "FU103"), "GCF": ("FU201", "FU202")}
_TOTAL_ROWS = ("TII", "TVA", "TI")
TREATMENTS = ("auto", "domestic", "proportional")


@dataclass
class NbsTable:
    """A national NBS table after the competitive-import treatment (all money in 10^4 CNY).

    sectors     DataFrame indexed by code, columns "name" (English) and "name_zh"
    Z           DataFrame (n, n) domestic intermediate flows, rows supplier, columns user (codes)
    Y           DataFrame (n, c) domestic final use, columns the category labels (incl. "Exports")
    x           Series (n,) gross output GO
    v           Series (n,) total value added TVA
    value_added DataFrame (VA rows, n): compensation, net taxes, depreciation, surplus
    imports     Series (n,) intermediate imports used by each sector (removed from Z)
    imports_final Series (c,) imported final use removed from Y
    imports_treatment  "domestic" (Domestic/Imported split rows: domestic-only technology)
                or "proportional" (imports removed row-wise in proportion to domestic use)
    max_imbalance  largest relative imbalance of the published row and column
                balances (row: uses - IM vs GO; column: inputs vs TI and GO)
    imbalance   dict with the largest "row" and "column" imbalance and where
    monetary_unit  "10^4 CNY", the unit of every money table above (systems built
                from it declare it, so reports rescale and check units against it)
    """

    path: str
    year: int | None
    sectors: pd.DataFrame
    Z: pd.DataFrame
    Y: pd.DataFrame
    x: pd.Series
    v: pd.Series
    value_added: pd.DataFrame
    imports: pd.Series
    imports_final: pd.Series
    imports_treatment: str
    max_imbalance: float
    imbalance: dict = field(default_factory=dict)
    monetary_unit: str = MONETARY_UNIT  # as published: 10^4 CNY (wan yuan)

    @property
    def n(self) -> int:
        return len(self.x)

    def labels(self) -> list[str]:
        """Sector labels for a system: the English names (unique in every NBS table)."""
        return list(self.sectors["name"])


def read_nbs(path, sheet=None, *, imports: str = "auto", tolerance: float = 1e-3) -> NbsTable:
    """Read an NBS national input-output table (CSV or .xlsx with the NBS layout).

    imports: "auto" (domestic for tables with Domestic/Imported rows, else
    proportional), "domestic" (needs the split rows) or "proportional" (needs
    an IM column or split rows; row i of Z and the domestic final uses scaled
    by 1 - IM_i / (TIU_i + TFU_i - EX_i): exports are taken as domestic goods).
    tolerance: largest relative imbalance accepted (row and column sums vs GO);
    above it an InputError names the sector; above 1e-6 a warning says how large.
    Raises mriotrace.FileError / InputError naming the file, sheet and cell.
    """
    if imports not in TREATMENTS:
        raise InputError(f"imports={imports!r}; expected one of {TREATMENTS}")
    path = os.fspath(path)
    sheet = resolve_sheet(path, sheet)
    grid = read_grid(path, sheet)
    hr, hc = _find_header(grid, path, sheet)
    header = [text(v) for v in grid[hr]]
    origin_col = header.index("Origin") if "Origin" in header else None
    try:
        tiu = header.index("TIU")
        go = header.index("GO")
    except ValueError:
        missing = [c for c in ("TIU", "GO") if c not in header]
        raise InputError(f"{where(path, sheet, hr)}: missing column(s) {missing} in the header row") from None
    first = max(hc + 3, (origin_col + 1) if origin_col is not None else 0)
    codes = [_code(header[c], tiu - first) for c in range(first, tiu)]
    if not codes:
        raise InputError(f"{where(path, sheet, hr)}: no sector columns between the labels and TIU")
    n = len(codes)
    fu_codes = header[tiu + 1:go]
    has_im = "IM" in fu_codes

    # rows: sector rows by (code, origin), total and value-added rows by code
    row_of: dict[tuple[str, str], int] = {}
    other: dict[str, int] = {}
    for r in range(hr + 1, grid.shape[0]):
        code = _code(text(grid[r, hc]), n)
        if not code:
            continue
        origin = text(grid[r, origin_col]) if origin_col is not None else "Domestic"
        if code in codes and origin in ("Domestic", "Imports", "Imported"):
            row_of[(code, "Imports" if origin == "Imported" else origin)] = r
        elif code in _TOTAL_ROWS or code.startswith("VA"):
            other[code] = r
    split = any(k[1] == "Imports" for k in row_of)
    for code in codes:
        if (code, "Domestic") not in row_of:
            raise InputError(f"{where(path, sheet)}: no row for sector {code}" + (" (Domestic)" if split else ""))
        if split and (code, "Imports") not in row_of:
            raise InputError(f"{where(path, sheet)}: no Imports row for sector {code}")
    for code in ("TVA", "TI"):
        if code not in other:
            raise InputError(f"{where(path, sheet)}: no {code} row (total value added / total inputs)")

    treatment = imports
    if imports == "auto":
        treatment = "domestic" if split else "proportional"
    if treatment == "domestic" and not split:
        raise InputError(f"{where(path, sheet)}: imports='domestic' needs Domestic/Imports rows; this table has "
                         f"none (use 'proportional')")
    if treatment == "proportional" and not (split or has_im):
        raise InputError(f"{where(path, sheet)}: imports='proportional' needs an IM column or Domestic/Imports "
                         f"rows; found neither")

    cols = list(range(first, tiu))
    dom_rows = [row_of[(c, "Domestic")] for c in codes]
    Zd = numbers(grid, dom_rows, cols, path, sheet)
    fu_all = list(range(tiu + 1, go))
    Fd = numbers(grid, dom_rows, fu_all, path, sheet, blank_ok=True)
    x = numbers(grid, dom_rows, [go], path, sheet)[:, 0]
    tiu_d = numbers(grid, dom_rows, [tiu], path, sheet)[:, 0]
    va_codes = [c for c in other if c.startswith("VA")]
    VA = numbers(grid, [other[c] for c in va_codes], cols, path, sheet)
    tva = numbers(grid, [other["TVA"]], cols, path, sheet)[0]
    ti = numbers(grid, [other["TI"]], cols, path, sheet)[0]
    if split:
        imp_rows = [row_of[(c, "Imports")] for c in codes]
        Zm = numbers(grid, imp_rows, cols, path, sheet)
        Fm = numbers(grid, imp_rows, fu_all, path, sheet, blank_ok=True)
    else:
        Zm = np.zeros_like(Zd)
        Fm = np.zeros_like(Fd)

    # final-use components (aggregates dropped when their parts are there)
    comp = []
    for j, c in enumerate(fu_codes):
        if c in ("TFU", "IM", "") or (c in _AGGREGATES and any(p in fu_codes for p in _AGGREGATES[c])):
            continue
        comp.append(j)
    im = Fd[:, fu_codes.index("IM")] if has_im else np.zeros(n)

    # published balances
    row_use = Zd.sum(axis=1) + Fd[:, comp].sum(axis=1) - im
    row_err = np.abs(row_use - x) / np.maximum(np.abs(x), 1.0)
    tiu_err = np.abs(Zd.sum(axis=1) - tiu_d) / np.maximum(np.abs(x), 1.0)
    col_in = Zd.sum(axis=0) + Zm.sum(axis=0) + tva
    col_err = np.maximum(np.abs(col_in - ti), np.abs(ti - x)) / np.maximum(np.abs(x), 1.0)
    va_err = np.abs(VA.sum(axis=0) - tva) / np.maximum(np.abs(x), 1.0) if va_codes else np.zeros(n)
    checks = {"row": row_err, "TIU": tiu_err, "column": col_err, "value added": va_err}
    imbalance = {k: (float(e.max()), codes[int(e.argmax())]) for k, e in checks.items()}
    kind, (worst, at) = max(imbalance.items(), key=lambda kv: kv[1][0])
    if worst > tolerance:
        raise InputError(f"{where(path, sheet)}: {kind} balance of sector {at} is off by {worst:.3g} of its gross "
                         f"output (tolerance {tolerance:g}): not a consistent NBS table")
    if worst > 1e-6:
        warnings.warn(f"{os.path.basename(path)}: largest imbalance {worst:.3g} of gross output ({kind}, sector "
                      f"{at}), within the tolerance {tolerance:g}", stacklevel=2)

    # competitive imports
    Fd_c, Fm_c = Fd[:, comp], Fm[:, comp]
    comp_codes = [fu_codes[j] for j in comp]
    if treatment == "domestic":
        Z, Yv = Zd, Fd_c
        m_int, m_fin = Zm.sum(axis=0), Fm_c.sum(axis=0)
        # the domestic rows' GO is their output; domestic uses sum to it within rounding
    else:
        # imports used at home, removed from every domestic use of the row in
        # proportion; exports (domestic rows only: re-exports are not output) stay
        notex = np.array([c != "EX" for c in comp_codes])
        Zt = Zd + Zm
        Ft = Fd_c + Fm_c
        Ft[:, ~notex] = Fd_c[:, ~notex]
        im_tot = im + Zm.sum(axis=1) + Fm_c[:, notex].sum(axis=1)
        dom_use = Zt.sum(axis=1) + Ft[:, notex].sum(axis=1)
        share = np.divide(im_tot, dom_use, out=np.zeros(n), where=dom_use != 0)
        keep = 1.0 - share
        Z = Zt * keep[:, None]
        Yv = Ft.copy()
        Yv[:, notex] = Ft[:, notex] * keep[:, None]
        m_int = (Zt - Z).sum(axis=0)
        m_fin = (Ft - Yv).sum(axis=0)

    names = [text(grid[r, hc + 1]) for r in dom_rows]
    names_zh = [text(grid[r, hc + 2]) for r in dom_rows]
    if len(set(names)) != n:
        names = [f"{c} {nm}" for c, nm in zip(codes, names)]
    idx = pd.Index(codes, name="code")
    cats = pd.Index([FINAL_USE_NAMES.get(c, c) for c in comp_codes], name="category")
    return NbsTable(
        path=path, year=_year(path), sectors=pd.DataFrame({"name": names, "name_zh": names_zh}, index=idx),
        Z=pd.DataFrame(Z, index=idx, columns=idx), Y=pd.DataFrame(Yv, index=idx, columns=cats),
        x=pd.Series(x, index=idx, name="GO"), v=pd.Series(tva, index=idx, name="TVA"),
        value_added=pd.DataFrame(VA, index=pd.Index(va_codes, name="code"), columns=idx),
        imports=pd.Series(m_int, index=idx, name="imports"), imports_final=pd.Series(m_fin, index=cats),
        imports_treatment=treatment, max_imbalance=worst,
        imbalance={k: {"relative": e, "sector": s} for k, (e, s) in imbalance.items()})


def _find_header(grid, path, sheet) -> tuple[int, int]:
    """(row, column) of the "Code" header cell within the first 20 rows."""
    for r in range(min(20, grid.shape[0])):
        for c in range(min(10, grid.shape[1])):
            if text(grid[r, c]) == "Code":
                return r, c
    raise InputError(f'{where(path, sheet)}: no header row with a "Code" cell in the first 20 rows '
                     f"(expected the NBS layout: Code, Description, DescriptionInChinese, sector codes, TIU, ..., GO)")


def _code(s: str, n: int) -> str:
    """Sector codes as printed ("01", "001"): whole numbers read from a workbook get their zeros back."""
    if s.isdigit():
        return s.zfill(len(str(n)))
    return s


def _year(path: str) -> int | None:
    m = re.search(r"(19|20)\d\d", os.path.basename(path))
    return int(m.group(0)) if m else None
