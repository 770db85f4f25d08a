"""Benchmarked tools: what each one computes, how its cost is predicted, and
the child-process entry point that times it.

A task is (workload, tool, scope). scope "regional" = D_cba_reg, D_pba_reg,
D_imp_reg, D_exp_reg (and Q where the tool has it); scope "all" = those plus
the sector-level M, D_cba, D_pba, D_imp, D_exp. Every tool computes the
accounts of every extension of the workload (stressors and, for generated
systems, value added), rows stacked in the sorted order of the extensions'
instance names, so results of different tools line up entry by entry.

Tools:
  mriotrace:<solver>  MRIOSystem.calc_all(solver=..., sector_level=scope == "all");
                      one per solver the engine accepts (discover_solvers())
  pymrio              pymrio.IOSystem.calc_all() as it is (dense L, pandas)
  numpy-inv           pymrio's algorithm on NumPy arrays without pandas: L = inv(I - A),
                      x_diag = L diag-by-sector(Y), D = S x_diag, ...
  scipy-splu          SuperLU factorisation of I - A (scipy.sparse.linalg.splu), then solves
  scipy-gmres         unpreconditioned GMRES per right-hand side (rtol 1e-12)
  reference           dense LU (scipy.linalg.lu_factor) for n <= 20,000; beyond, GMRES to a
                      relative residual of 1e-13 for x and M only (k + 1 solves), so the
                      comparison there covers D_cba_reg, D_pba_reg, M, D_cba, D_pba

Child usage (run.py does this): python tools.py '<json task>'; it writes
<out>.json (timings, peak RSS) and <out>.npz (the accounts).
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workloads  # noqa: E402

REGIONAL_KEYS = ("D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg", "Q")
SECTOR_KEYS = ("M", "D_cba", "D_pba", "D_imp", "D_exp")
DENSE_REFERENCE_MAX_N = 20_000
GMRES_RTOL = 1e-12
REFERENCE_RTOL = 1e-13
MB = 1024.0 ** 2
GB = 1024.0 ** 3


# --------------------------------------------------------------- discovery
def discover_solvers() -> list[str]:
    """The solver names the engine accepts, "auto" first.

    Taken from the engine itself so new solvers are benchmarked without code
    changes: a list attribute of mriotrace._core if the engine exports one,
    else the "expected one of: ..." list of the error an unknown name raises.
    """
    import mriotrace

    core = mriotrace._core
    for attr in ("SOLVERS", "SOLVER_NAMES", "solver_names", "available_solvers"):
        val = getattr(core, attr, None)
        if val is not None:
            names = list(val() if callable(val) else val)
            break
    else:
        system = mriotrace.datasets.generate(regions=2, sectors=2, stressors=1)
        try:
            system.solver(solver="__no_such_solver__")
        except ValueError as e:
            m = re.search(r"expected one of:?\s*(.+)$", str(e))
            if not m:
                raise RuntimeError(f"cannot read the solver names from the engine's message: {e}") from None
            names = [s.strip(" .\"'") for s in re.split(r",|\bor\b", m.group(1)) if s.strip(" .\"'")]
        else:
            raise RuntimeError("the engine accepted an unknown solver name; cannot discover solvers")
    names = [str(n) for n in dict.fromkeys(names)]
    return (["auto"] if "auto" in names else []) + [n for n in names if n != "auto"]


@dataclass(frozen=True)
class Tool:
    name: str
    scopes: tuple[str, ...]
    note: str = ""


def tool_list(solvers: list[str] | None = None) -> list[Tool]:
    """Every tool of the suite, mriotrace's solvers from the engine."""
    solvers = discover_solvers() if solvers is None else solvers
    tools = [Tool(f"mriotrace:{s}", ("regional", "all"), "MRIOSystem.calc_all") for s in solvers]
    tools += [
        Tool("pymrio", ("all",), "pymrio calc_all() (always computes everything)"),
        Tool("numpy-inv", ("all",), "pymrio's algorithm on NumPy arrays: dense inverse + products"),
        Tool("scipy-splu", ("regional", "all"), "SuperLU factorisation, then solves"),
        Tool("scipy-gmres", ("regional", "all"), f"GMRES per right-hand side, rtol {GMRES_RTOL:g}"),
    ]
    return tools


# ------------------------------------------------------------- prediction
def _rhs(w: workloads.Workload, scope: str) -> int:
    k = w.stressors + 1  # value added comes on top for generated systems
    return w.regions if scope == "regional" else w.regions + k + w.regions * k


