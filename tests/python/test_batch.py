"""Batch runs end to end: MPI ranks, shards, SIGKILL and resume, Python API, SDA.

The command-line tests need the program ($MRIOTRACE_CLI or on PATH) and, for
the MPI test, `mpirun` from Open MPI; without them they are skipped with a
message, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import mriotrace
import mriotrace.batch as batch

CI = os.environ.get("CI") == "true"


def _cli() -> str | None:
    env = os.environ.get("MRIOTRACE_CLI")
    if env:
        return str(Path(env).resolve()) if os.sep in env else (shutil.which(env) or env)
    return shutil.which("mriotrace")


def need(what: str | None, message: str) -> str:
    if what is None:
        if CI:
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    return what


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    for year, seed in ((2017, 1), (2018, 2)):
        mriotrace.save(mriotrace.datasets.generate(regions=4, sectors=6, stressors=2, seed=seed),
                       tmp_path / f"y{year}.h5")
    return tmp_path


def write_job(d: Path, *, draws: int = 8, output: str = "out.h5", cv: float = 0.1, extra: str = "") -> Path:
    job = d / "job.toml"
    job.write_text(f'''output = "{output}"
seed = 11
keep = ["D_cba_reg", "D_pba_reg", "Q"]
stressors = ["stressor0"]

[[systems]]
file = "y2017.h5"
year = 2017

[[systems]]
file = "y2018.h5"
year = 2018

[montecarlo]
draws = {draws}
cv = {cv}

[[sda]]
from = "2017"
to = "2018"

[target]
stressor = "stressor0"
max_value = 1e12
{extra}''')
    return job


def datasets_of(path: Path) -> dict:
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def assert_same_results(a: Path, b: Path) -> None:
    """Every dataset equal bit for bit (NaN == NaN), except the timings."""
    da, db = datasets_of(a), datasets_of(b)
    assert sorted(da) == sorted(db)
    for name, x in da.items():
        if name in ("items/seconds", "items/cpu_seconds"):
            continue
        y = db[name]
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), name
        else:
            assert np.array_equal(x, y), name


def cli(*args, cwd=None, env=None, timeout=300) -> subprocess.CompletedProcess:
    exe = need(_cli(), "the mriotrace program was not found (set MRIOTRACE_CLI)")
    return subprocess.run([exe, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_python_run_returns_the_results_file_with_summaries(workdir):
    job = write_job(workdir)
    path = batch.run(job, threads=2, progress=True)
    assert path == workdir / "out.h5" and path.exists()
    res = batch.load(path)
    assert res.complete and len(res.items) == 2 * 9 + 1 and res.failures.empty
    draws = res.draws("D_cba_reg")
    assert draws.shape == (18, 4)
    assert list(draws.index.names) == ["system", "scenario", "draw"]
    summ = res.summary("D_cba_reg")
    det = draws.xs(-1, level="draw").loc[("2017", "base")]
    assert np.array_equal(summ.loc[("2017", "base", "deterministic")].to_numpy(), det.to_numpy())
    sample = draws.xs("2017", level="system").drop(-1, level="draw").to_numpy()
    np.testing.assert_allclose(summ.loc[("2017", "base", "median")].to_numpy(), np.median(sample, axis=0),
                               rtol=1e-14)
    np.testing.assert_allclose(summ.loc[("2017", "base", "p2_5")].to_numpy(),
                               np.percentile(sample, 2.5, axis=0), rtol=1e-14)
    assert (summ.loc[("2017", "base", "p2_5")] <= summ.loc[("2017", "base", "p97_5")]).all()
    assert res.target()["p_met"].tolist() == [1.0, 1.0]
    sda = res.sda()
    effects = sda[[c for c in sda.columns if c.startswith("effect_")]].sum(axis=1)
    np.testing.assert_allclose(effects, sda["change"], rtol=1e-10, atol=1e-9 * sda["E1"].abs().max())
    # Q rows sum to D_cba_reg minus the final-demand emissions.
    q = res.draws("Q").xs(("2017", "base", 0))
    assert q.shape == (16,)
    # Re-running is a no-op and the summary says so.
    s = batch.run_job(job, progress=False)
    assert s["computed"] == 0 and s["resumed"] == 19 and s["complete"]


def test_python_bad_input(workdir):
    with pytest.raises(FileNotFoundError):
        batch.run(workdir / "missing.toml")
    bad = workdir / "bad.toml"
    bad.write_text("output = 'o.h5'\n[[systems]\n")
    with pytest.raises(ValueError, match="line 2"):
        batch.run(bad)
    with pytest.raises(ValueError, match="shard"):
        batch.run(write_job(workdir), shard="3/2")
    missing = workdir / "missing-system.toml"
    missing.write_text('output = "o.h5"\n[[systems]]\nfile = "nope.h5"\n')
    with pytest.raises(OSError, match="nope.h5"):
        batch.run(missing, progress=False)
    # A changed job must not resume into the old output.
    job = write_job(workdir, draws=2)
    batch.run(job, progress=False)
    job = write_job(workdir, draws=3)
    with pytest.raises(OSError, match="another job"):
        batch.run(job, progress=False)
    assert batch.run(job, progress=False, restart=True).exists()
    with pytest.raises(OSError):
        batch.load(workdir / "y2017.h5")


def test_shards_merge_and_mpi_match_a_single_run(workdir):
    job = write_job(workdir)
    one = cli("batch", "run", job, "--threads", "1", "--quiet", cwd=workdir)
    assert one.returncode == 0, one.stderr
    assert "complete" in one.stdout
    for i in range(2):
        r = cli("batch", "run", job, "--shard", f"{i}/2", "--quiet", cwd=workdir)
        assert r.returncode == 0, r.stderr
    m = cli("batch", "merge", "out.shard-0-of-2.h5", "out.shard-1-of-2.h5", "-o", "merged.h5", cwd=workdir)
    assert m.returncode == 0, m.stderr
    assert_same_results(workdir / "out.h5", workdir / "merged.h5")

    mpirun = need(shutil.which("mpirun"), "mpirun not found (Debian: apt-get install openmpi-bin)")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
    r = subprocess.run([mpirun, "-n", "2", "--oversubscribe", _cli(), "batch", "run", str(job), "--threads", "1",
                        "-o", "mpi.h5"], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    if "built without MPI" in r.stderr:
        need(None, "this mriotrace was built without MPI")
    assert r.returncode == 0, r.stderr
    assert "(2 ranks)" in r.stdout
    assert_same_results(workdir / "out.h5", workdir / "mpi.h5")


def test_sigkill_mid_run_then_resume_is_bit_for_bit(workdir):
    # 2 x 500 + 1 items of a few ms each (fsync per item): long enough that the
    # kill below lands mid-run even on an idle machine, where 2 x 100 finished
    # before the journal could be watched.
    draws = 499
    total_items = 2 * (draws + 1) + 1
    job = write_job(workdir, draws=draws)
    ref = cli("batch", "run", job, "-o", "ref.h5", "--quiet", cwd=workdir)
    assert ref.returncode == 0, ref.stderr
    exe = need(_cli(), "the mriotrace program was not found (set MRIOTRACE_CLI)")
    proc = subprocess.Popen([exe, "batch", "run", str(job), "--threads", "2", "--snapshot-every", "0.05", "--quiet"],
                            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = workdir / "out.h5.journal"
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and journal.stat().st_size > 20_000:  # some dozens of items committed
            time.sleep(0.1)  # and a snapshot of the results file that lists them
            break
        time.sleep(0.005)
    if proc.poll() is not None:
        pytest.fail("the run finished before it could be killed; make the job longer")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # The partial results file opens and lists only complete items.
    with h5py.File(workdir / "out.h5", "r") as f:
        assert f.attrs["complete"] == 0
        ids = f["items/id"][()]
        assert 0 < len(ids) < total_items and np.all(np.diff(ids) > 0)
        assert (f["items/status"][()] == 1).all()
        assert np.isfinite(f["results/D_cba_reg"][()]).all()
    res = cli("batch", "run", job, cwd=workdir)
    assert res.returncode == 0, res.stderr
    assert "resuming" in res.stderr and "complete" in res.stdout
    assert not journal.exists()
    assert_same_results(workdir / "ref.h5", workdir / "out.h5")


def test_cli_errors_are_one_line_with_exit_codes(workdir):
    r = cli("batch", "run", workdir / "missing.toml")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "missing.toml" in r.stderr
    r = cli("batch", "run", write_job(workdir), "--shard", "2/2", cwd=workdir)
    assert r.returncode == 2 and "--shard 2/2" in r.stderr
    r = cli("batch", "merge", "-o", "x.h5", workdir / "y2017.h5")
    assert r.returncode == 1 and "not an mriotrace batch results file" in r.stderr
    r = cli("batch")
    assert r.returncode == 2
    r = cli("sda", workdir / "y2017.h5", workdir / "nope.h5")
    assert r.returncode == 1 and "nope.h5" in r.stderr


def test_cli_sda_matches_python(workdir):
    out = workdir / "sda.csv"
    r = cli("sda", workdir / "y2017.h5", workdir / "y2018.h5", "--method", "polar", "--split-demand", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "effect y_level" in r.stdout
    table = pd.read_csv(out)
    s0, s1 = mriotrace.load(workdir / "y2017.h5"), mriotrace.load(workdir / "y2018.h5")
    py = mriotrace.sda.decompose(s0, s1, method="polar", split_demand=True)
    np.testing.assert_allclose(table["effect_L"].to_numpy(), py["effect_L"].to_numpy(), rtol=1e-14)
    assert list(table.columns) == ["stressor", "region", "E0", "E1", "change", "effect_f", "effect_L",
                                   "effect_y_mix", "effect_y_level"]


def test_sda_and_lmdi_from_python(small_system):
    other = mriotrace.datasets.generate(regions=4, sectors=6, fd_categories=2, stressors=3, seed=8)
    for method in ("exact", "polar"):
        d = mriotrace.sda.decompose(small_system, other, method=method)
        eff = d[["effect_f", "effect_L", "effect_y"]].sum(axis=1)
        np.testing.assert_allclose(eff, d["change"], rtol=1e-10, atol=1e-10 * d["E1"].abs().max())
    d = mriotrace.sda.decompose(small_system, small_system)
    assert (d[["effect_f", "effect_L", "effect_y", "change"]] == 0).all().all()
    with pytest.raises(ValueError, match="unknown stressor"):
        mriotrace.sda.decompose(small_system, other, stressors=["nope"])
    with pytest.raises(ValueError, match="method"):
        mriotrace.sda.decompose(small_system, other, method="shapley")
    X0 = pd.DataFrame([[2.0, 1.0], [3.0, 5.0]], index=["intensity", "level"])
    X1 = pd.DataFrame([[4.0, 1.5], [2.0, 5.0]], index=["intensity", "level"])
    e = mriotrace.sda.lmdi(X0, X1)
    assert list(e.index) == ["intensity", "level"]
    assert e.sum() == pytest.approx((4 * 2 + 1.5 * 5) - (2 * 3 + 1 * 5), rel=1e-14)
    # A factor 0 in period 0 (the component enters): its whole change goes to that factor.
    e = mriotrace.sda.lmdi(np.array([[1.0], [0.0]]), np.array([[1.0], [2.0]]))
    assert list(e) == [0.0, 2.0]
    with pytest.raises(ValueError, match="expected >= 0"):
        mriotrace.sda.lmdi(np.array([[1.0], [-1.0]]), np.array([[1.0], [2.0]]))


def test_scenario_job_reports_deltas_on_shared_draws(workdir):
    (workdir / "scen.toml").write_text('''[[scenario]]
name = "clean"
[[scenario.operation]]
kind = "scale"
matrix = "S"
factor = 0.8
col_regions = ["R0"]
''')
    job = write_job(workdir, draws=6, extra='')
    text = job.read_text().replace('seed = 11\n', 'seed = 11\nscenarios = "scen.toml"\n')
    job.write_text(text)
    assert batch.job_info(job)["scenarios"] == ["base", "clean"]
    res = batch.load(batch.run(job, progress=False))
    assert res.complete and res.scenarios == ["base", "clean"]
    s = res.summary("D_pba_reg")
    # Cleaner production in R0: lower in every draw there (P = 1), unchanged elsewhere.
    assert s.loc[("2017", "clean", "p_delta_negative"), "R0"] == 1.0
    assert s.loc[("2017", "clean", "delta_median"), "R1"] == 0.0
    assert s.loc[("2017", "clean", "delta_p97_5"), "R0"] < 0
    d = res.draws("D_pba_reg")
    np.testing.assert_array_less(d.loc[("2017", "clean"), "R0"], d.loc[("2017", "base"), "R0"])


def test_disk_full_stops_cleanly_keeps_committed_items_and_resumes(workdir):
    """A write that fails mid-run (a file-size limit makes write() fail with
    EFBIG, as a full disk fails it with ENOSPC) stops the run with a one-line
    message naming the file; the results file still opens and lists only
    complete items; rerunning without the limit resumes and ends bit for bit
    like an uninterrupted run."""
    import resource

    job = write_job(workdir, draws=199)
    ref = cli("batch", "run", job, "-o", "ref.h5", "--quiet", cwd=workdir)
    assert ref.returncode == 0, ref.stderr
    exe = need(_cli(), "the mriotrace program was not found (set MRIOTRACE_CLI)")

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (48_000, 48_000))

    full = subprocess.run([exe, "batch", "run", str(job), "--quiet", "--snapshot-every", "0"], cwd=workdir,
                          preexec_fn=small_disk, capture_output=True, text=True, timeout=300)
    assert full.returncode == 1, full.stdout + full.stderr
    assert full.stderr.count("\n") == 1 and "out.h5" in full.stderr, full.stderr
    assert "File too large" in full.stderr, full.stderr
    with h5py.File(workdir / "out.h5", "r") as f:  # the last good snapshot
        assert f.attrs["complete"] == 0
        ids = f["items/id"][()]
        assert 0 < len(ids) < 2 * 200 + 1 and np.all(np.diff(ids) > 0)
        assert np.isfinite(f["results/D_cba_reg"][()]).all()
    res = cli("batch", "run", job, cwd=workdir)
    assert res.returncode == 0, res.stderr
    assert "resuming" in res.stderr and "complete" in res.stdout
    assert_same_results(workdir / "ref.h5", workdir / "out.h5")
