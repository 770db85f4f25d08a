"""Scenario engine from Python and the CLI: builder == TOML, brute-force dense
re-computation of every report (numpy inverse of the edited small system),
low-rank == full re-solve, target checks with a known answer, thread-count
determinism, bad input naming scenario / operation / parameter, the waterfall
plot, and `mriotrace scenario run` with CSV and HDF5 output."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import mriotrace
from conftest import REPO, assert_close

EXAMPLES = REPO / "datasets" / "scenarios"


@pytest.fixture(scope="module")
def system():
    return mriotrace.datasets.generate(regions=4, sectors=6, fd_categories=2, stressors=2, seed=21,
                                       domestic_density=0.9, trade_density=0.5)


def names(system):
    return list(system.regions), list(system.sectors)


def brute_force(system, scenario):
    """Dense reference: edited system by apply_scenario, then L = inv(I - A') with numpy."""
    edited = mriotrace.apply_scenario(system, scenario)
    core = edited.core
    n, R, c = core.n, len(system.regions), len(system.Y_categories)
    A = edited.A_sparse.toarray()
    L = np.linalg.inv(np.eye(n) - A)
    Y = np.asarray(core.Y)
    Yr = np.stack([Y[:, r * c:(r + 1) * c].sum(axis=1) for r in range(R)], axis=1)
    X = L @ Yr
    S = np.asarray(core.S)
    N = n // R
    F_Y = np.asarray(core.F_Y)
    FYr = np.stack([F_Y[:, r * c:(r + 1) * c].sum(axis=1) for r in range(R)], axis=1)
    Q = np.zeros((S.shape[0], R, R))
    for p in range(R):
        Q[:, p, :] = S[:, p * N:(p + 1) * N] @ X[p * N:(p + 1) * N, :]
    return {"x": X.sum(axis=1), "pba": Q.sum(axis=2) + FYr, "cba": Q.sum(axis=1) + FYr, "Q": Q,
            "va": X.sum(axis=1) * np.asarray(core.v) / np.asarray(core.x)}


def test_builder_equals_toml(system):
    regions, sectors = names(system)
    built = (mriotrace.Scenario("s", "d")
             .relocate(sectors[2], regions[0], regions[1], share=0.25)
             .scale("A", 0.9, col_regions=[regions[2]], row_sectors=[sectors[0]])
             .target("stressor0/VA", -0.1, region=regions[1]))
    text = f"""
[[scenario]]
name = "s"
description = "d"
[[scenario.operation]]
kind = "relocate"
product = "{sectors[2]}"
from = "{regions[0]}"
to = "{regions[1]}"
share = 0.25
[[scenario.operation]]
kind = "scale"
matrix = "A"
factor = 0.9
col_regions = ["{regions[2]}"]
row_sectors = ["{sectors[0]}"]
[[scenario.target]]
indicator = "stressor0/VA"
region = "{regions[1]}"
change = -0.1
"""
    parsed = mriotrace.parse_scenarios(text).scenarios[0]
    assert parsed.to_dict() == built.to_dict()
    a, b = mriotrace.run_scenarios(system, [built, parsed])
    np.testing.assert_array_equal(a._raw["cba"], b._raw["cba"])


@pytest.mark.parametrize("method", ["lowrank", "full"])
def test_reports_match_dense_brute_force(system, method):
    regions, sectors = names(system)
    scenarios = [
        mriotrace.Scenario("move").relocate(sectors[1], regions[0], regions[3], share=0.6),
        mriotrace.Scenario("mix").relocate(sectors[4], regions[2], regions[1], share=0.3)
        .electrify(region=regions[1], sector=sectors[3], share=0.5, coal=sectors[0], electricity=sectors[5],
                   eta_coal=0.8, eta_el=0.95, coal_price=1.0, electricity_price=3.0,
                   coal_ef={"stressor0": 0.01})
        .scale("Y", 1.2, row_sectors=[sectors[2]], fd_regions=[regions[0]]),
        mriotrace.Scenario("park").green_power(region=regions[2], sectors=[sectors[1], sectors[2]], share=0.4,
                                               electricity=sectors[5]),
    ]
    results = mriotrace.run_scenarios(system, scenarios, method=method)
    base = brute_force(system, mriotrace.Scenario("base"))
    for sc, res in zip(scenarios, results):
        assert res.path == method
        ref = brute_force(system, sc)
        assert_close(res.x.to_numpy(), ref["x"], rtol=1e-9, what=f"{sc.name} x")
        assert_close(res.pba.to_numpy(), ref["pba"], rtol=1e-9, what=f"{sc.name} pba")
        assert_close(res.cba.to_numpy(), ref["cba"], rtol=1e-9, what=f"{sc.name} cba")
        assert_close(res.dpba.to_numpy() + base["pba"], ref["pba"], rtol=1e-9)
        dQ = res.dQ.to_numpy().reshape(2, 4, 4)
        assert_close(dQ + base["Q"], ref["Q"], rtol=1e-9, what=f"{sc.name} Q")
        # Value added: v' = x' (v/x - column sums of dA); per region.
        assert_close(res.dva.to_numpy(), (ref["va"] - base["va"]).reshape(4, -1).sum(axis=1), rtol=1e-8)
        # Direct emissions by region add up to dPBA (F_Y unchanged).
        assert_close(res.dF.T.groupby(level="region", sort=False).sum().T.to_numpy(), res.dpba.to_numpy(),
                     rtol=1e-9)


def test_relocation_identities(system):
    regions, sectors = names(system)
    zero = mriotrace.run_scenarios(system, mriotrace.Scenario("z").relocate(sectors[1], regions[0], regions[1],
                                                                            share=0.0))[0]
    assert np.all(zero.dpba.to_numpy() == 0)
    full = mriotrace.run_scenarios(system, mriotrace.Scenario("f").relocate(sectors[1], regions[0], regions[1],
                                                                            share=1.0))[0]
    assert abs(full.x[(regions[0], sectors[1])]) < 1e-12 * full.x.max()
    assert full.rank == 1 and full.path == "lowrank"
    # Leakage ratio: dPBA outside the origin over the origin's cut.
    d = full.dpba.loc["stressor0"]
    assert full.leakage["stressor0"] == pytest.approx((d.sum() - d[regions[0]]) / -d[regions[0]], rel=1e-12)


def test_target_known_answer_and_lmdi(system):
    regions, _ = names(system)
    sc = (mriotrace.Scenario("cleaner").scale("S", 0.8, stressors=["stressor1"])
          .target("stressor1/VA", -0.15, region=regions[2]).target("stressor1/VA", -0.25))
    res = mriotrace.run_scenarios(system, sc)[0]
    t = res.targets
    assert list(t["met"]) == [True, False]
    assert t["actual_change"].to_numpy() == pytest.approx([-0.2, -0.2], abs=1e-12)
    # gap = E' - (1 + target) I0 VA = 0.8 E0 - (1 + target) E0
    ind = res.intensity
    row = ind.loc[("stressor1/VA", regions[2])]
    assert row["change"] == pytest.approx(-0.2, abs=1e-12)
    assert row["lmdi_structure"] + row["lmdi_intensity"] == pytest.approx(row["scenario"] - row["base"],
                                                                          rel=1e-10)
    assert abs(row["lmdi_structure"]) < 1e-12 * row["base"]
    # E0 = base industrial emissions = I0 * VA0 (x and VA are unchanged here).
    va_region = np.asarray(system.core.v).reshape(4, -1)[2]
    E0 = row["base"] * va_region.sum()  # the generic system's default industry is every sector
    assert t["gap"][0] == pytest.approx(0.8 * E0 - 0.85 * E0, rel=1e-8)


def test_threads_do_not_change_results(system):
    regions, sectors = names(system)
    scs = [mriotrace.Scenario(f"s{i}").relocate(sectors[i], regions[i % 4], regions[(i + 1) % 4], share=0.1 * i)
           for i in range(6)]
    one = mriotrace.run_scenarios(system, scs, threads=1)
    two = mriotrace.run_scenarios(system, scs, threads=2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a._raw["cba"], b._raw["cba"])
        np.testing.assert_array_equal(a._raw["dQ"], b._raw["dQ"])


@pytest.mark.parametrize("make, parts", [
    (lambda r, s: mriotrace.Scenario("bad").relocate(s[1], r[0], r[1], share=1.5),
     ['scenario "bad"', "operation 1 (relocate)", '"share"', "[0, 1]"]),
    (lambda r, s: mriotrace.Scenario("bad").relocate(s[1], r[0], "Atlantis", share=0.5),
     ['"to"', "Atlantis"]),
    (lambda r, s: mriotrace.Scenario("bad").relocate(s[1], r[0], r[1], share=0.5).set("A", 0.0, row_regions=[r[0]]),
     ["operation 2 (set)", "conflicts with operation 1"]),
    (lambda r, s: mriotrace.Scenario("bad").scale("A", 10.0, col_sectors=[s[0]]), ["would sum to", "< 1"]),
    (lambda r, s: mriotrace.Scenario("bad").op("relocate", product=s[1], from_=r[0], to=r[1], share=[0.1]),
     ['"share"', "list of labels"]),
    (lambda r, s: mriotrace.Scenario("bad").op("teleport"), ["unknown operation kind"]),
    (lambda r, s: mriotrace.Scenario("bad").target("CO2/VA", -0.1), ["target 1", "unknown stressor"]),
])
def test_bad_input_is_a_value_error_naming_the_culprit(system, make, parts):
    regions, sectors = names(system)
    with pytest.raises(ValueError) as err:
        mriotrace.run_scenarios(system, [mriotrace.Scenario("fine"), make(regions, sectors)])
    for part in parts:
        assert part in str(err.value)


def test_malformed_toml_is_a_value_error_with_line():
    with pytest.raises(ValueError, match=r"x.toml:2:.*malformed TOML"):
        mriotrace.parse_scenarios("[[scenario]]\nname = \n", "x.toml")
    with pytest.raises(OSError):
        mriotrace.read_scenarios("/nonexistent/scenarios.toml")


def test_waterfall_plots(system):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    regions, sectors = names(system)
    res = mriotrace.run_scenarios(system, mriotrace.Scenario("w").relocate(sectors[1], regions[0], regions[1],
                                                                           share=0.5))[0]
    for by in ("region", "sector", "region_sector"):
        ax = res.waterfall("stressor0", by=by, top=3)
        heights = [p.get_height() for p in ax.patches]
        assert len(heights) >= 3
    with pytest.raises(ValueError, match="unknown stressor"):
        res.waterfall("CO3")


def test_example_files_parse_and_run_on_the_demo_system():
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) == 5
    china = mriotrace.datasets.china_default()
    for path in files:
        f = mriotrace.read_scenarios(path)
        assert f.base_system == "demo"
        for res in f.run(china):
            assert res.path == "lowrank"
            assert len(res.targets) >= 1
            assert np.isfinite(res.summary["dpba"]).all()


