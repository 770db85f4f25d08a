#!/usr/bin/env python3
"""mriotrace benchmark suite: every tool on every workload, side by side, in one run.

    python bench/run.py                       # S, M, L, XL, XXL, firm (long: tens of minutes)
    python bench/run.py --sizes S,M,L         # pick workloads
    python bench/run.py --quick               # smoke run on a tiny system (seconds)

Each (workload, tool, scope) task runs in a fresh subprocess (tools.py) so its
wall time and peak RSS (VmHWM) are its own. Before a task starts, its memory
and time are predicted (tools.predict, priced with this machine's measured
dgemm rate); a task predicted to exceed --max-memory or --timeout is reported
as skipped with the reason, and a running task is killed when its RSS passes
--max-memory or its time --timeout. Nothing is dropped silently: every task
appears in the results with a status (ok, skipped, timeout, killed, error).

Every result is compared with the workload's reference (dense LU for n <=
20,000, a tight GMRES solve beyond; see tools.py) as the maximum relative
difference (tools.max_rel_diff). Speed-ups and memory ratios against pymrio
are taken within the same run.

Writes <out>/<date>-<host>.json, .md (table) and .png (time and peak memory
versus n, log-log, one line per tool and scope).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import tools  # noqa: E402
import workloads  # noqa: E402

DEFAULT_SIZES = "S,M,L,XL,XXL,firm"


def mem_available_bytes() -> float:
    return tools.proc_bytes("/proc/meminfo", "MemAvailable") or 8 * tools.GB


def child_env(threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def measure_machine(threads: int) -> dict:
    """dgemm GFLOP/s and copy bandwidth (GB/s) with `threads` BLAS threads, in a subprocess."""
    code = (
        "import numpy as np, time, json\n"
        "a = np.random.default_rng(0).random((1500, 1500)); b = a.copy(); a @ b\n"
        "ts = []\n"
        "for _ in range(3):\n"
        "    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)\n"
        "x = np.ones(2**25); y = np.empty_like(x); np.copyto(y, x); bs = []\n"
        "for _ in range(3):\n"
        "    t = time.perf_counter(); np.copyto(y, x); bs.append(time.perf_counter() - t)\n"
        "print(json.dumps({'gflops': 2 * 1500**3 / sorted(ts)[1] / 1e9,\n"
        "                  'copy_bandwidth_gbs': 2 * x.nbytes / sorted(bs)[1] / 1e9}))\n")
    out = subprocess.run([sys.executable, "-c", code], env=child_env(threads), capture_output=True, text=True,
                         timeout=300, check=True)
    return json.loads(out.stdout)


def _status_rss(pid: int) -> float:
    return tools.proc_bytes(f"/proc/{pid}/status", "VmRSS") or 0.0


def run_task(spec: dict, threads: int, timeout: float, max_memory: float) -> dict:
    """Run one task in a subprocess under the watchdog; returns its record (without arrays)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(HERE / "tools.py"), json.dumps(spec)], env=child_env(threads),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    killed, seen = None, 0.0
    while proc.poll() is None:
        rss = _status_rss(proc.pid)
        seen = max(seen, rss)
        if rss > max_memory:
            killed = f"killed: RSS {rss / tools.GB:.1f} GB passed --max-memory {max_memory / tools.GB:.1f} GB"
        elif time.perf_counter() - t0 > timeout:
            killed = f"timeout: still running after {timeout:.0f} s (--timeout)"
        if killed:
            proc.kill()
            proc.wait()
            break
        time.sleep(0.05)
    stderr = proc.stderr.read() if proc.stderr else ""
    total = time.perf_counter() - t0
    if killed:
        return {"status": killed.split(":")[0], "reason": killed, "total_s": total, "peak_rss_mb": seen / tools.MB}
    path = Path(spec["out"]).with_suffix(".json")
    if not path.exists():
        tail = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        return {"status": "error", "reason": f"child exited with {proc.returncode} without a result {tail}"[:400],
                "total_s": total, "peak_rss_mb": seen / tools.MB}
    rec = json.loads(path.read_text())
    rec["total_s"] = total
    return rec


