"""Native readers of the global MRIO databases as published: EXIOBASE 3, GLORIA, Eora26, OECD ICIO, FIGARO.

The tables are parsed by the C++ engine (io/src/exiobase.cpp, gloria.cpp,
eora26.cpp, oecd_icio.cpp, figaro.cpp) straight into the engine's system: no
pandas DataFrame of the n x n tables is built. Layouts, units and what is read:
docs/global-databases.md. Exposed as ``mriotrace.readers.read_*`` (and at the
top level).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import _core
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

