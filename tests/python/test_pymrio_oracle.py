"""Every account equals pymrio's (calc_all on its own dense inverse), labels included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mriotrace
from conftest import assert_close

pymrio = pytest.importorskip("pymrio")

ACCOUNTS = ["S", "M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"]
# Largest relative difference seen per case, printed with -s for the report.
MAX_REL: dict[str, float] = {}


def compare_all(ours: mriotrace.MRIOSystem, ref, case: str) -> None:
    assert ours.extensions_instance_names == list(ref.get_extensions(data=False, instance_names=True))
    worst = 0.0
    for inst in ours.extensions_instance_names:
        mine, theirs = getattr(ours, inst), getattr(ref, inst)
        for key in ACCOUNTS:
            a, b = getattr(mine, key), getattr(theirs, key)
            assert a is not None and b is not None, f"{inst}.{key} missing"
            pd.testing.assert_index_equal(a.index, b.index)
            pd.testing.assert_index_equal(a.columns, b.columns)
            worst = max(worst, assert_close(a.to_numpy(), b.to_numpy(), rtol=1e-9, what=f"{case} {inst}.{key}"))
    MAX_REL[case] = worst
    print(f"\n{case}: max relative difference vs pymrio {worst:.2e}")


def test_pymrio_test_system():
    io = pymrio.load_test()
    ref = io.copy()
    ref.calc_all()
    ours = mriotrace.from_pymrio(io).calc_all()
    compare_all(ours, ref, "pymrio.load_test()")
    # the input data reached the engine unchanged
    assert_close(ours.x.to_numpy(), ref.x.to_numpy(), rtol=1e-13, what="x")
    assert_close(ours.Z.to_numpy(), ref.Z.to_numpy(), rtol=1e-13, what="Z")
    assert ours.emissions.name == "Emissions"
    assert ours.emissions.unit.equals(io.emissions.unit)
    assert ours.monetary_unit == "Mill USD"


def test_pymrio_from_coefficients():
    """pymrio's case 3 (A and Y given, x from a solve) gives the same accounts."""
    io = pymrio.load_test()
    io.calc_system()
    io.Z = None
    io.x = None
    io.L = None
    ours = mriotrace.from_pymrio(io).calc_all()
    ref = pymrio.load_test()
    ref.calc_all()
    compare_all(ours, ref, "pymrio.load_test() from A, Y")


@pytest.mark.parametrize("seed", [3, 11])
def test_generated_system_via_to_pymrio(seed):
    ours = mriotrace.datasets.generate(regions=4, sectors=6, fd_categories=2, stressors=3, seed=seed)
    assert ours.core.has_F_Y and ours.stressors.F_Y is not None
    ref = ours.to_pymrio(include_x=False)  # pymrio recomputes x = Z1 + Y1 itself
    ref.calc_all()
    ours.calc_all()
    compare_all(ours, ref, f"generated 4x6 seed {seed}")
    # F_Y is in the _reg totals (pymrio adds it to cba and pba only)
    F_Y_reg = ours.stressors.F_Y.T.groupby(level="region", sort=False).sum().T
    assert (F_Y_reg.to_numpy() > 0).any()


def test_sector_level_false_gives_only_regional():
    ours = mriotrace.from_pymrio(pymrio.load_test()).calc_all(sector_level=False)
    ref = pymrio.load_test()
    ref.calc_all()
    for key in ["D_cba", "D_pba", "D_imp", "D_exp", "M"]:
        assert getattr(ours.emissions, key) is None
    for key in ["D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"]:
        assert_close(getattr(ours.emissions, key).to_numpy(), getattr(ref.emissions, key).to_numpy(),
                     what=key)


def test_round_trip_to_pymrio_and_back():
    io = pymrio.load_test()
    ours = mriotrace.from_pymrio(io)
    back = mriotrace.from_pymrio(ours.to_pymrio())
    for inst in ours.extensions_instance_names:
        a, b = getattr(ours, inst), getattr(back, inst)
        pd.testing.assert_frame_equal(a.S, b.S, rtol=1e-14)
        pd.testing.assert_frame_equal(a.unit, b.unit)
    pd.testing.assert_frame_equal(ours.Y, back.Y)
    np.testing.assert_allclose(back.A_sparse.toarray(), ours.A_sparse.toarray(), rtol=1e-14)