# ---------------------------------------------------------------- CLI

from test_cli import CLI, assert_one_line_error, ok, run  # noqa: E402  (the CLI helpers and skip marker)

cli = pytest.mark.skipif(CLI is None, reason="the mriotrace program was not found (set MRIOTRACE_CLI)")


@cli
def test_cli_scenario_run_csv_matches_python(tmp_path):
    out = tmp_path / "relocation.csv"
    res = ok("scenario", "run", EXAMPLES / "jilin_nonferrous_relocation.toml", "-o", out, "--threads", "1")
    assert 'Scenario "jilin-metals-to-qinghai"' in res.stdout
    assert "low-rank update" in res.stdout and "NOT MET" in res.stdout
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["scenario", "metric", "stressor", "unit", "region", "partner", "value"]
    py = mriotrace.read_scenarios(EXAMPLES / "jilin_nonferrous_relocation.toml").run()
    got = {(r["scenario"], r["metric"], r["stressor"], r["region"]): float(r["value"]) for r in rows}
    for res_py in py:
        for region in ("Jilin", "Qinghai"):
            assert got[(res_py.name, "dpba", "CO2", region)] == pytest.approx(res_py.dpba.loc["CO2", region],
                                                                               rel=1e-12)
        assert got[(res_py.name, "leakage", "CO2", "")] == pytest.approx(res_py.leakage["CO2"], rel=1e-12)
        assert got[(res_py.name, "target_met", "CO2", "Jilin")] == float(res_py.targets["met"][0])