def _input_bytes(w: workloads.Workload) -> float:
    """Memory of the loaded workload: sparse A (16 B per nonzero), dense Y, S, F_Y, x."""
    n = w.n
    return 16.0 * w.nnz + 8.0 * n * (w.regions * w.categories + 2 * (w.stressors + 1) + 4)


BASE_BYTES = 250 * MB  # interpreter, NumPy, pandas, SciPy, the extension


# GMRES cost model, for predictions only: iterations per right-hand side and
# the average number of basis vectors each iteration reads and updates
# (restart 100). Calibrated on this suite's runs: WIOD (M) needs fewer, the
# firm network about 3x more, so the guard only skips clearly hopeless tasks.
GMRES_ITERATIONS = 60
GMRES_BASIS = 40


def predict(w: workloads.Workload, tool: str, scope: str, machine: dict) -> tuple[float | None, float | None]:
    """(peak bytes, seconds) predicted for a task, None where no honest guess exists.

    machine: {"gflops": dgemm GFLOP/s, "copy_bandwidth_gbs": GB/s} measured on
    the benchmark's thread count. Dense work is priced at the dgemm rate;
    sparse direct solvers are priced as dense when A has >= 0.5 % nonzeros
    (random sparsity fills in to dense factors); GMRES as GMRES_ITERATIONS
    iterations per right-hand side, each streaming A (12 B per nonzero) and
    GMRES_BASIS basis vectors at the copy bandwidth. Very sparse direct factorisations
    and engine solvers other than dense/umfpack get no prediction (the run's
    watchdog and timeout still hold them).
    """
    n = float(w.n)
    d = 8.0 * n * n  # one dense n x n matrix
    base = BASE_BYTES + _input_bytes(w)
    rate = max(machine.get("gflops", 1.0), 0.1) * 1e9
    bandwidth = max(machine.get("copy_bandwidth_gbs", 1.0), 0.1) * 1e9
    solve_flops = 4.0 * n * n * _rhs(w, scope)  # forward + backward substitution
    lu_flops = 2.0 / 3.0 * n ** 3
    dense_fill = w.density >= 0.005

    def gmres(rhs: int) -> tuple[float, float]:
        per_iteration = 12.0 * w.nnz + GMRES_BASIS * 2 * 8.0 * n
        return base + 16.0 * w.nnz + 8.0 * n * 110, rhs * GMRES_ITERATIONS * per_iteration / bandwidth

    if tool.startswith("mriotrace:"):
        solver = tool.split(":", 1)[1]
        if solver == "auto":
            solver = _auto_choice(w)
        if solver == "dense":
            return base + 2 * d, (lu_flops + solve_flops) / rate
        if solver == "umfpack" and dense_fill:
            return base + 2 * d, (lu_flops / 0.5 + solve_flops) / rate
        return None, None
    if tool in ("pymrio", "numpy-inv"):
        # inv (2 n^3), x_diag and the S products; pymrio: Z, A, I - A, L, x_diag,
        # x_trade and pandas copies (7 n^2 doubles); numpy-inv: 6.
        return base + (7 if tool == "pymrio" else 6) * d, 2.5 * n ** 3 / rate
    if tool == "scipy-splu":
        if dense_fill:  # SuperLU is single-threaded and slow on dense fronts
            return base + 2 * d, lu_flops / (0.1 * rate) + solve_flops / (0.2 * rate)
        return None, None
    if tool == "scipy-gmres":
        return gmres(_rhs(w, scope))
    if tool == "reference":
        if w.n <= DENSE_REFERENCE_MAX_N:
            return base + 2 * d, (lu_flops + 4.0 * n * n * _rhs(w, "all")) / rate
        return gmres(w.stressors + 2)
    return None, None


def _auto_choice(w: workloads.Workload) -> str:
    """What solver="auto" picks for the workload (a system's solver gets block_size = sectors)."""
    import mriotrace

    choose = mriotrace._core.LeontiefSolver.choose
    for args in ((w.n, max(w.nnz, 1), w.sectors), (w.n, max(w.nnz, 1))):
        try:
            return str(choose(*args))
        except TypeError:  # another engine version's signature
            continue
    return "?"  # unknown: no prediction


