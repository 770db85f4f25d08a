"""Readable reports in Python: MRIOSystem.report(), SPAResult.report() (the CLI's text, one C++
formatter), BatchResults.report(), their tidy to_frame() tables and notebook _repr_html_."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

import mriotrace
from mriotrace import batch, tracing
from mriotrace.units import number


@pytest.fixture(scope="module")
def system():
    return mriotrace.datasets.generate(regions=4, sectors=6, fd_categories=2, stressors=2, seed=21,
                                       domestic_density=0.9, trade_density=0.5)


def test_system_report_states_totals_by_region_with_units(system):
    fresh = mriotrace.datasets.generate(regions=4, sectors=6, fd_categories=2, stressors=2, seed=21,
                                        domestic_density=0.9, trade_density=0.5)
    html = fresh._repr_html_()  # showing a system never starts a solve
    assert "accounts not calculated" in html and fresh.stressors.D_cba_reg is None
    text = system.report(top=2)
    acc = system.stressors
    unit = acc.unit.loc["stressor0", "unit"]
    f, u = mriotrace.units.scale_for([acc.F.loc["stressor0"].sum() + acc.F_Y.loc["stressor0"].sum(),
                                      acc.F.loc["stressor0"].abs().max()], unit)
    assert f"stressor0 [{u}]" in text
    cba, pba = acc.D_cba_reg.loc["stressor0"], acc.D_pba_reg.loc["stressor0"]
    top = cba.sort_values(ascending=False).index[:2]
    for r in top:
        assert f"{number(pba[r] * f):>12} {number(cba[r] * f):>12}" in text
    rest = cba.index.difference(top)
    assert f"other (2)" in text and number(cba[rest].sum() * f) in text
    biggest = acc.F.loc["stressor0"].groupby(level=1).sum().idxmax()
    assert biggest in text.split("largest emitting sectors")[1]
    assert text.startswith(f"MRIOSystem {system.name!r}: 4 regions x 6 sectors")


def test_system_to_frame_is_tidy_and_closes(system):
    df = system.to_frame()
    assert list(df.columns) == ["extension", "stressor", "unit", "region", "account", "value"]
    wide = df.pivot_table(index=["stressor", "region"], columns="account", values="value")
    np.testing.assert_allclose(wide["net_imports"], wide["cba"] - wide["pba"], rtol=1e-12)
    np.testing.assert_allclose(wide.loc["stressor1", "cba"], system.stressors.D_cba_reg.loc["stressor1"],
                               rtol=1e-14)
    with pytest.raises(ValueError, match="unknown stressor"):
        system.to_frame(stressors=["CH4"])


def test_spa_report_is_the_cli_text(system, tmp_path):
    res = tracing.spa(system, "stressor0", region="R1", tau=1e-3, max_depth=5, keep=7)
    text = res.report(top=7)
    assert text.startswith(f"stressor0 of final demand of R1: total {res.total:.6g}")
    assert f"{res.paths_found:,} found" in text and "coverage by depth: 0:" in text
    body = text.split("path (emitter > ... > final product)\n")[1].splitlines()
    assert len(body) == 7 and body[0].split()[0] == "1"
    assert f"{100 * res.paths['share'].iloc[0]:.2f}%" in body[0]
    assert "more kept paths" in res.report(top=3)
    frame = res.to_frame()
    assert set(frame["rank"]) == set(range(7)) and (frame.groupby("rank")["step"].max() ==
                                                   res.paths["depth"].to_numpy()).all()
    assert "<pre>" in res._repr_html_()
    exe = os.environ.get("MRIOTRACE_CLI") or shutil.which("mriotrace")
    if exe is None:
        pytest.skip("the mriotrace program was not found: set MRIOTRACE_CLI=/path/to/mriotrace")
    path = tmp_path / "s.h5"
    mriotrace.save(system, path)
    out = subprocess.run([exe, "spa", str(path), "--stressor", "stressor0", "--region", "R1", "--tau", "1e-3",
                          "--max-depth", "5", "--top", "7"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout == text  # one formatter for both


def test_batch_report_states_items_draws_and_changes(tmp_path):
    mriotrace.save(mriotrace.datasets.generate(regions=3, sectors=4, stressors=1, seed=3), tmp_path / "y.h5")
    (tmp_path / "scen.toml").write_text('[[scenario]]\nname = "clean"\n[[scenario.operation]]\nkind = "scale"\n'
                                        'matrix = "S"\nfactor = 0.8\ncol_regions = ["R0"]\n')
    (tmp_path / "job.toml").write_text('output = "out.h5"\nseed = 5\nkeep = ["D_cba_reg", "D_pba_reg"]\n'
                                       'scenarios = "scen.toml"\n[[systems]]\nfile = "y.h5"\nyear = 2017\n'
                                       '[montecarlo]\ndraws = 6\ncv = 0.1\n')
    res = batch.load(batch.run(tmp_path / "job.toml", progress=False))
    text = res.report()
    assert "complete, 14 of 14 items done, 0 failed" in text
    assert "D_cba_reg of stressor0, summed over regions (6 draws: median [2.5 %, 97.5 %])" in text
    d = res.draws("D_pba_reg", "stressor0").sum(axis=1)
    base, clean = d.loc[("2017", "base")], d.loc[("2017", "clean")]
    change = (clean - base).drop(-1)
    line = [ln for ln in res.report("D_pba_reg").splitlines() if ln.split()[:2] == ["2017", "clean"]][0]
    assert number(clean.loc[-1]) in line and number(change.median(), sign=True) in line
    assert change.max() < 0  # cleaner production in R0 lowers every draw
    frame = res.to_frame("D_pba_reg")
    assert list(frame.columns) == ["system", "scenario", "draw", "region", "account", "stressor", "value"]
    assert len(frame) == 14 * 3
    assert "<pre>" in res._repr_html_()
    with pytest.raises(KeyError, match="kept"):
        res.report("Q")
