"""The solver layer from Python: every solver against dense LU, diagnostics,
tolerance, warm starts, the fallback, thread-count determinism, mriotrace.math
and the CLI's --solver choices."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

import mriotrace
from mriotrace import _core

from conftest import assert_close

ACCOUNTS = ["M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg", "Q"]


def _generated():
    return mriotrace.datasets.generate(regions=6, sectors=20, fd_categories=2, stressors=3,
                                       domestic_density=0.5, trade_density=0.2, seed=3)


def _accounts(system, **kw):
    system.calc_all(**kw)
    ext = system.stressors
    return {k: np.array(getattr(ext, k)) for k in ACCOUNTS}, dict(system.diagnostics)


def _near_singular(n: int = 60, rho: float = 0.9999):
    """A = rho * (column-stochastic random matrix): spectral radius exactly rho."""
    rng = np.random.default_rng(5)
    A = np.where(rng.random((n, n)) < 0.3, rng.random((n, n)), 0.0) + 0.1 * np.eye(n)
    A *= rho / A.sum(axis=0)
    return sp.csc_array(A)


@pytest.mark.parametrize("solver", ["gmres", "power", "umfpack", "klu", "auto"])
def test_calc_all_matches_dense_lu(solver):
    ref, _ = _accounts(_generated(), solver="dense", threads=1)
    got, diag = _accounts(_generated(), solver=solver, threads=1)
    for k in ACCOUNTS:
        assert_close(got[k], ref[k], rtol=1e-10, what=f"{k} ({solver})")
    if solver in ("gmres", "power"):
        assert diag["solver"] == diag["last_solver"] == solver
        assert diag["reason"] == "requested"
        assert diag["preconditioner"] == "block-Jacobi, 6 blocks of 20"  # block_size = N from the system
        assert diag["iterations"] > 0 and diag["total_iterations"] >= diag["iterations"]
        assert diag["last_relative_residual"] <= 1e-13
        assert diag["max_relative_residual"] < 1e-13
        assert not diag["fell_back"] and diag["fallback_reason"] == ""
        assert diag["kernel_seconds"] > 0 and diag["preconditioner_seconds"] > 0
    else:
        assert diag["iterations"] == 0


def test_tolerance_changes_the_work_not_the_check():
    _, tight = _accounts(_generated(), solver="gmres", tol=1e-13, sector_level=False)
    loose, d_loose = _accounts(_generated(), solver="gmres", tol=1e-6, sector_level=False)
    ref, _ = _accounts(_generated(), solver="dense", sector_level=False)
    assert d_loose["total_iterations"] < tight["total_iterations"]
    assert d_loose["last_relative_residual"] <= 1e-6
    # tol is a relative residual: the answer is as good as the condition number allows.
    assert_close(loose["D_cba_reg"], ref["D_cba_reg"], rtol=1e-4, what="D_cba_reg at tol=1e-6")


def test_thread_count_does_not_change_iterative_results():
    one, d1 = _accounts(_generated(), solver="gmres", threads=1)
    two, d2 = _accounts(_generated(), solver="gmres", threads=2)
    assert d1["threads"] == 1 and d2["threads"] == 2
    for k in ACCOUNTS:
        np.testing.assert_array_equal(one[k], two[k], err_msg=f"{k}: 1 vs 2 threads (gmres)")


def test_warm_start_and_solver_object():
    s = _generated()
    fac = s.solver(solver="gmres", threads=1)
    Y = np.asfortranarray(s._core.Y_by_region())
    X = fac.solve(Y)
    cold = fac.diagnostics()["iterations"]
    Y2 = Y * 1.001
    X2 = fac.solve(Y2, X0=X)
    assert fac.diagnostics()["iterations"] < cold
    np.testing.assert_allclose(X2, s.solver(solver="dense").solve(Y2), rtol=1e-10)
    x = fac.solve(Y[:, 0], X0=X[:, 0])  # one vector, warm
    np.testing.assert_allclose(x, X[:, 0], rtol=1e-12)
    xt = fac.solve_transposed(np.ones(s._core.n))
    np.testing.assert_allclose(xt, s.solver(solver="dense").solve_transposed(np.ones(s._core.n)), rtol=1e-10)
    with pytest.raises(ValueError, match="initial guess X0 has shape"):
        fac.solve(Y, X0=X[:, :2])


@pytest.mark.parametrize("solver", ["dense", "umfpack", "klu", "gmres"])
def test_refactor_reuses_the_analysis_and_matches_a_fresh_solver(solver):
    s = _generated()
    A = sp.csc_array(s.A)
    A.indices = A.indices.astype(np.int64)
    A.indptr = A.indptr.astype(np.int64)
    A1 = A.copy()
    A1.data = A1.data * np.random.default_rng(1).uniform(0.5, 1.0, A1.nnz)  # same pattern, productive
    b = np.ones(s._core.n)
    fac = _core.LeontiefSolver(A, solver=solver, threads=1)
    copy = fac.refactored(A1)
    fac.refactor(A1)
    fresh = _core.LeontiefSolver(A1, solver=solver, threads=1)
    for f in (fac, copy):
        np.testing.assert_allclose(f.solve(b), fresh.solve(b), rtol=1e-12)
        np.testing.assert_allclose(f.solve_transposed(b), fresh.solve_transposed(b), rtol=1e-12)
    d = fac.diagnostics()
    assert d["refactors"] == 1
    assert d["analysis_reused"] == (solver in ("umfpack", "klu"))
    assert copy.diagnostics()["analyses"] == 0
    with pytest.raises(ValueError, match="A_new is 2 x 2"):
        fac.refactor(sp.csc_array(np.eye(2) * 0.1))


def test_fallback_or_clear_error_on_a_nearly_singular_system():
    A = _near_singular()
    b = np.linspace(1.0, 2.0, A.shape[0])
    exact = _core.LeontiefSolver(A, solver="dense").solve(b)
    fb = _core.LeontiefSolver(A, solver="power", max_iterations=30)
    np.testing.assert_allclose(fb.solve(b), exact, rtol=1e-9)
    d = fb.diagnostics()
    assert d["fell_back"] and d["last_solver"] in ("dense", "umfpack")
    assert "power did not converge" in d["fallback_reason"]
    strict = _core.LeontiefSolver(A, solver="power", max_iterations=30, fallback=False)
    with pytest.raises(RuntimeError, match=r"power did not converge: iterations exhausted after 30 iterations.*near 1"):
        strict.solve(b)


@pytest.mark.parametrize("kwargs, message", [
    (dict(tol=0.0), "tolerance = 0"),
    (dict(tol=2.0), "expected 0 < tolerance < 1"),
    (dict(max_iterations=0), "max_iterations = 0"),
    (dict(restart=0), "restart = 0"),
    (dict(block_size=7), "block_size = 7 does not divide n = 120"),
    (dict(solver="cg"), 'unknown solver "cg"; expected one of: auto, dense, mixed, umfpack, klu, gmres, power'),
])
def test_bad_solver_options(kwargs, message):
    s = _generated()
    with pytest.raises(ValueError, match=message):
        s.calc_all(**kwargs)


def test_math_functions_accept_the_new_solvers():
    s = _generated()
    A = s.A_sparse
    S = np.asarray(s._core.S)
    Y = np.asarray(s._core.Y_by_region())
    M_ref = mriotrace.math.calc_M(S, A, solver="dense")
    acc_ref = mriotrace.math.calc_accounts(S, A, Y, 6, solver="dense")
    for solver in ("gmres", "power"):
        assert_close(mriotrace.math.calc_M(S, A, solver=solver), M_ref, rtol=1e-10, what=f"calc_M {solver}")
        for got, ref in zip(mriotrace.math.calc_accounts(S, A, Y, 6, solver=solver), acc_ref):
            assert_close(got, ref, rtol=1e-10, what=f"calc_accounts {solver}")
    L = mriotrace.math.calc_L(A, solver="gmres")
    assert_close(L, mriotrace.math.calc_L(A, solver="dense"), rtol=1e-10, what="calc_L gmres")
    assert _core.LeontiefSolver.choose(9800, 9800 * 2940, 200) == "gmres"
    assert _core.LeontiefSolver.choose(9800, 9800 * 2940) == "dense"


def _cli():
    env = os.environ.get("MRIOTRACE_CLI")
    return os.path.abspath(env) if env and os.sep in env else (shutil.which(env or "mriotrace"))


@pytest.mark.skipif(_cli() is None, reason="the mriotrace program was not found: set MRIOTRACE_CLI")
@pytest.mark.parametrize("solver", ["gmres", "power"])
def test_cli_footprint_with_iterative_solvers(tmp_path, solver):
    cli = _cli()
    h5 = tmp_path / "sys.h5"
    subprocess.run([cli, "generate", "--regions", "4", "--sectors", "15", "-o", str(h5)], check=True,
                   capture_output=True)
    out = {}
    for s in ("dense", solver):
        res = subprocess.run([cli, "footprint", str(h5), "--solver", s, "--threads", "1", "-o",
                              str(tmp_path / f"{s}.csv")], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        out[s] = np.genfromtxt(tmp_path / f"{s}.csv", delimiter=",", skip_header=1, usecols=(3, 4, 5, 6))
    assert "block-Jacobi GMRES" in res.stderr or "power series" in res.stderr
    np.testing.assert_allclose(out[solver], out["dense"], rtol=1e-10)
