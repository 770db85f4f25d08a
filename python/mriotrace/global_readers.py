"""Native readers of the global MRIO databases as published (EXIOBASE 3, WIOD 2016).

The tables are parsed by the C++ engine (io/src/exiobase.cpp, io/src/wiod2016.cpp) straight into
the engine's system: no pandas DataFrame of the n x n tables is built.
(This module is to move under ``mriotrace.readers`` when that package lands.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import _core
from ._core import InputError
from .system import MRIOSystem


@dataclass
class ExiobaseTable:
    """An EXIOBASE 3 table read by :func:`read_exiobase3`.

    system          MRIOSystem: Z (or A), Y, x in M.EUR; the extensions
                    ``satellite`` and ``impacts`` (F, F_Y, units) as present
    kind            "ixi" (industry by industry) or "pxp" (product by product), from the name
    year            "2011" from IOT_2011_ixi, else ""
    root            folder (or folder inside the zip) that holds Y.txt
    extensions      extension folders read, in order
    """

    system: MRIOSystem
    kind: str
    year: str
    root: str
    extensions: list


def read_exiobase3(path, *, satellite: bool = True, impacts: bool = True, threads: int = 0) -> MRIOSystem:
    """Read EXIOBASE 3: the published zip (``IOT_2011_ixi.zip``) or its unpacked folder.

    Returns the MRIOSystem (labels, units, both extensions); for the
    release's kind and year use :func:`read_exiobase3_table`.
    Raises mriotrace.FileError (an OSError) for a missing or truncated file and
    mriotrace.InputError (a ValueError) for a wrong header or a non-numeric
    cell, naming file, line and column.
    """
    return read_exiobase3_table(path, satellite=satellite, impacts=impacts, threads=threads).system


def read_exiobase3_table(path, *, satellite: bool = True, impacts: bool = True, threads: int = 0) -> ExiobaseTable:
    """As :func:`read_exiobase3`, with the release's kind, year and layout."""
    path = os.fspath(path)
    raw = _core.read_exiobase3(path, satellite, impacts, threads)
    name = "EXIOBASE 3" + "".join(f" {v}" for v in (raw["kind"], raw["year"]) if v)
    system = MRIOSystem._from_core(raw["system"], name=name)
    return ExiobaseTable(system=system, kind=raw["kind"], year=raw["year"], root=raw["root"],
                         extensions=list(raw["extensions"]))


@dataclass
class WiodTable:
    """A WIOD 2016 world input-output table read by :func:`read_wiod2016_table`.

    system          MRIOSystem in millions of US$: regions = country codes (AUS .. ROW),
                    sectors = codes (A01 .. U), categories CONS_h CONS_np CONS_g GFCF INVEN;
                    x = the GO row, v = GO - column sums of Z; extensions ``factor_inputs``
                    (TXSP, EXP_adj, PURR, PURNR, VA, IntTTM) and ``env`` (the accounts given)
    year, sheet     the table's year ("2014") and the sheet read
    sector_names    code -> description (row 4 of the sheet)
    category_names  code -> description
    max_imbalance   largest relative imbalance of the table's identities, and ``imbalance`` which
    """

    system: MRIOSystem
    year: str
    sheet: str
    sector_names: dict
    category_names: dict
    max_imbalance: float
    imbalance: str


def _env_accounts(env) -> list:
    """{name: path} / {name: (path, unit)} / [(name, path[, unit])] -> [(path, name, unit)]."""
    if env is None:
        return []
    items = env.items() if isinstance(env, dict) else env
    out = []
    for item in items:
        if isinstance(env, dict):
            name, spec = item
        else:
            if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
                raise InputError(f"env entry {item!r}; expected (name, workbook) or (name, workbook, unit)")
            name, spec = item[0], tuple(item[1:])
        if isinstance(spec, (tuple, list)):
            if len(spec) not in (1, 2):
                raise InputError(f"env[{name!r}] = {spec!r}; expected a workbook path or (path, unit)")
            path, unit = spec[0], spec[1] if len(spec) == 2 else ""
        else:
            path, unit = spec, ""
        out.append((os.fspath(path), str(name), str(unit)))
    return out


def read_wiod2016(path, env=None, *, sheet: str | None = None) -> MRIOSystem:
    """Read a WIOD 2016 world input-output table (``WIOT2014_Nov16_ROW.xlsx``).

    env: environmental accounts (the JRC workbooks, a sheet per country, a
    column per year), as {stressor name: workbook} or {name: (workbook,
    unit)}, e.g. ``{"CO2": ("CO2 emissions.xlsx", "kt")}``; each becomes one
    row of the extension ``env`` (households in F_Y under CONS_h). The
    workbooks carry no unit: give it. sheet: default the sheet named by the
    year in the file name, else the first. Raises mriotrace.FileError (missing,
    truncated, not an .xlsx, missing sheet) and mriotrace.InputError (wrong
    header, non-numeric cell: naming file, sheet and cell). Warns when the
    table's identities are off by more than 1e-6 (relative); see
    :func:`read_wiod2016_table` for the year, descriptions and imbalance.
    """
    return read_wiod2016_table(path, env, sheet=sheet).system


def read_wiod2016_table(path, env=None, *, sheet: str | None = None) -> WiodTable:
    """As :func:`read_wiod2016`, with the year, the sheet, the descriptions and the largest imbalance."""
    import warnings

    raw = _core.read_wiod2016(os.fspath(path), sheet or "", _env_accounts(env))
    name = "WIOD 2016" + (f" {raw['year']}" if raw["year"] else "")
    system = MRIOSystem._from_core(raw["system"], name=name)
    sectors, cats = list(system.get_sectors()), list(system.get_Y_categories())
    table = WiodTable(system=system, year=raw["year"], sheet=raw["sheet"],
                      sector_names=dict(zip(sectors, raw["sector_names"])),
                      category_names=dict(zip(cats, raw["category_names"])),
                      max_imbalance=float(raw["max_imbalance"]), imbalance=raw["imbalance"])
    system.metadata = {"source": f"WIOD 2016 release, {os.fspath(path)}, sheet {raw['sheet']}",
                       "year": raw["year"], "sector_names": table.sector_names,
                       "category_names": table.category_names, "factor_rows": list(raw["factor_rows"]),
                       "max_imbalance": table.max_imbalance}
    if table.max_imbalance > 1e-6:
        warnings.warn(f"{os.fspath(path)}: the table's identities are off by up to {table.max_imbalance:.3g} "
                      f"(relative), at {table.imbalance}", stacklevel=2)
    return table
