"""``mriotrace import ...``: real data to mriotrace HDF5 files (run by the C++ CLI, or ``python -m``).

    python -m mriotrace.importers china-national --year 2018 --sectors 153 --data DIR -o china2018.h5
    python -m mriotrace.importers ceads-mrio MRIO_2017.xlsx [--inventory provinces_2017.xlsx] -o mrio.h5

Exit codes as the CLI's: 0 success, 1 a failure (bad file, ...), 2 a wrong
command line; errors are one line, "mriotrace: error: <message>".
"""

from __future__ import annotations

import argparse
import sys
import warnings

from ._util import cli_parser


_Parser = cli_parser("import")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mriotrace import", description="Read published data into an mriotrace HDF5 file")
    sub = p.add_subparsers(dest="what", required=True, parser_class=_Parser)
    c = sub.add_parser("china-national", help="NBS national table + CEADs national CO2 inventory (real data)")
    c.add_argument("--year", type=int, required=True, help="table year (42 sectors: 2017, 2020; 153: 2018, 2020)")
    c.add_argument("--sectors", type=int, choices=(42, 153), default=153)
    c.add_argument("--data", default=None, help="folder holding china/nbs and china/ceads (default $MRIOTRACE_DATA)")
    c.add_argument("--fuels", action="store_true", help="also one CO2 row per fuel / process (co2_by_source)")
    c.add_argument("--imports", choices=("auto", "domestic", "proportional"), default="auto")
    c.add_argument("-o", "--output", required=True, help="output HDF5 file (.h5)")
    c.add_argument("--report", type=int, default=0, metavar="N",
                   help="print a Markdown summary: CO2 totals, embodied in exports, top N sectors by consumption")
    m = sub.add_parser("ceads-mrio", help="a CEADs China multi-regional IO workbook (31 provinces x 42 sectors)")
    m.add_argument("path", help="the MRIO workbook (.xlsx)")
    m.add_argument("--sheet", default=None, help="sheet to read (default: the first 'Table...' sheet)")
    m.add_argument("--inventory", default=None,
                   help="CEADs provinces_YYYY.xlsx to attach when the table has no CO2 row")
    m.add_argument("-o", "--output", required=True, help="output HDF5 file (.h5)")
    return p


def main(argv=None) -> int:
    """Run one import; returns the exit code."""
    args = _parser().parse_args(argv)
    from . import _core, datasets, readers

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if args.what == "china-national":
                system = datasets.china_national(args.year, sectors=args.sectors, data_dir=args.data,
                                                 fuels=args.fuels, imports=args.imports)
            else:
                table = readers.read_ceads_mrio(args.path, sheet=args.sheet)
                inv = readers.read_ceads_inventory(args.inventory) if args.inventory else None
                if table.co2 is None and inv is None:
                    warnings.warn("the table has no CO2 row and no --inventory was given: no emissions")
                system = table.to_system(inv)
            system.save(args.output)
        for w in caught:
            if issubclass(w.category, (ResourceWarning, DeprecationWarning)):
                continue
            sys.stderr.write(f"mriotrace: warning: {w.message}\n")
    except (_core.InputError, _core.FileError, _core.NumericError, ValueError, OSError) as exc:
        sys.stderr.write(f"mriotrace: error: {' '.join(str(exc).split())}\n")
        return 1
    co2 = sum(float(e.F.to_numpy().sum() + (0 if e.F_Y is None else e.F_Y.to_numpy().sum()))
              for e in system.get_extensions(data=True) if e.instance_name == "co2")
    print(f"{system.name}: {len(system.get_regions())} region(s) x {len(system.get_sectors())} sectors, "
          f"CO2 {co2:.6g} Mt -> {args.output}")
    if getattr(args, "report", 0):
        print(report(system, args.report))
    return 0


def report(system, top: int = 10) -> str:
    """Markdown summary of a national system's "co2" extension (Mt CO2).

    Production: industry F + households F_Y. Embodied in exports: M y_exports
    (its share of industry CO2). Consumption-based by product: M diag(y)
    with y the domestic final demand (every category but "Exports"); the
    consumption-based total adds the households' direct emissions.
    """
    import numpy as np

    system.calc_all()
    co2 = system.co2
    M = co2.M.to_numpy()[0]
    Y = system.Y
    cats = Y.columns.get_level_values(-1)
    y_ex = Y.loc[:, cats == "Exports"].to_numpy().sum(axis=1)
    y_dom = Y.loc[:, cats != "Exports"].to_numpy().sum(axis=1)
    F = co2.F.to_numpy().sum()
    FY = co2.F_Y.to_numpy().sum() if co2.F_Y is not None else 0.0
    ex = float(M @ y_ex)
    cba = M * y_dom
    order = np.argsort(-cba)[:top]
    sectors = system.get_index().get_level_values(-1)
    out = [f"**{system.name}**", "",
           "| quantity | Mt CO2 |", "|---|---:|",
           f"| production (industry F + households F_Y) | {F + FY:,.1f} |",
           f"| of which households (direct) | {FY:,.1f} |",
           f"| embodied in exports (M y_exports) | {ex:,.1f} ({100 * ex / F:.1f} % of industry CO2) |",
           f"| consumption-based (M y_domestic + households) | {cba.sum() + FY:,.1f} |", "",
           f"| rank | sector (consumption-based, domestic final demand) | Mt CO2 | share |", "|---:|---|---:|---:|"]
    for rank, i in enumerate(order, 1):
        out.append(f"| {rank} | {sectors[i]} | {cba[i]:,.1f} | {100 * cba[i] / (cba.sum() + FY):.1f} % |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
