"""Benchmark of structural path analysis (mriotrace.tracing / _core.spa).

On a generated EXIOBASE-scale system (default 49 regions x 200 sectors = 9,800
sectors, ~30 % of A nonzero), SPA of one region's consumption-based stressor
footprint at each tau (x total) with depth <= 8, with 1 and 2 threads:
wall time (median of --repeat runs), setup (bounds and the filtered, sorted
copy of A) and search time, paths found, coverage, nodes expanded, nodes/s.

Peer: a plain Python/NumPy implementation of the same exact threshold search
(depth-first, M-bound pruning, children filtered per node with NumPy; written
here, not pyspa's code), run on the same system and tau, as a ratio measured
in the same run. Both must find the same number of paths and the same
coverage (checked).

Run:  PYTHONPATH=python /work/main/.venv/bin/python bench/bench_tracing.py
      (--quick: 10 x 50 sectors, for a smoke test)
Writes bench/results/tracing-<YYYY-MM-DD>-<hostname>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import statistics
import time
from pathlib import Path

import numpy as np

import mriotrace
from mriotrace import _core


def numpy_spa(A, s, y, m, threshold, depth):
    """Exact threshold search in plain Python/NumPy: (paths found, sum of their values, nodes expanded).

    Same rule as the engine: a node (j, w) is visited only if |w| m_j >= threshold
    (m = s L, A, s, y >= 0); a path is recorded when s_j w >= threshold.
    """
    indptr, indices, data = A.indptr, A.indices, A.data
    stack = [((int(j),), float(y[j])) for j in np.flatnonzero(y) if abs(y[j]) * m[j] >= threshold]
    found, covered, nodes = 0, 0.0, 0
    paths = []
    while stack:
        path, w = stack.pop()
        nodes += 1
        j = path[-1]
        v = s[j] * w
        if v != 0 and abs(v) >= threshold:
            found += 1
            covered += v
            paths.append((path, v))
        if len(path) <= depth:
            lo, hi = indptr[j], indptr[j + 1]
            rows = indices[lo:hi]
            cw = w * data[lo:hi]
            keep = np.abs(cw) * m[rows] >= threshold
            for i, wi in zip(rows[keep].tolist(), cw[keep].tolist()):
                stack.append((path + (i,), wi))
    return found, covered, nodes


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regions", type=int, default=49)
    ap.add_argument("--sectors", type=int, default=200)
    ap.add_argument("--density", type=float, default=0.30, help="overall fraction of nonzeros in A")
    ap.add_argument("--taus", type=float, nargs="+", default=[1e-5, 1e-6, 1e-7, 1e-8])
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--region", type=int, default=0, help="index of the consuming region")
    ap.add_argument("--numpy-min-tau", type=float, default=1e-7,
                    help="run the NumPy peer only for tau >= this (it is slow)")
    ap.add_argument("--quick", action="store_true", help="10 regions x 50 sectors, 1 repeat")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = ap.parse_args()
    if args.quick:
        args.regions, args.sectors, args.repeat = 10, 50, 1

    R, N = args.regions, args.sectors
    dom = 0.6
    trade = (args.density * R - dom) / (R - 1)  # overall density = (dom + (R-1) trade) / R
    t0 = time.perf_counter()
    system = mriotrace.datasets.generate(regions=R, sectors=N, stressors=1, domestic_density=dom,
                                         trade_density=trade, seed=1, threads=2)
    gen_s = time.perf_counter() - t0
    core = system.core
    print(f"system: n = {core.n}, density {core.density:.4f}, nnz {system.A_sparse.nnz:,}, "
          f"generated in {gen_s:.1f} s", flush=True)
    t0 = time.perf_counter()
    fac = system.solver(threads=2)
    factor_s = time.perf_counter() - t0
    print(f"factorisation ({fac}): {factor_s:.1f} s", flush=True)

    y = np.asarray(_core.target_demand(core, args.region, -1))
    s = np.ascontiguousarray(core.S[0])
    A = system.A_sparse
    rows = []
    for tau in args.taus:
        row = {"tau": tau, "depth": args.depth}
        for th in args.threads:
            runs = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                raw = _core.spa(core, fac, s, y, tau=tau, max_depth=args.depth, keep=1000, threads=th)
                runs.append((time.perf_counter() - t0, raw))
            walls = [w for w, _ in runs]
            raw = runs[0][1]
            row[f"threads{th}"] = {
                "wall_s": median(walls), "walls_s": walls,
                "setup_s": median([r["setup_seconds"] for _, r in runs]),
                "search_s": median([r["search_seconds"] for _, r in runs]),
                "paths_found": raw["paths_found"], "coverage": raw["coverage"],
                "nodes_expanded": raw["nodes_expanded"],
                "nodes_per_s": raw["nodes_expanded"] / max(median([r["search_seconds"] for _, r in runs]), 1e-12),
                "truncated": raw["truncated"],
            }
            print(f"tau {tau:g} threads {th}: {row[f'threads{th}']['wall_s']:.3f} s "
                  f"(setup {row[f'threads{th}']['setup_s']:.3f}, search {row[f'threads{th}']['search_s']:.4f}), "
                  f"{raw['paths_found']:,} paths, coverage {100 * raw['coverage']:.2f} %, "
                  f"{raw['nodes_expanded']:,} nodes", flush=True)
        if tau >= args.numpy_min_tau:
            t0 = time.perf_counter()
            m = fac.solve_transposed(s)  # the peer gets M the same way (one transposed solve)
            total = float(m @ y)
            t1 = time.perf_counter()
            found, covered, nodes = numpy_spa(A, s, y, m, tau * abs(total), args.depth)
            t2 = time.perf_counter()
            np_s, np_search = t2 - t0, t2 - t1
            best = row[f"threads{max(args.threads)}"]
            same = found == best["paths_found"] and abs(covered / total - best["coverage"]) < 1e-9
            row["numpy"] = {"wall_s": np_s, "search_s": np_search, "paths_found": found,
                            "coverage": covered / total, "nodes_expanded": nodes, "same_result": bool(same),
                            "ratio_wall": np_s / best["wall_s"], "ratio_search": np_search / best["search_s"]}
            print(f"  numpy peer: {np_s:.2f} s (search {np_search:.2f} s), {found:,} paths, same result: {same}; "
                  f"mriotrace {np_s / best['wall_s']:.1f}x faster end to end, "
                  f"{np_search / best['search_s']:.0f}x in the search", flush=True)
        rows.append(row)

    host = socket.gethostname()
    today = dt.date.today().isoformat()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"tracing-{today}-{host}"
    meta = {"date": today, "host": host, "platform": platform.platform(), "cpus": os.cpu_count(),
            "mriotrace": mriotrace.__version__, "regions": R, "sectors": N, "n": core.n,
            "density": core.density, "generate_s": gen_s, "factor_s": factor_s, "solver": repr(fac),
            "region": args.region, "repeat": args.repeat, "quick": args.quick}
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    lines = [f"# SPA benchmark, {today}, {host}", "",
             f"System: generated {R} regions x {N} sectors (n = {core.n:,}), A {100 * core.density:.1f} % nonzero; "
             f"one region's consumption-based stressor0 footprint, depth <= {args.depth}; factorisation "
             f"({fac}) {factor_s:.1f} s, done once, not included below. wall = one spa() call: two solves for the "
             f"bounds (setup) and the search. The NumPy peer gets M by one transposed solve, then searches; both "
             f"find the same paths (checked: {all(r.get('numpy', {}).get('same_result', True) for r in rows)}). "
             f"Medians of {args.repeat} runs; the 2 cores are shared with other jobs.", "",
             "| tau (x total) | threads | wall s | setup s | search s | paths | coverage | nodes | nodes/s | "
             "NumPy peer wall s (search s) | peer / mriotrace wall | peer / mriotrace search |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for th in args.threads:
            r = row[f"threads{th}"]
            peer = row.get("numpy")
            ratio = (f"{peer['wall_s']:.2f} ({peer['search_s']:.2f}) | {peer['wall_s'] / r['wall_s']:.1f}x | "
                     f"{peer['search_s'] / r['search_s']:.0f}x" if peer else "- | - | -")
            lines.append(f"| {row['tau']:g} | {th} | {r['wall_s']:.3f} | {r['setup_s']:.3f} | {r['search_s']:.4f} | "
                         f"{r['paths_found']:,} | {100 * r['coverage']:.2f} % | {r['nodes_expanded']:,} | "
                         f"{r['nodes_per_s']:.3g} | {ratio} |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