def plan(sizes: list[str], tool_filter: list[str] | None, solvers: list[str] | None):
    """[(workload, [(tool, scope)])] with the reference first."""
    all_tools = tools.tool_list(solvers)
    out = []
    for name in sizes:
        w = workloads.get(name)
        tasks = [("reference", "all")]
        for t in all_tools:
            if tool_filter and not any(t.name == f or t.name.startswith(f + ":") for f in tool_filter):
                continue
            tasks += [(t.name, s) for s in t.scopes]
        out.append((w, tasks))
    return out


def fmt_bytes(b: float) -> str:
    return f"{b / tools.GB:.1f} GB" if b >= tools.GB else f"{b / tools.MB:.0f} MB"


def fmt_secs(s: float) -> str:
    return f"{s / 60:.0f} min" if s >= 120 else f"{s:.0f} s"


def run_suite(args, on_workload_done=None) -> dict:
    threads = args.threads
    max_memory = args.max_memory * tools.GB if args.max_memory else 0.7 * mem_available_bytes()
    machine = measure_machine(threads)
    import mriotrace
    solvers = tools.discover_solvers()
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(), "platform": platform.platform(), "processor": platform.processor(),
        "cpu_count": os.cpu_count(), "mem_total_gb": (tools.proc_bytes("/proc/meminfo", "MemTotal") or 0.0) / tools.GB,
        "mem_available_gb": mem_available_bytes() / tools.GB, "threads": threads,
        "timeout_s": args.timeout, "reference_timeout_s": max(args.timeout, args.reference_timeout),
        "max_memory_gb": max_memory / tools.GB, "quick": args.quick,
        "mriotrace_solvers": solvers, "versions": _versions(), **machine,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    print(f"[bench] {meta['host']}: {threads} threads, dgemm {machine['gflops']:.1f} GFLOP/s, copy "
          f"{machine['copy_bandwidth_gbs']:.1f} GB/s, max memory {fmt_bytes(max_memory)}, timeout "
          f"{fmt_secs(args.timeout)}; mriotrace solvers: {', '.join(solvers)}", flush=True)
    records, wl_meta = [], []
    with tempfile.TemporaryDirectory(prefix="mriotrace-bench-") as tmp:
        for w, tasks in plan(args.sizes, args.tools, solvers):
            wl_meta.append(w.describe())
            unavailable = workloads.available(w)
            results, gave_up = {}, {}
            for tool, scope in tasks:
                rec = {"workload": w.name, "n": w.n, "tool": tool, "scope": scope}
                mem, secs = tools.predict(w, tool, scope, machine)
                # The reference is what every tool is checked against: it gets a longer allowance.
                limit = max(args.timeout, args.reference_timeout) if tool == "reference" else args.timeout
                rec.update(predicted_mem_gb=None if mem is None else mem / tools.GB, predicted_s=secs)
                if unavailable:
                    rec.update(status="skipped", reason=unavailable)
                elif tool in gave_up:  # "all" does everything "regional" does, and more
                    rec.update(status="skipped", reason=f"skipped: the {gave_up[tool]}")
                elif tool == "scipy-splu" and "mriotrace:umfpack" in gave_up:
                    # SuperLU (single-threaded) is slower than UMFPACK on the same fill-in.
                    rec.update(status="skipped", reason=f"skipped: sparse LU with UMFPACK already ended in "
                                                        f"{gave_up['mriotrace:umfpack'].split()[-1]} here")
                elif mem is not None and mem > max_memory:
                    rec.update(status="skipped", reason=f"skipped: would need ~{fmt_bytes(mem)} "
                                                        f"(> --max-memory {fmt_bytes(max_memory)})")
                elif secs is not None and secs > limit:
                    rec.update(status="skipped", reason=f"skipped: predicted ~{fmt_secs(secs)} "
                                                        f"(> timeout {fmt_secs(limit)})")
                else:
                    out = Path(tmp) / f"{w.name}__{tool.replace(':', '_')}__{scope}"
                    spec = {"workload": w.name, "tool": tool, "scope": scope, "threads": threads,
                            "out": str(out), "repeat_budget": args.repeat_budget}
                    rec.update(run_task(spec, threads, limit, max_memory))
                    if rec["status"] == "ok":
                        results[(tool, scope)] = out.with_suffix(".npz")
                    elif rec["status"] in ("timeout", "killed"):
                        gave_up[tool] = f"{scope} scope ended in {rec['status']}"
                records.append(rec)
                _progress(rec)
            _compare(records, w.name, results)
            _ratios(records)
            if on_workload_done:  # partial results survive an interrupted run
                on_workload_done({"meta": meta, "workloads": wl_meta, "results": records})
    return {"meta": meta, "workloads": wl_meta, "results": records}


