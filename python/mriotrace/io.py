"""Files: mriotrace's HDF5 format and the US EPA's USEEIO JSON models.

HDF5 files are written by the C++ core (layout: docs/file-format.md): plain
HDF5 that h5py reads without mriotrace, written to a temporary file and
renamed, so a reader never sees a half-written file. A missing, truncated or
foreign file raises mriotrace.FileError, an OSError naming the file.

A file is a system (:func:`load`) or results (:func:`load_results`); the kind
(``file_kind``, ``inspect(path)["kind"]``) is one of :data:`KINDS`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _core
from .system import VALUE_ADDED, MRIOSystem

#: What a file holds: a system (possibly with its accounts), accounts only
#: (footprint), base and scenario accounts, structural paths, a batch run.
KINDS = ("system", "footprint", "scenario", "spa", "batch")
_BATCH_FORMAT = "mriotrace-batch"


def save(system: MRIOSystem, path) -> None:
    """Write `system` (and the accounts of its last calc_all, if any) to `path`, atomically.

    Extensions are kept in the stressor names (``emissions::CO2/air``, see
    ``mriotrace._names``); the accounts are stored as result sets "stressors"
    (every extension's rows) and "value_added".
    """
    if not isinstance(system, MRIOSystem):
        raise ValueError(f"system must be an mriotrace.MRIOSystem; got {type(system).__name__}")
    _core.save(os.fspath(path), system.core, list(system._results.items()))


def save_results(system: MRIOSystem, path) -> None:
    """Write only the labels and the accounts of `system`'s last calc_all to `path`, atomically:
    a results file as ``mriotrace footprint -o x.h5`` writes (read it with :func:`load_results`)."""
    if not isinstance(system, MRIOSystem):
        raise ValueError(f"system must be an mriotrace.MRIOSystem; got {type(system).__name__}")
    if not system._results:
        raise ValueError(f"system {system.name!r} has no accounts to save; call calc_all() first")
    _core.save_results(os.fspath(path), system.core.labels, list(system._results.items()))


def _kind_of(info: dict) -> str:
    if info["has_system"]:
        return "system"
    if info.get("spa_paths", -1) >= 0:
        return "spa"
    names = list(info["result_names"])
    if names and names[0] == "base" and len(names) > 1 and all(n.startswith("scenario ") for n in names[1:]):
        return "scenario"
    return "footprint"


def _inspect(path: str, quiet: bool = True) -> tuple[str, dict | None]:
    """(kind, _core.inspect's dict or None for batch files), every read under the C++ guard.
    quiet: no warnings (e.g. "no checksums"): the reader that follows gives them."""
    try:
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            info = _core.inspect(path)
    except _core.FileError:
        # Not an mriotrace system or results file: a batch results file has its own format name.
        try:
            fmt = _core.file_format(path)
        except _core.FileError:
            fmt = ""
        if fmt == _BATCH_FORMAT:
            return "batch", None
        raise
    return _kind_of(info), info


def file_kind(path) -> str:
    """What `path` holds: one of :data:`KINDS` (FileError for a missing, damaged or foreign file)."""
    return _inspect(os.fspath(path))[0]


def load(path, name: str | None = None) -> MRIOSystem:
    """Read a system saved by :func:`save` or the ``mriotrace`` command; stored accounts are restored.

    A results file (footprint, scenario, spa, batch) is not a system: InputError naming its
    kind and :func:`load_results`, which reads it.
    """
    path = os.fspath(path)
    try:
        core = _core.load_system(path)
    except _core.FileError:
        # Only now ask what the file is: a system loads with one guarded read, and a
        # damaged file keeps the reader's own message.
        try:
            kind = _inspect(path)[0]
        except (_core.FileError, _core.InputError):
            kind = "system"
        if kind != "system":
            raise _core.InputError(f'"{path}" is a results file ({kind}), not a system; '
                                   f'use mriotrace.load_results("{path}")') from None
        raise
    system = MRIOSystem._from_core(core,
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


def load_results(path, *, keep: int = 0):
    """Read any results file mriotrace writes, as labelled tables (mriotrace.results):

    footprint (``mriotrace footprint -o x.h5``, :func:`save_results`) and system files with
    stored accounts (:func:`save` after calc_all): :class:`~mriotrace.results.AccountsResults`;
    scenario (``mriotrace scenario run -o x.h5``): :class:`~mriotrace.results.ScenarioResults`;
    spa (``mriotrace spa -o x.h5``, ``tracing.spa(h5=)``): :class:`~mriotrace.tracing.SPAResult`
    with the best `keep` paths (0 = every path in the file); batch: :func:`mriotrace.batch.load`.
    Every read is checked as for systems (format version, checksums, shapes); InputError for
    a file that holds no results (a bare system).
    """
    from . import results
    path = os.fspath(path)
    kind, info = _inspect(path)
    if kind == "batch":
        from . import batch
        return batch.load(path)
    if kind == "spa":
        from . import _spa_file
        return _spa_file.read(path, info, keep=keep)
    named = _core.load_results(path)
    if not named and kind == "system":
        raise _core.InputError(f'"{path}" holds a system and no stored results; use mriotrace.load("{path}") '
                               "(and calc_all) instead")
    if not named:
        raise _core.InputError(f'"{path}" holds labels but no result sets (/results is empty or missing)')
    cls = results.ScenarioResults if kind == "scenario" else results.AccountsResults
    return cls(info["labels"], named, kind=kind, source=path)


def inspect(path) -> dict:
    """Summary of a file without reading its matrices: kind (one of KINDS), format_version,
    created_by, has_system, labels (mriotrace._core.Labels), nnz_A, result_names, spa_paths
    (paths in a spa file, -1 otherwise). For a batch file: kind, format_version, created_by,
    has_system (False), result_names (the accounts it keeps) and its batch attributes."""
    path = os.fspath(path)
    kind, info = _inspect(path, quiet=False)
    if kind != "batch":
        info["kind"] = kind
        return info
    from . import batch
    res = batch.load(path)
    return {"kind": kind, "format_version": res.attrs.get("format_version"),
            "created_by": res.attrs.get("created_by", ""), "has_system": False, "labels": None, "nnz_A": 0,
            "result_names": list(res.accounts), "spa_paths": -1, "batch": dict(res.attrs)}


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
