"""Supply-chain tracing: where along the supply chain a footprint is emitted.

* :func:`spa` -- structural path analysis (exact threshold search, parallel, deterministic)
* :func:`production_layers` -- the footprint split into tiers s A^t y
* :func:`hypothetical_extraction` -- remove sectors (full, backward, forward)
* :func:`linkages` -- Rasmussen backward, Ghosh forward, environmental linkages
* :func:`ghosh` -- the supply-side model: B, G (on request), M_down
* :func:`plot_paths` -- the top paths as a tree (matplotlib)

Every function takes an :class:`~mriotrace.MRIOSystem`, factors I - A once
(never forms the Leontief inverse unless asked) and returns pandas objects
labelled with (region, sector), stressor and unit. Formulas: docs/tracing.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import _core
from ._core import InputError
from ._util import as_dense, check_shape

__all__ = ["SPAResult", "spa", "production_layers", "hypothetical_extraction", "linkages", "ghosh",
           "plot_paths"]


# --- target resolution -------------------------------------------------------------------

def _intensity(system, stressor, s) -> tuple[np.ndarray, str, str]:
    """(s (n,), name, unit) for a stressor or indicator name, or a given vector."""
    core = system.core
    if s is not None:
        arr = as_dense(s, "s", ndim=1)
        check_shape(arr, (core.n,), "s", "one intensity per (region, sector)")
        return arr, str(stressor or "s"), ""
    labels = core.labels
    if stressor is None:
        if core.k != 1:
            raise ValueError(f"give a stressor: the system has {core.k} ({list(labels.stressors)})")
        stressor = labels.stressors[0]
    if stressor in labels.stressors:
        i = labels.stressors.index(stressor)
        units = labels.stressor_units
        return np.ascontiguousarray(core.S[i, :]), stressor, units[i] if i < len(units) else ""
    if stressor in labels.indicators:
        i = labels.indicators.index(stressor)
        units = labels.indicator_units
        return (np.ascontiguousarray(np.asarray(core.C)[i, :] @ np.asarray(core.S)), stressor,
                units[i] if i < len(units) else "")
    known = list(labels.stressors) + list(labels.indicators)
    raise ValueError(f"unknown stressor or indicator {stressor!r}; known: {known}")


def _sector_position(system, node) -> int:
    """System index of a (region, sector) pair (or an int index)."""
    if isinstance(node, (int, np.integer)):
        if not 0 <= int(node) < system.core.n:
            raise ValueError(f"sector index {node} is outside 0..{system.core.n - 1}")
        return int(node)
    try:
        region, sector = node
    except (TypeError, ValueError):
        raise ValueError(f"expected a (region, sector) pair or an index; got {node!r}") from None
    r = system.core.region_index(str(region))
    sectors = list(system.sectors)
    if sector not in sectors:
        raise ValueError(f"unknown sector {sector!r}; known: {sectors}")
    return r * system.core.N + sectors.index(sector)


def _demand(system, region, product, y) -> tuple[np.ndarray, str]:
    """(y (n,), description): a given vector, or a region's / all regions' final demand, optionally one product."""
    core = system.core
    if y is not None:
        if region is not None or product is not None:
            raise ValueError("give either y or region/product, not both")
        arr = as_dense(y, "y", ndim=1)
        check_shape(arr, (core.n,), "y", "one demand per (region, sector)")
        return arr, "given demand vector"
    r = -1 if region is None else core.region_index(str(region))
    p = -1 if product is None else _sector_position(system, product)
    what = "final demand of " + ("all regions" if region is None else str(region))
    if product is not None:
        what += " for " + "/".join(str(v) for v in system.get_index()[p])  # REGION/SECTOR, as the CLI
    return np.asarray(_core.target_demand(core, r, p)), what


def _factor(system, solver, threads):
    """The factorisation of I - A: a given ``_core.LeontiefSolver`` (reused across calls) or a new one."""
    if isinstance(solver, _core.LeontiefSolver):
        if solver.n != system.core.n:
            raise ValueError(f"solver is for n = {solver.n} but the system has n = {system.core.n}")
        return solver
    return system.solver(solver=solver, threads=threads)


# --- structural path analysis -----------------------------------------------------------

@dataclass
class SPAResult:
    """Result of :func:`spa`.

    ``paths``: DataFrame, best first (|value| descending, ties by path), columns
    value, share, depth, emitter_region, emitter_sector, final_region,
    final_sector, path (tuple of (region, sector) from emitter to final
    product), intensities (s at each node), coefficients (a at each step,
    supplier -> buyer), nodes (system indices).
    """
    stressor: str
    unit: str
    demand: str
    total: float
    threshold: float
    max_depth: int
    paths: pd.DataFrame
    coverage: float
    coverage_by_depth: pd.Series
    paths_found: int
    nodes_expanded: int
    setup_seconds: float
    search_seconds: float
    truncated: bool
    truncation: str
    files: list = field(default_factory=list)
    _system: object = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        flag = f", TRUNCATED by {self.truncation}" if self.truncated else ""
        return (f"SPAResult({self.stressor} [{self.unit}] of {self.demand}: total {self.total:.6g}, "
                f"{self.paths_found} paths >= {self.threshold:.3g} up to depth {self.max_depth}, "
                f"coverage {100 * self.coverage:.2f} %, {self.nodes_expanded} nodes in "
                f"{self.search_seconds:.3f} s{flag})")

    def plot(self, top: int = 15, **kwargs):
        """:func:`plot_paths` of this result (the Figure)."""
        return plot_paths(self, top=top, **kwargs)

    def to_parquet(self, path) -> None:
        """The paths as a flat table (``mriotrace.export.spa_frame``) in a Parquet file (pyarrow)."""
        from . import export
        export.write_parquet(export.spa_frame(self), path)

    def to_csv(self, path) -> None:
        """The paths as a flat table (``mriotrace.export.spa_frame``) in a CSV file."""
        from . import export
        export.write_csv(export.spa_frame(self), path)

    def report(self, top: int = 20, system=None) -> str:
        """The readable summary ``mriotrace spa`` prints (one C++ formatter for both): total with its
        unit, threshold, paths found, coverage by depth and the best `top` paths.

        A result read by ``mriotrace.load_results`` carries no system (the labels the formatter
        names nodes by): pass the system it was computed on as `system`."""
        system = system if system is not None else self._system
        if system is None:
            raise InputError("this SPA result carries no system (it was read from a file); "
                             "call report(system=mriotrace.load(SYSTEM_FILE))")
        df = self.paths
        nodes = [j for p in df["nodes"] for j in p]
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in df["nodes"]])]).astype(np.int64)
        return _core.spa_report(system.core, self.total, self.threshold, self.max_depth, self.paths_found,
                                self.coverage, np.asarray(self.coverage_by_depth, dtype=float), self.truncated,
                                self.truncation, np.asarray(df["value"], dtype=float), offsets,
                                np.asarray(nodes, dtype=np.int64), self.stressor, self.unit, self.demand, int(top))

    def _repr_html_(self) -> str:
        import html

        head = f"<pre>{html.escape(self.report(top=10).rstrip())}</pre>" if self._system is not None else (
            f"<pre>{html.escape(repr(self))}</pre>")
        return head + self.to_frame().head(10).to_html(float_format=lambda v: f"{v:.4g}")

    def to_frame(self) -> pd.DataFrame:
        """Tidy table of the kept paths: one row per (path, step) with rank, step (0 = emitter),
        region, sector, the path's value (with ``unit``) and share, depth."""
        rows = []
        for rank, (path, value, share) in enumerate(zip(self.paths["path"], self.paths["value"],
                                                        self.paths["share"])):
            for step, (region, sector) in enumerate(path):
                rows.append((rank, step, region, sector, value, self.unit, share, len(path) - 1))
        return pd.DataFrame(rows, columns=["rank", "step", "region", "sector", "value", "unit", "share", "depth"])


