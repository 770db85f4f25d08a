"""Reading a full-size EXIOBASE 3 zip: mriotrace's native reader vs pymrio.parse_exiobase3.

    .venv/bin/python bench/bench_readers_global.py [--cache DIR] [--out bench/results]

The zip is generated once (tests/python/exiobase_fixture.py, the published
layout) into --cache (default $MRIOTRACE_BENCH_CACHE or ~/.cache/mriotrace-bench):
49 regions x 200 products (n = 9,800), 7 final-demand categories, 1,104
satellite rows and 126 impact rows, Z with ~10 % nonzeros (domestic blocks
heavier), F with ~70 %. It holds the files both readers use (Z, Y, x, unit,
satellite/ and impacts/ F, F_Y, unit); A.txt and S.txt are left out so that
pymrio does not parse tables the native reader skips.

Each reader runs in its own fresh Python process, one after the other, on
the same file, --repeat times (default 3) in alternating order, so that both
see the same share of whatever else the machine is doing; the figures are the
medians of the repeats. The child reports its wall time (reading only, after imports)
and its peak RSS right after reading (VmHWM of /proc/self/status, imports
included, with the peak after imports for reference; not getrusage's
ru_maxrss, which inherits the parent's peak through fork and exec), then sums of F
and Y that must agree between the two. Results: bench/results/readers-global-<date>-<host>.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "python"))

SHAPE = dict(regions=49, sectors=200, categories=7, stressors=1104, impacts=126, density=0.10)

CHILD = r"""
import json, sys, time
which, path = sys.argv[1], sys.argv[2]

def hwm_mb():
    # VmHWM is the peak RSS of this process image: it starts afresh at exec,
    # where getrusage's ru_maxrss carries the forking parent's peak over.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc/self/status")

if which == "mriotrace":
    import mriotrace
    read = lambda p: mriotrace.read_exiobase3(p)
else:
    import pymrio
    read = lambda p: pymrio.parse_exiobase3(p)
rss0 = hwm_mb()
t = time.perf_counter()
io = read(path)
wall = time.perf_counter() - t
peak = hwm_mb()  # before the checks below allocate
ext = io.satellite
F = ext.F
out = {"wall_s": wall, "peak_rss_mb": peak,
       "rss_after_imports_mb": rss0, "n": int(io.Y.shape[0]), "k_satellite": int(F.shape[0]),
       "checksum_F": float(F.to_numpy().sum()), "checksum_Y": float(io.Y.to_numpy().sum())}
