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
    x, v = np.asarray(core.x), np.asarray(core.v)
    vc = np.divide(v, x, out=np.zeros_like(v), where=x != 0)  # a split's new sector has x = 0 outside its region
    return {"x": X.sum(axis=1), "pba": Q.sum(axis=2) + FYr, "cba": Q.sum(axis=1) + FYr, "Q": Q,
            "va": X.sum(axis=1) * vc}


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


def test_example_files_parse_and_run_on_the_synthetic_system():
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) == 5
    china = mriotrace.datasets.china_synthetic()
    for path in files:
        f = mriotrace.read_scenarios(path)
        assert f.base_system == "synthetic"
        for res in f.run(china):
            # a scenario that splits a sector off is refactorised; the others are low-rank updates
            assert res.path == ("full" if res.new_sectors else "lowrank")
            assert len(res.targets) >= 1
            assert np.isfinite(res.summary["dpba"]).all()


# ---------------------------------------------------------------- integrate with split

COMPLEX = "Integrated refining-chemical"


def split_reference(system, region, chem, ref, sigma, eps, utilities, share, reduction=None, stressors=None):
    """The split's edited system written out with numpy from the design (docs/scenarios.md, integrate):
    returns A', Y', S' and the value-added coefficients in the (N + 1)-sector layout."""
    core = system.core
    R, N = len(system.regions), len(system.sectors)
    A = system.A_sparse.toarray()
    x, v, S, Y = (np.asarray(a) for a in (core.x, core.v, core.S, core.Y))
    pos = lambda t, i: t * N + i  # noqa: E731
    c = A[:, pos(region, chem)].copy()
    for t in range(R):
        if t != region:
            c[pos(region, ref)] += sigma * c[pos(t, ref)]
            c[pos(t, ref)] *= 1 - sigma
    a = c[pos(region, ref)]
    c[pos(region, ref)] = 0
    c += a * A[:, pos(region, ref)]
    before = c.sum()
    for t in range(R):
        for u in utilities:
            c[pos(t, u)] *= 1 - eps
    s_new = S[:, pos(region, chem)] + a * S[:, pos(region, ref)]
    red = eps if reduction is None else reduction
    for k in (range(S.shape[0]) if stressors is None else stressors):
        s_new[k] *= 1 - red
    vc = v / x
    vc_new = vc[pos(region, chem)] + a * vc[pos(region, ref)] + before - c.sum()
    N1 = N + 1
    P = np.zeros((R * N1, R * N))
    P[[t * N1 + i for t in range(R) for i in range(N)], range(R * N)] = 1
    A1, Y1, S1, vc1 = P @ A @ P.T, P @ Y, S @ P.T, P @ vc
    new, old = region * N1 + N, region * N1 + chem
    A1[:, new], S1[:, new], vc1[new] = P @ c, s_new, vc_new
    for M in (A1, Y1):
        M[new] = share * M[old]
        M[old] *= 1 - share
    return A1, Y1, S1, vc1, a


def split_scenario(system, region, chem, ref, sigma, eps, share, name="complex", **extra):
    regions, sectors = names(system)
    return mriotrace.Scenario(name).integrate(
        region=regions[region], chemical=sectors[chem], refining=sectors[ref], feedstock_shift=sigma,
        efficiency=eps, utilities=[sectors[0], sectors[5]], split=COMPLEX, split_share=share, **extra)


def test_split_builder_equals_toml_and_reports_carry_the_new_label(system):
    regions, sectors = names(system)
    built = split_scenario(system, 1, 3, 2, 0.5, 0.1, 0.5)
    text = f"""
[[scenario]]
name = "complex"
[[scenario.operation]]
kind = "integrate"
region = "{regions[1]}"
chemical = "{sectors[3]}"
refining = "{sectors[2]}"
feedstock_shift = 0.5
efficiency = 0.1
utilities = ["{sectors[0]}", "{sectors[5]}"]
split = "{COMPLEX}"
split_share = 0.5
"""
    parsed = mriotrace.parse_scenarios(text).scenarios[0]
    assert parsed.to_dict() == built.to_dict()
    a, b = mriotrace.run_scenarios(system, [built, parsed])
    np.testing.assert_array_equal(a._raw["x"], b._raw["x"])
    assert a.path == "full" and a.new_sectors == [COMPLEX]
    assert list(a.sectors) == sectors + [COMPLEX]
    assert len(a.x) == 4 * 7 and a.x.index.names == ["region", "sector"]
    assert a.x[(regions[1], COMPLEX)] > 0
    assert all(a.x[(r, COMPLEX)] == 0 for r in regions if r != regions[1])
    # The new sector counts 0 in the base: its change is all of it.
    assert a.dx[(regions[1], COMPLEX)] == a.x[(regions[1], COMPLEX)]
    assert a.dF[(regions[1], COMPLEX)].to_numpy() == pytest.approx(
        np.asarray(mriotrace.apply_scenario(system, built).core.S)[:, 1 * 7 + 6] * a.x[(regions[1], COMPLEX)],
        rel=1e-12)
    assert a.va[(regions[1], COMPLEX)] > 0
    # The chemical sector keeps half its sales (1 - s), in every region's purchases alike.
    assert a.x[(regions[1], sectors[3])] == pytest.approx(a.x[(regions[1], COMPLEX)], rel=1e-12)