# ------------------------------------------------------------- comparison
def max_rel_diff(a, ref, floor: float = 1e-6) -> float:
    """max over entries of |a - ref| / max(|ref|, floor * max|ref row|).

    Rows are the first axis (one stressor each, in its own unit). The floor
    keeps entries that are 0 in the reference (and round-off-small in a tool)
    from dominating: an entry below 1e-6 of its row's largest magnitude is
    compared absolutely against that scale. NaN anywhere gives inf; a shape
    mismatch raises ValueError.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(ref, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs reference {b.shape}")
    if a.size == 0:
        return 0.0
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return math.inf
    a2, b2 = a.reshape(a.shape[0], -1) if a.ndim > 1 else a[None, :], b.reshape(b.shape[0], -1) if b.ndim > 1 else b[None, :]
    scale = np.abs(b2).max(axis=1, keepdims=True) * floor
    denom = np.maximum(np.abs(b2), scale)
    diff = np.abs(a2 - b2)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(denom > 0, diff / np.where(denom > 0, denom, 1.0), np.where(diff > 0, math.inf, 0.0))
    return float(rel.max())


def compare(result: dict, reference: dict) -> tuple[float | None, str | None]:
    """(worst relative difference, its key) over the keys both have, or (None, None)."""
    worst, worst_key = None, None
    for key in REGIONAL_KEYS + SECTOR_KEYS:
        if key in result and key in reference:
            d = max_rel_diff(result[key], reference[key])
            if worst is None or d > worst:
                worst, worst_key = d, key
    return worst, worst_key


# ------------------------------------------------------- shared numerics
def stacked_inputs(system):
    """(A csc, S (k, n), Yr (n, R), FYr (k, R), R) of every extension, sorted by instance name."""
    import scipy.sparse as sp

    A = sp.csc_array(system.A_sparse)
    R, c = len(system.regions), len(system.Y_categories)
    S_rows, FY_rows = [], []
    for inst in sorted(system.extensions_instance_names):
        ext = getattr(system, inst)
        S_rows.append(ext.S.to_numpy())
        F_Y = ext.F_Y
        fy = np.zeros((len(ext.rows), R * c)) if F_Y is None else F_Y.to_numpy()
        FY_rows.append(fy.reshape(fy.shape[0], R, c).sum(axis=2))
    return A, np.vstack(S_rows), np.asarray(system.core.Y_by_region()), np.vstack(FY_rows), R


def product_footprint(W, Yr, R):
    """out[:, (r, j)] = sum_o W[:, (o, j)] Yr[(o, j), r]  (k x n): pymrio's W L diag-by-sector(Y)."""
    k, n = W.shape
    N = n // R
    return np.einsum("koj,ojr->krj", W.reshape(k, R, N), Yr.reshape(R, N, R)).reshape(k, n)


def regional_from_X(S, X, FYr, R) -> dict:
    """Regional accounts and Q from X = (I - A)^-1 Yr (accounts.hpp's definitions)."""
    k, n = S.shape
    N = n // R
    # Q[s, p, r] = sum_{i in p} S[s, (p, i)] X[(p, i), r]
    Q = np.einsum("kpi,pir->kpr", S.reshape(k, R, N), X.reshape(R, N, R))
    off = ~np.eye(R, dtype=bool)
    return {"Q": Q, "D_cba_reg": Q.sum(axis=1) + FYr, "D_pba_reg": Q.sum(axis=2) + FYr,
            "D_imp_reg": (Q * off[None]).sum(axis=1), "D_exp_reg": (Q * off[None]).sum(axis=2)}


def accounts_by_solves(solve, solve_t, S, Yr, FYr, R, sector_level: bool) -> dict:
    """Every account from solves with (I - A) and (I - A)^T, no inverse (as mriotrace does)."""
    k, n = S.shape
    N = n // R
    X = solve(Yr)
    out = regional_from_X(S, X, FYr, R)
    if sector_level:
        x = X.sum(axis=1)
        out["M"] = M = solve_t(np.ascontiguousarray(S.T)).T
        out["D_cba"] = product_footprint(M, Yr, R)
        out["D_pba"] = S * x[None, :]
        x_exp = x - np.concatenate([X[p * N:(p + 1) * N, p] for p in range(R)])
        out["D_exp"] = S * x_exp[None, :]
        # D_imp with M^(-r) = S^(-r) L (emissions abroad): R k transposed solves in one block.
        rhs = np.repeat(S.T[:, None, :], R, axis=1)  # (n, R, k)
        for r in range(R):
            rhs[r * N:(r + 1) * N, r, :] = 0.0
        Mt = solve_t(rhs.reshape(n, R * k)).reshape(n, R, k)
        D_imp = np.empty((k, n))
        for r in range(R):
            D_imp[:, r * N:(r + 1) * N] = product_footprint(Mt[:, r, :].T, Yr, R)[:, r * N:(r + 1) * N]
        out["D_imp"] = D_imp
    return out


