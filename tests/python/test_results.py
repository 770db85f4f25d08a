"""Results files read back as labelled tables (mriotrace.load_results) and their tidy exports.

Every kind the CLI or Python writes (footprint, system with accounts, scenario, spa,
batch) loads with the numbers that were computed: the CLI's files against its own CSV
output and against the same computation in Python; every export (Parquet, CSV, xarray)
read back equals the in-memory tables exactly.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mriotrace
from mriotrace import export
from mriotrace.results import AccountsResults, ScenarioResults


def _cli() -> str:
    exe = shutil.which("mriotrace")
    if exe is None:
        pytest.skip("the mriotrace program was not found on PATH")
    return exe


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    r = subprocess.run([_cli(), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture()
def system():
    return mriotrace.datasets.generate(regions=4, sectors=5, fd_categories=2, stressors=2, seed=11)


@pytest.fixture()
def system_file(tmp_path, system) -> Path:
    path = tmp_path / "sys.h5"
    mriotrace.save(system, path)
    return path


def assert_rel(a, b, rtol=1e-15):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    scale = np.abs(b).max() if b.size else 0.0
    assert np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(b), 1e-3 * scale)), np.abs(a - b).max()


SCENARIOS = """
[[scenario]]
name = "cleaner R1"
[[scenario.operation]]
kind = "scale"
matrix = "S"
factor = 0.8
col_regions = ["{r1}"]

