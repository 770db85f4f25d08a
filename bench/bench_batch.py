"""Benchmark: Monte Carlo draws of regional consumption-based CO2 on an EXIOBASE-scale system.

    PYTHONPATH=python MRIOTRACE_CLI=build/dev/cli/mriotrace \
        /work/main/.venv/bin/python bench/bench_batch.py [--draws 1000] [--mpi-draws 16]

System: ``mriotrace generate`` 49 regions x 200 sectors (n = 9,800), domestic
density 0.6, trade density 0.3 (~30 % of A nonzero, 29.4 M nonzeros), one
stressor. Measured, all in this one run:

1. ``mriotrace.batch.run_job`` with 2 worker threads: D draws (CV 10 % on A, Y
   and F) of D_cba_reg; setup (load + dense LU of I - A) and item phase timed
   separately; draws/s on 2 cores and per core.
2. MPI scaling: ``mpirun -n 1`` and ``-n 2`` (1 thread per rank) on fewer draws;
   efficiency = rate(2 ranks) / (2 rate(1 rank)).
3. Peers, one draw each (their per-draw method on the same perturbed system):
   pymrio's dense inverse (numpy.linalg.inv(I - A') then M = s L), and a fresh
   LU factorisation per draw (scipy.linalg.lu_factor / lu_solve).

Writes bench/results/batch-<date>-<host>.json and .md (medians where repeated).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
import mriotrace  # noqa: E402
import mriotrace.batch as batch  # noqa: E402

# The program: $MRIOTRACE_CLI, else on PATH, else beside this interpreter (a venv's bin/).
CLI = (os.environ.get("MRIOTRACE_CLI") or shutil.which("mriotrace")
       or str(Path(sys.executable).parent / "mriotrace"))
if not Path(CLI).is_file():
    sys.exit(f"bench_batch: the mriotrace program was not found ({CLI}); set MRIOTRACE_CLI or install the package")


def job_text(system: Path, output: Path, draws: int) -> str:
    return (f'output = "{output}"\nseed = 1\nkeep = ["D_cba_reg"]\nstressors = ["stressor0"]\n'
            f'[[systems]]\nfile = "{system}"\n[montecarlo]\ndraws = {draws}\ncv = 0.1\n')


def mpi_rate(system: Path, work: Path, ranks: int, draws: int) -> dict:
    job = work / f"mpi{ranks}.toml"
    job.write_text(job_text(system, work / f"mpi{ranks}.h5", draws))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
    cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", CLI, "batch", "run", str(job), "--threads", "1",
           "--restart", "--quiet"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(r"([\d.]+) s setup .*?, ([\d.]+) s items, ([\d.]+) items/s", out)
    return {"ranks": ranks, "draws": draws, "setup_s": float(m.group(1)), "items_s": float(m.group(2)),
            "items_per_s": float(m.group(3))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--mpi-draws", type=int, default=16)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "mriotrace-bench-batch"))
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--skip-mpi", action="store_true")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    system = work / "exio-49x200.h5"
    if not system.exists():
        subprocess.run([CLI, "generate", "--regions", "49", "--sectors", "200", "--domestic-density", "0.6",
                        "--trade-density", "0.3", "--stressors", "1", "--seed", "42", "-o", str(system)],
                       check=True)
    info = mriotrace.inspect(system)
    record = {"host": socket.gethostname(), "cpus": os.cpu_count(), "python": platform.python_version(),
              "date": dt.date.today().isoformat(), "system": {"n": 9800, "nnz_A": int(info["nnz_A"])}}

    # 1. Monte Carlo through the batch runner, 2 threads.
    job = work / "mc.toml"
    job.write_text(job_text(system, work / "mc.h5", args.draws))
    print(f"[bench] {args.draws} draws, 2 threads ...", flush=True)
    s = batch.run_job(job, threads=2, restart=True, progress=False)
    res = batch.load(s["output"])
    items = res.items
    draws_only = items[items["draw"] >= 0]
    item_s = s["seconds"] - s["setup_seconds"]
    record["montecarlo"] = {
        "draws": args.draws, "threads": 2, "setup_s": s["setup_seconds"], "items_s": item_s,
        "draws_per_s": len(draws_only) / item_s if item_s > 0 else None,
        "draws_per_s_per_core": len(draws_only) / item_s / 2 if item_s > 0 else None,
        "median_draw_s": float(draws_only["seconds"].median()),
        "median_draw_cpu_s": float(draws_only["cpu_seconds"].median()),
        "draws_per_cpu_s": 1.0 / float(draws_only["cpu_seconds"].median()),
        "median_iterations": float(draws_only["iterations"].median()),
        "refactored": int(draws_only["refactored"].sum()), "failed": int(s["failed"]),
    }
    print(json.dumps(record["montecarlo"]), flush=True)

    # 2. MPI scaling.
    if not args.skip_mpi and shutil.which("mpirun"):
        print(f"[bench] MPI 1 vs 2 ranks, {args.mpi_draws} draws ...", flush=True)
        r1 = mpi_rate(system, work, 1, args.mpi_draws)
        r2 = mpi_rate(system, work, 2, args.mpi_draws)
        record["mpi"] = {"one_rank": r1, "two_ranks": r2,
                         "speedup": r2["items_per_s"] / r1["items_per_s"],
                         "efficiency": r2["items_per_s"] / (2 * r1["items_per_s"])}
        print(json.dumps(record["mpi"]), flush=True)

    # 3. Peers: one draw by their per-draw method (same perturbation model: numpy lognormal).
    if not args.skip_peers:
        import scipy.linalg as sla

        import scipy.sparse as sp

        core = mriotrace.load(system).core
        shape, data, indices, indptr = core.A_csc()
        A = sp.csc_array((data, indices, indptr), shape=shape)
        rng = np.random.default_rng(0)
        sigma2 = np.log1p(0.1 ** 2)
        Ad = A.toarray()
        Ad[Ad != 0] *= np.exp(-sigma2 / 2 + np.sqrt(sigma2) * rng.standard_normal(np.count_nonzero(Ad)))
        s_row = np.asarray(core.S)[0]
        Yr = np.asarray(core.Y_by_region())
        IA = np.eye(Ad.shape[0]) - Ad
        del Ad
        # Peers timed in CPU seconds too (process CPU / threads used), like our draws.
        t = time.process_time()
        L = np.linalg.inv(IA)
        cba = (s_row @ L) @ Yr
        t_inv = time.process_time() - t
        del L
        t = time.process_time()
        lu = sla.lu_factor(IA, check_finite=False)
        m = sla.lu_solve(lu, s_row, trans=1, check_finite=False)
        cba2 = m @ Yr
        t_lu = time.process_time() - t
        assert np.allclose(cba, cba2, rtol=1e-8)
        ours = record["montecarlo"]["median_draw_cpu_s"]
        record["peers"] = {"pymrio_dense_inverse_cpu_s": t_inv, "lu_per_draw_cpu_s": t_lu,
                           "ours_median_draw_cpu_s": ours,
                           "speedup_vs_dense_inverse": t_inv / ours, "speedup_vs_lu_per_draw": t_lu / ours}
        print(json.dumps(record["peers"]), flush=True)

    out = HERE / "results" / f"batch-{record['date']}-{record['host']}"
    out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    mc = record["montecarlo"]
    lines = ["| measure | value |", "|---|---|",
             f"| system | n = 9,800 (49 x 200), nnz(A) = {record['system']['nnz_A']:,} |",
             f"| draws (CV 10 % on A, Y, F) | {mc['draws']} |",
             f"| setup (load + dense LU) | {mc['setup_s']:.1f} s |",
             f"| item phase, 2 threads | {mc['items_s']:.1f} s |",
             f"| draws/s on 2 cores | {mc['draws_per_s']:.3f} |",
             f"| draws/s per core | {mc['draws_per_s_per_core']:.3f} |",
             f"| median seconds per draw, wall (one core, shared machine) | {mc['median_draw_s']:.2f} |",
             f"| median CPU seconds per draw | {mc['median_draw_cpu_s']:.2f} "
             f"(= {mc['draws_per_cpu_s']:.2f} draws/s per core; x2 cores = {2 * mc['draws_per_cpu_s']:.2f}) |",
             f"| median warm-start iterations | {mc['median_iterations']:.0f} |"]
    if "mpi" in record:
        r = record["mpi"]
        lines += [f"| MPI 1 rank: draws/s | {r['one_rank']['items_per_s']:.3f} |",
                  f"| MPI 2 ranks: draws/s | {r['two_ranks']['items_per_s']:.3f} |",
                  f"| MPI speedup / efficiency | {r['speedup']:.2f} / {100 * r['efficiency']:.0f} % |"]
    if "peers" in record:
        p = record["peers"]
        lines += [f"| pymrio-style dense inverse, 1 draw | {p['pymrio_dense_inverse_cpu_s']:.1f} CPU s "
                  f"({p['speedup_vs_dense_inverse']:.1f}x ours) |",
                  f"| fresh LU per draw, 1 draw | {p['lu_per_draw_cpu_s']:.1f} CPU s "
                  f"({p['speedup_vs_lu_per_draw']:.1f}x ours) |"]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
