"""Batch, scenario and footprint runs tried as a hostile user would: never a
wrong or failed answer with exit code 0 (the repro inputs of ../shared/repro,
regenerated here).

- threads: a threaded batch with Q and a scenario gives 0 failed items and
  files bit-identical to a 1-thread run, also when killed and resumed;
- non-productive Monte Carlo draws are rejected (failed items, exit code 1);
- job values are checked when the job is read (counts, limits, duplicates,
  non-finite targets, unknown target regions);
- an output path that is an input is refused;
- a scenario that drives gross output negative fails; a relocation with
  share = 1 has finite LMDI columns;
- the determinism guarantee of docs/hpc.md ("Threads and reproducibility").
"""

from __future__ import annotations

import csv
import hashlib
import os
import resource
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import mriotrace
import mriotrace.batch as batch
from test_batch import _cli, assert_same_results, cli, datasets_of, need

RACE_SCENARIO = '''[[scenario]]
name = "reloc"
[[scenario.operation]]
kind = "relocate"
product = "S1"
from = "R0"
to = "R1"
share = 0.3
'''


def race_job(d: Path, draws: int, output: str = "race.h5") -> Path:
    """The threaded-batch repro: 2 systems (15 x 30), a relocation, Monte Carlo, Q kept."""
    for name, seed in (("y0", 1), ("y1", 2)):
        if not (d / f"{name}.h5").exists():
            mriotrace.save(mriotrace.datasets.generate(regions=15, sectors=30, stressors=2, seed=seed), d / f"{name}.h5")
    (d / "scen.toml").write_text(RACE_SCENARIO)
    job = d / f"race_{draws}.toml"
    job.write_text(f'''output = "{output}"
threads = 2
keep = ["Q"]
scenarios = "scen.toml"
[[systems]]
file = "y0.h5"
[[systems]]
file = "y1.h5"
[montecarlo]
draws = {draws}
cv = 0.1
''')
    return job


@pytest.fixture(scope="module")
def race(tmp_path_factory):
    """The race job (2 x 2 x 41 = 164 items) and its 1-thread reference result."""
    d = tmp_path_factory.mktemp("race")
    job = race_job(d, draws=40, output="out.h5")
    ref = cli("batch", "run", job, "--threads", "1", "-o", "ref.h5", "--quiet", cwd=d)
    assert ref.returncode == 0, ref.stderr
    assert "164 computed now, 0 failed" in ref.stdout
    return d, job


def test_threaded_batch_has_no_failed_items_and_matches_one_thread(race):
    d, job = race
    for attempt in range(2):
        out = f"t2_{attempt}.h5"
        res = cli("batch", "run", job, "--threads", "2", "-o", out, "--quiet", cwd=d)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "0 failed" in res.stdout, res.stdout
        assert_same_results(d / "ref.h5", d / out)