def _gmres_solver(A, rtol):
    """solve(B), solve_t(B) by unpreconditioned GMRES per column; raises if one fails."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as sla

    n = A.shape[0]
    I_A = sp.csr_array(sp.identity(n, format="csr") - A)
    I_At = sp.csr_array(I_A.T)

    def run(M, B):
        B = np.asarray(B, dtype=float)
        B2 = B.reshape(n, -1)
        X = np.empty_like(B2)
        for j in range(B2.shape[1]):
            b = B2[:, j]
            if not b.any():
                X[:, j] = 0.0
                continue
            xj, info = sla.gmres(M, b, rtol=rtol, atol=0.0, restart=100, maxiter=2000)
            res = np.linalg.norm(M @ xj - b) / np.linalg.norm(b)
            if info != 0 or res > 10 * rtol:
                raise RuntimeError(f"GMRES did not converge (info {info}, relative residual {res:.1e})")
            X[:, j] = xj
        return X.reshape(B.shape)

    return (lambda B: run(I_A, B)), (lambda B: run(I_At, B))


# ------------------------------------------------------------- the tools
def _collect_mriotrace(system, scope: str) -> dict:
    keys = REGIONAL_KEYS[:-1] + (SECTOR_KEYS if scope == "all" else ())
    out = {}
    exts = [getattr(system, inst) for inst in sorted(system.extensions_instance_names)]
    for key in keys:
        out[key] = np.vstack([getattr(e, key).to_numpy() for e in exts])
    out["Q"] = np.concatenate([e.Q_array for e in exts], axis=0)
    return out


def _collect_pymrio(io, names) -> dict:
    out = {}
    for key in REGIONAL_KEYS[:-1] + SECTOR_KEYS:
        out[key] = np.vstack([getattr(getattr(io, inst), key).to_numpy() for inst in names])
    return out


def run_tool(w: workloads.Workload, tool: str, scope: str, threads: int, repeat_budget: float) -> dict:
    """Load the workload (untimed), run the tool (timed, repeated while cheap). Returns a record."""
    t0 = time.perf_counter()
    system = inputs = None
    # Cheap systems are timed several times; pymrio then needs a fresh copy per
    # run (its calc_all skips what already exists), made outside the timing.
    cheap = w.n <= 2000
    if tool == "pymrio":
        pristine = workloads.build_pymrio(w)
        names = sorted(pristine.get_extensions())
    else:
        system = workloads.build_mriotrace(w, threads=threads)
        if not tool.startswith("mriotrace:"):
            import scipy.linalg  # noqa: F401  (imported before the timing starts)
            import scipy.sparse.linalg  # noqa: F401
            inputs = stacked_inputs(system)
            system = None
            if tool == "numpy-inv":  # pymrio starts from dense tables too
                A, S, Yr, FYr, R = inputs
                inputs = (A.toarray(), S, Yr, FYr, R)
    load_s = time.perf_counter() - t0
    gc.collect()
    load_peak = _rss("VmHWM")
    load_rss = _rss("VmRSS")
    # Peak RSS of the computation alone: reset the high-water mark to the
    # current RSS (Linux >= 4.0), so a generator's temporaries do not count;
    # the loaded inputs do, as they stay resident.
    peak_reset = _reset_peak()

    def once(io=None):
        if tool.startswith("mriotrace:"):
            system.calc_all(threads=threads, solver=tool.split(":", 1)[1], sector_level=(scope == "all"))
            return _collect_mriotrace(system, scope), dict(system.diagnostics or {})
        if tool == "pymrio":
            io.calc_all()
            return _collect_pymrio(io, names), {}
        if tool == "numpy-inv":
            return _numpy_inv(*inputs), {}
        if tool == "scipy-splu":
            import scipy.sparse as sp
            import scipy.sparse.linalg as sla
            A, S, Yr, FYr, R = inputs
            lu = sla.splu(sp.csc_matrix(sp.identity(A.shape[0], format="csc") - A))
            return accounts_by_solves(lambda B: lu.solve(np.asarray(B)), lambda B: lu.solve(np.asarray(B), trans="T"),
                                      S, Yr, FYr, R, scope == "all"), {}
        if tool == "scipy-gmres":
            A, S, Yr, FYr, R = inputs
            s, st = _gmres_solver(A, GMRES_RTOL)
            return accounts_by_solves(s, st, S, Yr, FYr, R, scope == "all"), {}
        if tool == "reference":
            return _reference(*inputs), {}
        raise ValueError(f"unknown tool {tool!r}")

    walls = []
    while True:
        io = (pristine.copy() if cheap else pristine) if tool == "pymrio" else None
        t = time.perf_counter()
        result, diag = once(io)
        walls.append(time.perf_counter() - t)
        if not cheap or sum(walls) + walls[-1] > repeat_budget or len(walls) >= 5:
            break
    return {"result": result, "wall_s": statistics.median(walls), "walls_s": walls, "load_s": load_s,
            "load_rss_mb": load_rss / MB, "load_peak_rss_mb": load_peak / MB, "peak_excludes_load": peak_reset,
            "diagnostics": diag}


def _numpy_inv(A, S, Yr, FYr, R) -> dict:
    """pymrio's calc_all on NumPy arrays: L = inv(I - A), then its calc_accounts."""
    n = A.shape[0]
    N = n // R
    L = np.linalg.inv(np.eye(n) - A)
    M = S @ L
    # x_diag[:, (c, s)] = sum_r L[:, (r, s)] Y[(r, s), c]  (pymrio's einsum)
    x_diag = np.einsum("irs,rsc->ics", L.reshape(n, R, N), Yr.reshape(R, N, R), optimize=True).reshape(n, n)
    del L
    x_tot = x_diag.sum(axis=1)
    D_cba = S @ x_diag
    for p in range(R):  # x_trade: domestic blocks set to zero (in place: pymrio copies)
        x_diag[p * N:(p + 1) * N, p * N:(p + 1) * N] = 0.0
    D_imp = S @ x_diag
    x_exp = x_diag.sum(axis=1)
    out = {"M": M, "D_cba": D_cba, "D_pba": S * x_tot[None, :], "D_imp": D_imp, "D_exp": S * x_exp[None, :]}
    k = S.shape[0]
    per_region = lambda D: D.reshape(k, R, N).sum(axis=2)  # noqa: E731
    out.update(D_cba_reg=per_region(D_cba) + FYr, D_pba_reg=per_region(out["D_pba"]) + FYr,
               D_imp_reg=per_region(D_imp), D_exp_reg=per_region(out["D_exp"]))
    return out


