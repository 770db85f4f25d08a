"""The Python API as documented in docs/python-api.md: demo system, constructors, layouts, bindings."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

import mriotrace


@pytest.fixture(scope="module")
def china():
    return mriotrace.datasets.china_synthetic().calc_all(sector_level=False)


def test_china_default_worked_example(china):
    assert len(china.regions) == 31 and len(china.sectors) == 42
    assert "Beijing" in list(china.regions) and "Zhejiang" in list(china.regions)
    co2 = china.stressors
    assert list(co2.get_rows()) == ["CO2", "Energy"]
    assert co2.unit.loc["CO2", "unit"] == "Mt CO2 (synthetic)"
    cba = co2.D_cba_reg.loc["CO2"]
    pba = co2.D_pba_reg.loc["CO2"]
    np.testing.assert_allclose(cba.sum(), pba.sum(), rtol=1e-12)
    # net transfer of region r = imports embodied - exports embodied = cba - pba
    net = co2.D_imp_reg.loc["CO2"] - co2.D_exp_reg.loc["CO2"]
    np.testing.assert_allclose(net, cba - pba, rtol=1e-9, atol=1e-9 * pba.abs().max())
    # Q: emitted in Hebei for Beijing's final demand, both ways of reading it
    q = co2.Q.loc[("CO2", "Hebei"), "Beijing"]
    p, r = list(china.regions).index("Hebei"), list(china.regions).index("Beijing")
    assert q == co2.Q_array[0, p, r] and q > 0
    assert china.diagnostics["rhs_solved"] >= 31 and china.diagnostics["max_relative_residual"] < 1e-12
    assert co2.D_cba is None  # sector_level=False


def test_value_added_extension(china):
    va = china.value_added
    assert va.F.shape == (1, 31 * 42)
    np.testing.assert_allclose(va.F.to_numpy().ravel(), china.v.to_numpy())


def test_build_from_A_and_x_with_pandas(small_system):
    """pymrio's case 2 (A, x) and case 3 (A, Y) give the system built from Z."""
    ext = {"co2": {"F": small_system.stressors.F, "F_Y": small_system.stressors.F_Y, "unit": "kt"}}
    from_A_x = mriotrace.MRIOSystem(A=small_system.A, x=small_system.x, Y=small_system.Y, extensions=ext)
    from_A_Y = mriotrace.MRIOSystem(A=small_system.A, Y=small_system.Y, extensions=ext)
    for s in (from_A_x, from_A_Y):
        np.testing.assert_allclose(s.x.to_numpy(), small_system.x.to_numpy(), rtol=1e-12)
        pd.testing.assert_frame_equal(s.co2.S, small_system.stressors.S, rtol=1e-12)
        assert list(s.co2.unit["unit"]) == ["kt"] * 3


def test_S_only_extension_mixed_with_F(small_system):
    """An extension given as S and one as F: intensities are kept exactly."""
    S = small_system.stressors.S
    s = mriotrace.MRIOSystem(Z=small_system.Z, Y=small_system.Y,
                             extensions={"a": {"S": S}, "b": {"F": small_system.stressors.F}})
    pd.testing.assert_frame_equal(s.a.S, S, check_exact=True)
    pd.testing.assert_frame_equal(s.b.S, S, rtol=1e-13)


def test_missing_final_demand_category_is_zero_filled(small_system):
    Y = small_system.Y.drop(columns=[("R1", "FD1")])
    s = mriotrace.MRIOSystem(Z=small_system.Z, Y=Y)
    assert s.Y[("R1", "FD1")].eq(0).all()
    assert list(s.Y_categories) == ["FD0", "FD1"]


def test_zero_copy_views(small_system):
    core = small_system.core
    x1, x2 = core.x, core.x
    assert np.shares_memory(x1, x2) and not x1.flags.writeable  # a view into the engine, read-only
    _, data, indices, _ = core.A_csc()
    assert indices.dtype == np.int64 and not data.flags.writeable
    assert np.shares_memory(small_system.A_sparse.data, core.A_csc()[1])
    acc = mriotrace._core.calc_accounts(core, small_system.solver())
    assert acc["D_cba"].flags.f_contiguous and acc["D_cba"].flags.writeable  # moved out, owned by NumPy
    assert acc["Q"].shape == (core.k, core.R, core.R)


def test_solver_object_and_diagnostics(small_system):
    fac = small_system.solver(solver="umfpack", threads=1)
    y = small_system.Y.to_numpy().sum(axis=1)
    x = fac.solve(y)
    np.testing.assert_allclose(x, small_system.x["indout"].to_numpy(), rtol=1e-12)
    X = fac.solve(np.column_stack([y, 2 * y]))
    np.testing.assert_allclose(X[:, 1], 2 * x, rtol=1e-13)
    d = fac.diagnostics()
    assert d["solver"] == "umfpack" and d["threads"] == 1 and d["rhs_solved"] == 3


def test_concurrent_calc_all_from_python_threads():
    """Solves release the GIL; two Python threads on two systems give the sequential results."""
    systems = [mriotrace.datasets.generate(regions=8, sectors=12, seed=s) for s in (1, 2)]
    expected = [s.calc_all(threads=1).stressors.D_cba_reg.to_numpy().copy() for s in systems]
    errors = []

    def run(s, exp):
        try:
            for _ in range(5):
                np.testing.assert_array_equal(s.calc_all(threads=1).stressors.D_cba_reg.to_numpy(), exp)
        except Exception as e:  # reported on the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(systems, expected)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_generator_is_deterministic():
    """Same seed and options -> the same numbers, whatever the thread count; another seed differs."""
    a = mriotrace.datasets.generate(regions=5, sectors=7, seed=3, threads=1)
    b = mriotrace.datasets.generate(regions=5, sectors=7, seed=3, threads=2)
    c = mriotrace.datasets.generate(regions=5, sectors=7, seed=4, threads=1)
    assert (a.A_sparse != b.A_sparse).nnz == 0
    for key in ("x", "Y"):
        np.testing.assert_array_equal(getattr(a, key).to_numpy(), getattr(b, key).to_numpy())
    np.testing.assert_array_equal(a.stressors.S.to_numpy(), b.stressors.S.to_numpy())
    assert not np.array_equal(a.x.to_numpy(), c.x.to_numpy())
