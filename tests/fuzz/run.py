#!/usr/bin/env python3
"""Run the libFuzzer targets of tests/fuzz (built by `./dev.sh fuzz` / `./dev.sh test`
into build/fuzz) for a bounded time each, and report per target: executions,
crashes, timeouts (hangs), leaks, out-of-memory, silent changes, unclean errors.

    tests/fuzz/run.py --total-seconds 140          # the short run of ./dev.sh test: 140 s split evenly
    tests/fuzz/run.py --seconds 300 --report docs/reliability-fuzz.json --keep-corpus   # 300 s per target
    tests/fuzz/run.py --list                       # the targets, one a line

Exit code 1 when any target found anything (its input is kept under
<work>/artifacts/<target>/ and named in the output), else 0. See
docs/reliability.md ("Fuzzing") for what the targets check and why.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["h5_system_edits", "h5_results_edits", "h5_bytes", "h5_batch_edits", "h5_paths_edits", "toml_scenario",
           "toml_job", "useeio_json", "exiobase", "gloria", "eora26", "oecd_icio", "figaro", "wiod2016"]
# As in harness.cpp's targets() (libFuzzer needs it on the command line); 8192 otherwise.
MAX_LEN = {"h5_system_edits": 320, "h5_results_edits": 320, "h5_bytes": 16384, "h5_batch_edits": 320,
           "h5_paths_edits": 320, "wiod2016": 32768}
# Extra read-only seed folders: committed repro files.
EXTRA_SEEDS = {"h5_bytes": [ROOT / "tests/data/corrupt-h5"]}
# The HDF5 read guard's time limit while fuzzing: a parse that loops is cut
# off after this many seconds (a clean FileError), far below libFuzzer's
# -timeout, which would count a hang of the reader itself.
GUARD_SECONDS = 2
INPUT_TIMEOUT = 30


def classify(log: str, artifacts: list[Path]) -> str | None:
    """What ended a run early, from libFuzzer's output and the files it left."""
    if "mriotrace-fuzz: SILENT CHANGE" in log:
        return "silent_change"
    if "mriotrace-fuzz: UNCLEAN ERROR" in log:
        return "unclean_error"
    if "ERROR: libFuzzer: timeout" in log or any(a.name.startswith("timeout-") for a in artifacts):
        return "timeout"
    if "ERROR: LeakSanitizer" in log or any(a.name.startswith("leak-") for a in artifacts):
        return "leak"
    if "out-of-memory" in log or any(a.name.startswith("oom-") for a in artifacts):
        return "oom"
    if any(a.name.startswith("crash-") for a in artifacts) or "ERROR: " in log or "deadly signal" in log:
        return "crash"
    return None


# Frames of the sanitizer runtime, libc and the C++ library's allocation path.
RUNTIME_FRAME = re.compile(r"__interceptor_|__asan|__sanitizer|__ubsan|operator new|operator delete|libc\.so"
                           r"|/c\+\+/\d+/bits/|std::__new_allocator")
OUT_OF_MEMORY = re.compile(r"out of memory|allocation-size-too-big|requested allocation size")


def child_reports(log_dir: Path) -> dict:
    """Sanitizer reports written by the HDF5 read guard's child processes,
    counted by where they stop it: inside the HDF5 library (contained by the
    guard, as intended), at the child's memory limit (an allocation the file's
    damaged sizes asked for: the product gets std::bad_alloc there and refuses
    the file), elsewhere (a defect of mriotrace's own reading code: a failure)."""
    out = {"in_hdf5": 0, "memory_limit": 0, "elsewhere": 0, "heads": []}
    for f in sorted(log_dir.glob("guard-child*")):
        text = f.read_text(errors="replace")
        if OUT_OF_MEMORY.search(text.split("\n", 2)[1] if text.count("\n") > 1 else text):
            out["memory_limit"] += 1
            continue
        frames = [ln for ln in text.splitlines() if re.match(r"\s+#\d+ ", ln)]
        own = [ln for ln in frames if not RUNTIME_FRAME.search(ln)]
        if own and "libhdf5" in own[0]:
            out["in_hdf5"] += 1
        else:
            out["elsewhere"] += 1
            out["heads"].append(f"{f}: " + " | ".join(text.strip().splitlines()[:4]))
    return out


