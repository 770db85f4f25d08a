"""Readers of real Chinese data: how long reading and building take (issue 10 targets).

    .venv/bin/python bench/bench_readers.py [--repeat 3] [--keep DIR]

1. NBS 153-sector table (2018) + CEADs national inventory + the system
   (datasets.china_national): target < 2 s.
2. A generated full-size CEADs MRIO workbook (31 provinces x 42 sectors =
   1,302 rows and columns, the documented layout, tests/python/ceads_mrio_fixture.py)
   read by readers.read_ceads_mrio and built into a system: target < 10 s.
   Writing the workbook is not timed.

Reads ../shared/data (or $MRIOTRACE_DATA). Writes
bench/results/readers-<date>-<host>.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))

import mriotrace  # noqa: E402
from ceads_mrio_fixture import write_ceads_mrio  # noqa: E402
from mriotrace import datasets, readers  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, list[float], object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", default=None, help="folder for the generated workbook (default: a temporary one)")
    args = ap.parse_args()
    data = Path(os.environ.get("MRIOTRACE_DATA", REPO.parent / "shared" / "data"))
    rows = []
    warnings.simplefilter("ignore")

    med, ts, s = timed(lambda: datasets.china_national(2018, sectors=153, data_dir=data), args.repeat)
    rows.append(("NBS 2018 153 sectors + CEADs 2018 + system (china_national)", med, ts, 2.0,
                 f"{len(s.get_sectors())} sectors, CO2 {s.co2.F.to_numpy().sum() + s.co2.F_Y.to_numpy().sum():.2f} Mt"))
    med, ts, t = timed(lambda: readers.read_nbs(data / "china/nbs/china_2018_153.csv"), args.repeat)
    rows.append(("  of which read_nbs (CSV)", med, ts, None, f"max imbalance {t.max_imbalance:.2g}"))
    med, ts, _ = timed(lambda: readers.read_ceads_inventory(data / "china/ceads/national_1997-2019.xlsx", 2018),
                       args.repeat)
    rows.append(("  of which read_ceads_inventory (one sheet)", med, ts, None, ""))

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp())
    tmp.mkdir(parents=True, exist_ok=True)
    wb = tmp / "MRIO_full_31x42.xlsx"
    t0 = time.perf_counter()
    write_ceads_mrio(wb, provinces=31, sectors=42, seed=1)
    t_write = time.perf_counter() - t0
    size = wb.stat().st_size / 1e6
    med, ts, m = timed(lambda: readers.read_ceads_mrio(wb), args.repeat)
    rows.append((f"CEADs MRIO 1,302 x 1,302 workbook ({size:.0f} MB): read_ceads_mrio", med, ts, 10.0,
                 f"{m.Z.shape[0]} rows, written in {t_write:.1f} s (not timed)"))
    med, ts, _ = timed(lambda: readers.read_ceads_mrio(wb).to_system(), args.repeat)
    rows.append(("CEADs MRIO read + to_system", med, ts, 10.0, ""))

    host = socket.gethostname()
    date = datetime.date.today().isoformat()
    lines = [f"# Readers benchmark, {date}, {host}", "",
             f"`{' '.join(['.venv/bin/python', 'bench/bench_readers.py'] + sys.argv[1:])}`; mriotrace "
             f"{mriotrace.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores "
             f"(shared machine: other builds may have run alongside). Median of {args.repeat}.", "",
             "| task | median (s) | runs (s) | target (s) | met | note |", "|---|---:|---|---:|---|---|"]
    for name, med, ts, target, note in rows:
        met = "" if target is None else ("yes" if med < target else "NO")
        lines.append(f"| {name} | {med:.3f} | {', '.join(f'{t:.3f}' for t in ts)} | "
                     f"{'' if target is None else target} | {met} | {note} |")
    text = "\n".join(lines) + "\n"
    out = REPO / "bench" / "results" / f"readers-{date}-{host}.md"
    out.write_text(text)
    print(text)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
