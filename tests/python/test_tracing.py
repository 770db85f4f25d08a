"""Supply-chain tracing from Python: SPA against a NumPy brute force, streamed
files (CSV, HDF5) against the DataFrame, production layers, hypothetical
extraction against dense re-solves, linkages and Ghosh against the dense
formulas, the plot, thread-count determinism and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mriotrace
from mriotrace import tracing


@pytest.fixture(scope="module")
def small():
    return mriotrace.datasets.generate(regions=2, sectors=4, stressors=2, domestic_density=0.7, trade_density=0.4,
                                       seed=3)


@pytest.fixture(scope="module")
def china():
    return mriotrace.datasets.china_synthetic()


def dense(system):
    return system.A_sparse.toarray(), np.asarray(system.core.S), np.asarray(system.core.x)


def brute_force_paths(A, s, y, depth):
    """{nodes emitter first: value} of every path with a nonzero value, plain recursion."""
    out = {}
    n = A.shape[0]

    def go(stack, w):
        j = stack[-1]
        if s[j] * w != 0:
            out[tuple(reversed(stack))] = s[j] * w
        if len(stack) <= depth:
            for i in range(n):
                if A[i, j] != 0:
                    go(stack + [i], w * A[i, j])

    for j in range(n):
        if y[j] != 0:
            go([j], y[j])
    return out


def test_spa_finds_every_path_above_threshold(small):
    A, S, _ = dense(small)
    y = small.Y.T.groupby(level=0).sum().T["R1"].to_numpy()
    bf = brute_force_paths(A, S[0], y, 5)
    res = tracing.spa(small, "stressor0", region="R1", tau=1e-3, max_depth=5, threads=1)
    total = S[0] @ np.linalg.solve(np.eye(len(y)) - A, y)
    assert res.total == pytest.approx(total, rel=1e-12)
    expected = {p: v for p, v in bf.items() if abs(v) >= res.threshold}
    got = dict(zip(res.paths["nodes"], res.paths["value"]))
    assert set(got) == set(expected)
    for p, v in expected.items():
        assert got[p] == pytest.approx(v, rel=1e-12)
    assert res.paths_found == len(expected) > 10
    assert (np.diff(np.abs(res.paths["value"].to_numpy())) <= 0).all()
    assert res.coverage == pytest.approx(sum(expected.values()) / total, rel=1e-12)


def test_spa_tau_zero_is_complete_and_sums_to_power_series(small):
    A, S, _ = dense(small)
    y = small.Y.sum(axis=1).to_numpy()
    res = tracing.spa(small, "stressor1", tau=0, max_depth=3, keep=0, max_paths=0)
    layer, series = y.copy(), []
    for _ in range(4):
        series.append(S[1] @ layer)
        layer = A @ layer
    np.testing.assert_allclose(res.coverage_by_depth.to_numpy() * res.total, series, rtol=1e-12,
                               atol=1e-12 * abs(res.total))
    assert res.paths["value"].sum() == pytest.approx(sum(series), rel=1e-12)
    assert not res.truncated


def test_spa_path_columns_reproduce_values(china):
    res = tracing.spa(china, "CO2", region="Zhejiang", tau=1e-3, max_depth=5)
    df = res.paths
    assert list(df.columns[:7]) == ["value", "share", "depth", "emitter_region", "emitter_sector", "final_region",
                                    "final_sector"]
    y = np.asarray(mriotrace._core.target_demand(china.core, china.core.region_index("Zhejiang"), -1))
    for _, row in df.head(20).iterrows():
        v = row["intensities"][0] * np.prod(row["coefficients"]) * y[row["nodes"][-1]]
        assert v == pytest.approx(row["value"], rel=1e-12)
        assert len(row["path"]) == row["depth"] + 1
        assert row["path"][0] == (row["emitter_region"], row["emitter_sector"])
        assert row["final_region"] == row["path"][-1][0]
    assert df["share"].sum() == pytest.approx(res.coverage, rel=1e-12)
    assert df.attrs["unit"] == res.unit and "CO2" in res.unit


def test_spa_same_result_with_one_and_two_threads(china):
    a = tracing.spa(china, "CO2", region="Zhejiang", tau=1e-4, max_depth=6, threads=1)
    b = tracing.spa(china, "CO2", region="Zhejiang", tau=1e-4, max_depth=6, threads=2)
    assert a.paths_found == b.paths_found > 100
    assert a.nodes_expanded == b.nodes_expanded
    assert list(a.paths["nodes"]) == list(b.paths["nodes"])
    np.testing.assert_array_equal(a.paths["value"].to_numpy(), b.paths["value"].to_numpy())
    assert a.coverage == b.coverage


def test_spa_streams_every_path_to_csv_and_hdf5(china, tmp_path):
    h5py = pytest.importorskip("h5py")
    csv, h5 = tmp_path / "paths.csv", tmp_path / "paths.h5"
    res = tracing.spa(china, "CO2", region="Zhejiang", tau=2e-4, max_depth=6, keep=10, csv=csv, h5=h5)
    assert len(res.paths) == 10 and res.paths_found > 10
    table = pd.read_csv(csv)
    assert len(table) == res.paths_found
    assert table["value"].sum() == pytest.approx(res.coverage * res.total, rel=1e-12)
    top = table.sort_values("value", ascending=False).head(10)
    np.testing.assert_allclose(top["value"].to_numpy(), res.paths["value"].to_numpy(), rtol=1e-15)
    first = res.paths.iloc[0]
    assert top.iloc[0]["path"] == " > ".join(f"{r}/{s}" for r, s in first["path"])
    with h5py.File(h5, "r") as f:
        g = f["tracing/spa"]
        assert g["values"].shape == (res.paths_found,)
        off = g["offsets"][:]
        assert off[-1] == g["nodes"].shape[0]
        np.testing.assert_allclose(g["values"][:], table["value"].to_numpy(), rtol=1e-15)
        assert g.attrs["total"] == pytest.approx(res.total, rel=1e-15)
        # Fixed-length string attributes (checksummed, docs/file-format.md): h5py gives bytes.
        assert g.attrs["stressor"] == b"CO2" and g.attrs["truncation"] == b""
        assert g.attrs["spa_format_version"] == 2
        assert all(g[name].fletcher32 for name in ("values", "depths", "offsets", "nodes", "coverage_by_depth"))
        idx = china.get_index()
        first_nodes = g["nodes"][off[0]:off[1]]
        assert " > ".join(f"{idx[j][0]}/{idx[j][1]}" for j in first_nodes) == table.iloc[0]["path"]
        np.testing.assert_allclose(g["coverage_by_depth"][:], res.coverage_by_depth.to_numpy(), rtol=1e-15)
    info = mriotrace.inspect(h5)  # a valid mriotrace results file with the system's labels
    assert list(info["labels"].regions) == list(china.regions)
    assert not info["has_system"]


def test_spa_limits_truncate_cleanly(china):
    res = tracing.spa(china, "CO2", region="Zhejiang", tau=0, max_depth=4, max_paths=50)
    assert res.truncated and res.truncation == "max_paths"
    assert res.paths_found == 50 == len(res.paths)
    assert 0 < res.coverage < 1
    assert "TRUNCATED" in repr(res)


def test_factorisation_is_reused_across_calls(china, small):
    fac = china.solver(threads=1)
    a = tracing.spa(china, "CO2", region="Zhejiang", tau=1e-3, solver=fac)
    b = tracing.spa(china, "CO2", region="Zhejiang", tau=1e-3)
    assert list(a.paths["nodes"]) == list(b.paths["nodes"]) and a.total == b.total
    assert fac.diagnostics()["rhs_solved"] >= 2  # the bounds were solved with the given factorisation
    layers = tracing.production_layers(china, "CO2", region="Zhejiang", T=2, solver=fac)
    assert layers["total"].sum() == pytest.approx(a.total, rel=1e-12)
    with pytest.raises(ValueError, match="solver is for n"):
        tracing.linkages(small, solver=fac)


def test_spa_product_target_and_indicator_vector(china):
    product = ("Zhejiang", china.sectors[26])
    res = tracing.spa(china, "CO2", region="Zhejiang", product=product, tau=1e-3)
    assert set(res.paths["final_region"]) == {"Zhejiang"}
    assert set(res.paths["final_sector"]) == {china.sectors[26]}
    s = np.asarray(china.core.S)[0] * 2.0
    doubled = tracing.spa(china, s=s, region="Zhejiang", product=product, tau=1e-3)
    assert doubled.total == pytest.approx(2 * res.total, rel=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    (dict(stressor="NOx"), "unknown stressor"),
    (dict(stressor="CO2", region="Atlantis"), "Atlantis"),
    (dict(stressor="CO2", product=("Zhejiang", "Spaceships")), "unknown sector"),
    (dict(stressor="CO2", tau=0, max_depth=-1), "unlimited depth"),
    (dict(stressor="CO2", tau=-0.1), "tau"),
    (dict(stressor="CO2", max_depth=500), "max_depth"),
    (dict(stressor="CO2", y=np.ones(5)), "y has shape"),
    (dict(stressor="CO2", s=np.ones(5)), "s has shape"),
    (dict(stressor="CO2", keep=-1), "keep"),
])
def test_spa_bad_input(china, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tracing.spa(china, **kwargs)


def test_production_layers_sum_to_footprint(china):
    df = tracing.production_layers(china, region="Zhejiang", T=4)
    acc = china.solver().solve(np.asarray(mriotrace._core.target_demand(china.core, 10, -1)))
    footprint = np.asarray(china.core.S) @ acc
    for i, name in enumerate(china.core.labels.stressors):
        assert df.loc[name, "total"].sum() == pytest.approx(footprint[i], rel=1e-12)
        assert list(df.loc[name].index) == ["0", "1", "2", "3", "4", "remainder"]
    assert china.regions[10] == "Zhejiang"
    assert df.attrs["units"]["CO2"]
    by_sector = tracing.production_layers(china, region="Zhejiang", T=4, by="sector")
    np.testing.assert_allclose(by_sector.sum(axis=1).to_numpy(), df["total"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(by_sector.T.groupby(level=0, sort=False).sum().T.loc[:, list(china.regions)].to_numpy(),
                               df.drop(columns="total").to_numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="by="):
        tracing.production_layers(china, by="province")


def test_hypothetical_extraction_matches_dense_resolve(small):
    A, S, _ = dense(small)
    n = A.shape[0]
    y = small.Y.sum(axis=1).to_numpy()
    sets = {"one": [("R0", "S1")], "two": [("R1", "S0"), ("R0", "S3")]}
    for mode in ("full", "backward", "forward"):
        for method in ("woodbury", "refactor"):
            df = tracing.hypothetical_extraction(small, sets, mode=mode, method=method)
            for name, members in sets.items():
                idx = [small.get_index().get_loc(m) for m in members]
                As, ys = A.copy(), y.copy()
                if mode != "forward":
                    As[:, idx] = 0
                if mode != "backward":
                    As[idx, :] = 0
                if mode == "full":
                    ys[idx] = 0
                xs = np.linalg.solve(np.eye(n) - As, ys)
                base = S @ np.linalg.solve(np.eye(n) - A, y)
                np.testing.assert_allclose(df.loc[name, "extracted"].to_numpy(), S @ xs, rtol=1e-10)
                np.testing.assert_allclose(df.loc[name, "delta"].to_numpy(), base - S @ xs, rtol=1e-9)
                assert df.loc[name, "woodbury"].all() == (method == "woodbury")
    with pytest.raises(ValueError, match="extraction mode"):
        tracing.hypothetical_extraction(small, [("R0", "S1")], mode="sideways")
    with pytest.raises(ValueError, match="unknown sector"):
        tracing.hypothetical_extraction(small, [("R0", "nothing")])


def test_linkages_and_ghosh_match_dense_formulas(small):
    A, S, x = dense(small)
    n = A.shape[0]
    L = np.linalg.inv(np.eye(n) - A)
    lk = tracing.linkages(small)
    colsum = L.sum(axis=0)
    np.testing.assert_allclose(lk["backward"].to_numpy(), colsum / colsum.mean(), rtol=1e-12)
    G = np.diag(1 / x) @ L @ np.diag(x)
    np.testing.assert_allclose(lk["forward_total"].to_numpy(), G.sum(axis=1), rtol=1e-10)
    M = S @ L
    np.testing.assert_allclose(lk["env_stressor0"].to_numpy(), M[0] / M[0].mean(), rtol=1e-10)
    gh = tracing.ghosh(small, G=True)
    np.testing.assert_allclose(gh["B"].toarray(), np.diag(1 / x) @ A @ np.diag(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gh["G"].to_numpy(), G, rtol=1e-10)
    np.testing.assert_allclose(gh["M_down"].to_numpy(), S @ G.T, rtol=1e-10)
    assert tracing.ghosh(small)["G"] is None  # G (forms L) only on request


def test_plot_paths_writes_png_and_svg(china, tmp_path):
    pytest.importorskip("matplotlib")
    res = tracing.spa(china, "CO2", region="Zhejiang", tau=1e-3, max_depth=4)
    for ext in ("png", "svg"):
        out = tmp_path / f"paths.{ext}"
        fig = res.plot(top=8, path=out)
        assert out.stat().st_size > 1000
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert any("Zhejiang" in t for t in texts)
    empty = tracing.spa(china, "CO2", region="Zhejiang", tau=1.0)
    with pytest.raises(ValueError, match="no paths"):
        empty.plot()


# --- the CLI (spa, layers, extract, linkages), run as a subprocess ---------------------------

def _cli():
    import os
    import shutil
    env = os.environ.get("MRIOTRACE_CLI")
    return os.path.abspath(env) if env else shutil.which("mriotrace")


@pytest.fixture(scope="module")
def china_file(tmp_path_factory, china):
    path = tmp_path_factory.mktemp("cli") / "china.h5"
    mriotrace.save(china, path)
    return path


def cli(*args):
    import subprocess
    exe = _cli()
    if exe is None:
        pytest.skip("the mriotrace program was not found: set MRIOTRACE_CLI=/path/to/mriotrace")
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_cli_spa_streams_every_path_and_prints_the_top(china, china_file, tmp_path):
    out = tmp_path / "paths.csv"
    res = cli("spa", china_file, "--stressor", "CO2", "--region", "Zhejiang", "--tau", "2e-4", "--max-depth", "6",
              "--top", "5", "--threads", "2", "-o", out)
    assert res.returncode == 0, res.stderr
    ref = tracing.spa(china, "CO2", region="Zhejiang", tau=2e-4, max_depth=6, keep=5)
    assert f"{ref.paths_found:,} found" in res.stdout
    assert len(pd.read_csv(out)) == ref.paths_found
    ranks = [ln for ln in res.stdout.splitlines() if ln.strip().startswith(("1 ", "5 "))]
    assert len(ranks) == 2 and f"{ref.paths['value'].iloc[0]:.5g}" in ranks[0]
    h5 = tmp_path / "paths.h5"
    assert cli("spa", china_file, "--stressor", "CO2", "--region", "Zhejiang", "--max-paths", "7", "-o",
               h5).returncode == 0
    assert "TRUNCATED by max_paths" in cli("spa", china_file, "--stressor", "CO2", "--max-paths", "7").stdout


def test_cli_layers_extract_linkages(china, china_file, tmp_path):
    res = cli("layers", china_file, "--stressor", "CO2", "--region", "Zhejiang", "--tiers", "3", "-o",
              tmp_path / "layers.csv")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(tmp_path / "layers.csv")
    ref = tracing.production_layers(china, "CO2", region="Zhejiang", T=3)
    assert table["emitted"].sum() == pytest.approx(ref["total"].sum(), rel=1e-12)
    sector = f"Zhejiang/{china.sectors[23]}"
    res = cli("extract", china_file, "--sector", sector, "--mode", "backward", "--stressor", "CO2")
    assert res.returncode == 0, res.stderr
    df = tracing.hypothetical_extraction(china, [("Zhejiang", china.sectors[23])], mode="backward",
                                         stressors="CO2")
    assert f"{df['delta'].iloc[0]:.6g}" in res.stdout
    res = cli("linkages", china_file, "--stressor", "CO2", "--top", "3", "-o", tmp_path / "lk.csv")
    assert res.returncode == 0, res.stderr
    lk = pd.read_csv(tmp_path / "lk.csv")
    np.testing.assert_allclose(lk["backward"].to_numpy(), tracing.linkages(china, "CO2")["backward"].to_numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(lk["M_down_CO2"].to_numpy(),
                               tracing.ghosh(china, "CO2")["M_down"].loc["CO2"].to_numpy(), rtol=1e-12)
    assert "Downstream multipliers of CO2" in res.stdout


@pytest.mark.parametrize("command", ["spa", "layers", "extract", "linkages"])
def test_cli_tracing_help(command):
    res = cli(command, "--help")
    assert res.returncode == 0 and f"mriotrace {command}" in res.stdout and "--threads" in res.stdout
    assert max(len(line) for line in res.stdout.splitlines()) <= 120
    top = cli("--help").stdout
    assert command in top and max(len(line) for line in top.splitlines()) <= 120


@pytest.mark.parametrize("args, code, text", [
    (("spa", "{f}", "--stressor", "NOx"), 1, "unknown stressor"),
    (("spa", "{f}", "--stressor", "CO2", "--region", "Atlantis"), 1, "unknown region"),
    (("spa", "{f}", "--stressor", "CO2", "--tau", "0", "--max-depth", "-1"), 2, "unlimited depth"),
    (("spa", "{f}", "--stressor", "CO2", "--max-depth", "500"), 2, "max_depth"),
    (("spa", "{f}", "--stressor", "CO2", "--product", "Zhejiang/Rockets"), 1, "unknown sector"),
    (("spa", "{f}", "--stressor", "CO2", "-o", "paths.txt"), 2, ".csv, .h5"),
    (("spa", "{f}"), 2, "--stressor is required"),
    (("extract", "{f}", "--sector", "Foo/Bar"), 1, "REGION/SECTOR"),
    (("layers", "{f}", "--tiers", "-1"), 2, "--tiers"),
    (("linkages", "{f}", "--threads", "-2"), 2, "--threads"),
])
def test_cli_tracing_bad_input(china_file, args, code, text):
    res = cli(*[a.format(f=china_file) for a in args])
    assert res.returncode == code, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("mriotrace: error: ") and text in last


def test_spa_of_an_indicator_on_useeio_matches_epa_total(tmp_path):
    """US EPA USEEIO v2.1.20-GHG: SPA of the GWP indicator (row C S) for EPA's consumption demand."""
    import json
    from conftest import require_data
    folder = require_data("useeio/USEEIOv2.1.20-GHG")
    model = mriotrace.read_useeio(folder)
    demand = "2012_US_Consumption_Complete"
    y = model.demands[demand].to_numpy()
    epa = json.loads((folder / "results" / "final" / f"indicator_results_{demand}.json").read_text())
    epa_total = float(np.array(epa["totals"], dtype=float).ravel()[0])
    res = tracing.spa(model.system, "GWP-AR4-100", y=y, tau=1e-3, max_depth=6)
    assert res.total == pytest.approx(epa_total, rel=1e-9)
    assert res.unit == "kg CO2 eq" and res.paths_found > 10 and 0 < res.coverage < 1
    same = tracing.spa(model.system, s=model.system.C.to_numpy()[0] @ np.asarray(model.system.core.S), y=y,
                       tau=1e-3, max_depth=6)
    assert list(same.paths["nodes"]) == list(res.paths["nodes"])
    # The CLI traces the indicator too (region = the model's one location, its final demand Y).
    path = tmp_path / "useeio.h5"
    mriotrace.save(model.system, path)
    region = model.system.regions[0]
    ref = tracing.spa(model.system, "GWP-AR4-100", region=region, tau=1e-3, keep=5)
    run = cli("spa", path, "--stressor", "GWP-AR4-100", "--region", region, "--tau", "1e-3", "--top", "5")
    assert run.returncode == 0, run.stderr
    assert f"total {ref.total:.6g} kg CO2 eq" in run.stdout and f"{ref.paths_found:,} found" in run.stdout
    layers = tracing.production_layers(model.system, y=y, T=3)
    C = model.system.C.to_numpy()[0]
    by_flow = layers["total"].groupby(level="stressor").sum()
    assert float(C @ by_flow.reindex(model.system.core.labels.stressors).to_numpy()) == \
        pytest.approx(epa_total, rel=1e-9)


