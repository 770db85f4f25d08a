#!/usr/bin/env python3
"""Sector-level accounts on plain arrays: mriotrace.math.calc_accounts against
SciPy's dense LU doing the same solves, and against pymrio's iomath.

    python bench/bench_accounts.py                    # n = 3,000 (30 regions x 100 sectors, 30 % dense, k = 10)
    python bench/bench_accounts.py --regions 20 --sectors 50 --repeats 3

Timed, each in this one process, interleaved, median of --repeats runs:

  mriotrace:dense   mriotrace.math.calc_accounts(S, A, Y, R, solver="dense") -> D_cba, D_pba, D_imp, D_exp
  mriotrace:auto    the same with solver="auto"
  scipy-lu          I - A made dense, scipy.linalg.lu_factor, then the same R + k + R*k solves
                    (R forward for X, k + R*k transposed for M and M^(-r)) in two lu_solve calls;
                    solves only, no accounts built from them: the lower bound of the LU approach
  pymrio            pymrio.tools.iomath.calc_L(A) + calc_accounts(S, L, Y) on DataFrames

Every result is compared with pymrio's (bench/tools.py's max_rel_diff). Writes
bench/results/accounts-<date>-<host>.{json,md} (or --out / --name).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import tools  # noqa: E402


def build(regions: int, sectors: int, stressors: int, density: float):
    import mriotrace
    import scipy.sparse as sp

    trade = (density * regions - 0.6) / (regions - 1)
    s = mriotrace.datasets.generate(regions=regions, sectors=sectors, stressors=stressors, domestic_density=0.6,
                                    trade_density=trade, seed=2024)
    A = sp.csc_array(s.A_sparse)
    S = np.asarray(s.stressors.S.to_numpy())
    Yr = np.asarray(s.core.Y_by_region())
    return s, A, S, Yr


def scipy_lu(A, S, Yr, R):
    import scipy.linalg as la

    n = A.shape[0]
    k, N = S.shape[0], n // R
    I_A = -A.toarray()
    I_A[np.diag_indices(n)] += 1.0
    lu = la.lu_factor(I_A, overwrite_a=True, check_finite=False)
    X = la.lu_solve(lu, Yr, check_finite=False)
    rhs = np.empty((n, k + R * k))
    rhs[:, :k] = S.T
    for r in range(R):
        rhs[:, k + r * k:k + (r + 1) * k] = S.T
        rhs[r * N:(r + 1) * N, k + r * k:k + (r + 1) * k] = 0.0
    Mt = la.lu_solve(lu, rhs, trans=1, check_finite=False)
    return X, Mt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--regions", type=int, default=30)
    ap.add_argument("--sectors", type=int, default=100)
    ap.add_argument("--stressors", type=int, default=10)
    ap.add_argument("--density", type=float, default=0.30)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--name", default=None)
    args = ap.parse_args(argv)
    import mriotrace
    import mriotrace.math as mm
    import pandas as pd
    import pymrio
    import scipy

    R, N, k = args.regions, args.sectors, args.stressors
    system, A, S, Yr = build(R, N, k, args.density)
    n = A.shape[0]
    # pymrio's inputs, made outside the timing: dense A, S and Y per region with (region, sector) labels.
    idx = pd.MultiIndex.from_product([system.regions, system.sectors], names=["region", "sector"])
    A_df = pd.DataFrame(A.toarray(), index=idx, columns=idx)
    S_df = pd.DataFrame(S, columns=idx)
    Y_df = pd.DataFrame(Yr, index=idx, columns=pd.Index(system.regions, name="region"))

    def run_pymrio():
        L = pymrio.tools.iomath.calc_L(A_df)
        return [d.to_numpy() for d in pymrio.tools.iomath.calc_accounts(S_df, L, Y_df)]

    tasks = {
        "mriotrace:dense": lambda: mm.calc_accounts(S, A, Yr, R, solver="dense"),
        "mriotrace:auto": lambda: mm.calc_accounts(S, A, Yr, R, solver="auto"),
        "scipy-lu": lambda: scipy_lu(A, S, Yr, R),
        "pymrio": run_pymrio,
    }
    walls = {name: [] for name in tasks}
    results = {}
    print(f"[bench_accounts] n = {n:,} ({R} x {N}), nnz(A) = {A.nnz:,} ({A.nnz / n / n:.1%}), k = {k}: "
          f"{R + k + R * k} solves; {args.repeats} repeats, interleaved", flush=True)
    for rep in range(args.repeats):
        for name, f in tasks.items():
            t = time.perf_counter()
            results[name] = f()
            walls[name].append(time.perf_counter() - t)
        print(f"[bench_accounts] repeat {rep + 1}: " + ", ".join(f"{k_} {v[-1]:.3f} s" for k_, v in walls.items()),
              flush=True)
    med = {name: statistics.median(v) for name, v in walls.items()}
    keys = ("D_cba", "D_pba", "D_imp", "D_exp")
    diffs = {name: max(tools.max_rel_diff(a, b) for a, b in zip(results[name], results["pymrio"]))
             for name in ("mriotrace:dense", "mriotrace:auto")}
    report = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "host": socket.gethostname(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "system": dict(regions=R, sectors=N, n=n, nnz=int(A.nnz), stressors=k, solves=R + k + R * k),
        "versions": dict(mriotrace=mriotrace.__version__, numpy=np.__version__, scipy=scipy.__version__,
                         pymrio=pymrio.__version__),
        "walls_s": walls, "median_s": med, "max_rel_diff_vs_pymrio": diffs, "accounts": keys,
    }
    ref = med["scipy-lu"]
    lines = [
        f"# Sector-level accounts, n = {n:,}, {report['date']} on {report['host']}", "",
        f"{R} regions x {N} sectors, {A.nnz / n / n:.1%} of A nonzero, k = {k} stressors: "
        f"{R + k + R * k} solves (R + k + R*k). Median of {args.repeats} interleaved repeats in one process. "
        f"Command: `{report['command']}`", "",
        "| tool | median (s) | runs (s) | / scipy-lu | pymrio / tool | max rel diff vs pymrio |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name in tasks:
        d = diffs.get(name)
        lines.append(f"| {name} | {med[name]:.3f} | {', '.join(f'{w:.2f}' for w in walls[name])} | "
                     f"{med[name] / ref:.2f} | {med['pymrio'] / med[name]:.1f}x | {'' if d is None else f'{d:.1e}'} |")
    lines += ["", "scipy-lu: lu_factor + the same solves only (no accounts built from them); pymrio: calc_L + "
              "calc_accounts.", ""]
    stem = args.name or f"accounts-{dt.date.today().isoformat()}-{socket.gethostname()}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"[bench_accounts] wrote {args.out / stem}.json, .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
