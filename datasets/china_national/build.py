#!/usr/bin/env python3
"""Derive the demo system shipped with mriotrace from the reference data.

    .venv/bin/python datasets/china_national/build.py [--data DIR] [-o FILE]

Builds China's national 2018 EEIO system with 153 sectors (the NBS table that
separates iron and steel from non-ferrous metals and refining from coking) and
the CEADs 2018 Scope-1 CO2 inventory through mriotrace.datasets.china_national
(the one reader of those files), and writes it as an mriotrace HDF5 system
file, by default datasets/china_national/china_2018_153.h5 beside this script.
That file is embedded into the library at build time (datasets/CMakeLists.txt)
and is what `mriotrace demo` and mriotrace.datasets.china_demo() load.

DIR is the folder holding china/nbs and china/ceads (default: $MRIOTRACE_DATA,
else ../shared/data beside the checkout). Sources, licences and citations:
PROVENANCE.md. Rerunning reproduces the shipped arrays and labels exactly
(tests/python/test_demo_real.py checks it); the HDF5 bytes differ only in
object timestamps.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import mriotrace

HERE = Path(__file__).resolve().parent
YEAR, SECTORS = 2018, 153
OUTPUT = HERE / f"china_{YEAR}_{SECTORS}.h5"
#: the system's name and the demo's banner say where the numbers come from
NAME = f"China {YEAR}, national, NBS {SECTORS} sectors, CEADs Scope-1 CO2 (REAL data)"


def default_data_dir() -> Path:
    """$MRIOTRACE_DATA, else ../shared/data beside this checkout (as the tests look for it)."""
    env = os.environ.get("MRIOTRACE_DATA")
    return Path(env) if env else HERE.parents[2] / "shared" / "data"


def derive(data_dir=None) -> mriotrace.MRIOSystem:
    """The demo system: china_national(2018, 153) with its CO2 as one plain stressor "CO2" (Mt CO2).

    Only the total CO2 row is kept (no per-fuel rows), under the plain name
    "CO2" in the default extension, so the C++ CLI and scenario files name it
    as they name the synthetic system's CO2. A (not Z) and S (not F) are
    passed on, so no coefficient is recomputed: the shipped numbers are
    china_national's bit for bit.
    """
    national = mriotrace.datasets.china_national(YEAR, sectors=SECTORS, data_dir=data_dir or default_data_dir())
    co2 = national.extension("co2")
    return mriotrace.MRIOSystem.from_arrays(
        list(national.regions), list(national.sectors), list(national.Y_categories),
        A=national.A_sparse, x=national.x.to_numpy().ravel(), Y=national.Y.to_numpy(),
        v=None if national.v is None else national.v.to_numpy().ravel(),
        extensions={"stressors": dict(S=co2.S.to_numpy(), F_Y=co2.F_Y.to_numpy(), stressors=["CO2"],
                                      unit="Mt CO2", name="CO2 emissions (CEADs Scope 1)")},
        monetary_unit=national.monetary_unit, name=NAME)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="folder holding china/nbs and china/ceads (default: $MRIOTRACE_DATA or ../shared/data)")
    p.add_argument("-o", "--output", default=str(OUTPUT), help=f"output .h5 file (default: {OUTPUT.name} beside this script)")
    args = p.parse_args(argv)
    system = derive(args.data)
    mriotrace.save(system, args.output)
    size = Path(args.output).stat().st_size
    F = system.extension("stressors")
    total = float(F.F.to_numpy().sum() + F.F_Y.to_numpy().sum())
    print(f"wrote {args.output}: {len(system.sectors)} sectors, {size / 1024:.0f} KiB, CO2 {total:,.2f} Mt "
          f"(industry + households)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