def spa(system, stressor: str | None = None, *, region=None, product=None, y=None, s=None, tau: float = 1e-4,
        absolute: bool = False, max_depth: int = 8, max_paths: int = 10_000_000, keep: int = 100_000,
        time_budget: float = 0.0, threads: int = 0, solver="auto", csv=None, h5=None) -> SPAResult:
    """Structural path analysis of a footprint s L y.

    Target: ``stressor`` (a stressor or indicator name; or give ``s``, an
    intensity vector (n,)); demand: ``region``'s final demand (default: all
    regions), only ``product`` ((region, sector)) when given, or a vector ``y``.
    Every path with |value| >= tau * |total| (or tau, with ``absolute``) up to
    ``max_depth`` steps (-1: unlimited, needs tau > 0) is found. The best
    ``keep`` paths (0: all) come back as a DataFrame; ``csv`` / ``h5`` stream
    every path to files. ``max_paths`` and ``time_budget`` (seconds) stop the
    search cleanly: ``result.truncated`` then says which limit. ``threads``
    (0 = all cores) never changes the result. ``solver``: "auto", "dense",
    "umfpack", or a factorisation from ``system.solver()`` to reuse across calls
    (every function of this module accepts one).
    """
    s_vec, name, unit = _intensity(system, stressor, s)
    y_vec, what = _demand(system, region, product, y)
    fac = _factor(system, solver, threads)
    raw = _core.spa(system.core, fac, s_vec, y_vec, tau=tau, absolute=absolute, max_depth=max_depth,
                    max_paths=max_paths, keep=keep, time_budget=time_budget, threads=threads,
                    csv=None if csv is None else str(csv), h5=None if h5 is None else str(h5), stressor=name,
                    unit=unit, demand=what)
    return _spa_result(system, raw, name, unit, what, [str(f) for f in (csv, h5) if f is not None])


