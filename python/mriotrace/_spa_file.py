"""Read a structural-path file (/tracing/spa, docs/file-format.md) back into a tracing.SPAResult.

Why h5py and not the C++ reader: the C++ side streams these files
(io/path_writer.hpp) but has no reader of /tracing/spa. The checks of the C++
readers are made here too:

* the file has already been opened by the guarded C++ reader (``_core.inspect``,
  in a child process under a time and memory limit): its superblock, root
  attributes (format "mriotrace", a format_version this build reads), labels and
  the shape of /tracing/spa/values parsed without crashing, so HDF5 walking
  the same metadata here does not take the caller down;
* the root format and version are checked again on the handle read here;
* every dataset's Fletcher32 checksum is verified by HDF5 on read (a mismatch is
  a FileError naming the dataset); datasets written without one are named in
  a warning, as version 1 system files are;
* shapes, offsets, node indices and values are validated before they are used,
  and every error names the file, the dataset and the position.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import _core

_GROUP = "tracing/spa"
_DATASETS = ("values", "depths", "offsets", "nodes", "coverage_by_depth")
_STRING_ATTRS = ("stressor", "unit", "demand", "tau_kind", "truncation")
_NUMBER_ATTRS = ("tau", "total", "threshold", "coverage", "max_depth", "paths_found", "nodes_expanded",
                 "search_seconds")


def _fail(path: str, what: str):
    return _core.FileError(f'cannot read "{path}": {what}')


def _text(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def read(path: str, info: dict, keep: int = 0):
    """The SPAResult stored in `path` (``info``: its _core.inspect dict), best `keep` paths (0 = all)."""
    import h5py

    from .tracing import SPAResult, _paths_frame

    if keep < 0:
        raise ValueError(f"keep = {keep}; expected >= 0 (0 = every path in the file)")
    labels = info["labels"]
    regions, sectors = list(labels.regions), list(labels.sectors)
    n = len(regions) * len(sectors)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise _fail(path, f"the HDF5 file cannot be opened ({e})") from None
    with f:
        if _text(f.attrs.get("format", b"")) != "mriotrace":
            raise _fail(path, 'not an mriotrace file (the root has no "format" attribute "mriotrace")')
        version = int(np.asarray(f.attrs.get("format_version", 0)).reshape(-1)[0])
        if not 1 <= version <= _core.FORMAT_VERSION:
            raise _fail(path, f"format_version {version} is not one this build reads (1..{_core.FORMAT_VERSION})")
        if _GROUP not in f or not isinstance(f[_GROUP], h5py.Group):
            raise _fail(path, f"/{_GROUP} is missing (not a structural-path file)")
        g = f[_GROUP]
        arrays, unchecked = {}, []
        for name in _DATASETS:
            where = f"/{_GROUP}/{name}"
            if name not in g or not isinstance(g[name], h5py.Dataset):
                raise _fail(path, f"{where} is missing")
            ds = g[name]
            if ds.ndim != 1:
                raise _fail(path, f"{where} has shape {ds.shape}; expected one dimension")
            if ds.size and not ds.fletcher32:
                unchecked.append(where)
            try:
                arrays[name] = ds[()]
            except OSError as e:
                reason = ("its checksum does not match, the file is damaged (changed since it was written)"
                          if "checksum" in str(e).lower() or "fletcher" in str(e).lower()
                          else "the file is truncated or damaged")
                raise _fail(path, f"reading {where} failed: {reason}") from None
        attrs = {}
        for name in _STRING_ATTRS + _NUMBER_ATTRS:
            if name not in g.attrs:
                raise _fail(path, f"attribute /{_GROUP}@{name} is missing")
            v = g.attrs[name]
            attrs[name] = _text(v) if name in _STRING_ATTRS else float(np.asarray(v).reshape(-1)[0])
    if unchecked:
        warnings.warn(f'"{path}": {", ".join(unchecked)} carry no Fletcher32 checksum: damage to them would go '
                      "unnoticed", UserWarning, stacklevel=3)

    values, depths, offsets, nodes = (arrays[k] for k in ("values", "depths", "offsets", "nodes"))
    P = len(values)
    if info.get("spa_paths", P) != P:
        raise _fail(path, f"/{_GROUP}/values changed between two reads ({info['spa_paths']} then {P} paths)")
    for name, arr, want in (("depths", depths, P), ("offsets", offsets, P + 1)):
        if len(arr) != want:
            raise _fail(path, f"/{_GROUP}/{name} has {len(arr)} entries; expected {want} (one per path"
                              f"{' + 1' if name == 'offsets' else ''})")
    offsets = offsets.astype(np.int64)
    steps = np.diff(offsets)
    if offsets[0] != 0 or offsets[-1] != len(nodes):
        raise _fail(path, f"/{_GROUP}/offsets must run from 0 to the {len(nodes)} nodes; "
                          f"it runs from {offsets[0]} to {offsets[-1]}")
    bad = np.flatnonzero(steps != depths.astype(np.int64) + 1)
    if len(bad):
        raise _fail(path, f"path {bad[0]}: /{_GROUP}/offsets gives {steps[bad[0]]} nodes but its depth is "
                          f"{depths[bad[0]]} (expected depth + 1 nodes)")
    bad = np.flatnonzero((nodes < 0) | (nodes >= n))
    if len(bad):
        raise _fail(path, f"/{_GROUP}/nodes[{bad[0]}] = {nodes[bad[0]]} is outside the system's {n} "
                          "(region, sector) positions")
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise _fail(path, f"/{_GROUP}/values[{bad[0]}] = {values[bad[0]]} is not a finite number")

    # Best first, as spa() returns them: |value| descending, ties by the node sequence.
    order = np.arange(P)
    if keep and keep < P:
        cut = np.partition(np.abs(values), P - keep)[P - keep]
        order = np.flatnonzero(np.abs(values) >= cut)
    node_seq = [tuple(nodes[offsets[p]:offsets[p + 1]]) for p in order]
    ranked = [p for _, p in sorted(zip(node_seq, order), key=lambda t: (-abs(values[t[1]]), t[0]))]
    if keep:
        ranked = ranked[:keep]
    ranked = np.asarray(ranked, dtype=np.int64)
    sel_offsets = np.concatenate([[0], np.cumsum(steps[ranked])]) if P else np.zeros(1, np.int64)
    sel_nodes = (np.concatenate([nodes[offsets[p]:offsets[p + 1]] for p in ranked]) if len(ranked)
                 else np.zeros(0, np.int64))
    index = [(r, s) for r in regions for s in sectors]
    df = _paths_frame(index, values[ranked], depths[ranked], sel_offsets, sel_nodes, attrs["total"],
                      attrs["stressor"], attrs["unit"])
    cov = arrays["coverage_by_depth"]
    return SPAResult(stressor=attrs["stressor"], unit=attrs["unit"], demand=attrs["demand"], total=attrs["total"],
                     threshold=attrs["threshold"], max_depth=int(attrs["max_depth"]), paths=df,
                     coverage=attrs["coverage"],
                     coverage_by_depth=pd.Series(cov, index=pd.RangeIndex(len(cov), name="depth"), name="coverage"),
                     paths_found=int(attrs["paths_found"]), nodes_expanded=int(attrs["nodes_expanded"]),
                     setup_seconds=float("nan"), search_seconds=attrs["search_seconds"],
                     truncated=bool(attrs["truncation"]), truncation=attrs["truncation"], files=[path])
