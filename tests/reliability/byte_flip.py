"""The byte-flip experiment: flip each byte of a system file in turn, load it
and compute its footprints; every mutated file must either give results
identical to the original's or be refused with an error. Nothing may crash,
hang or silently change a number.

    python tests/reliability/byte_flip.py FILE.h5 [--step K] [--json OUT]

Without FILE a small system (3 regions x 4 sectors, 2 stressors) is generated.
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
    p.add_argument("--step", type=int, default=1, help="flip every K-th byte (default: every byte)")
    p.add_argument("--json", type=Path, help="write the report as JSON")
    a = p.parse_args(argv)
    path = a.file
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="mriotrace-flip-")) / "small.h5"
        mriotrace.save(mriotrace.datasets.generate(regions=3, sectors=4, stressors=2, seed=1), path)
    report = run(path, a.step)
    text = json.dumps(report, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text + "\n")
    return 0 if report["different"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