def _paths_frame(labels: list, values, depths, offsets, nodes, total: float, name: str, unit: str,
                 intensities=None, coefficients=None) -> pd.DataFrame:
    """SPAResult.paths from flat arrays (path p's nodes: nodes[offsets[p]:offsets[p+1]], emitter
    first; labels: the (region, sector) of each system index). intensities and coefficients are
    columns only when given (a spa() run has them; a paths file does not store them)."""
    values, depths, offsets, nodes = (np.asarray(a) for a in (values, depths, offsets, nodes))
    P = len(values)
    path_nodes = [tuple(int(j) for j in nodes[offsets[p]:offsets[p + 1]]) for p in range(P)]
    cols = {
        "value": values,
        "share": values / total if total != 0 else np.zeros(P),
        "depth": depths.astype(int),
        "emitter_region": [labels[p[0]][0] for p in path_nodes],
        "emitter_sector": [labels[p[0]][1] for p in path_nodes],
        "final_region": [labels[p[-1]][0] for p in path_nodes],
        "final_sector": [labels[p[-1]][1] for p in path_nodes],
        "path": [tuple(labels[j] for j in p) for p in path_nodes],
    }
    if intensities is not None:
        inten, coef = np.asarray(intensities), np.asarray(coefficients)
        cols["intensities"] = [tuple(inten[offsets[p]:offsets[p + 1]]) for p in range(P)]
        cols["coefficients"] = [tuple(coef[offsets[p] - p:offsets[p + 1] - p - 1]) for p in range(P)]
    cols["nodes"] = path_nodes
    df = pd.DataFrame(cols)
    df.index.name = "rank"
    df.attrs["unit"] = unit
    df.attrs["stressor"] = name
    return df


def _spa_result(system, raw: dict, name: str, unit: str, what: str, files: list) -> SPAResult:
    total = raw["total"]
    df = _paths_frame(list(system.get_index()), raw["values"], raw["depths"], raw["offsets"], raw["nodes"], total,
                      name, unit, raw["intensities"], raw["coefficients"])
    cov = pd.Series(np.asarray(raw["coverage_by_depth"]), index=pd.RangeIndex(len(raw["coverage_by_depth"]),
                                                                              name="depth"), name="coverage")
    return SPAResult(stressor=name, unit=unit, demand=what, total=total, threshold=raw["threshold"],
                     max_depth=raw["max_depth"], paths=df, coverage=raw["coverage"], coverage_by_depth=cov,
                     paths_found=raw["paths_found"], nodes_expanded=raw["nodes_expanded"],
                     setup_seconds=raw["setup_seconds"], search_seconds=raw["search_seconds"],
                     truncated=raw["truncated"], truncation=raw["truncation"], files=files, _system=system)


