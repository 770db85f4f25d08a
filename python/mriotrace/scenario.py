"""Scenarios: validated edits of A, Y and S, solved against a base and reported.

The builder mirrors the TOML files (``datasets/scenarios/*.toml``,
docs/scenarios.md) one to one::

    import mriotrace
    china = mriotrace.datasets.china_synthetic()        # real names, SYNTHETIC numbers
    sc = (mriotrace.Scenario("jilin-metals", "30 % of Jilin's metal smelting to Qinghai")
          .relocate("14 Smelting and processing of metals", "Jilin", "Qinghai", share=0.3)
          .target("CO2/VA", -0.18, region="Jilin"))
    res = mriotrace.run_scenarios(china, [sc])[0]
    res.summary            # global dPBA, dCBA and leakage per stressor
    res.dpba               # stressors x regions
    res.targets            # met / not met, gap
    res.waterfall("CO2")   # matplotlib waterfall of the change by region

The C++ engine checks every operation before applying any and names the
scenario, the operation and the parameter in its errors (ValueError). It
solves a scenario that changes few rows and columns of A as a low-rank
(Sherman-Morrison-Woodbury) update of the base solve, reusing the base
factorisation; ``result.path`` says which path was used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _core
from .system import MRIOSystem

__all__ = ["Scenario", "ScenarioFile", "ScenarioResult", "read_scenarios", "parse_scenarios", "run_scenarios",
           "apply_scenario", "operation_parameters", "baseline_rates", "OPERATION_KINDS"]

OPERATION_KINDS = tuple(_core.operation_kinds())


def operation_parameters(kind: str) -> pd.DataFrame:
    """The parameters of an operation kind: name, type, unit, required, help."""
    return pd.DataFrame(_core.operation_parameters(kind)).set_index("name")


def _params(params: dict) -> dict:
    # Python keywords cannot be parameter names: from_ -> from.
    return {(k[:-1] if k.endswith("_") else k): v for k, v in params.items() if v is not None}


def baseline_rates(table0: MRIOSystem, year0: int, table1: MRIOSystem, year1: int, stressor: str,
                   region: str) -> dict:
    """A baseline path from two tables' years: annual rates per sector of `region`,
    ``va_growth`` = (VA1/VA0)^(1/T) - 1 and ``intensity_trend`` = (e1/e0)^(1/T) - 1 with
    e = stressor per unit of VA and T = year1 - year0. Returns the keyword arguments of
    Scenario.target (base_year = year1: the path continues from the later table), to use with
    table1 as the base; sectors without VA or stressor in either table get no rate (0).
    Both tables need the same labels."""
    if year1 <= year0:
        raise ValueError(f"year1 = {year1} must be after year0 = {year0}")
    c0, c1 = table0.core, table1.core
    l0, l1 = c0.labels, c1.labels
    if list(l0.regions) != list(l1.regions) or list(l0.sectors) != list(l1.sectors):
        raise ValueError("the two tables have different regions or sectors; expected the same labels")
    if stressor not in list(l0.stressors):
        raise ValueError(f"unknown stressor {stressor!r}; known: {list(l0.stressors)}")
    if region not in list(l0.regions):
        raise ValueError(f"unknown region {region!r}; known: {list(l0.regions)}")
    k, r, N = list(l0.stressors).index(stressor), list(l0.regions).index(region), len(l0.sectors)
    T = year1 - year0
    cells = slice(r * N, (r + 1) * N)
    v0, v1 = np.asarray(c0.v)[cells], np.asarray(c1.v)[cells]
    E0 = (np.asarray(c0.S)[k] * np.asarray(c0.x))[cells]
    E1 = (np.asarray(c1.S)[k] * np.asarray(c1.x))[cells]
    growth, trend = {}, {}
    for i, name in enumerate(l0.sectors):
        if v0[i] > 0 and v1[i] > 0:
            growth[name] = (v1[i] / v0[i]) ** (1 / T) - 1
            if E0[i] > 0 and E1[i] > 0:
                trend[name] = (E1[i] / v1[i] / (E0[i] / v0[i])) ** (1 / T) - 1
    return {"va_growth": growth, "intensity_trend": trend, "base_year": year1}


class Scenario:
    """A named list of operations (applied in order) and intensity targets.

    Every method returns the scenario itself, so calls chain. Parameter names,
    units and checks are those of the TOML files (``operation_parameters(kind)``).
    """

    def __init__(self, name: str, description: str = "", *, operations=None, targets=None, portfolio: bool = False):
        self.name = name
        self.description = description
        # A portfolio also runs every measure (operation) alone: ScenarioResult.measures.
        self.portfolio = portfolio
        self.operations: list[dict] = [dict(o) for o in (operations or [])]
        self.targets: list[dict] = [dict(t) for t in (targets or [])]

    def __repr__(self) -> str:
        kinds = ", ".join(o["kind"] for o in self.operations) or "no operations"
        return f"Scenario({self.name!r}: {kinds}; {len(self.targets)} target(s))"

    def op(self, kind: str, **params) -> "Scenario":
        """Append any operation by kind (see OPERATION_KINDS)."""
        self.operations.append({"kind": kind, **_params(params)})
        return self

    def relocate(self, product: str, from_: str, to: str, share: float | None = None, **params) -> "Scenario":
        """Move share theta of `product`'s supply from region `from_` to `to` (or quantity= and price=);
        technology="new" with new_column / new_intensity, electricity= and marginal_intensity= optional."""
        return self.op("relocate", product=product, from_=from_, to=to, share=share, **params)

    def couple_byproduct(self, **params) -> "Scenario":
        """Steel-chemical coupling: region, supplier, receiver, displaced_fuel, gas_quantity, gas_price,
        displaced_price, ... (docs/scenarios.md)."""
        return self.op("couple_byproduct", **params)

    def integrate(self, **params) -> "Scenario":
        """Refining-chemical integration: region, chemical, refining, feedstock_shift, efficiency, utilities;
        emission_reduction, stressors optional. split="<new sector>" (and split_share=s, default 1) splits the
        integrated complex off as a new sector, appended in every region; it must be the last operation."""
        return self.op("integrate", **params)

    def green_power(self, **params) -> "Scenario":
        """Green-power park: region, sectors, share, electricity, supplier_region, additional, intensity."""
        return self.op("green_power", **params)

    def electrify(self, **params) -> "Scenario":
        """Electrification: region, sector, share, coal, electricity, eta_coal, eta_el, prices, coal_ef."""
        return self.op("electrify", **params)

    def scale(self, matrix: str, factor: float, **selection) -> "Scenario":
        """Multiply cells of "A", "S" or "Y" selected by row_regions, row_sectors, col_regions, col_sectors,
        stressors, fd_regions, fd_categories (lists of labels; absent = all)."""
        return self.op("scale", matrix=matrix, factor=factor, **selection)

    def set(self, matrix: str, value: float, **selection) -> "Scenario":
        """Set selected cells of "A", "S" or "Y" to `value` (conflicts with any other edit of them)."""
        return self.op("set", matrix=matrix, value=value, **selection)

    def target(self, indicator: str, change: float, region: str | None = None, *, basis: str | None = None,
               base_year: int | None = None, target_year: int | None = None, baseline_change: float | None = None,
               va_growth=None, intensity_trend=None) -> "Scenario":
        """Intensity target, e.g. ("CO2/VA", -0.20, region="Zhejiang"). region None = all regions together.

        basis: "industrial value added" (default), "GDP" (all sectors) or a sector name. Baseline path
        (optional, docs/scenarios.md): base_year and target_year with baseline_change (the intensity
        change without the scenario), or annual rates va_growth / intensity_trend (a number for every
        sector, or {sector or region or "*": rate}). Met when baseline + the scenario's contribution
        <= change."""
        t = {"indicator": indicator, "region": region or "", "change": float(change), "basis": basis,
             "base_year": base_year, "target_year": target_year, "baseline_change": baseline_change,
             "va_growth": va_growth, "intensity_trend": intensity_trend}
        self.targets.append({k: v for k, v in t.items() if v is not None})
        return self

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "operations": list(self.operations),
                "targets": list(self.targets), "portfolio": self.portfolio}

    @classmethod
    def from_dict(cls, d: dict) -> "Scenario":
        return cls(d["name"], d.get("description", ""), operations=d.get("operations"), targets=d.get("targets"),
                   portfolio=bool(d.get("portfolio", False)))


@dataclass
class ScenarioFile:
    """A parsed scenario file: base reference, industrial sectors, file-wide targets, scenarios.

    The file-wide targets are already part of every scenario's targets."""

    base_system: str = ""
    industry: list = field(default_factory=list)
    targets: list = field(default_factory=list)
    scenarios: list = field(default_factory=list)
    monetary_unit: str = ""      # declared in [base]: the unit of the file's prices
    stressor_units: dict = field(default_factory=dict)  # declared in [base]: the emission factors' units

    def load_base(self) -> MRIOSystem:
        """The base system the file names: "demo" (:func:`datasets.china_demo`, REAL national data),
        "synthetic" (:func:`datasets.china_synthetic`, SYNTHETIC numbers) or an .h5 file."""
        from . import datasets, io
        if not self.base_system:
            raise ValueError("the scenario file names no base system ([base] system = \"demo\", \"synthetic\" "
                             "or a path)")
        named = {"demo": datasets.china_demo, "synthetic": datasets.china_synthetic}
        return named[self.base_system]() if self.base_system in named else io.load(self.base_system)

    def run(self, system: MRIOSystem | None = None, **options) -> list["ScenarioResult"]:
        """Run every scenario against `system` (default: the file's base)."""
        options.setdefault("industry", self.industry or None)
        system = system if system is not None else self.load_base()
        _core.check_declared_units(system.core, self.monetary_unit, self.stressor_units, "[base]")
        return run_scenarios(system, self.scenarios, **options)


