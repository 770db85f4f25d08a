"""mriotrace.math equals pymrio.tools.iomath on arrays, dense and scipy.sparse; textbook values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import mriotrace
from mriotrace import math as mm
from conftest import assert_close, require_data

pymrio = pytest.importorskip("pymrio")
iomath = pymrio.tools.iomath


def test_miller_blair_2_3():
    mb = json.loads(require_data("textbook/miller_blair_2_3.json").read_text())
    Z = np.array(mb["Z"], dtype=float)
    f = np.array(mb["f"], dtype=float)
    x = mm.calc_x(Z, f[:, None])
    np.testing.assert_allclose(x, mb["x"], rtol=0, atol=1e-12)
    A = mm.calc_A(Z, x)
    np.testing.assert_allclose(A, mb["expected"]["A"], rtol=0, atol=1e-12)
    L = mm.calc_L(A)
    np.testing.assert_allclose(L, mb["expected"]["L"], rtol=0, atol=1e-12)
    # the same through the system: x_new = L f_new from the book's note, by a solve
    system = mriotrace.MRIOSystem.from_arrays(["R"], mb["sectors"], ["f"], Z=Z, Y=f[:, None])
    np.testing.assert_allclose(system.A.to_numpy(), mb["expected"]["A"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(system.calc_L().to_numpy(), mb["expected"]["L"], rtol=0, atol=1e-12)
    x_new = system.solver().solve(np.array([600.0, 1500.0]))
    np.testing.assert_allclose(x_new, [1247.52475, 1841.58416], atol=1e-5)


@pytest.fixture(scope="module")
def arrays(small_system):
    s = small_system
    Z = s.Z.to_numpy(copy=True)
    Y = s.Y.to_numpy(copy=True)
    F = s.stressors.F.to_numpy(copy=True)
    x = mm.calc_x(Z, Y)
    Z[:, 5] = 0.0  # a zero-output sector: pymrio gives zero columns, not an error
    Z[5, :] = 0.0
    Y[5, :] = 0.0
    F[:, 5] = 0.0
    return dict(Z=Z, Y=Y, F=F, R=len(s.regions), N=len(s.sectors))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_iomath_equivalence(arrays, sparse):
    Z, Y, F, R, N = arrays["Z"], arrays["Y"], arrays["F"], arrays["R"], arrays["N"]
    Zin = sp.csc_array(Z) if sparse else Z
    dense = (lambda m: m.toarray()) if sparse else (lambda m: m)

    x = mm.calc_x(Zin, Y)
    x_ref = iomath.calc_x(Z, Y)
    assert x_ref.shape == (Z.shape[0], 1)
    assert_close(x, x_ref.ravel(), rtol=1e-14, what="x")
    assert x[5] == 0

    A = mm.calc_A(Zin, x)
    assert sp.issparse(A) == sparse
    A_ref = iomath.calc_A(Z, x_ref)
    np.testing.assert_allclose(dense(A), A_ref, rtol=1e-14, atol=0)
    assert not dense(A)[:, 5].any()

    S = mm.calc_S(sp.csc_array(F) if sparse else F, x)
    S_ref = iomath.calc_S(F, x_ref)
    np.testing.assert_allclose(dense(S), S_ref, rtol=1e-14, atol=0)

    np.testing.assert_allclose(dense(mm.calc_Z(A, x)), iomath.calc_Z(A_ref, x_ref), rtol=1e-14, atol=1e-12)
    np.testing.assert_allclose(dense(mm.calc_F(S, x)), iomath.calc_F(S_ref, x_ref), rtol=1e-14, atol=1e-12)

    L_ref = iomath.calc_L(A_ref)
    assert_close(mm.calc_L(A), L_ref, rtol=1e-12, what="L")
    assert_close(mm.calc_M(dense(S), A), iomath.calc_M(S_ref, L_ref), rtol=1e-12, what="M")

    # calc_accounts: pymrio needs labelled Y (one column per region) and L
    idx = pd.MultiIndex.from_product([[f"R{r}" for r in range(R)], [f"S{i}" for i in range(N)]],
                                     names=["region", "sector"])
    Y_agg = Y.reshape(Y.shape[0], R, -1).sum(axis=2)
    ref = iomath.calc_accounts(pd.DataFrame(S_ref, columns=idx), pd.DataFrame(L_ref, index=idx, columns=idx),
                               pd.DataFrame(Y_agg, index=idx, columns=pd.Index(idx.levels[0], name="region")))
    ours = mm.calc_accounts(dense(S), A, Y_agg, R)
    for name, a, b in zip(["D_cba", "D_pba", "D_imp", "D_exp"], ours, ref):
        assert_close(a, b.to_numpy(), rtol=1e-9, what=name)


def test_math_rejects_bad_shapes():
    A = np.array([[0.1, 0.2], [0.3, 0.1]])
    with pytest.raises(ValueError, match=r"S has shape \(1, 3\); expected \(k, 2\)"):
        mm.calc_M(np.ones((1, 3)), A)
    with pytest.raises(ValueError, match=r"Y has shape \(2, 3\); expected \(2, 1\)"):
        mm.calc_accounts(np.ones((1, 2)), A, np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="Z has 2 columns; expected 3"):
        mm.calc_A(np.ones((2, 2)), np.ones(3))


@pytest.mark.parametrize("stressors", [2, 40], ids=["multipliers", "demand"])
def test_calc_accounts_paths_match_pymrio(stressors):
    # k = 2: R*k = 10 transposed solves for D_imp (SectorPath::Multipliers); k = 40: R*k = 200 > n + 2k + R/2
    # = 107, so auto solves pymrio's x_diag region by region instead (SectorPath::Demand, docs/solvers.md).
    import mriotrace

    s = mriotrace.datasets.generate(regions=5, sectors=5, stressors=stressors, domestic_density=0.6,
                                    trade_density=0.3, seed=17)
    R, N = len(s.regions), len(s.sectors)
    A = sp.csc_array(s.A_sparse)
    S = s.stressors.S.to_numpy()
    Yr = np.asarray(s.core.Y_by_region())
    idx = pd.MultiIndex.from_product([s.regions, s.sectors], names=["region", "sector"])
    L = iomath.calc_L(pd.DataFrame(A.toarray(), index=idx, columns=idx))
    ref = iomath.calc_accounts(pd.DataFrame(S, columns=idx), L,
                               pd.DataFrame(Yr, index=idx, columns=pd.Index(s.regions, name="region")))
    for solver in ("dense", "gmres", "umfpack"):
        ours = mm.calc_accounts(S, A, Yr, R, solver=solver, threads=2)
        for name, a, b in zip(["D_cba", "D_pba", "D_imp", "D_exp"], ours, ref):
            assert_close(a, b.to_numpy(), rtol=1e-9, what=f"{name} ({solver})")
    # Sparse and iterative solvers: the same bits for 1 and 2 threads (docs/hpc.md).
    for solver in ("gmres", "umfpack"):
        one = mm.calc_accounts(S, A, Yr, R, solver=solver, threads=1)
        two = mm.calc_accounts(S, A, Yr, R, solver=solver, threads=2)
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)
