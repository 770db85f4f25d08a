"""The `mriotrace` command-line program, run as a subprocess.

The program is found through $MRIOTRACE_CLI (e.g. build/release/cli/mriotrace)
or on PATH (`pip install .` puts it there); without either the tests are
skipped with a message saying so. These tests use nothing from conftest.py or
the Python package: the CLI must work on its own.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest


def _cli_path() -> str | None:
    env = os.environ.get("MRIOTRACE_CLI")
    if env:
        # Absolute, so tests that run the program in another working directory still find it.
        return str(Path(env).resolve()) if os.sep in env else (shutil.which(env) or env)
    return shutil.which("mriotrace")


CLI = _cli_path()
pytestmark = pytest.mark.skipif(
    CLI is None,
    reason="the mriotrace program was not found: set MRIOTRACE_CLI=/path/to/mriotrace "
    "(e.g. build/release/cli/mriotrace) or put it on PATH (pip install . installs it)",
)

REGIONAL_HEADER = ["stressor", "unit", "region", "D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"]
SECTOR_HEADER = ["stressor", "unit", "region", "sector", "M", "D_cba", "D_pba", "D_imp", "D_exp"]


def run(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    if not Path(CLI).is_file():
        pytest.fail(f"MRIOTRACE_CLI={os.environ.get('MRIOTRACE_CLI')} is not an executable file ({CLI})")
    return subprocess.run([CLI, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def ok(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    res = run(*args, cwd=cwd)
    assert res.returncode == 0, f"mriotrace {' '.join(map(str, args))} failed:\n{res.stderr}"
    return res


def assert_one_line_error(res: subprocess.CompletedProcess, code: int, *must_contain: str) -> str:
    """Exit code `code`, stderr = progress lines + exactly one final `mriotrace: error:` line."""
    assert res.returncode == code, f"exit {res.returncode} (expected {code}); stderr:\n{res.stderr}"
    lines = res.stderr.strip().splitlines()
    assert lines, "no message on stderr"
    errors = [ln for ln in lines if ln.startswith("mriotrace: error: ")]
    assert errors == [lines[-1]], f"expected exactly one final error line, got:\n{res.stderr}"
    assert all(ln.startswith("mriotrace: ") for ln in lines), f"stray output on stderr:\n{res.stderr}"
    for bad in ("Traceback", "terminate called", "Aborted", "HDF5-DIAG", "Segmentation"):
        assert bad not in res.stderr + res.stdout
    for text in must_contain:
        assert text in lines[-1], f"{text!r} not in {lines[-1]!r}"
    return lines[-1]


@pytest.fixture(scope="module")
def system_file(tmp_path_factory) -> Path:
    """6 regions x 8 sectors, 2 categories, 2 stressors (F_Y and v present)."""
    path = tmp_path_factory.mktemp("cli") / "system.h5"
    ok("generate", "--regions", 6, "--sectors", 8, "--categories", 2, "--stressors", 2, "--seed", 3, "-o", path)
    return path


# ---------------------------------------------------------------- help and version


@pytest.mark.parametrize("command", [[], ["info"], ["footprint"], ["generate"], ["demo"]])
def test_help_for_every_subcommand(command):
    res = ok(*command, "--help")
    assert "Usage:" in res.stdout
    assert max(len(line) for line in res.stdout.splitlines()) <= 120
    if command:
        assert f"mriotrace {command[0]}" in res.stdout


def test_version():
    res = ok("--version")
    assert res.stdout.startswith("mriotrace ")


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            return next((set(line.split(":", 1)[1].split()) for line in f if line.startswith("flags")), set())
    except OSError:
        return set()


def test_openblas_is_not_on_its_fallback_kernels_of_a_capable_cpu():
    """OpenBLAS 0.3.21 falls back to SSE3 'Prescott' kernels on CPUs it does not know;
    the program restarts itself once with OPENBLAS_CORETYPE set, and keeps a user's value."""
    if not {"avx2", "fma"} <= _cpu_flags():
        pytest.skip("this CPU has no AVX2+FMA: the fallback kernels are the right ones")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    res = subprocess.run([CLI, "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "OpenBLAS kernels:" in res.stdout, res.stdout + res.stderr
    assert "Prescott" not in res.stdout, res.stdout
    res = subprocess.run([CLI, "--version"], env={**env, "OPENBLAS_CORETYPE": "Haswell"}, capture_output=True,
                         text=True, timeout=60)
    assert "OpenBLAS kernels: Haswell" in res.stdout, res.stdout


# ---------------------------------------------------------------- generate -> info -> footprint


def test_generate_writes_a_readable_system(system_file):
    h5py = pytest.importorskip("h5py")
    with h5py.File(system_file, "r") as f:
        # Fixed-length string attributes (format 2, checksummed): h5py gives bytes.
        assert f.attrs["format"] == b"mriotrace"
        assert f["system/labels/regions"].asstr()[...].tolist() == [f"R{r}" for r in range(6)]
        assert f["system/labels/stressors"].asstr()[...].tolist() == ["stressor0", "stressor1"]
        n = 48
        assert tuple(f["system/A"].attrs["shape"]) == (n, n)
        assert f["system/Y"].shape == (n, 12)
        x = f["system/x"][...]
        y = f["system/Y"][...]
        indptr, indices, data = (f[f"system/A/{k}"][...] for k in ("indptr", "indices", "data"))
    # Balanced table: x = A x + Y 1 (A from its CSC arrays).
    ax = np.zeros(n)
    for j in range(n):
        ax[indices[indptr[j]:indptr[j + 1]]] += data[indptr[j]:indptr[j + 1]] * x[j]
    np.testing.assert_allclose(x, ax + y.sum(axis=1), rtol=1e-10)
    colsums = np.add.reduceat(data, indptr[:-1])
    assert 0 < colsums.min() and colsums.max() <= 0.9


def test_generate_is_deterministic_for_the_seed(tmp_path):
    h5py = pytest.importorskip("h5py")
    for name, seed in (("a.h5", 5), ("b.h5", 5), ("c.h5", 6)):
        ok("generate", "--regions", 3, "--sectors", 5, "--seed", seed, "-o", tmp_path / name)
    read = lambda name: h5py.File(tmp_path / name, "r")["system/A/data"][...]  # noqa: E731
    np.testing.assert_array_equal(read("a.h5"), read("b.h5"))
    assert read("a.h5").shape != read("c.h5").shape or not np.array_equal(read("a.h5"), read("c.h5"))


def test_info_describes_the_file(system_file):
    h5py = pytest.importorskip("h5py")
    res = ok("info", system_file)
    out = res.stdout
    with h5py.File(system_file, "r") as f:
        nnz = f["system/A/data"].shape[0]
    assert "format version  2" in out
    assert "created by      mriotrace " in out
    assert "regions         6: R0, R1, R2, R3, R4, R5" in out
    assert "sectors         8:" in out
    assert "stressors       2: stressor0 [kt], stressor1 [kt]" in out
    assert f"{nnz:,} nonzeros" in out
    assert f"density {100 * nnz / 48**2:.4g} %" in out
    assert "results         none" in out


def test_footprint_to_hdf5_conserves_emissions(system_file, tmp_path):
    h5py = pytest.importorskip("h5py")
    out = tmp_path / "fp.h5"
    res = ok("footprint", system_file, "--threads", 1, "-o", out)
    assert "factorising" in res.stderr and "writing" in res.stderr and "residual" in res.stderr
    with h5py.File(system_file, "r") as f:
        S, x, F_Y = f["system/S"][...], f["system/x"][...], f["system/F_Y"][...]
    with h5py.File(out, "r") as f:
        g = f["results/stressors"]
        cba, pba, imp, exp = (g[k][...] for k in ("D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"))
        Q = g["Q"][...]
        assert "system/A" not in f  # a results file: labels and accounts only
    R, k = 6, 2
    assert cba.shape == (k, R) and Q.shape == (k, R, R)
    # Everything emitted is attributed to some region's consumption.
    np.testing.assert_allclose(cba.sum(axis=1), pba.sum(axis=1), rtol=1e-10)
    # Production-based = direct emissions F = S x (per region) + households' F_Y.
    fy = F_Y.reshape(k, R, 2).sum(axis=2)
    np.testing.assert_allclose(pba, (S * x).reshape(k, R, 8).sum(axis=2) + fy, rtol=1e-10)
    # Trade balance per region and the emission-flow matrix Q[p, r].
    np.testing.assert_allclose(cba, pba - exp + imp, rtol=1e-10)
    np.testing.assert_allclose(cba, Q.sum(axis=1) + fy, rtol=1e-10)
    assert (imp > 0).all() and (exp > 0).all()


def test_footprint_to_csv(system_file, tmp_path):
    h5py = pytest.importorskip("h5py")
    ok("footprint", system_file, "-o", tmp_path / "ref.h5")
    with h5py.File(tmp_path / "ref.h5", "r") as f:
        ref = f["results/stressors/D_cba_reg"][...]

    out = tmp_path / "fp.csv"
    ok("footprint", system_file, "-o", out)
    rows = list(csv.reader(out.open()))
    assert rows[0] == REGIONAL_HEADER
    assert len(rows) - 1 == 6 * 2
    got = {(r[0], r[2]): float(r[3]) for r in rows[1:]}
    for s in range(2):
        for r in range(6):
            assert got[(f"stressor{s}", f"R{r}")] == pytest.approx(ref[s, r], rel=1e-12)
    assert {r[1] for r in rows[1:]} == {"kt"}

    # One stressor, sector level: a second file OUT_sectors.csv with n rows.
    out1 = tmp_path / "one.csv"
    res = ok("footprint", system_file, "--stressor", "stressor1", "--sector-level", "--solver", "umfpack", "-o", out1)
    assert "UMFPACK" in res.stderr
    rows = list(csv.reader(out1.open()))
    assert rows[0] == REGIONAL_HEADER
    assert len(rows) - 1 == 6 and {r[0] for r in rows[1:]} == {"stressor1"}
    assert [float(r[3]) for r in rows[1:]] == pytest.approx(ref[1], rel=1e-10)
    sectors = list(csv.reader((tmp_path / "one_sectors.csv").open()))
    assert sectors[0] == SECTOR_HEADER
    assert len(sectors) - 1 == 48
    # Sector-level CBA (without households) sums to the regional CBA minus F_Y.
    with h5py.File(system_file, "r") as f:
        fy = f["system/F_Y"][...].reshape(2, 6, 2).sum(axis=2)
    d_cba = np.array([float(r[5]) for r in sectors[1:]]).reshape(6, 8).sum(axis=1)
    np.testing.assert_allclose(d_cba + fy[1], ref[1], rtol=1e-10)


def test_generate_china(tmp_path):
    h5py = pytest.importorskip("h5py")
    out = tmp_path / "china.h5"
    ok("generate", "--china", "-o", out)
    with h5py.File(out, "r") as f:
        regions = f["system/labels/regions"].asstr()[...].tolist()
        sectors = f["system/labels/sectors"].asstr()[...].tolist()
        assert f["system/labels/stressors"].asstr()[...].tolist() == ["CO2", "Energy"]
        assert "synthetic" in f["system/labels"].attrs["monetary_unit"].decode()
    assert len(regions) == 31 and len(sectors) == 42
    assert {"Jilin", "Zhejiang", "Beijing", "Xinjiang"} <= set(regions)
    assert sectors[23].startswith("24 Production and supply of electric power")


# ---------------------------------------------------------------- demo


def test_demo_synthetic_prints_synthetic_report_and_writes_its_file(tmp_path):
    h5py = pytest.importorskip("h5py")
    res = ok("demo", "--synthetic", "--threads", 2, cwd=tmp_path)
    out = res.stdout
    assert "SYNTHETIC" in out and "REAL" not in out
    for name in ("Jilin", "Zhejiang", "Beijing", "Guangdong", "Tibet"):
        assert name in out
    assert "CBA (Mt)" in out and "PBA (Mt)" in out and "net importer" in out
    assert max(len(line) for line in out.splitlines()) <= 100, "demo output wider than 100 columns"
    for step in ("building", "factorising", "solving", "writing"):
        assert step in res.stderr
    path = tmp_path / "mriotrace-demo-results.h5"
    assert path.exists() and str(path) in out
    with h5py.File(path, "r") as f:
        cba = f["results/stressors/D_cba_reg"][...]
        pba = f["results/stressors/D_pba_reg"][...]
        Q = f["results/stressors/Q"][...]
        assert f["system/labels/regions"].shape == (31,)
    # The printed national total is the file's; top flow and Jilin's row match the file too.
    total = next(line for line in out.splitlines() if "China (total)" in line).split()
    assert float(total[2]) == pytest.approx(cba[0].sum(), abs=0.051)
    assert float(total[3]) == pytest.approx(pba[0].sum(), abs=0.051)
    jilin = next(line for line in out.splitlines() if " Jilin " in line).split()
    regions = h5py.File(path, "r")["system/labels/regions"].asstr()[...].tolist()
    j = regions.index("Jilin")
    assert float(jilin[2]) == pytest.approx(cba[0, j], abs=0.051)
    assert float(jilin[3]) == pytest.approx(pba[0, j], abs=0.051)
    flows = Q[0].copy()
    np.fill_diagonal(flows, 0)
    p, r = np.unravel_index(np.argmax(flows), flows.shape)
    first = next(line for line in out.splitlines() if "->" in line)
    assert regions[p] in first and regions[r] in first and f"{flows[p, r]:.1f}" in first


def test_demo_output_option(tmp_path):
    out = tmp_path / "sub" / "demo.h5"
    out.parent.mkdir()
    ok("demo", "-o", out)
    assert out.exists()


# ---------------------------------------------------------------- bad input: one line, no crash


def test_missing_file(tmp_path):
    res = run("info", tmp_path / "missing.h5")
    assert_one_line_error(res, 1, "missing.h5")
    res = run("footprint", tmp_path / "missing.h5", "-o", tmp_path / "o.csv")
    assert_one_line_error(res, 1, "missing.h5")
    assert not (tmp_path / "o.csv").exists()


def test_text_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("region,sector\nR0,S0\n")
    assert_one_line_error(run("info", text), 1, "notes.txt")
    assert_one_line_error(run("footprint", text, "-o", tmp_path / "o.h5"), 1, "notes.txt")


def test_foreign_hdf5_file(tmp_path):
    h5py = pytest.importorskip("h5py")
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(3.0)
    assert_one_line_error(run("info", foreign), 1, "foreign.h5")
    assert_one_line_error(run("footprint", foreign, "-o", tmp_path / "o.csv"), 1, "foreign.h5")


def test_unknown_stressor_lists_the_known_ones(system_file, tmp_path):
    res = run("footprint", system_file, "--stressor", "CO2", "-o", tmp_path / "o.csv")
    assert_one_line_error(res, 1, '"CO2"', "stressor0", "stressor1")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    "args, code, text",
    [
        (["generate", "--regions", "0", "--sectors", "3"], 2, "--regions"),
        (["generate", "--regions", "-4", "--sectors", "3"], 2, "--regions"),
        (["generate", "--regions", "two", "--sectors", "3"], 2, "--regions"),
        (["generate", "--regions", "2", "--sectors", "0"], 2, "--sectors"),
        (["generate", "--regions", "2", "--sectors", "3", "--domestic-density", "0"], 2, "--domestic-density"),
        (["generate", "--regions", "2", "--sectors", "3", "--trade-density", "1.5"], 2, "--trade-density"),
        (["generate", "--regions", "2", "--sectors", "3", "--domestic-share", "0.8"], 1, "domestic_share"),
        (["generate", "--regions", "2"], 2, "--sectors"),
        (["generate", "--china", "--regions", "3"], 2, "--china"),
    ],
)
def test_bad_generate_options(tmp_path, args, code, text):
    out = tmp_path / "g.h5"
    assert_one_line_error(run(*args, "-o", out), code, text)
    assert not out.exists()


def test_bad_command_lines(system_file, tmp_path):
    assert_one_line_error(run("bogus"), 2, "bogus")
    assert_one_line_error(run(), 2)
    assert_one_line_error(run("footprint", system_file, "-o", tmp_path / "o.txt"), 2, ".csv")
    assert_one_line_error(run("footprint", system_file, "--solver", "magic", "-o", tmp_path / "o.csv"), 2, "--solver")
    assert_one_line_error(run("footprint", system_file, "--threads", "-2", "-o", tmp_path / "o.csv"), 2, "--threads")
    assert_one_line_error(run("generate", "--regions", "2", "--sectors", "2", "-o", tmp_path / "nodir" / "g.h5"), 1,
                          "nodir")


def test_stressor_names_with_commas_are_taken_whole(tmp_path):
    # Published satellite names can hold commas ("CO2, fossil"): --stressor takes a value that
    # is a stressor's name whole, and splits other values at commas ("a,b" = two stressors).
    import mriotrace

    rng = np.random.default_rng(4)
    Z = rng.random((6, 6)) * 0.1
    Y = rng.random((6, 2)) + 1.0
    F = rng.random((3, 6))
    names = ["CO2, fossil", "CH4", "N2O"]
    system = mriotrace.MRIOSystem.from_arrays(
        ["A", "B"], ["s1", "s2", "s3"], ["hh"], Z=Z, Y=Y,
        extensions={"stressors": dict(F=F, stressors=names, unit="t")})
    path = tmp_path / "commas.h5"
    system.save(path)

    def stressors_of(*given):
        out = tmp_path / "fp.csv"
        ok("footprint", path, *given, "-o", out)
        return sorted({r[0] for r in list(csv.reader(out.open()))[1:]})

    assert stressors_of("--stressor", "CO2, fossil") == ["CO2, fossil"]
    assert stressors_of("--stressor", "CH4,N2O") == ["CH4", "N2O"]
    assert stressors_of("--stressor", "CO2, fossil", "--stressor", "N2O") == ["CO2, fossil", "N2O"]
    res = run("footprint", path, "--stressor", "CO2", "-o", tmp_path / "bad.csv")
    assert_one_line_error(res, 1, 'unknown stressor "CO2"', '"CO2, fossil"')