@cli
def test_cli_scenario_run_hdf5(tmp_path):
    out = tmp_path / "park.h5"
    ok("scenario", "run", EXAMPLES / "green_power_park.toml", "-o", out)
    assert (tmp_path / "park_report.csv").is_file()
    info = mriotrace.inspect(str(out))
    assert not info["has_system"]
    assert sorted(info["result_names"]) == ["base", "scenario jilin-park-certificates-only",
                                            "scenario jilin-park-new-wind-solar", "scenario jilin-park-qinghai-hydro"]
    h5py = pytest.importorskip("h5py")
    with h5py.File(out, "r") as f:
        base = f["results/base/D_pba_reg"][...]
        same = f["results/scenario jilin-park-certificates-only/D_pba_reg"][...]
        moved = f["results/scenario jilin-park-new-wind-solar/D_pba_reg"][...]
    np.testing.assert_array_equal(base, same)  # not additional: nothing changes
    assert not np.array_equal(base, moved)


@cli
def test_cli_scenario_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[base]\nsystem = "demo"\n[[scenario]]\nname = "x"\n[[scenario.operation]]\nkind = "relocate"\n'
                   'product = "14 Smelting and processing of metals"\nfrom = "Jilin"\nto = "Qinghai"\nshare = 2\n')
    assert_one_line_error(run("scenario", "run", bad), 1, 'scenario "x", operation 1 (relocate)', '"share"')
    bad.write_text("[[scenario]]\nname = \n")
    assert_one_line_error(run("scenario", "run", bad), 1, "malformed TOML")
    nobase = tmp_path / "nobase.toml"
    nobase.write_text('[[scenario]]\nname = "x"\n')
    assert_one_line_error(run("scenario", "run", nobase), 2, "no base system")
    assert_one_line_error(run("scenario", "run", EXAMPLES / "green_power_park.toml", "-o", tmp_path / "x.txt"), 2,
                          ".csv")
    assert_one_line_error(run("scenario", "run", EXAMPLES / "green_power_park.toml", "--scenario", "nope"), 1,
                          '"nope"')
    assert_one_line_error(run("scenario", "run", tmp_path / "missing.toml"), 1, "missing.toml")