def _file(d: dict) -> ScenarioFile:
    return ScenarioFile(d["base_system"], list(d["industry"]), list(d["targets"]),
                        [Scenario.from_dict(s) for s in d["scenarios"]], d["monetary_unit"], dict(d["stressor_units"]))


def read_scenarios(path: str | os.PathLike) -> ScenarioFile:
    """Read a TOML scenario file (the same parser as ``mriotrace scenario run``)."""
    return _file(_core.read_scenarios(os.fspath(path)))


def parse_scenarios(text: str, source: str = "<string>") -> ScenarioFile:
    """Parse TOML scenario text."""
    return _file(_core.parse_scenarios(text, source))


def _as_dicts(scenarios) -> list[dict]:
    if isinstance(scenarios, (Scenario, dict)):
        scenarios = [scenarios]
    if isinstance(scenarios, ScenarioFile):
        scenarios = scenarios.scenarios
    return [s.to_dict() if isinstance(s, Scenario) else s for s in scenarios]


def apply_scenario(system: MRIOSystem, scenario, threads: int = 0) -> MRIOSystem:
    """The edited system of a scenario as a new MRIOSystem (validated, all-or-nothing)."""
    d = _as_dicts(scenario)[0]
    return MRIOSystem._from_core(_core.apply_scenario(system.core, d, threads), name=f"{system.name}: {d['name']}")