def test_forward_ghosh_extraction_miller_blair():
    # Miller & Blair 2.3 by hand: v = x - Z'1 = (650, 1400); extracting sector 1's
    # rows of B (Dietzenbacher) leaves 0.95 x2* = 1400, x1* = 650 + 0.1 x2*.
    import json
    from conftest import require_data
    mb = json.loads(require_data("textbook/miller_blair_2_3.json").read_text())
    Z, x, f = np.array(mb["Z"], float), np.array(mb["x"], float), np.array(mb["f"], float)
    system = mriotrace.MRIOSystem.from_arrays(
        ["r"], mb["sectors"], ["f"], Z=Z, Y=f[:, None],
        extensions={"air": {"S": np.array([[0.3, 0.1]]), "stressors": ["CO2"], "unit": "t"}})
    np.testing.assert_allclose(np.asarray(system.core.x), x, rtol=1e-15)
    df = tracing.hypothetical_extraction(system, [("r", "1")], mode="forward_ghosh")
    x2 = 1400 / 0.95
    x1 = 650 + 0.1 * x2
    row = df.loc[("extracted", "air::CO2")]
    assert row["delta"] == pytest.approx(0.3 * (1000 - x1) + 0.1 * (2000 - x2), rel=1e-12)
    leontief = tracing.hypothetical_extraction(system, [("r", "1")], mode="forward")
    assert abs(leontief.loc[("extracted", "air::CO2"), "delta"] - row["delta"]) > 1.0
    with pytest.raises(ValueError, match="do not apply"):
        tracing.hypothetical_extraction(system, [("r", "1")], mode="forward_ghosh", region="r")