@pytest.mark.parametrize("kill_after_items", [15, 90])
def test_threaded_batch_killed_and_resumed_matches_one_thread(race, kill_after_items):
    d, job = race
    for leftover in d.glob("out.h5*"):
        leftover.unlink()
    exe = need(_cli(), "the mriotrace program was not found (set MRIOTRACE_CLI)")
    journal = d / "out.h5.journal"
    proc = subprocess.Popen([exe, "batch", "run", str(job), "--threads", "2", "--snapshot-every", "0.02", "--quiet"],
                            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # An item with Q (2 x 15^2 doubles) takes ~3.7 kB in the journal.
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and journal.stat().st_size > kill_after_items * 3700:
            break
        time.sleep(0.002)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    res = cli("batch", "run", job, "--threads", "2", cwd=d)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 failed" in res.stdout, res.stdout
    if killed:
        assert "resuming" in res.stderr
    assert_same_results(d / "ref.h5", d / "out.h5")


# ---------------------------------------------------------------- non-productive draws

def near_limit_system(rho: float, seed: int = 3) -> mriotrace.MRIOSystem:
    """A generated 4 x 6 system with A scaled to spectral radius `rho`."""
    s = mriotrace.datasets.generate(regions=4, sectors=6, stressors=2, seed=seed)
    A = s.A.to_numpy()
    A = A * (rho / max(abs(np.linalg.eigvals(A))))
    e = s.extension("stressors")
    return mriotrace.MRIOSystem.from_arrays(
        list(s.regions), list(s.sectors), list(s.Y_categories), A=A, Y=s.Y.to_numpy(),
        extensions={"stressors": dict(S=e.S.to_numpy(), F_Y=e.F_Y.to_numpy(), stressors=list(e.S.index), unit="kt")},
        monetary_unit="synthetic M.USD")


def mc_job(d: Path, rho: float, cv: float, draws: int, keep: str = '"D_cba_reg", "D_pba_reg"') -> Path:
    mriotrace.save(near_limit_system(rho), d / "sys.h5")
    job = d / "mc.toml"
    job.write_text(f'''output = "mc.h5"
seed = 3
threads = 1
keep = [{keep}]
[[systems]]
file = "sys.h5"
[montecarlo]
draws = {draws}
cv = {cv}
''')
    return job


def test_non_productive_draws_are_rejected_and_the_run_fails(tmp_path):
    job = mc_job(tmp_path, rho=0.99, cv=0.3, draws=100)
    res = cli("batch", "run", job, "--quiet", cwd=tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "not productive" in res.stdout
    assert "items failed" in res.stderr and "mc.h5" in res.stderr
    with h5py.File(tmp_path / "mc.h5", "r") as f:
        status = f["items/status"][()]
        failed = int((status != 1).sum())
        assert 0 < failed < 100
        messages = [m.decode() if isinstance(m, bytes) else m for m in f["items/message"][()]]
        assert all("not productive" in m for m, st in zip(messages, status) if st != 1)
        # Every accepted draw is an economy: nonnegative emissions everywhere.
        ok = status == 1
        assert (f["results/D_pba_reg"][()][ok] >= 0).all()
        assert (f["results/D_cba_reg"][()][ok] >= 0).all()
    # Python raises unless the failures are accepted explicitly.
    with pytest.raises(mriotrace.NumericError, match="items failed"):
        batch.run(job, progress=False)
    path = batch.run(job, progress=False, allow_failures=True)
    assert len(batch.load(path).failures) == failed


def test_draws_near_the_limit_are_rejected_not_averaged(tmp_path):
    # Radius 0.9999, CV 0.1: the mean of D_cba_reg was -1.2e6 against a
    # deterministic 4.0e7 when non-productive draws were averaged in. Now about
    # half the draws are rejected; the summary is over the accepted ones only,
    # all nonnegative. (Their mean is far below the base's: the base, at
    # 1 - rho = 1e-4, amplifies more than almost any productive draw.)
    job = mc_job(tmp_path, rho=0.9999, cv=0.1, draws=60, keep='"D_cba_reg"')
    res = cli("batch", "run", job, "--quiet", cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    with h5py.File(tmp_path / "mc.h5", "r") as f:
        ok = f["items/status"][()] == 1
        ids = f["items/id"][()]
        values = f["results/D_cba_reg"][()]
        mean = f["summary/D_cba_reg/mean"][()]
        used = f["summary/draws_used"][()]
    draws = ok & (ids > 0)  # item 0 is the unperturbed run
    assert 5 < draws.sum() < 55
    assert (values[ok] >= 0).all()
    np.testing.assert_allclose(mean.reshape(-1), values[draws].mean(axis=0).reshape(-1), rtol=1e-12)
    assert used.tolist() == [int(draws.sum())]


# ---------------------------------------------------------------- job values checked when read

BASE_JOB = '''output = "out.h5"
seed = 1
{top}
[[systems]]
file = "y2017.h5"
[[systems]]
file = "y2018.h5"
[montecarlo]
draws = {draws}
cv = 0.1
{mc}
{extra}'''


@pytest.fixture()
def two_systems(tmp_path):
    for year, seed in ((2017, 1), (2018, 2)):
        mriotrace.save(mriotrace.datasets.generate(regions=3, sectors=4, stressors=2, seed=seed),
                       tmp_path / f"y{year}.h5")
    return tmp_path


@pytest.mark.parametrize("top,draws,extra,message", [
    ("", 4611686018427387904, "", '"draws" is 4611686018427387904; expected at most 99999999'),
    ("", 9223372036854775807, "", '"draws" is 9223372036854775807; expected at most'),
    ("", 2**31, "", '"draws" is 2147483648; expected at most 99999999'),
    ("", 60_000_000, "", "items; expected at most 100000000"),  # 2 x (6e7 + 1) > 1e8
    ('keep = ["D_cba_reg", "D_cba_reg"]', 4, "", 'account "D_cba_reg" is listed twice'),
    ('stressors = ["stressor0", "stressor0"]', 4, "", 'stressor "stressor0" is listed twice'),
    ("threads = 9223372036854775807", 4, "", '"threads" is 9223372036854775807; expected at most 4096'),
    ("", 4, '[target]\nstressor = "stressor0"\nmax_value = nan', '"max_value" is nan; expected a finite number'),
    ("", 4, '[target]\nstressor = "stressor0"\nmax_change = inf', '"max_change" is inf; expected a finite number'),
    ("", 4, "max_iterations = 9223372036854775807", '"max_iterations" is 9223372036854775807; expected at most'),
])
def test_bad_job_values_are_refused_when_read(two_systems, top, draws, extra, message):
    d = two_systems
    mc = extra if extra.startswith("max_iterations") else ""  # a [montecarlo] key
    text = BASE_JOB.format(top=top, draws=draws, mc=mc, extra="" if mc else extra)
    job = d / "job.toml"
    job.write_text(text)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        batch.job_info(job)
    t0 = time.time()
    res = cli("batch", "run", job, cwd=d, timeout=60)
    assert res.returncode == 1 and message in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) <= 2  # one error line (after at most the banner)
    assert time.time() - t0 < 30 and not (d / "out.h5").exists()


def test_unknown_target_region_is_refused_before_any_work(two_systems):
    d = two_systems
    job = d / "job.toml"
    job.write_text(BASE_JOB.format(top="", draws=4, mc="", extra='[target]\nstressor = "stressor0"\nregions = ["X"]\nmax_value = 1e12'))
    res = cli("batch", "run", job, cwd=d)
    assert res.returncode == 1
    assert 'region "X" is not a region of the job\'s systems; their regions: "R0", "R1", "R2"' in res.stderr
    assert not (d / "out.h5").exists()
    with pytest.raises(ValueError, match='region "X"'):
        batch.run(job, progress=False)


def test_more_threads_than_cores_under_a_memory_limit_finishes(two_systems):
    d = two_systems
    job = d / "job.toml"
    job.write_text(BASE_JOB.format(top="", draws=8, mc="", extra=""))
    exe = need(_cli(), "the mriotrace program was not found (set MRIOTRACE_CLI)")

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    res = subprocess.run([exe, "batch", "run", str(job), "--threads", "64"], cwd=d, capture_output=True, text=True,
                         timeout=120, preexec_fn=limit)
    assert res.returncode == 0, res.stderr
    assert "64 worker threads requested" in res.stderr and "0 failed" in res.stdout


# ---------------------------------------------------------------- outputs never overwrite inputs

def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_outputs_that_are_inputs_are_refused(tmp_path):
    sysfile = tmp_path / "a.h5"
    mriotrace.save(mriotrace.datasets.generate(regions=3, sectors=4, stressors=2, seed=1), sysfile)
    (tmp_path / "sub").mkdir()
    os.symlink(sysfile, tmp_path / "link.h5")
    before = sha(sysfile)
    (tmp_path / "s.toml").write_text(RACE_SCENARIO)
    cases = [
        ("footprint", "a.h5", "-o", "a.h5"),
        ("footprint", "a.h5", "-o", "sub/../a.h5"),
        ("footprint", "a.h5", "-o", "link.h5"),
        ("spa", "a.h5", "--stressor", "stressor0", "--region", "R1", "-o", "a.h5"),
        ("scenario", "run", "s.toml", "--system", "a.h5", "-o", "a.h5"),
    ]
    for args in cases:
        res = cli(*args, cwd=tmp_path)
        assert res.returncode == 2, (args, res.stderr)
        assert "is the input file" in res.stderr, res.stderr
        assert sha(sysfile) == before, args
    assert mriotrace.load(sysfile).x.shape == (12, 1)


# ---------------------------------------------------------------- scenarios that a check rejects

def test_scenario_driving_output_negative_fails(tmp_path):
    mriotrace.save(mriotrace.datasets.generate(regions=3, sectors=4, stressors=2, seed=1), tmp_path / "a.h5")
    (tmp_path / "neg.toml").write_text('''[[scenario]]
name = "negative demand"
[[scenario.operation]]
kind = "set"
matrix = "Y"
row_regions = ["R0"]
row_sectors = ["S1"]
value = -1e6
''')
    res = cli("scenario", "run", "neg.toml", "--system", "a.h5", cwd=tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert 'scenario "negative demand": the gross output of sector' in res.stderr and "negative" in res.stderr


def test_relocation_of_everything_has_finite_lmdi(tmp_path):
    # All of Jilin's metal smelting moves: its output comes out as ~1e-16 of
    # the base, not 0, and LMDI said "structure +nan %, intensity +nan %".
    china = getattr(mriotrace.datasets, "china_synthetic", None) or mriotrace.datasets.china_default
    mriotrace.save(china(), tmp_path / "china.h5")
    (tmp_path / "all.toml").write_text('''[[targets]]
indicator = "CO2/VA"
region = "Jilin"
change = -0.18

[[scenario]]
name = "all-metals-to-qinghai"
[[scenario.operation]]
kind = "relocate"
product = "14 Smelting and processing of metals"
from = "Jilin"
to = "Qinghai"
share = 1
''')
    res = cli("scenario", "run", "all.toml", "--system", "china.h5", "-o", "r.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = [r for r in csv.DictReader(open(tmp_path / "r.csv")) if r["metric"].startswith("lmdi")]
    assert len(rows) == 2 * 2 * 32  # structure and intensity, CO2 and Energy, 31 provinces and all
    assert all(np.isfinite(float(r["value"])) for r in rows), [r for r in rows if not np.isfinite(float(r["value"]))]
    assert "LMDI: structure" in res.stdout and "nan %" not in res.stdout.lower()


# ---------------------------------------------------------------- the determinism guarantee

def read_csv_numbers(path: Path) -> np.ndarray:
    rows = list(csv.reader(open(path)))
    out = []
    for r in rows[1:]:
        for v in r:
            try:
                out.append(float(v))
            except ValueError:
                pass
    return np.array(out)


@pytest.mark.parametrize("command", [["layers", "--stressor", "stressor0", "--region", "R1"],
                                     ["linkages", "--stressor", "stressor0"]])
def test_thread_count_changes_no_bit_with_sparse_lu_and_rounding_only_with_dense(tmp_path, command):
    mriotrace.save(mriotrace.datasets.generate(regions=10, sectors=30, stressors=2, seed=4), tmp_path / "a.h5")
    files = {}
    for solver in ("umfpack", "dense"):
        for t in (1, 2):
            out = f"{solver}_{t}.csv"
            res = cli(*command[:1], "a.h5", *command[1:], "--solver", solver, "--threads", t, "-o", out, cwd=tmp_path)
            assert res.returncode == 0, res.stderr
            files[solver, t] = tmp_path / out
    assert files["umfpack", 1].read_bytes() == files["umfpack", 2].read_bytes()
    a, b = read_csv_numbers(files["dense", 1]), read_csv_numbers(files["dense", 2])
    assert a.shape == b.shape and a.size > 0
    assert np.abs(a - b).max() <= 1e-13 * np.abs(a).max()


def test_solver_line_names_the_fallback(tmp_path):
    # Power series at spectral radius 0.9999 does not converge in 1,000 terms;
    # LU finishes. The line said "solver: power series".
    mriotrace.save(near_limit_system(0.9999), tmp_path / "near.h5")
    res = cli("footprint", "near.h5", "--solver", "power", "-o", "f.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    line = next(l for l in res.stderr.splitlines() if "solver: " in l)
    assert "power series, some solves fell back to dense LU (LAPACK)" in line and "did not converge" in line, line


def test_footprints_that_overflow_are_refused(tmp_path):
    # One intensity of 1e306: the footprints overflow to inf, which was
    # written with exit code 0.
    s = mriotrace.datasets.generate(regions=3, sectors=4, stressors=2, seed=1)
    e = s.extension("stressors")
    S = e.S.to_numpy().copy()
    S[0, 5] = 1e306
    huge = mriotrace.MRIOSystem.from_arrays(list(s.regions), list(s.sectors), list(s.Y_categories),
                                            A=s.A.to_numpy(), Y=s.Y.to_numpy(),
                                            extensions={"stressors": dict(S=S, stressors=list(e.S.index), unit="kt")})
    with pytest.raises(mriotrace.NumericError, match=r'D_cba_reg\["stressor0", "R0"\] is inf'):
        huge.calc_all()
    mriotrace.save(huge, tmp_path / "huge.h5")
    res = cli("footprint", "huge.h5", "-o", "f.csv", cwd=tmp_path)
    assert res.returncode == 1 and "overflow double precision" in res.stderr, res.stderr
    assert not (tmp_path / "f.csv").exists()


def test_scenario_thread_count_changes_only_rounding(tmp_path):
    # Dense LU on the 1,302-sector synthetic China: LAPACK's last bits depend
    # on its thread count (docs/hpc.md). Accounts agree to 1e-13 of their
    # largest magnitude; changes and ratios of changes (dcba, leakage) to 1e-11
    # of their own largest magnitude (measured 3.5e-13: a change is a
    # difference of two accounts 1e4 times larger).
    china = getattr(mriotrace.datasets, "china_synthetic", None) or mriotrace.datasets.china_default
    mriotrace.save(china(), tmp_path / "china.h5")
    scen = Path(__file__).resolve().parents[2] / "datasets" / "scenarios" / "jilin_nonferrous_relocation.toml"
    out = {}
    for t in (1, 2):
        res = cli("scenario", "run", scen, "--system", "china.h5", "--threads", t, "-o", f"r{t}.csv", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        out[t] = list(csv.DictReader(open(tmp_path / f"r{t}.csv")))
    assert len(out[1]) == len(out[2]) > 100
    groups: dict = {}
    for a, b in zip(out[1], out[2]):
        assert [a[k] for k in a if k != "value"] == [b[k] for k in b if k != "value"]
        groups.setdefault((a["metric"], a["stressor"]), []).append((float(a["value"]), float(b["value"])))
    assert ("pba", "CO2") in groups and ("leakage", "CO2") in groups
    for (metric, stressor), pairs in groups.items():
        v = np.array(pairs)
        finite = np.isfinite(v[:, 0])
        assert (finite == np.isfinite(v[:, 1])).all(), metric
        if not finite.any():
            continue
        tol = 1e-13 if metric in ("pba", "cba", "pba_base", "cba_base") else 1e-11
        diff = np.abs(v[finite, 0] - v[finite, 1]).max()
        assert diff <= tol * np.abs(v[finite]).max(), (metric, stressor, diff)