@pytest.mark.parametrize("seed", [2, 5, 13])
@pytest.mark.parametrize("share", [0.3, 1.0])
def test_split_is_neutral_on_generated_systems(seed, share):
    """sigma = eps = 0: production moves between the chemical sector, the refinery and the complex; every
    regional account stays as in the base, and x'(chem) = (1 - s) x, x'(ref) = x - a x'(complex)."""
    system = mriotrace.datasets.generate(regions=3, sectors=6, seed=seed, domestic_density=0.8, trade_density=0.5)
    region, chem, ref = seed % 3, 4, 1
    sc = split_scenario(system, region, chem, ref, 0.0, 0.0, share, name="neutral")
    base, res = mriotrace.run_scenarios(system, [mriotrace.Scenario("base"), sc])
    assert res.path == "full"
    for key in ("pba", "cba"):
        assert_close(getattr(res, key).to_numpy(), getattr(base, key).to_numpy(), rtol=1e-10, what=key)
    assert np.abs(res.dQ.to_numpy()).max() <= 1e-10 * np.abs(np.asarray(base._base.Q)).max()
    assert np.abs(res.dva.to_numpy()).max() <= 1e-10 * np.asarray(base._base.va).sum()
    ind = res.intensity
    assert_close(ind["scenario"].to_numpy(), ind["base"].to_numpy(), rtol=1e-10, what="intensity")
    regions, sectors = names(system)
    x0 = base.x
    a = system.A_sparse.toarray()[region * 6 + ref, region * 6 + chem]
    r = regions[region]
    assert res.x[(r, sectors[chem])] == pytest.approx((1 - share) * x0[(r, sectors[chem])], rel=1e-10, abs=1e-12)
    assert res.x[(r, COMPLEX)] == pytest.approx(share * x0[(r, sectors[chem])], rel=1e-10)
    assert res.x[(r, sectors[ref])] == pytest.approx(x0[(r, sectors[ref])] - a * res.x[(r, COMPLEX)], rel=1e-10)
    others = [(t, i) for t in regions for i in sectors if not (t == r and i in (sectors[chem], sectors[ref]))]
    assert_close(res.x[others].to_numpy(), x0[others].to_numpy(), rtol=1e-10, what="other sectors")


@pytest.mark.parametrize("method", ["auto", "full"])
def test_split_matches_numpy_design_and_dense_brute_force(system, method):
    """eps > 0: the edited system equals the design written out with numpy, and every report equals a
    dense re-computation (numpy inverse) of that system, with the base padded by the new sector."""
    sc = split_scenario(system, 2, 3, 1, 0.7, 0.2, 0.6, emission_reduction=0.3, stressors=["stressor1"])
    edited = mriotrace.apply_scenario(system, sc)
    A1, Y1, S1, vc1, a = split_reference(system, 2, 3, 1, 0.7, 0.2, [0, 5], 0.6, reduction=0.3, stressors=[1])
    assert a > 0
    assert_close(edited.A_sparse.toarray(), A1, rtol=1e-14, what="A'")
    assert_close(np.asarray(edited.core.Y), Y1, rtol=1e-14, what="Y'")
    assert_close(np.asarray(edited.core.S), S1, rtol=1e-14, what="S'")
    assert list(edited.sectors)[-1] == COMPLEX
    res = mriotrace.run_scenarios(system, sc, method=method)[0]
    assert res.path == "full"
    ref = brute_force(system, sc)
    base = brute_force(system, mriotrace.Scenario("base"))
    assert_close(res.x.to_numpy(), ref["x"], rtol=1e-9, what="x")
    assert_close(res.pba.to_numpy(), ref["pba"], rtol=1e-9, what="pba")
    assert_close(res.cba.to_numpy(), ref["cba"], rtol=1e-9, what="cba")
    assert_close(res.dQ.to_numpy().reshape(2, 4, 4) + base["Q"], ref["Q"], rtol=1e-9, what="Q")
    assert_close(res.va.to_numpy(), ref["x"] * vc1, rtol=1e-9, what="va")
    assert_close(res.dva.to_numpy(), ref["va"].reshape(4, -1).sum(axis=1) - base["va"].reshape(4, -1).sum(axis=1),
                 rtol=1e-8, what="dva")
    assert_close(res.dF.T.groupby(level="region", sort=False).sum().T.to_numpy(), res.dpba.to_numpy(), rtol=1e-9)
    ind = res.intensity
    assert np.isfinite(ind["lmdi_structure"]).all()
    assert_close((ind["lmdi_structure"] + ind["lmdi_intensity"]).to_numpy(), (ind["scenario"] - ind["base"]).to_numpy(),
                 rtol=1e-9, what="LMDI adds up")


