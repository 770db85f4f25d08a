"""CEADs CO2 emission inventories (IPCC sectoral approach, Mt CO2).

Layout of ``national_1997-2019.xlsx`` (one sheet per year, "1997".."2019")
and ``provinces_YYYY.xlsx`` (one sheet per province, "Henan2017"): row 1
the column names (17 fuels, "Scope 2 Heat", "Scope 2 Electricity", "Other
Energy", "Process", "Scope 1 Total"; the 2019 files spell them with
underscores), row 2 the units, row 4 the total ("Total Consumption" or
"TotalEmissions"), then 45 production sectors and the households "Urban" and "Rural".
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._core import InputError
from ._sheet import numbers, read_grid, sheet_names, text, where

UNIT = "Mt CO2"
#: the 17 fuels, in the workbooks' order
FUELS = ("Raw Coal", "Cleaned Coal", "Other Washed Coal", "Briquettes", "Coke", "Coke Oven Gas", "Other Gas",
         "Other Coking Products", "Crude Oil", "Gasoline", "Kerosene", "Diesel Oil", "Fuel Oil", "LPG",
         "Refinery Gas", "Other Petroleum Products", "Natural Gas")
#: Scope-1 sources: the fuels, "Other Energy" and process emissions (cement, ...)
SOURCES = FUELS + ("Other Energy", "Process")
#: reallocations of electricity and heat to their users: never added (they double-count)
SCOPE2 = ("Scope 2 Heat", "Scope 2 Electricity")
HOUSEHOLDS = ("Urban", "Rural")
N_SECTORS = 45  # production sectors; with Urban and Rural the "47 sectors" of CEADs
_TOTAL_LABELS = ("totalconsumption", "totalemissions", "total")


def key(name: str) -> str:
    """Spelling-independent key of a column or sector name ("Coke_Oven_Gas" == "Coke Oven Gas")."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


