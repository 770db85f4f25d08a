"""Systems: synthetic ones (the generator, the firm network, china_synthetic) and real China
(china_demo, shipped; china_national, from the NBS and CEADs files); :func:`fetch` downloads the
published global databases into the user cache (:mod:`mriotrace.downloads`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import _core
from .downloads import fetch, registry  # noqa: F401  (mriotrace.datasets.fetch)
from .system import MRIOSystem


def generate(regions: int = 3, sectors: int = 4, fd_categories: int = 2, stressors: int = 2, *,
             domestic_density: float = 0.6, trade_density: float = 0.1, domestic_share: float = 0.45,
             trade_share: float = 0.12, value_added: bool = True, final_demand_stressors: bool = True,
             seed: int = 42, threads: int = 0) -> MRIOSystem:
    """A realistic random MRIO system, the same numbers for the same seed and options on every platform.

    Dense-ish domestic blocks (density `domestic_density`, mean column sum
    `domestic_share`), sparser trade blocks (`trade_density`, `trade_share` over
    all trade blocks together), lognormal outputs, `stressors` stressors (one
    extension "stressors": stressor0, ...), household emissions of stressor0 as
    F_Y when `final_demand_stressors`, value added v when `value_added`.
    Labels R0.., S0.., FD0..; the monetary unit says the numbers are synthetic.
    `threads` (0 = environment) only changes the speed, never the numbers.
    """
    core = _core.generate(regions=regions, sectors=sectors, fd_categories=fd_categories, stressors=stressors,
                          domestic_density=domestic_density, trade_density=trade_density,
                          domestic_share=domestic_share, trade_share=trade_share, value_added=value_added,
                          final_demand_stressors=final_demand_stressors, seed=seed, threads=threads)
    return MRIOSystem._from_core(core, name=f"synthetic {regions}x{sectors} (seed {seed})")


def china_synthetic(seed: int = 2017) -> MRIOSystem:
    """China's 31 provinces x 42 sectors (NBS 2017 sector names): real names, SYNTHETIC numbers.

    For multi-regional examples (relocation between provinces, interprovincial
    flows) and tests of the workflow, never for conclusions about China: every
    number is generated. Stressors "CO2" (Mt CO2) and "Energy" (Mtce);
    final-demand categories household consumption, government consumption,
    gross capital formation; monetary unit "10^4 CNY (synthetic)". The real
    national system is :func:`china_demo` (shipped) or :func:`china_national`.
    """
    return MRIOSystem._from_core(_core.china_synthetic(seed),
                                 name="China 31 provinces x 42 sectors (SYNTHETIC numbers)")


def china_default(seed: int = 2017) -> MRIOSystem:
    """Deprecated name of :func:`china_synthetic` (the synthetic system is no longer the default demo)."""
    import warnings

    warnings.warn("mriotrace.datasets.china_default() is deprecated: use china_synthetic() (the same synthetic "
                  "system) or china_demo() (real data)", DeprecationWarning, stacklevel=2)
    return china_synthetic(seed)


def china_demo() -> MRIOSystem:
    """The demo system, REAL data, shipped with mriotrace: China 2018, national, 153 NBS sectors.

    The NBS 2018 input-output table (153 sectors, 10^4 CNY, imports removed
    proportionally) with the CEADs 2018 Scope-1 CO2 inventory: one region
    "China", one stressor "CO2" (Mt CO2), household (urban, rural) emissions in
    F_Y, value added v. It is ``china_national(2018, sectors=153)`` with only
    the total CO2 row, derived by ``datasets/china_national/build.py`` and
    embedded in the library: no data folder is needed. Sources, licences and
    citations: ``datasets/china_national/PROVENANCE.md``.
    """
    return MRIOSystem._from_core(_core.china_demo(),
                                 name="China 2018, national, NBS 153 sectors, CEADs Scope-1 CO2 (REAL data)")


def firm_network(firms: int = 250_000, links: int = 1_100_000, regions: int = 10, *, exponent: float = 2.5,
                 domestic_link_share: float = 0.7, fd_categories: int = 1, stressors: int = 3, seed: int = 42,
                 threads: int = 0) -> MRIOSystem:
    """A synthetic firm-level supply network with power-law degrees (SYNTHETIC numbers).

    ``firms`` nodes (a multiple of ``regions``) and about ``links`` supplier ->
    buyer links, each a nonzero of A (no self-links). Each firm's number of
    suppliers follows a power law with density exponent ``exponent``;
    suppliers are drawn by a weight growing with firm size, so a few hubs sell
    to thousands of firms. ``domestic_link_share`` of a firm's suppliers are in
    its own region. Column sums of A lie in [0.2, 0.7] (I - A is productive).
    Labels: regions R0.., firms F0.. (the firm's number within its region:
    the "sector" level holds firms, not sectors shared across regions), one
    extension "stressors" with ``stressors`` rows in kt, F_Y for stressor0,
    value added v. The defaults give the benchmark's 250,000-firm workload
    (about 1.1 million links, built in about a second); its dense Leontief
    inverse would need 500 GB. ``threads`` never changes the numbers.
    """
    core = _core.firm_network(firms=firms, links=links, regions=regions, exponent=exponent,
                              domestic_link_share=domestic_link_share, fd_categories=fd_categories,
                              stressors=stressors, seed=seed, threads=threads)
    return MRIOSystem._from_core(core, name=f"firm network {firms} firms (seed {seed})")


# ------------------------------------------------------------ real Chinese data
#: NBS tables in <data_dir>/china/nbs: (year, sectors) -> file name
NBS_TABLES = {(2017, 42): "china_2017_42.csv", (2020, 42): "china_2020_42.csv",
              (2018, 153): "china_2018_153.csv", (2020, 153): "china_2020_153.csv"}
CEADS_NATIONAL = "national_1997-2019.xlsx"


def shared_data_dir(data_dir=None) -> Path:
    """`data_dir`, else $MRIOTRACE_DATA, else ../shared/data beside a source checkout.

    An installed package has no checkout beside it: then give data_dir or set
    MRIOTRACE_DATA (InputError saying so).
    """
    import os

    from ._core import InputError

    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get("MRIOTRACE_DATA"):
        return Path(os.environ["MRIOTRACE_DATA"])
    here = Path(__file__).resolve()
    if here.parents[1].name == "python" and (here.parents[2] / "CMakeLists.txt").is_file():
        return here.parents[3] / "shared" / "data"
    raise InputError("no data folder: pass data_dir= (the folder holding china/nbs and china/ceads) or set the "
                     "environment variable MRIOTRACE_DATA")


def china_national(year: int, sectors: int = 153, data_dir=None, *, fuels: bool = False, imports: str = "auto",
                   weights="output", nbs_path=None, ceads_path=None) -> MRIOSystem:
    """China's national EEIO system from the NBS table and the CEADs national inventory (REAL data).

    One region "China"; sectors: the NBS table's (42 or 153, English names);
    final-demand categories: the table's final-use columns (households, government,
    capital formation, inventories, exports; 42-sector tables have one
    "Final consumption"); monetary unit "10^4 CNY"; value added v (TVA).
    Extension "co2": stressor "CO2" in Mt CO2 (CEADs Scope 1: 17 fuels, other
    energy and process emissions; Scope-2 reallocations excluded), the 45
    CEADs sectors spread over the NBS sectors with the shipped concordance
    (ceads47_nbs42 / ceads47_nbs153) by gross output; household (Urban, Rural)
    emissions go to F_Y in the household (else final-consumption) categories.
    fuels=True adds an extension "co2_by_source" with one row per source.
    The inventory is that of `year`, else the nearest year CEADs has (stated
    in ``system.name``, ``system.metadata`` and a warning). imports: see
    :func:`mriotrace.readers.read_nbs`. weights: how a CEADs sector is split
    over its NBS sectors: "output" (gross output), "equal", or a Series over
    the NBS codes (a user vector, e.g. fuel-based shares for refining 041 vs
    coking 042). nbs_path / ceads_path override the files.
    """
    import warnings

    import numpy as np

    from ._core import InputError
    from .concordance import Concordance
    from .readers import ceads, read_ceads_inventory, read_nbs

    if sectors not in (42, 153):
        raise InputError(f"sectors={sectors!r}; expected 42 or 153")
    base = shared_data_dir(data_dir) if nbs_path is None or ceads_path is None else None
    if nbs_path is None:
        if (year, sectors) not in NBS_TABLES:
            have = sorted(k for k in NBS_TABLES if k[1] == sectors)
            raise InputError(f"no NBS {sectors}-sector table for {year}; available: {[y for y, _ in have]}")
        nbs_path = base / "china" / "nbs" / NBS_TABLES[(year, sectors)]
    if ceads_path is None:
        ceads_path = base / "china" / "ceads" / CEADS_NATIONAL
    table = read_nbs(nbs_path, imports=imports)
    years = sorted(int(s) for s in ceads.data_sheets(ceads_path) if s.strip().isdigit())
    if not years:
        raise InputError(f"{ceads_path}: no yearly inventory sheets")
    inv_year = min(years, key=lambda y: (abs(y - year), -y))
    note = "" if inv_year == year else f"; CEADs CO2 {inv_year}, the nearest year to {year}"
    if inv_year != year:
        warnings.warn(f"CEADs has no national inventory for {year}: using {inv_year}, the nearest year", stacklevel=2)
    inv = read_ceads_inventory(ceads_path, str(inv_year))

    conc = Concordance.shipped(f"ceads47_nbs{sectors}")
    W = conc.weights(weights, output=table.x, sources=inv.sectors, targets=table.x.index)
    cats = list(table.Y.columns)
    hh_cat = {h: (f"{h} household consumption" if f"{h} household consumption" in cats else
                  next(c for c in ("Household consumption", "Final consumption", cats[0]) if c in cats))
              for h in ceads.HOUSEHOLDS}
    H = np.zeros((len(cats), len(ceads.HOUSEHOLDS)))
    for j, h in enumerate(ceads.HOUSEHOLDS):
        H[cats.index(hh_cat[h]), j] = 1.0

    def extension(F47, FH, rows, name):
        return dict(F=F47.to_numpy() @ W.to_numpy(), F_Y=FH.to_numpy() @ H.T, stressors=rows, unit=inv.unit,
                    name=name)

    F, FY = inv.stressors(fuels=False)
    exts = {"co2": extension(F, FY, pd.Index(["CO2"], name="stressor"), "CO2 emissions (CEADs Scope 1)")}
    if fuels:
        Fs, FYs = inv.stressors(fuels=True)
        exts["co2_by_source"] = extension(Fs, FYs, pd.Index(list(Fs.index), name="source"),
                                          "CO2 emissions by fuel or process (CEADs Scope 1)")
    name = f"China {year} (NBS {sectors} sectors{note})"
    system = MRIOSystem.from_arrays(["China"], table.labels(), cats, Z=table.Z.to_numpy(), x=table.x.to_numpy(),
                                    Y=table.Y.to_numpy(), extensions=exts, v=table.v.to_numpy(),
                                    monetary_unit=table.monetary_unit, name=name)
    system.metadata = {
        "source": "REAL data: NBS input-output table + CEADs national CO2 inventory",
        "nbs_file": str(nbs_path), "ceads_file": str(ceads_path), "year": year, "co2_year": inv_year,
        "sector_codes": list(table.x.index), "imports_treatment": table.imports_treatment,
        "max_imbalance": table.max_imbalance, "ceads_scope1_total": inv.total, "concordance": conc.name,
        "concordance_weights": weights if isinstance(weights, str) else "user vector",
    }
    return system
