"""Tidy exports of results: one module for every result class's to_frame / to_parquet / to_csv / to_xarray.

The tidy ("long") tables have one row per value with its labels and unit:

* accounts (:class:`mriotrace.results.AccountsResults`: a footprint or system file, a
  system's calc_all): ``result, account, stressor, unit, region, sector, partner, value``.
  ``account`` is M, D_cba, D_pba, D_imp, D_exp (sector level: region and sector of the
  column), D_cba_reg, D_pba_reg, D_imp_reg, D_exp_reg (region), Q (region = where it is
  emitted, partner = the region whose final demand caused it) or x (gross output; no
  stressor). A label that does not apply is "".
* scenarios: :meth:`mriotrace.ScenarioResult.to_frame`'s tables (``what`` = "regions",
  "sectors", "targets"), and the same "regions" table from a scenario results file.
* structural paths (:class:`mriotrace.tracing.SPAResult`, from spa() or a paths file):
  one row per path (:func:`spa_frame`), to Parquet or CSV.

Parquet needs pyarrow and xarray needs xarray (``pip install "mriotrace[export]"``);
CSV needs neither. Round trips are exact: :func:`read_parquet` and :func:`read_csv`
give back the table that was written (CSV numbers are written with 17 significant
digits' worth of precision, the shortest text that reads back to the same double).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

__all__ = ["ACCOUNT_COLUMNS", "accounts_frame", "accounts_xarray", "scenario_regions_frame", "spa_frame", "frame_xarray",
           "write_parquet", "read_parquet", "write_csv", "read_csv"]

ACCOUNT_COLUMNS = ["result", "account", "stressor", "unit", "region", "sector", "partner", "value"]
_REGIONAL = ("D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg")

# Dimensions of each ScenarioResult.to_frame table in xarray (the variable is one column).
SCENARIO_XARRAY = {
    "regions": {"var": "metric", "dims": ["scenario", "stressor", "region"]},
    "sectors": {"var": "metric", "dims": ["scenario", "region", "sector"]},
    "targets": {"var": "quantity", "dims": ["scenario", "indicator", "region", "basis"]},
}


def _need(module: str):
    """Import an optional dependency, or an ImportError naming the extra that installs it."""
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(f"this export needs {module}, which is not installed; install it with "
                          f'pip install "mriotrace[export]" (or pip install {module})') from None


def _strings(values) -> np.ndarray:
    return np.asarray([str(v) for v in values], dtype=object)


# --- accounts ---------------------------------------------------------------------------

def accounts_frame(results, accounts=None) -> pd.DataFrame:
    """The tidy table of an AccountsResults (columns :data:`ACCOUNT_COLUMNS`), set by set,
    account by account in the order of :data:`mriotrace.results.ACCOUNTS` (only `accounts`
    when given), rows in array order (stressor-major, then region, then sector / partner)."""
    from .results import ACCOUNTS
    if accounts is not None:
        accounts = [accounts] if isinstance(accounts, str) else list(accounts)
        unknown = [a for a in accounts if a not in ACCOUNTS]
        if unknown:
            raise ValueError(f"unknown account(s) {unknown}; expected some of {list(ACCOUNTS)}")
    regions, sectors = _strings(results.regions), _strings(results.sectors)
    R, N = len(regions), len(sectors)
    cell_region, cell_sector = np.repeat(regions, N), np.tile(sectors, R)
    cols = {c: [] for c in ACCOUNT_COLUMNS}

    def add(result, account, stressor, unit, region, sector, partner, value):
        m = len(value)
        for c, v in (("result", result), ("account", account), ("stressor", stressor), ("unit", unit),
                     ("region", region), ("sector", sector), ("partner", partner)):
            cols[c].append(np.full(m, v, dtype=object) if isinstance(v, str) else v)
        cols["value"].append(np.asarray(value, dtype=float))

    for s in results:
        rows = _strings(s.stressors)
        for account in s.accounts:
            if accounts is not None and account not in accounts:
                continue
            a = s.array(account)
            value = a.reshape(-1)  # C index order: matches the repeat / tile below
            units = _strings(s.units_of(account))
            k = a.shape[0]
            if account == "x":
                add(s.name, account, "", units[0], cell_region, cell_sector, "", value)
            elif account == "Q":
                add(s.name, account, np.repeat(rows, R * R), np.repeat(units, R * R),
                    np.tile(np.repeat(regions, R), k), "", np.tile(regions, k * R), value)
            elif account in _REGIONAL:
                add(s.name, account, np.repeat(rows, R), np.repeat(units, R), np.tile(regions, k), "", "", value)
            else:
                add(s.name, account, np.repeat(rows, R * N), np.repeat(units, R * N), np.tile(cell_region, k),
                    np.tile(cell_sector, k), "", value)
    data = {c: (np.concatenate(v) if v else np.array([], dtype=float if c == "value" else object))
            for c, v in cols.items()}
    df = pd.DataFrame(data)
    for c in ACCOUNT_COLUMNS[:-1]:
        df[c] = df[c].astype(str)
    df.attrs = {"kind": results.kind, "monetary_unit": results.monetary_unit, "source": results.source}
    return df


def accounts_xarray(results):
    """An xarray.Dataset of an AccountsResults: one variable per account, dimensions
    ("result", "stressor", "region", "sector") for M and the D_* accounts, ("result",
    "stressor", "region") for D_*_reg, ("result", "stressor", "region", "partner") for Q
    (region = emitting, partner = demanding) and ("result", "region", "sector") for x;
    NaN where a result set does not hold a stressor or an account. The stressors' units
    are the coordinate "unit" (along "stressor"); attrs["units"] of each variable says its unit."""
    xr = _need("xarray")
    regions, sectors = list(map(str, results.regions)), list(map(str, results.sectors))
    R, N = len(regions), len(sectors)
    set_names = list(results.sets)
    stressors, unit_of = [], {}
    for s in results:
        for row, u in zip(map(str, s.stressors), s.units):
            if row not in unit_of:
                stressors.append(row)
                unit_of[row] = u
    pos = {r: i for i, r in enumerate(stressors)}
    shapes = {"Q": (R, R), "x": (R, N)}
    dims_of = {"Q": ["region", "partner"], "x": ["region", "sector"]}
    variables = {}
    from .results import ACCOUNTS
    money = results.monetary_unit or "monetary unit"
    for account in ACCOUNTS:
        holders = [s for s in results if account in s.accounts]
        if not holders:
            continue
        tail = shapes.get(account, (R,) if account in _REGIONAL else (R, N))
        tail_dims = dims_of.get(account, ["region"] if account in _REGIONAL else ["region", "sector"])
        if account == "x":
            data = np.full((len(set_names), *tail), np.nan)
            for s in holders:
                data[set_names.index(s.name)] = s.array("x").reshape(tail)
            dims = ["result", *tail_dims]
            units = results.monetary_unit
        else:
            data = np.full((len(set_names), len(stressors), *tail), np.nan)
            for s in holders:
                rows = [pos[str(r)] for r in s.stressors]
                data[set_names.index(s.name), rows] = s.array(account).reshape(len(rows), *tail)
            dims = ["result", "stressor", *tail_dims]
            common = set(unit_of.values())
            base = common.pop() if len(common) == 1 else "the stressor's unit (coordinate 'unit')"
            units = f"{base} per {money}" if account == "M" else base
        variables[account] = xr.DataArray(data, dims=dims, attrs={"units": units, "account": account})
    coords = {"result": set_names, "stressor": stressors, "region": regions, "sector": sectors,
              "partner": regions, "unit": ("stressor", [unit_of[r] for r in stressors])}
    ds = xr.Dataset(variables, coords=coords)
    ds.attrs = {"kind": results.kind, "monetary_unit": results.monetary_unit, "source": results.source}
    return ds


# --- scenarios --------------------------------------------------------------------------

_SCENARIO_METRICS = (("pba_base", "base", "D_pba_reg"), ("pba", None, "D_pba_reg"), ("dpba", "delta", "D_pba_reg"),
                     ("cba_base", "base", "D_cba_reg"), ("cba", None, "D_cba_reg"), ("dcba", "delta", "D_cba_reg"))


def scenario_regions_frame(results) -> pd.DataFrame:
    """ScenarioResult.to_frame("regions")'s table from a ScenarioResults file: per scenario,
    stressor and region (and "all", the sum) the base, scenario and change of PBA and CBA."""
    regions = [str(r) for r in results.regions]
    base = results.base
    rows = []
    for name in results.scenarios:
        sc = results.scenario(name)
        for metric, which, account in _SCENARIO_METRICS:
            b, s = base.array(account), sc.array(account)
            a = b if which == "base" else (s - b if which == "delta" else s)
            for i, stressor in enumerate(base.stressors):
                unit = base.units[i]
                for r, region in enumerate(regions):
                    rows.append((name, metric, stressor, unit, region, a[i, r]))
                rows.append((name, metric, stressor, unit, "all", a[i].sum()))
    return pd.DataFrame(rows, columns=["scenario", "metric", "stressor", "unit", "region", "value"])


# --- structural paths -------------------------------------------------------------------

def spa_frame(result) -> pd.DataFrame:
    """A flat table of an SPAResult's paths for files: one row per path, best first; columns
    stressor, unit, rank, value, share, depth, emitter_region, emitter_sector, final_region,
    final_sector, path ("region/sector > ... > region/sector", emitter first) and nodes
    (system indices joined by ";")."""
    p = result.paths
    df = pd.DataFrame({"stressor": str(result.stressor), "unit": str(result.unit),
                       "rank": np.arange(len(p), dtype=np.int64)}, index=pd.RangeIndex(len(p)))
    for c in ("value", "share", "depth", "emitter_region", "emitter_sector", "final_region", "final_sector"):
        df[c] = p[c].to_numpy()
    df["path"] = [" > ".join(f"{r}/{s}" for r, s in path) for path in p["path"]]
    df["nodes"] = [";".join(map(str, n)) for n in p["nodes"]]
    for c in ("stressor", "unit", "emitter_region", "emitter_sector", "final_region", "final_sector", "path",
              "nodes"):
        df[c] = df[c].astype(str)
    df.attrs = {"kind": "spa", "demand": str(result.demand), "total": float(result.total)}
    return df


# --- tidy table -> xarray ---------------------------------------------------------------

def frame_xarray(frame: pd.DataFrame, var: str, dims: list, value: str = "value", unit: str = "unit"):
    """A tidy table as an xarray.Dataset: one variable per distinct `var`, over `dims`
    (labels in order of first appearance). Units: a variable whose rows share one unit
    gets it as attrs["units"]; units that depend on one dimension (e.g. per stressor)
    become the coordinate "unit" along it when every such variable agrees, else the
    variable's attrs["units"] lists "label: unit" pairs."""
    xr = _need("xarray")
    order = {d: list(pd.unique(frame[d])) for d in dims}
    variables, unit_coord = {}, {}
    per_label = []  # variables whose unit depends on a label: (name, dim, {label: unit})
    for name, g in frame.groupby(var, sort=False):
        s = g.set_index(dims)[value]
        if not s.index.is_unique:
            dup = s.index[s.index.duplicated()][0]
            dup = dup if isinstance(dup, tuple) else (dup,)
            raise ValueError(f"{var} = {name!r} has two rows for {dict(zip(dims, dup))}; expected one value per "
                             f"combination of {dims}")
        da = xr.DataArray.from_series(s).reindex({d: order[d] for d in dims})
        units = list(pd.unique(g[unit])) if unit in g else []
        if len(units) == 1:
            da.attrs["units"] = str(units[0])
        elif units:
            for d in dims:
                pairs = g.groupby(d, sort=False)[unit].unique()
                if (pairs.map(len) == 1).all():
                    per_label.append((name, d, {k: str(v[0]) for k, v in pairs.items()}))
                    break
            else:
                da.attrs["units"] = "; ".join(map(str, units))
        variables[str(name)] = da
    dims_used = {d for _, d, _ in per_label}
    if per_label and len(dims_used) == 1:
        d = dims_used.pop()
        merged: dict = {}
        if all(all(merged.setdefault(k, u) == u for k, u in m.items()) for _, _, m in per_label):
            unit_coord = {"unit": (d, [merged.get(k, "") for k in order[d]])}
            per_label = []
    for name, _, m in per_label:
        variables[str(name)].attrs["units"] = "; ".join(f"{k}: {u}" for k, u in m.items())
    ds = xr.Dataset(variables)
    if unit_coord:
        ds = ds.assign_coords(unit_coord)
    ds.attrs = {k: v for k, v in frame.attrs.items() if isinstance(v, (str, int, float))}
    return ds