@dataclass
class CeadsInventory:
    """One sheet of a CEADs inventory, Scope 1 only, Mt CO2.

    name        region or year of the sheet ("Henan", "2017")
    sectors     the 45 CEADs production sector names, as written (stripped)
    by_source   DataFrame (19 sources: 17 fuels, "Other Energy", "Process") x 45 sectors
    households  DataFrame (19 sources) x ("Urban", "Rural")
    total       the sheet's own Scope-1 total (the total row), which
                by_source.sum() + households.sum() equals
    unit        "Mt CO2", the unit of every number above (systems built from it declare it)
    """

    path: str
    sheet: str
    name: str
    sectors: list
    by_source: pd.DataFrame
    households: pd.DataFrame
    total: float
    unit: str = UNIT  # as published: Mt CO2

    @property
    def industry(self) -> pd.Series:
        """Scope-1 CO2 per sector (45,), Mt."""
        return self.by_source.sum(axis=0)

    def stressors(self, fuels: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(F, F_Y): ("CO2" or one row per source) x sectors, and x ("Urban", "Rural"), Mt CO2."""
        if fuels:
            return self.by_source, self.households
        return (self.by_source.sum(axis=0).to_frame("CO2").T, self.households.sum(axis=0).to_frame("CO2").T)


def data_sheets(path) -> list[str]:
    """The inventory sheets of a CEADs workbook: "1997".."2019" or "<Province><year>"."""
    return [s for s in sheet_names(path) if re.fullmatch(r"(\d{4}|[A-Za-z][A-Za-z ]*\d{4})", s.strip())]


def read_ceads_inventory(path, sheet=None, *, check_tolerance: float = 1e-6):
    """Read a CEADs inventory workbook (national: a sheet per year; provincial: a sheet per province).

    sheet: a sheet name ("2017", "Henan2017"), a year (int, national
    workbook) or a province name ("Henan", provincial workbook): returns one
    :class:`CeadsInventory`. None: every inventory sheet, as a dict name ->
    CeadsInventory (names: "Henan", or "2017" for the national workbook).
    Scope-2 columns are skipped; the Scope-1 sources must add up to the
    "Scope 1 Total" column and the sectors to the total row (within
    `check_tolerance` relative), else InputError naming the cell.
    """
    path = os.fspath(path)
    sheets = data_sheets(path)
    if sheet is None:
        out = {}
        for s in sheets:
            inv = _read_sheet(path, s, check_tolerance)
            out[inv.name] = inv
        if not out:
            raise InputError(f"{path}: no inventory sheets (expected sheets named by year, e.g. \"2017\", or by "
                             f"province and year, e.g. \"Henan2017\"); found {sheet_names(path)}")
        return out
    want = str(sheet)
    if want not in sheets:
        match = [s for s in sheets if _name_of(s) == want]
        if len(match) == 1:
            want = match[0]
        elif want in sheet_names(path):
            raise InputError(f'{where(path, want)}: not an inventory sheet; inventory sheets: {sheets}')
        else:
            raise InputError(f'{path}: no sheet "{sheet}"; inventory sheets: {sheets}')
    return _read_sheet(path, want, check_tolerance)


def _name_of(sheet: str) -> str:
    s = sheet.strip()
    return s if s.isdigit() else re.sub(r"\d{4}$", "", s)


def _read_sheet(path: str, sheet: str, tol: float) -> CeadsInventory:
    grid = read_grid(path, sheet)
    if grid.shape[0] < 4 or grid.shape[1] < 2:
        raise InputError(f"{where(path, sheet)}: {grid.shape[0]} rows x {grid.shape[1]} columns; not a CEADs "
                         f"inventory sheet")
    header = {key(text(v)): j for j, v in enumerate(grid[0]) if text(v)}
    missing = [s for s in SOURCES if key(s) not in header and not (s == "Cleaned Coal" and "cleanedcoal" in header)]
    if missing:
        raise InputError(f"{where(path, sheet, 0)}: missing column(s) {missing}; a CEADs inventory has the 17 fuels, "
                         f"'Other Energy' and 'Process' in row 1")
    src_cols = [header[key(s)] for s in SOURCES]
    s1_col = header.get("scope1total")
    labels = [text(v) for v in grid[:, 0]]
    keys = [key(v) for v in labels]
    try:
        total_row = next(i for i, k in enumerate(keys) if k in _TOTAL_LABELS)
    except StopIteration:
        raise InputError(f"{where(path, sheet)}: no total row ('Total Consumption') in column A") from None
    hh = {}
    for h in HOUSEHOLDS:
        if key(h) not in keys:
            raise InputError(f"{where(path, sheet)}: no '{h}' (household) row in column A")
        hh[h] = keys.index(key(h))
    sector_rows = [i for i in range(total_row + 1, len(labels)) if labels[i] and i not in hh.values()]
    if len(sector_rows) != N_SECTORS:
        raise InputError(f"{where(path, sheet)}: {len(sector_rows)} sector rows between the total row and the "
                         f"households; a CEADs inventory has {N_SECTORS}")
    V = numbers(grid, sector_rows, src_cols, path, sheet, blank_ok=True)
    H = numbers(grid, [hh[h] for h in HOUSEHOLDS], src_cols, path, sheet, blank_ok=True)
    total = float(numbers(grid, [total_row], [s1_col], path, sheet, blank_ok=True)[0, 0]) if s1_col is not None \
        else float(V.sum() + H.sum())
    scale = max(abs(total), 1.0)
    if s1_col is not None:  # each row's sources add up to its Scope 1 Total
        rows = sector_rows + [hh[h] for h in HOUSEHOLDS]
        s1 = numbers(grid, rows, [s1_col], path, sheet, blank_ok=True)[:, 0]
        err = np.abs(np.vstack([V, H]).sum(axis=1) - s1)
        if err.max() > tol * scale:
            i = int(err.argmax())
            raise InputError(f"{where(path, sheet, rows[i], s1_col)}: Scope 1 Total {s1[i]:g} differs from the sum "
                             f"of the fuels, 'Other Energy' and 'Process' ({s1[i] - err[i]:g} or so); the columns "
                             f"are not a CEADs Scope-1 inventory")
    if abs(V.sum() + H.sum() - total) > tol * scale:
        raise InputError(f"{where(path, sheet, total_row, s1_col if s1_col is not None else 0)}: the total row "
                         f"({total:g} Mt) is not the sum of sectors and households ({V.sum() + H.sum():g} Mt)")
    sectors = [labels[i] for i in sector_rows]
    src = pd.Index(list(SOURCES), name="source")
    return CeadsInventory(
        path=path, sheet=sheet, name=_name_of(sheet), sectors=sectors,
        by_source=pd.DataFrame(V.T, index=src, columns=pd.Index(sectors, name="sector")),
        households=pd.DataFrame(H.T, index=src, columns=pd.Index(list(HOUSEHOLDS), name="household")),
        total=total)