# --- production layers, extraction, linkages, Ghosh ---------------------------------------

def _S_rows(system, stressors) -> tuple[np.ndarray, pd.Index, list]:
    """(S (k, n) Fortran, stressor index, units) for names (default: every stressor)."""
    labels = system.core.labels
    names = list(labels.stressors) if stressors is None else ([stressors] if isinstance(stressors, str)
                                                              else list(stressors))
    rows = [system.core.stressor_index(str(n)) for n in names]
    units = [labels.stressor_units[i] if i < len(labels.stressor_units) else "" for i in rows]
    S = np.asfortranarray(np.asarray(system.core.S)[rows, :])
    return S, pd.Index(names, name="stressor"), units


def production_layers(system, stressors=None, *, region=None, product=None, y=None, T: int = 5,
                      by: str = "region", threads: int = 0, solver="auto") -> pd.DataFrame:
    """The footprint S L y split into tiers t = 0..T (s A^t y) and the remainder.

    Rows (stressor, tier) with tiers 0..T and "remainder"; columns the region
    where it is emitted, plus "total" (``by="region"``), or the emitting
    (region, sector) (``by="sector"``; row totals: ``df.sum(axis=1)``). Tier 0 is emitted by the final products'
    own producers, tier 1 by their direct suppliers, and so on. The rows of a
    stressor sum to its footprint. ``df.attrs["units"]`` maps stressor -> unit.
    """
    if by not in ("region", "sector"):
        raise ValueError(f"by={by!r}; expected 'region' or 'sector'")
    S, index, units = _S_rows(system, stressors)
    y_vec, what = _demand(system, region, product, y)
    fac = _factor(system, solver, threads)
    out = _core.production_layers(system.core, fac, S, y_vec, int(T))
    tiers = [str(t) for t in range(int(T) + 1)] + ["remainder"]
    rows = pd.MultiIndex.from_product([index, tiers], names=["stressor", "tier"])
    if by == "region":
        df = pd.DataFrame(np.asarray(out["emissions"]), index=rows,
                          columns=pd.Index(system.regions, name="region"))
    else:  # S[s, j] (A^t y)_j for every stressor s, tier t and sector j
        output = np.asarray(out["output"])  # (n, T+2)
        data = (S[:, None, :] * output.T[None, :, :]).reshape(len(index) * len(tiers), -1)
        df = pd.DataFrame(data, index=rows, columns=system.get_index())
    if by == "region":
        df["total"] = df.sum(axis=1)
    df.attrs["units"] = dict(zip(index, units))
    df.attrs["demand"] = what
    return df


