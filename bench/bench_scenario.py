"""Benchmark: many single-sector relocation scenarios on an EXIOBASE-scale system.

    PYTHONPATH=python /work/main/.venv/bin/python bench/bench_scenario.py            # 49 x 200, 1,000 scenarios
    PYTHONPATH=python /work/main/.venv/bin/python bench/bench_scenario.py --regions 10 --sectors 50 --scenarios 100

What is timed (all in one run, same machine, medians where repeated):
  mriotrace batch   run_scenarios() on all scenarios: low-rank (Sherman-Morrison-Woodbury)
                    updates of the base solve, regional accounts (D_pba_reg, D_cba_reg, Q),
                    value added, intensities, LMDI for each; after one factorisation of the base.
  full re-solve     the same engine with method="full" (refactorise I - A' per scenario),
                    measured on a handful of scenarios, extrapolated to all.
  pymrio calc_all() per scenario (dense inverse), measured on a handful, extrapolated.
Ratios are the extrapolated totals over the mriotrace batch total. The low-rank results
are checked against the full re-solve on the handful (max relative difference).

Writes bench/results/scenario-<YYYY-MM-DD>-<hostname>.json and a markdown table beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import socket
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import mriotrace

HERE = Path(__file__).resolve().parent


def relocations(system, count, seed):
    rng = np.random.default_rng(seed)
    regions, sectors = list(system.regions), list(system.sectors)
    out = []
    for t in range(count):
        r = int(rng.integers(len(regions)))
        s = int(rng.integers(len(regions) - 1))
        s += s >= r
        out.append(mriotrace.Scenario(f"reloc{t}").relocate(sectors[int(rng.integers(len(sectors)))], regions[r],
                                                            regions[s], share=float(rng.uniform(0.05, 0.95))))
    return out


def rel_diff(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regions", type=int, default=49)
    ap.add_argument("--sectors", type=int, default=200)
    ap.add_argument("--domestic-density", type=float, default=0.6)
    ap.add_argument("--trade-density", type=float, default=0.29, help="0.29 with 0.6 domestic: ~30 %% dense A")
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--handful", type=int, default=3, help="scenarios timed with the full re-solve")
    ap.add_argument("--pymrio", type=int, default=2, help="scenarios timed with pymrio calc_all (0 = skip)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(HERE / "results"))
    a = ap.parse_args()

    t0 = time.perf_counter()
    system = mriotrace.datasets.generate(regions=a.regions, sectors=a.sectors, fd_categories=3, stressors=2,
                                         domestic_density=a.domestic_density, trade_density=a.trade_density,
                                         seed=a.seed, threads=a.threads)
    t_gen = time.perf_counter() - t0
    n = system.core.n
    density = float(system.core.density)
    print(f"system: {a.regions} x {a.sectors} = {n} sectors, density {density}, generated in {t_gen:.1f} s",
          flush=True)
    scs = relocations(system, a.scenarios, a.seed)

    # mriotrace: factor once, base, batch.
    t0 = time.perf_counter()
    fac = system.solver(threads=a.threads)
    t_factor = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = mriotrace._core.scenario_base(system.core, fac, [])
    t_base = time.perf_counter() - t0
    dicts = [s.to_dict() for s in scs]
    d0 = fac.diagnostics()
    t0 = time.perf_counter()
    raw = mriotrace._core.run_scenarios(system.core, fac, base, dicts, threads=a.threads)
    t_batch = time.perf_counter() - t0
    d1 = fac.diagnostics()
    # Time inside the solver's block solves (LAPACK dgetrs + the solver's residual check).
    t_solves = d1["solve_seconds"] - d0["solve_seconds"]
    rhs = d1["rhs_solved"] - d0["rhs_solved"]
    paths = {r["path"] for r in raw}
    ranks = sorted({r["rank"] for r in raw})
    print(f"mriotrace: factor {t_factor:.2f} s, base {t_base:.2f} s, {a.scenarios} scenarios in {t_batch:.2f} s "
          f"({1e3 * t_batch / a.scenarios:.1f} ms each; paths {paths}, ranks {ranks}); "
          f"{rhs} right-hand sides solved in {t_solves:.2f} s of it", flush=True)

    # Full re-solve per scenario (same engine, refactorisation), a handful.
    full_times, diffs = [], []
    for d, r in zip(dicts[:a.handful], raw[:a.handful]):
        t0 = time.perf_counter()
        f = mriotrace._core.run_scenarios(system.core, fac, base, [d], method="full", threads=a.threads)[0]
        full_times.append(time.perf_counter() - t0)
        diffs.append(max(rel_diff(r["cba"], f["cba"]), rel_diff(r["pba"], f["pba"]), rel_diff(r["x"], f["x"])))
    t_full = statistics.median(full_times) if full_times else float("nan")
    print(f"full re-solve: median {t_full:.2f} s per scenario over {len(full_times)}; "
          f"max rel. difference low-rank vs full {max(diffs) if diffs else float('nan'):.2e}", flush=True)

    # pymrio calc_all per scenario: the edited system, as pymrio would be used (dense inverse).
    # The engine's factorisation is freed first: pymrio needs several n x n dense frames.
    solver_name = fac.diagnostics()["solver"]
    del fac, base, raw
    gc.collect()
    pym_times = []
    if a.pymrio > 0:
        import pymrio  # noqa: F401
        for sc in scs[:a.pymrio]:
            edited = mriotrace.apply_scenario(system, sc)
            io = edited.to_pymrio()
            io.reset_full()  # keep Z, Y, F: calc_all() recomputes x, A, L (dense inverse), S, M and the accounts
            t0 = time.perf_counter()
            io.calc_all()
            pym_times.append(time.perf_counter() - t0)
            del io, edited
    t_pym = statistics.median(pym_times) if pym_times else float("nan")
    if pym_times:
        print(f"pymrio calc_all: median {t_pym:.2f} s per scenario over {len(pym_times)}", flush=True)

    result = {
        "benchmark": "scenario relocations",
        "date": dt.date.today().isoformat(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "mriotrace": mriotrace.__version__,
        "cpu_count": os.cpu_count(),
        "threads": a.threads,
        "system": {"regions": a.regions, "sectors": a.sectors, "n": n, "density": density,
                   "domestic_density": a.domestic_density, "trade_density": a.trade_density, "seed": a.seed},
        "scenarios": a.scenarios,
        "solver": solver_name,
        "batch_rhs_solved": rhs,
        "seconds": {"generate": t_gen, "factor": t_factor, "base": t_base, "batch": t_batch,
                    "batch_in_block_solves": t_solves,
                    "batch_per_scenario": t_batch / a.scenarios, "full_per_scenario_median": t_full,
                    "full_measured": full_times, "pymrio_per_scenario_median": t_pym, "pymrio_measured": pym_times},
        "paths": sorted(paths),
        "ranks": ranks,
        "max_rel_diff_lowrank_vs_full": max(diffs) if diffs else None,
        "extrapolated_total": {"mriotrace_batch": t_factor + t_base + t_batch,
                               "full_resolve": t_full * a.scenarios,
                               "pymrio_calc_all": t_pym * a.scenarios if pym_times else None},
    }
    total = result["extrapolated_total"]["mriotrace_batch"]
    result["ratios"] = {"full_resolve_over_mriotrace": result["extrapolated_total"]["full_resolve"] / total,
                        "pymrio_over_mriotrace": (t_pym * a.scenarios / total) if pym_times else None}

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"scenario-{result['date']}-{result['host']}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    fmt = lambda v: "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:,.2f}"  # noqa: E731
    md = [f"# Scenario benchmark ({result['date']}, {result['host']}, {a.threads} threads)", "",
          f"{a.scenarios:,} single-sector relocations (random origin, destination, sector, theta) on "
          f"generate({a.regions} x {a.sectors}), n = {n:,}, A density {fmt(100 * density) if density else 'n/a'} %; "
          "regional accounts, value added, intensities and LMDI for each.", "",
          "| method | measured | total for all scenarios (s) | ratio to mriotrace |", "|---|---|---|---|",
          f"| mriotrace batch (factor {fmt(t_factor)} s + base {fmt(t_base)} s + scenarios {fmt(t_batch)} s) "
          f"| all {a.scenarios:,} | {fmt(total)} | 1.00 |",
          f"| (of which block solves: {rhs:,} right-hand sides) | | {fmt(t_solves)} | |",
          f"| full re-solve per scenario (median {fmt(t_full)} s) | {len(full_times)} | "
          f"{fmt(t_full * a.scenarios)} (extrapolated) | {fmt(result['ratios']['full_resolve_over_mriotrace'])} |"]
    if pym_times:
        md.append(f"| pymrio calc_all() per scenario (median {fmt(t_pym)} s) | {len(pym_times)} | "
                  f"{fmt(t_pym * a.scenarios)} (extrapolated) | {fmt(result['ratios']['pymrio_over_mriotrace'])} |")
    md += ["", f"Solver: {solver_name}; machine load average at the end: {os.getloadavg()[0]:.1f} "
           f"on {os.cpu_count()} cores (shared).", "", f"Low-rank vs full re-solve, max relative difference: {result['max_rel_diff_lowrank_vs_full']:.1e}"
           if diffs else "", f"Command: `{' '.join(sys.argv)}`", ""]
    stem.with_suffix(".md").write_text("\n".join(md))
    print("\n".join(md))
    print(f"wrote {stem}.json and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