def run_target(build: Path, work: Path, seeds: Path, name: str, seconds: float, keep_corpus: bool) -> dict:
    binary = build / "tests" / "fuzz" / f"fuzz_{name}"
    corpus = work / "corpus" / name
    if corpus.exists() and not keep_corpus:
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts = work / "artifacts" / name
    logs = work / "logs" / name
    for d in (artifacts, logs):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    dirs = [corpus, seeds / name]
    regressions = ROOT / "tests" / "data" / "fuzz-regressions" / name
    if regressions.is_dir():
        dirs.append(regressions)
    dirs += [d for d in EXTRA_SEEDS.get(name, []) if d.is_dir()]
    cmd = [
        str(binary), *map(str, dirs),
        f"-max_total_time={int(seconds)}",
        f"-timeout={INPUT_TIMEOUT}",
        f"-max_len={MAX_LEN.get(name, 8192)}",
        "-rss_limit_mb=3072",
        "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/",
        "-close_fd_mask=1",  # the readers' progress output on stdout is noise here
    ]
    env = dict(os.environ)
    env.update({
        "MRIOTRACE_HDF5_GUARD_SECONDS": str(GUARD_SECONDS),
        "MRIOTRACE_FUZZ_LOG_DIR": str(logs),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        # Like the product: a failed allocation is std::bad_alloc, not a sanitizer abort.
        # A smaller quarantine and shorter allocation stacks keep the process
        # small, so that the guard's fork per HDF5 read stays cheap.
        "ASAN_OPTIONS": "allocator_may_return_null=1:detect_leaks=1:abort_on_error=0:quarantine_size_mb=32"
                        ":malloc_context_size=10",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    })
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          errors="replace", timeout=seconds + 600)
    wall = time.monotonic() - t0
    log = proc.stderr
    (logs / "libfuzzer.log").write_text(log)
    found = sorted(artifacts.iterdir())
    finding = classify(log, found) if (proc.returncode != 0 or found) else None
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    execs = int(m.group(1)) if m else 0
    t = re.search(r"accepted (\d+), refused (\d+) \(HDF5 read guard contained: (\d+) crashes, (\d+) time limits, "
                  r"(\d+) memory limits\)", log)
    child = child_reports(logs)
    heads = child.pop("heads")
    result = {
        "target": name, "seconds": round(wall, 1), "executions": execs,
        "crashes": int(finding == "crash"), "timeouts": int(finding == "timeout"), "leaks": int(finding == "leak"),
        "oom": int(finding == "oom"), "silent_changes": int(finding == "silent_change"),
        "unclean_errors": int(finding == "unclean_error"),
        "accepted": int(t.group(1)) if t else None, "refused": int(t.group(2)) if t else None,
        "guard_contained": {"crashes": int(t.group(3)), "time_limits": int(t.group(4)), "memory_limits": int(t.group(5))}
        if t else None,
        "guard_child_sanitizer_reports": child,
        "corpus_size": len(list(corpus.iterdir())),
        "artifacts": [str(a) for a in found],
        "exit_code": proc.returncode,
    }
    if finding is None and proc.returncode != 0:
        result["crashes"] = 1  # ended badly without a recognisable report: count it
    result["failed"] = bool(finding or proc.returncode != 0 or child["elsewhere"])
    if result["failed"]:
        tail = "\n".join(log.strip().splitlines()[-40:])
        print(f"--- fuzz {name}: last lines of {logs / 'libfuzzer.log'}\n{tail}", file=sys.stderr)
        for h in heads[:5]:
            print(f"--- sanitizer report in a guard child: {h}", file=sys.stderr)
    return result


def summary_line(r: dict) -> str:
    g = r["guard_contained"] or {}
    c = r["guard_child_sanitizer_reports"]
    guard = (f"; guard contained {g.get('crashes', 0)} HDF5 crashes, {g.get('time_limits', 0)} time limits, "
             f"{g.get('memory_limits', 0)} memory limits; child sanitizer reports: {c['in_hdf5']} in HDF5, "
             f"{c['memory_limit']} at the memory limit, {c['elsewhere']} in mriotrace"
             if r["target"].startswith("h5_") else "")
    return (f"fuzz {r['target']:<16} {r['executions']:>9,} execs in {r['seconds']:>6.1f} s: "
            f"{r['crashes']} crashes, {r['timeouts']} timeouts, {r['leaks']} leaks, {r['oom']} oom, "
            f"{r['silent_changes']} silent changes, {r['unclean_errors']} unclean errors "
            f"(accepted {r['accepted']}, refused {r['refused']}{guard})"
            + ("  FAILED: " + ", ".join(r["artifacts"]) if r["failed"] else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", type=Path, default=ROOT / "build" / "fuzz", help="the fuzz build folder")
    ap.add_argument("--work", type=Path, default=None, help="corpus, artifacts and logs (default <build>/run)")
    budget = ap.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float, help="fuzzing time per target")
    budget.add_argument("--total-seconds", type=float,
                        help="fuzzing time over all targets, split evenly (default 140: the CI budget)")
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma-separated targets")
    ap.add_argument("--list", action="store_true", help="print the targets, one a line, and exit")
    ap.add_argument("--keep-corpus", action="store_true", help="continue from the corpus of an earlier run")
    ap.add_argument("--report", type=Path, help="write the results as JSON here")
    args = ap.parse_args()
    names = [n for n in args.targets.split(",") if n]
    if args.list:
        print("\n".join(names))
        return 0
    if args.seconds is None:
        args.seconds = (args.total_seconds if args.total_seconds is not None else 140) / len(names)
    if args.seconds < 1:
        ap.error(f"{args.seconds:g} s per target: libFuzzer's -max_total_time counts whole seconds")
    work = args.work or args.build / "run"
    seeds = work / "seeds"
    if seeds.exists():
        shutil.rmtree(seeds)
    subprocess.run([str(args.build / "tests" / "fuzz" / "mriotrace_fuzz_seeds"), str(seeds)], check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    started = dt.datetime.now(dt.timezone.utc)
    results = []
    for name in names:
        r = run_target(args.build, work, seeds, name, args.seconds, args.keep_corpus)
        results.append(r)
        print(summary_line(r), flush=True)
    total = {k: sum(r[k] for r in results) for k in
             ("executions", "crashes", "timeouts", "leaks", "oom", "silent_changes", "unclean_errors")}
    failed = sum(r["failed"] for r in results)
    print(f"fuzz total: {total['executions']:,} executions over {len(results)} targets: {total['crashes']} crashes, "
          f"{total['timeouts']} timeouts, {total['leaks']} leaks, {total['oom']} oom, "
          f"{total['silent_changes']} silent changes, {total['unclean_errors']} unclean errors; "
          f"{len(results) - failed} targets clean, {failed} with findings", flush=True)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps({
            "started": started.isoformat(timespec="seconds"), "seconds_per_target": args.seconds,
            "total_seconds": args.seconds * len(names),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "total": total, "targets": results}, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