# --- files ------------------------------------------------------------------------------

def write_parquet(frame: pd.DataFrame, path) -> None:
    """Write a tidy table to Parquet (pyarrow), without the pandas index."""
    _need("pyarrow")
    frame.to_parquet(os.fspath(path), index=False, engine="pyarrow")


def read_parquet(path) -> pd.DataFrame:
    """Read a tidy table written by :func:`write_parquet`."""
    _need("pyarrow")
    return pd.read_parquet(os.fspath(path), engine="pyarrow")


def write_csv(frame: pd.DataFrame, path) -> None:
    """Write a tidy table to CSV (UTF-8, header, no index); numbers as the shortest text that
    reads back to the same double."""
    frame.to_csv(os.fspath(path), index=False, encoding="utf-8")


def read_csv(path) -> pd.DataFrame:
    """Read a tidy table written by :func:`write_csv` exactly: labels stay text ("" stays "",
    never NaN) and numbers are parsed with round-trip precision."""
    text_columns = {"result", "account", "stressor", "unit", "region", "sector", "partner", "scenario", "metric",
                    "indicator", "basis", "quantity", "emitter_region", "emitter_sector", "final_region",
                    "final_sector", "path", "nodes"}
    header = pd.read_csv(os.fspath(path), nrows=0).columns
    # pandas 3 parses floats correctly rounded by default (and deprecates the option).
    precise = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    return pd.read_csv(os.fspath(path), keep_default_na=False, dtype={c: str for c in header if c in text_columns},
                       na_values={c: [""] for c in header if c not in text_columns}, **precise)