def test_python_values_cross_the_binding(system):
    regions, sectors = names(system)
    # numpy scalars are numbers; tuples are label lists; None parameters are left out.
    a = mriotrace.Scenario("np").relocate(sectors[1], regions[0], regions[1], share=np.float64(0.3), price=None)
    b = mriotrace.Scenario("py").relocate(sectors[1], regions[0], regions[1], share=0.3)
    ra, rb = mriotrace.run_scenarios(system, [a, b])
    np.testing.assert_array_equal(ra._raw["cba"], rb._raw["cba"])
    with pytest.raises(ValueError, match="must be a dict"):
        mriotrace.run_scenarios(system, [42])
    with pytest.raises(ValueError, match=r'parameter "new_intensity"\["stressor0"\] is a str'):
        mriotrace.run_scenarios(system, mriotrace.Scenario("t").relocate(
            sectors[1], regions[0], regions[1], share=0.1, technology="new", new_column={sectors[0]: 0.1},
            new_intensity={"stressor0": "low"}))
    with pytest.raises(ValueError, match='unknown key "level"'):
        mriotrace.run_scenarios(system, {"name": "t", "targets": [{"indicator": "stressor0/VA", "change": -0.1,
                                                                   "level": 3}]})
    with pytest.raises(ValueError, match='method = "fast"'):
        mriotrace.run_scenarios(system, b, method="fast")
    assert set(mriotrace.operation_parameters("relocate").index) >= {"product", "from", "to", "share"}
