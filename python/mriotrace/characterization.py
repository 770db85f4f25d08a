"""Characterisation: stressors -> impacts (GWP100 and the others), as a new extension.

The engine appends the impact rows (S_new = C S, F_Y_new = C F_Y; core
characterize.hpp), so every account of the impacts (M, D_cba, D_pba, ...)
follows from the same solve as the stressors'.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _core, _names
from .system import MRIOSystem


def characterize(system: MRIOSystem, table: pd.DataFrame, *, extension: str | None = None,
                 name: str = "characterized", units=None) -> MRIOSystem:
    """A new system with the extension `name`: impacts = factors x the stressors of `extension`.

    table   wide: index = impact names, columns = stressor labels of the extension (factor per
            stressor unit), optionally a column "unit" with the impact units; or long, with columns
            "impact", "stressor", "factor" and optionally "impact_unit" (or "unit") and
            "stressor_unit" (checked against the extension's units: a factor is per that unit).
    extension  instance name of the extension the stressors belong to; default: the one
            holding every stressor of the table.
    units   impact units (list, or dict impact -> unit) when the table has none.

    Raises ValueError when a stressor is not in the extension, a stressor unit differs from
    the system's, or the impact names collide with existing rows.
    """
    wide, impact_units, stressor_units = _as_wide(table)
    if units is not None:
        impact_units = [units[i] for i in wide.index] if isinstance(units, dict) else list(units)
    ext = _pick_extension(system, list(wide.columns), extension)
    flat = list(system.core.labels.stressors)
    label_to_flat = {label: flat[pos] for label, pos in zip(ext.get_rows(), ext._rows)}
    missing = [c for c in wide.columns if c not in label_to_flat]
    if missing:
        raise ValueError(f"characterisation table stressors {missing[:3]} are not rows of extension "
                         f"{ext.instance_name!r} (e.g. {list(label_to_flat)[:2]})")
    if stressor_units:
        unit_of = dict(zip(ext.get_rows(), ext.unit["unit"]))
        bad = [(s, u, unit_of[s]) for s, u in stressor_units.items() if str(u) != str(unit_of[s])]
        if bad:
            s, u, theirs = bad[0]
            raise ValueError(f"characterisation factor for {s!r} is per {u!r}; the system's {ext.instance_name} "
                             f"gives it in {theirs!r} ({len(bad)} such stressors)")
    impacts = [_names.encode(name, ["impact"], (str(i),)) for i in wide.index]
    core = _core.characterize(system.core, impacts, [str(u) for u in impact_units] if impact_units else [],
                              [label_to_flat[c] for c in wide.columns], np.asarray(wide.to_numpy(), dtype=float))
    return MRIOSystem._from_core(core, name=system.name)


def _as_wide(table: pd.DataFrame):
    """(impacts x stressors factors, impact units or None, {stressor: unit} or None)."""
    cols = set(table.columns)
    if {"impact", "stressor", "factor"} <= cols:
        unit_col = "impact_unit" if "impact_unit" in cols else ("unit" if "unit" in cols else None)
        order = list(dict.fromkeys(table["impact"]))
        wide = table.pivot_table(index="impact", columns="stressor", values="factor", aggfunc="sum",
                                 fill_value=0.0).reindex(order)
        impact_units = None
        if unit_col:
            per = table.groupby("impact", sort=False)[unit_col].agg(lambda u: list(dict.fromkeys(u)))
            multi = per[per.map(len) > 1]
            if len(multi):
                raise ValueError(f"impact {multi.index[0]!r} has several units {multi.iloc[0]}; expected one")
            impact_units = [per[i][0] for i in order]
        stressor_units = None
        if "stressor_unit" in cols:
            stressor_units = dict(zip(table["stressor"], table["stressor_unit"]))
        return wide, impact_units, stressor_units
    if "unit" in cols:
        return table.drop(columns="unit"), list(table["unit"]), None
    return table, None, None


def _pick_extension(system: MRIOSystem, stressors: list, extension: str | None):
    if extension is not None:
        return system.extension(extension)
    for inst in system.extensions_instance_names:
        rows = set(system.extension(inst).get_rows())
        if all(s in rows for s in stressors):
            return system.extension(inst)
    raise ValueError(f"no extension holds all stressors of the table (e.g. {stressors[:2]}); "
                     f"pass extension= (one of {system.extensions_instance_names})")
