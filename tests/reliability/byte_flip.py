"""The byte-flip experiment: flip each byte of a system file in turn, load it
and compute its footprints; every mutated file must either give results
identical to the original's or be refused with an error. Nothing may crash,
hang or silently change a number.

    python tests/reliability/byte_flip.py [FILE.h5] [--kind system|batch|paths] [--step K] [--json OUT]

--kind says what FILE is (default: a system file) and how it is read: a
system (load, footprints), a batch results file (mriotrace.batch.load: items,
draws, summary, target, SDA) or an SPA path file (tracing.load_paths).
Without FILE a small one of that kind is generated (a 3 x 4 system; a batch
job of 2 systems x 4 runs + SDA on 2 x 3 systems; the paths of a 2 x 3 system).
Each load runs HDF5 in a guarded child process (io/src/hdf5.cpp), so a crash
inside the library is reported as an error, not a dead interpreter.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

import mriotrace


def _fingerprint(system: mriotrace.MRIOSystem) -> tuple:
    system.calc_all()
    ext = system.extension(system.extensions_instance_names[0])
    return (list(system.regions), list(system.sectors), list(system.Y_categories), list(ext.get_rows()),
            list(ext.unit.iloc[:, 0]), system.monetary_unit, ext.D_cba_reg.to_numpy().tobytes(),
            ext.D_pba.to_numpy().tobytes(), system.x.to_numpy().tobytes())


def system_fingerprint(path: Path) -> tuple:
    return _fingerprint(mriotrace.load(path))


def batch_fingerprint(path: Path) -> tuple:
    """Everything BatchResults gives, as exact text (floats round-trip in to_csv)."""
    import mriotrace.batch as batch

    r = batch.load(path)
    return (sorted(r.attrs.items()), r.regions, r.sectors, r.stressors, r.systems, r.years, r.scenarios, r.accounts,
            r.items.to_csv(), r.draws("D_cba_reg").to_csv(), r.draws("D_pba_reg").to_csv(), r.draws("Q").to_csv(),
            r.summary("D_cba_reg").to_csv(), r.target().to_csv(), r.sda().to_csv())


def path_fingerprint(path: Path) -> tuple:
    r = mriotrace.tracing.load_paths(path)
    return (r.paths.to_csv(), r.coverage_by_depth.to_csv(), r.stressor, r.unit, r.demand, r.total, r.threshold,
            r.max_depth, r.coverage, r.paths_found, r.nodes_expanded, r.search_seconds, r.truncation)


BATCH_JOB = '''output = "out.h5"
seed = 11
keep = ["D_cba_reg", "D_pba_reg", "Q"]
stressors = ["stressor0"]

[[systems]]
file = "y2017.h5"
year = 2017

[[systems]]
file = "y2018.h5"
year = 2018

[montecarlo]
draws = 3
cv = 0.1

[[sda]]
from = "2017"
to = "2018"

[target]
stressor = "stressor0"
max_value = 1e12
'''


def sample(kind: str, folder: Path) -> Path:
    """A small file of `kind` in `folder` (the test suite's, see test_file_integrity.py)."""
    if kind == "system":
        path = folder / "small.h5"
        mriotrace.save(mriotrace.datasets.generate(regions=3, sectors=4, stressors=2, seed=1), path)
        return path
    if kind == "paths":
        path = folder / "paths.h5"
        system = mriotrace.datasets.generate(regions=2, sectors=3, stressors=1, seed=4)
        mriotrace.tracing.spa(system, "stressor0", tau=1e-3, max_depth=4, h5=path)
        return path
    import mriotrace.batch as batch

    for year, seed in ((2017, 1), (2018, 2)):
        mriotrace.save(mriotrace.datasets.generate(regions=2, sectors=3, stressors=1, seed=seed),
                       folder / f"y{year}.h5")
    (folder / "job.toml").write_text(BATCH_JOB)
    return batch.run(folder / "job.toml", progress=False)


FINGERPRINTS = {"system": system_fingerprint, "batch": batch_fingerprint, "paths": path_fingerprint}


def run(path: Path, step: int = 1, workdir: Path | None = None, fingerprint=system_fingerprint,
        suffix: str = ".h5") -> dict:
    """Flip bytes 0, step, 2*step, ... of `path`; count identical, refused and different reads.

    fingerprint(path) reads a file and returns what must not change (default:
    load a system and compute its footprints); batch and path files pass their own."""
    data = bytearray(path.read_bytes())
    reference = fingerprint(path)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="mriotrace-flip-"))
    mutated = workdir / ("mutated" + suffix)
    counts: Counter = Counter()
    reasons: Counter = Counter()
    different: list[int] = []
    t0 = time.time()
    for i in range(0, len(data), step):
        d = bytearray(data)
        d[i] ^= 0xFF
        mutated.write_bytes(d)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                same = fingerprint(mutated) == reference
        except (OSError, ValueError, RuntimeError) as e:  # FileError, InputError, NumericError
            counts["refused"] += 1
            reasons[str(e).split('": ', 1)[-1][:80]] += 1
            continue
        if same:
            counts["identical"] += 1
        else:
            counts["different"] += 1
            different.append(i)
    return dict(file=str(path), bytes=len(data), step=step, flips=sum(counts.values()),
                identical=counts["identical"], refused=counts["refused"], different=counts["different"],
                different_at=different, seconds=round(time.time() - t0, 1),
                top_reasons=reasons.most_common(8))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", nargs="?", type=Path)
    p.add_argument("--kind", choices=sorted(FINGERPRINTS), default="system", help="what FILE is (default: system)")
    p.add_argument("--step", type=int, default=1, help="flip every K-th byte (default: every byte)")
    p.add_argument("--json", type=Path, help="write the report as JSON")
    a = p.parse_args(argv)
    path = a.file or sample(a.kind, Path(tempfile.mkdtemp(prefix="mriotrace-flip-")))
    report = run(path, a.step, fingerprint=FINGERPRINTS[a.kind])
    text = json.dumps(report, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text + "\n")
    return 0 if report["different"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
