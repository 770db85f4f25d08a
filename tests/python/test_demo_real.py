"""The shipped real demo system (China 2018, national, NBS 153 sectors, CEADs CO2).

What is checked: the embedded system is the repository's file, and rerunning
datasets/china_national/build.py on ../shared/data reproduces it exactly; its
CO2 equals the CEADs 2018 Scope-1 national total; footprints close; `mriotrace
demo` prints its sections with the system's real totals; every real-data
scenario file (datasets/scenarios/national) runs on it with finite, sign-sensible
results; the provincial files run on any system of the CEADs MRIO layout.
"""

from __future__ import annotations

import importlib.util
import re
import warnings

import numpy as np
import pytest

import mriotrace
from conftest import REPO, data_dir, require_data

SHIPPED = REPO / "datasets" / "china_national" / "china_2018_153.h5"
BUILD = REPO / "datasets" / "china_national" / "build.py"
NATIONAL = REPO / "datasets" / "scenarios" / "national"
PROVINCIAL = REPO / "datasets" / "scenarios" / "provincial"

# CEADs 2018 national Scope-1 CO2 (industry + households), Mt CO2, as the shipped
# file holds it (equal to the inventory to 1e-9: test_co2_total_is_the_ceads_scope1_total).
CEADS_2018_TOTAL = 9_621.12  # rounded to 0.01 Mt; the exact check needs the data folder


@pytest.fixture(scope="module")
def demo():
    return mriotrace.datasets.china_demo()


def arrays(system: mriotrace.MRIOSystem) -> dict:
    """Everything a system file holds, as plain arrays and lists (for exact comparison)."""
    A = system.A_sparse
    ext = system.extension("stressors")
    return dict(regions=list(system.regions), sectors=list(system.sectors), categories=list(system.Y_categories),
                stressors=list(ext.rows), units=list(ext.unit.iloc[:, 0]), monetary_unit=system.monetary_unit,
                A_data=A.data, A_indices=A.indices, A_indptr=A.indptr, x=system.x.to_numpy().ravel(),
                Y=system.Y.to_numpy(), S=ext.S.to_numpy(), F_Y=ext.F_Y.to_numpy(), v=system.v.to_numpy())


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].shape == b[key].shape, key
            assert np.array_equal(a[key], b[key]), f"{key} differs (max |diff| {np.abs(a[key] - b[key]).max():.3e})"
        else:
            assert a[key] == b[key], key


def co2_total(system) -> float:
    ext = system.extension("stressors")
    return float(ext.F.to_numpy().sum() + ext.F_Y.to_numpy().sum())


# ---------------------------------------------------------------- the shipped data


def test_shipped_file_is_small_and_embedded_unchanged(demo):
    assert SHIPPED.stat().st_size <= 500 * 1024
    # The library's copy (compiled in) is the repository's file: a rebuilt file needs a rebuild.
    assert_same(arrays(demo), arrays(mriotrace.load(SHIPPED)))


def test_demo_system_shape_and_labels(demo):
    assert list(demo.regions) == ["China"]
    assert len(demo.sectors) == 153
    for name in ("Smelting of steel", "Processing of steel", "Smelting and processing of iron and ferroalloy",
                 "Smelting of non-ferrous metals and manufacture of alloys", "Processing of petroleum and nuclear fuel",
                 "Processing of coking", "Manufacture of chemical raw materials"):
        assert name in demo.sectors
    assert "Exports" in demo.Y_categories
    assert list(demo.extension("stressors").rows) == ["CO2"]
    assert demo.extension("stressors").unit.iloc[0, 0] == "Mt CO2"
    assert demo.monetary_unit == "10^4 CNY"
    assert "REAL" in demo.name and "2018" in demo.name


def test_co2_total_and_footprints_close(demo):
    total = co2_total(demo)
    assert total == pytest.approx(CEADS_2018_TOTAL, abs=0.005)
    demo.calc_all()
    ext = demo.extension("stressors")
    # Sum of consumption-based accounts (all final demand, exports included) + F_Y = production-based total.
    assert float(ext.D_cba.to_numpy().sum()) + float(ext.F_Y.to_numpy().sum()) == pytest.approx(total, rel=1e-9)
    assert float(ext.D_pba.to_numpy().sum()) == pytest.approx(float(ext.F.to_numpy().sum()), rel=1e-12)
    assert (ext.F.to_numpy() >= 0).all() and (ext.F_Y.to_numpy() >= 0).all()