def run_scenarios(system: MRIOSystem, scenarios, *, method: str = "auto", max_rank: int = 0, industry=None,
                  threads: int = 0, solver: str = "auto") -> list["ScenarioResult"]:
    """Run scenarios (Scenario objects, dicts or a ScenarioFile) against `system`.

    method: "auto" (low-rank update when the edit's rank <= max_rank, 0 = min(256, n/2)),
    "lowrank" or "full" (refactorise). industry: industrial sector names for the
    intensity indicators (default: NBS codes 02-26, else all sectors). The base is
    factorised once; scenarios run in parallel on `threads` (0 = environment).
    """
    fac = system.solver(solver=solver, threads=threads)
    industry = list(industry or [])
    base = _core.scenario_base(system.core, fac, industry)
    dicts = _as_dicts(scenarios)
    raw = _core.run_scenarios(system.core, fac, base, dicts, method=method, max_rank=max_rank, industry=industry,
                              threads=threads)
    return [ScenarioResult(system, base, d, r) for d, r in zip(dicts, raw)]


class ScenarioResult:
    """The report of one scenario against its base, as labelled DataFrames.

    Attributes: name, description, path ("lowrank" / "full"), rank, notes, seconds; sectors (the
    scenario's: the base's plus any split off by integrate) and new_sectors (those split off).
    Units: stressors in their own units (``unit``), money in the system's monetary unit.
    """

    def __init__(self, system: MRIOSystem, base, scenario: dict, raw: dict):
        self._system = system
        self._base = base
        self._raw = raw
        self.name = raw["name"]
        self.description = scenario.get("description", "")
        self.path = raw["path"]
        self.rank = raw["rank"]
        self.changed_coefficients = raw["changed_coefficients"]
        self.notes = list(raw["notes"])
        self.seconds = raw["seconds"]
        labels = system.core.labels
        self._stressors = pd.Index(labels.stressors, name="stressor")
        self._units = list(labels.stressor_units) or [""] * len(labels.stressors)
        self._regions = pd.Index(labels.regions, name="region")
        # The scenario's sectors: the base's, then any split off by integrate (split=...).
        self.sectors = pd.Index(list(raw["sectors"]), name="sector")
        self.new_sectors = list(raw["sectors"])[len(labels.sectors):]
        self._index = pd.MultiIndex.from_product([self._regions, self.sectors], names=["region", "sector"])

    def __repr__(self) -> str:
        return self.report()

    def report(self) -> str:
        """The readable report: the same text ``mriotrace scenario run`` prints for this scenario
        (one C++ formatter for both)."""
        return self._raw["report"]

    def _repr_html_(self) -> str:
        import html
        parts = [f"<h4>Scenario {html.escape(self.name)}</h4>",
                 f"<pre>{html.escape(self.report().rstrip())}</pre>",
                 "<b>Summary</b>", self.summary.to_html(float_format=lambda v: f"{v:.4g}")]
        if len(self.targets):
            parts += ["<b>Targets</b>", self.targets.to_html(index=False, float_format=lambda v: f"{v:.4g}")]
        return "\n".join(parts)

    def to_frame(self, what: str = "regions") -> pd.DataFrame:
        """Tidy tables (one value per row, with its unit).

        what: "regions" (scenario, metric, stressor, unit, region, value for pba/cba, their base and
        changes, region "all" = the sum), "targets" (one row per target and quantity) or "sectors"
        (x, dx, va and dF per region and sector)."""
        rows = []
        if what == "regions":
            regions = list(self._regions)
            for metric, data in (("pba_base", self._base.pba), ("pba", self._raw["pba"]), ("dpba", self._raw["dpba"]),
                                 ("cba_base", self._base.cba), ("cba", self._raw["cba"]), ("dcba", self._raw["dcba"])):
                a = np.asarray(data)
                for i, stressor in enumerate(self._stressors):
                    for r, region in enumerate(regions):
                        rows.append((self.name, metric, stressor, self._units[i], region, a[i, r]))
                    rows.append((self.name, metric, stressor, self._units[i], "all", a[i].sum()))
            return pd.DataFrame(rows, columns=["scenario", "metric", "stressor", "unit", "region", "value"])
        if what == "targets":
            units = {"required": "relative change", "base": "indicator", "scenario": "indicator",
                     "actual_change": "relative change", "baseline": "relative change",
                     "contribution": "relative change", "total": "relative change",
                     "share": "fraction of the target", "total_share": "fraction of the target", "gap": None}
            for _, t in self.targets.iterrows():
                for q, unit in units.items():
                    rows.append((self.name, t["indicator"], t["region"], t["basis"], q,
                                 t["gap_unit"] if unit is None else
                                 (t["intensity_unit"] if unit == "indicator" else unit), t[q]))
            return pd.DataFrame(rows, columns=["scenario", "indicator", "region", "basis", "quantity", "unit", "value"])
        if what == "sectors":
            money = self._system.monetary_unit
            frames = [pd.DataFrame({"metric": "x", "unit": money, "value": self.x.values}, index=self._index),
                      pd.DataFrame({"metric": "dx", "unit": money, "value": self.dx.values}, index=self._index)]
            if self.va is not None:
                frames.append(pd.DataFrame({"metric": "va", "unit": money, "value": self.va.values}, index=self._index))
            dF = self.dF
            for i, stressor in enumerate(self._stressors):
                frames.append(pd.DataFrame({"metric": f"dF {stressor}", "unit": self._units[i],
                                            "value": dF.loc[stressor].values}, index=self._index))
            out = pd.concat(frames).reset_index()
            out.insert(0, "scenario", self.name)
            return out
        raise ValueError(f'what = {what!r}; expected "regions", "targets" or "sectors"')

    def to_xarray(self, what: str = "regions"):
        """:meth:`to_frame` as an xarray.Dataset, one variable per metric (mriotrace.export)."""
        from . import export
        return export.frame_xarray(self.to_frame(what), **export.SCENARIO_XARRAY[what])

    def to_parquet(self, path, what: str = "regions") -> None:
        """:meth:`to_frame` as a Parquet file (pyarrow)."""
        from . import export
        export.write_parquet(self.to_frame(what), path)

    def to_csv(self, path, what: str = "regions") -> None:
        """:meth:`to_frame` as CSV (read back exactly with ``mriotrace.export.read_csv``)."""
        from . import export
        export.write_csv(self.to_frame(what), path)

    def _padded(self, base) -> np.ndarray:
        """A base vector per (region, sector) in the scenario's shape: split-off sectors are 0."""
        b = np.asarray(base).reshape(len(self._regions), -1)
        out = np.zeros((len(self._regions), len(self.sectors)))
        out[:, :b.shape[1]] = b
        return out.reshape(-1)

    def _reg(self, key, base=None) -> pd.DataFrame:
        data = np.asarray(self._raw[key] if base is None else base)
        return pd.DataFrame(data, index=self._stressors, columns=self._regions)

    # ----- accounts (stressors x regions, pymrio's D_*_reg layout)
    @property
    def pba(self) -> pd.DataFrame:
        """Scenario D_pba_reg (stressors x regions)."""
        return self._reg("pba")

    @property
    def cba(self) -> pd.DataFrame:
        """Scenario D_cba_reg (stressors x regions)."""
        return self._reg("cba")

    @property
    def pba_base(self) -> pd.DataFrame:
        return self._reg(None, self._base.pba)

    @property
    def cba_base(self) -> pd.DataFrame:
        return self._reg(None, self._base.cba)

    @property
    def dpba(self) -> pd.DataFrame:
        """Change of production-based accounts (stressors x regions)."""
        return self._reg("dpba")

    @property
    def dcba(self) -> pd.DataFrame:
        """Change of consumption-based accounts (stressors x regions)."""
        return self._reg("dcba")

    @property
    def leakage(self) -> pd.Series:
        """Leakage ratio per stressor: dPBA outside the relocations' origins / (-dPBA of the origins)."""
        return pd.Series(np.asarray(self._raw["leakage"]), index=self._stressors, name="leakage")

    @property
    def summary(self) -> pd.DataFrame:
        """Per stressor: unit, base and scenario global PBA, dPBA, dCBA, relative change, leakage."""
        base = np.asarray(self._base.pba).sum(axis=1)
        dp = np.asarray(self._raw["dpba"]).sum(axis=1)
        return pd.DataFrame({"unit": self._units, "pba_base": base, "pba": base + dp, "dpba": dp,
                             "dcba": np.asarray(self._raw["dcba"]).sum(axis=1),
                             "relative": np.divide(dp, base, out=np.zeros_like(dp), where=base != 0),
                             "leakage": np.asarray(self._raw["leakage"])}, index=self._stressors)

    @property
    def dQ(self) -> pd.DataFrame:
        """Change of bilateral flows: (stressor, region_from) x region_to (emitted in region_from for
        final demand of region_to), the layout of MRIOSystem extensions' Q."""
        k, R = len(self._stressors), len(self._regions)
        q = np.asarray(self._raw["dQ"]).reshape(k, R, R, order="F")  # column p*R + r -> [s, r, p]
        data = q.transpose(0, 2, 1).reshape(k * R, R)
        index = pd.MultiIndex.from_product([self._stressors, self._regions], names=["stressor", "region_from"])
        return pd.DataFrame(data, index=index, columns=pd.Index(self._regions, name="region_to"))

    @property
    def dF(self) -> pd.DataFrame:
        """Change of direct emissions (stressors x (region, sector)): S' x' - S x (the scenario's sectors,
        a split-off one with 0 in the base)."""
        return pd.DataFrame(np.asarray(self._raw["dF"]), index=self._stressors, columns=self._index)

    @property
    def x(self) -> pd.Series:
        """Scenario gross output per (region, sector) (the scenario's sectors)."""
        return pd.Series(np.asarray(self._raw["x"]), index=self._index, name="indout")

    @property
    def dx(self) -> pd.Series:
        """Change of gross output per (region, sector); a split-off sector counts 0 in the base."""
        return pd.Series(np.asarray(self._raw["x"]) - self._padded(self._base.x), index=self._index, name="dx")

    @property
    def va(self) -> pd.Series | None:
        """Scenario value added per (region, sector); None without value added."""
        if self._raw["va"] is None:
            return None
        return pd.Series(np.asarray(self._raw["va"]), index=self._index, name="va")

    @property
    def dva(self) -> pd.Series | None:
        """Change of value added per region (monetary unit); None without value added."""
        if self._raw["va"] is None:
            return None
        d = np.asarray(self._raw["va"]) - self._padded(self._base.va)
        return pd.Series(d.reshape(len(self._regions), -1).sum(axis=1), index=self._regions, name="dva")

    # ----- intensity indicators, LMDI and targets
    @property
    def intensity(self) -> pd.DataFrame | None:
        """Per (indicator, region) incl. region "all": base and scenario stressor per unit of industrial
        value added, relative change and its LMDI-I split (structure + intensity = change, in
        indicator units)."""
        if self._raw["intensity"] is None:
            return None
        b = np.asarray(self._base.intensity)
        s = np.asarray(self._raw["intensity"])
        st = np.asarray(self._raw["lmdi_structure"])
        it = np.asarray(self._raw["lmdi_intensity"])
        regions = list(self._regions) + ["all"]
        rows = []
        for i, name in enumerate(self._stressors):
            for r, region in enumerate(regions):
                rows.append((f"{name}/VA", region, f"{self._units[i]} per {self._system.monetary_unit}",
                             b[i, r], s[i, r], s[i, r] / b[i, r] - 1 if b[i, r] else np.nan, st[i, r], it[i, r]))
        df = pd.DataFrame(rows, columns=["indicator", "region", "unit", "base", "scenario", "change",
                                         "lmdi_structure", "lmdi_intensity"])
        return df.set_index(["indicator", "region"])

    @property
    def targets(self) -> pd.DataFrame:
        """One row per target: basis, years, required change; base and scenario intensity (base year,
        ``intensity_unit``), the static change and its LMDI-I split (relative to the base intensity,
        as the report prints it); baseline change, the scenario's contribution, total (= baseline +
        contribution), share of the target the scenario delivers and all together, met, gap (stressor
        unit, target year: emissions above what the target allows; negative = room to spare)."""
        money = self._system.monetary_unit
        rows = [{"indicator": t["indicator"], "region": t["region"] or "all", "basis": t["basis_used"],
                 "base_year": t.get("base_year"), "target_year": t.get("target_year"), "required": t["change"],
                 "base": t["base"], "scenario": t["scenario"],
                 "intensity_unit": f"{self._units[t['stressor']]} per {money}",
                 "actual_change": t["actual_change"], "lmdi_structure": t["lmdi_structure"] / t["base"],
                 "lmdi_intensity": t["lmdi_intensity"] / t["base"], "baseline": t["baseline"],
                 "contribution": t["contribution"], "total": t["total"], "share": t["share"],
                 "total_share": t["total_share"], "met": t["met"], "gap": t["gap"],
                 "gap_unit": self._units[t["stressor"]]}
                for t in self._raw["targets"]]
        return pd.DataFrame(rows, columns=["indicator", "region", "basis", "base_year", "target_year", "required",
                                           "base", "scenario", "intensity_unit", "actual_change", "lmdi_structure",
                                           "lmdi_intensity", "baseline", "contribution", "total", "share",
                                           "total_share", "met", "gap", "gap_unit"])

    @property
    def measures(self) -> pd.DataFrame | None:
        """Portfolios (Scenario(..., portfolio=True)): one row per measure run alone, then "interaction"
        (all together minus their sum); columns: global dPBA per stressor and the contribution to each
        target (relative change). None for other scenarios."""
        if not self._raw["measures"]:
            return None
        rows = {}
        for m in self._raw["measures"]:
            row = {f"dpba {s} [{u}]": v for s, u, v in zip(self._stressors, self._units, np.asarray(m["dpba"]))}
            for t, c in zip(self._raw["targets"], m["target_contribution"]):
                row[f"{t['indicator']} {t['region'] or 'all'}"] = c
            rows[m["label"]] = row
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("measure")

    # ----- plot
    def waterfall(self, stressor: str | None = None, by: str = "region", top: int = 10, ax=None):
        """Waterfall of the change of production-based emissions from base to scenario:
        :func:`mriotrace.plot.waterfall` (by "region", "sector" or "region_sector"; the `top` largest
        changes, the rest as "other", then the net change). Returns the matplotlib Axes."""
        from . import plot

        return plot.waterfall(self, stressor, by=by, top=top, ax=ax)