def test_split_errors_and_lowrank_refusal(system):
    regions, sectors = names(system)
    good = split_scenario(system, 0, 3, 1, 0.5, 0.1, 0.5, name="bad split")
    with pytest.raises(ValueError, match=r'scenario "bad split" splits a sector off.*"lowrank"'):
        mriotrace.run_scenarios(system, good, method="lowrank")
    cases = [
        (dict(split=sectors[2]), ['"split"', "already a sector"]),
        (dict(split_share=0.0), ['"split_share"', "(0, 1]"]),
        (dict(split_share=1.2), ['"split_share"', "[0, 1]"]),
        (dict(split=None, split_share=0.5), ['"split_share"', "without split"]),
    ]
    for change, parts in cases:
        op = dict(good.operations[0])
        op.update({k: v for k, v in change.items() if v is not None})
        for k, v in change.items():
            if v is None:
                op.pop(k)
        with pytest.raises(ValueError) as err:
            mriotrace.run_scenarios(system, [mriotrace.Scenario("fine"),
                                             mriotrace.Scenario("bad split", operations=[op])])
        for part in ['scenario "bad split"', "operation 1 (integrate)", *parts]:
            assert part in str(err.value)
    later = mriotrace.Scenario("bad split", operations=list(good.operations)).scale("Y", 1.1)
    with pytest.raises(ValueError, match=r'operation 1 \(integrate\): parameter "split".*last operation'):
        mriotrace.run_scenarios(system, later)