def _compare(records, workload, results) -> None:
    import numpy as np
    ref_path = results.get(("reference", "all"))
    ref = dict(np.load(ref_path)) if ref_path else None
    for rec in records:
        if rec["workload"] != workload or rec.get("status") != "ok" or rec["tool"] == "reference":
            continue
        if ref is None:
            rec.update(max_rel_diff=None, diff_key=None, diff_note="no reference result")
            continue
        res = dict(np.load(results[(rec["tool"], rec["scope"])]))
        rec["max_rel_diff"], rec["diff_key"] = tools.compare(res, ref)


def _ratios(records) -> None:
    """Speed-up (pymrio time / tool time) and memory ratio (tool peak / pymrio peak), same run."""
    pym = {r["workload"]: r for r in records if r["tool"] == "pymrio" and r.get("status") == "ok"}
    for r in records:
        p = pym.get(r["workload"])
        if p and r.get("status") == "ok" and r["tool"] != "reference":
            r["speedup_vs_pymrio"] = p["wall_s"] / max(r["wall_s"], 1e-9)
            r["memory_vs_pymrio"] = r["peak_rss_mb"] / p["peak_rss_mb"]


def _progress(rec) -> None:
    if rec.get("status") == "ok":
        msg = f"{rec['wall_s']:.3g} s, peak {rec['peak_rss_mb']:.0f} MB"
    else:
        msg = rec.get("reason", rec.get("status"))
    print(f"[bench] {rec['workload']:>5} {rec['tool']:<22} {rec['scope']:<8} {msg}", flush=True)


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for mod in ("mriotrace", "numpy", "scipy", "pandas", "pymrio"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:
            out[mod] = None
    return out


# ------------------------------------------------------------------ report
def _diag_note(diag: dict) -> str:
    """The solver mriotrace used and, where the engine reports them, iterations and fallbacks."""
    if not diag.get("solver"):
        return ""
    parts = [f"solver {diag['solver']}"]
    if diag.get("last_solver") not in (None, "", diag["solver"]):
        parts.append(f"last solves {diag['last_solver']}")
    its = diag.get("total_iterations") or diag.get("iterations")
    if its:
        parts.append(f"iterations {its}")
    for key in ("fallback", "fell_back", "fallback_reason"):
        if diag.get(key) not in (None, False, "", 0):
            parts.append(f"{key} {diag[key]}")
    return ", ".join(parts)


def markdown(report: dict) -> str:
    m = report["meta"]
    lines = [
        f"# mriotrace benchmark, {m['date']} on {m['host']}",
        "",
        f"{m['cpu_count']} cores ({m['threads']} threads used), {m['mem_total_gb']:.0f} GB RAM; dgemm "
        f"{m['gflops']:.1f} GFLOP/s, copy bandwidth {m['copy_bandwidth_gbs']:.1f} GB/s; timeout "
        f"{fmt_secs(m['timeout_s'])}, memory limit {m['max_memory_gb']:.1f} GB. Versions: "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v) + ".",
        "",
        f"Command: `{m.get('command', '')}`",
        "",
        "Time: median wall time of the computation (input loading excluded); peak: the process's peak RSS "
        "(loading included). Speed-up and memory are relative to pymrio calc_all() in this run. Max rel diff: "
        "largest relative difference from the reference (dense LU for n <= 20,000, tight GMRES beyond), "
        "entries below 1e-6 of their row's maximum compared against that scale.",
        "",
        "| workload | n | tool | scope | status | time (s) | peak RSS (MB) | speed-up vs pymrio | memory vs pymrio "
        "| max rel diff | notes |",
        "|---|---:|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in report["results"]:
        ok = r.get("status") == "ok"
        diag = r.get("diagnostics") or {}
        note = r.get("reason", "") if not ok else _diag_note(diag)
        if ok and r.get("diff_key"):
            note = (note + "; " if note else "") + f"worst: {r['diff_key']}"
        lines.append("| " + " | ".join([
            r["workload"], f"{r['n']:,}", r["tool"], r["scope"], r.get("status", ""),
            f"{r['wall_s']:.3g}" if ok else "", f"{r['peak_rss_mb']:.0f}" if ok else "",
            f"{r['speedup_vs_pymrio']:.1f}x" if "speedup_vs_pymrio" in r else "",
            f"{r['memory_vs_pymrio']:.2f}" if "memory_vs_pymrio" in r else "",
            f"{r['max_rel_diff']:.1e}" if r.get("max_rel_diff") is not None else "",
            note.replace("|", "/")]) + " |")
    targets = target_lines(report)
    if targets:
        lines += ["", "## Targets of the issue (mriotrace:auto, ratios from this run)", "", *targets]
    lines.append("")
    return "\n".join(lines)


# The issue's targets (ratios from the same run), checked on what users get: solver="auto".
TARGETS = [
    ("L", "regional", "speed-up vs pymrio >= 20x, memory <= 1/4 of pymrio", dict(speedup=20, memory=0.25)),
    ("L", "all", "speed-up vs pymrio >= 3x, memory <= 1/2 of pymrio", dict(speedup=3, memory=0.5)),
    ("XL", "regional", "<= 10 s, <= 4 GB peak", dict(seconds=10, peak_gb=4)),
    ("firm", "all", "footprints of every firm (scope all) <= 10 s", dict(seconds=10)),
    # Issue 13 (solver layer):
    ("L", "regional", "speed-up vs pymrio >= 50x (issue 13)", dict(speedup=50)),
    ("L", "all", "<= 0.6 x the reference's time and >= 10x pymrio (issue 13)", dict(vs_reference=0.6, speedup=10)),
    ("XL", "all", "<= 20 s (issue 13)", dict(seconds=20)),
    ("XXL", "regional", "<= 8 s (issue 13)", dict(seconds=8)),
]


def target_lines(report: dict, tool: str = "mriotrace:auto") -> list[str]:
    rows = {(r["workload"], r["tool"], r["scope"]): r for r in report["results"]}
    out = ["| target | workload | scope | measured | met |", "|---|---|---|---|---|"]
    for wl, scope, text, t in TARGETS:
        r = rows.get((wl, tool, scope))
        if r is None:
            continue
        if r.get("status") != "ok":
            out.append(f"| {text} | {wl} | {scope} | {r.get('status')}: {r.get('reason', '')} | no |")
            continue
        parts, met = [f"{r['wall_s']:.3g} s, {r['peak_rss_mb'] / 1024:.2f} GB"], True
        if "speedup" in t:
            if "speedup_vs_pymrio" not in r:
                parts.append("no pymrio result")
                met = False
            else:
                parts.append(f"{r['speedup_vs_pymrio']:.1f}x faster, memory {r['memory_vs_pymrio']:.2f} of pymrio")
                met &= r["speedup_vs_pymrio"] >= t["speedup"] and r["memory_vs_pymrio"] <= t.get("memory", math.inf)
        if "vs_reference" in t:
            ref = rows.get((wl, "reference", "all"))
            if ref is None or ref.get("status") != "ok":
                parts.append("no reference time")
                met = False
            else:
                ratio = r["wall_s"] / max(ref["wall_s"], 1e-9)
                parts.append(f"{ratio:.2f} x the reference's {ref['wall_s']:.3g} s")
                met &= ratio <= t["vs_reference"]
        if "seconds" in t:
            met &= r["wall_s"] <= t["seconds"]
        if "peak_gb" in t:
            met &= r["peak_rss_mb"] / 1024 <= t["peak_gb"]
        out.append(f"| {text} | {wl} | {scope} | {'; '.join(parts)} | {'yes' if met else 'no'} |")
    acc = [r for r in report["results"] if r["tool"].startswith("mriotrace:") and r.get("max_rel_diff") is not None]
    if acc:
        worst = max(acc, key=lambda r: r["max_rel_diff"])
        out.append(f"| every mriotrace result within 1e-9 of the reference | all | all | worst "
                   f"{worst['max_rel_diff']:.1e} ({worst['workload']}, {worst['tool']}, {worst['scope']}, "
                   f"{worst.get('diff_key')}) | {'yes' if worst['max_rel_diff'] <= 1e-9 else 'no'} |")
    return out if len(out) > 2 else []


def plot(report: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list] = {}
    for r in report["results"]:
        if r.get("status") == "ok":
            series.setdefault(f"{r['tool']} ({r['scope']})", []).append((r["n"], r["wall_s"], r["peak_rss_mb"]))
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(13, 5.5))
    for label, pts in sorted(series.items()):
        pts.sort()
        ns = [p[0] for p in pts]
        style = "-o" if label.startswith("mriotrace") else "--s"
        ax_t.plot(ns, [max(p[1], 1e-4) for p in pts], style, label=label, markersize=4)
        ax_m.plot(ns, [p[2] for p in pts], style, label=label, markersize=4)
    for ax, ylabel in ((ax_t, "wall time (s, median)"), (ax_m, "peak RSS (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("n (regions x sectors)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    ax_m.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    m = report["meta"]
    fig.suptitle(f"mriotrace benchmark {m['date'][:10]} on {m['host']} ({m['threads']} threads); "
                 "missing points: skipped, timeout or killed (see the table)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(report: dict, out_dir: Path, stem: str) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"{stem}.{ext}" for ext in ("json", "md", "png")}
    paths["json"].write_text(json.dumps(report, indent=1, default=tools._jsonable) + "\n")
    paths["md"].write_text(markdown(report))
    plot(report, paths["png"])
    return paths


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Workloads: " + "; ".join(f"{w.name}: {w.note}" for w in
                                                                  workloads.WORKLOADS.values()))
    ap.add_argument("--sizes", default=DEFAULT_SIZES,
                    help=f"comma-separated workloads (default {DEFAULT_SIZES})")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: the tiny generated system only, no repeats (seconds)")
    ap.add_argument("--tools", default=None,
                    help="comma-separated tools to run (e.g. mriotrace,pymrio or mriotrace:auto); default all")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for every tool (default: cores)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per task (default 1800 = 30 min)")
    ap.add_argument("--reference-timeout", type=float, default=1800.0,
                    help="seconds allowed to the reference solve (default 1800; at least --timeout)")
    ap.add_argument("--max-memory", type=float, default=None,
                    help="GB per task (default 70 %% of the memory available at start)")
    ap.add_argument("--repeat-budget", type=float, default=3.0,
                    help="seconds within which a cheap task (n <= 2,000) is repeated, up to 5 times (median)")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="output folder (default bench/results)")
    ap.add_argument("--name", default=None, help="file stem (default <YYYY-MM-DD>-<host>)")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes = workloads.QUICK.name
        args.repeat_budget = 0.0
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for s in args.sizes:
        workloads.get(s)  # unknown names fail here, before any work
    args.tools = [t.strip() for t in args.tools.split(",")] if args.tools else None
    if args.threads < 1:
        ap.error("--threads must be at least 1")
    if args.timeout <= 0:
        ap.error("--timeout must be positive")
    if args.max_memory is not None and args.max_memory <= 0:
        ap.error("--max-memory must be positive")
    return args


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stem = args.name or f"{dt.date.today().isoformat()}-{socket.gethostname()}"
    report = run_suite(args, on_workload_done=lambda partial: write_outputs(partial, args.out, stem))
    paths = write_outputs(report, args.out, stem)
    print(markdown(report))
    print("[bench] wrote " + ", ".join(str(p) for p in paths.values()))
    bad = [r for r in report["results"] if r.get("status") == "error"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
