"""Native readers of the global MRIO databases as published: EXIOBASE 3, GLORIA, Eora26, OECD ICIO, WIOD 2016,
FIGARO.

The tables are parsed by the C++ engine (io/src/exiobase.cpp, gloria.cpp,
eora26.cpp, oecd_icio.cpp, wiod2016.cpp, figaro.cpp) straight into the
engine's system: no pandas DataFrame of the n x n tables is built. Layouts,
units and what is read: docs/global-databases.md. Exposed as
``mriotrace.readers.read_*`` (and some at the top level).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

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


def read_oecd_icio(path, *, year=None, threads: int = 0) -> MRIOSystem:
    """Read an OECD ICIO table (2023 release, csv): ``ICIO2023_2019.csv`` / ``2019.csv``, a zip holding the
    csv files of several years (``ICIO-2016-2020-extended.zip``; choose one with `year`), or a zip of such zips.

    Z and Y in M.USD (million US dollars, current prices), CN1/CN2 added into CHN and MX1/MX2 into MEX
    (as pymrio's parse_oecd); the TLS and VA rows as the extension ``factor_inputs``. ``system.metadata``
    holds the file read, the year and the regions merged.
    Raises mriotrace.FileError (missing or truncated file) and mriotrace.InputError (wrong header,
    non-numeric cell), naming file, row and column.
    """
    raw = _core.read_oecd_icio(os.fspath(path), "" if year is None else str(year), threads)
    system = MRIOSystem._from_core(raw["system"], name="OECD ICIO" + (f" {raw['year']}" if raw["year"] else ""))
    system.metadata = {"database": "OECD ICIO", "file": raw["file"], "year": raw["year"],
                       "merged_regions": list(raw["merged"])}
    return system


def _one(pattern: str, folder: str, what: str) -> str:
    """The one file or folder in `folder` matching the glob `pattern`."""
    import glob

    found = sorted(p for p in glob.glob(os.path.join(glob.escape(folder), pattern)) if not p.endswith(".part"))
    if not found:
        raise _core.FileError(f"{folder}: no {what} ({pattern}); expected the GLORIA release as downloaded "
                              "(see docs/global-databases.md)")
    zips = [p for p in found if p.endswith(".zip")]
    if len(found) > 1 and len(zips) == 1:
        return zips[0]  # the zip and the folder it was unpacked into: read the zip
    if len(found) > 1:
        names = ", ".join(map(os.path.basename, found[:4]))
        raise _core.InputError(f"{folder}: {len(found)} candidates for {what} ({names}); pass year= and version=")
    return found[0]


def read_gloria_labels(readme, country_names: str = "gloria") -> dict:
    """The labels of GLORIA_ReadMe_0<version>.xlsx: dict(regions, sectors, final_demand, value_added,
    sat_indicator, sat_head, sat_unit), each a list in the workbook's order.

    country_names: "gloria" (the acronyms, e.g. AFG) or "full" (the names). Read with python-calamine.
    """
    from .readers._sheet import read_grid, text, where

    def column(sheet, name):
        grid = read_grid(readme, sheet)
        head = [text(v) for v in grid[0]] if len(grid) else []
        if name not in head:
            raise _core.InputError(f"{where(readme, sheet)}: no column {name!r} in row 1 (has {head}); expected "
                                   "the GLORIA ReadMe layout")
        j = head.index(name)
        values = [text(v) for v in grid[1:, j]]
        while values and values[-1] == "":
            values.pop()
        return values

    if country_names[:1].lower() not in ("g", "f"):
        raise _core.InputError(f"country_names must be 'gloria' or 'full', not {country_names!r}")
    return {
        "regions": column("Regions", "Region_acronyms" if country_names[:1].lower() == "g" else "Region_names"),
        "sectors": column("Sectors", "Sector_names"),
        "final_demand": column("Value added and final demand", "Final_demand_names"),
        "value_added": column("Value added and final demand", "Value_added_names"),
        "sat_indicator": column("Satellites", "Sat_indicator"),
        "sat_head": column("Satellites", "Sat_head_indicator"),
        "sat_unit": column("Satellites", "Sat_unit"),
    }


def _gloria_files(path, year, version, country_names, satellites):
    """(MRIO zip/folder, satellite zip/folder or "", ReadMe, core labels, year, version) of a GLORIA folder."""
    folder = os.fspath(path)
    if not os.path.isdir(folder):
        raise _core.FileError(f"{folder}: not a folder; expected the folder holding GLORIA_MRIOs_<version>_<year>.zip, "
                              "GLORIA_SatelliteAccounts_0<version>_<year>.zip and GLORIA_ReadMe_0<version>.xlsx")
    v = "*" if version is None else str(version).lstrip("0")
    y = "*" if year is None else str(year)
    y_glob = y if y == "*" else y + "*"
    mrio = _one(f"GLORIA_MRIOs_{v}_{y_glob}", folder, "MRIO tables")
    sat = _one(f"GLORIA_SatelliteAccounts_0{v}_{y_glob}", folder, "satellite accounts") if satellites else ""
    name = os.path.basename(mrio)
    parts = name.split("_")  # GLORIA_MRIOs_<version>_<year>[.zip]
    found_version = parts[2] if len(parts) > 3 else ""
    found_year = parts[3][:4] if len(parts) > 3 else ""
    readme = _one(f"GLORIA_ReadMe_0{found_version or v}*.xlsx", folder, "label workbook")
    labels = _core.GloriaLabels()
    for key, values in read_gloria_labels(readme, country_names).items():
        setattr(labels, key, values)
    return mrio, sat, readme, labels, found_year, found_version.rstrip("abcdefghijklmnopqrstuvwxyz")


def read_gloria(path, year=None, version=None, *, price: str = "bp", construct: str = "B",
                country_names: str = "gloria", satellites: bool = True, value_added: bool = True,
                threads: int = 0) -> MRIOSystem:
    """Read GLORIA from the folder holding one year's release as downloaded (pymrio's layout):
    ``GLORIA_MRIOs_<version>_<year>.zip`` (or its unpacked folder), ``GLORIA_SatelliteAccounts_0<version>_<year>.zip``
    (or folder) and ``GLORIA_ReadMe_0<version>.xlsx``.

    construct: "B" product by product (industry technology; pymrio's parse_gloria default) or "D"
    industry by industry (fixed product sales structure). price: "bp" basic prices (Markup001) or "pp"
    purchasers' prices (Markup005). Money in k.USD (thousand US dollars). Extensions ``Q`` (the
    satellites: index stressor, category; F_Y from YQ) and ``VA`` (value added, index region, inputtype).
    Regions without data in T are dropped (``system.metadata["dropped_regions"]``), as pymrio does.
    Raises mriotrace.FileError / InputError naming file, row and column.
    """
    mrio, sat, readme, labels, found_year, found_version = _gloria_files(path, year, version, country_names,
                                                                         satellites)
    raw = _core.read_gloria(mrio, sat, labels, found_year, found_version, price,
                            construct, satellites, value_added, threads)
    kind = "product by product" if construct == "B" else "industry by industry"
    system = MRIOSystem._from_core(raw["system"], name=f"GLORIA {raw['version']} {raw['year']} ({kind}, {price})")
    system.metadata = {"database": "GLORIA", "year": raw["year"], "version": raw["version"], "construct": construct,
                       "price": price, "dropped_regions": list(raw["dropped_regions"]), "files": list(raw["files"]),
                       "readme": readme}
    return system


@dataclass
class GloriaSut:
    """GLORIA's supply-use tables as published (regions without data dropped), from :func:`read_gloria_sut`.

    U (products x industries) and V (industries x products) as scipy.sparse CSC arrays with the
    (region, sector) labels in ``index``; Y (products x (region, category)), VA ((region, inputtype) x
    industries), Q (satellites (stressor, category, unit) x industries) and QY (x (region, category)) as
    DataFrames labelled like pymrio's parse_gloria_sut. Money in k.USD.
    """

    U: object
    V: object
    index: pd.MultiIndex
    Y: pd.DataFrame
    VA: pd.DataFrame | None
    Q: pd.DataFrame | None
    QY: pd.DataFrame | None
    metadata: dict


def read_gloria_sut(path, year=None, version=None, *, price: str = "bp", country_names: str = "gloria",
                    satellites: bool = True, value_added: bool = True, threads: int = 0) -> GloriaSut:
    """GLORIA's supply-use form (arguments as :func:`read_gloria`): the tables the input-output
    constructs are built from, without building one."""
    import scipy.sparse as sp

    mrio, sat, readme, labels, found_year, found_version = _gloria_files(path, year, version, country_names,
                                                                         satellites)
    raw = _core.read_gloria_sut(mrio, sat, labels, found_year, found_version, price, satellites, value_added, threads)
    regions, sectors = list(raw["regions"]), list(labels.sectors)
    index = pd.MultiIndex.from_product([regions, sectors], names=["region", "sector"])
    ycols = pd.MultiIndex.from_product([regions, list(labels.final_demand)], names=["region", "category"])

    def csc(views):
        shape, data, indices, indptr = views
        return sp.csc_array((np.array(data), np.array(indices), np.array(indptr)), shape=shape)

    def frame(a, rows, cols):
        a = np.asarray(a)
        return pd.DataFrame(a, index=rows, columns=cols) if a.size else None

    sat_rows = pd.MultiIndex.from_arrays([list(labels.sat_indicator), list(labels.sat_head), list(labels.sat_unit)],
                                         names=["stressor", "category", "unit"])
    va_rows = pd.MultiIndex.from_product([regions, list(labels.value_added)], names=["region", "inputtype"])
    return GloriaSut(U=csc(raw["U"]), V=csc(raw["V"]), index=index, Y=frame(raw["Y"], index, ycols),
                     VA=frame(raw["VA"], va_rows, index), Q=frame(raw["TQ"], sat_rows, index),
                     QY=frame(raw["YQ"], sat_rows, ycols),
                     metadata={"database": "GLORIA", "year": raw["year"], "version": raw["version"], "price": price,
                               "dropped_regions": list(raw["dropped_regions"]), "files": list(raw["files"]),
                               "readme": readme})


def read_eora26(path, year=None, *, price: str = "bp", money_unit: str = "k.USD", satellites: bool = True,
                value_added: bool = True, threads: int = 0) -> MRIOSystem:
    """Read Eora26: ``Eora26_<year>_<bp|pp>.zip`` (labels inside it or in ``indices.zip`` beside it) or
    the unpacked folder.

    Money is in **thousand US dollars** (``k.USD``), as the Eora FAQ documents (not million: a known
    mislabelling in older peers); ``money_unit="M.USD"`` divides Z, Y and VA by 1000. The rest of the
    world (ROW, one aggregate row) is left out, as pymrio does (``system.metadata["dropped_flows"]``:
    the flows of T left out). Extensions ``Q`` (index stressor, source; units from the labels' "(unit)")
    and ``VA`` (index inputtype, category). Raises mriotrace.FileError / InputError naming file, line
    and column.
    """
    raw = _core.read_eora26(os.fspath(path), "" if year is None else str(year), price, money_unit, satellites,
                            value_added, threads)
    system = MRIOSystem._from_core(raw["system"], name=f"Eora26 {raw['year']} {raw['price']}")
    system.metadata = {"database": "Eora26", "year": raw["year"], "price": raw["price"], "money_unit": money_unit,
                       "dropped_regions": list(raw["dropped"]), "dropped_flows": raw["dropped_flows"]}
    return system


def read_figaro(path, year=None, *, kind=None, threads: int = 0) -> MRIOSystem:
    """Read a FIGARO input-output table (Eurostat, csv matrix format):
    ``matrix_eu-ic-io_ind-by-ind_23ed_2021.csv`` (kind "ixi") or ``..._prod-by-prod_...`` ("pxp"), or a
    folder / zip holding them (choose with `year` and `kind`).

    Z and Y in M.EUR (million euro, current prices); the value-added and tax rows (W2_D1, W2_B2A3G,
    ...) as the extension ``factor_inputs``. ``system.metadata`` holds the file, year and kind.
    Raises mriotrace.FileError / InputError naming file, row and column.
    """
    raw = _core.read_figaro(os.fspath(path), "" if year is None else str(year), kind or "", threads)
    label = {"ixi": "industry by industry", "pxp": "product by product"}.get(raw["kind"], "")
    system = MRIOSystem._from_core(raw["system"], name=" ".join(
        p for p in ("FIGARO", raw["year"], f"({label})" if label else "") if p))
    system.metadata = {"database": "FIGARO", "file": raw["file"], "year": raw["year"], "kind": raw["kind"]}
    return system


def import_db_main(argv) -> int:
    """``mriotrace import-db gloria PATH -o OUT.h5`` (the C++ CLI hands GLORIA over to Python for its
    xlsx labels): read, save, print one line; errors as one line on stderr, exit code 1."""
    import argparse
    import sys

    from .io import save

    p = argparse.ArgumentParser(prog="mriotrace import-db")
    p.add_argument("database", choices=["gloria"])
    p.add_argument("path")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--year")
    p.add_argument("--release")
    p.add_argument("--price", default="bp", choices=["bp", "pp"])
    p.add_argument("--construct", default="B", choices=["B", "D"])
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args(argv)
    try:
        s = read_gloria(a.path, a.year, a.release, price=a.price, construct=a.construct, threads=a.threads)
        save(s, a.output)
    except (ValueError, OSError, RuntimeError) as e:
        sys.stderr.write(f"mriotrace: error: {' '.join(str(e).split())}\n")
        return 1
    k = sum(len(s.extension(e).get_rows()) for e in s.extensions_instance_names)
    print(f"imported {s.name}: {len(s.regions)} regions x {len(s.sectors)} sectors, {len(s.Y_categories)} "
          f"final-demand categories, {k} stressors ({s.monetary_unit}) -> {a.output}")
    return 0