def _reference(A, S, Yr, FYr, R) -> dict:
    n = A.shape[0]
    if n <= DENSE_REFERENCE_MAX_N:
        import scipy.linalg as la
        I_A = -A.toarray()
        I_A[np.diag_indices(n)] += 1.0
        lu = la.lu_factor(I_A, overwrite_a=True, check_finite=False)
        return accounts_by_solves(lambda B: la.lu_solve(lu, B, check_finite=False),
                                  lambda B: la.lu_solve(lu, B, trans=1, check_finite=False), S, Yr, FYr, R, True)
    # Beyond dense reach: x and M by tight GMRES (k + 1 solves).
    solve, solve_t = _gmres_solver(A, REFERENCE_RTOL)
    N = n // R
    x = solve(Yr.sum(axis=1))
    M = solve_t(np.ascontiguousarray(S.T)).T
    k = S.shape[0]
    D_pba = S * x[None, :]
    return {"M": M, "D_cba": product_footprint(M, Yr, R), "D_pba": D_pba,
            "D_cba_reg": M @ Yr + FYr, "D_pba_reg": D_pba.reshape(k, R, N).sum(axis=2) + FYr}


def _reset_peak() -> bool:
    """Reset this process's VmHWM to its current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def proc_bytes(path: str, field: str) -> float | None:
    """A "<field>: <n> kB" line of a /proc file (status, meminfo) in bytes, or None."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return None


def _rss(field: str) -> float:
    """VmRSS / VmHWM of this process in bytes (Linux), else the peak from getrusage."""
    value = proc_bytes("/proc/self/status", field)
    if value is not None:
        return value
    import resource
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024.0


def child_main(spec: dict) -> int:
    """Run one task and write <out>.json and <out>.npz. Exit 0 on success (errors go to the JSON)."""
    out = Path(spec["out"])
    rec = {"status": "ok"}
    try:
        w = workloads.get(spec["workload"])
        r = run_tool(w, spec["tool"], spec["scope"], spec["threads"], spec.get("repeat_budget", 3.0))
        np.savez(out.with_suffix(".npz"), **r.pop("result"))
        rec.update(r)
    except MemoryError:
        rec.update(status="error", reason="out of memory (MemoryError)")
    except Exception as e:  # reported, never hidden: the parent shows the reason
        rec.update(status="error", reason=f"{type(e).__name__}: {e}"[:400])
    rec["peak_rss_mb"] = _rss("VmHWM") / MB
    out.with_suffix(".json").write_text(json.dumps(rec, default=_jsonable))
    return 0


def _jsonable(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


if __name__ == "__main__":
    sys.exit(child_main(json.loads(sys.argv[1])))