def hypothetical_extraction(system, sectors, *, mode: str = "full", stressors=None, region=None, y=None,
                            method: str = "auto", threads: int = 0, solver="auto") -> pd.DataFrame:
    """Emissions lost when sectors are hypothetically extracted.

    ``sectors``: one set (a list of (region, sector) pairs or indices) or a dict
    name -> set for several extractions at once (one block solve for all).
    ``mode``: "full" (rows, columns and final demand of the set removed),
    "backward" (the set buys no inputs), "forward" (Leontief rows: nobody buys
    the set's output as input, final demand fixed), "forward_ghosh"
    (Dietzenbacher's supply-side definition: the set's rows of B = x^-1 Z are
    zeroed with primary inputs v fixed, x*' = v' (I - B*)^-1; v = x - Z'1, the
    table's; demand arguments do not apply). Demand: ``region``'s final
    demand, all regions (default) or ``y``.
    Returns rows (set, stressor), columns base, extracted, delta (base -
    extracted), share (delta / base), woodbury (solved by a low-rank update).
    """
    sets = sectors if isinstance(sectors, dict) else {"extracted": sectors}
    if not sets:
        raise ValueError("sectors is empty; expected a set of (region, sector) pairs or a dict of sets")
    positions = []
    for name, members in sets.items():
        if isinstance(members, (str, tuple)) and not isinstance(members, list):
            members = [members]
        positions.append([_sector_position(system, m) for m in members])
    S, index, units = _S_rows(system, stressors)
    if mode == "forward_ghosh":
        if region is not None or y is not None:
            raise ValueError('mode = "forward_ghosh" keeps primary inputs v fixed; region / y do not apply')
        res = _core.ghosh_forward_extraction(system.core, S, positions, threads=threads)
    else:
        y_vec, _ = _demand(system, region, None, y)
        fac = _factor(system, solver, threads)
        res = _core.hypothetical_extraction(system.core, fac, S, y_vec, positions, mode=mode, method=method)
    frames = []
    for name, r in zip(sets, res):
        base = S @ np.asarray(r["x"])
        delta = np.asarray(r["delta_total"])
        frames.append(pd.DataFrame({"base": base, "extracted": base - delta, "delta": delta,
                                    "share": np.divide(delta, base, out=np.zeros_like(delta), where=base != 0),
                                    "woodbury": r["woodbury"]}, index=index))
    df = pd.concat(frames, keys=list(sets), names=["set", "stressor"])
    df.attrs["units"] = dict(zip(index, units))
    df.attrs["mode"] = mode
    return df


def linkages(system, stressors=None, *, threads: int = 0, solver="auto") -> pd.DataFrame:
    """Backward (Rasmussen), forward (Ghosh) and environmental linkages per (region, sector).

    Columns: backward (1^T L / mean), forward (G 1 / mean), backward_total
    (output multiplier 1^T L), forward_total (G 1), and for each stressor
    ``env_<stressor>`` (M_j / mean M) and ``M_<stressor>``. Above 1: stronger
    than the average sector.
    """
    S, index, _ = _S_rows(system, stressors)
    fac = _factor(system, solver, threads)
    out = _core.linkages(fac, S, np.asarray(system.core.x))
    df = pd.DataFrame({k: np.asarray(out[k]) for k in ("backward", "forward", "backward_total", "forward_total")},
                      index=system.get_index())
    for i, name in enumerate(index):
        df[f"env_{name}"] = np.asarray(out["environmental"])[i]
        df[f"M_{name}"] = np.asarray(out["M"])[i]
    return df


def ghosh(system, stressors=None, *, G: bool = False, threads: int = 0, solver="auto") -> dict:
    """The Ghosh (supply-side) model.

    Returns {"B": scipy.sparse CSC (n, n), B = x^-1 Z, "M_down": DataFrame
    stressors x (region, sector), emissions enabled downstream per unit of
    primary input, "G": DataFrame (n, n) or None}. G = x^-1 L x is dense and
    forms the Leontief inverse: only with ``G=True``.
    """
    shape, data, indices, indptr = _core.ghosh_B(system.core)
    B = sp.csc_array((np.array(data), np.array(indices), np.array(indptr)), shape=shape)
    S, index, units = _S_rows(system, stressors)
    fac = _factor(system, solver, threads)
    x = np.asarray(system.core.x)
    M_down = pd.DataFrame(_core.ghosh_M_down(fac, S, x), index=index, columns=system.get_index())
    M_down.attrs["units"] = dict(zip(index, units))
    G_df = None
    if G:
        G_df = pd.DataFrame(_core.ghosh_G(fac, x), index=system.get_index(), columns=system.get_index())
    return {"B": B, "M_down": M_down, "G": G_df}


# --- plot -------------------------------------------------------------------------------

def plot_paths(result: SPAResult, top: int = 15, ax=None, path=None):
    """The ``top`` paths as a tree from the final products (left) to the emitters (right):
    :func:`mriotrace.plot.spa_tree`. Saves to ``path`` (PNG, SVG, PDF by extension) when given;
    returns the matplotlib Figure."""
    from . import plot

    return plot.spa_tree(result, top=top, ax=ax, path=path).figure