def test_split_waterfall_shows_the_new_sector(system):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    regions, _ = names(system)
    res = mriotrace.run_scenarios(system, split_scenario(system, 1, 3, 2, 0.5, 0.1, 1.0))[0]
    ax = res.waterfall("stressor0", by="region_sector", top=40)
    labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]  # labels are wrapped, not cut
    assert f"{regions[1]} | {COMPLEX}" in labels
    ax = res.waterfall("stressor0", by="sector", top=40)
    assert COMPLEX in [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]


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
    bad.write_text('[base]\nsystem = "synthetic"\n[[scenario]]\nname = "x"\n[[scenario.operation]]\nkind = "relocate"\n'
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


@cli
def test_cli_split_example_reports_the_new_sector(tmp_path):
    """The example's split scenario through `mriotrace scenario run`: the new sector in the printed report,
    the tidy CSV (partner = its label) and the HDF5 result sets (one sector list; 0 where a set lacks it)."""
    path = EXAMPLES / "zhejiang_refining_chemical.toml"
    name, label, zj = "zhejiang-refining-chemical-complex", "Integrated refining-chemical complex", "Zhejiang"
    out = tmp_path / "complex.csv"
    res = ok("scenario", "run", path, "--scenario", name, "-o", out, "--threads", "1")
    assert f"new sector ({zj}, {label}): output" in res.stdout
    assert "full refactorisation" in res.stdout
    py = mriotrace.read_scenarios(path)
    py_res = mriotrace.run_scenarios(py.load_base(), [s for s in py.scenarios if s.name == name])[0]
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    new = {(r["metric"], r["stressor"], r["region"]): float(r["value"]) for r in rows if r["partner"] == label}
    assert new[("new_sector_x", "", zj)] == pytest.approx(py_res.x[(zj, label)], rel=1e-12)
    assert new[("new_sector_va", "", zj)] == pytest.approx(py_res.va[(zj, label)], rel=1e-12)
    assert new[("new_sector_F", "CO2", zj)] == pytest.approx(py_res.dF.loc["CO2", (zj, label)], rel=1e-12)
    assert {k[2] for k in new} == {zj}  # it produces nowhere else
    got = {(r["metric"], r["stressor"], r["region"]): float(r["value"]) for r in rows if r["partner"] == ""}
    assert got[("dpba", "CO2", zj)] == pytest.approx(py_res.dpba.loc["CO2", zj], rel=1e-12)
    assert got[("dva", "", zj)] == pytest.approx(py_res.dva[zj], rel=1e-9)

    h5 = tmp_path / "all.h5"
    ok("scenario", "run", path, "-o", h5, "--threads", "1")
    h5py = pytest.importorskip("h5py")
    china = mriotrace.datasets.china_synthetic()
    N = len(china.sectors)
    with h5py.File(h5, "r") as f:
        sectors = [s.decode() if isinstance(s, bytes) else s for s in f["system/labels/sectors"][...]]
        x_base = f["results/base/x"][...]
        x_split = f[f"results/scenario {name}/x"][...]
        x_plain = f["results/scenario zhejiang-refining-chemical/x"][...]
    assert sectors == list(china.sectors) + [label]
    R = len(china.regions)
    for x in (x_base, x_split, x_plain):
        assert x.shape == (R * (N + 1),)
    zi = list(china.regions).index(zj)
    assert np.all(x_base.reshape(R, N + 1)[:, N] == 0) and np.all(x_plain.reshape(R, N + 1)[:, N] == 0)
    assert x_split.reshape(R, N + 1)[zi, N] == pytest.approx(py_res.x[(zj, label)], rel=1e-12)
    np.testing.assert_allclose(x_base.reshape(R, N + 1)[:, :N].ravel(), np.asarray(py_res._base.x), rtol=1e-12)

    assert_one_line_error(run("scenario", "run", path, "--scenario", name, "--method", "lowrank"), 1,
                          f'scenario "{name}" splits a sector off', '"lowrank"')


# ---------------------------------------------------------------- reports, targets, portfolios

def _without_timing(text):
    # The solve time differs between runs; everything else must be identical.
    import re
    return re.sub(r" in [0-9.]+ s\n", " in ... s\n", text)


@cli
def _unwrapped(text: str) -> list[str]:
    """The report's logical lines: a line indented 4 more than the one before continues it (wrap_lines)."""
    out: list[str] = []
    indents: list[int] = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if out and line.strip() and indent >= indents[-1] + 4:
            out[-1] += " " + line.strip()
        else:
            out.append(line)
            indents.append(indent)
    return out


def test_report_is_the_text_the_cli_prints_for_every_seed_file():
    china = mriotrace.datasets.china_synthetic()
    for path in sorted(EXAMPLES.glob("*.toml")):
        out = _without_timing(ok("scenario", "run", path, "--threads", "1").stdout)
        f = mriotrace.read_scenarios(path)
        results = f.run(china)
        header = mriotrace._core.industry_report(china.core, [])
        # Reports on the synthetic system open with a SYNTHETIC banner (CLI only).
        banner = ("*** SYNTHETIC DATA: 31 provinces x 42 sectors, real names, generated numbers; do not cite ***\n\n"
                  if f.base_system == "synthetic" else "")
        assert out == _without_timing(banner + header + "".join(r.report() for r in results)), path.name
        for res in results:
            assert repr(res) == res.report()
            lines = _unwrapped(res.report())
            targets = [i for i, line in enumerate(lines) if line.startswith("  target ")]
            assert len(targets) == len(res.targets) >= 1
            for i, (_, t) in zip(targets, res.targets.iterrows()):
                assert "2020->2025, per unit of industrial value added" in lines[i]
                unit = t["gap_unit"].split()[0]  # e.g. "Mt", readable: "t", "kt", "Mt"
                assert "per 10^4 CNY" in lines[i + 1]
                verdict = lines[i + 2]
                assert verdict.startswith("    baseline ") and "the scenario delivers" in verdict
                assert ("gap " in verdict) or ("room to spare" in verdict)
                assert verdict.rstrip().endswith("(synthetic)") and unit[-1] in ("t", "e")
                assert t["total"] == pytest.approx(t["baseline"] + t["contribution"], abs=1e-15)


def test_targets_with_a_baseline_path_from_python(system):
    regions, sectors = names(system)
    sc = (mriotrace.Scenario("clean", "cleaner sector 0")
          .scale("S", 0.7, col_sectors=[sectors[0]])
          .target("stressor0/VA", -0.2, region=regions[1], base_year=2020, target_year=2025,
                  va_growth={sectors[1]: 0.08, "*": 0.03}, intensity_trend=-0.02)
          .target("stressor0/VA", -0.2, region=regions[1], baseline_change=-0.1)
          .target("stressor0/VA", -0.2, region=regions[1], basis=sectors[0]))
    res = mriotrace.run_scenarios(system, [sc])[0]
    t = res.targets
    assert list(t["basis"]) == ["industrial value added"] * 2 + [sectors[0]]
    assert t["total"].to_numpy() == pytest.approx((t["baseline"] + t["contribution"]).to_numpy(), abs=1e-15)
    assert t["baseline"][1] == -0.1
    assert t["total"][1] == pytest.approx(0.9 * (1 + t["actual_change"][1]) - 1, abs=1e-14)
    # one sector as the basis: its intensity is scaled by 0.7 exactly, without a baseline
    assert t["actual_change"][2] == pytest.approx(-0.3, abs=1e-12)
    assert t["baseline"][0] < -0.09
    assert (t["share"] == t["contribution"] / -0.2).all()
    frame = res.to_frame("targets")
    assert set(frame["quantity"]) >= {"baseline", "contribution", "total", "share", "gap"}
    gap = frame[(frame["quantity"] == "gap")]["value"].to_numpy()
    assert gap == pytest.approx(t["gap"].to_numpy(), rel=1e-15)
    with pytest.raises(ValueError, match="neither a sector nor a region"):
        mriotrace.run_scenarios(system, [mriotrace.Scenario("x").scale("Y", 1.0).target(
            "stressor0/VA", -0.1, base_year=2020, target_year=2025, va_growth={"Atlantis": 0.1})])


def test_portfolio_measures_and_tidy_frames(system):
    regions, sectors = names(system)
    sc = (mriotrace.Scenario("both", portfolio=True)
          .scale("S", 0.5, col_sectors=[sectors[0]])
          .relocate(sectors[2], regions[0], regions[1], share=0.5)
          .target("stressor0/VA", -0.1))
    res = mriotrace.run_scenarios(system, [sc])[0]
    m = res.measures
    assert list(m.index) == ["1 scale", "2 relocate", "interaction"]
    col = [c for c in m.columns if c.startswith("dpba stressor0")][0]
    assert m[col].sum() == pytest.approx(res.summary.loc["stressor0", "dpba"], rel=1e-12)
    alone = mriotrace.run_scenarios(system, [mriotrace.Scenario("a").scale("S", 0.5, col_sectors=[sectors[0]])])[0]
    assert m[col]["1 scale"] == pytest.approx(alone.summary.loc["stressor0", "dpba"], rel=1e-12)
    assert "portfolio: each measure alone" in res.report()
    assert mriotrace.run_scenarios(system, [sc.to_dict() | {"portfolio": False}])[0].measures is None
    regions_frame = res.to_frame()
    assert list(regions_frame.columns) == ["scenario", "metric", "stressor", "unit", "region", "value"]
    d = regions_frame[(regions_frame.metric == "dpba") & (regions_frame.stressor == "stressor0")]
    assert d.set_index("region")["value"]["all"] == pytest.approx(res.dpba.loc["stressor0"].sum(), rel=1e-14)
    assert d.set_index("region")["value"][regions[0]] == res.dpba.loc["stressor0", regions[0]]
    sectors_frame = res.to_frame("sectors")
    assert len(sectors_frame[sectors_frame.metric == "x"]) == len(regions) * len(sectors)
    html = res._repr_html_()
    assert "<pre>" in html and "<table" in html and "both" in html
    with pytest.raises(ValueError, match="expected"):
        res.to_frame("nope")


def test_unit_registry_converts_and_names_mismatches():
    pytest.importorskip("pint")
    from mriotrace import units
    assert units.convert(1.9e-6, "Mt CO2 (synthetic)", "t CO2") == pytest.approx(1.9, rel=1e-15)
    assert units.convert(1.0, "Mtce", "PJ") == pytest.approx(29.3076, rel=1e-15)  # 1 kgce = 29.3076 MJ
    assert units.convert(3.0, "10^4 CNY", "CNY") == pytest.approx(3e4, rel=1e-15)
    assert units.convert(2.0, "kg CO2e", "t CO2e") == pytest.approx(2e-3, rel=1e-15)
    for a, b in (("Mt CO2", "PJ"), ("Mt CO2", "Mt CH4"), ("CNY", "USD")):
        with pytest.raises(ValueError, match=f"units '{a}' and '{b}' do not match"):
            units.convert(1.0, a, b)
    with pytest.raises(ValueError, match="'widgets' is not a known unit"):
        units.parse("widgets")
    # the reports' readable magnitudes (the C++ formatter's), consistent with the registry
    value, unit = units.readable(1.9e-6, "Mt CO2 (synthetic)")
    assert (value, unit) == (pytest.approx(1.9, rel=1e-12), "t CO2 (synthetic)")
    assert units.convert(1.9e-6, "Mt CO2", unit) == pytest.approx(value, rel=1e-12)


def test_declared_units_of_a_scenario_file_are_checked(system):
    text = """[base]
monetary_unit = "10^4 CNY"
stressor_units = {stressor0 = "kt"}
[[scenario]]
name = "x"
[[scenario.operation]]
kind = "scale"
matrix = "Y"
factor = 1.0
"""
    f = mriotrace.parse_scenarios(text)
    assert f.monetary_unit == "10^4 CNY" and f.stressor_units == {"stressor0": "kt"}
    with pytest.raises(ValueError, match=r"monetary_unit = \"10\^4 CNY\" but the system's is"):
        f.run(system)
    f.monetary_unit = system.monetary_unit
    f.stressor_units = {}
    assert len(f.run(system)) == 1


def test_baseline_rates_from_two_tables_reproduce_the_later_table(system):
    regions, sectors = names(system)
    # "2022": sector 1's intensity 19 % lower (0.9^2), the rest as in "2020".
    later = mriotrace.apply_scenario(system, mriotrace.Scenario("2022").scale("S", 0.81, col_sectors=[sectors[1]]))
    rates = mriotrace.scenario.baseline_rates(system, 2020, later, 2022, "stressor0", regions[1])
    assert rates["intensity_trend"][sectors[1]] == pytest.approx(-0.1, abs=1e-12)
    assert all(abs(v) < 1e-12 for name, v in rates["intensity_trend"].items() if name != sectors[1])
    assert all(abs(v) < 1e-12 for v in rates["va_growth"].values())
    # Continued from 2020 over the same two years, the path reproduces the 2022 intensity.
    rates["base_year"] = 2020
    sc = mriotrace.Scenario("none").scale("Y", 1.0).target("stressor0/VA", -0.1, region=regions[1],
                                                            target_year=2022, **rates)
    res = mriotrace.run_scenarios(system, [sc])[0]
    i0 = res.intensity.loc[("stressor0/VA", regions[1]), "base"]
    i1 = mriotrace.run_scenarios(later, [mriotrace.Scenario("z").scale("Y", 1.0)])[0] \
        .intensity.loc[("stressor0/VA", regions[1]), "base"]
    assert res.targets["baseline"][0] == pytest.approx(i1 / i0 - 1, abs=1e-12)
    with pytest.raises(ValueError, match="must be after"):
        mriotrace.scenario.baseline_rates(system, 2022, later, 2020, "stressor0", regions[1])


def test_waterfall_has_full_labels_and_values(system):
    import matplotlib
    matplotlib.use("Agg")
    from mriotrace.units import number
    res = mriotrace.run_scenarios(system, [split_scenario(system, 1, 2, 3, 0.5, 0.1, 0.5)])[0]
    ax = res.waterfall("stressor0", by="region_sector", top=5)
    labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    assert not any(label.endswith("...") for label in labels)
    assert any(f"{system.regions[1]} | {COMPLEX}" in label for label in labels)  # the whole label
    values = [t.get_text() for t in ax.texts]
    shown = res.dF.loc["stressor0"]
    top = shown[shown != 0].abs().sort_values(ascending=False).index[:5]
    f, _ = mriotrace.units.scale_for(list(shown[top]) + [res.summary.loc["stressor0", "dpba"]],
                                     res.summary.loc["stressor0", "unit"])
    for key in top:
        assert number(shown[key] * f, sign=True) in values  # every bar carries its value
    assert len(values) == len(labels)