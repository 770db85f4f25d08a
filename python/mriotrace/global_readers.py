"""Native readers of the global MRIO databases as published (EXIOBASE 3).

The tables are parsed by the C++ engine (io/src/exiobase.cpp) straight into
the engine's system: no pandas DataFrame of the n x n tables is built.
(This module is to move under ``mriotrace.readers`` when that package lands.)
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
