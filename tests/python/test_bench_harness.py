"""The benchmark harness itself (bench/): the --quick path end to end, the
relative-difference function, the memory/time guard's predictions, solver
discovery and option checking. Kept to a few seconds."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import run as bench_run  # noqa: E402
import tools  # noqa: E402
import workloads  # noqa: E402


def test_quick_run_writes_json_markdown_and_png(tmp_path):
    env = dict(os.environ)
    # The package this test imported (installed, or a source tree with a built
    # _core on PYTHONPATH), not blindly the source tree: on an installed
    # checkout python/mriotrace has no compiled _core.
    import mriotrace
    pkg_parent = str(Path(mriotrace.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent, env.get("PYTHONPATH", "")])
    cmd = [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--threads", "1", "--out", str(tmp_path),
           "--name", "smoke", "--tools", "mriotrace:auto,pymrio,numpy-inv"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    report = json.loads((tmp_path / "smoke.json").read_text())
    rows = {(r["tool"], r["scope"]): r for r in report["results"]}
    assert set(rows) == {("reference", "all"), ("mriotrace:auto", "regional"), ("mriotrace:auto", "all"),
                         ("pymrio", "all"), ("numpy-inv", "all")}
    for key, r in rows.items():
        assert r["status"] == "ok", (key, r.get("reason"))
        assert r["wall_s"] > 0 and r["peak_rss_mb"] > 10
        if key != ("reference", "all"):
            # Every tool agrees with the dense-LU reference on the tiny system.
            assert r["max_rel_diff"] is not None and r["max_rel_diff"] < 1e-9, (key, r["max_rel_diff"])
    assert rows[("pymrio", "all")]["speedup_vs_pymrio"] == pytest.approx(1.0)
    assert report["meta"]["mriotrace_solvers"][0] == "auto"
    md = (tmp_path / "smoke.md").read_text()
    assert "| tiny | 48 | mriotrace:auto | regional | ok |" in md
    png = (tmp_path / "smoke.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_max_rel_diff_known_values():
    ref = np.array([[1.0, 2.0, 0.0], [10.0, -4.0, 5.0]])
    assert tools.max_rel_diff(ref, ref) == 0.0
    a = ref.copy()
    a[0, 1] = 2.0 * (1 + 1e-6)
    assert tools.max_rel_diff(a, ref) == pytest.approx(1e-6, rel=1e-6)
    a = ref.copy()
    a[1, 1] = -4.0 * (1 - 3e-3)
    assert tools.max_rel_diff(a, ref) == pytest.approx(3e-3, rel=1e-9)
    # A zero reference entry is compared against 1e-6 of its row's largest magnitude (2.0).
    a = ref.copy()
    a[0, 2] = 2e-12
    assert tools.max_rel_diff(a, ref) == pytest.approx(1e-6, rel=1e-9)
    # NaN is never "close"; shapes must match; Q-like 3-D arrays are compared per first axis.
    a[0, 0] = np.nan
    assert math.isinf(tools.max_rel_diff(a, ref))
    with pytest.raises(ValueError, match="shapes differ"):
        tools.max_rel_diff(ref[:, :2], ref)
    q = np.arange(1.0, 9.0).reshape(2, 2, 2)
    q2 = q.copy()
    q2[1, 1, 1] *= 1 + 1e-8
    assert tools.max_rel_diff(q2, q) == pytest.approx(1e-8, rel=1e-6)
    worst, key = tools.compare({"M": a[:, :2] * 0 + 1, "D_cba_reg": q2}, {"D_cba_reg": q})
    assert key == "D_cba_reg" and worst == pytest.approx(1e-8, rel=1e-6)


def test_memory_guard_predictions():
    L, firm = workloads.get("L"), workloads.get("firm")
    machine = {"gflops": 40.0, "copy_bandwidth_gbs": 8.0}
    mem, secs = tools.predict(L, "pymrio", "all", machine)
    # pymrio holds ~7 dense n x n doubles: 7 * 8 * 9800^2 B = 5.4 GB (measured 4.7 GB peak).
    assert 4.5 * tools.GB < mem < 7.0 * tools.GB
    assert secs == pytest.approx(2.5 * 9800 ** 3 / 40e9)
    # The firm network's dense inverse is out of reach: hundreds of GB.
    mem, _ = tools.predict(firm, "numpy-inv", "all", machine)
    assert mem > 250 * tools.GB
    mem, _ = tools.predict(firm, "mriotrace:dense", "regional", machine)
    assert mem > 900 * tools.GB
    # Dense LU is far cheaper than the inverse-based tools, and iterative solvers get no guess.
    mem_lu, secs_lu = tools.predict(L, "mriotrace:dense", "regional", machine)
    assert mem_lu < 0.5 * tools.predict(L, "pymrio", "all", machine)[0] and secs_lu < secs
    assert tools.predict(firm, "mriotrace:some-new-iterative", "all", machine) == (None, None)
    # GMRES: per right-hand side, so the sector-level scope (R + k + R k solves) costs far more.
    _, regional = tools.predict(L, "scipy-gmres", "regional", machine)
    _, everything = tools.predict(L, "scipy-gmres", "all", machine)
    assert everything == pytest.approx(regional * (49 + 11 + 49 * 11) / 49)
    # Sparse direct on a sparse network: no honest guess (the watchdog holds it).
    assert tools.predict(firm, "scipy-splu", "all", machine) == (None, None)


def test_guard_skips_instead_of_running(tmp_path, capsys):
    # A 0.001 GB limit rules out every predicted task on the tiny system before it starts.
    args = bench_run.parse_args(["--quick", "--max-memory", "0.001", "--tools", "numpy-inv", "--threads", "1"])
    report = bench_run.run_suite(args)
    rows = {r["tool"]: r for r in report["results"]}
    assert rows["numpy-inv"]["status"] == "skipped"
    assert "would need" in rows["numpy-inv"]["reason"] and "--max-memory" in rows["numpy-inv"]["reason"]
    assert rows["reference"]["status"] == "skipped"


def test_solver_discovery_matches_the_engine():
    names = tools.discover_solvers()
    assert names[0] == "auto" and "dense" in names and "umfpack" in names
    assert [t.name for t in tools.tool_list(["auto", "x"])][:2] == ["mriotrace:auto", "mriotrace:x"]


def test_bad_options():
    with pytest.raises(ValueError, match="unknown workload"):
        bench_run.parse_args(["--sizes", "S,HUGE"])
    with pytest.raises(SystemExit):
        bench_run.parse_args(["--timeout", "0"])
    with pytest.raises(SystemExit):
        bench_run.parse_args(["--max-memory", "-1"])


def test_targets_are_judged_from_the_same_run():
    def row(wl, tool, scope, wall, peak_mb, **kw):
        return dict(workload=wl, n=9800, tool=tool, scope=scope, status="ok", wall_s=wall, peak_rss_mb=peak_mb, **kw)

    report = {"results": [
        row("L", "pymrio", "all", 40.0, 4800.0),
        row("L", "reference", "all", 25.0, 1500.0),
        row("L", "mriotrace:auto", "regional", 1.0, 1000.0, max_rel_diff=2e-12, diff_key="Q"),
        row("L", "mriotrace:auto", "all", 20.0, 3000.0, max_rel_diff=3e-10, diff_key="D_imp"),
        dict(workload="XL", n=19680, tool="mriotrace:auto", scope="regional", status="timeout", reason="timeout: 300 s"),
    ]}
    bench_run._ratios(report["results"])
    lines = "\n".join(bench_run.target_lines(report))
    # Regional: 40x faster, 1000/4800 = 0.21 of pymrio's memory -> met; all: 2x < 3x -> not met.
    assert "| L | regional | 1 s, 0.98 GB; 40.0x faster, memory 0.21 of pymrio | yes |" in lines
    assert "| L | all | 20 s, 2.93 GB; 2.0x faster, memory 0.62 of pymrio | no |" in lines
    assert "| XL | regional | timeout: timeout: 300 s | no |" in lines
    # Issue 13: L all against the reference of the same run: 20 / 25 = 0.80 > 0.6 -> not met.
    assert "| L | all | 20 s, 2.93 GB; 2.0x faster, memory 0.62 of pymrio; 0.80 x the reference's 25 s | no |" in lines
    assert "worst 3.0e-10 (L, mriotrace:auto, all, D_imp) | yes |" in lines
    assert bench_run._diag_note({"solver": "gmres", "iterations": 12, "fallback": False}) == "solver gmres, iterations 12"


def test_regional_scope_returns_q_for_many_regions():
    # The harness's regional scope is calc_all(sector_level=False). With 49
    # regions the bindings used to read R after moving D_cba_reg into NumPy,
    # giving Q the shape (k, 0, 0) and calc_all a reshape error.
    import mriotrace

    s = mriotrace.datasets.generate(regions=49, sectors=4, stressors=10, seed=3)
    s.calc_all(sector_level=False, threads=1)
    q = s.stressors.Q_array
    assert q.shape == (10, 49, 49)
    np.testing.assert_allclose(q.sum(axis=1) + s.stressors.F_Y.to_numpy().reshape(10, 49, -1).sum(axis=2),
                               s.stressors.D_cba_reg.to_numpy(), rtol=1e-12)
