"""US EPA USEEIO v2.1.20-GHG through mriotrace.read_useeio: N, final and direct results equal EPA's."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mriotrace
from conftest import assert_close, require_data

MODEL = "useeio/USEEIOv2.1.20-GHG"


@pytest.fixture(scope="module")
def model():
    folder = require_data(MODEL)
    return folder, mriotrace.read_useeio(folder)


def _sector_order(folder, model) -> np.ndarray:
    """Position in the system of each sector of EPA's files (sectors.json order)."""
    ids = [s["id"] for s in json.loads((folder / "sectors.json").read_text())]
    pos = {sid: i for i, sid in enumerate(model.sector_ids)}
    assert sorted(pos) == sorted(ids)
    return np.array([pos[sid] for sid in ids])


def test_shapes_and_labels(model):
    folder, m = model
    assert m.system.core.n == 411 and m.system.core.k == 16
    assert list(m.demands.columns) == [d["id"] for d in json.loads((folder / "demands.json").read_text())]
    assert m.system.C.shape == (1, 16)
    assert list(m.system.C.index) == ["GWP-AR4-100"]  # the indicator name of indicators.json
    assert m.system.core.labels.indicator_units == ["kg CO2 eq"]


def test_total_impact_intensities_N(model):
    folder, m = model
    order = _sector_order(folder, m)
    fac = m.system.solver()
    M = mriotrace._core.calc_M(fac, np.asfortranarray(m.system.core.S))  # flows x n, no L
    N = m.system.C.to_numpy() @ M
    N_epa = np.array(json.loads((folder / "matrix" / "N.json").read_text()))
    rel = assert_close(N[:, order], N_epa, rtol=1e-9, what="N = C M")
    print(f"\nUSEEIO N: max relative difference vs EPA {rel:.2e}")


@pytest.mark.parametrize("demand", ["2012_US_Production_Complete", "2012_US_Production_Domestic",
                                    "2012_US_Consumption_Complete", "2012_US_Consumption_Domestic"])
def test_demand_results(model, demand):
    folder, m = model
    order = _sector_order(folder, m)
    fp = m.system.demand_footprint(m.demands[demand], indicators=True)
    worst = 0.0
    for kind in ("final", "direct"):
        epa = json.loads((folder / "results" / kind / f"indicator_results_{demand}.json").read_text())
        assert epa["sectors"] == [m.sector_ids[i] for i in order]
        ours = fp[kind].to_numpy()[:, order]
        worst = max(worst, assert_close(ours, np.array(epa["data"]), rtol=1e-9, what=f"{demand} {kind}"))
        # EPA's totals are the row sums
        np.testing.assert_allclose(ours.sum(axis=1), np.array(epa["totals"], dtype=float).ravel(), rtol=1e-9)
    print(f"\nUSEEIO {demand}: max relative difference vs EPA {worst:.2e}")