def _build_module():
    spec = importlib.util.spec_from_file_location("china_national_build", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rerunning_the_script_reproduces_the_shipped_data(tmp_path):
    require_data("china/nbs/china_2018_153.csv")
    require_data("china/ceads/national_1997-2019.xlsx")
    out = tmp_path / "rebuilt.h5"
    assert _build_module().main(["--data", str(data_dir()), "-o", str(out)]) == 0
    assert_same(arrays(mriotrace.load(out)), arrays(mriotrace.load(SHIPPED)))


def test_co2_total_is_the_ceads_scope1_total(demo):
    path = require_data("china/ceads/national_1997-2019.xlsx")
    inventory = mriotrace.readers.read_ceads_inventory(path, "2018")
    assert co2_total(demo) == pytest.approx(inventory.total, rel=1e-9)


# ---------------------------------------------------------------- mriotrace demo

from test_cli import CLI, ok  # noqa: E402  (the CLI helpers and skip marker)

cli = pytest.mark.skipif(CLI is None, reason="the mriotrace program was not found")


@cli
def test_cli_demo_reports_the_real_totals(tmp_path, demo):
    res = ok("demo", "--threads", 2, cwd=tmp_path)
    out = res.stdout
    assert max(len(line) for line in out.splitlines()) <= 100, "demo output wider than 100 columns"
    assert "REAL DATA" in out and "SYNTHETIC" not in out
    assert "National Bureau of Statistics" in out and "CEADs" in out and "2018" in out
    for heading in ("1. CO2 totals", "2. Production- vs consumption-based CO2 by sector",
                    "3. Household direct emissions", "4. CO2 embodied in exports",
                    "5. Top supply-chain paths of the CO2 emitted by iron and steel",
                    "6. Top supply-chain paths of the CO2 emitted by non-ferrous metals",
                    "7. Scenarios on the real separate sectors"):
        assert heading in out, heading
    for name in ("china-steel-chemical", "china-coking-chemical", "china-refining-chemical",
                 "china-refining-chemical-complex"):
        assert f'Scenario "{name}"' in out

    # The printed totals are the system's.
    ext = demo.extension("stressors")
    F, F_Y = ext.F.to_numpy().ravel(), ext.F_Y.to_numpy().ravel()
    y = demo.Y.to_numpy()
    ex = y[:, list(demo.Y_categories).index("Exports")]
    m = ext.S.to_numpy().ravel() @ np.linalg.inv(np.eye(len(F)) - demo.A.to_numpy())
    exported = float(m @ ex)

    def number(label: str) -> float:
        line = next(line for line in out.splitlines() if label in line)
        return float(re.search(r"([\d.]+) Mt", line[len(label):]).group(1))

    assert number("Production-based: emitted in China") == pytest.approx(co2_total(demo), abs=0.051)
    assert number("by the 153 industries") == pytest.approx(F.sum(), abs=0.051)
    assert number("directly by households") == pytest.approx(F_Y.sum(), abs=0.051)
    assert number("Embodied in exports") == pytest.approx(exported, abs=0.051)
    assert number("Consumption-based: for domestic final use") == pytest.approx(
        co2_total(demo) - exported, abs=0.051)
    # The largest emitter is the first row of table 2a, with its PBA.
    top = int(np.argmax(F))
    row = next(line for line in out.splitlines() if line.startswith("  1  "))
    assert demo.sectors[top][:40] in row and f"{F[top]:.1f}" in row
    assert (tmp_path / "mriotrace-demo-results.h5").exists()


@cli
def test_cli_scenario_demo_means_the_real_system_and_synthetic_says_so(tmp_path):
    res = ok("scenario", "run", NATIONAL / "steel_chemical.toml", "--scenario", "china-steel-chemical")
    assert "REAL data" in res.stderr and "SYNTHETIC" not in res.stdout
    assert 'Scenario "china-steel-chemical"' in res.stdout
    res = ok("scenario", "run", REPO / "datasets" / "scenarios" / "jilin_steel_chemical.toml")
    assert "SYNTHETIC" in res.stdout.splitlines()[0]
    res = ok("scenario", "run", REPO / "datasets" / "scenarios" / "jilin_steel_chemical.toml", "--synthetic")
    assert "SYNTHETIC" in res.stdout.splitlines()[0]


# ---------------------------------------------------------------- real-data scenario files

# Expected sign of China's change in production-based CO2 per scenario.
#   <0: the measure cuts CO2;  0: certificates only (no physical change);
#   >0: coal boilers to electricity on China's 2018 grid (its CO2 per unit of
#   electricity is above EF_coal * eta_el / eta_coal, METHODS "Electrification").
EXPECTED_SIGN = {
    "china-steel-chemical": -1, "china-coking-chemical": -1,
    "china-refining-chemical": -1, "china-refining-chemical-deep": -1, "china-refining-chemical-complex": -1,
    "china-nonferrous-green-power": -1, "china-nonferrous-green-power-new-smelters": -1,
    "china-parks-new-wind-solar": -1, "china-parks-certificates-only": 0,
    "china-electric-boilers": +1, "china-electric-boilers-green": -1,
}


def test_every_national_file_runs_on_the_demo_system_with_sign_sensible_results(demo):
    files = sorted(NATIONAL.glob("*.toml"))
    assert [f.stem for f in files] == ["electrify_boilers", "green_power_park", "nonferrous_green_power",
                                       "refining_chemical", "steel_chemical"]
    seen = {}
    total = co2_total(demo)
    for path in files:
        f = mriotrace.read_scenarios(path)
        assert f.base_system == "demo"
        for res in f.run(demo):
            d = float(res.dpba.loc["CO2", "China"])
            assert np.isfinite(res.dpba.to_numpy()).all() and np.isfinite(res.dcba.to_numpy()).all(), res.name
            assert np.isfinite(res.x.to_numpy()).all() and (res.x.to_numpy() >= 0).all(), res.name
            # One region: all production-based change is consumption-based change too (F_Y unchanged).
            assert float(res.dcba.loc["CO2", "China"]) == pytest.approx(d, abs=1e-9 * total), res.name
            assert abs(d) < 0.05 * total, f"{res.name}: dPBA {d:.1f} Mt is implausibly large"
            assert len(res.targets) == 1
            seen[res.name] = d
    assert seen.keys() == EXPECTED_SIGN.keys()
    for name, sign in EXPECTED_SIGN.items():
        if sign == 0:
            assert seen[name] == 0, name
        else:
            assert np.sign(seen[name]) == sign and abs(seen[name]) > 0.1, (name, seen[name])
    # Steel-chemical: what the file states, to first order: -5 Mtce x 3.0 + 3 Mtce x 1.64 in the mills, and
    # -5.7 Mtce x 2.66 in chemicals (Mt CO2), plus small supply-chain effects.
    assert seen["china-steel-chemical"] == pytest.approx(-5 * 3.0 + 3 * 1.64 - 5.7 * 2.66, rel=0.2)


def test_national_file_base_is_the_shipped_system():
    f = mriotrace.read_scenarios(NATIONAL / "steel_chemical.toml")
    base = f.load_base()
    assert list(base.regions) == ["China"] and len(base.sectors) == 153


def _ceads_mrio_layout() -> mriotrace.MRIOSystem:
    """A system of the CEADs MRIO layout: 31 provinces x the 42 NBS sector names without codes, CO2 in
    the extension "co2" (flat name "co2::CO2") as `mriotrace import ceads-mrio` writes it.

    The numbers are the synthetic system's (the real CEADs MRIO workbooks are
    not on these machines); only the labels matter for running the files.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        syn = mriotrace.datasets.china_synthetic()
    sectors = [re.sub(r"^\d\d ", "", s) for s in syn.sectors]
    ext = syn.extension("stressors")
    return mriotrace.MRIOSystem.from_arrays(
        list(syn.regions), sectors, list(syn.Y_categories), A=syn.A_sparse, x=syn.x.to_numpy().ravel(),
        Y=syn.Y.to_numpy(), v=syn.v.to_numpy(),
        extensions={"co2": dict(S=ext.S.to_numpy()[:1], F_Y=ext.F_Y.to_numpy()[:1], stressors=["CO2"],
                                unit="Mt CO2")},
        monetary_unit="10^4 CNY", name="CEADs MRIO layout (synthetic numbers)")


def test_provincial_files_run_on_the_ceads_mrio_layout(tmp_path):
    from ceads_mrio_fixture import write_ceads_mrio

    # The stressor name the files use is the one the CEADs MRIO reader gives the table's CO2 row.
    write_ceads_mrio(tmp_path / "mrio.xlsx", sectors=3, co2_row=True)  # 3 sectors: seconds, same names
    read = mriotrace.readers.read_ceads_mrio(tmp_path / "mrio.xlsx").to_system()
    system = _ceads_mrio_layout()
    assert list(read.core.labels.stressors) == list(system.core.labels.stressors) == ["co2::CO2"]
    assert list(read.regions) == list(system.regions)
    files = sorted(PROVINCIAL.glob("*.toml"))
    assert [f.name for f in files] == sorted(p.name for p in (REPO / "datasets" / "scenarios").glob("*.toml"))
    for path in files:
        f = mriotrace.read_scenarios(path)
        assert f.base_system == "" and len(f.industry) == 25
        for res in f.run(system):
            assert np.isfinite(res.dpba.to_numpy()).all() and np.isfinite(res.dcba.to_numpy()).all(), res.name
            assert len(res.targets) >= 1


def test_provincial_files_name_the_nbs_42_sectors():
    import csv

    with open(require_data("china/nbs/china_2017_42.csv"), newline="", encoding="utf-8") as fh:
        nbs42 = [row[1] for row in csv.reader(fh) if re.fullmatch(r"\d\d", row[0])][:42]
    assert list(_ceads_mrio_layout().sectors) == nbs42
    for path in PROVINCIAL.glob("*.toml"):
        f = mriotrace.read_scenarios(path)
        checked = 0
        assert set(f.industry) <= set(nbs42), path.name
        for op in (op for sc in f.scenarios for op in sc.operations):
            for key in ("product", "supplier", "receiver", "displaced_fuel", "replacement_fuel", "chemical",
                        "refining", "utilities", "sectors", "sector", "coal", "electricity"):
                value = op.get(key)
                for name in ([value] if isinstance(value, str) else value or []):
                    assert name in nbs42, (path.name, key, name)
                    checked += 1
        assert checked >= 3, path.name