[[scenario]]
name = "less demand"
[[scenario.operation]]
kind = "scale"
matrix = "Y"
factor = 0.9
fd_regions = ["{r2}"]
"""


def scenario_file(tmp_path, system) -> Path:
    path = tmp_path / "sc.toml"
    path.write_text(SCENARIOS.format(r1=system.regions[1], r2=system.regions[2]))
    return path


# ------------------------------------------------------------------ accounts: footprint and system files

def test_cli_footprint_file_loads_with_the_numbers_the_cli_printed(system, system_file, tmp_path):
    run_cli("footprint", system_file, "--sector-level", "--threads", 1, "-o", tmp_path / "fp.h5")
    run_cli("footprint", system_file, "--sector-level", "--threads", 1, "-o", tmp_path / "fp.csv")
    res = mriotrace.load_results(tmp_path / "fp.h5")
    assert isinstance(res, AccountsResults) and res.kind == "footprint" and list(res.sets) == ["stressors"]
    acc = res["stressors"]
    assert list(acc.stressors) == ["stressor0", "stressor1"] and acc.stressors.name == "stressor"
    assert list(acc.D_cba_reg.columns) == list(system.regions) and acc.D_cba_reg.columns.name == "region"
    assert acc.D_cba.columns.names == ["region", "sector"] and acc.Q.index.names == ["stressor", "region_from"]
    assert acc.D_cba_reg.attrs["units"] == dict(zip(acc.stressors, system.stressors.unit["unit"]))
    assert acc.M.attrs["units"]["stressor0"].endswith(f"per {system.monetary_unit}")
    # The CLI's CSV (%.17g): the very numbers of the file.
    with open(tmp_path / "fp.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 4
    for row in rows:
        s, r = list(acc.stressors).index(row["stressor"]), list(res.regions).index(row["region"])
        assert row["unit"] == acc.units[s]
        for k in ("D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"):
            assert float(row[k]) == acc.array(k)[s, r], (k, row)
    # And the same computation in Python, to 1e-15.
    system.calc_all(threads=1)
    ours = system.results()["stressors"]
    for name in ("M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg", "Q"):
        assert_rel(acc.array(name), ours.array(name))
        assert getattr(acc, name).index.equals(getattr(ours, name).index)


def test_python_save_and_save_results_load_as_the_system_accounts(system, tmp_path):
    system.calc_all()
    mriotrace.save(system, tmp_path / "with_accounts.h5")
    mriotrace.save_results(system, tmp_path / "accounts.h5")
    mem = system.results()
    assert mem.kind == "system" and list(mem.sets) == ["stressors", "value_added"]
    for path, kind in ((tmp_path / "with_accounts.h5", "system"), (tmp_path / "accounts.h5", "footprint")):
        got = mriotrace.load_results(path)
        assert got.kind == kind and mriotrace.inspect(path)["kind"] == kind
        pd.testing.assert_frame_equal(got.to_frame(), mem.to_frame(), check_exact=True)
        va = got["value_added"]
        assert list(va.stressors) == ["value added"] and va.units == [system.monetary_unit]
        pd.testing.assert_frame_equal(va.D_cba_reg, system.value_added.D_cba_reg, check_names=False,
                                      check_exact=True)
    # The table of a set equals the extension's (pymrio layout) exactly.
    pd.testing.assert_frame_equal(mem["stressors"].D_pba, system.stressors.D_pba, check_exact=True)
    pd.testing.assert_frame_equal(mem["stressors"].Q, system.stressors.Q, check_exact=True)


def test_a_damaged_results_file_is_a_checksum_error_never_a_number(system, tmp_path):
    h5py = pytest.importorskip("h5py")
    system.calc_all(sector_level=False)
    good = tmp_path / "a.h5"
    mriotrace.save_results(system, good)
    with h5py.File(good, "r") as f:
        offset = f["results/stressors/D_cba_reg"].id.get_chunk_info(0).byte_offset
    data = bytearray(good.read_bytes())
    data[offset + 5] ^= 0x10
    bad = tmp_path / "bad.h5"
    bad.write_bytes(data)
    with pytest.raises(mriotrace.FileError, match=r"/results/stressors/D_cba_reg failed: its checksum does not match"):
        mriotrace.load_results(bad)
    assert mriotrace.inspect(bad)["kind"] == "footprint"  # labels and structure are intact


def test_flipped_bytes_in_a_results_file_never_change_the_numbers(system, tmp_path):
    # A sample of the byte-flip experiment (docs/reliability.md) on a footprint file: every
    # flipped byte either reads back to identical tables or is refused, never a different number.
    system.calc_all(sector_level=False)
    good = tmp_path / "fp.h5"
    mriotrace.save_results(system, good)
    want = system.results().to_frame()
    data = good.read_bytes()
    identical = refused = 0
    for pos in np.linspace(0, len(data) - 1, 96).astype(int):
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        path = tmp_path / "flipped.h5"
        path.write_bytes(bad)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = mriotrace.load_results(path).to_frame()
        except (OSError, ValueError):
            refused += 1
            continue
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=f"byte {pos} flipped")
        identical += 1
    assert identical + refused == 96 and refused > 0


def test_accounts_can_be_chosen_for_the_tidy_table(system):
    system.calc_all()
    frame = system.results().to_frame(accounts=["D_cba_reg", "x"])
    assert list(pd.unique(frame["account"])) == ["D_cba_reg", "x"]
    assert len(frame) == 2 * 4 + 4 + (4 * 5) * 2  # stressors' D_cba_reg, value added's, x of both sets
    with pytest.raises(ValueError, match=r"unknown account\(s\) \['D_cba_'\]; expected some of \['M', "):
        system.results().to_frame(accounts=["D_cba_"])


def test_results_of_a_system_without_accounts(system, system_file):
    with pytest.raises(mriotrace.InputError, match=r"holds a system and no stored results; use mriotrace.load"):
        mriotrace.load_results(system_file)
    mriotrace._core.save_results(str(system_file.with_name("labels.h5")), system.core.labels, [])
    with pytest.raises(mriotrace.InputError, match="holds labels but no result sets"):
        mriotrace.load_results(system_file.with_name("labels.h5"))
    with pytest.raises(ValueError, match="call calc_all"):
        system.results()
    with pytest.raises(ValueError, match="calc_all"):
        mriotrace.save_results(system, system_file.with_name("x.h5"))


def test_repr_names_the_kind_the_sets_and_the_accounts(system, tmp_path):
    system.calc_all(sector_level=False)
    mriotrace.save_results(system, tmp_path / "a.h5")
    text = repr(mriotrace.load_results(tmp_path / "a.h5"))
    assert text.splitlines()[0].startswith("AccountsResults (footprint) from ")
    assert "AccountSet 'stressors': 2 row(s) (stressor0, stressor1); accounts: D_cba_reg, D_pba_reg" in text
    assert "'value_added'" in text and "M," not in text  # regional only: no sector-level accounts
    assert mriotrace.load_results(tmp_path / "a.h5")["stressors"].M is None


# ------------------------------------------------------------------ load() tells the kinds apart

def test_load_refuses_results_files_and_names_load_results(system, system_file, tmp_path):
    run_cli("footprint", system_file, "-o", tmp_path / "fp.h5")
    run_cli("spa", system_file, "--stressor", "stressor0", "--tau", "1e-2", "-o", tmp_path / "paths.h5")
    run_cli("scenario", "run", scenario_file(tmp_path, system), "--system", system_file, "-o", tmp_path / "sc.h5")
    for name, kind in (("fp.h5", "footprint"), ("paths.h5", "spa"), ("sc.h5", "scenario")):
        path = tmp_path / name
        with pytest.raises(mriotrace.InputError) as e:
            mriotrace.load(path)
        assert f"is a results file ({kind})" in str(e.value) and "use mriotrace.load_results" in str(e.value)
        assert str(path) in str(e.value)
        assert mriotrace.inspect(path)["kind"] == kind == mriotrace.file_kind(path)
    assert mriotrace.inspect(system_file)["kind"] == "system"
    assert isinstance(mriotrace.load(system_file), mriotrace.MRIOSystem)
    info = run_cli("info", tmp_path / "paths.h5").stdout
    assert "(structural path analysis, /tracing/spa)" in info


def test_foreign_and_damaged_files_stay_file_errors(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f.attrs["format"] = "something-else"
    for fn in (mriotrace.load, mriotrace.load_results, mriotrace.inspect):
        with pytest.raises(mriotrace.FileError, match="foreign HDF5 file"):
            fn(tmp_path / "foreign.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(mriotrace.FileError, match="not an HDF5 file"):
        mriotrace.load_results(tmp_path / "text.h5")


# ------------------------------------------------------------------ scenario files

def test_cli_scenario_file_equals_its_report_csv_and_python(system, system_file, tmp_path):
    toml = scenario_file(tmp_path, system)
    run_cli("scenario", "run", toml, "--system", system_file, "--threads", 1, "-o", tmp_path / "sc.h5")
    res = mriotrace.load_results(tmp_path / "sc.h5")
    assert isinstance(res, ScenarioResults) and res.scenarios == ["cleaner R1", "less demand"]
    assert "2 scenario(s) (cleaner R1, less demand)" in repr(res)
    frame = res.to_frame()
    # The CLI's tidy report (OUT_report.csv, %.17g) holds the same numbers.
    report = export.read_csv(tmp_path / "sc_report.csv")
    report = report[report["metric"].isin(["pba_base", "pba", "dpba", "cba_base", "cba", "dcba"])]
    merged = frame.merge(report, on=["scenario", "metric", "stressor", "region"], suffixes=("", "_cli"))
    assert len(merged) == len(frame) == 2 * 6 * 2 * 5
    assert (merged["unit"] == merged["unit_cli"]).all()
    # Per region the very numbers; region "all" is a sum (Eigen's there, NumPy's here).
    per_region = merged["region"] != "all"
    np.testing.assert_array_equal(merged["value"][per_region], merged["value_cli"][per_region])
    assert_rel(merged["value"], merged["value_cli"])
    # Python's run of the same file: the same table to 1e-15.
    py = mriotrace.read_scenarios(toml).run(system, threads=1)
    mem = pd.concat([r.to_frame("regions") for r in py], ignore_index=True)
    assert frame[["scenario", "metric", "stressor", "unit", "region"]].equals(
        mem[["scenario", "metric", "stressor", "unit", "region"]])
    assert_rel(frame["value"], mem["value"])
    # x and Q of each scenario are stored too.
    assert_rel(res.scenario("less demand").array("x"), py[1].x.to_numpy())
    assert_rel(res.scenario("cleaner R1").array("Q").sum(axis=2),
               res.scenario("cleaner R1").array("D_pba_reg") - (res.base.array("D_pba_reg")
                                                                 - res.base.array("Q").sum(axis=2)))


# ------------------------------------------------------------------ spa files

def test_spa_files_load_as_the_search_returned_them(system, system_file, tmp_path):
    run_cli("spa", system_file, "--stressor", "stressor1", "--region", system.regions[2], "--tau", "1e-3",
            "--threads", 1, "-o", tmp_path / "cli.h5")
    mem = mriotrace.tracing.spa(system, "stressor1", region=system.regions[2], tau=1e-3, threads=1,
                                h5=tmp_path / "py.h5")
    for name in ("cli.h5", "py.h5"):
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            got = mriotrace.load_results(tmp_path / name)
        assert isinstance(got, mriotrace.tracing.SPAResult) and got.files == [str(tmp_path / name)]
        assert (got.stressor, got.unit, got.paths_found, got.max_depth) == (mem.stressor, mem.unit,
                                                                            mem.paths_found, mem.max_depth)
        assert got.truncated == mem.truncated and got.truncation == mem.truncation
        assert_rel(got.total, mem.total)
        assert_rel(got.coverage_by_depth, mem.coverage_by_depth)
        assert len(got.paths) == mem.paths_found == len(mem.paths)
        shared = ["depth", "emitter_region", "emitter_sector", "final_region", "final_sector", "path", "nodes"]
        pd.testing.assert_frame_equal(got.paths[shared], mem.paths[shared])
        assert_rel(got.paths["value"], mem.paths["value"])
        assert got.paths.attrs["unit"] == mem.unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "carry no Fletcher32 checksum" while the path writer writes none
        top = mriotrace.load_results(tmp_path / "py.h5", keep=5)
        pd.testing.assert_frame_equal(top.paths, mriotrace.load_results(tmp_path / "py.h5").paths.head(5))
    # A loaded result reports like the search once given its system (it stores no labels of its own).
    with pytest.raises(mriotrace.InputError, match="carries no system"):
        top.report()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = mriotrace.load_results(tmp_path / "py.h5")
    assert whole.report(system=system) == mem.report()
    assert "<table" in whole._repr_html_()
    # Flat exports of the paths, read back exactly.
    pytest.importorskip("pyarrow")
    for obj, name in ((mem, "mem"), (top, "file")):
        flat = export.spa_frame(obj)
        assert len(flat) == len(obj.paths) and flat["path"].iloc[0].count(" > ") == obj.paths["depth"].iloc[0]
        check_exports(obj, flat, tmp_path, f"spa_{name}")


def test_spa_file_checks_name_the_dataset(system, tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "p.h5"
    mriotrace.tracing.spa(system, "stressor0", tau=1e-2, h5=path)
    with h5py.File(path, "r") as f:
        no_checksum = not all(f["tracing/spa"][k].fletcher32 for k in ("values", "nodes") if f["tracing/spa"][k].size)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        mriotrace.load_results(path)
    # Until the path writer writes Fletcher32, a load says its data carry no checksum.
    assert any("carry no Fletcher32 checksum" in str(m.message) for m in w) == no_checksum
    for dataset, value, message in (("nodes", 10_000, r"/tracing/spa/nodes\[\d+\] = 10000 is outside"),
                                    ("offsets", 3, "offsets must run from 0"),
                                    ("values", np.inf, r"/tracing/spa/values\[0\] = inf is not a finite")):
        bad = tmp_path / f"bad_{dataset}.h5"
        shutil.copy(path, bad)
        with h5py.File(bad, "r+") as f:
            ds = f["tracing/spa"][dataset]
            data = ds[()]
            data[0] = value
            ds[...] = data
        with pytest.raises(mriotrace.FileError, match=message):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mriotrace.load_results(bad)


# ------------------------------------------------------------------ batch files

BATCH_JOB = '''output = "out.h5"
seed = 3
keep = ["D_cba_reg", "Q"]
stressors = ["stressor0"]

[[systems]]
file = "sys.h5"
year = 2020

[montecarlo]
draws = 3
cv = 0.05
'''


def test_batch_files_load_through_batch_load(system_file, tmp_path):
    (tmp_path / "job.toml").write_text(BATCH_JOB)
    path = mriotrace.batch.run(tmp_path / "job.toml", threads=1, progress=False)
    res = mriotrace.load_results(path)
    assert isinstance(res, mriotrace.batch.BatchResults) and res.complete
    ref = mriotrace.batch.load(path)
    pd.testing.assert_frame_equal(res.draws("D_cba_reg"), ref.draws("D_cba_reg"), check_exact=True)
    info = mriotrace.inspect(path)
    assert info["kind"] == "batch" and info["has_system"] is False and "D_cba_reg" in info["result_names"]
    with pytest.raises(mriotrace.InputError, match=r"is a results file \(batch\)"):
        mriotrace.load(path)


# ------------------------------------------------------------------ exports

def check_exports(obj, frame: pd.DataFrame, tmp_path: Path, name: str, **what) -> None:
    """Parquet and CSV read back equal the tidy frame exactly."""
    obj.to_parquet(tmp_path / f"{name}.parquet", **what)
    pd.testing.assert_frame_equal(export.read_parquet(tmp_path / f"{name}.parquet"), frame, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"), frame, check_exact=True)
    obj.to_csv(tmp_path / f"{name}.csv", **what)
    pd.testing.assert_frame_equal(export.read_csv(tmp_path / f"{name}.csv"), frame, check_exact=True,
                                  check_dtype=False)
    back = export.read_csv(tmp_path / f"{name}.csv")
    np.testing.assert_array_equal(back["value"].to_numpy(float), frame["value"].to_numpy(float))


def test_accounts_exports_round_trip_exactly(system, tmp_path):
    pytest.importorskip("pyarrow")
    xr = pytest.importorskip("xarray")
    system.calc_all()
    mriotrace.save_results(system, tmp_path / "a.h5")
    for obj in (system.results(), mriotrace.load_results(tmp_path / "a.h5")):
        frame = obj.to_frame()
        assert list(frame.columns) == export.ACCOUNT_COLUMNS
        R, N, k = 4, 5, 2
        sizes = frame.groupby(["result", "account"], sort=False).size()
        assert sizes[("stressors", "D_cba")] == k * R * N and sizes[("stressors", "Q")] == k * R * R
        assert sizes[("value_added", "D_cba_reg")] == R and sizes[("stressors", "x")] == R * N
        q = frame[(frame.account == "Q") & (frame.result == "stressors")]
        row = q[(q.stressor == "stressor1") & (q.region == system.regions[0]) & (q.partner == system.regions[3])]
        assert row["value"].item() == system.stressors.Q.loc[("stressor1", system.regions[0]), system.regions[3]]
        assert (frame[frame.account == "M"]["unit"].str.endswith(f"per {system.monetary_unit}")).all()
        assert set(frame[frame.account == "x"]["unit"]) == {system.monetary_unit}
        check_exports(obj, frame, tmp_path, obj.kind)
        ds = obj.to_xarray()
        assert isinstance(ds, xr.Dataset) and list(ds["result"].values) == ["stressors", "value_added"]
        assert list(ds["unit"].values) == [*system.stressors.unit["unit"], system.monetary_unit]
        for s in obj:
            for account in s.accounts:
                da = ds[account].sel(result=s.name)
                if account != "x":
                    da = da.sel(stressor=list(s.stressors))
                np.testing.assert_array_equal(da.values.reshape(s.array(account).shape), s.array(account))
        assert ds["D_cba"].dims == ("result", "stressor", "region", "sector")
        assert ds["Q"].dims == ("result", "stressor", "region", "partner")
        assert np.isnan(ds["D_cba_reg"].sel(result="value_added", stressor="stressor0")).all()
        # Tidy and xarray agree on every value.
        sel = ds["D_pba_reg"].sel(result="stressors").to_series().dropna()
        tidy = frame[(frame.account == "D_pba_reg") & (frame.result == "stressors")].set_index(["stressor", "region"])
        np.testing.assert_array_equal(sel.loc[tidy.index].to_numpy(), tidy["value"].to_numpy())


def test_scenario_exports_round_trip_exactly(system, system_file, tmp_path):
    pytest.importorskip("pyarrow")
    xr = pytest.importorskip("xarray")
    sc = (mriotrace.Scenario("s1").scale("S", 0.7, col_regions=[system.regions[0]])
          .target("stressor0/VA", -0.1, region=system.regions[0]))
    res = mriotrace.run_scenarios(system, [sc])[0]
    for what in ("regions", "sectors", "targets"):
        frame = res.to_frame(what)
        check_exports(res, frame, tmp_path, f"mem_{what}", what=what)
        ds = res.to_xarray(what)
        assert isinstance(ds, xr.Dataset)
    ds = res.to_xarray("regions")
    assert set(ds.data_vars) == {"pba_base", "pba", "dpba", "cba_base", "cba", "dcba"}
    assert ds["dpba"].attrs["units"] == "kt" == system.stressors.unit["unit"].iloc[0]  # one unit: attrs
    np.testing.assert_array_equal(ds["dpba"].sel(scenario="s1", region=list(system.regions)).values, res.dpba.values)
    assert ds["dpba"].sel(scenario="s1", region="all").values.tolist() == res.dpba.sum(axis=1).tolist()
    sectors = res.to_xarray("sectors")
    assert sectors["x"].attrs["units"] == system.monetary_unit
    np.testing.assert_array_equal(sectors["x"].sel(scenario="s1").values.ravel(), res.x.values)
    # A scenario results file: the same layout, the same exports.
    run_cli("scenario", "run", scenario_file(tmp_path, system), "--system", system_file, "-o", tmp_path / "sc.h5")
    loaded = mriotrace.load_results(tmp_path / "sc.h5")
    for what in ("regions", "accounts"):
        check_exports(loaded, loaded.to_frame(what), tmp_path, f"file_{what}", what=what)
    assert set(loaded.to_xarray()["pba"].coords["scenario"].values) == {"cleaner R1", "less demand"}
    assert list(loaded.to_xarray("accounts")["result"].values) == ["base", "scenario cleaner R1",
                                                                     "scenario less demand"]


def test_tidy_to_xarray_keeps_order_and_units():
    xr = pytest.importorskip("xarray")
    frame = pd.DataFrame({"metric": ["a"] * 4 + ["b"] * 4,
                          "stressor": ["CO2", "CO2", "water", "water"] * 2,
                          "unit": ["Mt", "Mt", "m3", "m3"] * 2,
                          "region": ["Z", "A"] * 4, "value": np.arange(8.0)})
    ds = export.frame_xarray(frame, var="metric", dims=["stressor", "region"])
    assert isinstance(ds, xr.Dataset)
    assert list(ds["region"].values) == ["Z", "A"]  # first appearance, not sorted
    assert list(ds["unit"].values) == ["Mt", "m3"] and ds["unit"].dims == ("stressor",)
    np.testing.assert_array_equal(ds["b"].values, [[4.0, 5.0], [6.0, 7.0]])
    frame.loc[4:, "unit"] = ["t", "t", "l", "l"]  # b's units disagree with a's: each says its own
    ds = export.frame_xarray(frame, var="metric", dims=["stressor", "region"])
    assert "unit" not in ds.coords and ds["b"].attrs["units"] == "CO2: t; water: l"
    with pytest.raises(ValueError, match=r"metric = 'a' has two rows for \{'stressor': 'CO2'\}"):
        export.frame_xarray(frame, var="metric", dims=["stressor"])


def test_missing_export_dependency_names_the_extra(system, tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name in ("pyarrow", "xarray"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    system.calc_all(sector_level=False)
    with pytest.raises(ImportError, match=r'needs pyarrow.*pip install "mriotrace\[export\]"'):
        system.results().to_parquet(tmp_path / "a.parquet")
    with pytest.raises(ImportError, match=r"needs xarray"):
        system.results().to_xarray()
    system.results().to_csv(tmp_path / "a.csv")  # CSV needs neither
    assert (tmp_path / "a.csv").stat().st_size > 0
