"""Footprints split by final-demand category and by product (D_cba in finer columns).

With M = S (I - A)^-1 (stressor multipliers, stressors x (region, sector)):

    by category   D[s, (r, f)]  = (M Y)[s, (r, f)] + F_Y[s, (r, f)]
                  stressors x (consuming region, Y category); summed over f: D_cba_reg
    by product    D[s, (r, p)]  = sum_q M[s, (q, p)] * Y_r[(q, p)]
                  stressors x (consuming region, product p from any producing region q);
                  summed over p, plus F_Y of region r: D_cba_reg

M is the extension's (computed by calc_all when missing); nothing n x n is formed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .system import MRIOSystem


def _multipliers(system: MRIOSystem, extension: str):
    ext = system.extension(extension)
    if ext.M is None:
        system.calc_all(extensions=[ext.instance_name], sector_level=True)
    return ext, ext.M.to_numpy()


def footprint_by_category(system: MRIOSystem, extension: str) -> pd.DataFrame:
    """Consumption-based account of `extension` by (consuming region, Y category), stressor units."""
    ext, M = _multipliers(system, extension)
    D = M @ system.Y.to_numpy()
    if ext.F_Y is not None:
        D = D + ext.F_Y.to_numpy()
    return pd.DataFrame(D, index=ext.get_rows(), columns=system.Y.columns)


def footprint_by_product(system: MRIOSystem, extension: str) -> pd.DataFrame:
    """Consumption-based account of `extension` by (consuming region, product), F_Y not included."""
    ext, M = _multipliers(system, extension)
    R, N = len(system.regions), len(system.sectors)
    Y = system.Y.to_numpy()
    Yr = Y.reshape(R * N, R, -1).sum(axis=2)  # n x consuming regions
    k = M.shape[0]
    out = np.empty((k, R, N))
    Mq = M.reshape(k, R, N)  # [s, producing region q, product p]
    for r in range(R):
        out[:, r, :] = np.einsum("sqp,qp->sp", Mq, Yr[:, r].reshape(R, N))
    cols = pd.MultiIndex.from_product([system.regions, system.sectors], names=["region", "sector"])
    return pd.DataFrame(out.reshape(k, R * N), index=ext.get_rows(), columns=cols)