print(json.dumps(out))
"""


def generate(cache: Path) -> Path:
    from exiobase_fixture import REGIONS_49, write_exiobase3

    folder = cache / "exiobase3-full-49x200"
    path = folder / "IOT_2011_pxp.zip"
    stamp = folder / "done.json"
    if stamp.exists() and json.loads(stamp.read_text()) == SHAPE and path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    print(f"generating {path} (once) ...", flush=True)
    write_exiobase3(folder, regions=REGIONS_49, sectors=SHAPE["sectors"], categories=SHAPE["categories"],
                    stressors=SHAPE["stressors"], impacts=SHAPE["impacts"], density=SHAPE["density"], kind="pxp",
                    year=2011, with_A=False, with_S=False)
    stamp.write_text(json.dumps(SHAPE))
    print(f"  {time.perf_counter() - t:.0f} s, {path.stat().st_size / 2**20:.0f} MiB", flush=True)
    return path


def run_child(which: str, path: Path) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, which, str(path)], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{which} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def median_run(rs: list) -> dict:
    """Medians of the timing and memory figures over repeats; checksums must not vary."""
    out = dict(rs[0])
    for key in ("wall_s", "peak_rss_mb", "rss_after_imports_mb"):
        out[key] = statistics.median(r[key] for r in rs)
    out["wall_s_runs"] = [r["wall_s"] for r in rs]
    out["peak_rss_mb_runs"] = [r["peak_rss_mb"] for r in rs]
    for key in ("checksum_F", "checksum_Y"):
        if len({r[key] for r in rs}) != 1:
            raise SystemExit(f"{key} differs between repeats of the same reader: {[r[key] for r in rs]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_cache = os.environ.get("MRIOTRACE_BENCH_CACHE", str(Path.home() / ".cache" / "mriotrace-bench"))
    ap.add_argument("--cache", default=default_cache, help="where the generated zip is kept")
    ap.add_argument("--out", default=str(HERE / "results"), help="results folder")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each reader (medians are reported)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")

    path = generate(Path(args.cache))
    runs = {"mriotrace": [], "pymrio": []}
    for i in range(args.repeat):
        order = ("mriotrace", "pymrio") if i % 2 == 0 else ("pymrio", "mriotrace")
        for which in order:
            print(f"[{i + 1}/{args.repeat}] reading with {which} ...", flush=True)
            r = run_child(which, path)
            runs[which].append(r)
            print(f"  {r['wall_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    results = {which: median_run(rs) for which, rs in runs.items()}
    m, p = results["mriotrace"], results["pymrio"]
    same = (abs(m["checksum_F"] - p["checksum_F"]) <= 1e-9 * abs(p["checksum_F"])
            and abs(m["checksum_Y"] - p["checksum_Y"]) <= 1e-9 * abs(p["checksum_Y"]))
    speedup = p["wall_s"] / m["wall_s"]
    memory_ratio = m["peak_rss_mb"] / p["peak_rss_mb"]
    host = socket.gethostname()
    date = dt.date.today().isoformat()
    summary = {
        "benchmark": "readers-global", "date": date, "host": host, "cpus": os.cpu_count(),
        "python": platform.python_version(), "command": f"python bench/bench_readers_global.py --repeat {args.repeat}",
        "repeat": args.repeat,
        "file": {"path": str(path), "bytes": path.stat().st_size, **SHAPE},
        "results": results, "speedup": speedup, "peak_memory_ratio": memory_ratio, "same_sums": same,
        "targets": {"speedup_min": 10, "peak_memory_ratio_max": 0.25},
        "meets_targets": speedup >= 10 and memory_ratio <= 0.25,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"readers-global-{date}-{host}"
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    md = [
        f"# Reading EXIOBASE 3 (generated, full size): mriotrace vs pymrio ({date}, {host})",
        "",
        f"Command: `python bench/bench_readers_global.py --repeat {args.repeat}` ({args.repeat} runs of each in "
        "alternating order, fresh processes, same file; medians, all runs in the json).",
        f"File: generated {path.name}, {path.stat().st_size / 2**20:.0f} MiB zip; 49 regions x 200 products "
        f"(n = 9,800), 7 categories, {SHAPE['stressors']} satellite + {SHAPE['impacts']} impact rows, "
        f"Z {SHAPE['density']:.0%} nonzero.",
        "",
        "| reader | wall time (s), median | runs (s) | peak RSS (MB), median | RSS after imports (MB) |",
        "|---|---:|---|---:|---:|",
    ]
    for which, r in results.items():
        label = "mriotrace.read_exiobase3" if which == "mriotrace" else "pymrio.parse_exiobase3"
        runs_s = ", ".join(f"{w:.1f}" for w in r["wall_s_runs"])
        md.append(f"| {label} | {r['wall_s']:.1f} | {runs_s} | {r['peak_rss_mb']:.0f} | {r['rss_after_imports_mb']:.0f} |")
    md += [
        "",
        f"Speed-up: **{speedup:.1f}x** (target >= 10x). Peak memory: **{memory_ratio:.2f}** of pymrio's "
        f"(target <= 0.25). Same sums of F and Y: {same}.",
        "",
    ]
    stem.with_suffix(".md").write_text("\n".join(md))
    print("\n".join(md))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
