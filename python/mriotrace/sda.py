"""Structural decomposition analysis (SDA) and LMDI-I (METHODS.md "Structural decomposition").

:func:`decompose` splits the change of consumption-based accounts
E[s, r] = f_s L y_r between two systems (two years, or base and scenario)
into the effects of intensity (f), structure (L) and final demand (y, or its
mix and level), exactly: the effects sum to the change. ``method="exact"``
averages over all orderings of the factors; ``"polar"`` averages the two polar
decompositions (Dietzenbacher & Los 1998). L is never formed: each term is a
solve with the factorisation of one period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _core
from .system import MRIOSystem

__all__ = ["decompose", "lmdi"]


def _core_of(system):
    return system.core if isinstance(system, MRIOSystem) else system


def decompose(system0, system1, *, method: str = "exact", stressors=None, split_demand: bool = False,
              threads: int = 0) -> pd.DataFrame:
    """SDA of E = f L y between `system0` and `system1` (same regions, sectors and stressors).

    Returns a DataFrame indexed by (stressor, region of final demand) with columns E0, E1,
    change and effect_f, effect_L, effect_y (or effect_y_mix, effect_y_level with
    split_demand). stressors: names (as the core stores them) or None for all.
    """
    c0, c1 = _core_of(system0), _core_of(system1)
    names = list(c0.labels.stressors)
    rows = []
    for s in ([] if stressors is None else ([stressors] if isinstance(stressors, str) else stressors)):
        if s not in names:
            raise ValueError(f"unknown stressor {s!r}; the systems have {names}")
        rows.append(names.index(s))
    d = _core.structural_decomposition(c0, c1, method=method, stressors=rows, split_demand=split_demand,
                                       threads=threads)
    used = [names[i] for i in rows] if rows else names
    index = pd.MultiIndex.from_product([used, list(c0.labels.regions)], names=["stressor", "region"])
    cols = {"E0": d["E0"].ravel(), "E1": d["E1"].ravel(), "change": (d["E1"] - d["E0"]).ravel()}
    for f, e in zip(d["factors"], d["effects"]):
        cols[f"effect_{f}"] = np.asarray(e).ravel()
    return pd.DataFrame(cols, index=index)


def lmdi(X0, X1):
    """LMDI-I effects of V = sum_i prod_k X[k, i] between two periods (K x I, positive).

    With DataFrames (factors as rows) the result is a Series indexed by factor; the
    effects sum exactly to V1 - V0.
    """
    effects = _core.lmdi(np.asfortranarray(X0, dtype=float), np.asfortranarray(X1, dtype=float))
    if isinstance(X0, pd.DataFrame):
        return pd.Series(effects, index=X0.index, name="effect")
    return effects
