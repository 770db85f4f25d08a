"""Files: mriotrace's HDF5 format and the US EPA's USEEIO JSON models.

HDF5 files are written by the C++ core (layout: docs/file-format.md): plain
HDF5 that h5py reads without mriotrace, written to a temporary file and
renamed, so a reader never sees a half-written file. A missing, truncated or
foreign file raises mriotrace.FileError, an OSError naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _core
from .system import VALUE_ADDED, MRIOSystem


def save(system: MRIOSystem, path) -> None:
    """Write `system` (and the accounts of its last calc_all, if any) to `path`, atomically.

    Extensions are kept in the stressor names (``emissions::CO2/air``, see
    ``mriotrace._names``); the accounts are stored as result sets "stressors"
    (every extension's rows) and "value_added".
    """
    if not isinstance(system, MRIOSystem):
        raise ValueError(f"system must be an mriotrace.MRIOSystem; got {type(system).__name__}")
    _core.save(os.fspath(path), system.core, list(system._results.items()))


def load(path, name: str | None = None) -> MRIOSystem:
    """Read a system saved by :func:`save` or the ``mriotrace`` command; stored accounts are restored."""
    path = os.fspath(path)
    system = MRIOSystem._from_core(_core.load_system(path),
                                   name=name or os.path.splitext(os.path.basename(path))[0])
    for res_name, acc in _core.load_results(path):
        _restore(system, res_name, acc)
    return system


def _restore(system: MRIOSystem, res_name: str, acc: dict) -> None:
    """Attach a stored result set to the extensions whose rows it covers."""
    system._results[res_name] = acc
    if res_name == VALUE_ADDED and VALUE_ADDED in system._extensions:
        system._extensions[VALUE_ADDED]._set_accounts(acc, np.array([0]))
        return
    pos_of = {int(r): p for p, r in enumerate(acc["stressors"])}
    for ext in system.get_extensions(data=True):
        if ext._value_added or not all(int(r) in pos_of for r in ext._rows):
            continue
        ext._set_accounts(acc, np.array([pos_of[int(r)] for r in ext._rows], dtype=np.int64))


def inspect(path) -> dict:
    """Summary of a file without reading its matrices: format_version, created_by,
    has_system, labels (mriotrace._core.Labels), nnz_A, result_names."""
    return _core.inspect(os.fspath(path))


@dataclass
class UseeioModel:
    """A USEEIO model read by :func:`read_useeio`.

    system        MRIOSystem: A, x, Y (one category per location), the flows as
                  the extension "stressors" (S = USEEIO's B, flow x per USD) and
                  C (indicators x flows)
    demands       DataFrame (region, sector) x demand id, USD
    sector_ids    the n original "code/location" ids, in system order
    sector_names  the n descriptive names
    """

    system: MRIOSystem
    demands: pd.DataFrame
    sector_ids: list
    sector_names: list


def read_useeio(path, threads: int = 0) -> UseeioModel:
    """Read a USEEIO JSON model folder (matrix/A.json, B.json, C.json, demands/...)."""
    path = os.fspath(path)
    raw = _core.read_useeio(path, threads)
    system = MRIOSystem._from_core(raw["system"], name=os.path.basename(os.path.normpath(path)))
    demands = pd.DataFrame(raw["demands"], index=system.get_index(),
                           columns=pd.Index(raw["demand_ids"], name="demand"))
    return UseeioModel(system=system, demands=demands, sector_ids=list(raw["sector_ids"]),
                       sector_names=list(raw["sector_names"]))
